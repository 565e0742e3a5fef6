/**
 * `types.decimal` (BigDecSerializer): Java's `BigDecimal.toString()` text
 * both ways, the scale kept, codes for unscaled 0/1/10, hashCode, seeded
 * round trips, bad strings and bad bytes.
 */

import { assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { DECIMAL_TYPE, formatDecimal, parseDecimal } from "../../src/types/decimal_type.ts";
import { TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

const dec = types.decimal;

Deno.test("decimal: is types.decimal, frozen, kind and text", () => {
  assertEquals(dec, DECIMAL_TYPE);
  assertEquals([dec.kind, dec.text, dec.name], ["decimal", "decimal", "decimal"]);
  assertEquals(Object.isFrozen(dec), true);
});

Deno.test("decimal: toString() forms (plain, leading zeros, scientific, negative scale)", () => {
  const cases: [bigint, number, string][] = [
    [0n, 0, "0"],
    [0n, 2, "0.00"],
    [0n, -3, "0E+3"],
    [0n, 8, "0E-8"],
    [1n, -3, "1E+3"],
    [123n, -2, "1.23E+4"],
    [-1n, 3, "-0.001"],
    [150n, 2, "1.50"],
    [1n, 6, "0.000001"],
    [1n, 7, "1E-7"],
    [12n, 7, "0.0000012"],
    [12n, 8, "1.2E-7"],
    [-123456789n, 4, "-12345.6789"],
    [5n, 2147483647, "5E-2147483647"],
    [5n, -2147483648, "5E+2147483648"],
  ];
  for (const [unscaled, scale, text] of cases) {
    assertEquals(formatDecimal({ unscaled, scale }), text);
    assertEquals(parseDecimal(text), { unscaled, scale }, text);
    assertEquals(deserializeValue(dec, serializeValue(dec, text)), text);
  }
});

Deno.test("decimal: writing accepts new BigDecimal(String) texts and keeps the scale", () => {
  assertEquals(parseDecimal("1.5e3"), { unscaled: 15n, scale: -2 });
  assertEquals(parseDecimal("-.5"), { unscaled: -5n, scale: 1 });
  assertEquals(parseDecimal("+10"), { unscaled: 10n, scale: 0 });
  assertEquals(parseDecimal("10."), { unscaled: 10n, scale: 0 });
  assertEquals(parseDecimal("1E-0003"), { unscaled: 1n, scale: 3 });
  assertEquals(deserializeValue(dec, serializeValue(dec, "1.5e3")), "1.5E+3");
  assertEquals(deserializeValue(dec, serializeValue(dec, "0001.10")), "1.10");
});

Deno.test("decimal: unscaled 0/1/10 take codes 1..3 whatever the scale; null is code 0 alone", () => {
  assertEquals(toHex(serializeValue(dec, "0")), "0000000100000000");
  assertEquals(toHex(serializeValue(dec, "0.00")), "0000000100000002");
  assertEquals(toHex(serializeValue(dec, "1")), "0000000200000000");
  assertEquals(toHex(serializeValue(dec, "1.0")), "0000000300000001");
  assertEquals(toHex(serializeValue(dec, null)), "00000000");
  assertEquals(deserializeValue(dec, fromHex("00000000")), null);
  assertEquals(deserializeValue(dec, fromHex("000000050a00000000")), "10");
});

Deno.test("decimal: hashCode is 31 * unscaled.hashCode() + scale", () => {
  assertEquals(dec.hashCode("1.50"), 31 * 150 + 2);
  assertEquals(dec.hashCode("1.0"), 311);
  assertEquals(dec.hashCode("1.00"), 3102);
  assertEquals(dec.hashCode("-1"), -31);
  assertEquals(dec.hashCode("1E+3"), 31 - 3);
  assertThrows(() => dec.hashCode(null), TypeValueError, "not usable as a key");
});

Deno.test("decimal: 3000 seeded random values round trip", () => {
  const rng = new Prng(4242);
  for (let i = 0; i < 3000; i++) {
    let unscaled = 0n;
    const digits = rng.int(i % 10 === 0 ? 80 : 20);
    for (let d = 0; d < digits; d++) unscaled = unscaled * 10n + BigInt(rng.int(10));
    if (rng.int(2) === 0) unscaled = -unscaled;
    const scale = i % 50 === 0 ? rng.int(2 ** 32) - 2 ** 31 : rng.int(40) - 20;
    const text = formatDecimal({ unscaled, scale });
    assertEquals(parseDecimal(text), { unscaled, scale }, text);
    const bytes = serializeValue(dec, text);
    assertEquals(deserializeValue(dec, bytes), text);
  }
});

Deno.test("decimal: bad strings are TypeValueErrors; bad bytes ProtocolErrors", () => {
  for (
    const bad of ["", "1.2.3", "abc", "1e", "e5", ".", "-", "1,5", " 1", "1 ", "NaN", "0x10", "١"]
  ) {
    assertThrows(() => serializeValue(dec, bad), TypeValueError, "is not a decimal number");
  }
  assertThrows(() => serializeValue(dec, "1E-2147483649"), TypeValueError, "out of the int range");
  assertThrows(() => serializeValue(dec, "1E99999999999"), TypeValueError, "out of the int range");
  assertThrows(
    () => serializeValue(dec, 1.5 as unknown as string),
    TypeValueError,
    "expected a Java BigDecimal",
  );
  assertThrows(() => deserializeValue(dec, fromHex("00000002")), ProtocolError);
  assertThrows(() => deserializeValue(dec, fromHex("0000000600")), ProtocolError);
});
