import {
  errorFromJavaThrowable,
  JavaSerializationError,
  javaThrowable,
  QueryableStateError,
  readJavaThrowable,
  RemoteError,
  serializedThrowableOf,
  stringifyError,
  toHex,
  toJavaThrowable,
  UnknownKeyOrNamespaceError,
  withSerializedThrowable,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import {
  DEFAULT_FAILURE_DECODER_MEMO_CAPACITY,
  DEFAULT_FAILURE_DECODER_MEMO_MAX_BODY_LENGTH,
  FailureDecoder,
} from "../../src/wire/failure_decoder.ts";
import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";

/** What the client did before the decoder: parse, map, attach the bytes. */
function uncached(body: Uint8Array): QueryableStateError {
  return withSerializedThrowable(errorFromJavaThrowable(readJavaThrowable(body)), body);
}

/** Same class, message, Java class, remote throwable, bytes and stack, along the cause chain. */
function assertSameError(actual: unknown, expected: unknown, what: string): void {
  let a = actual;
  let e = expected;
  for (let depth = 0; e !== undefined; depth++) {
    const at = `${what} (cause depth ${depth})`;
    assertInstanceOf(a, QueryableStateError, at);
    assertInstanceOf(e, QueryableStateError, at);
    assertEquals(a.constructor, e.constructor, at);
    assertEquals([a.name, a.message, a.javaClassName], [e.name, e.message, e.javaClassName], at);
    assertEquals(toJavaThrowable(a), toJavaThrowable(e), at);
    assertEquals(a.stack, e.stack, at);
    assertEquals(Object.keys(a).sort(), Object.keys(e).sort(), at);
    assertEquals("cause" in a, "cause" in e, at);
    a = a.cause;
    e = e.cause;
  }
  assertEquals(a, undefined, what);
}

const UNKNOWN_KEY = writeJavaThrowable(javaThrowable(
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
  "Queryable State Server : No state for the specified key/namespace.",
));

Deno.test("FailureDecoder: a repeated body is parsed once; every error is a fresh object", () => {
  const decoder = new FailureDecoder();
  const errors: QueryableStateError[] = [];
  for (let i = 0; i < 50; i++) {
    // A new frame each time, as read from the network: the body at an offset of its own buffer.
    const frame = new Uint8Array(20 + UNKNOWN_KEY.length);
    frame.set(UNKNOWN_KEY, 20);
    const body = frame.subarray(20);
    const err = decoder.decode(body);
    assertInstanceOf(err, UnknownKeyOrNamespaceError);
    assertEquals(serializedThrowableOf(err), body, "the body as received is attached");
    errors.push(err);
  }
  assertEquals([decoder.parsed, decoder.reused], [1, 49]);
  assertEquals(new Set(errors).size, 50, "fresh objects");
  // One parse: the throwable is shared, and frozen so that no error can change it for another.
  const t = toJavaThrowable(errors[0]);
  for (const e of errors) assert(toJavaThrowable(e) === t);
  assert(Object.isFrozen(t) && Object.isFrozen(t.stackTrace) && Object.isFrozen(t.classHierarchy));
  // A user mutating one error does not change the next.
  const first = errors[0] as QueryableStateError & { extra?: number };
  first.message = "changed";
  first.extra = 1;
  const next = decoder.decode(UNKNOWN_KEY) as QueryableStateError & { extra?: number };
  assertEquals(next.message, "Queryable State Server : No state for the specified key/namespace.");
  assertEquals(next.extra, undefined);
  assertSameError(next, uncached(UNKNOWN_KEY), "against the uncached path");
});

vectorTest(
  "FailureDecoder: every Flink throwable gives the uncached path's error, parsed or remembered",
  () => {
    const list = entries("javaSerializedThrowable");
    assert(list.length >= 30, `only ${list.length} vectors`);
    const decoder = new FailureDecoder({ memoCapacity: list.length });
    for (let round = 0; round < 3; round++) {
      for (const v of list) {
        const body = readVector(v.file);
        const err = decoder.decode(body);
        assertSameError(err, uncached(body), `${v.file}, round ${round}`);
        assertEquals(stringifyError(err), stringifyError(uncached(body)), v.file);
        assertEquals(toHex(serializedThrowableOf(err)!), toHex(body), v.file);
      }
    }
    assertEquals([decoder.parsed, decoder.reused], [list.length, 2 * list.length]);
  },
);

vectorTest(
  "FailureDecoder: the request-failure frames of Flink, at offset 20 of their frame",
  () => {
    const frames = entries("frame").filter((e) => e.file.startsWith("frames/request-failure/"));
    assert(frames.length >= 20, `only ${frames.length} frames`);
    const decoder = new FailureDecoder({ memoCapacity: 64 });
    for (let round = 0; round < 2; round++) {
      for (const v of frames) {
        const body = readVector(v.file).subarray(20);
        assertSameError(decoder.decode(body), uncached(body), v.file);
      }
    }
    assertEquals(decoder.parsed, frames.length);
  },
);

Deno.test("FailureDecoder: the memo is bounded by entries and bytes", () => {
  assertEquals(
    [DEFAULT_FAILURE_DECODER_MEMO_CAPACITY, DEFAULT_FAILURE_DECODER_MEMO_MAX_BODY_LENGTH],
    [8, 16 * 1024],
  );
  const bodies = [0, 1, 2, 3].map((i) =>
    writeJavaThrowable(javaThrowable("java.lang.RuntimeException", `failure ${i}`))
  );
  const max = Math.max(...bodies.map((b) => b.length));
  const decoder = new FailureDecoder({ memoCapacity: 2, memoMaxBodyLength: max });
  for (let round = 0; round < 3; round++) {
    for (const b of bodies) {
      assertEquals(decoder.decode(b).message, new TextDecoder().decode(b).match(/failure \d/)![0]);
      assert(decoder.memoSize <= 2);
      assert(decoder.memoBytes <= 2 * max);
    }
  }
  // Four bodies cycling through two entries: each one was replaced before it came back.
  assertEquals([decoder.parsed, decoder.reused], [12, 0]);
  // Two bodies fit.
  decoder.decode(bodies[0]);
  decoder.decode(bodies[0]);
  assertEquals(decoder.reused, 1);

  // A body longer than memoMaxBodyLength is parsed every time, never held.
  const long = writeJavaThrowable(javaThrowable("java.lang.RuntimeException", "x".repeat(100)));
  const small = new FailureDecoder({ memoMaxBodyLength: long.length - 1 });
  small.decode(long);
  small.decode(long);
  assertEquals([small.parsed, small.reused, small.memoSize, small.memoBytes], [2, 0, 0, 0]);

  // Capacity 0: no memo at all.
  const none = new FailureDecoder({ memoCapacity: 0 });
  none.decode(UNKNOWN_KEY);
  none.decode(UNKNOWN_KEY);
  assertEquals([none.parsed, none.reused, none.memoSize], [2, 0, 0]);
  assertThrows(() => new FailureDecoder({ memoCapacity: -1 }), RangeError, "capacity");
});

Deno.test("FailureDecoder: a body that does not parse throws each time and is not remembered", () => {
  const decoder = new FailureDecoder();
  const garbage = new Uint8Array([0xac, 0xed, 0x00, 0x05, 0x73]);
  for (let i = 0; i < 2; i++) assertThrows(() => decoder.decode(garbage), JavaSerializationError);
  assertEquals([decoder.parsed, decoder.reused, decoder.memoSize], [0, 0, 0]);
  // The reader's limits apply to every body, remembered or not.
  const strict = new FailureDecoder({ javaSerializationLimits: { maxBytes: 64 } });
  assertThrows(() => strict.decode(UNKNOWN_KEY), JavaSerializationError, "maxBytes");
});

Deno.test("FailureDecoder: a remote cause chain gives fresh RemoteErrors each time", () => {
  const body = writeJavaThrowable(javaThrowable(
    "java.lang.RuntimeException",
    "outer",
    javaThrowable("java.lang.IllegalStateException", "inner"),
  ));
  const decoder = new FailureDecoder();
  const a = decoder.decode(body);
  const b = decoder.decode(body);
  assertInstanceOf(a, RemoteError);
  assertInstanceOf(b, RemoteError);
  assertInstanceOf(a.cause, RemoteError);
  assert(a.cause !== b.cause, "causes are fresh too");
  assert((a.cause as RemoteError).throwable === (b.cause as RemoteError).throwable);
  assertSameError(a, uncached(body), "cause chain");
  assertEquals(decoder.parsed, 1);
});
