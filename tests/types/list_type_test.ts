import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import type { ListDescriptor } from "../../src/types/list_type.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

Deno.test("list: int32 size, then the elements, no markers", () => {
  const l = types.list(types.long);
  assertEquals(l.kind, "list");
  assertEquals(l.text, "list<long>");
  assertEquals(l.element, types.long);
  assert(Object.isFrozen(l));
  assertEquals(toHex(serializeValue(l, [])), "00000000");
  const hex = "00000002" + "0000000000000001" + "ffffffffffffffff";
  assertEquals(toHex(serializeValue(l, [1n, -1n])), hex);
  assertEquals(deserializeValue(l, fromHex(hex)), [1n, -1n]);
  // A string element can be null (the string's own 00).
  const s = types.list(types.string);
  assertEquals(toHex(serializeValue(s, ["a", null])), "00000002" + "0261" + "00");
  assertEquals(deserializeValue(s, fromHex("00000002026100")), ["a", null]);
});

Deno.test("list: wrong elements name their path, deep inside a POJO", () => {
  const p = types.pojo({ tags: types.list(types.long) });
  const e = assertThrows(
    () => serializeValue(p, { tags: [1n, 2n, 3n, null] } as never),
    TypeValueError,
  );
  assertEquals(e.path, "value.tags[3]");
  const e2 = assertThrows(
    () => serializeValue(types.list(types.int), new Set([1]) as never),
    TypeValueError,
  );
  assertEquals(e2.path, "value");
});

Deno.test("list: sizes are bounded by the bytes left; truncation names the element", () => {
  const l = types.list(types.long);
  let e = assertThrows(
    () => deserializeValue(l, fromHex("7fffffff" + "00000000")),
    TypeDecodeError,
  );
  assert(e.problem.includes("2147483647"), e.problem);
  e = assertThrows(() => deserializeValue(l, fromHex("80000000")), TypeDecodeError, "negative");
  e = assertThrows(() => deserializeValue(l, fromHex("00000001" + "0000")), TypeDecodeError);
  assert(e.problem.includes("at least 8 bytes"), e.problem);
  const nested = types.list(types.list(types.int));
  e = assertThrows(
    () => deserializeValue(nested, fromHex("00000002" + "00000000" + "00000001" + "0000")),
    TypeDecodeError,
  );
  assertEquals(e.path, "value[1]");
});

Deno.test("list: hashCode is java.util.List.hashCode()", () => {
  const s = types.list(types.string);
  assertEquals(s.hashCode([]), 1);
  assertEquals(s.hashCode(["a"]), 31 + 97);
  assertEquals(s.hashCode(["a", null]), (31 + 97) * 31);
  const e = assertThrows(() => types.list(types.enumOf("A")).hashCode(["A"]), TypeValueError);
  assertEquals(e.path, "value[0]");
});

Deno.test("list: TypeScript infers element arrays", () => {
  const l = types.list(types.string);
  const v: (string | null)[] = deserializeValue(l, fromHex("00000000"));
  assertEquals(v, []);
  const d: ListDescriptor<(string | null)[]> = l;
  assert(d === l);
  // @ts-expect-error elements are strings
  assertThrows(() => serializeValue(l, [1]), TypeValueError);
});
