/**
 * Typed causes: `errorFromJavaThrowable` surfaces the innermost known cause
 * of a received throwable (its Java cause chain, or `Caused by: <known
 * class>` in the text of a wrapper such as the `RuntimeException` Flink's
 * proxy sends) as its typed error, the RemoteError kept as `cause`. Flink's
 * vectors, the reading rules, hostile and long texts, the decoder's memo,
 * and what a relay makes of such an error.
 */

import {
  BadRequestError,
  errorFromJavaThrowable,
  FlinkJobNotFoundError,
  type JavaThrowable,
  javaThrowable,
  type QueryableStateError,
  readJavaThrowable,
  RemoteError,
  serializedThrowableOf,
  stringifyError,
  surfacedFrom,
  toJavaThrowable,
  UnknownJobManagerError,
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
  UnknownKvStateKeyGroupLocationError,
  UnknownKvStateLocationError,
  UnknownLocationError,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { FailureDecoder } from "../../src/wire/failure_decoder.ts";
import { isBadRequestError, requestFailureFrame } from "../../src/server/failure_frames.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";

const RTE = "java.lang.RuntimeException";
const PKG = "org.apache.flink.queryablestate.exceptions.";
const KV_STATE_LOCATION = "org.apache.flink.runtime.query.UnknownKvStateLocation";
const LOCATION = PKG + "UnknownLocationException";
const KEY = PKG + "UnknownKeyOrNamespaceException";
const STATE_ID = PKG + "UnknownKvStateIdException";
const JOB_NOT_FOUND = "org.apache.flink.runtime.messages.FlinkJobNotFoundException";

// deno-lint-ignore no-explicit-any
type Ctor<E> = abstract new (...args: any[]) => E;
type ErrorClass = Ctor<QueryableStateError>;

/** The class every known Java class maps to. */
const CLASS_OF: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  [STATE_ID, UnknownKvStateIdError],
  [KEY, UnknownKeyOrNamespaceError],
  [PKG + "UnknownKvStateKeyGroupLocationException", UnknownKvStateKeyGroupLocationError],
  [LOCATION, UnknownLocationError],
  [KV_STATE_LOCATION, UnknownKvStateLocationError],
  [JOB_NOT_FOUND, FlinkJobNotFoundError],
  [PKG + "UnknownJobManagerException", UnknownJobManagerError],
  ["org.apache.flink.queryablestate.network.BadRequestException", BadRequestError],
]);

/** A wrapper as Flink's proxy sends it: `Failed request N.<LS> Caused by: <text>`. */
function wrapper(text: string, cause: JavaThrowable | null = null): JavaThrowable {
  return javaThrowable(RTE, `Failed request 7.\n Caused by: ${text}`, cause);
}

/** Asserts `e` is a typed cause of class `cls`, surfaced from `t`, and returns it. */
function assertSurfaced<E extends QueryableStateError>(
  e: QueryableStateError,
  cls: Ctor<E>,
  t: JavaThrowable,
  message: string,
  what = message,
): E {
  assertInstanceOf(e, cls, what);
  assertEquals(e.message, message, what);
  assertEquals(e.name, cls.name, what);
  const remote = surfacedFrom(e);
  assertInstanceOf(remote, RemoteError, what);
  assert(e.cause === remote, `${what}: the remote error is the cause`);
  assert(remote.throwable === t, `${what}: the remote error is the throwable as received`);
  assertEquals(remote.message, t.message ?? "", what);
  assert(toJavaThrowable(e) === t, `${what}: toJavaThrowable gives the throwable as received`);
  return e as E;
}

/** Asserts `e` is the plain RemoteError of `t` (nothing known found). */
function assertPlain(e: QueryableStateError, t: JavaThrowable, what: string): void {
  assertEquals(e.constructor, RemoteError, what);
  assertEquals(e.message, t.message ?? "", what);
  assertEquals(surfacedFrom(e), undefined, what);
}

// --- Flink's vectors ---------------------------------------------------------------------------

