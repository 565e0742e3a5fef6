/**
 * `types.date` (DateSerializer) and `types.timestamp`
 * (SqlTimestampSerializer): ISO texts both ways, the null markers and the
 * timestamp's 12-written/8-read null, hash codes, seeded round trips,
 * bad strings and bad bytes.
 */

import { assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { ByteReader, fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { longHashCode } from "../../src/wire/java_hash_code.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { DATE_TYPE, TIMESTAMP_TYPE } from "../../src/types/date_types.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import { oracleInstantText } from "./_vectors.ts";

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}
function millisText(ms: bigint): string {
  const s = floorDiv(ms, 1000n);
  return oracleInstantText(s, Number(ms - s * 1000n) * 1_000_000);
}
function int64Hex(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, "0");
}

Deno.test("date, timestamp: are the types members, frozen, with kind and text", () => {
  assertEquals(types.date, DATE_TYPE);
  assertEquals(types.timestamp, TIMESTAMP_TYPE);
  for (const d of [types.date, types.timestamp]) {
    assertEquals([d.kind, d.name], [d.text, d.text]);
    assertEquals(Object.isFrozen(d), true);
  }
});

Deno.test("date: epoch millis as ISO text; Long.MIN_VALUE is null both ways", () => {
  assertEquals(deserializeValue(types.date, fromHex("0000000000000000")), "1970-01-01T00:00:00Z");
  assertEquals(
    deserializeValue(types.date, fromHex("7fffffffffffffff")),
    "+292278994-08-17T07:12:55.807Z",
  );
  assertEquals(
    deserializeValue(types.date, fromHex("8000000000000001")),
    "-292275055-05-16T16:47:04.193Z",
  );
  assertEquals(
    toHex(serializeValue(types.date, "-292275055-05-16T16:47:04.193Z")),
    "8000000000000001",
  );
  assertEquals(toHex(serializeValue(types.date, null)), "8000000000000000");
  assertEquals(deserializeValue(types.date, fromHex("8000000000000000")), null);
  // The instant of Long.MIN_VALUE ms would read back as null: refused.
  assertThrows(
    () => serializeValue(types.date, "-292275055-05-16T16:47:04.192Z"),
    TypeValueError,
    "null marker",
  );
  assertThrows(
    () => serializeValue(types.date, "+292278994-08-17T07:12:55.808Z"),
    TypeValueError,
    "outside the range",
  );
  assertThrows(
    () => serializeValue(types.date, "1970-01-01T00:00:00.000001Z"),
    TypeValueError,
    "sub-millisecond",
  );
});

Deno.test("date: 2000 seeded random millis round trip, hash = Long.hashCode(millis)", () => {
  const rng = new Prng(2026);
  for (let i = 0; i < 2000; i++) {
    let ms = (BigInt(rng.int(2 ** 32)) << 32n) | BigInt(rng.int(2 ** 32));
    ms = BigInt.asIntN(64, ms);
    if (i % 3 === 0) ms = ms >> 20n; // near the epoch too
    if (ms === LONG_MIN) continue;
    const hex = int64Hex(ms);
    const text = deserializeValue(types.date, fromHex(hex));
    assertEquals(text, millisText(ms), hex);
    assertEquals(toHex(serializeValue(types.date, text)), hex);
    assertEquals(types.date.hashCode(text), longHashCode(ms));
  }
  assertEquals(types.date.hashCode("1970-01-01T00:00:00.001Z"), 1);
  assertEquals(types.date.hashCode("1969-12-31T23:59:59.999Z"), 0); // -1 ^ (-1 >>> 32)
  assertThrows(() => types.date.hashCode(null), TypeValueError, "not usable as a key");
  void LONG_MAX;
});

Deno.test("timestamp: 12 bytes (getTime(), getNanos()); text to the nanosecond", () => {
  assertEquals(
    toHex(serializeValue(types.timestamp, "2024-03-28T12:00:00.123456789Z")),
    "0000018e84ee667b075bcd15",
  );
  assertEquals(
    toHex(serializeValue(types.timestamp, "1969-12-31T23:59:59.999Z")),
    "ffffffffffffffff3b8b87c0",
  );
  assertEquals(
    toHex(serializeValue(types.timestamp, "1969-12-31T23:59:59.999999999Z")),
    "ffffffffffffffff3b9ac9ff",
  );
  // Reading keeps the whole seconds of the millis and the nanos (new Timestamp(ms).setNanos(n)).
  assertEquals(
    deserializeValue(types.timestamp, fromHex("00000000000003e7" + "00000005")),
    "1970-01-01T00:00:00.000000005Z",
  );
  assertEquals(
    deserializeValue(types.timestamp, fromHex("fffffffffffffc18" + "00000000")),
    "1969-12-31T23:59:59Z",
  );
});

Deno.test("timestamp: null is written as 12 bytes and read as 8, as Flink does", () => {
  assertEquals(toHex(serializeValue(types.timestamp, null)), "800000000000000000000000");
  const r = new ByteReader(fromHex("800000000000000000000000"));
  assertEquals(types.timestamp.deserialize(r), null);
  assertEquals(r.offset, 8);
  assertThrows(
    () => deserializeValue(types.timestamp, fromHex("800000000000000000000000")),
    ProtocolError,
    "Unconsumed",
  );
  assertEquals(deserializeValue(types.timestamp, fromHex("8000000000000000")), null);
});

Deno.test("timestamp: random round trips; hash = Long.hashCode(getTime()); bad nanos", () => {
  const rng = new Prng(31);
  for (let i = 0; i < 2000; i++) {
    const seconds = BigInt(rng.int(2 ** 40)) - (1n << 39n);
    const nanos = [0, rng.int(1000) * 1_000_000, rng.int(1e9)][i % 3];
    const text = oracleInstantText(seconds, nanos);
    const bytes = serializeValue(types.timestamp, text);
    const millis = seconds * 1000n + BigInt(Math.floor(nanos / 1e6));
    assertEquals(toHex(bytes), int64Hex(millis) + nanos.toString(16).padStart(8, "0"));
    assertEquals(deserializeValue(types.timestamp, bytes), text);
    assertEquals(types.timestamp.hashCode(text), longHashCode(millis));
  }
  const e = assertThrows(
    () => deserializeValue(types.timestamp, fromHex("0000000000000000" + "3b9aca00")),
    TypeDecodeError,
    "nanos 1000000000",
  );
  assertEquals(e.javaClassName, "java.lang.IllegalArgumentException");
  assertThrows(
    () => deserializeValue(types.timestamp, fromHex("0000000000000000" + "ffffffff")),
    TypeDecodeError,
    "nanos -1",
  );
});

Deno.test("date, timestamp: bad strings are TypeValueErrors", () => {
  for (const d of [types.date, types.timestamp]) {
    for (
      const bad of [
        "",
        "2024-13-01T00:00:00Z",
        "2024-03-28",
        "2024-03-28T25:00:00Z",
        "1.2.3",
        "now",
      ]
    ) {
      assertThrows(() => serializeValue(d, bad), TypeValueError);
    }
    assertThrows(() => serializeValue(d, 0 as unknown as string), TypeValueError, "got number");
  }
});
