import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import type { RowDescriptor } from "../../src/types/row_type.ts";
import type { RowKind, RowValue } from "../../src/types/type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

function rowOf<F extends unknown[]>(kind: RowKind, ...fields: F): F & { kind: RowKind } {
  return Object.assign(fields, { kind });
}

const r4 = types.row(types.int, types.string, types.string, types.long);

Deno.test("row: kind bits then null bits, MSB first, then the non-null fields", () => {
  assertEquals(r4.kind, "row");
  assertEquals(r4.text, "row<int,string,string,long>");
  assertEquals(r4.legacy, false);
  assert(Object.isFrozen(r4) && Object.isFrozen(r4.fields));
  // row/01..05 vectors.
  assertEquals(
    toHex(serializeValue(r4, [42, "hello", null, 7n])),
    "080000002a0668656c6c6f0000000000000007",
  );
  const tail = "0000000102610262ffffffffffffffff";
  const kinds: [RowKind, string][] = [["+I", "00"], ["-U", "80"], ["+U", "40"], ["-D", "c0"]];
  for (const [kind, mask] of kinds) {
    const v = rowOf(kind, 1, "a", "b", -1n);
    assertEquals(toHex(serializeValue(r4, v)), mask + tail, kind);
    const back = deserializeValue(r4, fromHex(mask + tail));
    assertEquals(back, v);
    assertEquals(back.kind, kind);
  }
  assertEquals(toHex(serializeValue(r4, rowOf("-D", null, null, null, null))), "fc");
  // A row written without kind reads back as +I.
  assertEquals(deserializeValue(r4, serializeValue(r4, [1, null, null, null])).kind, "+I");
});

Deno.test("row: the mask spans bytes; unused mask bits are ignored as Flink does", () => {
  const r7 = types.row(
    types.int,
    types.int,
    types.int,
    types.int,
    types.int,
    types.int,
    types.string,
  );
  const v = rowOf("-D", 1, 2, 3, 4, 5, 6, null);
  const hex = "c080000000010000000200000003000000040000000500000006";
  assertEquals(toHex(serializeValue(r7, v)), hex);
  assertEquals(deserializeValue(r7, fromHex(hex)), v);
  // Padding bits set: same value (Flink reads only the bits it needs).
  assertEquals(deserializeValue(r4, fromHex("ff")), rowOf("-D", null, null, null, null));
  const r6 = types.row(types.int, types.int, types.int, types.int, types.int, types.int);
  assertEquals(
    toHex(serializeValue(r6, [1, null, 3, 4, 5, null])),
    "1100000001000000030000000400000005",
  );
});

Deno.test("rowLegacy: only the null bits, kind not stored (reads +I)", () => {
  const legacy = types.rowLegacy(types.int, types.string, types.string, types.long);
  assertEquals(legacy.text, "rowlegacy<int,string,string,long>");
  assertEquals(legacy.legacy, true);
  const hex = "200000002a0668656c6c6f0000000000000007";
  // row/13: a DELETE row written through the legacy serializer.
  assertEquals(toHex(serializeValue(legacy, rowOf("-D", 42, "hello", null, 7n))), hex);
  assertEquals(deserializeValue(legacy, fromHex(hex)), rowOf("+I", 42, "hello", null, 7n));
  const r8 = types.rowLegacy(...Array.from({ length: 8 }, () => types.byte));
  assertEquals(toHex(serializeValue(r8, [null, 1, 2, 3, 4, 5, 6, 7])), "80" + "01020304050607");
  const r0 = types.rowLegacy();
  assertEquals(toHex(serializeValue(r0, [])), "");
});

Deno.test("row: nested rows have their own mask and kind", () => {
  const r = types.row(types.string, types.row(types.long, types.double));
  const v = rowOf("+I", "outer", rowOf("+U", 5n, null));
  const hex = "00066f75746572500000000000000005";
  assertEquals(toHex(serializeValue(r, v)), hex);
  assertEquals(deserializeValue(r, fromHex(hex)), v);
});

