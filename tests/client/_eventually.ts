/** A bounded poll for the client tests. */
import { delay } from "../_harness.ts";

/**
 * Polls until `cond` holds, at most `ms` (every 5 ms).
 *
 * @returns Whether `cond` held in time.
 */
export async function eventually(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await delay(5);
  }
  return true;
}
