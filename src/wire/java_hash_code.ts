/**
 * Java `hashCode()` of the basic key types, bit for bit (PROTOCOL 8.4).
 *
 * A `QueryableStateClient` sends `key.hashCode()` as the request's
 * `keyHashCode`, and the proxy routes on it, so these must agree with the
 * JVM exactly, including `int` wrap-around, `-0.0` and NaN canonicalisation.
 *
 * Every function validates its argument (the JS type and the Java type's
 * range) and throws a `TypeError` naming the problem: a silently coerced key
 * would be routed to the wrong key group.
 *
 * @module
 */

// One scratch view for the float/long bit tricks: no allocation per call.
const SCRATCH = new DataView(new ArrayBuffer(8));

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function describe(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (v === null) return "null";
  if (typeof v === "object") return Object.prototype.toString.call(v);
  return String(v);
}

function checkIntRange(v: unknown, min: number, max: number, javaType: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(
      `Expected a Java ${javaType} (an integer number in ${min}..${max}), got ${describe(v)}`,
    );
  }
  return v | 0; // -0 -> 0
}

/**
 * Java `String.hashCode()`: `h = 31 * h + c` over the UTF-16 code units,
 * with `int` wrap-around. Lone surrogates count like any other code unit.
 *
 * @example
 * ```ts
 * import { stringHashCode } from "@kvstate/queryable-state/wire";
 *
 * stringHashCode("hello"); // => 99162322
 * stringHashCode(""); // => 0
 * stringHashCode("\u{1F600}"); // => 1772899
 * ```
 *
 * @param value The string.
 * @returns The hash code (an int32).
 * @throws {TypeError} When `value` is not a string.
 */
export function stringHashCode(value: string): number {
  if (typeof value !== "string") {
    throw new TypeError(`Expected a string, got ${describe(value)}`);
  }
  let h = 0;
  for (let i = 0; i < value.length; i++) {
    h = (Math.imul(h, 31) + value.charCodeAt(i)) | 0;
  }
  return h;
}

/**
 * Java `Integer.hashCode()`: the value itself.
 *
 * @example
 * ```ts
 * import { intHashCode } from "@kvstate/queryable-state/wire";
 *
 * intHashCode(-42); // => -42
 * ```
 *
 * @param value An integer in the int32 range.
 * @returns The hash code.
 * @throws {TypeError} When `value` is not an int32.
 */
export function intHashCode(value: number): number {
  return checkIntRange(value, -2147483648, 2147483647, "int");
}

/**
 * Java `Short.hashCode()`: the value itself.
 *
 * @example
 * ```ts
 * import { shortHashCode } from "@kvstate/queryable-state/wire";
 *
 * shortHashCode(-32768); // => -32768
 * ```
 *
 * @param value An integer in `-32768..32767`.
 * @returns The hash code.
 * @throws {TypeError} When `value` is not a Java short.
 */
export function shortHashCode(value: number): number {
  return checkIntRange(value, -32768, 32767, "short");
}

/**
 * Java `Byte.hashCode()`: the (signed) value itself.
 *
 * @example
 * ```ts
 * import { byteHashCode } from "@kvstate/queryable-state/wire";
 *
 * byteHashCode(-1); // => -1
 * ```
 *
 * @param value An integer in `-128..127`.
 * @returns The hash code.
 * @throws {TypeError} When `value` is not a Java byte.
 */
export function byteHashCode(value: number): number {
  return checkIntRange(value, -128, 127, "byte");
}

/**
 * Java `Long.hashCode()`: `(int) (v ^ (v >>> 32))`.
 *
 * @example
 * ```ts
 * import { longHashCode } from "@kvstate/queryable-state/wire";
 *
 * longHashCode(4294967296n); // => 1
 * longHashCode(-1n); // => 0
 * longHashCode(-9223372036854775808n); // => -2147483648
 * ```
 *
 * @param value A bigint in the int64 range.
 * @returns The hash code (an int32).
 * @throws {TypeError} When `value` is not a bigint in the int64 range.
 */
export function longHashCode(value: bigint): number {
  if (typeof value !== "bigint" || value < INT64_MIN || value > INT64_MAX) {
    throw new TypeError(
      `Expected a Java long (a bigint in ${INT64_MIN}..${INT64_MAX}), got ${describe(value)}`,
    );
  }
  SCRATCH.setBigInt64(0, value);
  return SCRATCH.getInt32(0) ^ SCRATCH.getInt32(4);
}

/**
 * Java `Boolean.hashCode()`: 1231 for `true`, 1237 for `false`.
 *
 * @example
 * ```ts
 * import { booleanHashCode } from "@kvstate/queryable-state/wire";
 *
 * booleanHashCode(true); // => 1231
 * booleanHashCode(false); // => 1237
 * ```
 *
 * @param value The boolean.
 * @returns The hash code.
 * @throws {TypeError} When `value` is not a boolean.
 */
export function booleanHashCode(value: boolean): number {
  if (typeof value !== "boolean") {
    throw new TypeError(`Expected a boolean, got ${describe(value)}`);
  }
  return value ? 1231 : 1237;
}