Deno.test("row: hashCode is 1.19's Row.hashCode (kind, deep field hashes)", () => {
  const r = types.row(types.string, types.long);
  // keyns/14..16.
  assertEquals(r.hashCode(rowOf("+I", "a", 1n)), 4961);
  assertEquals(r.hashCode(["b", null]), 4960);
  assertEquals(r.hashCode(rowOf("+U", "a", 1n)), 5023);
  // Nested row: h(inner) = deepHashCodeRow, not 31 + hash.
  const nested = types.row(types.string, types.row(types.long));
  // inner: 31*0 + (31*1 + (31 + 1)) = 63; outer: 31*(31 + (31 + 97)) + 63 = 4992.
  assertEquals(nested.hashCode(["a", [1n]]), 4992);
  // A list field: deepHashCodeList = fold(1, 31*h + (31 + e.hashCode())).
  assertEquals(types.row(types.list(types.int)).hashCode([[1, 2]]), 31 + 31 * (31 + 32) + 33);
  // A primitive array field: 31 + Arrays.hashCode(int[]) = 31 + 994.
  assertEquals(types.row(types.array(types.int)).hashCode([[1, 2]]), 31 + 31 + 994);
  // A String[] field: an Object[], hashed deeply: fold(1, 31*h + (31 + s.hashCode())).
  assertEquals(types.row(types.array(types.string)).hashCode([["a"]]), 31 + 31 + 128);
  // A map field: 1 + sum(h(k) ^ h(v)), h(x) = 31 + x.hashCode().
  assertEquals(
    types.row(types.map(types.string, types.int)).hashCode([[["a", 1]]]),
    31 + (1 + ((31 + 97) ^ (31 + 1))),
  );
  // An enum field has an identity hash.
  const e = assertThrows(
    () => types.row(types.int, types.enumOf("A")).hashCode([1, "A"]),
    TypeValueError,
    "not usable as a key",
  );
  assertEquals(e.path, "value[1]");
});

Deno.test("row: wrong values name their path; truncated bytes too", () => {
  let e = assertThrows(() => serializeValue(r4, [1, "a", "b"] as never), TypeValueError, "4 row");
  assertEquals(e.path, "value");
  e = assertThrows(() => serializeValue(r4, null as never), TypeValueError, "no null marker");
  e = assertThrows(
    () => serializeValue(r4, rowOf("*X" as RowKind, 1, "a", "b", 1n)),
    TypeValueError,
    "unknown row kind",
  );
  assertEquals(e.path, "value.kind");
  e = assertThrows(() => serializeValue(r4, [1, "a", "b", 1] as never), TypeValueError);
  assertEquals(e.path, "value[3]");
  e = assertThrows(
    () => serializeValue(r4, [1, undefined, "b", 1n] as never),
    TypeValueError,
    "undefined",
  );
  assertEquals(e.path, "value[1]");
  e = assertThrows(() => r4.hashCode([1, undefined, "b", 1n] as never), TypeValueError);
  assertEquals(e.path, "value[1]");
  const nested = types.row(types.string, types.row(types.long, types.double));
  e = assertThrows(() => serializeValue(nested, ["a", [1, null]] as never), TypeValueError);
  assertEquals(e.path, "value[1][0]");
  let d = assertThrows(() => deserializeValue(r4, new Uint8Array(0)), TypeDecodeError);
  assertEquals(d.path, "value");
  d = assertThrows(() => deserializeValue(r4, fromHex("080000002a0668656c")), TypeDecodeError);
  assertEquals(d.path, "value[1]");
});

Deno.test("row: TypeScript infers the fields (each nullable) and kind", () => {
  const r = types.row(types.int, types.string);
  const v: RowValue<[number | null, string | null]> = deserializeValue(
    r,
    fromHex("000000000102" + "61"),
  );
  assertEquals(v, rowOf("+I", 1, "a"));
  const d: RowDescriptor<RowValue<[number | null, string | null]>> = r;
  assert(d === r);
  // @ts-expect-error an int field is a number
  assertThrows(() => serializeValue(r, [1n, "a"]), TypeValueError);
});
