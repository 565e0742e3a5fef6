import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { MAX_TUPLE_ARITY, type TupleDescriptor } from "../../src/types/tuple_type.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import type { TypeDescriptor } from "../../src/types/type_descriptor.ts";
import { types } from "../../src/types/types.ts";

Deno.test("tuple: fields one after the other, text, parts, frozen", () => {
  const t = types.tuple(types.string, types.long);
  assertEquals(t.kind, "tuple");
  assertEquals(t.text, "tuple<string,long>");
  assertEquals(t.name, t.text);
  assertEquals(t.fields, [types.string, types.long]);
  assert(Object.isFrozen(t) && Object.isFrozen(t.fields));
  // Tuple2<String,Long>("user-1", 42): the keyns/02 vector's key bytes.
  assertEquals(toHex(serializeValue(t, ["user-1", 42n])), "07757365722d31000000000000002a");
  assertEquals(deserializeValue(t, fromHex("07757365722d31000000000000002a")), ["user-1", 42n]);
  // A null String field is the string's own null (00): TupleSerializer adds nothing.
  assertEquals(toHex(serializeValue(t, [null, 7n])), "000000000000000007");
});

Deno.test("tuple: nested tuples are inline; Tuple1 and Tuple25 build, 26 fields do not", () => {
  const t = types.tuple(types.tuple(types.string, types.int), types.long);
  assertEquals(t.text, "tuple<tuple<string,int>,long>");
  assertEquals(toHex(serializeValue(t, [["a", 1], 2n])), "0261000000010000000000000002");
  const one = types.tuple(types.int);
  assertEquals(toHex(serializeValue(one, [5])), "00000005");
  const many = Array.from({ length: MAX_TUPLE_ARITY }, () => types.byte);
  const t25 = types.tuple(...many);
  const v = Array.from({ length: 25 }, (_, i) => i);
  assertEquals(deserializeValue(t25, serializeValue(t25, v)), v);
  assertThrows(() => types.tuple(...many, types.byte), TypeError, "at most 25 fields");
  assertThrows(() => types.tuple("string" as never), TypeError, "not a type descriptor");
});

Deno.test("tuple: Tuple0 is the byte 2a, any byte reads back as Tuple0, hash 0", () => {
  const t0 = types.tuple();
  assertEquals(t0.text, "tuple<>");
  assertEquals(toHex(serializeValue(t0, [])), "2a");
  assertEquals(deserializeValue(t0, fromHex("2a")), []);
  assertEquals(deserializeValue(t0, fromHex("00")), []); // Tuple0Serializer skips the byte
  assertEquals(t0.hashCode([]), 0);
  const e = assertThrows(() => deserializeValue(t0, new Uint8Array(0)), TypeDecodeError);
  assertEquals(e.path, "value");
});

Deno.test("tuple: hashCode is TupleN.hashCode() (31 * h + field, null field 0)", () => {
  const t = types.tuple(types.string, types.long);
  // keyns vectors: ("", 0) -> 0, ("user-1", 42) -> -147182757.
  assertEquals(t.hashCode(["", 0n]), 0);
  assertEquals(t.hashCode(["user-1", 42n]), -147182757);
  assertEquals(t.hashCode([null, 7n]), 7);
  const ii = types.tuple(types.int, types.int);
  assertEquals(ii.hashCode([1, 2]), 33);
  assertEquals(ii.hashCode([2147483647, 2147483647]), -32);
  // A field whose hashCode() is an identity hash makes the tuple unusable as a key.
  const withArray = types.tuple(types.int, types.array(types.int));
  const e = assertThrows(() => withArray.hashCode([1, [2]]), TypeValueError, "not usable as a key");
  assertEquals(e.path, "value[1]");
});

Deno.test("tuple: wrong JS values name their path", () => {
  const t = types.tuple(types.string, types.tuple(types.int, types.long));
  let e = assertThrows(() => serializeValue(t, null as never), TypeValueError, "no null marker");
  assertEquals(e.path, "value");
  e = assertThrows(() => serializeValue(t, ["a"] as never), TypeValueError, "2 fields");
  assertEquals(e.path, "value");
  e = assertThrows(() => serializeValue(t, ["a", [1, 2]] as never), TypeValueError, "bigint");
  assertEquals(e.path, "value[1][1]");
  e = assertThrows(() => serializeValue(t, [5, [1, 2n]] as never), TypeValueError);
  assertEquals(e.path, "value[0]");
  e = assertThrows(() => t.hashCode(["a", [1.5, 2n]] as never), TypeValueError);
  assertEquals(e.path, "value[1][0]");
});

Deno.test("tuple: truncated bytes name the field being read", () => {
  const t = types.tuple(types.int, types.int);
  const e = assertThrows(() => deserializeValue(t, fromHex("00000001")), TypeDecodeError);
  assertEquals(e.path, "value[1]");
});

Deno.test("tuple: TypeScript infers the value type", () => {
  const t = types.tuple(types.string, types.long);
  const v: [string | null, bigint] = deserializeValue(t, fromHex("02610000000000000001"));
  assertEquals(v, ["a", 1n]);
  const d: TupleDescriptor<[string | null, bigint]> = t;
  const asSerializer: TypeDescriptor<[string | null, bigint]> = d;
  assert(asSerializer === t);
  // @ts-expect-error a long field is a bigint, not a number
  assertThrows(() => serializeValue(t, ["a", 1]), TypeValueError);
});
