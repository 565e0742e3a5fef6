/**
 * `java.math.BigInteger` as a descriptor (Flink's `BigIntSerializer`), and
 * the BigInteger bytes `decimal` shares.
 *
 * Bytes: an int code, `0` = null, `1` / `2` / `3` = `BigInteger.ZERO` /
 * `ONE` / `TEN`, otherwise `4 + n` followed by the `n` bytes of
 * `toByteArray()` (minimal big-endian two's complement). Java picks codes
 * 1..3 only for the JDK's constant objects, so the values 0, 1 and 10 have
 * two encodings; this encoder writes the codes (what `BigInteger.valueOf`
 * values, i.e. almost every Java value, give) and the decoder reads both.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "./type_errors.ts";

const CODE_NULL = 0;
const CODE_ZERO = 1;
const CODE_ONE = 2;
const CODE_TEN = 3;
const CODE_OFFSET = 4;

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return v === null ? "null" : typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}

/**
 * Checks a `biginteger` JS value: a bigint (or `null` when `allowNull`).
 *
 * @example
 * ```ts
 * import { checkBigInteger } from "./big_integer_type.ts";
 *
 * checkBigInteger(5n, false); // => 5n
 * ```
 *
 * @param value The value.
 * @param allowNull Whether `null` is accepted.
 * @returns The value.
 * @throws {TypeValueError} Anything else.
 */
export function checkBigInteger(value: unknown, allowNull: boolean): bigint | null {
  if (typeof value === "bigint" || (allowNull && value === null)) return value as bigint | null;
  throw new TypeValueError(
    `expected a bigint${allowNull ? " or null" : ""} for a Java BigInteger, got ${
      describe(value)
    }` +
      (typeof value === "number" ? " (use BigInt(x))" : ""),
  );
}

/**
 * `BigInteger.toByteArray()`: the minimal big-endian two's complement bytes.
 *
 * @example
 * ```ts
 * import { toHex } from "@kvstate/queryable-state/wire";
 * import { bigIntegerBytes } from "./big_integer_type.ts";
 *
 * toHex(bigIntegerBytes(255n)); // => "00ff"
 * toHex(bigIntegerBytes(-1n)); // => "ff"
 * ```
 *
 * @param v The value.
 * @returns At least one byte.
 */
