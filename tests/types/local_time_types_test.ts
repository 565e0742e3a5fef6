/**
 * `types.localdate`, `types.localtime`, `types.localdatetime`: Java's
 * `toString()` texts both ways, the null sentinels, validation on read
 * (`LocalDate.of` / `LocalTime.of`), hash codes, seeded round trips, bad
 * strings and bad bytes.
 */

import { assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { daysInMonth, formatLocalDate, formatLocalTime } from "../../src/types/iso_time_text.ts";
import {
  LOCAL_DATE_TIME_TYPE,
  LOCAL_DATE_TYPE,
  LOCAL_TIME_TYPE,
} from "../../src/types/local_time_types.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

const hex8 = (n: number) => (n & 0xff).toString(16).padStart(2, "0");
const hex32 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

Deno.test("local*: are the types members, frozen", () => {
  assertEquals(types.localdate, LOCAL_DATE_TYPE);
  assertEquals(types.localtime, LOCAL_TIME_TYPE);
  assertEquals(types.localdatetime, LOCAL_DATE_TIME_TYPE);
  for (const d of [types.localdate, types.localtime, types.localdatetime]) {
    assertEquals([d.kind, d.name], [d.text, d.text]);
    assertEquals(Object.isFrozen(d), true);
  }
});

Deno.test("local*: seeded random values round trip to the exact bytes", () => {
  const rng = new Prng(555);
  for (let i = 0; i < 2000; i++) {
    const year = i % 2 ? rng.int(1_999_999_999) - 999_999_999 : rng.int(4000);
    const month = 1 + rng.int(12);
    const day = 1 + rng.int(daysInMonth(year, month));
    const date = formatLocalDate({ year, month, day });
    const dateHex = hex32(year) + hex8(month) + hex8(day);
    assertEquals(toHex(serializeValue(types.localdate, date)), dateHex, date);
    assertEquals(deserializeValue(types.localdate, fromHex(dateHex)), date);
    const t = {
      hour: rng.int(24),
      minute: rng.int(60),
      second: rng.int(60),
      nano: [0, rng.int(1e9)][i % 2],
    };
    const time = formatLocalTime(t);
    const timeHex = hex8(t.hour) + hex8(t.minute) + hex8(t.second) + hex32(t.nano);
    assertEquals(toHex(serializeValue(types.localtime, time)), timeHex, time);
    assertEquals(deserializeValue(types.localtime, fromHex(timeHex)), time);
    const dt = `${date}T${time}`;
    assertEquals(toHex(serializeValue(types.localdatetime, dt)), dateHex + timeHex);
    assertEquals(deserializeValue(types.localdatetime, fromHex(dateHex + timeHex)), dt);
  }
});

Deno.test("local*: null sentinels both ways; exactly one null half is an error", () => {
  assertEquals(toHex(serializeValue(types.localdate, null)), "800000008000");
  assertEquals(toHex(serializeValue(types.localtime, null)), "80800080000000");
  assertEquals(toHex(serializeValue(types.localdatetime, null)), "80000000800080800080000000");
  assertEquals(deserializeValue(types.localdate, fromHex("800000000000")), null); // any short after the year
  assertEquals(deserializeValue(types.localtime, fromHex("80000000000000")), null);
  assertThrows(
    () => deserializeValue(types.localdatetime, fromHex("800000008000" + "00000000000000")),
    TypeDecodeError,
    "Exactly one",
  );
  assertThrows(
    () => deserializeValue(types.localdatetime, fromHex("000007b20101" + "80800080000000")),
    TypeDecodeError,
    "Exactly one",
  );
});

Deno.test("local*: invalid fields in the bytes are DateTimeExceptions", () => {
  const cases: [typeof types.localdate, string, string][] = [
    [types.localdate, "000007e80d01", "month 13"],
    [types.localdate, "000007e7021d", "day 29"],
    [types.localdate, "3b9aca000101", "year 1000000000"],
    [types.localtime, "18000000000000", "hour 24"],
    [types.localtime, "ff000000000000", "hour -1"],
    [types.localtime, "003c0000000000", "minute 60"],
    [types.localtime, "00003c00000000", "second 60"],
    [types.localtime, "0000003b9aca00", "nano 1000000000"],
  ];
  for (const [d, hex, text] of cases) {
    const e = assertThrows(() => deserializeValue(d, fromHex(hex)), TypeDecodeError, text);
    assertEquals(e.javaClassName, "java.time.DateTimeException");
  }
  assertThrows(() => deserializeValue(types.localdate, fromHex("000007e803")), ProtocolError);
  assertThrows(() => deserializeValue(types.localtime, fromHex("0c2238")), ProtocolError);
});

Deno.test("local*: hash codes are Java's", () => {
  // LocalDate: (y & 0xFFFFF800) ^ ((y << 11) + (m << 6) + d)
  assertEquals(types.localdate.hashCode("1970-01-01"), 1970 * 2048 + 64 + 1);
  assertEquals(
    types.localdate.hashCode("2024-03-28"),
    (2024 & 0xfffff800) ^ (2024 * 2048 + 3 * 64 + 28),
  );
  assertEquals(
    types.localdate.hashCode("-0001-12-31"),
    (-1 & 0xfffff800) ^ ((-1 << 11) + 12 * 64 + 31),
  );
  // LocalTime: Long.hashCode(nanoOfDay)
  assertEquals(types.localtime.hashCode("00:00:01"), 1_000_000_000);
  const nod = (23n * 3600n + 59n * 60n + 59n) * 1_000_000_000n + 999_999_999n;
  assertEquals(
    types.localtime.hashCode("23:59:59.999999999"),
    Number(BigInt.asIntN(32, nod ^ (nod >> 32n))),
  );
  // LocalDateTime: date hash ^ time hash
  assertEquals(
    types.localdatetime.hashCode("1970-01-01T00:00:01"),
    (1970 * 2048 + 65) ^ 1_000_000_000,
  );
  for (const d of [types.localdate, types.localtime, types.localdatetime]) {
    assertThrows(() => d.hashCode(null), TypeValueError, "not usable as a key");
  }
});

Deno.test("local*: bad strings are TypeValueErrors", () => {
  const bad: [typeof types.localdate, string][] = [
    [types.localdate, "2024-13-01"],
    [types.localdate, ""],
    [types.localdate, "1.2.3"],
    [types.localdate, "2024-02-30"],
    [types.localtime, "25:00"],
    [types.localtime, ""],
    [types.localtime, "1.2.3"],
    [types.localtime, "12:00:00"],
    [types.localdatetime, "2024-13-01T00:00"],
    [types.localdatetime, "2024-03-28T25:00"],
    [types.localdatetime, "2024-03-28"],
    [types.localdatetime, ""],
  ];
  for (const [d, text] of bad) {
    assertThrows(() => serializeValue(d, text), TypeValueError, undefined);
  }
  assertThrows(
    () => serializeValue(types.localtime, 5 as unknown as string),
    TypeValueError,
    "got number",
  );
});
