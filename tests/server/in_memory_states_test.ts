import {
  InMemoryListState,
  InMemoryMapState,
  type InMemoryState,
  InMemoryValueState,
} from "../../src/server/in_memory_states.ts";
import { type ByteReader, type ByteWriter, fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { serializeKeyAndNamespace } from "../../src/wire/key_and_namespace.ts";
import { TYPE_SERIALIZERS as S, type TypeSerializer } from "../../src/wire/type_serializers.ts";
import { assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";

const MISMATCH =
  "Unable to deserialize key and namespace. This indicates a mismatch in the key/namespace serializers used by the KvState instance and this access.";

// deno-lint-ignore no-explicit-any
type AnyState = InMemoryState<any, any>;

/** Asserts the failure the state failed with before lookups by bytes (messages captured from it). */
function assertMismatch(state: AnyState, hex: string, causeMessage: string): void {
  const e = assertThrows(() => state.getSerializedValue(fromHex(hex)), ProtocolError);
  assertEquals(e.message, MISMATCH);
  assertEquals(e.javaClassName, "java.io.IOException");
  assertInstanceOf(e.cause, ProtocolError);
  assertEquals(e.cause.message, causeMessage);
}

function lookup(state: AnyState, hex: string): string | null {
  const r = state.getSerializedValue(fromHex(hex));
  return r === null ? null : toHex(r);
}

Deno.test("InMemoryState: hits, misses and malformed bytes answer as before, first time and after", () => {
  const v = new InMemoryValueState(S.string, S.long).set("hello", 42n).set("", 1n);
  // Three rounds: the first verifies a key, the next ones take the lookup by bytes.
  for (let round = 0; round < 3; round++) {
    assertEquals(lookup(v, "0668656c6c6f2a00"), "000000000000002a", `round ${round}`);
    assertEquals(lookup(v, "012a00"), "0000000000000001");
    assertEquals(lookup(v, "0568656c6c2a00"), null, "well-formed absent key");
    assertEquals(lookup(v, "0668656c6c6f2a05"), "000000000000002a", "any namespace byte, as Flink");
    assertMismatch(
      v,
      "0668656c6c6f2a00ff",
      "Unconsumed bytes in the serialized key and namespace.",
    );
    assertMismatch(
      v,
      "0668656c6c6f2a0000",
      "Unconsumed bytes in the serialized key and namespace.",
    );
    assertMismatch(v, "0668656c6c6f2b00", "Unexpected magic number 43.");
    assertMismatch(v, "0668656c6c6f2a", "readerIndex(7) + length(1) exceeds writerIndex(7)");
    assertMismatch(v, "0668656c", "readerIndex(1) + length(5) exceeds writerIndex(4)");
    assertMismatch(v, "", "readerIndex(0) + length(1) exceeds writerIndex(0)");
    assertMismatch(v, "00", "readerIndex(1) + length(1) exceeds writerIndex(1)");
  }
});

Deno.test("InMemoryState: trailing bytes that make another stored key's shape still fail", () => {
  // Key "a" is 02 61; the request 02 61 2a 00 2a 00 carries "a" then 2a 00 2a 00:
  // its first length-2 bytes (02 61 2a 00) are not a stored key, and it must fail.
  const v = new InMemoryValueState(S.string, S.int).set("a", 1);
  assertEquals(lookup(v, "02612a00"), "00000001");
  assertMismatch(v, "02612a002a00", "Unconsumed bytes in the serialized key and namespace.");
  assertEquals(lookup(v, "02612a00"), "00000001");
});

Deno.test("InMemoryState: a key that is a prefix of another; 0.0 and -0.0 are different keys", () => {
  const s = new InMemoryValueState(S.string, S.int).set("ab", 1).set("abc", 2).set("a", 3);
  for (let round = 0; round < 2; round++) {
    assertEquals(lookup(s, toHex(serializeKeyAndNamespace("a", S.string))), "00000003");
    assertEquals(lookup(s, toHex(serializeKeyAndNamespace("ab", S.string))), "00000001");
    assertEquals(lookup(s, toHex(serializeKeyAndNamespace("abc", S.string))), "00000002");
    assertEquals(lookup(s, toHex(serializeKeyAndNamespace("abcd", S.string))), null);
  }
  const d = new InMemoryValueState(S.double, S.int).set(0, 1);
  for (let round = 0; round < 2; round++) {
    assertEquals(lookup(d, toHex(serializeKeyAndNamespace(0, S.double))), "00000001");
    assertEquals(lookup(d, toHex(serializeKeyAndNamespace(-0, S.double))), null);
  }
  d.set(-0, 2);
  assertEquals(lookup(d, toHex(serializeKeyAndNamespace(-0, S.double))), "00000002");
  assertEquals([d.get(0), d.get(-0), d.size], [1, 2, 2]);
});

Deno.test("InMemoryState: delete, re-set and clear are seen by the next lookup", () => {
  const v = new InMemoryValueState(S.int, S.int).set(7, 1);
  const req = serializeKeyAndNamespace(7, S.int);
  assertEquals(toHex(v.getSerializedValue(req)!), "00000001");
  assertEquals(toHex(v.getSerializedValue(req)!), "00000001");
  v.set(7, 2);
  assertEquals(toHex(v.getSerializedValue(req)!), "00000002", "a new value, a new content");
  assertEquals(v.delete(7), true);
  assertEquals(v.getSerializedValue(req), null);
  assertEquals(v.has(7), false);
  v.set(7, 3);
  assertEquals(toHex(v.getSerializedValue(req)!), "00000003");
  v.clear();
  assertEquals([v.getSerializedValue(req), v.size], [null, 0]);
});

Deno.test("InMemoryState: many keys (shared buckets) hit and miss right; keys() keeps insertion order", () => {
  const v = new InMemoryValueState(S.long, S.int);
  for (let i = 0; i < 5000; i++) v.set(BigInt(i * 7919), i);
  v.set(0n, -1); // an existing key keeps its place
  for (let i = 0; i < 5000; i++) {
    const hit = v.getSerializedValue(serializeKeyAndNamespace(BigInt(i * 7919), S.long));
    assertEquals(new DataView(hit!.buffer, hit!.byteOffset).getInt32(0), i === 0 ? -1 : i);
    assertEquals(
      v.getSerializedValue(serializeKeyAndNamespace(BigInt(i * 7919 + 1), S.long)),
      null,
    );
  }
  const keys = v.keys();
  assertEquals(keys.length, 5000);
  assertEquals(keys.slice(0, 3), [0n, 7919n, 15838n]);
  for (let i = 0; i < 5000; i += 2) v.delete(BigInt(i * 7919));
  assertEquals(v.size, 2500);
  assertEquals(v.keys()[0], 7919n);
  assertEquals(v.getSerializedValue(serializeKeyAndNamespace(0n, S.long)), null);
});

/** A key serializer whose deserialize rejects what serialize wrote (or reads past it). */
function brokenSerializer(mode: "throws" | "greedy"): TypeSerializer<number> {
  return {
    name: "broken",
    serialize(value: number, out: ByteWriter) {
      out.writeUint8(value);
    },
    deserialize(input: ByteReader): number {
      if (mode === "throws") throw new ProtocolError("never", "java.io.IOException");
      let last = 0;
      while (input.remaining > 0) last = input.readInt8(); // eats the 2a 00 too
      return last;
    },
  } as unknown as TypeSerializer<number>;
}

Deno.test("InMemoryState: a stored key whose bytes do not deserialize is never answered by bytes alone", () => {
  for (const mode of ["throws", "greedy"] as const) {
    const v = new InMemoryValueState(brokenSerializer(mode), S.int).set(5, 1);
    assertEquals(v.has(5), true);
    for (let round = 0; round < 3; round++) {
      const e = assertThrows(() => v.getSerializedValue(fromHex("052a00")), ProtocolError);
      assertEquals(e.message, MISMATCH, `${mode} round ${round}`);
    }
  }
});

Deno.test("InMemoryListState and InMemoryMapState answer by bytes too; add/put keep the key's place", () => {
  const l = new InMemoryListState(S.int, S.string).add(1, "x").add(2, "y").add(1, "z");
  assertEquals(l.keys(), [1, 2]);
  assertEquals(l.get(1), ["x", "z"]);
  const req = serializeKeyAndNamespace(1, S.int);
  const first = l.getSerializedValue(req);
  assertEquals(l.getSerializedValue(req), first);
  l.add(1, "w");
  assertEquals(l.getSerializedValue(req)!.length > first!.length, true, "the content follows add");
  const m = new InMemoryMapState(S.string, S.string, S.int).put("k", "a", 1).put("j", "b", 2)
    .put("k", "a", 3).put("k", "c", null);
  assertEquals(m.keys(), ["k", "j"]);
  assertEquals(m.get("k"), [["a", 3], ["c", null]]);
  const mreq = serializeKeyAndNamespace("k", S.string);
  assertEquals(m.getSerializedValue(mreq), m.getSerializedValue(mreq));
  assertEquals(m.getSerializedValue(serializeKeyAndNamespace("z", S.string)), null);
});
