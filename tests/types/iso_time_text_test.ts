/**
 * The ISO-8601 texts of the time descriptors: Java's `toString()` forms,
 * checked against an independent printer (the vector loader's oracle) over
 * seeded random moments, the calendar arithmetic over the whole range, and
 * strict parsing with typed errors.
 */

import { assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import {
  dateOfEpochDay,
  daysInMonth,
  epochDayOf,
  formatInstant,
  formatLocalDate,
  formatLocalDateTime,
  formatLocalTime,
  INSTANT_MAX_SECONDS,
  INSTANT_MIN_SECONDS,
  parseInstant,
  parseLocalDate,
  parseLocalDateTime,
  parseLocalTime,
} from "../../src/types/iso_time_text.ts";
import { TypeValueError } from "../../src/types/type_errors.ts";
import { oracleInstantText } from "./_vectors.ts";

function randomBigint(rng: Prng, min: bigint, max: bigint): bigint {
  const span = max - min + 1n;
  let r = 0n;
  for (let i = 0; i < 4; i++) r = (r << 32n) | BigInt(rng.int(2 ** 32));
  return min + r % span;
}

Deno.test("iso text: Instant.toString() forms (fraction groups, years, seconds always)", () => {
  assertEquals(formatInstant(0n, 0), "1970-01-01T00:00:00Z");
  assertEquals(formatInstant(0n, 100_000_000), "1970-01-01T00:00:00.100Z");
  assertEquals(formatInstant(0n, 120_000), "1970-01-01T00:00:00.000120Z");
  assertEquals(formatInstant(0n, 1), "1970-01-01T00:00:00.000000001Z");
  assertEquals(formatInstant(INSTANT_MIN_SECONDS, 0), "-1000000000-01-01T00:00:00Z");
  assertEquals(
    formatInstant(INSTANT_MAX_SECONDS, 999_999_999),
    "+1000000000-12-31T23:59:59.999999999Z",
  );
  assertEquals(formatInstant(253402300800n, 0), "+10000-01-01T00:00:00Z");
  assertEquals(formatInstant(253402300799n, 0), "9999-12-31T23:59:59Z");
  assertEquals(formatInstant(-62167219200n, 0), "0000-01-01T00:00:00Z");
  assertEquals(formatInstant(-62167219201n, 0), "-0001-12-31T23:59:59Z");
});

Deno.test("iso text: 2000 seeded random instants print as the oracle does and parse back", () => {
  const rng = new Prng(13_2024);
  for (let i = 0; i < 2000; i++) {
    const seconds = i % 2 === 0
      ? randomBigint(rng, INSTANT_MIN_SECONDS, INSTANT_MAX_SECONDS)
      : randomBigint(rng, -100_000_000_000n, 100_000_000_000n);
    const nanos = [0, rng.int(1000) * 1_000_000, rng.int(1_000_000) * 1000, rng.int(1e9)][i % 4];
    const text = formatInstant(seconds, nanos);
    assertEquals(text, oracleInstantText(seconds, nanos), `${seconds}/${nanos}`);
    assertEquals(parseInstant(text), { seconds, nanos }, text);
  }
});

Deno.test("iso text: epoch days and dates agree over consecutive days and the whole LocalDate range", () => {
  let prev = dateOfEpochDay(-800_000n);
  for (let d = -800_000n + 1n; d < -800_000n + 1500n; d++) {
    const date = dateOfEpochDay(d);
    assertEquals(epochDayOf(date), d);
    const nextDay = prev.day < daysInMonth(prev.year, prev.month)
      ? { ...prev, day: prev.day + 1 }
      : prev.month < 12
      ? { year: prev.year, month: prev.month + 1, day: 1 }
      : { year: prev.year + 1, month: 1, day: 1 };
    assertEquals(date, nextDay);
    prev = date;
  }
  const rng = new Prng(7);
  for (let i = 0; i < 1000; i++) {
    const year = rng.int(1_999_999_999) - 999_999_999;
    const month = 1 + rng.int(12);
    const day = 1 + rng.int(daysInMonth(year, month));
    const date = { year, month, day };
    assertEquals(dateOfEpochDay(epochDayOf(date)), date);
    assertEquals(parseLocalDate(formatLocalDate(date)), date);
  }
  assertEquals(
    epochDayOf({ year: 2000, month: 3, day: 1 }) - epochDayOf({ year: 2000, month: 2, day: 28 }),
    2n,
  );
  assertEquals(
    epochDayOf({ year: 1900, month: 3, day: 1 }) - epochDayOf({ year: 1900, month: 2, day: 28 }),
    1n,
  );
});

Deno.test("iso text: LocalTime and LocalDateTime forms and random round trips", () => {
  assertEquals(formatLocalTime({ hour: 0, minute: 0, second: 0, nano: 0 }), "00:00");
  assertEquals(
    formatLocalTime({ hour: 23, minute: 59, second: 0, nano: 1_000_000 }),
    "23:59:00.001",
  );
  assertEquals(formatLocalTime({ hour: 9, minute: 5, second: 7, nano: 0 }), "09:05:07");
  assertEquals(
    formatLocalDateTime({ year: 2024, month: 3, day: 28 }, {
      hour: 12,
      minute: 0,
      second: 0,
      nano: 123456789,
    }),
    "2024-03-28T12:00:00.123456789",
  );
  const rng = new Prng(99);
  for (let i = 0; i < 1000; i++) {
    const time = {
      hour: rng.int(24),
      minute: rng.int(60),
      second: rng.int(3) === 0 ? 0 : rng.int(60),
      nano: [0, rng.int(1000) * 1_000_000, rng.int(1_000_000) * 1000, rng.int(1e9)][i % 4],
    };
    assertEquals(parseLocalTime(formatLocalTime(time)), time);
    const date = { year: rng.int(20000) - 10000, month: 1 + rng.int(12), day: 1 + rng.int(28) };
    assertEquals(parseLocalDateTime(formatLocalDateTime(date, time)), { date, time });
  }
});

Deno.test("iso text: bad texts are TypeValueErrors saying what is wrong", () => {
  const bad: [() => unknown, string][] = [
    [() => parseLocalDate("2024-13-01"), "month 13"],
    [() => parseLocalDate("2023-02-29"), "day 29"],
    [() => parseLocalDate("2024-3-28"), "is not a LocalDate text"],
    [() => parseLocalDate(""), "is not a LocalDate text"],
    [() => parseLocalDate("10000-01-01"), '"+10000-01-01"'],
    [() => parseLocalDate("+2024-01-01"), '"2024-01-01"'],
    [() => parseLocalDate("+1000000000-01-01"), "year 1000000000"],
    [() => parseLocalDate(20240328 as unknown as string), "got number"],
    [() => parseLocalTime("25:00"), "hour 25"],
    [() => parseLocalTime("12:60"), "minute 60"],
    [() => parseLocalTime("12:00:00"), '"12:00"'],
    [() => parseLocalTime("12:00:00.5"), '"12:00:00.500"'],
    [() => parseLocalTime("12:00:01.1234567891"), "is not a LocalTime text"],
    [() => parseLocalDateTime("2024-03-28 12:00"), "is not a LocalDateTime text"],
    [() => parseInstant("2024-03-28T12:00Z"), '"2024-03-28T12:00:00Z"'],
    [() => parseInstant("2024-03-28T12:00:00"), "is not an Instant text"],
    [() => parseInstant("2024-03-28T12:00:00.000Z"), '"2024-03-28T12:00:00Z"'],
    [() => parseInstant("+1000000001-01-01T00:00:00Z"), "outside"],
    [
      () =>
        parseInstant("-1000000000-01-01T00:00:00Z") && parseInstant("-1000000001-12-31T23:59:59Z"),
      "outside",
    ],
    [() => parseInstant("2024-02-30T00:00:00Z"), "day 30"],
  ];
  for (const [fn, text] of bad) assertThrows(fn, TypeValueError, text);
  assertEquals(parseInstant("-1000000000-01-01T00:00:00Z").seconds, INSTANT_MIN_SECONDS);
  assertEquals(parseInstant("+1000000000-12-31T23:59:59.999999999Z").seconds, INSTANT_MAX_SECONDS);
});
