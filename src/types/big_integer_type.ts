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
 * Bounded: the `n` a long form claims is checked against `maxBytes`
 * (default {@linkcode DEFAULT_BIG_NUMBER_MAX_BYTES}, 4096 bytes) before
 * anything is read, and writing refuses a value whose bytes are longer.
 * Turning `n` bytes into a bigint and printing it costs more than linear
 * time in `n` (about 0.5 ms at 4 KiB, 0.8 s at 1 MiB), so without the bound
 * a frame of bytes from the network could hold the CPU for minutes.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "./type_errors.ts";

/**
 * The default of {@linkcode BigNumberOptions.maxBytes}: 4096 bytes of a
 * `BigInteger` (or a `BigDecimal`'s unscaled value), i.e. magnitudes up to
 * 2^32767, 9,864 decimal digits. Up to about this size, reading and
 * printing cost a steady ~0.11 µs per byte (0.5 ms for a value at the
 * bound); past it the cost per byte grows (0.8 µs at 1 MiB). Real values
 * are far smaller: Flink SQL's `DECIMAL` holds at most 38 digits (16
 * bytes).
 *
 * @example
 * ```ts
 * import { DEFAULT_BIG_NUMBER_MAX_BYTES } from "@kvstate/queryable-state";
 *
 * DEFAULT_BIG_NUMBER_MAX_BYTES; // => 4096
 * ```
 */
export const DEFAULT_BIG_NUMBER_MAX_BYTES = 4096;

/** The largest `maxBytes`: the long form's code `4 + n` is an int32. */
const MAX_MAX_BYTES = 2147483647 - 4;

/**
 * Options of `types.bigintegerOf` and `types.decimalOf`.
 *
 * @example
 * ```ts
 * import type { BigNumberOptions } from "@kvstate/queryable-state";
 *
 * const options: BigNumberOptions = { maxBytes: 64 };
 * options.maxBytes; // => 64
 * ```
 */
export interface BigNumberOptions {
  /**
   * The most bytes of a `BigInteger` (of a `BigDecimal`, its unscaled
   * value) read or written, as `BigInteger.toByteArray()` gives them.
   * Default {@linkcode DEFAULT_BIG_NUMBER_MAX_BYTES} (4096 bytes, 9,864
   * decimal digits). Bytes claiming more fail with a `TypeDecodeError`
   * naming the bound and the length claimed, before anything is read; a
   * value or a text with more fails with a `TypeValueError`, text before
   * it is converted.
   */
  readonly maxBytes?: number;
}

/**
 * A `biginteger` or `decimal` descriptor with its bound on the bytes of
 * the (unscaled) value.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 *
 * types.biginteger.maxBytes; // => 4096
 * types.bigintegerOf({ maxBytes: 64 }).text; // => "biginteger"
 * ```
 */
export interface BigNumberDescriptor<T> extends TypeDescriptor<T> {
  /** The most bytes of the (unscaled) value read or written. */
  readonly maxBytes: number;
}

/**
 * The `maxBytes` of options, checked: an integer from 1 to 2^31 - 5.
 *
 * @example
 * ```ts
 * import { bigNumberMaxBytes } from "./big_integer_type.ts";
 *
 * bigNumberMaxBytes(undefined); // => 4096
 * bigNumberMaxBytes({ maxBytes: 16 }); // => 16
 * ```
 *
 * @param options The options.
 * @returns The bound.
 * @throws {RangeError} When `maxBytes` is not an integer from 1 to 2^31 - 5.
 */
export function bigNumberMaxBytes(options: BigNumberOptions | undefined): number {
  const v = options?.maxBytes ?? DEFAULT_BIG_NUMBER_MAX_BYTES;
  if (!Number.isInteger(v) || v < 1 || v > MAX_MAX_BYTES) {
    throw new RangeError(`maxBytes must be an integer from 1 to ${MAX_MAX_BYTES}, got ${v}`);
  }
  return v;
}

/**
 * The most decimal digits of a value whose `toByteArray()` has at most
 * `maxBytes` bytes: those of 2^(8·maxBytes - 1), the largest magnitude
 * (of `-2^(8·maxBytes - 1)`). Text with more significant digits cannot fit
 * and is refused before it is converted.
 *
 * @example
 * ```ts
 * import { maxDigitsOf } from "./big_integer_type.ts";
 *
 * maxDigitsOf(1); // => 3
 * maxDigitsOf(8); // => 19
 * maxDigitsOf(4096); // => 9864
 * ```
 *
 * @param maxBytes The bound in bytes.
 * @returns The bound in decimal digits.
 */
