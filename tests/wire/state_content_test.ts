import {
  decodeListContent,
  decodeMapContent,
  decodeMapContentToMap,
  decodeValueContent,
  encodeListContent,
  encodeMapContent,
  encodeValueContent,
  LIST_ELEMENT_SEPARATOR,
} from "../../src/wire/state_content.ts";
import {
  serializerFor,
  TYPE_SERIALIZERS,
  type TypeName,
  type TypeSerializer,
} from "../../src/wire/type_serializers.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";
import { xorshift32 } from "../_prng.ts";

// deno-lint-ignore no-explicit-any
type AnySerializer = TypeSerializer<any>;

const { int: INT, long: LONG, string: STRING, bytes: BYTES, double: DOUBLE } = TYPE_SERIALIZERS;

const UNABLE_VALUE =
  "Unable to deserialize value. This indicates a mismatch in the value serializers used by the KvState instance and this access.";
const UNCONSUMED =
  "Unconsumed bytes in the deserialized value. This indicates a mismatch in the value serializers used by the KvState instance and this access.";

// ---------------------------------------------------------------------------
// Value, reducing, aggregating

Deno.test("value: PROTOCOL 2.7 REQUEST_RESULT content of ValueState<Long> 42", () => {
  // The frame's body is 00000008 (contentLen) then this content.
  assertEquals(toHex(encodeValueContent(LONG, 42n)), "000000000000002a");
  assertEquals(decodeValueContent(LONG, fromHex("000000000000002a")), 42n);
});

Deno.test("value: leftover bytes and truncation", () => {
  const e = assertThrows(() => decodeValueContent(INT, fromHex("0000002a2c")), ProtocolError);
  assertEquals(e.message, UNCONSUMED);
  assertEquals(e.javaClassName, "java.io.IOException");
  for (let cut = 0; cut < 8; cut++) {
    assertThrows(
      () => decodeValueContent(LONG, fromHex("000000000000002a").subarray(0, cut)),
      ProtocolError,
    );
  }
  assertThrows(() => encodeValueContent(LONG, 42 as unknown as bigint), TypeError);
});

// ---------------------------------------------------------------------------
// List

Deno.test("list: PROTOCOL 8.5 example [1, 2, 3]", () => {
  assertEquals(LIST_ELEMENT_SEPARATOR, 0x2c);
  const hex = "000000012c000000022c00000003";
  assertEquals(toHex(encodeListContent(INT, [1, 2, 3])), hex);
  assertEquals(decodeListContent(INT, fromHex(hex)), [1, 2, 3]);
});

Deno.test("list: empty, single element, strings, any iterable", () => {
  assertEquals(encodeListContent(INT, []), new Uint8Array(0));
  assertEquals(decodeListContent(INT, new Uint8Array(0)), []);
  assertEquals(toHex(encodeListContent(INT, [7])), "00000007");
  assertEquals(decodeListContent(INT, fromHex("00000007")), [7]);
  const strings = ["a", "", "é"];
  const hex = "0261" + "2c" + "01" + "2c" + "02e901";
  assertEquals(toHex(encodeListContent(STRING, strings)), hex);
  assertEquals(decodeListContent(STRING, fromHex(hex)), strings);
  assertEquals(toHex(encodeListContent(INT, new Set([1, 2]))), "000000012c00000002");
  function* gen(): Generator<bigint> {
    yield 1n;
    yield -1n;
  }
  assertEquals(
    toHex(encodeListContent(LONG, gen())),
    "0000000000000001" + "2c" + "ffffffffffffffff",
  );
});

Deno.test("list: the separator's value is not checked; a trailing separator is skipped", () => {
  assertEquals(decodeListContent(INT, fromHex("00000001ff00000002")), [1, 2]);
  assertEquals(decodeListContent(INT, fromHex("000000010000000002")), [1, 2]);
  assertEquals(decodeListContent(INT, fromHex("000000012c")), [1]);
});

Deno.test("list: truncation inside an element is the 'Unable to deserialize value' IOException", () => {
  const bytes = fromHex("000000012c000000022c00000003");
  // Cuts at element or separator boundaries are shorter valid lists (as in Java).
  const valid = new Map<number, number[]>([
    [0, []],
    [4, [1]],
    [5, [1]],
    [9, [1, 2]],
    [10, [1, 2]],
  ]);
  for (let cut = 0; cut < bytes.length; cut++) {
    const part = bytes.subarray(0, cut);
    const expected = valid.get(cut);
    if (expected !== undefined) {
      assertEquals(decodeListContent(INT, part), expected, `cut ${cut}`);
      continue;
    }
    const e = assertThrows(() => decodeListContent(INT, part), ProtocolError);
    assertEquals(e.message, UNABLE_VALUE, `cut ${cut}`);
    assertEquals(e.javaClassName, "java.io.IOException");
    assertInstanceOf(e.cause, ProtocolError);
    assertEquals(e.cause.javaClassName, "java.lang.IndexOutOfBoundsException");
  }
  // A malformed string element.
  const e = assertThrows(() => decodeListContent(STRING, fromHex("02ffff7f")), ProtocolError);
  assertEquals(e.message, UNABLE_VALUE);
});

