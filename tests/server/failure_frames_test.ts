/**
 * Failure frames: byte-exact for ordinary failures, never longer than
 * MAX_FAILURE_FRAME_LENGTH whatever the failure holds (a remote throwable of
 * the largest size the reader accepts, a 16 MiB local message), trimmed to a
 * class a Java client can read, and never throwing.
 */

import {
  failedIncomingMessageFrame,
  MAX_FAILURE_FRAME_LENGTH,
  pipelineFailureFrame,
  requestFailureFrame,
  requestFailureThrowable,
  serverFailureFrame,
} from "../../src/server/failure_frames.ts";
import {
  BadRequestError,
  errorFromJavaThrowable,
  RemoteError,
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
  UnknownLocationError,
  withSerializedThrowable,
} from "../../src/wire/errors.ts";
import { readJavaThrowable, writeJavaThrowable } from "../../src/wire/java_serialization.ts";
import {
  type JavaStackFrame,
  type JavaThrowable,
  javaThrowable,
} from "../../src/wire/java_throwable.ts";
import { encodeRequestFailure, encodeServerFailure } from "../../src/wire/messages.ts";
import { assert, assertEquals } from "../_assert.ts";
import { largestTraceStream } from "../wire/_java_streams.ts";

const UKN = "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";
const BAD_REQUEST = "org.apache.flink.queryablestate.network.BadRequestException";
const REQUEST_FAILURE = 2;
const SERVER_FAILURE = 3;

/** Checks a frame's length prefix, type and size bound; returns the throwable it carries. */
function decode(frame: Uint8Array, type: number, requestId?: bigint): JavaThrowable {
  assert(frame.length <= MAX_FAILURE_FRAME_LENGTH, `frame of ${frame.length} bytes`);
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  assertEquals(v.getInt32(0), frame.length - 4);
  assertEquals(v.getInt32(8), type);
  if (type === REQUEST_FAILURE) {
    if (requestId !== undefined) assertEquals(v.getBigInt64(12), requestId);
    return readJavaThrowable(frame.subarray(20));
  }
  return readJavaThrowable(frame.subarray(12));
}

Deno.test("failure frames: the bound", () => {
  assertEquals(MAX_FAILURE_FRAME_LENGTH, 262144);
});

Deno.test("failure frames: ordinary failures are byte-exact, as before", () => {
  const err = new Error("boom");
  assertEquals(
    requestFailureFrame(7n, err),
    encodeRequestFailure(
      7n,
      writeJavaThrowable(javaThrowable(
        "java.lang.RuntimeException",
        "Failed request 7.\n Caused by: java.lang.RuntimeException: boom\n",
      )),
    ),
  );
  const ukn = new UnknownKeyOrNamespaceError("Queryable State Server : No state.");
  assertEquals(
    requestFailureFrame(8n, ukn),
    encodeRequestFailure(8n, writeJavaThrowable(javaThrowable(UKN, ukn.message))),
  );
  // A bad request received with its bytes is relayed with those very bytes.
  const raw = writeJavaThrowable(javaThrowable(UKN, "from the server"));
  const received = withSerializedThrowable(errorFromJavaThrowable(readJavaThrowable(raw)), raw);
  assertEquals(requestFailureFrame(9n, received), encodeRequestFailure(9n, raw));
  // A received bad request with a writable cause chain, without its bytes: written as is.
  const chained = javaThrowable(UKN, "outer", javaThrowable(BAD_REQUEST, "inner"));
  assertEquals(
    requestFailureFrame(10n, new RemoteError(chained)),
    encodeRequestFailure(10n, writeJavaThrowable(chained)),
  );
  // A throwable that is its own cause has no cause, as in Java.
  const self = { ...javaThrowable(UKN, "self"), cause: null as JavaThrowable | null };
  self.cause = self;
  assertEquals(
    serverFailureFrame(self),
    encodeServerFailure(writeJavaThrowable(javaThrowable(UKN, "self"))),
  );
  const t = javaThrowable("java.lang.IllegalArgumentException", "Unexpected message type.");
  assertEquals(serverFailureFrame(t), encodeServerFailure(writeJavaThrowable(t)));
  assertEquals(
    failedIncomingMessageFrame(new Error("bad")),
    encodeServerFailure(writeJavaThrowable(javaThrowable(
      "java.lang.RuntimeException",
      "Failed incoming message. Caused by: java.lang.RuntimeException: bad\n",
    ))),
  );
  assertEquals(
    pipelineFailureFrame(new Error("lost")),
    encodeServerFailure(writeJavaThrowable(javaThrowable(
      "java.lang.RuntimeException",
      "Exception in server pipeline. Caused by: java.lang.RuntimeException: lost\n",
    ))),
  );
});

