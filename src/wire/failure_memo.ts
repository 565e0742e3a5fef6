/**
 * A small memory of failure bodies (the Java serialization of a Throwable
 * that a REQUEST_FAILURE carries), each with what was learnt from it, so that
 * the same bytes (a state server answers every miss with the same failure)
 * are recognised by a byte comparison instead of being parsed again. The
 * proxy keeps the bodies it validated as relayable unchanged; the client
 * keeps the throwables it parsed (see `failure_decoder.ts`).
 *
 * @module
 */

/** The default of {@linkcode FailureMemo}'s `capacity`: 8 bodies. */
export const DEFAULT_FAILURE_MEMO_CAPACITY = 8;
/** The default of {@linkcode FailureMemo}'s `maxBodyLength`: 64 KiB. */
export const DEFAULT_FAILURE_MEMO_MAX_BODY_LENGTH = 64 * 1024;

/**
 * A bounded memo from failure bodies to a value: up to `capacity` (default
 * 8) copies of bodies, each at most `maxBodyLength` bytes (default 64 KiB),
 * so at most `capacity × maxBodyLength` bytes of bodies (512 KiB by
 * default); the oldest entry is replaced first. Lookups compare bytes: no
 * parsing, and no allocation but a `DataView` of the frame when a body of
 * its length is held. `T` is what is remembered with a body. Internal
 * (not exported from the package).
 *
 * @example A body in a frame, with its outcome (the proxy's use)
 * ```ts
 * import { FailureMemo } from "./failure_memo.ts";
 *
 * const memo = new FailureMemo<string>();
 * const frame = new Uint8Array([0, 0, 0, 19, 0x79, 0xa1, 0xb7, 0x10, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xac, 0xed, 0]);
 * memo.has(frame, 20); // => false
 * memo.add(frame.subarray(20), "unknown_key");
 * memo.get(frame, 20); // => "unknown_key"
 * ```
 *
 * @example A value per body
 * ```ts
 * import { FailureMemo } from "./failure_memo.ts";
 *
 * const memo = new FailureMemo<string>(2, 4);
 * memo.add(new Uint8Array([1, 2]), "first");
 * memo.add(new Uint8Array([1, 2, 3, 4, 5]), "too long: not kept");
 * memo.get(new Uint8Array([9, 1, 2]), 1); // => "first"
 * memo.get(new Uint8Array([1, 2, 3, 4, 5]), 0); // => undefined
 * memo.size; // => 1
 * memo.bytes; // => 2
 * ```
 */
export class FailureMemo<T> {
  readonly #bodies: Uint8Array[] = [];
  readonly #views: DataView[] = [];
  readonly #values: T[] = [];
  /** The most entries held. */
  readonly capacity: number;
  /** The longest body held, in bytes. */
  readonly maxBodyLength: number;
  #next = 0;
  #bytes = 0;

  /**
   * Creates a memo.
   *
   * @param capacity The most bodies remembered. Default 8.
   * @param maxBodyLength The longest body remembered, in bytes. Default 64 KiB.
   * @throws {RangeError} When `capacity` is not a non-negative integer or
   * `maxBodyLength` is negative.
   */
  constructor(
    capacity: number = DEFAULT_FAILURE_MEMO_CAPACITY,
    maxBodyLength: number = DEFAULT_FAILURE_MEMO_MAX_BODY_LENGTH,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    }
    if (!(maxBodyLength >= 0)) {
      throw new RangeError(`maxBodyLength must be >= 0, got ${maxBodyLength}`);
    }
    this.capacity = capacity;
    this.maxBodyLength = maxBodyLength;
  }

  /** The number of bodies held. */
  get size(): number {
    return this.#bodies.length;
  }

  /** The bytes of the bodies held (at most `capacity × maxBodyLength`). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * What is remembered with the body `frame[from..]`. The bytes are compared
   * sixteen a turn through a `DataView` of the frame (made only when a body
   * of the same length is held).
   *
   * @param frame The frame (or the body itself, with `from` 0).
   * @param from Where the body starts in it.
   * @returns The value, or `undefined` when no body held equals those bytes.
   */
  get(frame: Uint8Array, from: number): T | undefined {
    const n = frame.length - from;
    const bodies = this.#bodies;
    let view: DataView | undefined;
    for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i];
      if (b.length !== n) continue;
      view ??= new DataView(frame.buffer, frame.byteOffset + from, n);
      if (sameWords(b, this.#views[i], view, frame, from)) return this.#values[i];
    }
    return undefined;
  }

  /**
   * Whether `frame[from..]` is one of the bodies remembered (compared as
   * {@linkcode FailureMemo.get} compares).
   *
   * @param frame The frame.
   * @param from Where the body starts in it.
   * @returns `true` when the bytes equal a remembered body.
   */
  has(frame: Uint8Array, from: number): boolean {
    return this.get(frame, from) !== undefined;
  }

  /**
   * Remembers a copy of a body with its value (ignored when the body is
   * longer than `maxBodyLength`, or the capacity is 0), replacing the oldest
   * entry when full.
   *
   * @param body The body.
   * @param value What to remember with it (not `undefined`).
   */
  add(body: Uint8Array, value: T): void {
    if (this.capacity === 0 || body.length > this.maxBodyLength) return;
    const i = this.#next;
    this.#bytes += body.length - (this.#bodies[i]?.length ?? 0);
    const copy = body.slice();
    this.#bodies[i] = copy;
    this.#views[i] = new DataView(copy.buffer);
    this.#values[i] = value;
    this.#next = (i + 1) % this.capacity;
  }

  /** Forgets everything. */
  clear(): void {
    this.#bodies.length = 0;
    this.#views.length = 0;
    this.#values.length = 0;
    this.#next = 0;
    this.#bytes = 0;
  }
}

/**
 * Whether `body` (seen through `bodyView`) equals the bytes of `frame` from
 * `from` (seen through `frameView`, of the same length): sixteen bytes a
 * turn, then four at a time, the last few one by one.
 */
function sameWords(
  body: Uint8Array,
  bodyView: DataView,
  frameView: DataView,
  frame: Uint8Array,
  from: number,
): boolean {
  const n = body.length;
  let j = 0;
  // Little-endian reads (the machine's order on the usual hosts: no byte
  // swap; equality does not care), sixteen bytes a turn.
  for (; j + 16 <= n; j += 16) {
    if (
      frameView.getInt32(j, true) !== bodyView.getInt32(j, true) ||
      frameView.getInt32(j + 4, true) !== bodyView.getInt32(j + 4, true) ||
      frameView.getInt32(j + 8, true) !== bodyView.getInt32(j + 8, true) ||
      frameView.getInt32(j + 12, true) !== bodyView.getInt32(j + 12, true)
    ) return false;
  }
  for (; j + 4 <= n; j += 4) {
    if (frameView.getInt32(j, true) !== bodyView.getInt32(j, true)) return false;
  }
  for (; j < n; j++) if (body[j] !== frame[from + j]) return false;
  return true;
}