export function bigIntegerBytes(v: bigint): Uint8Array {
  // Bits of the magnitude that the sign bit must sit above.
  const mag = v < 0n ? -v - 1n : v;
  const hexMag = mag.toString(16);
  const bits = mag === 0n ? 0 : (hexMag.length - 1) * 4 + 32 - Math.clz32(parseInt(hexMag[0], 16));
  const n = (bits >> 3) + 1;
  const hex = BigInt.asUintN(n * 8, v).toString(16).padStart(n * 2, "0");
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Writes a BigInteger as `BigIntSerializer.writeBigInteger` does, with the
 * codes for 0, 1, 10 and null.
 *
 * @example
 * ```ts
 * import { ByteWriter, toHex } from "@kvstate/queryable-state/wire";
 * import { writeBigInteger } from "./big_integer_type.ts";
 *
 * const w = new ByteWriter();
 * writeBigInteger(10n, w);
 * writeBigInteger(-1n, w);
 * toHex(w.toBytes()); // => "00000003" + "00000005ff"
 * ```
 *
 * @param v The value (`null` writes code 0).
 * @param out Where to write.
 */
export function writeBigInteger(v: bigint | null, out: ByteWriter): void {
  if (v === null) out.writeInt32(CODE_NULL);
  else if (v === 0n) out.writeInt32(CODE_ZERO);
  else if (v === 1n) out.writeInt32(CODE_ONE);
  else if (v === 10n) out.writeInt32(CODE_TEN);
  else {
    const bytes = bigIntegerBytes(v);
    out.writeInt32(bytes.length + CODE_OFFSET);
    out.writeBytes(bytes);
  }
}

/**
 * Reads a BigInteger as `BigIntSerializer.readBigInteger` does: codes 0..3
 * and the long form (the length is checked against the bytes left before
 * anything is read).
 *
 * @example
 * ```ts
 * import { ByteReader, fromHex } from "@kvstate/queryable-state/wire";
 * import { readBigInteger } from "./big_integer_type.ts";
 *
 * readBigInteger(new ByteReader(fromHex("000000050a"))); // => 10n
 * readBigInteger(new ByteReader(fromHex("00000000"))); // => null
 * ```
 *
 * @param input Where to read.
 * @returns The value or `null`.
 * @throws {TypeDecodeError} A negative code (`NegativeArraySizeException`
 *   in Java), code 4 (no bytes: `NumberFormatException`), truncation.
 */
export function readBigInteger(input: ByteReader): bigint | null {
  const code = input.readInt32();
  switch (code) {
    case CODE_NULL:
      return null;
    case CODE_ZERO:
      return 0n;
    case CODE_ONE:
      return 1n;
    case CODE_TEN:
      return 10n;
    case CODE_OFFSET:
      throw new TypeDecodeError(
        "BigInteger of zero bytes (code 4)",
        undefined,
        "java.lang.NumberFormatException",
      );
  }
  if (code < 0) {
    throw new TypeDecodeError(
      `BigInteger length code ${code} is negative`,
      undefined,
      "java.lang.NegativeArraySizeException",
    );
  }
  const n = code - CODE_OFFSET;
  if (n > input.remaining) {
    throw new TypeDecodeError(
      `BigInteger of ${n} bytes but only ${input.remaining} are left`,
      undefined,
      "java.io.EOFException",
    );
  }
  const bytes = input.readBytes(n);
  let hex = "";
  for (let i = 0; i < n; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return BigInt.asIntN(n * 8, BigInt("0x" + hex));
}

/**
 * Java's `BigInteger.hashCode()`: over the magnitude's big-endian 32-bit
 * words `h = 31 * h + word` (int arithmetic), times the signum.
 *
 * @example
 * ```ts
 * import { bigIntegerHashCode } from "./big_integer_type.ts";
 *
 * bigIntegerHashCode(1n); // => 1
 * bigIntegerHashCode(-1n); // => -1
 * bigIntegerHashCode(1n << 32n); // => 31
 * ```
 *
 * @param v The value.
 * @returns The hash code.
 */
export function bigIntegerHashCode(v: bigint): number {
  const mag = v < 0n ? -v : v;
  let hex = mag.toString(16);
  hex = hex.padStart(Math.ceil(hex.length / 8) * 8, "0");
  let h = 0;
  for (let i = 0; i < hex.length; i += 8) {
    h = (Math.imul(31, h) + parseInt(hex.slice(i, i + 8), 16)) | 0;
  }
  return v < 0n ? -h | 0 : h;
}

/**
 * `java.math.BigInteger` (`BigIntSerializer`): a `bigint`, or `null` (code
 * 0). Its hash code is Java's `BigInteger.hashCode()`; `null` has none.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.biginteger, 255n)); // => "0000000600ff"
 * toHex(serializeValue(types.biginteger, 1n)); // => "00000002"
 * deserializeValue(types.biginteger, fromHex("000000050a")); // => 10n
 * types.biginteger.hashCode(255n); // => 255
 * ```
 */
export const BIG_INTEGER_TYPE: TypeDescriptor<bigint | null> = Object.freeze({
  name: "biginteger",
  kind: "biginteger" as const,
  text: "biginteger",
  serialize(value: bigint | null, out: ByteWriter): void {
    writeBigInteger(checkBigInteger(value, true), out);
  },
  deserialize(input: ByteReader): bigint | null {
    return readBigInteger(input);
  },
  hashCode(value: bigint | null): number {
    if (value === null) {
      throw new TypeValueError("a null BigInteger is not usable as a key (it has no hashCode())");
    }
    return bigIntegerHashCode(checkBigInteger(value, false)!);
  },
});
