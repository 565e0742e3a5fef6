/**
 * Big-endian byte reading and writing, and hex conversion.
 *
 * These are the primitives every codec in `src/wire/` is built on. The reader
 * checks bounds on every read and throws {@linkcode ProtocolError} (mapped to
 * Java's `IndexOutOfBoundsException`) instead of returning garbage, so a
 * truncated frame can never be read past its end.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

const HEX = "0123456789abcdef";
const HEX_PAIRS: string[] = Array.from(
  { length: 256 },
  (_, i) => HEX[i >> 4] + HEX[i & 15],
);

/**
 * Encodes bytes as lowercase hex, two characters per byte.
 *
 * @example Hex of three bytes
 * ```ts
 * import { toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(new Uint8Array([0x79, 0xa1, 0x0b])); // => "79a10b"
 * ```
 *
 * @param bytes The bytes to encode.
 * @returns The lowercase hex string.
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]];
  return out;
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Decodes a hex string (upper- or lowercase, even length) into bytes.
 *
 * @example Round trip
 * ```ts
 * import { fromHex, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(fromHex("CAFEbabe")); // => "cafebabe"
 * ```
 *
 * @param hex The hex string.
 * @returns The decoded bytes.
 * @throws {TypeError} When the string has an odd length or a non-hex character.
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) {
    throw new TypeError(`Hex string has an odd length (${hex.length})`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i));
    const lo = hexNibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      throw new TypeError(`Invalid hex character near offset ${2 * i} in "${hex.slice(0, 40)}"`);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/**
 * Concatenates byte arrays into one new array.
 *
 * @example Join two arrays
 * ```ts
 * import { concatBytes } from "@kvstate/queryable-state/wire";
 *
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // => new Uint8Array([1, 2, 3])
 * ```
 *
 * @param parts The arrays to join, in order.
 * @returns A new array holding all bytes.
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Returns whether two byte arrays hold the same bytes.
 *
 * @example Compare
 * ```ts
 * import { bytesEqual } from "@kvstate/queryable-state/wire";
 *
 * bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])); // => true
 * ```
 *
 * @param a First array.
 * @param b Second array.
 * @returns `true` when lengths and every byte are equal.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A bounds-checked big-endian reader over a byte array, as Java's
 * `DataInput` / Netty's `ByteBuf` read it.
 *
 * Every read past the end throws a {@linkcode ProtocolError} whose Java class
 * is `java.lang.IndexOutOfBoundsException`.
 *
 * @example Read a header
 * ```ts
 * import { ByteReader } from "@kvstate/queryable-state/wire";
 *
 * const r = new ByteReader(new Uint8Array([0x79, 0xa1, 0xb7, 0x10, 0, 0, 0, 1]));
 * r.readInt32(); // => 0x79a1b710
 * r.readInt32(); // => 1
 * r.remaining; // => 0
 * ```
 */
export class ByteReader {
  /** The bytes being read. */
  readonly bytes: Uint8Array;
  /** The read position, relative to `bytes`. */
  offset: number;
  readonly #view: DataView;

  /**
   * Creates a reader.
   *
   * @param bytes The bytes to read.
   * @param offset Where to start reading.
   */
  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The number of bytes left to read. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /**
   * Throws unless `n` more bytes can be read.
   *
   * @param n The number of bytes needed.
   */
  require(n: number): void {
    if (n < 0 || this.offset + n > this.bytes.length) {
      throw new ProtocolError(
        `readerIndex(${this.offset}) + length(${n}) exceeds writerIndex(${this.bytes.length})`,
        "java.lang.IndexOutOfBoundsException",
      );
    }
  }

  /** Reads one unsigned byte. @returns The byte, 0-255. */
  readUint8(): number {
    this.require(1);
    return this.bytes[this.offset++];
  }

  /** Reads one signed byte. @returns The byte, -128-127. */
  readInt8(): number {
    this.require(1);
    return this.#view.getInt8(this.offset++);
  }

