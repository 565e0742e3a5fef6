import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { ByteWriter, fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import type { MapDescriptor, MapEntries } from "../../src/types/map_type.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

const m = types.map(types.string, types.long);

Deno.test("map: size, then key, is-null byte, value; pairs in wire order", () => {
  assertEquals(m.kind, "map");
  assertEquals(m.text, "map<string,long>");
  assertEquals(m.key, types.string);
  assertEquals(m.value, types.long);
  assert(Object.isFrozen(m));
  const hex = "00000002" + "046f6e65" + "00" + "0000000000000001" + "0261" + "01";
  assertEquals(toHex(serializeValue(m, [["one", 1n], ["a", null]])), hex);
  assertEquals(deserializeValue(m, fromHex(hex)), [["one", 1n], ["a", null]]);
  // A JS Map is accepted on write (its iteration order).
  const js = new Map<string, bigint | null>([["one", 1n], ["a", null]]);
  assertEquals(toHex(serializeValue(m, js as never)), hex);
  // Any non-zero is-null byte is null; duplicate keys are kept in wire order.
  assertEquals(
    deserializeValue(m, fromHex("00000002" + "0261" + "ff" + "0261" + "01")),
    [["a", null], ["a", null]],
  );
});

Deno.test("map: wrong keys, values and pairs name their path", () => {
  let e = assertThrows(
    () => serializeValue(m, [["a", 1n], ["b", 2n], ["c", 3]] as never),
    TypeValueError,
  );
  assertEquals(e.path, "value[2].value");
  e = assertThrows(() => serializeValue(m, [[1, 1n]] as never), TypeValueError);
  assertEquals(e.path, "value[0].key");
  e = assertThrows(() => serializeValue(m, [["a", 1n], ["b"]] as never), TypeValueError, "pair");
  assertEquals(e.path, "value[1]");
  e = assertThrows(() => serializeValue(m, { a: 1n } as never), TypeValueError, "Map");
  assertEquals(e.path, "value");
  const p = types.pojo({ counts: types.map(types.string, types.int) });
  e = assertThrows(
    () => serializeValue(p, { counts: [["a", 1], ["b", "x"]] } as never),
    TypeValueError,
  );
  assertEquals(e.path, "value.counts[1].value");
});

Deno.test("map: sizes are bounded by the bytes left; truncation names the entry part", () => {
  let e = assertThrows(
    () => deserializeValue(m, fromHex("7fffffff" + "00000000")),
    TypeDecodeError,
  );
  assert(e.problem.includes("2147483647"), e.problem);
  e = assertThrows(() => deserializeValue(m, fromHex("fffffffe")), TypeDecodeError, "negative");
  e = assertThrows(() => deserializeValue(m, fromHex("00000001" + "0261")), TypeDecodeError);
  assertEquals(e.path, "value[0].value");
  e = assertThrows(() => deserializeValue(m, fromHex("00000001" + "0561" + "00")), TypeDecodeError);
  assertEquals(e.path, "value[0].key");
});

Deno.test("map: hashCode is java.util.Map.hashCode() (sum of key ^ value)", () => {
  assertEquals(m.hashCode([]), 0);
  assertEquals(m.hashCode([["a", 1n]]), 97 ^ 1);
  assertEquals(m.hashCode([["a", 1n], ["b", null]]), (97 ^ 1) + 98);
  // Order does not matter, as in Java.
  assertEquals(m.hashCode([["b", 2n], ["a", 1n]]), m.hashCode([["a", 1n], ["b", 2n]]));
  assertEquals(m.hashCode(new Map([["a", 1n]]) as never), 96);
});

Deno.test("map: TypeScript infers [key, value | null] pairs", () => {
  const v: Array<[string | null, bigint | null]> = deserializeValue(m, fromHex("00000000"));
  assertEquals(v, []);
  const d: MapDescriptor<MapEntries<string | null, bigint>> = m;
  assert(d === m);
  // @ts-expect-error values are bigints
  assertThrows(() => m.serialize([["a", 1]], new ByteWriter()), TypeValueError);
});