Deno.test("failure frames: the largest remote throwable the reader accepts (was a RangeError)", () => {
  // 100 000 frames of 1 MiB names and a 1 MiB message: ~300 GB of printStackTrace text.
  const remote = new RemoteError(readJavaThrowable(largestTraceStream()));
  const started = performance.now();
  const frames = [
    requestFailureFrame(1n, remote),
    failedIncomingMessageFrame(remote),
    pipelineFailureFrame(remote),
  ];
  const ms = performance.now() - started;
  assert(ms < 2000, `${ms} ms`);
  const t = decode(frames[0], REQUEST_FAILURE, 1n);
  assertEquals(t.className, "java.lang.RuntimeException");
  assert(t.message!.startsWith("Failed request 1.\n Caused by: java.lang.RuntimeException: MMMM"));
  assert(t.message!.endsWith("\t... 100000 more\n"), t.message!.slice(-100));
  assert(t.message!.length <= 65536 + 100);
  for (const f of frames.slice(1)) {
    const s = decode(f, SERVER_FAILURE);
    assert(s.message!.endsWith("\t... 100000 more\n"));
  }
});

Deno.test("failure frames: 100 000 frames of 1000-character names, built in memory", () => {
  const trace: JavaStackFrame[] = Array.from({ length: 100_000 }, (_, i) => ({
    declaringClass: `${i}.`.padEnd(1000, "n"),
    methodName: "run",
    fileName: "X.java",
    lineNumber: i,
  }));
  const remote = new RemoteError({
    ...javaThrowable("java.lang.IllegalStateException", "deep"),
    stackTrace: trace,
  });
  const started = performance.now();
  const frame = requestFailureFrame(2n, remote);
  const ms = performance.now() - started;
  assert(ms < 1000, `${ms} ms`);
  const t = decode(frame, REQUEST_FAILURE, 2n);
  assert(t.message!.includes("java.lang.IllegalStateException: deep\n\tat 0.nnn"));
});

Deno.test("failure frames: a too large bad request is trimmed, keeping its class", () => {
  // Received with its bytes, but the bytes are over the bound: re-encoded, stack trace dropped.
  const raw = largestTraceStream(UKN);
  assert(raw.length > MAX_FAILURE_FRAME_LENGTH);
  const received = withSerializedThrowable(errorFromJavaThrowable(readJavaThrowable(raw)), raw);
  const t = decode(requestFailureFrame(3n, received), REQUEST_FAILURE, 3n);
  assertEquals(t.className, UKN);
  assertEquals(t.classHierarchy, [UKN, BAD_REQUEST, "java.lang.Exception", "java.lang.Throwable"]);
  assert(t.message!.startsWith("MMMM"));
  assert(t.message!.endsWith(" characters truncated]"), t.message!.slice(-60));
  assertEquals(t.stackTrace, []);
  assertEquals(t.cause, null);

  // A local bad request whose message embeds 16 MiB of remote text.
  const local = new UnknownKvStateIdError("Queryable State Server : " + "x".repeat(16 << 20));
  const l = decode(requestFailureFrame(4n, local), REQUEST_FAILURE, 4n);
  assertEquals(l.className, "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException");
  assert(l.message!.startsWith("Queryable State Server : xxx"));
  assert(l.message!.endsWith(` characters truncated]`));
  assertEquals(requestFailureThrowable(4n, local).className, l.className);
  assert(requestFailureThrowable(4n, local).message!.length <= 65536);

  // A bad request with a long cause chain of long messages: causes counted, not sent.
  let chain: JavaThrowable | null = null;
  for (let i = 0; i < 50; i++) chain = javaThrowable(BAD_REQUEST, "c".repeat(100_000), chain);
  const c = decode(requestFailureFrame(5n, new RemoteError(chain!)), REQUEST_FAILURE, 5n);
  assertEquals(c.className, BAD_REQUEST);
  assertEquals(c.cause, null);
  assert(c.message!.endsWith("characters truncated]\n... [49 causes omitted]"));
});