vectorTest("typed causes: every Flink throwable and failure frame maps to its class", () => {
  let wrapped = 0;
  let direct = 0;
  const failures = entries("frame").filter((v) =>
    /^frames\/(request|server)-failure\//.test(v.file)
  );
  assert(failures.length >= 30, `${failures.length} failure frames`);
  for (const v of [...entries("javaSerializedThrowable"), ...failures]) {
    const bytes = readVector(v.file);
    const body = v.kind === "frame"
      ? bytes.subarray(v.file.includes("server-failure") ? 12 : 20)
      : bytes;
    const t = readJavaThrowable(body);
    const e = errorFromJavaThrowable(t);
    const cls = CLASS_OF.get(t.className);
    if (cls !== undefined) {
      // A known class as sent: its class, no cause.
      assertEquals(e.constructor, cls, v.file);
      assertEquals(surfacedFrom(e), undefined, v.file);
      direct++;
    } else if (v.file.includes("proxy-style-wrapping")) {
      // Flink's proxy's RuntimeException around UnknownKvStateLocation.
      assertSurfaced(
        e,
        UnknownKvStateLocationError,
        t,
        "No KvStateLocation found for KvState instance with name 'word-counts'.",
        v.file,
      );
      assertEquals(e.javaClassName, KV_STATE_LOCATION, v.file);
      wrapped++;
    } else {
      // Nothing known under it (IOException, IllegalStateException, a plain message).
      assertPlain(e, t, v.file);
    }
  }
  assert(direct >= 30, `only ${direct} direct`);
  assertEquals(wrapped, 4);
});

vectorTest("typed causes: the failures Flink's server and proxy really sent (captured)", () => {
  const expected: Record<string, [ErrorClass, string] | null> = {
    "proxy-02-unknown-key": [
      UnknownKeyOrNamespaceError,
      "Queryable State Server : No state for the specified key/namespace.",
    ],
    "proxy-03-unknown-state-name": [
      UnknownKvStateLocationError,
      "No KvStateLocation found for KvState instance with name 'no-such-state'.",
    ],
    "proxy-04-unknown-job": [
      UnknownLocationError,
      "Could not retrieve location of state=word-counts of job=00000000000000050000000000000006. " +
      "Potential reasons are: i) the state is not ready, or ii) the job does not exist.",
    ],
    "proxy-08-key-type-mismatch": null,
    "proxy-12-relayed-non-badrequest-failure": null,
    "proxy-13-relayed-badrequest-failure": [
      UnknownKeyOrNamespaceError,
      "Queryable State Server : No state for the specified key/namespace.",
    ],
    "server-02-unknown-key": [
      UnknownKeyOrNamespaceError,
      "Queryable State Server : No state for the specified key/namespace.",
    ],
    "server-03-unknown-kvstateid": [UnknownKvStateIdError, ""],
    "server-04-malformed-key": null,
  };
  let seen = 0;
  for (const v of entries("capturedFrame")) {
    const name = v.file.replace(/^captured\/|\.bin$/g, "");
    const f = readVector(v.file);
    if (f[11] !== 2 && f[11] !== 3) continue; // failures only
    const t = readJavaThrowable(f.subarray(f[11] === 2 ? 20 : 12));
    const e = errorFromJavaThrowable(t);
    const want = expected[name];
    if (want === undefined) {
      // The others (SERVER_FAILUREs, a pipelined miss): as sent, nothing known under them.
      if (CLASS_OF.has(t.className)) assertEquals(e.constructor, CLASS_OF.get(t.className), name);
      else assertPlain(e, t, name);
      continue;
    }
    seen++;
    if (want === null) {
      assertEquals(t.className, RTE, name);
      assertPlain(e, t, name);
    } else if (CLASS_OF.has(t.className)) {
      assertEquals(e.constructor, want[0], name);
      if (want[1] !== "") assertEquals(e.message, want[1], name);
    } else {
      assertEquals(t.className, RTE, name);
      assertSurfaced(e, want[0], t, want[1], name);
    }
  }
  assertEquals(seen, Object.keys(expected).length, "every listed capture was found");
});

