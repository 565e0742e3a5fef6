/**
 * Request statistics in the shape of Flink's `KvStateRequestStats`.
 *
 * @module
 */

import type { RequestFailureOutcome } from "./request_outcome.ts";

/**
 * The hooks a server (or client) reports to, as Flink's
 * `KvStateRequestStats` interface has them.
 */
export interface KvStateRequestStats {
  /** A connection became active. */
  reportActiveConnection(): void;
  /** A connection closed. */
  reportInactiveConnection(): void;
  /** A request was decoded (server) or sent (client). */
  reportRequest(): void;
  /**
   * A request succeeded.
   *
   * @param durationMs Time from decode (server) or send (client) to the response.
   */
  reportSuccessfulRequest(durationMs: number): void;
  /**
   * A request failed.
   *
   * @param outcome Not in Flink's interface: why, when the reporter knows
   *   (see {@linkcode RequestFailureOutcome}; servers, proxies and the
   *   network client always give it). A hook may ignore it.
   */
  reportFailedRequest(outcome?: RequestFailureOutcome): void;
  /**
   * Optional (not in Flink's interface): an exception was caught by a
   * last-resort guard (a bug in a handler, a hook or this module); the
   * request concerned was failed or its connection closed, and the process
   * went on.
   *
   * @param err The exception.
   */
  reportInternalError?(err: unknown): void;
  /** Optional (not in Flink's interface): a request was refused by the server's request filter. */
  reportDeniedRequest?(): void;
}

/** A point-in-time copy of the counters of {@linkcode RequestStats}. */
export interface RequestStatsSnapshot {
  /** Connections open now. */
  readonly activeConnections: number;
  /** Requests decoded (or sent) since start. */
  readonly requests: number;
  /** Requests answered with a result. */
  readonly successfulRequests: number;
  /** Requests answered with a failure. */
  readonly failedRequests: number;
  /** Mean duration of the successful requests, in milliseconds (0 when none). */
  readonly averageDurationMs: number;
  /** Exceptions caught by a last-resort guard (each failed one request or closed one connection). */
  readonly internalErrors: number;
  /** Requests refused by the request filter (each also counts as failed). */
  readonly deniedRequests: number;
}

/**
 * The default statistics: plain counters, readable at any time (like
 * Flink's `AtomicKvStateRequestStats`; JavaScript is single-threaded, so no
 * atomics are needed).
 *
 * @example
 * ```ts
 * import { RequestStats } from "@kvstate/queryable-state";
 *
 * const stats = new RequestStats();
 * stats.reportRequest();
 * stats.reportSuccessfulRequest(2);
 * stats.snapshot().successfulRequests; // => 1
 * stats.reportInternalError(new Error("a bug somewhere"));
 * stats.snapshot().internalErrors; // => 1
 * ```
 */
export class RequestStats implements KvStateRequestStats {
  #active = 0;
  #requests = 0;
  #successful = 0;
  #failed = 0;
  #totalDurationMs = 0;
  #internalErrors = 0;
  #denied = 0;

  /** Counts a new connection. */
  reportActiveConnection(): void {
    this.#active++;
  }
  /** Counts a closed connection. */
  reportInactiveConnection(): void {
    this.#active--;
  }
  /** Counts a request. */
  reportRequest(): void {
    this.#requests++;
  }
  /** Counts a success. @param durationMs Its duration. */
  reportSuccessfulRequest(durationMs: number): void {
    this.#successful++;
    this.#totalDurationMs += durationMs;
  }
  /** Counts a failure (of any outcome). @param _outcome Why (not recorded). */
  reportFailedRequest(_outcome?: RequestFailureOutcome): void {
    this.#failed++;
  }
  /** Counts an exception caught by a last-resort guard. @param _err The exception. */
  reportInternalError(_err?: unknown): void {
    this.#internalErrors++;
  }
  /** Counts a request refused by the request filter. */
  reportDeniedRequest(): void {
    this.#denied++;
  }

  /**
   * Returns the counters now.
   *
   * @returns The counters now.
   */
  snapshot(): RequestStatsSnapshot {
    return {
      activeConnections: this.#active,
      requests: this.#requests,
      successfulRequests: this.#successful,
      failedRequests: this.#failed,
      averageDurationMs: this.#successful === 0 ? 0 : this.#totalDurationMs / this.#successful,
      internalErrors: this.#internalErrors,
      deniedRequests: this.#denied,
    };
  }
}
