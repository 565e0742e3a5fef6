/**
 * The wait before probing a member that is down again: exponential, capped,
 * with jitter.
 *
 * @module
 */

/** The first wait before probing a member that went down, in ms: 250. */
export const DEFAULT_BACKOFF_INITIAL_MS = 250;
/** The longest wait between two probes of a member that is down, in ms: 10,000. */
export const DEFAULT_BACKOFF_MAX_MS = 10_000;

/**
 * The wait before the probe number `failedProbes` (0 for the first probe
 * after a member went down): `initialMs` doubled per failed probe, capped at
 * `maxMs`, with "equal jitter" (a uniform draw between half of it and all of
 * it), so that members that went down together are not probed in step.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 *
 * backoffDelay(0, 250, 10_000, () => 1); // => 250
 * backoffDelay(3, 250, 10_000, () => 1); // => 2000
 * backoffDelay(10, 250, 10_000, () => 0); // => 5000
 * ```
 *
 * @param failedProbes The probes that failed since the member went down.
 * @param initialMs The first wait, in ms.
 * @param maxMs The cap, in ms.
 * @param random A uniform draw in [0, 1). Default `Math.random`.
 * @returns The wait, in ms (at least 1).
 */
export function backoffDelay(
  failedProbes: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const full = Math.min(maxMs, initialMs * 2 ** Math.min(failedProbes, 30));
  return Math.max(1, Math.round(full / 2 + (full / 2) * random()));
}
