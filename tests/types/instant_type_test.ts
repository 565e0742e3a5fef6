/**
 * `types.instant` (InstantSerializer): ISO text both ways, the null marker,
 * normalization and range checks on read, hashCode, seeded round trips,
 * bad strings and bad bytes.
 */

import { assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { INSTANT_TYPE } from "../../src/types/instant_type.ts";
import { INSTANT_MAX_SECONDS, INSTANT_MIN_SECONDS } from "../../src/types/iso_time_text.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import { oracleInstantText } from "./_vectors.ts";

const inst = types.instant;
function int64Hex(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, "0");
}

Deno.test("instant: is types.instant, frozen", () => {
  assertEquals(inst, INSTANT_TYPE);
  assertEquals([inst.kind, inst.text, inst.name], ["instant", "instant", "instant"]);
  assertEquals(Object.isFrozen(inst), true);
});

Deno.test("instant: 3000 seeded random instants round trip through 12 bytes", () => {
  const rng = new Prng(77);
  const span = INSTANT_MAX_SECONDS - INSTANT_MIN_SECONDS + 1n;
  for (let i = 0; i < 3000; i++) {
    const r = (BigInt(rng.int(2 ** 32)) << 32n) | BigInt(rng.int(2 ** 32));
    const seconds = INSTANT_MIN_SECONDS + r % span;
    const nanos = [0, rng.int(1000) * 1_000_000, rng.int(1e9)][i % 3];
    const text = oracleInstantText(seconds, nanos);
    const hex = int64Hex(seconds) + nanos.toString(16).padStart(8, "0");
    assertEquals(toHex(serializeValue(inst, text)), hex, text);
    assertEquals(deserializeValue(inst, fromHex(hex)), text);
  }
});

Deno.test("instant: null marker both ways; reading normalizes nanos as Instant.ofEpochSecond", () => {
  assertEquals(toHex(serializeValue(inst, null)), "800000000000000080000000");
  assertEquals(deserializeValue(inst, fromHex("800000000000000080000000")), null);
  // Only the pair is null: Long.MIN_VALUE seconds alone is out of range.
  const e = assertThrows(
    () => deserializeValue(inst, fromHex("800000000000000000000000")),
    TypeDecodeError,
    "outside",
  );
  assertEquals(e.javaClassName, "java.time.DateTimeException");
  assertEquals(
    deserializeValue(inst, fromHex("0000000000000000" + "3b9aca01")),
    "1970-01-01T00:00:01.000000001Z",
  );
  assertEquals(
    deserializeValue(inst, fromHex("0000000000000000" + "ffffffff")),
    "1969-12-31T23:59:59.999999999Z",
  );
  assertThrows(
    () => deserializeValue(inst, fromHex(int64Hex(INSTANT_MAX_SECONDS + 1n) + "00000000")),
    TypeDecodeError,
    "outside",
  );
  assertThrows(() => deserializeValue(inst, fromHex("00000000000000000000")), ProtocolError);
});

Deno.test("instant: hashCode is (int)(s ^ s >>> 32) + 51 * nanos", () => {
  assertEquals(inst.hashCode("1970-01-01T00:00:00Z"), 0);
  assertEquals(inst.hashCode("1970-01-01T00:00:01.000000001Z"), 52);
  assertEquals(inst.hashCode("1969-12-31T23:59:59Z"), 0); // -1 ^ 0xffffffff → 0
  assertEquals(inst.hashCode("1969-12-31T23:59:59.999999999Z"), (51 * 999999999) | 0);
  // 2024-03-28T12:00:00Z = 1711627200 s (fits 31 bits)
  assertEquals(inst.hashCode("2024-03-28T12:00:00.123456789Z"), (1711627200 + 51 * 123456789) | 0);
  assertThrows(() => inst.hashCode(null), TypeValueError, "not usable as a key");
});

Deno.test("instant: bad strings are TypeValueErrors", () => {
  for (
    const bad of [
      "",
      "2024-13-01T00:00:00Z",
      "25:00",
      "1.2.3",
      "2024-03-28T12:00:00+01:00",
      "2024-03-28T12:00:00.1234567890Z",
    ]
  ) {
    assertThrows(() => serializeValue(inst, bad), TypeValueError);
  }
  assertThrows(
    () => serializeValue(inst, "2024-03-28T12:00:00.5Z"),
    TypeValueError,
    "2024-03-28T12:00:00.500Z",
  );
});
