import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { ByteWriter, fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import type { EnumDescriptor } from "../../src/types/enum_type.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

const color = types.enumOf("RED", "GREEN", "BLUE");

Deno.test("enumOf: the ordinal as an int; text and parts", () => {
  assertEquals(color.kind, "enum");
  assertEquals(color.text, "enum<RED,GREEN,BLUE>");
  assertEquals(color.constants, ["RED", "GREEN", "BLUE"]);
  assert(Object.isFrozen(color) && Object.isFrozen(color.constants));
  assertEquals(toHex(serializeValue(color, "RED")), "00000000");
  assertEquals(toHex(serializeValue(color, "BLUE")), "00000002");
  assertEquals(deserializeValue(color, fromHex("00000001")), "GREEN");
});

Deno.test("enumOf: unknown constants and ordinals are typed errors with paths", () => {
  let e = assertThrows(
    () => serializeValue(color, "PINK" as never),
    TypeValueError,
    "RED, GREEN, BLUE",
  );
  assertEquals(e.path, "value");
  e = assertThrows(() => serializeValue(color, 0 as never), TypeValueError, "unknown constant");
  for (const hex of ["00000003", "ffffffff", "7fffffff"]) {
    const d = assertThrows(
      () => deserializeValue(color, fromHex(hex)),
      TypeDecodeError,
      "unknown ordinal",
    );
    assertEquals(d.javaClassName, "java.lang.ArrayIndexOutOfBoundsException");
    assertEquals(d.path, "value");
  }
  const inList = types.list(color);
  const d = assertThrows(
    () => deserializeValue(inList, fromHex("00000002" + "00000000" + "00000009")),
    TypeDecodeError,
  );
  assertEquals(d.path, "value[1]");
  assertThrows(() => deserializeValue(color, fromHex("0000")), TypeDecodeError, "truncated");
});

Deno.test("enumOf: builder checks; not usable as a key", () => {
  assertThrows(() => types.enumOf(), TypeError, "at least one");
  assertThrows(() => types.enumOf("A", "A"), TypeError, "duplicate");
  assertThrows(() => types.enumOf("1A"), TypeError, "Java identifier");
  assertThrows(() => types.enumOf("A,B"), TypeError, "Java identifier");
  assertEquals(types.enumOf("Été", "$x", "_1").constants, ["Été", "$x", "_1"]);
  const e = assertThrows(() => color.hashCode("RED"), TypeValueError, "not usable as a key");
  assert(e.problem.includes("identity hash"), e.problem);
});

Deno.test("enumOf: TypeScript infers the constants' union", () => {
  const v: "RED" | "GREEN" | "BLUE" = deserializeValue(color, fromHex("00000000"));
  assertEquals(v, "RED");
  const d: EnumDescriptor<"RED" | "GREEN" | "BLUE"> = color;
  assert(d === color);
  // @ts-expect-error not a constant
  assertThrows(() => color.serialize("PINK", new ByteWriter()), TypeValueError);
});
