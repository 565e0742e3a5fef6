import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import type { EitherDescriptor, EitherValue } from "../../src/types/either_type.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

const e = types.either(types.string, types.long);

Deno.test("either: is-left byte then the value", () => {
  assertEquals(e.kind, "either");
  assertEquals(e.text, "either<string,long>");
  assertEquals(e.left, types.string);
  assertEquals(e.right, types.long);
  assert(Object.isFrozen(e));
  assertEquals(toHex(serializeValue(e, { left: "x" })), "010278");
  assertEquals(toHex(serializeValue(e, { right: 5n })), "000000000000000005");
  assertEquals(deserializeValue(e, fromHex("0101")), { left: "" });
  assertEquals(deserializeValue(e, fromHex("008000000000000000")), { right: -(2n ** 63n) });
  assertEquals(deserializeValue(e, fromHex("070278")), { left: "x" }); // readBoolean
});

Deno.test("either: exactly one side, never null; paths .left / .right", () => {
  let x = assertThrows(() => serializeValue(e, {} as never), TypeValueError, "neither");
  assertEquals(x.path, "value");
  x = assertThrows(
    () => serializeValue(e, { left: "a", right: 1n } as never),
    TypeValueError,
    "both",
  );
  x = assertThrows(
    () => serializeValue(e, { left: null } as never),
    TypeValueError,
    "NullPointerException",
  );
  assertEquals(x.path, "value.left");
  x = assertThrows(() => serializeValue(e, { right: 1 } as never), TypeValueError);
  assertEquals(x.path, "value.right");
  x = assertThrows(() => serializeValue(e, null as never), TypeValueError);
  assertEquals(x.path, "value");
  const d = assertThrows(() => deserializeValue(e, fromHex("0100")), TypeDecodeError);
  assertEquals(d.path, "value.left");
  assertEquals(d.javaClassName, "java.lang.NullPointerException");
  const t = assertThrows(() => deserializeValue(e, fromHex("000000")), TypeDecodeError);
  assertEquals(t.path, "value.right");
  assertThrows(() => deserializeValue(e, new Uint8Array(0)), TypeDecodeError, "truncated");
});

Deno.test("either: hashCode is the held value's", () => {
  assertEquals(e.hashCode({ left: "a" }), 97);
  assertEquals(e.hashCode({ right: 1n }), 1);
  const bad = types.either(types.enumOf("A"), types.int);
  const x = assertThrows(() => bad.hashCode({ left: "A" }), TypeValueError, "not usable as a key");
  assertEquals(x.path, "value.left");
});

Deno.test("either: TypeScript infers { left } | { right }", () => {
  const v: EitherValue<string, bigint> = deserializeValue(e, fromHex("010278"));
  assertEquals(v, { left: "x" });
  const d: EitherDescriptor<EitherValue<string, bigint>> = e;
  assert(d === e);
  // @ts-expect-error both sides
  const both: EitherValue<string, bigint> = { left: "a", right: 1n };
  assert(both !== null);
});
