/**
 * Counts the `setTimeout` timers that are neither cleared nor fired, for
 * the delays a test picks (Deno's op sanitizer does not report a pending
 * `setTimeout`, so "no timer left after close" needs its own check).
 */

/** A timer id, as the runtime types it. */
export type Timer = ReturnType<typeof setTimeout>;

/** What {@linkcode watchTimers} gives: the pending timers, and the way back. */
export interface TimerWatch extends Disposable {
  /** The watched timers neither cleared nor fired yet. */
  readonly pending: ReadonlySet<Timer>;
  /** The watched timers started so far. */
  readonly started: number;
  /** The original `setTimeout`, unwatched (for the test's own waits). */
  readonly setTimeout: typeof setTimeout;
}

/**
 * Wraps `globalThis.setTimeout`/`clearTimeout` until disposed: a timer
 * whose delay `watched(ms)` accepts is counted in `pending` until it is
 * cleared or fires. Disposing restores both and clears what is still
 * pending (so that a failing test leaves nothing running).
 *
 * @param watched Which delays are counted.
 * @returns The watch; dispose it (`using`) to restore the globals.
 */
export function watchTimers(watched: (ms: number) => boolean): TimerWatch {
  const pending = new Set<Timer>();
  let started = 0;
  const { setTimeout: set, clearTimeout: clear } = globalThis;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    if (ms === undefined || !watched(ms)) return set(fn, ms);
    const id: Timer = set(() => {
      pending.delete(id);
      fn();
    }, ms);
    pending.add(id);
    started++;
    return id;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id?: Timer) => {
    if (id !== undefined) pending.delete(id);
    clear(id);
  }) as typeof clearTimeout;
  return {
    pending,
    get started() {
      return started;
    },
    setTimeout: set,
    [Symbol.dispose]() {
      globalThis.setTimeout = set;
      globalThis.clearTimeout = clear;
      for (const id of pending) clear(id);
      pending.clear();
    },
  };
}
