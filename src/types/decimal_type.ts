/**
 * `java.math.BigDecimal` as a descriptor (Flink's `BigDecSerializer`).
 *
 * JS value: a string, exactly as Java's `BigDecimal.toString()` prints the
 * value (`"1.50"`, `"1E+3"`, `"0.00"`, `"-0.001"`), or `null`. A decimal
 * is its unscaled value and its scale, and the string keeps both: `"1.0"`
 * and `"1.00"` are different values (as in Java, where they are not
 * `equals`). Writing accepts what `new BigDecimal(String)` accepts (ASCII
 * digits): an optional sign, digits with an optional point, an optional
 * exponent (`1.5e3`, `-.5`, `+10`); the scale is kept (`"1.50"` writes
 * unscaled 150, scale 2). It also accepts an exponent past the int range
 * when the scale fits (`"1E+2147483648"`, scale -2^31), which
 * `new BigDecimal(String)` refuses but `toString()` prints for the scales
 * nearest -2^31: every value read can be written back.
 *
 * Bytes: the unscaled value as `BigIntSerializer` writes it (code 0 =
 * null, nothing follows), then the int scale. Unscaled 0, 1 and 10 take
 * codes 1..3 (what Java writes for every BigDecimal whose unscaled value
 * fits a long); the long form is read too.
 *
 * Bounded: the unscaled value has at most `maxBytes` bytes (default 4096,
 * {@linkcode DEFAULT_BIG_NUMBER_MAX_BYTES}, 9,864 digits), checked on the
 * length the bytes claim before anything is read (a `TypeDecodeError`),
 * on a value written (a `TypeValueError`), and on text by its count of
 * significant digits before it is converted.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import {
  bigIntegerHashCode,
  type BigNumberDescriptor,
  bigNumberMaxBytes,
  type BigNumberOptions,
  DEFAULT_BIG_NUMBER_MAX_BYTES,
  maxDigitsOf,
  readBigInteger,
  writeBigInteger,
} from "./big_integer_type.ts";
import { TypeValueError } from "./type_errors.ts";

/** A BigDecimal's parts: `unscaled × 10^-scale`. */
export interface DecimalParts {
  /** The unscaled value. */
  readonly unscaled: bigint;
  /** The scale, an int32. */
  readonly scale: number;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** Longest exponent accepted (digits after leading zeros): an int32 needs 10. */
const MAX_EXPONENT_DIGITS = 10;
/** The digits bound of the default `maxBytes`, counted once. */
const DEFAULT_MAX_DIGITS = maxDigitsOf(DEFAULT_BIG_NUMBER_MAX_BYTES);
const DECIMAL_RE = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?)(\d+))?$/;

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return v === null ? "null" : typeof v === "bigint" ? `${v}n` : typeof v;
}

/**
 * Java's `BigDecimal.toString()` of `unscaled × 10^-scale`.
 *
 * @example
 * ```ts
 * import { formatDecimal } from "./decimal_type.ts";
 *
 * formatDecimal({ unscaled: 150n, scale: 2 }); // => "1.50"
 * formatDecimal({ unscaled: 1n, scale: -3 }); // => "1E+3"
 * formatDecimal({ unscaled: -1n, scale: 3 }); // => "-0.001"
 * formatDecimal({ unscaled: 5n, scale: 9 }); // => "5E-9"
 * ```
 *
 * @param parts The unscaled value and scale.
 * @returns The text.
 */
export function formatDecimal(parts: DecimalParts): string {
  const { unscaled, scale } = parts;
  const sign = unscaled < 0n ? "-" : "";
  const coeff = (unscaled < 0n ? -unscaled : unscaled).toString();
  if (scale === 0) return sign + coeff;
  const adjusted = -scale + (coeff.length - 1);
  if (scale > 0 && adjusted >= -6) {
    const point = coeff.length - scale;
    return point > 0
      ? `${sign}${coeff.slice(0, point)}.${coeff.slice(point)}`
      : `${sign}0.${"0".repeat(-point)}${coeff}`;
  }
  const mantissa = coeff.length > 1 ? `${coeff[0]}.${coeff.slice(1)}` : coeff;
  return `${sign}${mantissa}E${adjusted > 0 ? "+" : ""}${adjusted}`;
}

/**
 * Parses a decimal as `new BigDecimal(String)` does (ASCII digits), keeping
 * the scale.
 *
 * @example
 * ```ts
 * import { parseDecimal } from "./decimal_type.ts";
 *
 * parseDecimal("1.50"); // => { unscaled: 150n, scale: 2 }
 * parseDecimal("1E+3"); // => { unscaled: 1n, scale: -3 }
 * parseDecimal("-.5e-2"); // => { unscaled: -5n, scale: 3 }
 * ```
 *
 * @param text The text.
 * @param maxBytes The bound on the unscaled value's bytes (default 4096,
 *   {@linkcode DEFAULT_BIG_NUMBER_MAX_BYTES}): text with more significant
 *   digits than a value of `maxBytes` bytes can have is refused before it
 *   is converted (the bytes themselves are checked when written).
 * @returns The unscaled value and scale.
 * @throws {TypeValueError} Not a decimal, a scale outside the int32 range,
 *   or more digits than `maxBytes` allows.
 */
