/**
 * `FailureDecoder.decodeUnlessAbsent`: a miss (an
 * `UnknownKeyOrNamespaceException` without a cause) is told from the memo,
 * with no error built; anything else is the very error `decode` gives.
 */

import {
  errorFromJavaThrowable,
  JavaSerializationError,
  javaThrowable,
  QueryableStateError,
  readJavaThrowable,
  serializedThrowableOf,
  toJavaThrowable,
  UnknownKeyOrNamespaceError,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { FailureDecoder } from "../../src/wire/failure_decoder.ts";
import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { entries, HAVE_VECTORS, readVector } from "../_vectors.ts";

const UNKNOWN_KEY_CLASS =
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";
const MISS = writeJavaThrowable(javaThrowable(
  UNKNOWN_KEY_CLASS,
  "Queryable State Server : No state for the specified key/namespace.",
));

/** The body at offset 20 of a frame of its own, as the client reads it. */
function inFrame(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(20 + body.length);
  frame.fill(0x5a, 0, 20);
  frame.set(body, 20);
  return frame;
}

Deno.test("FailureDecoder.decodeUnlessAbsent: a miss is null, parsed once, no error built", () => {
  const d = new FailureDecoder();
  for (let i = 0; i < 30; i++) assertEquals(d.decodeUnlessAbsent(inFrame(MISS), 20), null);
  assertEquals([d.parsed, d.reused, d.absent, d.built, d.memoSize], [1, 29, 30, 0, 1]);
  // decode on the same decoder still gives the error, from the same memo entry.
  const e = d.decode(MISS);
  assertInstanceOf(e, UnknownKeyOrNamespaceError);
  assertEquals([d.parsed, d.reused, d.absent, d.built], [1, 30, 30, 1]);
});

Deno.test("FailureDecoder.decodeUnlessAbsent: anything else is the error decode gives, body attached", () => {
  const bodies = [
    writeJavaThrowable(javaThrowable("java.lang.RuntimeException", "boom")),
    writeJavaThrowable(javaThrowable(
      "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException",
      "gone",
    )),
    // A miss with a cause is a RemoteError for getKvState: not a plain miss.
    writeJavaThrowable(
      javaThrowable(UNKNOWN_KEY_CLASS, "x", javaThrowable("java.lang.RuntimeException", "why")),
    ),
  ];
  const d = new FailureDecoder();
  for (const body of bodies) {
    for (let round = 0; round < 2; round++) {
      const frame = inFrame(body);
      const got = d.decodeUnlessAbsent(frame, 20);
      const expected = new FailureDecoder().decode(body);
      assertInstanceOf(got, QueryableStateError);
      assert(!(got instanceof UnknownKeyOrNamespaceError));
      assertEquals(got.constructor, expected.constructor);
      assertEquals([got.message, got.javaClassName], [expected.message, expected.javaClassName]);
      assertEquals(toJavaThrowable(got), toJavaThrowable(expected));
      assertEquals(got.stack, expected.stack);
      assertEquals(serializedThrowableOf(got), body);
      assertEquals(serializedThrowableOf(got)!.byteOffset, 20, "a view into the frame");
    }
  }
  assertEquals([d.parsed, d.reused, d.absent, d.built], [3, 3, 0, 6]);
});

Deno.test("FailureDecoder.decodeUnlessAbsent: with no memo or a body past its bound, misses are still told (parsed every time)", () => {
  for (
    const d of [
      new FailureDecoder({ memoCapacity: 0 }),
      new FailureDecoder({ memoMaxBodyLength: 8 }),
    ]
  ) {
    for (let i = 0; i < 3; i++) assertEquals(d.decodeUnlessAbsent(inFrame(MISS), 20), null);
    assertEquals([d.parsed, d.reused, d.absent, d.built, d.memoSize], [3, 0, 3, 0, 0]);
  }
});

Deno.test("FailureDecoder.decodeUnlessAbsent: a body that does not parse throws, and is not remembered", () => {
  const d = new FailureDecoder();
  const bad = inFrame(new Uint8Array([0xac, 0xed, 0, 5, 0x99]));
  assertThrows(() => d.decodeUnlessAbsent(bad, 20), JavaSerializationError);
  assertThrows(() => d.decodeUnlessAbsent(bad, 20), JavaSerializationError);
  assertEquals([d.parsed, d.memoSize, d.absent, d.built], [0, 0, 0, 0]);
});

Deno.test("FailureDecoder.decodeUnlessAbsent: null exactly where errorFromJavaThrowable gives an UnknownKeyOrNamespaceError (Flink's throwables)", () => {
  if (!HAVE_VECTORS) return;
  const files = entries("javaSerializedThrowable").map((e) => e.file);
  assert(files.some((f) => f.includes("UnknownKeyOrNamespaceException")));
  const d = new FailureDecoder();
  for (const file of files) {
    const body = readVector(file);
    let isMiss: boolean;
    try {
      isMiss = errorFromJavaThrowable(readJavaThrowable(body)) instanceof
        UnknownKeyOrNamespaceError;
    } catch {
      continue; // not a throwable this reader takes: decode would throw too
    }
    const got = d.decodeUnlessAbsent(inFrame(body), 20);
    assertEquals(got === null, isMiss, file);
  }
  assert(d.absent >= 1);
});
