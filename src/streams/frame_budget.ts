/**
 * One memory budget shared by the frame decoders of many connections: the
 * bytes held for frames that are not complete yet. A decoder reserves its
 * carry-over buffer from it before allocating; when the budget is spent, the
 * decoder fails with {@linkcode FrameBudgetError} instead of allocating.
 *
 * @module
 */

import { ProtocolError } from "../wire/errors.ts";

/** The default of a server's `maxIncompleteFrameBytes`: 128 MiB. */
export const DEFAULT_MAX_INCOMPLETE_FRAME_BYTES: number = 128 * 1024 * 1024;

/**
 * A byte budget shared by several decoders (and, in a server, by the frames
 * of the requests in progress). Plain counters: single-threaded, no locks.
 *
 * @example Two decoders on one 64-byte budget
 * ```ts
 * import { DecoderState, FrameBudget, FrameBudgetError } from "@kvstate/queryable-state/streams";
 *
 * const budget = new FrameBudget(64);
 * const a = new DecoderState(1024, budget);
 * const b = new DecoderState(1024, budget);
 * a.push(new Uint8Array([0, 0, 0, 40, 1, 2]), []); // => null
 * budget.used; // => 44
 * b.push(new Uint8Array([0, 0, 0, 40, 1, 2]), []) instanceof FrameBudgetError; // => true
 * a.reset();
 * budget.used; // => 0
 * ```
 */
export class FrameBudget {
  /** The most bytes reserved at once. */
  readonly max: number;
  #used = 0;

  /**
   * Creates a budget.
   *
   * @param max The most bytes reserved at once (a non-negative integer).
   * @throws {RangeError} When `max` is not a non-negative integer.
   */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(`the frame budget must be a non-negative integer, got ${max}`);
    }
    this.max = max;
  }

  /** The bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /**
   * Reserves `n` bytes if they fit.
   *
   * @param n The bytes.
   * @returns Whether they were reserved.
   */
  reserve(n: number): boolean {
    if (this.#used + n > this.max) return false;
    this.#used += n;
    return true;
  }

  /**
   * Counts `n` bytes that are held already (they may go past `max`; later
   * reservations then fail until they are released).
   *
   * @param n The bytes.
   */
  hold(n: number): void {
    this.#used += n;
  }

  /**
   * Gives back `n` bytes reserved or held.
   *
   * @param n The bytes.
   */
  release(n: number): void {
    this.#used -= n;
  }
}

/**
 * A frame could not be buffered: the bytes held for incomplete frames
 * across all connections would go past the shared budget. The connection is
 * failed (its framing cannot continue without the frame) and the others go
 * on. Maps to Netty's `TooLongFrameException`, as a frame over the length
 * limit does.
 *
 * @example
 * ```ts
 * import { FrameBudgetError } from "@kvstate/queryable-state/streams";
 *
 * new FrameBudgetError(70_000, 65_536).message;
 * // => "Frame of 70000 bytes cannot be buffered: incomplete frames of all connections are limited to 65536 bytes"
 * ```
 */
export class FrameBudgetError extends ProtocolError {
  /** The length of the frame (prefix included) that did not fit. */
  readonly frameLength: number;
  /** The budget in force. */
  readonly budget: number;

  /**
   * Creates the error.
   *
   * @param frameLength The frame's length, prefix included.
   * @param budget The budget in force.
   */
  constructor(frameLength: number, budget: number) {
    super(
      `Frame of ${frameLength} bytes cannot be buffered: incomplete frames of all connections are limited to ${budget} bytes`,
      "io.netty.handler.codec.TooLongFrameException",
    );
    this.frameLength = frameLength;
    this.budget = budget;
  }
}
