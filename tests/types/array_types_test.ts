import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import type { ArrayDescriptor } from "../../src/types/array_types.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

Deno.test("array: primitive arrays are an int32 length then the elements", () => {
  const longs = types.array(types.long);
  assertEquals(longs.kind, "array");
  assertEquals(longs.format, "primitive");
  assertEquals(longs.text, "array<long>");
  assertEquals(longs.element, types.long);
  assert(Object.isFrozen(longs));
  assertEquals(toHex(serializeValue(longs, [])), "00000000");
  assertEquals(
    toHex(serializeValue(longs, [-(2n ** 63n), -1n])),
    "00000002" + "8000000000000000" + "ffffffffffffffff",
  );
  const cases: [Parameters<typeof types.array>[0], unknown[], string][] = [
    [types.int, [1, -1], "00000002" + "00000001" + "ffffffff"],
    [types.short, [1, -1], "00000002" + "0001" + "ffff"],
    [types.boolean, [true, false], "00000002" + "01" + "00"],
    [types.char, ["A", "\uffff"], "00000002" + "0041" + "ffff"],
    [types.float, [1.5], "00000001" + "3fc00000"],
    [types.double, [NaN, -0], "00000002" + "7ff8000000000000" + "8000000000000000"],
  ];
  for (const [element, value, hex] of cases) {
    const a = types.array(element);
    assertEquals(a.format, "primitive");
    assertEquals(toHex(serializeValue(a, value as never)), hex, a.text);
    assertEquals(deserializeValue(a, fromHex(hex)), value, a.text);
  }
});

Deno.test("array: String[] (null is the string's 00) and generic arrays (presence flags)", () => {
  const strings = types.array(types.string);
  assertEquals(strings.format, "string");
  assertEquals(strings.text, "array<string>");
  assertEquals(toHex(serializeValue(strings, ["a", null, ""])), "00000003" + "0261" + "00" + "01");
  const boxed = types.array(types.nullable(types.int));
  assertEquals(boxed.format, "generic");
  assertEquals(boxed.text, "array<nullable<int>>");
  // array/11: 01 = present, 00 = null (the opposite of the other null markers).
  const hex = "0000000301000000010001ffffffff";
  assertEquals(toHex(serializeValue(boxed, [1, null, -1])), hex);
  assertEquals(deserializeValue(boxed, fromHex(hex)), [1, null, -1]);
  const tuples = types.array(types.nullable(types.tuple(types.string, types.long)));
  assertEquals(
    toHex(serializeValue(tuples, [["a", 1n], null])),
    "00000002010261000000000000000100",
  );
});

Deno.test("array: element types without a Flink array serializer are refused with a hint", () => {
  assertThrows(() => types.array(types.byte), TypeError, "types.bytes");
  const e = assertThrows(
    () => types.array(types.tuple(types.int)),
    TypeError,
    "array<nullable<tuple<int>>>",
  );
  assert(e.message.includes("GenericArraySerializer"), e.message);
  assertThrows(() => types.array(types.list(types.int)), TypeError, "nullable");
  assertThrows(
    () => types.array(types.nullable(types.int, { padded: true })),
    TypeError,
    "drop padded",
  );
  assertThrows(() => types.array("int" as never), TypeError, "not a type descriptor");
});

Deno.test("array: wrong elements name their index; not usable as a key", () => {
  const longs = types.array(types.long);
  let e = assertThrows(() => serializeValue(longs, [1n, 2n, 3n, 4] as never), TypeValueError);
  assertEquals(e.path, "value[3]");
  e = assertThrows(() => serializeValue(longs, [1n, null] as never), TypeValueError);
  assertEquals(e.path, "value[1]");
  e = assertThrows(() => serializeValue(longs, 5n as never), TypeValueError, "expected an array");
  assertEquals(e.path, "value");
  const p = types.pojo({ tags: types.array(types.string) });
  e = assertThrows(() => serializeValue(p, { tags: ["a", "b", "c", 4] } as never), TypeValueError);
  assertEquals(e.path, "value.tags[3]");
  e = assertThrows(() => longs.hashCode([1n]), TypeValueError, "identity hash");
  assert(e.problem.startsWith("not usable as a key"));
});

Deno.test("array: claimed lengths are checked against the bytes before allocating", () => {
  const ints = types.array(types.int);
  let e = assertThrows(() => deserializeValue(ints, fromHex("7fffffff00000001")), TypeDecodeError);
  assert(e.problem.includes("2147483647 elements"), e.problem);
  assertEquals(e.javaClassName, "java.io.EOFException");
  // Each element takes at least its fixed length: 2 ints claimed, 4 bytes left.
  e = assertThrows(() => deserializeValue(ints, fromHex("0000000200000001")), TypeDecodeError);
  assert(e.problem.includes("at least 4 bytes"), e.problem);
  e = assertThrows(
    () => deserializeValue(types.array(types.string), fromHex("7fffffff0000")),
    TypeDecodeError,
  );
  e = assertThrows(() => deserializeValue(ints, fromHex("ffffffff")), TypeDecodeError);
  assertEquals(e.javaClassName, "java.lang.NegativeArraySizeException");
  // A truncated element names its index.
  e = assertThrows(
    () => deserializeValue(types.array(types.string), fromHex("00000002" + "0261" + "05")),
    TypeDecodeError,
  );
  assertEquals(e.path, "value[1]");
});

Deno.test("array: TypeScript infers element arrays", () => {
  const a = types.array(types.long);
  const v: bigint[] = deserializeValue(a, fromHex("00000000"));
  assertEquals(v, []);
  const g: ArrayDescriptor<(number | null)[]> = types.array(types.nullable(types.int));
  const w: (number | null)[] = deserializeValue(g, fromHex("0000000100"));
  assertEquals(w, [null]);
  // @ts-expect-error long[] elements are bigints
  assertThrows(() => serializeValue(a, [1]), TypeValueError);
});