export function parseDecimal(
  text: string,
  maxBytes: number = DEFAULT_BIG_NUMBER_MAX_BYTES,
): DecimalParts {
  if (typeof text !== "string") {
    throw new TypeValueError(
      `expected a Java BigDecimal as a string like "1.50" or null, got ${show(text)}`,
    );
  }
  const m = DECIMAL_RE.exec(text);
  if (m === null) {
    throw new TypeValueError(`${show(text)} is not a decimal number like "1.50" or "1E+3"`);
  }
  // By index: destructuring would walk the match with an iterator.
  const sign = m[1];
  const whole = m[2] as string | undefined;
  const frac = m[3] ?? m[4] ?? "";
  const expSign = m[5];
  const expDigits = m[6] as string | undefined;
  let exponent = 0;
  if (expDigits !== undefined) {
    const digits = expDigits.replace(/^0+(?=\d)/, "");
    if (digits.length > MAX_EXPONENT_DIGITS) {
      throw new TypeValueError(`${show(text)}: the exponent is out of the int range`);
    }
    exponent = Number(digits) * (expSign === "-" ? -1 : 1);
  }
  const scale = frac.length - exponent;
  if (scale < INT32_MIN || scale > INT32_MAX) {
    throw new TypeValueError(`${show(text)}: scale ${scale} is out of the int range`);
  }
  const allDigits = (whole ?? "") + frac;
  const digits = allDigits.charCodeAt(0) === 0x30 ? allDigits.replace(/^0+(?=\d)/, "") : allDigits;
  const maxDigits = maxBytes === DEFAULT_BIG_NUMBER_MAX_BYTES
    ? DEFAULT_MAX_DIGITS
    : maxDigitsOf(maxBytes);
  if (digits.length > maxDigits) {
    throw new TypeValueError(
      `a decimal of ${digits.length} significant digits is over the bound of ${maxDigits} ` +
        `(${maxBytes} bytes, maxBytes)`,
    );
  }
  const magnitude = BigInt(digits);
  return { unscaled: sign === "-" ? -magnitude : magnitude, scale };
}

function makeDecimal(maxBytes: number): BigNumberDescriptor<string | null> {
  return Object.freeze({
    name: "decimal",
    kind: "decimal" as const,
    text: "decimal",
    maxBytes,
    serialize(value: string | null, out: ByteWriter): void {
      if (value === null) {
        writeBigInteger(null, out);
        return;
      }
      const { unscaled, scale } = parseDecimal(value, maxBytes);
      writeBigInteger(unscaled, out, maxBytes);
      out.writeInt32(scale);
    },
    deserialize(input: ByteReader): string | null {
      const unscaled = readBigInteger(input, maxBytes);
      if (unscaled === null) return null;
      return formatDecimal({ unscaled, scale: input.readInt32() });
    },
    hashCode(value: string | null): number {
      if (value === null) {
        throw new TypeValueError("a null BigDecimal is not usable as a key (it has no hashCode())");
      }
      const { unscaled, scale } = parseDecimal(value, maxBytes);
      return (Math.imul(31, bigIntegerHashCode(unscaled)) + scale) | 0;
    },
  });
}

/**
 * `java.math.BigDecimal` (`BigDecSerializer`): a string as Java's
 * `toString()` prints it, or `null`. Its hash code is Java's
 * `BigDecimal.hashCode()`, `31 * unscaledValue().hashCode() + scale()`
 * (so `"1.0"` and `"1.00"` hash differently, as in Java); `null` has none.
 * The unscaled value has at most {@linkcode DEFAULT_BIG_NUMBER_MAX_BYTES}
 * (4096) bytes, read or written (see {@linkcode decimalOf} for another
 * bound).
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.decimal, "1.50")); // => "00000006009600000002"
 * toHex(serializeValue(types.decimal, "1.0")); // => "0000000300000001"
 * deserializeValue(types.decimal, fromHex("00000002fffffffd")); // => "1E+3"
 * types.decimal.hashCode("1.50"); // => 4652
 * ```
 */
export const DECIMAL_TYPE: BigNumberDescriptor<string | null> = makeDecimal(
  DEFAULT_BIG_NUMBER_MAX_BYTES,
);

/**
 * `java.math.BigDecimal` with another bound on its unscaled value's bytes
 * (`types.decimalOf`). Its text stays `decimal`, so a type parsed from
 * text has the default bound. With the default bound it is
 * {@linkcode DECIMAL_TYPE} itself.
 *
 * @example
 * ```ts
 * import { types, TypeValueError } from "@kvstate/queryable-state";
 * import { serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const small = types.decimalOf({ maxBytes: 1 });
 * toHex(serializeValue(small, "1.27")); // => "000000057f00000002"
 * try {
 *   serializeValue(small, "1.28");
 * } catch (e) {
 *   (e as TypeValueError).problem; // => "a BigInteger of 2 bytes is over the bound of 1 bytes (maxBytes)"
 * }
 * types.decimalOf() === types.decimal; // => true
 * ```
 *
 * @param options The bound (`maxBytes`, default 4096).
 * @returns The descriptor.
 * @throws {RangeError} When `maxBytes` is not an integer from 1 to 2^31 - 5.
 */
export function decimalOf(options?: BigNumberOptions): BigNumberDescriptor<string | null> {
  const maxBytes = bigNumberMaxBytes(options);
  return maxBytes === DEFAULT_BIG_NUMBER_MAX_BYTES ? DECIMAL_TYPE : makeDecimal(maxBytes);
}