vectorTest(
  "typed causes: the decoder gives a fresh typed error per call, the scan remembered",
  () => {
    const f = readVector("captured/proxy-03-unknown-state-name.bin");
    const body = f.subarray(20);
    const decoder = new FailureDecoder();
    const a = decoder.decode(body);
    const b = decoder.decode(body.slice());
    for (const e of [a, b]) {
      assertInstanceOf(e, UnknownKvStateLocationError);
      assertEquals(serializedThrowableOf(e), e === a ? body : serializedThrowableOf(b));
    }
    assert(a !== b && a.cause !== b.cause, "fresh errors, fresh causes");
    assert(surfacedFrom(a)!.throwable === surfacedFrom(b)!.throwable, "one remembered throwable");
    assertEquals([decoder.parsed, decoder.reused], [1, 1]);
    assertEquals([a.message, a.stack], [b.message, b.stack]);
    // Not a miss: decodeUnlessAbsent builds the same typed error.
    const c = decoder.decodeUnlessAbsent(f, 20);
    assertInstanceOf(c, UnknownKvStateLocationError);
  },
);

// --- The reading rules -------------------------------------------------------------------------

Deno.test("typed causes: each known class in a wrapper's text, message to the line end", () => {
  for (const [className, cls] of CLASS_OF) {
    const t = wrapper(`${className}: the reason (x: y)\n\tat a.B.c(B.java:1)\n`);
    const e = errorFromJavaThrowable(t);
    if (cls === BadRequestError) {
      // BadRequestException itself says nothing about what is missing.
      assertPlain(e, t, className);
      continue;
    }
    assertSurfaced(e, cls, t, "the reason (x: y)", className);
    assertEquals(e.javaClassName, className);
    assertEquals(e.stack, `${cls.name}: the reason (x: y)`, "no frames of its own");
    assertEquals(stringifyError(e), stringifyError(surfacedFrom(e)), "the text as received");
  }
});

Deno.test("typed causes: the innermost wins; a null message; CRLF; a colon without a space", () => {
  // Two known causes in the text: the last one printed is the innermost.
  const two = wrapper(
    `${JOB_NOT_FOUND}: outer\n\tat a.B.c(B.java:1)\nCaused by: ${KV_STATE_LOCATION}: inner\n`,
  );
  assertSurfaced(errorFromJavaThrowable(two), UnknownKvStateLocationError, two, "inner");
  // The Flink wrapping twice (a proxy behind a proxy, or the server's own wrapping).
  const nested = wrapper(
    `java.lang.RuntimeException: Failed request 3.\n Caused by: ${LOCATION}: deep\n`,
  );
  assertSurfaced(errorFromJavaThrowable(nested), UnknownLocationError, nested, "deep");
  // A known cause followed by an unknown one: the known one still wins.
  const thenIo = wrapper(`${KEY}: miss\nCaused by: java.io.IOException: io\n`);
  assertSurfaced(errorFromJavaThrowable(thenIo), UnknownKeyOrNamespaceError, thenIo, "miss");
  // A null message: the class name alone, at a line end or at the very end.
  for (const end of ["\n\tat a.B.c(B.java:1)\n", "\r\n", ""]) {
    const t = wrapper(`${STATE_ID}${end}`);
    assertSurfaced(errorFromJavaThrowable(t), UnknownKvStateIdError, t, "", JSON.stringify(end));
  }
  const crlf = wrapper(`${LOCATION}: windows\r\n\tat a.B.c(B.java:1)\r\n`);
  assertSurfaced(errorFromJavaThrowable(crlf), UnknownLocationError, crlf, "windows");
  const tight = wrapper(`${LOCATION}:tight`);
  assertSurfaced(errorFromJavaThrowable(tight), UnknownLocationError, tight, "tight");
  // On the first line, as in "Failed request with ID N. Caused by: ..." and the server's texts.
  const inline = javaThrowable(RTE, `Failed request with ID 9. Caused by: ${KEY}: same line`);
  assertSurfaced(errorFromJavaThrowable(inline), UnknownKeyOrNamespaceError, inline, "same line");
});

