/**
 * A clock read at most once per task.
 *
 * @module
 */

let tickTime: number | undefined;

/**
 * `performance.now()`, read at most once per task: every caller in the same
 * batch of work gets the same timestamp, which is all request statistics and
 * deadlines (milliseconds) need, at a fraction of the cost of one clock read
 * per request.
 *
 * @example
 * ```ts
 * import { tickNow } from "@kvstate/queryable-state/wire";
 *
 * tickNow() === tickNow(); // => true
 * ```
 *
 * @returns Milliseconds, as `performance.now()`.
 */
export function tickNow(): number {
  if (tickTime === undefined) {
    tickTime = performance.now();
    queueMicrotask(() => (tickTime = undefined));
  }
  return tickTime;
}
