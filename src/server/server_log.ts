/**
 * The log events of a server (`ServerOptions.logger`): started and stopped,
 * connections refused by a bound, framing errors, bad frames, watchdog
 * timeouts, internal errors, denied requests. Each method checks the
 * logger's level before it builds anything, and never throws. Internal to
 * the server base.
 *
 * @module
 */

import type { Logger } from "../observability/logger.ts";
import type { Connection, NetAddress } from "../transport/types.ts";
import type { JobId } from "../wire/ids.ts";
import { IncompleteFrameTimeoutError } from "./connection_watchdog.ts";
import { pipelineFailureFrame } from "./failure_frames.ts";
import { addressText, errorClass, errorMessage, logEvent, logs } from "./log_events.ts";

/** The longest state name put in a `request_denied` event. */
const MAX_STATE_NAME = 200;

/** @internal What a denied request is described with (see `RequestDescription`). */
export interface DeniedRequest {
  readonly jobId?: JobId;
  readonly stateName?: string;
}

/** @internal A server's log events, for one server. */
export class ServerLog {
  /** The logger (`SILENT_LOGGER` when none was given). */
  readonly logger: Logger;
  readonly #server: string;

  /**
   * @param logger The logger.
   * @param server The server's name, a field of every event.
   */
  constructor(logger: Logger, server: string) {
    this.logger = logger;
    this.#server = server;
  }

  /** Whether warnings are written: checked before anything is built for one. */
  get warns(): boolean {
    return logs(this.logger, "warn");
  }

  /** `server_started` (info). */
  started(address: NetAddress): void {
    if (!logs(this.logger, "info")) return;
    logEvent(this.logger, "info", "server_started", {
      server: this.#server,
      address: addressText(address),
    });
  }

  /** `server_stopped` (info). */
  stopped(): void {
    if (!logs(this.logger, "info")) return;
    logEvent(this.logger, "info", "server_stopped", { server: this.#server });
  }

  /** `internal_error` (error): an exception caught by a last-resort guard. */
  internalError(err: unknown): void {
    if (!logs(this.logger, "error")) return;
    logEvent(this.logger, "error", "internal_error", {
      server: this.#server,
      error: errorClass(err),
      message: errorMessage(err),
    });
  }

  /** `connection_refused` (warn): a connection closed on accept by a bound. */
  refused(
    conn: Connection,
    bound: "maxConnections" | "maxConnectionsPerAddress",
    limit: number,
  ): void {
    if (!logs(this.logger, "warn")) return;
    logEvent(this.logger, "warn", "connection_refused", {
      server: this.#server,
      peer: addressText(conn.remoteAddress),
      bound,
      limit,
    });
  }

  /**
   * The failure frame of a framing error on `conn`, logged first as
   * `framing_error` (warn) when warnings are written (the watchdog's own
   * failures are logged as `connection_timed_out`).
   */
  framingFailure(conn: Connection): (err: Error) => Uint8Array {
    if (!logs(this.logger, "warn")) return pipelineFailureFrame;
    return (err) => {
      if (!(err instanceof IncompleteFrameTimeoutError) && logs(this.logger, "warn")) {
        logEvent(this.logger, "warn", "framing_error", {
          server: this.#server,
          peer: addressText(conn.remoteAddress),
          error: errorClass(err),
          message: errorMessage(err),
        });
      }
      return pipelineFailureFrame(err);
    };
  }

  /** `bad_frame` (warn): a frame answered with a failure for its header or body. */
  badFrame(conn: Connection | undefined, err: unknown): void {
    if (!logs(this.logger, "warn")) return;
    logEvent(this.logger, "warn", "bad_frame", {
      server: this.#server,
      peer: conn === undefined ? "unknown" : addressText(conn.remoteAddress),
      error: errorClass(err),
      message: errorMessage(err),
    });
  }

  /** `connection_timed_out` (info when idle, else warn): closed or failed by the watchdog. */
  timedOut(
    conn: Connection | undefined,
    reason: "idle" | "incomplete_frame",
    timeoutMs: number,
  ): void {
    const level = reason === "idle" ? "info" : "warn";
    if (!logs(this.logger, level)) return;
    logEvent(this.logger, level, "connection_timed_out", {
      server: this.#server,
      peer: addressText(conn?.remoteAddress),
      reason,
      timeout_ms: timeoutMs,
    });
  }

  /** `request_denied` (warn): a request refused by the request filter. */
  denied(d: DeniedRequest | undefined, conn: Connection | undefined): void {
    if (!logs(this.logger, "warn")) return;
    let job: string | undefined;
    let stateName: string | undefined;
    try {
      job = d?.jobId?.toString();
      if (typeof d?.stateName === "string") stateName = d.stateName.slice(0, MAX_STATE_NAME);
    } catch {
      // A description that cannot be printed is left out.
    }
    logEvent(this.logger, "warn", "request_denied", {
      server: this.#server,
      peer: conn === undefined ? "unknown" : addressText(conn.remoteAddress),
      job,
      state: stateName,
    });
  }
}