Deno.test("typed causes: not a cause: other classes, longer names, frames, quotes, no 'Caused by: '", () => {
  const texts = [
    "org.apache.flink.Foo: unknown class",
    "org.apache.flink.runtime.query.UnknownKvStateLocationX: a longer name",
    "org.apache.flink.runtime.query.UnknownKvStateLocation$1: an inner class",
    "org.apache.flink.runtime.query.UnknownKvStateLocation.Inner: a nested class",
    "org.apache.flink.runtime.query.UnknownKvStateLocation_: underscore",
    "org.apache.flink.runtime.query.UnknownKvStateLocation (space): not Java's form",
    "xorg.apache.flink.runtime.query.UnknownKvStateLocation: a prefix",
    "com.evil.org.apache.flink.runtime.query.UnknownKvStateLocation: a suffix",
    "java.io.IOException: x\n\tat org.apache.flink.runtime.query.UnknownKvStateLocation.<init>(U.java:1)",
    "java.io.IOException: name 'org.apache.flink.runtime.query.UnknownKvStateLocation: x'",
    "java.io.IOException: no marker org.apache.flink.queryablestate.exceptions.UnknownLocationException: x",
    "java.io.IOException: caused by: org.apache.flink.queryablestate.exceptions.UnknownLocationException: x",
    "java.io.IOException: Caused by:org.apache.flink.queryablestate.exceptions.UnknownLocationException: x",
    "org.apache.flink.queryablestate.network.BadRequestException: not specific",
    "Caused by: org.apache.flink.",
    "",
  ];
  for (const text of texts) {
    const t = wrapper(text);
    assertPlain(errorFromJavaThrowable(t), t, text);
  }
  // No message at all.
  const none = javaThrowable(RTE, null);
  assertPlain(errorFromJavaThrowable(none), none, "null message");
});

Deno.test("typed causes: the Java cause chain, innermost first, text below its throwable's class", () => {
  // A known Java cause under a wrapper: its message and its own frames.
  const inner: JavaThrowable = {
    ...javaThrowable(JOB_NOT_FOUND, "Could not find Flink job (00)"),
    stackTrace: [{ declaringClass: "a.B", methodName: "c", fileName: "B.java", lineNumber: 3 }],
  };
  const chain = javaThrowable(RTE, "wrapped", inner);
  const e = assertSurfaced(
    errorFromJavaThrowable(chain),
    FlinkJobNotFoundError,
    chain,
    "Could not find Flink job (00)",
  );
  assertEquals(
    e.stack,
    "FlinkJobNotFoundError: Could not find Flink job (00)\n\tat a.B.c(B.java:3)",
  );
  assertInstanceOf((e.cause as RemoteError).cause, RemoteError, "the remote chain as before");
  // A Java cause deeper than the wrapper's text wins over the text.
  const both = wrapper(
    `${LOCATION}: in the text`,
    javaThrowable(KV_STATE_LOCATION, "in the chain"),
  );
  assertSurfaced(errorFromJavaThrowable(both), UnknownKvStateLocationError, both, "in the chain");
  // The text of a deeper wrapper wins over a known class above it.
  const deeperText = javaThrowable(
    LOCATION,
    "outer known",
    javaThrowable("java.lang.IllegalStateException", `x\nCaused by: ${KEY}: deeper text`),
  );
  assertSurfaced(
    errorFromJavaThrowable(deeperText),
    UnknownKeyOrNamespaceError,
    deeperText,
    "deeper text",
  );
  // The text of a known class is not read; with no known cause below, it stays a RemoteError.
  const knownTop = javaThrowable(
    KEY,
    `Caused by: ${LOCATION}: ignored`,
    javaThrowable("java.io.IOException", "why"),
  );
  assertPlain(errorFromJavaThrowable(knownTop), knownTop, "known class with an unknown cause");
  // A known class with a known class below: the one below.
  const knownBoth = javaThrowable(STATE_ID, "top", javaThrowable(LOCATION, "below"));
  assertSurfaced(errorFromJavaThrowable(knownBoth), UnknownLocationError, knownBoth, "below");
  // BadRequestException in the chain is not a typed cause; one below it is.
  const bad = javaThrowable(
    RTE,
    "w",
    javaThrowable("org.apache.flink.queryablestate.network.BadRequestException", "b"),
  );
  assertPlain(errorFromJavaThrowable(bad), bad, "BadRequestException as a cause");
  // At most 64 throwables of a chain are walked: a cause deeper than that is not seen.
  for (const [depth, found] of [[63, true], [64, false]] as const) {
    let t: JavaThrowable = javaThrowable(LOCATION, "bottom");
    for (let i = 0; i < depth; i++) t = javaThrowable(RTE, `level ${i}`, t);
    const got = errorFromJavaThrowable(t);
    if (found) assertSurfaced(got, UnknownLocationError, t, "bottom", `depth ${depth}`);
    else assertPlain(got, t, `depth ${depth}`);
  }
});

