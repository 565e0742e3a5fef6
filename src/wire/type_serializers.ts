/**
 * Flink's basic-type serializers, byte for byte (PROTOCOL 8.2 and 8.3), with
 * each type's Java `hashCode()`.
 *
 * | name      | Java type  | JS type          | bytes                                  |
 * |-----------|------------|------------------|----------------------------------------|
 * | `string`  | String     | `string \| null` | StringValue: varint `n + 1`, then each UTF-16 unit as a varint (`00` = null) |
 * | `int`     | Integer    | `number`         | 4-byte big-endian                      |
 * | `long`    | Long       | `bigint`         | 8-byte big-endian                      |
 * | `double`  | Double     | `number`         | 8 bytes of `doubleToLongBits`          |
 * | `float`   | Float      | `number`         | 4 bytes of `floatToIntBits`            |
 * | `boolean` | Boolean    | `boolean`        | `01` / `00`; any non-zero reads `true` |
 * | `short`   | Short      | `number`         | 2-byte big-endian                      |
 * | `byte`    | Byte       | `number`         | 1 byte, signed                         |
 * | `char`    | Character  | `string` (1 unit)| 2-byte UTF-16 code unit                |
 * | `bytes`   | byte[]     | `Uint8Array`     | i32 length, then the bytes             |
 *
 * Writing validates the JS value (type and Java range) and throws a
 * `TypeError` naming the problem; reading is bounds-checked and throws
 * {@linkcode ProtocolError} on truncated or malformed input.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import {
  booleanHashCode,
  byteArrayHashCode,
  byteHashCode,
  charHashCode,
  doubleHashCode,
  floatHashCode,
  intHashCode,
  longHashCode,
  shortHashCode,
  stringHashCode,
} from "./java_hash_code.ts";

/**
 * The names of the supported basic types.
 *
 * @example
 * ```ts
 * import type { TypeName } from "@kvstate/queryable-state";
 *
 * const keyType: TypeName = "long";
 * keyType; // => "long"
 * ```
 */
export type TypeName =
  | "string"
  | "int"
  | "long"
  | "double"
  | "float"
  | "boolean"
  | "short"
  | "byte"
  | "char"
  | "bytes";

/**
 * The JS type that stands for each Java type (see the module table).
 *
 * @example
 * ```ts
 * import type { JsTypeMap } from "@kvstate/queryable-state";
 *
 * const count: JsTypeMap["long"] = 42n;
 * count; // => 42n
 * ```
 */
export interface JsTypeMap {
  /** `java.lang.String`; `null` is the null string (encoded `00`). */
  string: string | null;
  /** `java.lang.Integer`: an integer in the int32 range. */
  int: number;
  /** `java.lang.Long`: a bigint in the int64 range. */
  long: bigint;
  /** `java.lang.Double`: any number. */
  double: number;
  /** `java.lang.Float`: any number, rounded to float32 on write. */
  float: number;
  /** `java.lang.Boolean`. */
  boolean: boolean;
  /** `java.lang.Short`: an integer in `-32768..32767`. */
  short: number;
  /** `java.lang.Byte`: an integer in `-128..127`. */
  byte: number;
  /** `java.lang.Character`: a string of exactly one UTF-16 code unit. */
  char: string;
  /** `byte[]`. */
  bytes: Uint8Array;
}

/**
 * The JS type for a type name, e.g. `JsTypeOf<"long">` is `bigint`.
 *
 * @example
 * ```ts
 * import type { JsTypeOf } from "@kvstate/queryable-state";
 *
 * const key: JsTypeOf<"string"> = "hello";
 * key; // => "hello"
 * ```
 */
export type JsTypeOf<N extends TypeName> = JsTypeMap[N];

/**
 * A serializer for one Java type: Flink's `TypeSerializer` bytes plus the
 * type's Java `hashCode()`.
 *
 * @example
 * ```ts
 * import { ByteReader, ByteWriter, serializerFor, toHex } from "@kvstate/queryable-state/wire";
 *
 * const ser = serializerFor("int");
 * const w = new ByteWriter();
 * ser.serialize(42, w);
 * toHex(w.toBytes()); // => "0000002a"
 * ser.deserialize(new ByteReader(w.toBytes())); // => 42
 * ser.hashCode(42); // => 42
 * ```
 */
