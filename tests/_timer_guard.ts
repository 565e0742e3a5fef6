/**
 * Fails a test that leaves a timer pending. Deno 2.9's test sanitizers do
 * not see timers (a test that leaks a 60 s `setTimeout` passes), so
 * `deno task test` preloads this module (`--preload tests/_timer_guard.ts`):
 * it tracks the `setTimeout`/`setInterval` timers user code starts, and
 * after each test fails it if a timer the test started is neither cleared
 * nor fired, naming where the timer was started (the timers are cleared
 * then, so one leak fails one test).
 *
 * Only timers started through the globals are seen (the runtime's own, e.g.
 * `AbortSignal.timeout`'s, are not ours to clear).
 *
 * @module
 */

/** A pending timer: what started it, and where. */
interface PendingTimer {
  readonly what: string;
  readonly where: string;
}

const pending = new Map<unknown, PendingTimer>();

type AnyFunction = (...args: unknown[]) => unknown;
/** The timer globals, typed loosely: Deno's and Node's typings of them differ. */
const timers = globalThis as unknown as Record<
  "setTimeout" | "setInterval" | "clearTimeout" | "clearInterval",
  AnyFunction
>;
const realSetTimeout = timers.setTimeout;
const realSetInterval = timers.setInterval;
const realClearTimeout = timers.clearTimeout;
const realClearInterval = timers.clearInterval;

/** The first frames of the caller's stack, outside this module. */
function origin(): string {
  const lines = (new Error().stack ?? "").split("\n").slice(3, 5);
  return lines.map((l) => l.trim().replace(/^at /, "")).join(" <- ");
}

timers.setTimeout = (fn: unknown, ms?: unknown, ...args: unknown[]) => {
  if (typeof fn !== "function") return realSetTimeout(fn, ms, ...args);
  const id = realSetTimeout(
    (...a: unknown[]) => {
      pending.delete(id);
      fn(...a);
    },
    ms,
    ...args,
  );
  pending.set(id, { what: `setTimeout(${ms ?? 0})`, where: origin() });
  return id;
};

timers.setInterval = (fn: unknown, ms?: unknown, ...args: unknown[]) => {
  const id = realSetInterval(fn, ms, ...args);
  pending.set(id, { what: `setInterval(${ms ?? 0})`, where: origin() });
  return id;
};

timers.clearTimeout = (id?: unknown) => {
  pending.delete(id);
  return realClearTimeout(id);
};

timers.clearInterval = (id?: unknown) => {
  pending.delete(id);
  return realClearInterval(id);
};

/**
 * The timers started through the globals and still pending (for the
 * guard's own test).
 *
 * @returns How many.
 */
export function pendingTimerCount(): number {
  return pending.size;
}

Deno.test.beforeEach(() => {
  pending.clear();
});

Deno.test.afterEach(() => {
  if (pending.size === 0) return;
  const leaks = [...pending.values()].map((t) => `${t.what} at ${t.where}`);
  for (const id of pending.keys()) {
    realClearTimeout(id);
    realClearInterval(id);
  }
  pending.clear();
  throw new Error(`the test left ${leaks.length} timer(s) pending: ${leaks.join("; ")}`);
});