Deno.test("list: null elements are refused, as Flink refuses them", () => {
  assertThrows(
    () => encodeListContent(STRING, ["a", null]),
    TypeError,
    "You cannot add null to a value list.",
  );
  assertThrows(
    () => encodeListContent(INT, [1, undefined as unknown as number]),
    TypeError,
    "You cannot add null to a value list.",
  );
  assertThrows(() => encodeListContent(INT, [1, 1.5]), TypeError, "Java int");
});

// ---------------------------------------------------------------------------
// Map

const MAP_HEX = "02610000000001026201"; // {a: 1, b: null} (PROTOCOL 8.5)

Deno.test("map: PROTOCOL 8.5 example {a: 1, b: null}", () => {
  assertEquals(toHex(encodeMapContent(STRING, INT, [["a", 1], ["b", null]])), MAP_HEX);
  assertEquals(toHex(encodeMapContent(STRING, INT, new Map([["a", 1], ["b", null]]))), MAP_HEX);
  assertEquals(decodeMapContent(STRING, INT, fromHex(MAP_HEX)), [["a", 1], ["b", null]]);
  const m = decodeMapContentToMap(STRING, INT, fromHex(MAP_HEX));
  assertEquals(m, new Map<string, number | null>([["a", 1], ["b", null]]));
  assertEquals(m.get("a"), 1);
  assertEquals(m.get("b"), null);
  assert(m.has("b"));
});

Deno.test("map: empty content, undefined values, non-zero null flags", () => {
  assertEquals(encodeMapContent(STRING, INT, []), new Uint8Array(0));
  assertEquals(decodeMapContent(STRING, INT, new Uint8Array(0)), []);
  assertEquals(decodeMapContentToMap(STRING, INT, new Uint8Array(0)).size, 0);
  assertEquals(toHex(encodeMapContent(STRING, INT, [["a", undefined]])), "026101");
  // Any non-zero flag means null (Java readBoolean).
  assertEquals(decodeMapContent(STRING, INT, fromHex("0261ff")), [["a", null]]);
  assertEquals(decodeMapContent(STRING, INT, fromHex("026102")), [["a", null]]);
});

Deno.test("map: duplicate keys are kept in entries, the last wins in a Map", () => {
  const hex = "0261" + "00" + "00000001" + "0261" + "00" + "00000002";
  assertEquals(decodeMapContent(STRING, INT, fromHex(hex)), [["a", 1], ["a", 2]]);
  assertEquals(decodeMapContentToMap(STRING, INT, fromHex(hex)), new Map([["a", 2]]));
});

Deno.test("map: null string keys, long keys, double keys", () => {
  const hex = toHex(encodeMapContent(STRING, LONG, [[null, 5n]]));
  assertEquals(hex, "00" + "00" + "0000000000000005");
  assertEquals(decodeMapContentToMap(STRING, LONG, fromHex(hex)).get(null), 5n);
  const longs = encodeMapContent(LONG, STRING, [[2n ** 62n, "x"], [-1n, null]]);
  const m = decodeMapContentToMap(LONG, STRING, longs);
  assertEquals(m.get(2n ** 62n), "x"); // bigint keys compare by value
  assertEquals(m.get(-1n), null);
  const dbl = decodeMapContentToMap(DOUBLE, INT, encodeMapContent(DOUBLE, INT, [[NaN, 1]]));
  assertEquals(dbl.get(NaN), 1);
});

Deno.test("map: bytes keys come back as entries; a Map refuses them", () => {
  const k1 = new Uint8Array([1, 2]);
  const k2 = new Uint8Array([]);
  const content = encodeMapContent(BYTES, STRING, [[k1, "one"], [k2, null]]);
  assertEquals(toHex(content), "00000002" + "0102" + "00" + "046f6e65" + "00000000" + "01");
  assertEquals(decodeMapContent(BYTES, STRING, content), [[k1, "one"], [k2, null]]);
  assertThrows(() => decodeMapContentToMap(BYTES, STRING, content), TypeError, "decodeMapContent");
});

