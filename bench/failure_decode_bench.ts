/**
 * `deno bench` suite for one REQUEST_FAILURE body into an error, the miss
 * path of the client:
 *
 *   deno bench -A bench/failure_decode_bench.ts
 *
 * The body is the `UnknownKeyOrNamespaceException` our state server sends
 * for a miss (`writeJavaThrowable`: no stack frames, 567 bytes; Flink's own,
 * with a stack, is about 0.9 KB and up). Cases: the uncached path (parse, then build),
 * `FailureDecoder` with the body already remembered (compare, then build),
 * the memo lookup alone, building from a parsed throwable alone, and, for
 * scale, one `new UnknownKeyOrNamespaceError(...)` (what an Error costs when
 * its constructor runs: the runtime may capture frames whatever
 * `Error.stackTraceLimit` says), called from a few frames deep as the
 * client's read path is.
 *
 * @module
 */

import {
  errorFromJavaThrowable,
  type JavaThrowable,
  javaThrowable,
  readJavaThrowable,
  UnknownKeyOrNamespaceError,
  withSerializedThrowable,
  writeJavaThrowable,
} from "../src/wire/mod.ts";
import { FailureDecoder } from "../src/wire/failure_decoder.ts";
import { FailureMemo } from "../src/wire/failure_memo.ts";

const MESSAGE = "Queryable State Server : No state for the specified key/namespace.";
const BODY = writeJavaThrowable(javaThrowable(
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
  MESSAGE,
));
// As read from the network: the body 20 bytes into its frame.
const FRAME = new Uint8Array(20 + BODY.length);
FRAME.set(BODY, 20);
const body = FRAME.subarray(20);

const decoder = new FailureDecoder();
decoder.decode(body);
const memo = new FailureMemo<JavaThrowable>();
memo.add(body, readJavaThrowable(body));
const parsed = readJavaThrowable(body);

let sink: unknown;
/** A few frames of depth, as the client's read path has. */
function deep(n: number, f: () => unknown): unknown {
  return n === 0 ? f() : deep(n - 1, f);
}

Deno.bench({
  name: `uncached: readJavaThrowable + errorFromJavaThrowable (${BODY.length} B)`,
  group: "failure",
  fn: () => {
    sink = withSerializedThrowable(errorFromJavaThrowable(readJavaThrowable(body)), body);
  },
});

Deno.bench({
  name: "FailureDecoder.decode, body remembered",
  group: "failure",
  baseline: true,
  fn: () => {
    sink = decoder.decode(body);
  },
});

Deno.bench({
  name: "FailureMemo.get alone",
  group: "failure",
  fn: () => {
    sink = memo.get(FRAME, 20);
  },
});

Deno.bench({
  name: "errorFromJavaThrowable alone (parsed throwable)",
  group: "failure",
  fn: () => {
    sink = errorFromJavaThrowable(parsed);
  },
});

Deno.bench({
  name: "new UnknownKeyOrNamespaceError(...), 8 frames deep (for scale)",
  group: "failure",
  fn: () => {
    sink = deep(8, () => new UnknownKeyOrNamespaceError(MESSAGE));
  },
});

Deno.bench({
  name: "same, Error.stackTraceLimit = 0 around it",
  group: "failure",
  fn: () => {
    sink = deep(8, () => {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        return new UnknownKeyOrNamespaceError(MESSAGE);
      } finally {
        Error.stackTraceLimit = limit;
      }
    });
  },
});

globalThis.addEventListener("unload", () => {
  if (sink === null) console.log(sink);
});