// --- Hostile and long texts --------------------------------------------------------------------

Deno.test("typed causes: a 1 MB message, a known cause at its end, at its start, or none", () => {
  const filler = "x".repeat(1_000_000);
  const atEnd = wrapper(`${filler}\nCaused by: ${LOCATION}: at the end`);
  assertSurfaced(errorFromJavaThrowable(atEnd), UnknownLocationError, atEnd, "at the end");
  const atStart = wrapper(`${KV_STATE_LOCATION}: at the start\n${filler}`);
  assertSurfaced(
    errorFromJavaThrowable(atStart),
    UnknownKvStateLocationError,
    atStart,
    "at the start",
  );
  const none = wrapper(filler);
  assertPlain(errorFromJavaThrowable(none), none, "1 MB, nothing known");
});

Deno.test("typed causes: 100,000 'Caused by:' lines of unknown or almost known classes give the outermost", () => {
  const lines = [
    "Caused by: java.io.IOException: io",
    "Caused by: org.apache.flink.Other: other",
    "Caused by: org.apache.flink.runtime.query.UnknownKvStateLocationX: longer",
    "Caused by: org.apache.flink.runtime.query.UnknownKvStateLocation$1: inner",
    "\tat org.apache.flink.runtime.query.UnknownKvStateLocation.<init>(U.java:1)",
  ];
  for (const line of lines) {
    const t = javaThrowable(RTE, `Failed request 1.\n${`${line}\n`.repeat(100_000)}`);
    assertPlain(errorFromJavaThrowable(t), t, line);
  }
  // All on one line, each a known name's prefix followed by a long unknown name.
  const oneLine = javaThrowable(
    RTE,
    `Caused by: org.apache.flink.${"a".repeat(200)}: `.repeat(20_000),
  );
  assertPlain(errorFromJavaThrowable(oneLine), oneLine, "one long line");
  // Many anchors with the real name followed by a long line: the last one, its message cut.
  const many = javaThrowable(
    RTE,
    `Caused by: ${LOCATION}: ${"m".repeat(20_000)}`.repeat(50),
  );
  const e = errorFromJavaThrowable(many);
  assertInstanceOf(e, UnknownLocationError);
  assertEquals(e.message, "m".repeat(16 * 1024) + "…", "cut at 16 Ki characters and marked");
});

Deno.test("typed causes: a cut message never ends inside a surrogate pair", () => {
  const t = wrapper(`${LOCATION}: ${"a".repeat(16 * 1024 - 1)}😀😀 and more`);
  const e = errorFromJavaThrowable(t);
  assertEquals(e.message, "a".repeat(16 * 1024 - 1) + "…");
});