  /** Reads a big-endian unsigned 16-bit integer. @returns The value. */
  readUint16(): number {
    this.require(2);
    const v = this.#view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  /** Reads a big-endian signed 16-bit integer. @returns The value. */
  readInt16(): number {
    this.require(2);
    const v = this.#view.getInt16(this.offset);
    this.offset += 2;
    return v;
  }

  /** Reads a big-endian signed 32-bit integer. @returns The value. */
  readInt32(): number {
    this.require(4);
    const v = this.#view.getInt32(this.offset);
    this.offset += 4;
    return v;
  }

  /** Reads a big-endian signed 64-bit integer. @returns The value. */
  readInt64(): bigint {
    this.require(8);
    const v = this.#view.getBigInt64(this.offset);
    this.offset += 8;
    return v;
  }

  /** Reads a big-endian IEEE 754 float. @returns The value. */
  readFloat32(): number {
    this.require(4);
    const v = this.#view.getFloat32(this.offset);
    this.offset += 4;
    return v;
  }

  /** Reads a big-endian IEEE 754 double. @returns The value. */
  readFloat64(): number {
    this.require(8);
    const v = this.#view.getFloat64(this.offset);
    this.offset += 8;
    return v;
  }

  /**
   * Reads `n` bytes as a view (no copy).
   *
   * @param n The number of bytes.
   * @returns A subarray of the underlying bytes.
   */
  readBytes(n: number): Uint8Array {
    this.require(n);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /**
   * Skips `n` bytes.
   *
   * @param n The number of bytes.
   */
  skip(n: number): void {
    this.require(n);
    this.offset += n;
  }
}

/**
 * A growable big-endian writer, as Java's `DataOutputSerializer` writes.
 *
 * @example Write an int and a long
 * ```ts
 * import { ByteWriter, toHex } from "@kvstate/queryable-state/wire";
 *
 * const w = new ByteWriter();
 * w.writeInt32(42);
 * w.writeInt64(-1n);
 * toHex(w.toBytes()); // => "0000002a" + "ffffffffffffffff"
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  /**
   * Creates a writer.
   *
   * @param initialCapacity The starting buffer size in bytes.
   */
  constructor(initialCapacity = 64) {
    this.#buf = new Uint8Array(Math.max(8, initialCapacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** The number of bytes written so far. */
  get length(): number {
    return this.#len;
  }

  #ensure(n: number): void {
    const need = this.#len + n;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Writes one byte (the low 8 bits of `v`). @param v The value. */
  writeUint8(v: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = v;
  }

  /** Writes a big-endian 16-bit integer. @param v The value. */
  writeUint16(v: number): void {
    this.#ensure(2);
    this.#view.setUint16(this.#len, v);
    this.#len += 2;
  }

  /** Writes a big-endian signed 16-bit integer. @param v The value. */
  writeInt16(v: number): void {
    this.#ensure(2);
    this.#view.setInt16(this.#len, v);
    this.#len += 2;
  }

  /** Writes a big-endian signed 32-bit integer. @param v The value. */
  writeInt32(v: number): void {
    this.#ensure(4);
    this.#view.setInt32(this.#len, v);
    this.#len += 4;
  }

  /** Writes a big-endian signed 64-bit integer. @param v The value. */
  writeInt64(v: bigint): void {
    this.#ensure(8);
    this.#view.setBigInt64(this.#len, BigInt.asIntN(64, v));
    this.#len += 8;
  }

  /** Writes a big-endian IEEE 754 float. @param v The value. */
  writeFloat32(v: number): void {
    this.#ensure(4);
    this.#view.setFloat32(this.#len, v);
    this.#len += 4;
  }

  /** Writes a big-endian IEEE 754 double. @param v The value. */
  writeFloat64(v: number): void {
    this.#ensure(8);
    this.#view.setFloat64(this.#len, v);
    this.#len += 8;
  }

  /** Writes raw bytes. @param bytes The bytes. */
  writeBytes(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  /**
   * Overwrites a big-endian 32-bit integer at an earlier position.
   *
   * @param offset Where to write.
   * @param v The value.
   */
  setInt32(offset: number, v: number): void {
    this.#view.setInt32(offset, v);
  }

  /**
   * Returns a copy-free view of the bytes written so far.
   *
   * @returns A copy-free view of the bytes written so far.
   */
  toBytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}
