/**
 * Small helpers the composite descriptors share: bounded reads of counts
 * and headers, the fixed and minimum encoded lengths of a descriptor, the
 * "not usable as a key" error, value descriptions for messages.
 *
 * @module
 */

import type { ByteReader } from "../wire/bytes.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "./type_errors.ts";

/**
 * A short description of a JS value for error messages (`42n`, `"abc"`,
 * `null`, `[object Object]`, `an array of 3`).
 *
 * @example
 * ```ts
 * import { describeValue } from "./composite_helpers.ts";
 *
 * describeValue(42n); // => "42n"
 * describeValue([1, 2, 3]); // => "an array of 3"
 * ```
 *
 * @param v Anything.
 * @returns The description.
 */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return Object.prototype.toString.call(v);
  if (typeof v === "function") return "a function";
  return String(v);
}

/** What {@linkcode isJavaIdentifier} accepts. */
const JAVA_IDENTIFIER = /^[\p{L}\p{Nl}_$][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}_$]*$/u;

/**
 * Whether a name is a Java identifier (a POJO field's name, an enum
 * constant): a letter, `_` or `$`, then letters, digits, `_` and `$`.
 *
 * @example
 * ```ts
 * import { isJavaIdentifier } from "./composite_helpers.ts";
 *
 * isJavaIdentifier("orderId"); // => true
 * isJavaIdentifier("1st"); // => false
 * ```
 *
 * @param name The name.
 * @returns `true` for a Java identifier.
 */
export function isJavaIdentifier(name: string): boolean {
  return JAVA_IDENTIFIER.test(name);
}

/**
 * Sets a key on a plain object as an own data property, `__proto__`
 * included (a Java field may be called so), never touching the prototype.
 *
 * @example
 * ```ts
 * import { setOwn } from "./composite_helpers.ts";
 *
 * const o: Record<string, unknown> = {};
 * setOwn(o, "__proto__", 1);
 * Object.keys(o); // => ["__proto__"]
 * ```
 *
 * @param obj The object.
 * @param key The key.
 * @param value The value.
 */
export function setOwn<V>(obj: Record<string, V>, key: string, value: V): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

/**
 * Throws a {@linkcode TypeDecodeError} (`java.io.EOFException`) unless `n`
 * more bytes can be read.
 *
 * @example
 * ```ts
 * import { need } from "./composite_helpers.ts";
 * import { ByteReader } from "../wire/bytes.ts";
 *
 * need(new ByteReader(new Uint8Array(4)), 4, "the list size"); // no error
 * ```
 *
 * @param input The reader.
 * @param n The bytes needed.
 * @param what What is being read, for the message.
 */
export function need(input: ByteReader, n: number, what: string): void {
  if (input.remaining < n) {
    throw new TypeDecodeError(
      `truncated: ${what} needs ${n} byte${n === 1 ? "" : "s"}, ${input.remaining} left`,
      undefined,
      "java.io.EOFException",
    );
  }
}

/**
 * Reads an element count (a big-endian int32) and checks it against the
 * bytes left before anything is allocated: a negative count is
 * `java.lang.NegativeArraySizeException`; `count * minElementLength` more
 * than the bytes left is `java.io.EOFException`.
 *
 * @example
 * ```ts
 * import { readCount } from "./composite_helpers.ts";
 * import { ByteReader } from "../wire/bytes.ts";
 *
 * readCount(new ByteReader(new Uint8Array([0, 0, 0, 2, 1, 1])), 1, "list"); // => 2
 * ```
 *
 * @param input The reader.
 * @param minElementLength The fewest bytes one element takes (at least 1 is used).
 * @param what What is counted (`list`, `map`, `array`), for the message.
 * @returns The count.
 */
export function readCount(input: ByteReader, minElementLength: number, what: string): number {
  need(input, 4, `the ${what} size`);
  const count = input.readInt32();
  if (count < 0) {
    throw new TypeDecodeError(
      `negative ${what} size ${count}`,
      undefined,
      "java.lang.NegativeArraySizeException",
    );
  }
  const min = Math.max(1, minElementLength);
  if (count * min > input.remaining) {
    throw new TypeDecodeError(
      `the ${what} claims ${count} elements of at least ${min} byte${min === 1 ? "" : "s"}, ` +
        `but only ${input.remaining} bytes are left`,
      undefined,
      "java.io.EOFException",
    );
  }
  return count;
}

/** The fixed encoded length of the basic and time kinds (Flink's `getLength()`). */
const FIXED_LENGTHS: Readonly<Record<string, number>> = Object.freeze({
  int: 4,
  long: 8,
  double: 8,
  float: 4,
  boolean: 1,
  short: 2,
  byte: 1,
  char: 2,
  enum: 4,
  date: 8,
  timestamp: 12,
  instant: 12,
  localdate: 6,
  localtime: 7,
  localdatetime: 13,
});

