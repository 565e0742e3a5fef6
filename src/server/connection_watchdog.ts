/**
 * The timeouts of a server's connections, checked by one coarse timer per
 * server (no timer per connection, nothing allocated per chunk): a
 * connection idle for too long is closed, and one whose partial frame stays
 * incomplete for too long is failed.
 *
 * @module
 */

import { ProtocolError } from "../wire/errors.ts";
import type { ServedConnection } from "./served_connection.ts";

/** The default of a server's `idleTimeoutMs`: 5 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** The default of a server's `incompleteFrameTimeoutMs`: 30 seconds. */
export const DEFAULT_INCOMPLETE_FRAME_TIMEOUT_MS = 30_000;

/**
 * A frame stayed incomplete for longer than the server allows (a peer that
 * announces a frame and trickles it, or stops half-way). The connection is
 * failed with Flink's pipeline failure naming this error. Maps to Netty's
 * `ReadTimeoutException`.
 *
 * @example
 * ```ts
 * import { IncompleteFrameTimeoutError } from "@kvstate/queryable-state";
 *
 * new IncompleteFrameTimeoutError(30_000).message;
 * // => "Frame incomplete for more than 30000 ms"
 * ```
 */
export class IncompleteFrameTimeoutError extends ProtocolError {
  /** The timeout in force, in ms. */
  readonly timeoutMs: number;

  /**
   * Creates the error.
   *
   * @param timeoutMs The timeout in force.
   */
  constructor(timeoutMs: number) {
    super(
      `Frame incomplete for more than ${timeoutMs} ms`,
      "io.netty.handler.timeout.ReadTimeoutException",
    );
    this.timeoutMs = timeoutMs;
  }
}

/** @internal What the watchdog tells of a connection it closed (`idle`) or failed (`incomplete_frame`). */
export type WatchdogReport = (
  connection: ServedConnection,
  reason: "idle" | "incomplete_frame",
  timeoutMs: number,
) => void;

/** @internal Checks a server's connections for the idle and incomplete-frame timeouts. */
export class ConnectionWatchdog {
  readonly #connections: ReadonlySet<ServedConnection>;
  readonly #idleMs: number;
  readonly #incompleteMs: number;
  readonly #period: number;
  readonly #internalError: (err: unknown) => void;
  readonly #expired: WatchdogReport | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param connections The server's connections (read at each check).
   * @param idleMs Close a connection with no request in progress and no
   * bytes either way for this long; 0 for never.
   * @param incompleteMs Fail a connection whose partial frame stays
   * incomplete this long; 0 for never.
   * @param internalError Counts an exception of a check.
   * @param expired Told of each connection it closes or fails (for the log).
   */
  constructor(
    connections: ReadonlySet<ServedConnection>,
    idleMs: number,
    incompleteMs: number,
    internalError: (err: unknown) => void,
    expired?: WatchdogReport,
  ) {
    this.#connections = connections;
    this.#idleMs = idleMs;
    this.#incompleteMs = incompleteMs;
    this.#internalError = internalError;
    this.#expired = expired;
    const shortest = Math.min(idleMs || Infinity, incompleteMs || Infinity);
    this.#period = shortest === Infinity
      ? 0
      : Math.max(10, Math.min(5000, Math.floor(shortest / 8)));
  }

  /** A connection was added: makes sure the timer runs. */
  watch(): void {
    if (this.#timer !== undefined || this.#period === 0) return;
    this.#timer = setInterval(this.#tick, this.#period);
  }

  /** Releases the timer. */
  stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick = (): void => {
    const now = performance.now();
    for (const c of this.#connections) {
      try {
        this.#check(c, now);
      } catch (err) {
        this.#internalError(err);
      }
    }
    if (this.#connections.size === 0) this.stop();
  };

  #check(c: ServedConnection, now: number): void {
    const p = c.probe;
    if (p === undefined || c.expired || c.closed) return;
    const activity = p.activity;
    if (activity !== c.seenActivity || p.inFlight > 0) {
      c.seenActivity = activity;
      c.activeAt = now;
    } else if (this.#idleMs > 0 && now - c.activeAt >= this.#idleMs) {
      c.expired = true;
      c.conn.close().catch(() => {});
      this.#expired?.(c, "idle", this.#idleMs);
      return;
    }
    const partial = p.partialFrame;
    if (partial === 0) {
      c.seenPartial = 0;
    } else if (partial !== c.seenPartial) {
      c.seenPartial = partial;
      c.partialSince = now;
    } else if (this.#incompleteMs > 0 && now - c.partialSince >= this.#incompleteMs) {
      c.expired = true;
      p.fail(new IncompleteFrameTimeoutError(this.#incompleteMs));
      this.#expired?.(c, "incomplete_frame", this.#incompleteMs);
    }
  }
}
