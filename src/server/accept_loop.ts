/**
 * A server's accept loop: takes connections from a listener until it closes
 * and hands each over. An accept that fails (for example when the process
 * is out of file descriptors, EMFILE/ENFILE) is retried after a pause that
 * doubles from 5 ms up to 1 s and drops back to 5 ms on the next success:
 * the loop never spins, and the connections already open keep being served
 * meanwhile.
 *
 * @module
 */

import type { Connection, Listener } from "../transport/types.ts";

/** The first pause after a failed accept, in ms. */
export const ACCEPT_BACKOFF_MIN_MS = 5;
/** The longest pause between failed accepts, in ms. */
export const ACCEPT_BACKOFF_MAX_MS = 1000;

/** @internal What the accept loop asks of its server. */
export interface AcceptTarget {
  /** Whether the server is closing (the loop then ends). */
  closing(): boolean;
  /** Takes one accepted connection (it may close it at once). */
  accepted(conn: Connection): void;
  /** Counts an exception of `accepted` (must not throw). */
  internalError(err: unknown): void;
}

/** @internal Accepts until the listener is closed or {@linkcode AcceptLoop.stop}. */
export class AcceptLoop {
  /** Resolves when the loop is over. */
  readonly done: Promise<void>;
  /** Failed accepts so far. */
  failures = 0;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;

  /**
   * Starts accepting.
   *
   * @param listener The listener.
   * @param target Where connections go.
   */
  constructor(listener: Listener, target: AcceptTarget) {
    this.done = this.#loop(listener, target);
  }

  /** Ends a pause at once; the loop then ends when the listener is closed. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #loop(listener: Listener, target: AcceptTarget): Promise<void> {
    let backoff = 0;
    for (;;) {
      let conn: Connection | null;
      try {
        conn = await listener.accept();
      } catch {
        if (this.#stopped || target.closing()) return;
        this.failures++;
        backoff = backoff === 0
          ? ACCEPT_BACKOFF_MIN_MS
          : Math.min(backoff * 2, ACCEPT_BACKOFF_MAX_MS);
        await this.#pause(backoff);
        if (this.#stopped || target.closing()) return;
        continue;
      }
      if (conn === null) return;
      backoff = 0;
      try {
        target.accepted(conn);
      } catch (err) {
        target.internalError(err);
        try {
          conn.close().catch(() => {});
        } catch {
          // Nothing more to do for it.
        }
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#wake = undefined;
        resolve();
      }, ms);
    });
  }
}
