/**
 * The timer guard (tests/_timer_guard.ts) sees what Deno 2.9's sanitizers do
 * not: a timer a test starts and leaves pending. Run under `deno task test`,
 * which preloads the guard; imported here too, so that this file checks the
 * tracking even when run on its own.
 */

import { pendingTimerCount } from "./_timer_guard.ts";
import { assertEquals } from "./_assert.ts";

Deno.test("timer guard: a started timer is pending until cleared or fired", async () => {
  const before = pendingTimerCount();
  const t = setTimeout(() => {}, 60_000);
  const i = setInterval(() => {}, 60_000);
  assertEquals(pendingTimerCount(), before + 2);
  clearTimeout(t);
  clearInterval(i);
  assertEquals(pendingTimerCount(), before);
  await new Promise((resolve) => setTimeout(resolve, 1));
  assertEquals(pendingTimerCount(), before, "a fired timeout is no longer pending");
});
