/**
 * `java.time.LocalDate`, `LocalTime` and `LocalDateTime` as descriptors
 * (Flink's `LocalDateSerializer`, `LocalTimeSerializer`,
 * `LocalDateTimeSerializer`, used with `Types.LOCAL_DATE` / `LOCAL_TIME` /
 * `LOCAL_DATE_TIME`, e.g. from the Table API).
 *
 * JS values: strings as Java's `toString()` prints them (`"2024-03-28"`,
 * `"12:34:56.789"`, `"2024-03-28T12:00"`, see `iso_time_text.ts`), or
 * `null`.
 *
 * | type            | bytes                                             | null                                 |
 * |-----------------|---------------------------------------------------|--------------------------------------|
 * | `localdate`     | int year, byte month, byte day (6)                | int `MIN_VALUE`, short `MIN_VALUE`    |
 * | `localtime`     | byte hour, byte minute, byte second, int nano (7) | byte -128, short `MIN_VALUE`, int `MIN_VALUE` |
 * | `localdatetime` | the date, then the time (13)                      | both nulls; exactly one is an error   |
 *
 * Reading validates as `LocalDate.of` / `LocalTime.of` do
 * (`java.time.DateTimeException`).
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import {
  daysInMonth,
  formatLocalDate,
  formatLocalDateTime,
  formatLocalTime,
  LOCAL_DATE_MAX_YEAR,
  type LocalDateParts,
  type LocalTimeParts,
  parseLocalDate,
  parseLocalDateTime,
  parseLocalTime,
} from "./iso_time_text.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "./type_errors.ts";

const INT_MIN = -2147483648;
const SHORT_MIN = -32768;
const BYTE_MIN = -128;

function invalid(problem: string): TypeDecodeError {
  return new TypeDecodeError(problem, undefined, "java.time.DateTimeException");
}

function nullKey(javaType: string): TypeValueError {
  return new TypeValueError(`a null ${javaType} is not usable as a key (it has no hashCode())`);
}

function writeDate(date: LocalDateParts | null, out: ByteWriter): void {
  if (date === null) {
    out.writeInt32(INT_MIN);
    out.writeInt16(SHORT_MIN);
    return;
  }
  out.writeInt32(date.year);
  out.writeUint8(date.month);
  out.writeUint8(date.day);
}

function readDate(input: ByteReader): LocalDateParts | null {
  const year = input.readInt32();
  if (year === INT_MIN) {
    input.readInt16();
    return null;
  }
  const month = input.readInt8();
  const day = input.readInt8();
  if (year < -LOCAL_DATE_MAX_YEAR || year > LOCAL_DATE_MAX_YEAR) {
    throw invalid(
      `LocalDate year ${year} is outside ${-LOCAL_DATE_MAX_YEAR}..${LOCAL_DATE_MAX_YEAR}`,
    );
  }
  if (month < 1 || month > 12) throw invalid(`LocalDate month ${month} is not in 1..12`);
  if (day < 1 || day > daysInMonth(year, month)) {
    throw invalid(
      `LocalDate day ${day} is not in 1..${daysInMonth(year, month)} for ${year}-${month}`,
    );
  }
  return { year, month, day };
}

function writeTime(time: LocalTimeParts | null, out: ByteWriter): void {
  if (time === null) {
    out.writeUint8(BYTE_MIN & 0xff);
    out.writeInt16(SHORT_MIN);
    out.writeInt32(INT_MIN);
    return;
  }
  out.writeUint8(time.hour);
  out.writeUint8(time.minute);
  out.writeUint8(time.second);
  out.writeInt32(time.nano);
}

function readTime(input: ByteReader): LocalTimeParts | null {
  const hour = input.readInt8();
  if (hour === BYTE_MIN) {
    input.readInt16();
    input.readInt32();
    return null;
  }
  const minute = input.readInt8();
  const second = input.readInt8();
  const nano = input.readInt32();
  if (hour < 0 || hour > 23) throw invalid(`LocalTime hour ${hour} is not in 0..23`);
  if (minute < 0 || minute > 59) throw invalid(`LocalTime minute ${minute} is not in 0..59`);
  if (second < 0 || second > 59) throw invalid(`LocalTime second ${second} is not in 0..59`);
  if (nano < 0 || nano > 999_999_999) {
    throw invalid(`LocalTime nano ${nano} is not in 0..999999999`);
  }
  return { hour, minute, second, nano };
}

function dateHashCode(d: LocalDateParts): number {
  return (d.year & 0xfffff800) ^ (((d.year << 11) + (d.month << 6) + d.day) | 0);
}

function timeHashCode(t: LocalTimeParts): number {
  const nanoOfDay = BigInt(t.hour * 3600 + t.minute * 60 + t.second) * 1_000_000_000n +
    BigInt(t.nano);
  return Number(BigInt.asIntN(32, nanoOfDay ^ (nanoOfDay >> 32n)));
}

/**
 * `java.time.LocalDate` (`LocalDateSerializer`): `"2024-03-28"` or `null`.
 * Its hash code is `LocalDate.hashCode()`:
 * `(year & 0xFFFFF800) ^ ((year << 11) + (month << 6) + day)`.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.localdate, "2024-03-28")); // => "000007e8031c"
 * deserializeValue(types.localdate, fromHex("ffffffff0c1f")); // => "-0001-12-31"
 * deserializeValue(types.localdate, fromHex("800000008000")); // => null
 * types.localdate.hashCode("1970-01-01"); // => 4034625
 * ```
 */
