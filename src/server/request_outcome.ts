/**
 * The kind of a failed request, for statistics: what
 * `KvStateRequestStats.reportFailedRequest(outcome)` receives.
 *
 * @module
 */

import {
  BadRequestError,
  ClosedError,
  DeadlineExceededError,
  FlinkJobNotFoundError,
  RequestQueueFullError,
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
  UnknownKvStateKeyGroupLocationError,
  UnknownKvStateLocationError,
  UnknownLocationError,
} from "../wire/errors.ts";
import { FrameBudgetError } from "../streams/frame_budget.ts";

/**
 * Why a request failed, as servers and clients report it to
 * `KvStateRequestStats.reportFailedRequest`:
 *
 * - `unknown_key`: no value for the key and namespace (`UnknownKeyOrNamespaceError`);
 * - `unknown_state`: no such state or job, or its location is not known
 *   (`UnknownKvStateIdError`, `UnknownKvStateKeyGroupLocationError`,
 *   `UnknownLocationError`, `UnknownKvStateLocationError`, `FlinkJobNotFoundError`);
 * - `deadline`: a deadline passed, or the request was aborted (`DeadlineExceededError`);
 * - `refused`: a bound refused it (`RequestQueueFullError`, `FrameBudgetError`),
 *   or the request filter denied it;
 * - `upstream_failure`: any other failure of what a proxy (or a client)
 *   asked upstream: a remote error, a lost or refused connection;
 * - `failure`: anything else (a bad request, a shutdown, a bug).
 */
export type RequestFailureOutcome =
  | "unknown_key"
  | "unknown_state"
  | "upstream_failure"
  | "refused"
  | "deadline"
  | "failure";

/**
 * The {@linkcode RequestFailureOutcome} of an error, by its class (a typed
 * cause surfaced from a remote wrapper counts as its class). Never throws
 * and allocates nothing: a few `instanceof` checks.
 *
 * @param err The error a request failed with.
 * @param upstream Whether the error came from upstream (a proxy's upstream
 *   client, or a client's server): what no class tells apart is then
 *   `upstream_failure` instead of `failure`. Default `false`.
 * @returns The outcome.
 *
 * @example
 * ```ts
 * import {
 *   DeadlineExceededError, requestFailureOutcome, UnknownKeyOrNamespaceError,
 * } from "@kvstate/queryable-state";
 *
 * requestFailureOutcome(new UnknownKeyOrNamespaceError("none")); // => "unknown_key"
 * requestFailureOutcome(new DeadlineExceededError("late")); // => "deadline"
 * requestFailureOutcome(new Error("boom")); // => "failure"
 * requestFailureOutcome(new Error("connection reset"), true); // => "upstream_failure"
 * ```
 */
export function requestFailureOutcome(err: unknown, upstream = false): RequestFailureOutcome {
  try {
    if (err instanceof UnknownKeyOrNamespaceError) return "unknown_key";
    if (
      err instanceof UnknownKvStateIdError ||
      err instanceof UnknownKvStateKeyGroupLocationError ||
      err instanceof UnknownLocationError ||
      err instanceof UnknownKvStateLocationError ||
      err instanceof FlinkJobNotFoundError
    ) return "unknown_state";
    if (err instanceof DeadlineExceededError) return "deadline";
    if (err instanceof RequestQueueFullError || err instanceof FrameBudgetError) return "refused";
    // Our own shutdown, or a request we could not read: never the upstream's doing.
    if (err instanceof ClosedError || (!upstream && err instanceof BadRequestError)) {
      return "failure";
    }
  } catch {
    // A value whose prototype cannot be read (a revoked proxy): no class.
  }
  return upstream ? "upstream_failure" : "failure";
}