Deno.test("typed causes: at most 4 Mi characters of text are read, the end of each text first", () => {
  const MI = 1024 * 1024;
  const far = wrapper(`${LOCATION}: too far\n${"x".repeat(4 * MI)}`);
  assertPlain(errorFromJavaThrowable(far), far, "beyond the scan");
  const near = wrapper(`${"x".repeat(4 * MI)}\nCaused by: ${LOCATION}: near the end`);
  assertSurfaced(errorFromJavaThrowable(near), UnknownLocationError, near, "near the end");
  // The budget is shared by the chain: a deep text that used it up hides the outer text.
  const shared = wrapper(
    `${LOCATION}: outer`,
    javaThrowable("java.lang.IllegalStateException", "y".repeat(4 * MI)),
  );
  assertPlain(errorFromJavaThrowable(shared), shared, "budget spent below");
});

Deno.test("typed causes: each call builds a fresh error; a frozen throwable is scanned once", () => {
  let reads = 0;
  const text = `Failed request 1.\n Caused by: ${LOCATION}: once`;
  const t = Object.freeze({
    className: RTE,
    get message(): string {
      reads++;
      return text;
    },
    cause: null,
    stackTrace: Object.freeze([]),
    classHierarchy: Object.freeze([]),
  }) as unknown as JavaThrowable;
  const a = errorFromJavaThrowable(t);
  const first = reads;
  const b = errorFromJavaThrowable(t);
  assertEquals(reads - first, first - 1, "the second call skips the scan's read");
  assert(a !== b && a.cause !== b.cause);
  assertInstanceOf(a, UnknownLocationError);
  assertInstanceOf(b, UnknownLocationError);
  // A throwable that is not frozen is scanned each time (it may have changed).
  const open = { ...javaThrowable(RTE, text) };
  assertInstanceOf(errorFromJavaThrowable(open), UnknownLocationError);
  (open as { message: string }).message = "changed";
  assertPlain(errorFromJavaThrowable(open), open, "changed");
});

// --- What a relay makes of it ------------------------------------------------------------------

Deno.test("typed causes: a relay wraps a surfaced error as Flink wraps the RuntimeException received", () => {
  const t = wrapper(`${STATE_ID}: Queryable State Server : No registered state with ID 00.`);
  const body = writeJavaThrowable(t);
  const e = new FailureDecoder().decode(body);
  assertInstanceOf(e, UnknownKvStateIdError);
  assertInstanceOf(e, BadRequestError);
  // Not sent as is (it is a RuntimeException on the wire): wrapped, with its text.
  assertEquals(isBadRequestError(e), false);
  const sent = readJavaThrowable(requestFailureFrame(5n, e).subarray(20));
  assertEquals(sent.className, RTE);
  assertEquals(sent.message, `Failed request 5.\n Caused by: ${RTE}: ${t.message}\n`);
  // A known class sent as is, with a known cause below it: relayed as is.
  const relayed = javaThrowable(STATE_ID, "top", javaThrowable(LOCATION, "below"));
  const r = new FailureDecoder().decode(writeJavaThrowable(relayed));
  assertInstanceOf(r, UnknownLocationError);
  assertEquals(isBadRequestError(r), true);
  assertEquals(readJavaThrowable(requestFailureFrame(5n, r).subarray(20)).className, STATE_ID);
  // Local typed errors are unchanged.
  assertEquals(isBadRequestError(new UnknownKvStateIdError("x")), true);
  assertEquals(isBadRequestError(new UnknownLocationError("x")), false);
  assertEquals(surfacedFrom(new UnknownKvStateIdError("x", { cause: e })), undefined);
});

Deno.test("typed causes: the constructors take a cause, as errorFromJavaThrowable gives one", () => {
  const t = wrapper(`${LOCATION}: m`);
  const built = errorFromJavaThrowable(t);
  const constructed = new UnknownLocationError("m", { cause: built.cause });
  const keys = (e: object) => Object.getOwnPropertyNames(e);
  assertEquals(keys(built), keys(constructed));
  assert(constructed.cause === built.cause);
  assertEquals(
    new UnknownJobManagerError("Unknown JobManager.").javaClassName,
    PKG + "UnknownJobManagerException",
  );
});
