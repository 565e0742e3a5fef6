/**
 * Waiting for a server's connections to finish, up to a grace period.
 *
 * @module
 */

/**
 * @internal Waits for `tasks` to settle, at most `graceMs`.
 *
 * @param tasks What to wait for.
 * @param graceMs The most time to wait.
 * @returns Whether the grace period ran out first.
 */
export async function settleWithin(
  tasks: Iterable<Promise<unknown>>,
  graceMs: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const all = Promise.allSettled([...tasks]);
  const timedOut = await Promise.race([
    all.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
  ]);
  clearTimeout(timer);
  return timedOut;
}
