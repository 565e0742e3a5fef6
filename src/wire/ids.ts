/**
 * Flink's 16-byte identifiers: `JobID`, `KvStateID` and `JobVertexID`.
 *
 * On the wire an id is its `lowerPart` then its `upperPart`, each a
 * big-endian 64-bit integer; Flink's text form is the same 16 bytes as 32
 * lowercase hex characters. So the wire bytes are the hex string decoded left
 * to right.
 *
 * @module
 */

import { fromHex, toHex } from "./bytes.ts";

const HEX32 = /^[0-9a-fA-F]{32}$/;

/**
 * Base of the 16-byte ids. Immutable: `bytes` is a private copy.
 *
 * @example
 * ```ts
 * import { JobId } from "@kvstate/queryable-state";
 *
 * const id = JobId.fromHex("fd72014d4c864993a2e5a9287b4a9c5d");
 * id.lowerPart; // => -184083203260790381n
 * id.toString(); // => "fd72014d4c864993a2e5a9287b4a9c5d"
 * ```
 */
export abstract class AbstractId {
  readonly #bytes: Uint8Array;
  #hex: string | undefined;

  /**
   * Creates a AbstractId.
   *
   * @param bytes Exactly 16 bytes (copied).
   * @throws {TypeError} When `bytes` is not 16 bytes long.
   */
  constructor(bytes: Uint8Array) {
    if (bytes.length !== 16) {
      throw new TypeError(`An id is 16 bytes, got ${bytes.length}`);
    }
    this.#bytes = bytes.slice();
  }

  /** A copy of the 16 wire bytes. */
  get bytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /** The first 8 bytes as a signed 64-bit integer (Flink's `lowerPart`). */
  get lowerPart(): bigint {
    return new DataView(this.#bytes.buffer, this.#bytes.byteOffset).getBigInt64(0);
  }

  /** The last 8 bytes as a signed 64-bit integer (Flink's `upperPart`). */
  get upperPart(): bigint {
    return new DataView(this.#bytes.buffer, this.#bytes.byteOffset).getBigInt64(8);
  }

  /**
   * Writes the 16 wire bytes into `target` at `offset`.
   *
   * @param target The destination.
   * @param offset Where to write.
   */
  writeTo(target: Uint8Array, offset: number): void {
    target.set(this.#bytes, offset);
  }

  /**
   * Whether this id's 16 bytes equal `bytes[offset .. offset + 16)`.
   *
   * @param bytes The bytes to compare with.
   * @param offset Where the id starts in `bytes`.
   * @returns `true` when equal.
   */
  hasBytes(bytes: Uint8Array, offset = 0): boolean {
    const own = this.#bytes;
    if (bytes.length - offset < 16) return false;
    for (let i = 0; i < 16; i++) if (own[i] !== bytes[offset + i]) return false;
    return true;
  }

  /**
   * Whether two ids have the same bytes (and the same kind).
   *
   * @param other The other id.
   * @returns `true` when equal.
   */
  equals(other: AbstractId | null | undefined): boolean {
    return other != null && other.constructor === this.constructor && other.hasBytes(this.#bytes);
  }

  /**
   * Returns the 32-character lowercase hex form Flink prints.
   *
   * @returns The 32-character lowercase hex form Flink prints.
   */
  toString(): string {
    return this.#hex ??= toHex(this.#bytes);
  }

  /**
   * Returns the hex form, so ids serialize to JSON as Flink prints them.
   *
   * @returns The hex form, so ids serialize to JSON as Flink prints them.
   */
  toJSON(): string {
    return this.toString();
  }
}

function parseHex(hex: string, kind: string): Uint8Array {
  if (typeof hex !== "string" || !HEX32.test(hex)) {
    throw new TypeError(`A ${kind} is 32 hex characters, got ${JSON.stringify(hex)}`);
  }
  return fromHex(hex);
}

function fromParts(lower: bigint, upper: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt.asIntN(64, lower));
  v.setBigInt64(8, BigInt.asIntN(64, upper));
  return b;
}

function randomBytes(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

/**
 * A Flink job id (`org.apache.flink.api.common.JobID`).
 *
 * @example
 * ```ts
 * import { JobId } from "@kvstate/queryable-state";
 *
 * JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8").equals(
 *   JobId.fromParts(0x0102030405060708n, -0x5e5d5c5b5a595858n)); // => true
 * JobId.DEFAULT.toString(); // => "00000000000000000000000000000000"
 * ```
 */
export class JobId extends AbstractId {
  /** The all-zero job id (Flink's `HighAvailabilityServices.DEFAULT_JOB_ID`). */
  static readonly DEFAULT: JobId = new JobId(new Uint8Array(16));

  /**
   * Parses Flink's hex form (32 hex characters, either case).
   *
   * @param hex The hex string.
   * @returns The id.
   */
  static fromHex(hex: string): JobId {
    return new JobId(parseHex(hex, "JobID"));
  }

  /**
   * Builds an id from its two halves.
   *
   * @param lowerPart The first 8 bytes as a signed 64-bit integer.
   * @param upperPart The last 8 bytes as a signed 64-bit integer.
   * @returns The id.
   */
  static fromParts(lowerPart: bigint, upperPart: bigint): JobId {
    return new JobId(fromParts(lowerPart, upperPart));
  }

  /**
   * Returns a random id.
   *
   * @returns A random id.
   */
  static random(): JobId {
    return new JobId(randomBytes());
  }
}

/**
 * The id of one registered queryable state instance on a state server
 * (`org.apache.flink.queryablestate.KvStateID`).
 *
 * @example
 * ```ts
 * import { KvStateId } from "@kvstate/queryable-state";
 *
 * const id = KvStateId.random();
 * KvStateId.fromHex(id.toString()).equals(id); // => true
 * ```
 */
export class KvStateId extends AbstractId {
  /**
   * Parses the hex form.
   *
   * @param hex 32 hex characters.
   * @returns The id.
   */
  static fromHex(hex: string): KvStateId {
    return new KvStateId(parseHex(hex, "KvStateID"));
  }

  /**
   * Builds an id from its two halves.
   *
   * @param lowerPart The first 8 bytes as a signed 64-bit integer.
   * @param upperPart The last 8 bytes as a signed 64-bit integer.
   * @returns The id.
   */
  static fromParts(lowerPart: bigint, upperPart: bigint): KvStateId {
    return new KvStateId(fromParts(lowerPart, upperPart));
  }

  /**
   * Returns a random id, as a state server assigns on registration.
   *
   * @returns A random id, as a state server assigns on registration.
   */
  static random(): KvStateId {
    return new KvStateId(randomBytes());
  }
}

/**
 * The id of the job vertex (operator) that registered a state
 * (`org.apache.flink.runtime.jobgraph.JobVertexID`).
 *
 * @example
 * ```ts
 * import { JobVertexId } from "@kvstate/queryable-state";
 *
 * JobVertexId.fromHex("00".repeat(16)).lowerPart; // => 0n
 * ```
 */
export class JobVertexId extends AbstractId {
  /**
   * Parses the hex form.
   *
   * @param hex 32 hex characters.
   * @returns The id.
   */
  static fromHex(hex: string): JobVertexId {
    return new JobVertexId(parseHex(hex, "JobVertexID"));
  }

  /**
   * Returns a random id.
   *
   * @returns A random id.
   */
  static random(): JobVertexId {
    return new JobVertexId(randomBytes());
  }
}