/**
 * Java `Character.hashCode()`: the UTF-16 code unit.
 *
 * @example
 * ```ts
 * import { charHashCode } from "@kvstate/queryable-state/wire";
 *
 * charHashCode("a"); // => 97
 * charHashCode("\uffff"); // => 65535
 * ```
 *
 * @param value A string of exactly one UTF-16 code unit.
 * @returns The hash code, `0..65535`.
 * @throws {TypeError} When `value` is not a one-code-unit string.
 */
export function charHashCode(value: string): number {
  if (typeof value !== "string" || value.length !== 1) {
    throw new TypeError(
      `Expected a Java char (a string of exactly one UTF-16 code unit), got ${describe(value)}`,
    );
  }
  return value.charCodeAt(0);
}

/**
 * Java `Double.hashCode()`: `bits ^ (bits >>> 32)` of
 * `doubleToLongBits(v)`, where every NaN is first canonicalised to
 * `0x7ff8000000000000`. So `0.0` hashes to 0 but `-0.0` to `-2147483648`.
 *
 * @example
 * ```ts
 * import { doubleHashCode } from "@kvstate/queryable-state/wire";
 *
 * doubleHashCode(1.0); // => 1072693248
 * doubleHashCode(0); // => 0
 * doubleHashCode(-0); // => -2147483648
 * doubleHashCode(NaN); // => 2146959360
 * ```
 *
 * @param value Any number (NaN and ±Infinity included).
 * @returns The hash code (an int32).
 * @throws {TypeError} When `value` is not a number.
 */
export function doubleHashCode(value: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected a number for a Java double, got ${describe(value)}`);
  }
  if (value !== value) return 0x7ff80000; // canonical NaN: 0x7ff80000 ^ 0
  SCRATCH.setFloat64(0, value);
  return SCRATCH.getInt32(0) ^ SCRATCH.getInt32(4);
}

/**
 * Java `Float.hashCode()`: `floatToIntBits(v)`, NaN canonicalised to
 * `0x7fc00000`. The number is first rounded to float32 (as a Java `(float)`
 * cast does), so finite values beyond the float range become ±Infinity.
 *
 * @example
 * ```ts
 * import { floatHashCode } from "@kvstate/queryable-state/wire";
 *
 * floatHashCode(1.0); // => 1065353216
 * floatHashCode(-0); // => -2147483648
 * floatHashCode(NaN); // => 2143289344
 * ```
 *
 * @param value Any number.
 * @returns The hash code (an int32).
 * @throws {TypeError} When `value` is not a number.
 */
export function floatHashCode(value: number): number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected a number for a Java float, got ${describe(value)}`);
  }
  if (value !== value) return 0x7fc00000;
  SCRATCH.setFloat32(0, value);
  return SCRATCH.getInt32(0);
}

/**
 * Java `java.util.Arrays.hashCode(byte[])`: `h = 31 * h + b` from `h = 1`
 * over the **signed** bytes, with `int` wrap-around; 0 for `null`.
 *
 * Note that a Java `byte[]`'s own `hashCode()` is identity-based, which is
 * why Flink refuses arrays as keys; this content hash is for callers that
 * want the `Arrays` one (e.g. to key their own tables).
 *
 * @example
 * ```ts
 * import { byteArrayHashCode } from "@kvstate/queryable-state/wire";
 *
 * byteArrayHashCode(new Uint8Array([])); // => 1
 * byteArrayHashCode(new Uint8Array([1, 2])); // => 994
 * byteArrayHashCode(new Uint8Array([0xff])); // => 30
 * byteArrayHashCode(null); // => 0
 * ```
 *
 * @param value The bytes, or `null`.
 * @returns The hash code (an int32).
 * @throws {TypeError} When `value` is neither a `Uint8Array` nor `null`.
 */
export function byteArrayHashCode(value: Uint8Array | null): number {
  if (value === null) return 0;
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Expected a Uint8Array or null, got ${describe(value)}`);
  }
  let h = 1;
  for (let i = 0; i < value.length; i++) {
    h = (Math.imul(h, 31) + ((value[i] << 24) >> 24)) | 0;
  }
  return h;
}

/**
 * Flink's `TupleN.hashCode()` from the fields' hash codes: start from the
 * first field's hash, then `h = 31 * h + hash(field)` for each further
 * field, with `int` wrap-around. A `null` field hashes to 0; `Tuple0`
 * (no fields) hashes to 0.
 *
 * @example A `Tuple2<String, Integer>("a", 1)`
 * ```ts
 * import { stringHashCode, tupleHashCode } from "@kvstate/queryable-state/wire";
 *
 * tupleHashCode([stringHashCode("a"), 1]); // => 3008
 * tupleHashCode([null, 7]); // => 7
 * ```
 *
 * @param fieldHashCodes Each field's Java `hashCode()` (an int32) or `null`.
 * @returns The hash code (an int32).
 * @throws {TypeError} When a field hash is not an int32 or `null`.
 */
export function tupleHashCode(fieldHashCodes: readonly (number | null)[]): number {
  let h = 0;
  for (let i = 0; i < fieldHashCodes.length; i++) {
    const f = fieldHashCodes[i];
    if (f !== null && (typeof f !== "number" || (f | 0) !== f)) {
      throw new TypeError(
        `Tuple field ${i} hash code must be an int32 or null, got ${describe(f)}`,
      );
    }
    h = (Math.imul(h, 31) + (f ?? 0)) | 0;
  }
  return h;
}
