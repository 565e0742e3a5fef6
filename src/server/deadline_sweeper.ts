/**
 * The deadline of a server's asynchronous requests: one coarse interval per
 * server, running only while such requests exist, fails those past their
 * deadline.
 *
 * @module
 */

import { DeadlineExceededError } from "../wire/errors.ts";
import type { InFlight } from "./in_flight.ts";

/** @internal Tracks the asynchronous requests of a server for their deadline and for `close()`. */
export class DeadlineSweeper {
  /** Every asynchronous request in progress. */
  readonly inFlight: Set<InFlight> = new Set();
  readonly #timeoutMs: number;
  readonly #expire: (f: InFlight, err: DeadlineExceededError) => void;
  readonly #internalError: (err: unknown) => void;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param timeoutMs The deadline in ms; 0 turns it off.
   * @param expire Fails one request past its deadline.
   * @param internalError Counts an exception of a sweep (must not throw).
   */
  constructor(
    timeoutMs: number,
    expire: (f: InFlight, err: DeadlineExceededError) => void,
    internalError: (err: unknown) => void,
  ) {
    this.#timeoutMs = timeoutMs;
    this.#expire = expire;
    this.#internalError = internalError;
  }

  /** Tracks a request (it leaves with {@linkcode DeadlineSweeper.delete}). */
  add(f: InFlight): void {
    this.inFlight.add(f);
    if (this.#timer !== undefined || this.#timeoutMs === 0) return;
    const period = Math.min(1000, Math.max(5, Math.floor(this.#timeoutMs / 10)));
    this.#timer = setInterval(() => this.#sweep(), period);
  }

  /** A request finished. */
  delete(f: InFlight): void {
    this.inFlight.delete(f);
  }

  #sweep(): void {
    const now = performance.now();
    for (const f of [...this.inFlight]) {
      if (now - f.startedAt < this.#timeoutMs) continue;
      try {
        const err = new DeadlineExceededError(
          `Request ${f.requestId} did not complete within ${this.#timeoutMs} ms`,
        );
        f.abort(err);
        this.#expire(f, err);
      } catch (err) {
        // One request's failure must not stop the sweep of the others.
        this.#internalError(err);
        this.inFlight.delete(f);
      }
    }
    if (this.inFlight.size === 0) this.stop();
  }

  /**
   * Fails every request in progress.
   *
   * @param err The reason.
   * @param fail Answers one request with it.
   */
  failAll(err: unknown, fail: (f: InFlight, err: unknown) => void): void {
    for (const f of [...this.inFlight]) {
      try {
        f.abort(err);
        fail(f, err);
      } catch (e) {
        this.#internalError(e);
        this.inFlight.delete(f);
      }
    }
  }

  /** Releases the timer. */
  stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