Deno.test("map: every truncation of the 8.5 example", () => {
  const bytes = fromHex(MAP_HEX);
  // Complete entries end at 7 and 10: those cuts are shorter valid maps.
  const valid = new Map<number, Array<[string, number | null]>>([
    [0, []],
    [7, [["a", 1]]],
  ]);
  for (let cut = 0; cut < bytes.length; cut++) {
    const part = bytes.subarray(0, cut);
    const expected = valid.get(cut);
    if (expected !== undefined) {
      assertEquals(decodeMapContent(STRING, INT, part), expected, `cut ${cut}`);
      continue;
    }
    const e = assertThrows(() => decodeMapContent(STRING, INT, part), ProtocolError);
    assertEquals(e.javaClassName, "java.lang.IndexOutOfBoundsException", `cut ${cut}`);
    assertThrows(() => decodeMapContentToMap(STRING, INT, part), ProtocolError);
  }
});

Deno.test("map: wrong types are TypeErrors", () => {
  assertThrows(
    () => encodeMapContent(STRING, INT, [[1 as unknown as string, 1]]),
    TypeError,
    "Java string",
  );
  assertThrows(() => encodeMapContent(STRING, INT, [["a", 1.5]]), TypeError, "Java int");
});

// ---------------------------------------------------------------------------
// Property-style round trips

function randomString(next: () => number): string {
  const len = next() % 12;
  let s = "";
  for (let i = 0; i < len; i++) {
    const pick = next() % 3;
    s += String.fromCharCode(
      pick === 0 ? next() % 0x80 : pick === 1 ? 0xd800 + (next() % 0x800) : next() % 0x10000,
    );
  }
  return s;
}

function randomDouble(next: () => number): number {
  const pick = next() % 8;
  if (pick === 0) return [NaN, -0, 0, Infinity, -Infinity][next() % 5];
  const bits = (BigInt(next()) << 32n) | BigInt(next());
  return new Float64Array(new BigUint64Array([bits]).buffer)[0];
}

Deno.test("property: lists of strings, longs, doubles round-trip", () => {
  const next = xorshift32(0xab);
  for (let i = 0; i < 500; i++) {
    const n = next() % 20;
    const strings = Array.from({ length: n }, () => randomString(next));
    assertEquals(decodeListContent(STRING, encodeListContent(STRING, strings)), strings);
    const longs = Array.from(
      { length: n },
      () => BigInt.asIntN(64, (BigInt(next()) << 32n) | BigInt(next())),
    );
    const encoded = encodeListContent(LONG, longs);
    assertEquals(encoded.length, n === 0 ? 0 : n * 9 - 1);
    assertEquals(decodeListContent(LONG, encoded), longs);
    const doubles = Array.from({ length: n }, () => randomDouble(next));
    const back = decodeListContent(DOUBLE, encodeListContent(DOUBLE, doubles));
    assertEquals(back.length, doubles.length);
    back.forEach((v, j) => assert(Object.is(v, doubles[j]), `double ${doubles[j]}`));
  }
});

Deno.test("property: maps of string -> long (with nulls) round-trip", () => {
  const next = xorshift32(0xcd);
  for (let i = 0; i < 500; i++) {
    const map = new Map<string, bigint | null>();
    for (let j = next() % 15; j > 0; j--) {
      map.set(randomString(next), next() % 4 === 0 ? null : BigInt(next() | 0) * 3n);
    }
    const content = encodeMapContent(STRING, LONG, map);
    assertEquals(decodeMapContent(STRING, LONG, content), [...map]);
    assertEquals(decodeMapContentToMap(STRING, LONG, content), map);
  }
});

// ---------------------------------------------------------------------------
// Conformance: Flink's serialized values are valid value-state content

vectorTest("values/*.bin: decodeValueContent and encodeValueContent", () => {
  const list = entries("value");
  assert(list.length > 0);
  for (const e of list) {
    const bytes = readVector(e.file);
    const s = serializerFor(e.fields.valueType as TypeName) as AnySerializer;
    const raw: string = e.fields.value;
    const value = e.fields.valueType === "long"
      ? BigInt(raw)
      : e.fields.valueType === "int"
      ? Number(raw)
      : raw;
    assertEquals(decodeValueContent(s, bytes), value, e.file);
    assertEquals(encodeValueContent(s, value), bytes, e.file);
    // As a one-element list, the same bytes decode to [value].
    assertEquals(decodeListContent(s, bytes), [value], e.file);
  }
});
