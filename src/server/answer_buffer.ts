/**
 * Where a served connection gathers its answers until they are written: one
 * growing buffer per batch, the frames written into it in place, so that an
 * answer costs a copy into the batch and no buffer of its own.
 *
 * @module
 */

const NO_BYTES = new Uint8Array(0);

/** The smallest buffer a batch starts with. */
const MIN_CAPACITY = 256;
/** A batch starts at most this large, whatever the last one took. */
const MAX_START_CAPACITY = 64 * 1024;

/**
 * The answers of one batch, written in place: {@linkcode AnswerBuffer.reserve}
 * makes room and returns the buffer to write at `length`,
 * {@linkcode AnswerBuffer.take} hands the batch over (the caller must not
 * modify it afterwards) and the next batch starts in a new buffer, sized
 * after the last one. Holds no buffer between batches, so an idle
 * connection costs nothing here. A batch of one appended answer is handed
 * over as it is, without a copy.
 *
 * @example
 * ```ts
 * import { AnswerBuffer } from "./answer_buffer.ts";
 *
 * const out = new AnswerBuffer();
 * out.append(new Uint8Array([1, 2]));
 * const b = out.reserve(1);
 * b[out.length++] = 3;
 * Array.from(out.take()); // => [1, 2, 3]
 * out.length; // => 0
 * ```
 */
export class AnswerBuffer {
  /** The buffer of the current batch (empty before its first answer written in place). */
  bytes: Uint8Array = NO_BYTES;
  /** The bytes in the current batch. */
  length = 0;
  /** A batch of one appended answer: that answer, not copied yet. */
  #single: Uint8Array | null = null;
  /** How large the next batch starts. */
  #startCapacity = MIN_CAPACITY;

  /**
   * Makes room for `n` more bytes.
   *
   * @param n The bytes about to be written.
   * @returns The buffer to write them into, at `length` (then add `n` to `length`).
   */
  reserve(n: number): Uint8Array {
    const need = this.length + n;
    if (need <= this.bytes.length && this.#single === null) return this.bytes;
    const grown = new Uint8Array(Math.max(need, this.bytes.length * 2, this.#startCapacity));
    const single = this.#single;
    if (single !== null) {
      grown.set(single);
      this.#single = null;
    } else if (this.length !== 0) grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    return grown;
  }

  /**
   * Appends `bytes` (copied, unless they stay the batch's only answer: they
   * must not be modified afterwards).
   *
   * @param bytes The bytes.
   */
  append(bytes: Uint8Array): void {
    if (this.length === 0) {
      // Kept as it is until another answer joins it.
      this.#single = bytes;
      this.length = bytes.length;
      return;
    }
    this.reserve(bytes.length).set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * Hands the batch over and starts the next one.
   *
   * @returns The bytes written since the last `take` (not to be modified).
   */
  take(): Uint8Array {
    const n = this.length;
    const single = this.#single;
    this.#single = null;
    const out = single !== null
      ? single
      : n === this.bytes.length
      ? this.bytes
      : this.bytes.subarray(0, n);
    let start = MIN_CAPACITY;
    while (start < n && start < MAX_START_CAPACITY) start *= 2;
    this.#startCapacity = start;
    this.bytes = NO_BYTES;
    this.length = 0;
    return out;
  }

  /** Drops the current batch. */
  clear(): void {
    this.bytes = NO_BYTES;
    this.length = 0;
    this.#single = null;
  }
}
