/**
 * A user's statistics hooks behind a guard: an exception of theirs is
 * counted as an internal error instead of breaking the request or the
 * connection that reported.
 *
 * @module
 */

import type { RequestFailureOutcome } from "./request_outcome.ts";
import type { KvStateRequestStats } from "./stats.ts";

/** @internal The guarded form of a user's {@linkcode KvStateRequestStats}. */
export class GuardedStats implements KvStateRequestStats {
  readonly #stats: KvStateRequestStats;
  readonly #onError: (err: unknown) => void;

  /**
   * @param stats The user's hooks.
   * @param onError Counts an exception of theirs (must not throw).
   */
  constructor(stats: KvStateRequestStats, onError: (err: unknown) => void) {
    this.#stats = stats;
    this.#onError = onError;
  }

  reportActiveConnection(): void {
    try {
      this.#stats.reportActiveConnection();
    } catch (e) {
      this.#onError(e);
    }
  }
  reportInactiveConnection(): void {
    try {
      this.#stats.reportInactiveConnection();
    } catch (e) {
      this.#onError(e);
    }
  }
  reportRequest(): void {
    try {
      this.#stats.reportRequest();
    } catch (e) {
      this.#onError(e);
    }
  }
  reportSuccessfulRequest(durationMs: number): void {
    try {
      this.#stats.reportSuccessfulRequest(durationMs);
    } catch (e) {
      this.#onError(e);
    }
  }
  reportFailedRequest(outcome?: RequestFailureOutcome): void {
    try {
      this.#stats.reportFailedRequest(outcome);
    } catch (e) {
      this.#onError(e);
    }
  }
  /** Passes an internal error on; the user's hook throwing is ignored (it would loop). */
  reportInternalError(err: unknown): void {
    try {
      this.#stats.reportInternalError?.(err);
    } catch {
      // Counted already, by the caller.
    }
  }
  reportDeniedRequest(): void {
    try {
      this.#stats.reportDeniedRequest?.();
    } catch (e) {
      this.#onError(e);
    }
  }
}