Deno.test("failure frames: a bad request of a class that cannot cross the wire (threw a TypeError)", () => {
  const custom: JavaThrowable = {
    className: "com.example.CustomBadRequestException",
    message: "custom",
    cause: javaThrowable("java.lang.RuntimeException", "why"),
    stackTrace: [],
    classHierarchy: [
      "com.example.CustomBadRequestException",
      BAD_REQUEST,
      "java.lang.Exception",
      "java.lang.Throwable",
    ],
  };
  // Received without its bytes: written as the nearest class Java knows, named in the message.
  const t = decode(requestFailureFrame(6n, new RemoteError(custom)), REQUEST_FAILURE, 6n);
  assertEquals(t.className, BAD_REQUEST);
  assertEquals(
    t.message,
    "com.example.CustomBadRequestException: custom\n... [1 causes omitted]",
  );
  // A bad request with an IOException cause (not writable): the class is kept, the cause dropped.
  const withIo = javaThrowable(UKN, "no key", {
    ...javaThrowable("java.io.IOException", "disk"),
    classHierarchy: ["java.io.IOException", "java.lang.Exception", "java.lang.Throwable"],
  });
  const u = decode(requestFailureFrame(7n, new RemoteError(withIo)), REQUEST_FAILURE, 7n);
  assertEquals([u.className, u.message], [UKN, "no key\n... [1 causes omitted]"]);
  // A cause chain that loops back (only from code, the reader cuts loops): trimmed.
  const a = { ...javaThrowable(UKN, "a"), cause: null as JavaThrowable | null };
  a.cause = javaThrowable(BAD_REQUEST, "b", a);
  const looped = decode(serverFailureFrame(a), SERVER_FAILURE);
  assertEquals([looped.className, looped.message], [UKN, "a\n... [1 causes omitted]"]);
  // serverFailureFrame with an unknown class.
  const s = decode(serverFailureFrame(javaThrowable("x.Unknown", "m")), SERVER_FAILURE);
  assertEquals([s.className, s.message], ["java.lang.RuntimeException", "x.Unknown: m"]);
});

Deno.test("failure frames: never throw, whatever the input", () => {
  const hostile = new Proxy({}, {
    get() {
      throw new Error("no access");
    },
    getPrototypeOf() {
      throw new Error("no prototype");
    },
  });
  const badToString = {
    toString() {
      throw new Error("no string");
    },
  };
  const badThrowable = { className: 42, message: {}, cause: null } as unknown as JavaThrowable;
  const inputs: unknown[] = [
    hostile,
    badToString,
    Symbol("s"),
    undefined,
    null,
    new RemoteError(badThrowable),
    withSerializedThrowable(new BadRequestError("x"), hostile as Uint8Array),
  ];
  for (const err of inputs) {
    const r = decode(requestFailureFrame(11n, err), REQUEST_FAILURE, 11n);
    assertEquals(r.className, "java.lang.RuntimeException");
    decode(failedIncomingMessageFrame(err), SERVER_FAILURE);
    decode(pipelineFailureFrame(err), SERVER_FAILURE);
  }
  // The fixed last-resort frames.
  const fallback = decode(requestFailureFrame(12n, hostile), REQUEST_FAILURE, 12n);
  assertEquals(fallback.message, "Internal error: the server could not encode the failure.");
  const s = decode(serverFailureFrame(hostile as JavaThrowable), SERVER_FAILURE);
  assertEquals(s.message, "Internal error: the server could not encode the failure.");
  decode(serverFailureFrame(badThrowable), SERVER_FAILURE);
  // A request id that is not a bigint (only from outside the type system).
  decode(requestFailureFrame(1 as unknown as bigint, new Error("x")), REQUEST_FAILURE, 0n);
});

Deno.test("failure frames: local messages embedding 16 MiB of remote text stay bounded", () => {
  const e = UnknownLocationError.forState("s".repeat(16 << 20), "00".repeat(16));
  const t = decode(requestFailureFrame(13n, e), REQUEST_FAILURE, 13n);
  assert(t.message!.startsWith(
    "Failed request 13.\n Caused by: org.apache.flink.queryablestate.exceptions." +
      "UnknownLocationException: Could not retrieve location of state=sss",
  ));
  // Characters that take 3 bytes in modified UTF-8 (the worst case) fit as well.
  const wide = new Error("\u20ac".repeat(10_000_000));
  for (
    const f of [
      requestFailureFrame(14n, wide),
      failedIncomingMessageFrame(wide),
      pipelineFailureFrame(wide),
    ]
  ) {
    assert(f.length <= MAX_FAILURE_FRAME_LENGTH);
    assert(f.length > 150_000, `${f.length}`);
  }
  const local = new UnknownKeyOrNamespaceError("\u0000\u20ac".repeat(5_000_000));
  decode(requestFailureFrame(15n, local), REQUEST_FAILURE, 15n);
  decode(serverFailureFrame(javaThrowable(UKN, "\u20ac".repeat(1 << 20))), SERVER_FAILURE);
});
