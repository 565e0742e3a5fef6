/**
 * Process signals for the long-running commands (CLI glue).
 *
 * @module
 */

/**
 * Resolves when SIGINT or SIGTERM arrives.
 *
 * @returns The signal's name.
 */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handlers: Array<[Deno.Signal, () => void]> = [];
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      const h = () => {
        for (const [s, f] of handlers) Deno.removeSignalListener(s, f);
        resolve(sig);
      };
      handlers.push([sig, h]);
      Deno.addSignalListener(sig, h);
    }
  });
}

/**
 * Runs `reload` on each SIGHUP, one at a time (a SIGHUP during a reload
 * runs one more after it). Where SIGHUP does not exist (Windows) it does
 * nothing.
 *
 * @param reload The work of one reload; it reports its own outcome.
 * @returns Stops listening and waits for a reload in progress.
 */
export function onHangup(reload: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  let again = false;
  let busy = false;
  const run = async () => {
    busy = true;
    try {
      do {
        again = false;
        await reload();
      } while (again);
    } finally {
      busy = false;
    }
  };
  const handler = () => {
    if (busy) again = true;
    else running = run();
  };
  try {
    Deno.addSignalListener("SIGHUP", handler);
  } catch {
    return () => Promise.resolve();
  }
  return async () => {
    Deno.removeSignalListener("SIGHUP", handler);
    again = false;
    await running;
  };
}
