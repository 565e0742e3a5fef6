/**
 * Bounds shared by the request stages of many connections: requests in
 * progress, bytes of answers held for peers that have not read them, and
 * (optionally) the bytes of requests held in a {@linkcode FrameBudget}.
 * Each connection keeps its own bounds too; these cap the sum.
 *
 * @module
 */

import type { FrameBudget } from "./frame_budget.ts";

/** The default of a server's `maxInFlightTotal`: 16,384 requests. */
export const DEFAULT_MAX_IN_FLIGHT_TOTAL = 16_384;

/** The default of a server's `maxBufferedBytesTotal`: 64 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES_TOTAL: number = 64 * 1024 * 1024;

/**
 * The shared counters of a server's request stages. A stage counts its
 * requests in progress in `inFlight` and the answer bytes it holds in
 * `heldBytes`, and stops taking input while {@linkcode SharedFlowLimit.blocks}
 * says so, after {@linkcode SharedFlowLimit.wait}ing for room.
 *
 * With a `budget` (the bytes held for requests: incomplete frames, frames
 * read and not started, frames of requests in progress), a stage with a
 * request in progress also waits while that budget is spent.
 *
 * The rule is fair by construction: a connection with no request in
 * progress may always start one, and one that holds no answer bytes may
 * always produce some; only connections that already have some wait when
 * the sum is at its bound. So peers that do not read, or send slow requests,
 * cannot stop the others; the sums go past their bounds by at most one
 * request (and the bytes it was read with), and one batch of answers, per
 * connection.
 *
 * @example
 * ```ts
 * import { SharedFlowLimit } from "@kvstate/queryable-state/streams";
 *
 * const limit = new SharedFlowLimit(2, 1024);
 * limit.inFlight = 2;
 * limit.blocks(0, 0); // => false
 * limit.blocks(1, 0); // => true
 * let woken = false;
 * limit.wait(() => (woken = true));
 * limit.inFlight--;
 * limit.wake();
 * woken; // => true
 * ```
 */
export class SharedFlowLimit {
  /** The bound of {@linkcode SharedFlowLimit.inFlight}. */
  readonly maxInFlight: number;
  /** The bound of {@linkcode SharedFlowLimit.heldBytes}. */
  readonly maxHeldBytes: number;
  /** Requests in progress, over all stages. */
  inFlight = 0;
  /** Bytes of answers not yet taken by the peers, over all stages. */
  heldBytes = 0;
  /** The budget of request bytes that also holds back stages with a request in progress. */
  readonly budget: FrameBudget | undefined;
  #waiters: (() => void)[] = [];

  /**
   * Creates the counters.
   *
   * @param maxInFlight The bound of requests in progress (positive integer).
   * @param maxHeldBytes The bound of answer bytes held (positive integer).
   * @param budget The bytes held for requests: while it is spent, stages
   * with a request in progress wait (see {@linkcode SharedFlowLimit.blocks}).
   * Default: none.
   * @throws {RangeError} When a bound is not a positive integer.
   */
  constructor(maxInFlight: number, maxHeldBytes: number, budget?: FrameBudget) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError("maxInFlightTotal must be a positive integer");
    }
    if (!Number.isInteger(maxHeldBytes) || maxHeldBytes < 1) {
      throw new RangeError("maxBufferedBytesTotal must be a positive integer");
    }
    this.maxInFlight = maxInFlight;
    this.maxHeldBytes = maxHeldBytes;
    this.budget = budget;
  }

  /**
   * Whether a stage with `inFlight` requests in progress and `heldBytes`
   * answer bytes held must wait before starting another request: it has a
   * request in progress and the requests in progress (or the budget's
   * bytes) are at their bound, or it holds answer bytes and the answer
   * bytes are at theirs.
   *
   * @param inFlight The stage's requests in progress.
   * @param heldBytes The stage's answer bytes held.
   * @returns `true` to wait.
   */
  blocks(inFlight: number, heldBytes: number): boolean {
    return (inFlight > 0 &&
      (this.inFlight >= this.maxInFlight ||
        (this.budget !== undefined && this.budget.used >= this.budget.max))) ||
      (heldBytes > 0 && this.heldBytes >= this.maxHeldBytes);
  }

  /** How many stages wait for room. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Calls `wake` once, on a later {@linkcode SharedFlowLimit.wake} that
   * finds room (the stage then checks again, and may wait again).
   *
   * @param wake The stage's wake-up; it should only schedule work.
   */
  wait(wake: () => void): void {
    this.#waiters.push(wake);
  }

  /** After a counter (or the budget) went down: wakes the waiting stages if there is room. */
  wake(): void {
    if (this.#waiters.length === 0) return;
    if (
      this.inFlight >= this.maxInFlight && this.heldBytes >= this.maxHeldBytes &&
      (this.budget === undefined || this.budget.used >= this.budget.max)
    ) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (let i = 0; i < waiters.length; i++) {
      try {
        waiters[i]();
      } catch {
        // A stage's wake-up only schedules work; nothing to do here.
      }
    }
  }
}