export interface TypeSerializer<T> {
  /**
   * The type's name: a {@linkcode TypeName} for the basic serializers, the
   * descriptor text (`tuple<string,long>`) for type descriptors.
   */
  readonly name: string;
  /**
   * Appends the value's bytes.
   *
   * @param value The value.
   * @param out Where to write.
   * @throws {TypeError} When the value has the wrong JS type or is out of
   *   the Java type's range.
   */
  serialize(value: T, out: ByteWriter): void;
  /**
   * Reads one value.
   *
   * @param input Where to read from; advanced past the value.
   * @returns The value.
   * @throws {ProtocolError} On truncated or malformed input.
   */
  deserialize(input: ByteReader): T;
  /**
   * The value's Java `hashCode()`.
   *
   * @param value The value.
   * @returns The hash code (an int32).
   * @throws {TypeError} As {@linkcode TypeSerializer.serialize}, and for a
   *   null string (Java would throw a `NullPointerException`).
   */
  hashCode(value: T): number;
}

/**
 * The serializer of every type name.
 *
 * @example
 * ```ts
 * import type { TypeSerializerRegistry } from "@kvstate/queryable-state";
 * import { TYPE_SERIALIZERS } from "@kvstate/queryable-state";
 *
 * const registry: TypeSerializerRegistry = TYPE_SERIALIZERS;
 * registry.long.name; // => "long"
 * ```
 */
export type TypeSerializerRegistry = { readonly [N in TypeName]: TypeSerializer<JsTypeOf<N>> };

// ---------------------------------------------------------------------------
// Validation

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function describe(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") {
    return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  }
  if (v === null) return "null";
  if (typeof v === "object") return Object.prototype.toString.call(v);
  return String(v);
}

function badValue(type: TypeName, expected: string, v: unknown): TypeError {
  return new TypeError(`Cannot serialize ${describe(v)} as a Java ${type}: expected ${expected}`);
}

function checkInteger(type: TypeName, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw badValue(type, `an integer number in ${min}..${max}`, v);
  }
  return v;
}

// ---------------------------------------------------------------------------
// StringValue (PROTOCOL 8.3)

/** Longest varint for a StringValue length (an int32: 5 groups of 7 bits). */
const MAX_LENGTH_VARINT_BYTES = 5;
/** Longest varint for one UTF-16 code unit (16 bits: 3 groups of 7 bits). */
const MAX_CHAR_VARINT_BYTES = 3;
const MAX_STRING_VALUE_LENGTH = 0x7fffffff;

