/**
 * Process signals for the long-running commands (CLI glue).
 *
 * @module
 */

import type { Logger } from "../observability/logger.ts";

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

/**
 * Reloads one file on SIGHUP and reports the outcome: the summary on
 * stdout and a `config_reloaded` event, or, when the new file is bad, the
 * reason on stderr (the previous one is kept) and a `config_reload_rejected`
 * event.
 *
 * @param source What reloads (`--locations`, `--allow`).
 * @param flag The flag's name, in the events' `flag` field.
 * @param kept What is kept on failure, e.g. `"the previous rules"`.
 * @param logger The process's logger.
 */
export async function reloadReported(
  source: { reload(): Promise<string> },
  flag: string,
  kept: string,
  logger: Logger,
): Promise<void> {
  try {
    const summary = await source.reload();
    console.log(`SIGHUP: ${summary}`);
    logger.info("config_reloaded", { flag, summary });
  } catch (e) {
    console.error(`SIGHUP: ${(e as Error).message}; keeping ${kept}`);
    logger.warn("config_reload_rejected", { flag, message: (e as Error).message });
  }
}
