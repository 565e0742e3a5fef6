/**
 * Which errors are a peer's SERVER_FAILURE: the failure of a whole
 * connection (Flink's server handler sends one, with no request id, and
 * closes the channel), not an answer to the requests that were pending on
 * it. A proxy pool sends those requests to another member.
 *
 * @module
 */

const SERVER_FAILURES = new WeakSet<object>();

/**
 * @internal Marks `err` as the error of a peer's SERVER_FAILURE.
 *
 * @example
 * ```ts
 * import { isServerFailure, markServerFailure } from "./server_failure.ts";
 *
 * const err = markServerFailure(new Error("channel broke"));
 * isServerFailure(err); // => true
 * ```
 *
 * @param err The error the connection fails with.
 * @returns `err`.
 */
export function markServerFailure<E extends object>(err: E): E {
  SERVER_FAILURES.add(err);
  return err;
}

/**
 * @internal Whether `err` is the error of a peer's SERVER_FAILURE.
 *
 * @example
 * ```ts
 * import { isServerFailure } from "./server_failure.ts";
 *
 * isServerFailure(new Error("a request's own failure")); // => false
 * ```
 *
 * @param err Anything.
 * @returns `true` for a SERVER_FAILURE's error.
 */
export function isServerFailure(err: unknown): boolean {
  return typeof err === "object" && err !== null && SERVER_FAILURES.has(err);
}