function writeVarint(out: ByteWriter, v: number): void {
  while (v >= 0x80) {
    out.writeUint8((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.writeUint8(v);
}

/** Throws the reader's truncation error for a read at `pos`. */
function truncated(input: ByteReader, pos: number, need: number): never {
  input.offset = pos;
  input.require(need);
  // require() always throws here; this keeps the types honest.
  throw new ProtocolError("Truncated input", "java.io.EOFException");
}

function malformed(message: string): ProtocolError {
  return new ProtocolError(`Malformed StringValue: ${message}`, "java.io.UTFDataFormatException");
}

// Scratch buffer for decoded code units (decoding is synchronous, so one is enough).
let unitScratch = new Uint16Array(256);
const FROM_CHAR_CODE_CHUNK = 8192;

function unitsToString(units: Uint16Array, n: number): string {
  if (n <= FROM_CHAR_CODE_CHUNK) {
    return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
  }
  let s = "";
  for (let i = 0; i < n; i += FROM_CHAR_CODE_CHUNK) {
    const chunk = units.subarray(i, Math.min(n, i + FROM_CHAR_CODE_CHUNK));
    s += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return s;
}

/**
 * Reads a StringValue varint of at most `maxBytes` bytes at `input.offset`
 * and advances past it. Non-minimal encodings (e.g. `80 00` for 0) are
 * accepted, as Java accepts them.
 */
function readVarint(input: ByteReader, maxBytes: number, what: string): number {
  const bytes = input.bytes;
  let pos = input.offset;
  if (pos >= bytes.length) truncated(input, pos, 1);
  let b = bytes[pos++];
  if (b < 0x80) {
    input.offset = pos;
    return b;
  }
  let value = b & 0x7f;
  let scale = 0x80;
  for (let i = 1;; i++) {
    if (i >= maxBytes) {
      throw malformed(`${what} varint is longer than ${maxBytes} bytes`);
    }
    if (pos >= bytes.length) truncated(input, pos, 1);
    b = bytes[pos++];
    if (b < 0x80) {
      input.offset = pos;
      return value + b * scale;
    }
    value += (b & 0x7f) * scale;
    scale *= 0x80;
  }
}

function writeStringValue(value: string | null, out: ByteWriter): void {
  if (value === null) {
    out.writeUint8(0);
    return;
  }
  if (typeof value !== "string") throw badValue("string", "a string or null", value);
  const n = value.length;
  writeVarint(out, n + 1);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) out.writeUint8(c);
    else writeVarint(out, c);
  }
}

function readStringValue(input: ByteReader): string | null {
  const len = readVarint(input, MAX_LENGTH_VARINT_BYTES, "length");
  if (len > MAX_STRING_VALUE_LENGTH) {
    throw malformed(`length ${len - 1} is out of range`);
  }
  if (len === 0) return null;
  const n = len - 1;
  // Every code unit takes at least one byte: refuse absurd lengths before allocating.
  if (n > input.remaining) truncated(input, input.offset, n);
  let units = unitScratch;
  if (units.length < n) {
    units = new Uint16Array(Math.max(n, units.length * 2));
    if (units.length <= 65536) unitScratch = units;
  }
  const bytes = input.bytes;
  const end = bytes.length;
  let pos = input.offset;
  for (let i = 0; i < n; i++) {
    if (pos < end && bytes[pos] < 0x80) {
      units[i] = bytes[pos++]; // one-byte fast path
      continue;
    }
    input.offset = pos;
    const c = readVarint(input, MAX_CHAR_VARINT_BYTES, "code unit");
    if (c > 0xffff) throw malformed(`code unit ${c} exceeds 0xffff`);
    units[i] = c;
    pos = input.offset;
  }
  input.offset = pos;
  return n === 0 ? "" : unitsToString(units, n);
}

// ---------------------------------------------------------------------------
// The serializers

const STRING: TypeSerializer<string | null> = Object.freeze({
  name: "string" as const,
  serialize: writeStringValue,
  deserialize: readStringValue,
  hashCode(value: string | null): number {
    if (value === null) {
      throw new TypeError("Cannot compute the Java hashCode() of a null string");
    }
    if (typeof value !== "string") throw badValue("string", "a string", value);
    return stringHashCode(value);
  },
});

const INT: TypeSerializer<number> = Object.freeze({
  name: "int" as const,
  serialize(value: number, out: ByteWriter): void {
    out.writeInt32(checkInteger("int", value, -2147483648, 2147483647));
  },
  deserialize(input: ByteReader): number {
    return input.readInt32();
  },
  hashCode(value: number): number {
    return intHashCode(checkInteger("int", value, -2147483648, 2147483647));
  },
});

function checkLong(value: unknown): bigint {
  if (typeof value !== "bigint" || value < INT64_MIN || value > INT64_MAX) {
    throw badValue(
      "long",
      `a bigint in ${INT64_MIN}..${INT64_MAX}` +
        (typeof value === "number" ? " (use BigInt(x) for numbers)" : ""),
      value,
    );
  }
  return value;
}

const LONG: TypeSerializer<bigint> = Object.freeze({
  name: "long" as const,
  serialize(value: bigint, out: ByteWriter): void {
    out.writeInt64(checkLong(value));
  },
  deserialize(input: ByteReader): bigint {
    return input.readInt64();
  },
  hashCode(value: bigint): number {
    return longHashCode(checkLong(value));
  },
});

function checkNumber(type: TypeName, value: unknown): number {
  if (typeof value !== "number") throw badValue(type, "a number", value);
  return value;
}

const DOUBLE: TypeSerializer<number> = Object.freeze({
  name: "double" as const,
  serialize(value: number, out: ByteWriter): void {
    if (checkNumber("double", value) !== value) {
      // doubleToLongBits: every NaN becomes 0x7ff8000000000000.
      out.writeInt32(0x7ff80000);
      out.writeInt32(0);
    } else {
      out.writeFloat64(value);
    }
  },
  deserialize(input: ByteReader): number {
    return input.readFloat64();
  },
  hashCode(value: number): number {
    return doubleHashCode(checkNumber("double", value));
  },
});

const FLOAT: TypeSerializer<number> = Object.freeze({
  name: "float" as const,
  serialize(value: number, out: ByteWriter): void {
    if (checkNumber("float", value) !== value) {
      out.writeInt32(0x7fc00000); // floatToIntBits' canonical NaN
    } else {
      out.writeFloat32(value);
    }
  },
  deserialize(input: ByteReader): number {
    return input.readFloat32();
  },
  hashCode(value: number): number {
    return floatHashCode(checkNumber("float", value));
  },
});

function checkBoolean(value: unknown): boolean {
  if (typeof value !== "boolean") throw badValue("boolean", "true or false", value);
  return value;
}

const BOOLEAN: TypeSerializer<boolean> = Object.freeze({
  name: "boolean" as const,
  serialize(value: boolean, out: ByteWriter): void {
    out.writeUint8(checkBoolean(value) ? 1 : 0);
  },
  deserialize(input: ByteReader): boolean {
    return input.readUint8() !== 0;
  },
  hashCode(value: boolean): number {
    return booleanHashCode(checkBoolean(value));
  },
});

const SHORT: TypeSerializer<number> = Object.freeze({
  name: "short" as const,
  serialize(value: number, out: ByteWriter): void {
    out.writeInt16(checkInteger("short", value, -32768, 32767));
  },
  deserialize(input: ByteReader): number {
    return input.readInt16();
  },
  hashCode(value: number): number {
    return shortHashCode(checkInteger("short", value, -32768, 32767));
  },
});

const BYTE: TypeSerializer<number> = Object.freeze({
  name: "byte" as const,
  serialize(value: number, out: ByteWriter): void {
    out.writeUint8(checkInteger("byte", value, -128, 127) & 0xff);
  },
  deserialize(input: ByteReader): number {
    return input.readInt8();
  },
  hashCode(value: number): number {
    return byteHashCode(checkInteger("byte", value, -128, 127));
  },
});

function checkChar(value: unknown): string {
  if (typeof value !== "string" || value.length !== 1) {
    throw badValue("char", "a string of exactly one UTF-16 code unit", value);
  }
  return value;
}

const CHAR: TypeSerializer<string> = Object.freeze({
  name: "char" as const,
  serialize(value: string, out: ByteWriter): void {
    out.writeUint16(checkChar(value).charCodeAt(0));
  },
  deserialize(input: ByteReader): string {
    return String.fromCharCode(input.readUint16());
  },
  hashCode(value: string): number {
    return charHashCode(checkChar(value));
  },
});

function checkBytes(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw badValue("bytes", "a Uint8Array", value);
  return value;
}

const BYTES: TypeSerializer<Uint8Array> = Object.freeze({
  name: "bytes" as const,
  serialize(value: Uint8Array, out: ByteWriter): void {
    checkBytes(value);
    out.writeInt32(value.length);
    out.writeBytes(value);
  },
  deserialize(input: ByteReader): Uint8Array {
    const len = input.readInt32();
    if (len < 0) {
      throw new ProtocolError(
        `Negative byte array length: ${len}`,
        "java.lang.NegativeArraySizeException",
      );
    }
    // A copy: the result must not alias (and pin) the frame it came from.
    return input.readBytes(len).slice();
  },
  hashCode(value: Uint8Array): number {
    return byteArrayHashCode(checkBytes(value));
  },
});

/**
 * The serializers of the basic types, by name. Each is stateless, frozen
 * and shared.
 *
 * * `string` is Flink's `StringSerializer` (StringValue encoding). Reading
 *   rejects a length or code-unit varint longer than Java could write (5 and
 *   3 bytes) or out of range, with a {@linkcode ProtocolError}
 *   (`java.io.UTFDataFormatException`); non-minimal varints are accepted, as
 *   Java accepts them. Lone surrogates pass through unchanged both ways.
 * * `bytes` is Flink's `BytePrimitiveArraySerializer`; reading returns a
 *   copy and rejects a negative length (`java.lang.NegativeArraySizeException`).
 *   Its `hashCode` is `Arrays.hashCode(byte[])`: a Java `byte[]` has an
 *   identity hash and cannot be a Flink key, so use `bytes` for values.
 * * `double` and `float` write the canonical NaN bit patterns, as
 *   `doubleToLongBits` / `floatToIntBits` do; `float` rounds to float32.
 *
 * @example
 * ```ts
 * import { ByteWriter, toHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * const w = new ByteWriter();
 * TYPE_SERIALIZERS.string.serialize("é", w);
 * TYPE_SERIALIZERS.boolean.serialize(true, w);
 * toHex(w.toBytes()); // => "02e90101"
 * TYPE_SERIALIZERS.long.hashCode(4294967296n); // => 1
 * ```
 */
export const TYPE_SERIALIZERS: TypeSerializerRegistry = Object.freeze({
  string: STRING,
  int: INT,
  long: LONG,
  double: DOUBLE,
  float: FLOAT,
  boolean: BOOLEAN,
  short: SHORT,
  byte: BYTE,
  char: CHAR,
  bytes: BYTES,
});

/**
 * Every supported type name.
 *
 * @example
 * ```ts
 * import { TYPE_NAMES } from "@kvstate/queryable-state/wire";
 *
 * TYPE_NAMES.includes("long"); // => true
 * ```
 */
export const TYPE_NAMES: readonly TypeName[] = Object.freeze(
  Object.keys(TYPE_SERIALIZERS) as TypeName[],
);

/**
 * Whether a value is one of the supported type names.
 *
 * @example
 * ```ts
 * import { isTypeName } from "@kvstate/queryable-state/wire";
 *
 * isTypeName("int"); // => true
 * isTypeName("Integer"); // => false
 * ```
 *
 * @param name Any value.
 * @returns `true` when `name` is a {@linkcode TypeName}.
 */
export function isTypeName(name: unknown): name is TypeName {
  return typeof name === "string" && Object.hasOwn(TYPE_SERIALIZERS, name);
}

/**
 * The serializer for a type name, e.g. from configuration.
 *
 * @example
 * ```ts
 * import { serializerFor } from "@kvstate/queryable-state";
 *
 * serializerFor("long").hashCode(-1n); // => 0
 * ```
 *
 * @param name The type name.
 * @returns The serializer.
 * @throws {TypeError} When `name` is not a supported type name; the message
 *   names it and lists the supported ones.
 */
export function serializerFor<N extends TypeName>(name: N): TypeSerializer<JsTypeOf<N>> {
  if (!isTypeName(name)) {
    throw new TypeError(
      `Unsupported type ${describe(name)}: expected one of ${TYPE_NAMES.join(", ")}`,
    );
  }
  return TYPE_SERIALIZERS[name] as TypeSerializer<JsTypeOf<N>>;
}

/**
 * Serializes one value into a new byte array (Flink's
 * `KvStateSerializer.serializeValue`, except that a null string gives `00`
 * rather than no bytes).
 *
 * @example
 * ```ts
 * import { serializeValue, toHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(TYPE_SERIALIZERS.long, 42n)); // => "000000000000002a"
 * toHex(serializeValue(TYPE_SERIALIZERS.string, "hello")); // => "0668656c6c6f"
 * ```
 *
 * @param serializer The value's serializer.
 * @param value The value.
 * @returns The bytes (a view of exactly the written length).
 * @throws {TypeError} When the value does not fit the serializer's type.
 */
export function serializeValue<T>(serializer: TypeSerializer<T>, value: T): Uint8Array {
  const out = new ByteWriter(16);
  serializer.serialize(value, out);
  return out.toBytes();
}

/**
 * Deserializes exactly one value from `bytes` (Flink's
 * `KvStateSerializer.deserializeValue`): bytes left over after the value are
 * an error, as in Java.
 *
 * @example
 * ```ts
 * import { deserializeValue, fromHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * deserializeValue(TYPE_SERIALIZERS.long, fromHex("000000000000002a")); // => 42n
 * ```
 *
 * @param serializer The value's serializer.
 * @param bytes The serialized value.
 * @returns The value.
 * @throws {ProtocolError} `java.io.IOException` "Unconsumed bytes in the
 *   deserialized value. …" when bytes are left over; the serializer's
 *   errors (truncation: `java.lang.IndexOutOfBoundsException`) otherwise.
 */
export function deserializeValue<T>(serializer: TypeSerializer<T>, bytes: Uint8Array): T {
  const input = new ByteReader(bytes);
  const value = serializer.deserialize(input);
  if (input.remaining > 0) {
    throw new ProtocolError(
      "Unconsumed bytes in the deserialized value. This indicates a mismatch in the value serializers used by the KvState instance and this access.",
      "java.io.IOException",
    );
  }
  return value;
}
