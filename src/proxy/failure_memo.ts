/**
 * The last few failure bodies a proxy validated and found it may relay as
 * they came, so that the same bytes (a state server answers every miss with
 * the same failure) are recognised by a byte comparison instead of being
 * parsed again.
 *
 * @module
 */

/** The default of {@linkcode FailureMemo}'s `capacity`. */
const DEFAULT_CAPACITY = 8;
/** The default of {@linkcode FailureMemo}'s `maxBodyLength`: 64 KiB. */
const DEFAULT_MAX_BODY_LENGTH = 64 * 1024;

/**
 * A small memory of validated failure bodies: up to `capacity` (default 8)
 * copies, each at most `maxBodyLength` bytes (default 64 KiB), the oldest
 * replaced first. Lookups compare bytes, no parsing and no allocation.
 * Internal to the proxy (not exported from the package).
 *
 * @example
 * ```ts
 * import { FailureMemo } from "./failure_memo.ts";
 *
 * const memo = new FailureMemo();
 * const frame = new Uint8Array([0, 0, 0, 19, 0x79, 0xa1, 0xb7, 0x10, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xac, 0xed, 0]);
 * memo.has(frame, 20); // => false
 * memo.add(frame.subarray(20));
 * memo.has(frame, 20); // => true
 * ```
 */
export class FailureMemo {
  readonly #bodies: Uint8Array[] = [];
  readonly #capacity: number;
  readonly #maxBodyLength: number;
  #next = 0;

  /**
   * Creates a memo.
   *
   * @param capacity The most bodies remembered. Default 8.
   * @param maxBodyLength The longest body remembered, in bytes. Default 64 KiB.
   */
  constructor(
    capacity: number = DEFAULT_CAPACITY,
    maxBodyLength: number = DEFAULT_MAX_BODY_LENGTH,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    }
    if (!(maxBodyLength >= 0)) {
      throw new RangeError(`maxBodyLength must be >= 0, got ${maxBodyLength}`);
    }
    this.#capacity = capacity;
    this.#maxBodyLength = maxBodyLength;
  }

  /**
   * Whether `frame[from..]` is one of the bodies remembered.
   *
   * @param frame The frame.
   * @param from Where the body starts in it.
   * @returns `true` when the bytes equal a remembered body.
   */
  has(frame: Uint8Array, from: number): boolean {
    const n = frame.length - from;
    const bodies = this.#bodies;
    outer: for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i];
      if (b.length !== n) continue;
      for (let j = 0; j < n; j++) if (b[j] !== frame[from + j]) continue outer;
      return true;
    }
    return false;
  }

  /**
   * Remembers a copy of a body (ignored when longer than `maxBodyLength`),
   * replacing the oldest when full.
   *
   * @param body The validated body.
   */
  add(body: Uint8Array): void {
    if (this.#capacity === 0 || body.length > this.#maxBodyLength) return;
    this.#bodies[this.#next] = body.slice();
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** Forgets everything. */
  clear(): void {
    this.#bodies.length = 0;
    this.#next = 0;
  }
}