/**
 * A descriptor's fixed encoded length as Flink's `TypeSerializer.getLength()`
 * gives it, or -1 for variable-length types. Tuples are fixed when every
 * field is (`Tuple0` is 1 byte); a padded nullable of a fixed type is 1 more.
 *
 * @example
 * ```ts
 * import { fixedLengthOf } from "./composite_helpers.ts";
 * import { BASIC_TYPES } from "./basic_types.ts";
 *
 * fixedLengthOf(BASIC_TYPES.long); // => 8
 * fixedLengthOf(BASIC_TYPES.string); // => -1
 * ```
 *
 * @param d The descriptor.
 * @returns The length in bytes, or -1.
 */
export function fixedLengthOf(d: TypeDescriptor<unknown>): number {
  const fixed = FIXED_LENGTHS[d.kind];
  if (fixed !== undefined) return fixed;
  const parts = d as unknown as {
    fields?: readonly TypeDescriptor<unknown>[];
    inner?: TypeDescriptor<unknown>;
    padded?: boolean;
  };
  if (d.kind === "tuple" && parts.fields) {
    if (parts.fields.length === 0) return 1;
    let sum = 0;
    for (const f of parts.fields) {
      const n = fixedLengthOf(f);
      if (n <= 0) return -1;
      sum += n;
    }
    return sum;
  }
  if (d.kind === "nullable" && parts.inner && parts.padded) {
    const n = fixedLengthOf(parts.inner);
    return n > 0 ? n + 1 : -1;
  }
  return -1;
}

/**
 * The fewest bytes any value of a descriptor takes (used to bound counts
 * read from the bytes). Never less than 1.
 *
 * @example
 * ```ts
 * import { minEncodedLength } from "./composite_helpers.ts";
 * import { BASIC_TYPES } from "./basic_types.ts";
 *
 * minEncodedLength(BASIC_TYPES.int); // => 4
 * minEncodedLength(BASIC_TYPES.bytes); // => 4
 * ```
 *
 * @param d The descriptor.
 * @returns The length in bytes.
 */
export function minEncodedLength(d: TypeDescriptor<unknown>): number {
  // A null java.sql.Timestamp is read from its first 8 bytes.
  if (d.kind === "timestamp") return 8;
  const fixed = fixedLengthOf(d);
  if (fixed > 0) return fixed;
  const parts = d as unknown as {
    fields?: readonly TypeDescriptor<unknown>[];
    left?: TypeDescriptor<unknown>;
    right?: TypeDescriptor<unknown>;
  };
  switch (d.kind) {
    case "bytes":
    case "list":
    case "map":
    case "array":
    case "decimal":
    case "biginteger":
      return 4;
    case "tuple": {
      let sum = 0;
      for (const f of parts.fields ?? []) sum += minEncodedLength(f);
      return Math.max(1, sum);
    }
    case "either":
      return parts.left && parts.right
        ? 1 + Math.min(minEncodedLength(parts.left), minEncodedLength(parts.right))
        : 1;
    default:
      return 1;
  }
}

/**
 * The error for a `hashCode` of a type whose Java `hashCode()` is not
 * reproducible (an identity hash, or user code).
 *
 * @example
 * ```ts
 * import { notAKey } from "./composite_helpers.ts";
 *
 * notAKey("array<int>", "a Java array's hashCode() is an identity hash").problem.startsWith("not usable as a key"); // => true
 * ```
 *
 * @param text The descriptor's text.
 * @param why Why.
 * @returns The error to throw.
 */
export function notAKey(text: string, why: string): TypeValueError {
  return new TypeValueError(`not usable as a key: ${text}: ${why}`);
}

/**
 * Checks that every part is a type descriptor (a builder's argument check).
 *
 * @example
 * ```ts
 * import { checkParts } from "./composite_helpers.ts";
 * import { BASIC_TYPES } from "./basic_types.ts";
 *
 * checkParts("types.list", [BASIC_TYPES.int]); // no error
 * ```
 *
 * @param builder The builder's name, for the message.
 * @param parts The arguments.
 * @throws {TypeError} Naming the first argument that is not a descriptor.
 */
export function checkParts(builder: string, parts: readonly unknown[]): void {
  for (let i = 0; i < parts.length; i++) {
    const d = parts[i] as Partial<TypeDescriptor<unknown>> | null;
    if (
      typeof d !== "object" || d === null || typeof d.kind !== "string" ||
      typeof d.text !== "string" || typeof d.serialize !== "function" ||
      typeof d.deserialize !== "function" || typeof d.hashCode !== "function"
    ) {
      throw new TypeError(
        `${builder}: argument ${i + 1} is not a type descriptor (got ${describeValue(d)}); ` +
          `use types.* or parseType(...)`,
      );
    }
  }
}

/**
 * A hash code or 0 for `null`, as Java's `Objects.hashCode`.
 *
 * @example
 * ```ts
 * import { hashOrZero } from "./composite_helpers.ts";
 * import { BASIC_TYPES } from "./basic_types.ts";
 *
 * hashOrZero(BASIC_TYPES.string, null); // => 0
 * hashOrZero(BASIC_TYPES.string, "a"); // => 97
 * ```
 *
 * @param d The descriptor.
 * @param v The value.
 * @returns The hash code.
 */
export function hashOrZero(d: TypeDescriptor<unknown>, v: unknown): number {
  return v === null ? 0 : d.hashCode(v);
}