export const LOCAL_DATE_TYPE: TypeDescriptor<string | null> = Object.freeze({
  name: "localdate",
  kind: "localdate" as const,
  text: "localdate",
  serialize(value: string | null, out: ByteWriter): void {
    writeDate(value === null ? null : parseLocalDate(value), out);
  },
  deserialize(input: ByteReader): string | null {
    const date = readDate(input);
    return date === null ? null : formatLocalDate(date);
  },
  hashCode(value: string | null): number {
    if (value === null) throw nullKey("LocalDate");
    return dateHashCode(parseLocalDate(value));
  },
});

/**
 * `java.time.LocalTime` (`LocalTimeSerializer`): `"12:34:56.789"` or
 * `null`. Its hash code is `LocalTime.hashCode()`: that of the `long`
 * nano of day.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.localtime, "12:34:56.789")); // => "0c22382f072f40"
 * deserializeValue(types.localtime, fromHex("00000000000000")); // => "00:00"
 * types.localtime.hashCode("00:00:01"); // => 1000000000
 * ```
 */
export const LOCAL_TIME_TYPE: TypeDescriptor<string | null> = Object.freeze({
  name: "localtime",
  kind: "localtime" as const,
  text: "localtime",
  serialize(value: string | null, out: ByteWriter): void {
    writeTime(value === null ? null : parseLocalTime(value), out);
  },
  deserialize(input: ByteReader): string | null {
    const time = readTime(input);
    return time === null ? null : formatLocalTime(time);
  },
  hashCode(value: string | null): number {
    if (value === null) throw nullKey("LocalTime");
    return timeHashCode(parseLocalTime(value));
  },
});

/**
 * `java.time.LocalDateTime` (`LocalDateTimeSerializer`):
 * `"2024-03-28T12:00:00.123456789"` or `null`. Its hash code is
 * `LocalDateTime.hashCode()`: the date's hash XOR the time's.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.localdatetime, "1970-01-01T00:00")); // => "000007b2010100000000000000"
 * deserializeValue(types.localdatetime, fromHex("80000000800080800080000000")); // => null
 * types.localdatetime.hashCode("1970-01-01T00:00"); // => 4034625
 * ```
 */
export const LOCAL_DATE_TIME_TYPE: TypeDescriptor<string | null> = Object.freeze({
  name: "localdatetime",
  kind: "localdatetime" as const,
  text: "localdatetime",
  serialize(value: string | null, out: ByteWriter): void {
    if (value === null) {
      writeDate(null, out);
      writeTime(null, out);
      return;
    }
    const { date, time } = parseLocalDateTime(value);
    writeDate(date, out);
    writeTime(time, out);
  },
  deserialize(input: ByteReader): string | null {
    const date = readDate(input);
    const time = readTime(input);
    if (date === null && time === null) return null;
    if (date === null || time === null) {
      throw new TypeDecodeError("Exactly one of LocalDate and LocalTime is null");
    }
    return formatLocalDateTime(date, time);
  },
  hashCode(value: string | null): number {
    if (value === null) throw nullKey("LocalDateTime");
    const { date, time } = parseLocalDateTime(value);
    return dateHashCode(date) ^ timeHashCode(time);
  },
});