export function maxDigitsOf(maxBytes: number): number {
  // The digits of 2^k are floor(k·log10 2) + 1. The margin makes a float
  // error count one digit too many (the bytes are checked exactly after the
  // conversion), never one too few (text that fits would be refused).
  return Math.floor((8 * maxBytes - 1) * Math.log10(2) + 1e-6) + 1;
}

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
 * The length of `BigInteger.toByteArray()`: the bytes of the minimal
 * big-endian two's complement, counted without building them.
 *
 * @example
 * ```ts
 * import { bigIntegerByteLength } from "./big_integer_type.ts";
 *
 * bigIntegerByteLength(127n); // => 1
 * bigIntegerByteLength(128n); // => 2
 * bigIntegerByteLength(-128n); // => 1
 * ```
 *
 * @param v The value.
 * @returns At least 1.
 */
export function bigIntegerByteLength(v: bigint): number {
  // Bits of the magnitude that the sign bit must sit above.
  const mag = v < 0n ? -v - 1n : v;
  if (mag === 0n) return 1;
  if (mag <= MAX_SAFE) {
    // Counted in numbers (exact below 2^53): no text of the value.
    const m = Number(mag);
    const high = Math.floor(m / 0x1_0000_0000);
    const bits = high === 0 ? 32 - Math.clz32(m) : 64 - Math.clz32(high);
    return (bits >> 3) + 1;
  }
  const hexMag = mag.toString(16);
  const bits = (hexMag.length - 1) * 4 + 32 - Math.clz32(parseInt(hexMag[0], 16));
  return (bits >> 3) + 1;
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
  return bytesOfLength(v, bigIntegerByteLength(v));
}

/** The largest bigint whose bytes are computed in numbers (2^53 - 1). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** The most bytes whose two's complement is computed in numbers (2^48 is exact). */
const MAX_NUMBER_BYTES = 6;

/** The value of a hex digit's character code (`0-9`, `a-f`). */
function hexDigit(code: number): number {
  return code < 0x3a ? code - 0x30 : code - 0x57;
}

/** The `n`-byte two's complement of `v` as a number (`n` at most 6: exact below 2^48). */
function twosComplementNumber(v: bigint, n: number): number {
  const u = Number(v);
  return u < 0 ? u + 2 ** (8 * n) : u;
}

