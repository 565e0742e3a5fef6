import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import type { NullableDescriptor } from "../../src/types/nullable_type.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

Deno.test("nullable: is-null byte, then the value; text and parts", () => {
  const n = types.nullable(types.long);
  assertEquals(n.kind, "nullable");
  assertEquals(n.text, "nullable<long>");
  assertEquals(n.inner, types.long);
  assertEquals(n.padded, false);
  assert(Object.isFrozen(n));
  assertEquals(toHex(serializeValue(n, null)), "01");
  assertEquals(toHex(serializeValue(n, -1n)), "00ffffffffffffffff");
  assertEquals(deserializeValue(n, fromHex("01")), null);
  assertEquals(deserializeValue(n, fromHex("008000000000000000")), -(2n ** 63n));
  // Any non-zero byte is null (Java's readBoolean).
  assertEquals(deserializeValue(n, fromHex("ff")), null);
});

Deno.test("nullable: padded nulls take the inner type's fixed length", () => {
  const p = types.nullable(types.long, { padded: true });
  assertEquals(p.text, "nullable<long,padded>");
  assertEquals(p.padded, true);
  assertEquals(toHex(serializeValue(p, null)), "010000000000000000");
  assertEquals(deserializeValue(p, fromHex("010000000000000000")), null);
  assertEquals(toHex(serializeValue(p, 0n)), "000000000000000000");
  // Fixed-length tuples pad their summed length (TupleSerializerBase.getLength).
  const t = types.nullable(types.tuple(types.int, types.short), { padded: true });
  assertEquals(toHex(serializeValue(t, null)), "01" + "000000000000");
  // The padding must be there when reading.
  const e = assertThrows(() => deserializeValue(p, fromHex("010000")), TypeDecodeError);
  assert(e.problem.includes("padding"), e.problem);
  assertThrows(() => types.nullable(types.string, { padded: true }), TypeError, "fixed-length");
  assertThrows(() => types.nullable(types.long, { padded: "yes" } as never), TypeError);
});

Deno.test("nullable: wrapping a nullable gives it back (NullableSerializer.wrap)", () => {
  const n = types.nullable(types.int);
  assert(types.nullable(n) === n);
  assert(types.nullable(n, { padded: false }) === n);
  // Asking for other padding than the wrapped one has is refused, not silently dropped.
  assertThrows(() => types.nullable(n, { padded: true }), TypeError, "already nullable");
  const p = types.nullable(types.int, { padded: true });
  assert(types.nullable(p, { padded: true }) === p);
  assertThrows(() => types.nullable(p, { padded: false }), TypeError, "already nullable");
  assertThrows(() => types.nullable("long" as never), TypeError, "not a type descriptor");
});

Deno.test("nullable: hashCode is the inner's or 0; errors keep the parent's path", () => {
  const n = types.nullable(types.string);
  assertEquals(n.hashCode(null), 0);
  assertEquals(n.hashCode("a"), 97);
  const t = types.tuple(types.int, types.nullable(types.long));
  assertEquals(t.hashCode([1, null]), 31);
  let e = assertThrows(() => serializeValue(t, [1, 5] as never), TypeValueError);
  assertEquals(e.path, "value[1]");
  e = assertThrows(() => serializeValue(types.nullable(types.long), 5 as never), TypeValueError);
  assertEquals(e.path, "value");
  const d = assertThrows(() => deserializeValue(t, fromHex("00000001" + "0000")), TypeDecodeError);
  assertEquals(d.path, "value[1]");
  const empty = assertThrows(() => deserializeValue(n, new Uint8Array(0)), TypeDecodeError);
  assertEquals(empty.path, "value");
});

Deno.test("nullable: TypeScript infers T | null", () => {
  const n = types.nullable(types.long);
  const v: bigint | null = deserializeValue(n, fromHex("01"));
  assertEquals(v, null);
  const d: NullableDescriptor<bigint | null> = n;
  assert(d === n);
  // @ts-expect-error a long is a bigint
  assertThrows(() => serializeValue(n, 1), TypeValueError);
});
