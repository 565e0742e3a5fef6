/**
 * `java.util.Date` and `java.sql.Timestamp` as descriptors (Flink's
 * `DateSerializer` and `SqlTimestampSerializer`).
 *
 * JS value: the moment as an ISO-8601 UTC string, as Java's
 * `Instant.toString()` prints it (`"2024-03-28T12:00:00.123Z"`; see
 * `iso_time_text.ts`), or `null`.
 *
 * - `date`: 8 bytes, the epoch milliseconds; `Long.MIN_VALUE` is null (so
 *   `new Date(Long.MIN_VALUE)` reads back as null, as in Flink). Writing
 *   takes an instant of whole milliseconds within the long range.
 * - `timestamp`: 12 bytes, `getTime()` (epoch milliseconds, the
 *   milliseconds of the nanos included) then `getNanos()` (0..999999999).
 *   A null is written as 12 bytes (`Long.MIN_VALUE`, int 0), but reading a
 *   null consumes only the first 8, exactly as Flink's deserializer does:
 *   a null timestamp followed by other bytes (a tuple field, a list
 *   element) misaligns what follows in Flink and here alike. Reading uses
 *   the whole seconds of the milliseconds and the nanos, as
 *   `new Timestamp(millis).setNanos(nanos)` does.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import { longHashCode } from "../wire/java_hash_code.ts";
import { floorDiv, formatInstant, type InstantParts, parseInstant } from "./iso_time_text.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "./type_errors.ts";

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;

/** Epoch milliseconds as `getTime()` gives them, checked against the long range and the null marker. */
function millisOf(instant: InstantParts, text: string, javaType: string): bigint {
  const millis = instant.seconds * 1000n + BigInt(Math.floor(instant.nanos / 1_000_000));
  if (millis < LONG_MIN || millis > LONG_MAX) {
    throw new TypeValueError(`${JSON.stringify(text)} is outside the range of a ${javaType}`);
  }
  if (millis === LONG_MIN) {
    throw new TypeValueError(
      `${
        JSON.stringify(text)
      } is epoch millisecond Long.MIN_VALUE, the ${javaType} serializer's null marker`,
    );
  }
  return millis;
}

function instantOfMillis(millis: bigint): string {
  const seconds = floorDiv(millis, 1000n);
  return formatInstant(seconds, Number(millis - seconds * 1000n) * 1_000_000);
}

function dateMillis(value: string): bigint {
  const instant = parseInstant(value);
  if (instant.nanos % 1_000_000 !== 0) {
    throw new TypeValueError(
      `${JSON.stringify(value)} has sub-millisecond digits; a java.util.Date holds milliseconds`,
    );
  }
  return millisOf(instant, value, "java.util.Date");
}

function nullKey(javaType: string): TypeValueError {
  return new TypeValueError(`a null ${javaType} is not usable as a key (it has no hashCode())`);
}

/**
 * `java.util.Date` (`DateSerializer`): an ISO-8601 UTC string of whole
 * milliseconds (`"2024-03-28T12:00:00.123Z"`), or `null`. Its hash code is
 * `Date.hashCode()`: that of the `long` epoch milliseconds.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.date, "1969-12-31T23:59:59.999Z")); // => "ffffffffffffffff"
 * deserializeValue(types.date, fromHex("0000018e84ee667b")); // => "2024-03-28T12:00:00.123Z"
 * deserializeValue(types.date, fromHex("8000000000000000")); // => null
 * types.date.hashCode("1970-01-01T00:00:01Z"); // => 1000
 * ```
 */
export const DATE_TYPE: TypeDescriptor<string | null> = Object.freeze({
  name: "date",
  kind: "date" as const,
  text: "date",
  serialize(value: string | null, out: ByteWriter): void {
    out.writeInt64(value === null ? LONG_MIN : dateMillis(value));
  },
  deserialize(input: ByteReader): string | null {
    const millis = input.readInt64();
    return millis === LONG_MIN ? null : instantOfMillis(millis);
  },
  hashCode(value: string | null): number {
    if (value === null) throw nullKey("java.util.Date");
    return longHashCode(dateMillis(value));
  },
});

/**
 * `java.sql.Timestamp` (`SqlTimestampSerializer`): an ISO-8601 UTC string
 * to the nanosecond (`"2024-03-28T12:00:00.123456789Z"`), or `null`. Its
 * hash code is `Timestamp.hashCode()`: that of the `long` `getTime()`
 * (whole milliseconds; the finer nanos are left out, as in Java). See the
 * module doc for how a null is read (8 of its 12 bytes, as Flink does).
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { ByteReader, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.timestamp, "2024-03-28T12:00:00.123456789Z"));
 * // => "0000018e84ee667b075bcd15"
 * toHex(serializeValue(types.timestamp, null)); // => "800000000000000000000000"
 * const r = new ByteReader(fromHex("800000000000000000000000"));
 * types.timestamp.deserialize(r); // => null
 * r.remaining; // => 4
 * ```
 */
export const TIMESTAMP_TYPE: TypeDescriptor<string | null> = Object.freeze({
  name: "timestamp",
  kind: "timestamp" as const,
  text: "timestamp",
  serialize(value: string | null, out: ByteWriter): void {
    if (value === null) {
      out.writeInt64(LONG_MIN);
      out.writeInt32(0);
      return;
    }
    const instant = parseInstant(value);
    out.writeInt64(millisOf(instant, value, "java.sql.Timestamp"));
    out.writeInt32(instant.nanos);
  },
  deserialize(input: ByteReader): string | null {
    const millis = input.readInt64();
    if (millis === LONG_MIN) return null; // Flink reads no nanos for a null
    const nanos = input.readInt32();
    if (nanos < 0 || nanos > 999_999_999) {
      throw new TypeDecodeError(
        `Timestamp nanos ${nanos} is outside 0..999999999`,
        undefined,
        "java.lang.IllegalArgumentException",
      );
    }
    return formatInstant(floorDiv(millis, 1000n), nanos);
  },
  hashCode(value: string | null): number {
    if (value === null) throw nullKey("java.sql.Timestamp");
    return longHashCode(millisOf(parseInstant(value), value, "java.sql.Timestamp"));
  },
});
