/**
 * `java.time.Instant` as a descriptor (Flink's `InstantSerializer`).
 *
 * JS value: an ISO-8601 UTC string as Java's `Instant.toString()` prints
 * it (`"2024-03-28T12:00:00.123456789Z"`, `"-1000000000-01-01T00:00:00Z"`),
 * or `null`. Bytes: the long epoch seconds, then the int nanos; null is
 * `(Long.MIN_VALUE, Integer.MIN_VALUE)`. Reading normalizes as
 * `Instant.ofEpochSecond(seconds, nanos)` does (nanos outside 0..999999999
 * carry into the seconds) and refuses moments outside
 * `Instant.MIN..Instant.MAX`, as Java does.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import {
  formatInstant,
  INSTANT_MAX_SECONDS,
  INSTANT_MIN_SECONDS,
  parseInstant,
} from "./iso_time_text.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "./type_errors.ts";

const NULL_SECONDS = -(1n << 63n);
const NULL_NANOS = -2147483648;
const NANOS_PER_SECOND = 1_000_000_000;

/**
 * `java.time.Instant` (`InstantSerializer`): an ISO-8601 UTC string, or
 * `null`. Its hash code is `Instant.hashCode()`:
 * `(int) (seconds ^ (seconds >>> 32)) + 51 * nanos`.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.instant, "1969-12-31T23:59:59.999999999Z"));
 * // => "ffffffffffffffff3b9ac9ff"
 * deserializeValue(types.instant, fromHex("800000000000000080000000")); // => null
 * types.instant.hashCode("1970-01-01T00:00:01.000000001Z"); // => 52
 * ```
 */
export const INSTANT_TYPE: TypeDescriptor<string | null> = Object.freeze({
  name: "instant",
  kind: "instant" as const,
  text: "instant",
  serialize(value: string | null, out: ByteWriter): void {
    if (value === null) {
      out.writeInt64(NULL_SECONDS);
      out.writeInt32(NULL_NANOS);
      return;
    }
    const { seconds, nanos } = parseInstant(value);
    out.writeInt64(seconds);
    out.writeInt32(nanos);
  },
  deserialize(input: ByteReader): string | null {
    const rawSeconds = input.readInt64();
    const rawNanos = input.readInt32();
    if (rawSeconds === NULL_SECONDS && rawNanos === NULL_NANOS) return null;
    const carry = Math.floor(rawNanos / NANOS_PER_SECOND);
    const seconds = carry === 0 ? rawSeconds : rawSeconds + BigInt(carry);
    if (seconds < INSTANT_MIN_SECONDS || seconds > INSTANT_MAX_SECONDS) {
      throw new TypeDecodeError(
        `Instant of epoch second ${seconds} is outside Instant.MIN..Instant.MAX`,
        undefined,
        "java.time.DateTimeException",
      );
    }
    return formatInstant(seconds, rawNanos - carry * NANOS_PER_SECOND);
  },
  hashCode(value: string | null): number {
    if (value === null) {
      throw new TypeValueError("a null Instant is not usable as a key (it has no hashCode())");
    }
    const { seconds, nanos } = parseInstant(value);
    const folded = Number(BigInt.asIntN(32, seconds ^ (BigInt.asUintN(64, seconds) >> 32n)));
    return (folded + Math.imul(51, nanos)) | 0;
  },
});