/** {@linkcode bigIntegerBytes} of a value whose byte length `n` is known. */
function bytesOfLength(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (n <= MAX_NUMBER_BYTES) {
    let u = twosComplementNumber(v, n);
    for (let i = n - 1; i >= 0; i--) {
      out[i] = u % 256;
      u = Math.floor(u / 256);
    }
    return out;
  }
  const hex = BigInt.asUintN(n * 8, v).toString(16).padStart(n * 2, "0");
  for (let i = 0; i < n; i++) {
    out[i] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
  }
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
 * @param maxBytes The most bytes written (default 4096,
 *   {@linkcode DEFAULT_BIG_NUMBER_MAX_BYTES}).
 * @throws {TypeValueError} A value of more than `maxBytes` bytes (nothing
 *   is written).
 */
export function writeBigInteger(
  v: bigint | null,
  out: ByteWriter,
  maxBytes: number = DEFAULT_BIG_NUMBER_MAX_BYTES,
): void {
  if (v === null) out.writeInt32(CODE_NULL);
  else if (v === 0n) out.writeInt32(CODE_ZERO);
  else if (v === 1n) out.writeInt32(CODE_ONE);
  else if (v === 10n) out.writeInt32(CODE_TEN);
  else {
    const n = bigIntegerByteLength(v);
    if (n > maxBytes) {
      throw new TypeValueError(
        `a BigInteger of ${n} bytes is over the bound of ${maxBytes} bytes (maxBytes)`,
      );
    }
    out.writeInt32(n + CODE_OFFSET);
    if (n <= MAX_NUMBER_BYTES) {
      // Straight into the writer: no array for a few bytes.
      const u = twosComplementNumber(v, n);
      for (let i = n - 1; i >= 0; i--) out.writeUint8(Math.floor(u / 2 ** (8 * i)) % 256);
    } else {
      out.writeBytes(bytesOfLength(v, n));
    }
  }
}

/**
 * Reads a BigInteger as `BigIntSerializer.readBigInteger` does: codes 0..3
 * and the long form (the length claimed is checked against the bytes
 * left, then against `maxBytes`, before anything is read).
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
 * @param maxBytes The most bytes read (default 4096,
 *   {@linkcode DEFAULT_BIG_NUMBER_MAX_BYTES}).
 * @returns The value or `null`.
 * @throws {TypeDecodeError} A negative code (`NegativeArraySizeException`
 *   in Java), code 4 (no bytes: `NumberFormatException`), a length over
 *   `maxBytes` (naming the bound and the length claimed), truncation.
 */
export function readBigInteger(
  input: ByteReader,
  maxBytes: number = DEFAULT_BIG_NUMBER_MAX_BYTES,
): bigint | null {
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
  if (n > maxBytes) {
    throw new TypeDecodeError(
      `BigInteger of ${n} bytes claimed, over the bound of ${maxBytes} bytes (maxBytes)`,
    );
  }
  if (n <= MAX_NUMBER_BYTES) {
    // In numbers (exact below 2^48), then one bigint; read in place (no view).
    const src = input.bytes;
    const start = input.offset;
    input.offset = start + n;
    let u = 0;
    for (let i = start; i < start + n; i++) u = u * 256 + src[i];
    return BigInt(src[start] < 0x80 ? u : u - 2 ** (8 * n));
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

function makeBigInteger(maxBytes: number): BigNumberDescriptor<bigint | null> {
  return Object.freeze({
    name: "biginteger",
    kind: "biginteger" as const,
    text: "biginteger",
    maxBytes,
    serialize(value: bigint | null, out: ByteWriter): void {
      writeBigInteger(checkBigInteger(value, true), out, maxBytes);
    },
    deserialize(input: ByteReader): bigint | null {
      return readBigInteger(input, maxBytes);
    },
    hashCode(value: bigint | null): number {
      if (value === null) {
        throw new TypeValueError("a null BigInteger is not usable as a key (it has no hashCode())");
      }
      return bigIntegerHashCode(checkBigInteger(value, false)!);
    },
  });
}

/**
 * `java.math.BigInteger` (`BigIntSerializer`): a `bigint`, or `null` (code
 * 0). Its hash code is Java's `BigInteger.hashCode()`; `null` has none.
 * At most {@linkcode DEFAULT_BIG_NUMBER_MAX_BYTES} (4096) bytes are read
 * or written (see {@linkcode bigIntegerOf} for another bound).
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
export const BIG_INTEGER_TYPE: BigNumberDescriptor<bigint | null> = makeBigInteger(
  DEFAULT_BIG_NUMBER_MAX_BYTES,
);

/**
 * `java.math.BigInteger` with another bound on its bytes (`types.bigintegerOf`).
 * Its text stays `biginteger`, so a type parsed from text has the default
 * bound. With the default bound it is {@linkcode BIG_INTEGER_TYPE} itself.
 *
 * @example
 * ```ts
 * import { types, TypeDecodeError } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const small = types.bigintegerOf({ maxBytes: 2 });
 * toHex(serializeValue(small, 255n)); // => "0000000600ff"
 * try {
 *   deserializeValue(small, fromHex("00000007010000"));
 * } catch (e) {
 *   (e as TypeDecodeError).problem; // => "BigInteger of 3 bytes claimed, over the bound of 2 bytes (maxBytes)"
 * }
 * types.bigintegerOf() === types.biginteger; // => true
 * ```
 *
 * @param options The bound (`maxBytes`, default 4096).
 * @returns The descriptor.
 * @throws {RangeError} When `maxBytes` is not an integer from 1 to 2^31 - 5.
 */
export function bigIntegerOf(options?: BigNumberOptions): BigNumberDescriptor<bigint | null> {
  const maxBytes = bigNumberMaxBytes(options);
  return maxBytes === DEFAULT_BIG_NUMBER_MAX_BYTES ? BIG_INTEGER_TYPE : makeBigInteger(maxBytes);
}
