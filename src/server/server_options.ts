/**
 * The options every server takes ({@linkcode ServerOptions}), their
 * defaults, and what a subclass tells the request filter about a request
 * ({@linkcode RequestDescription}).
 *
 * @module
 */

import type { Logger } from "../observability/logger.ts";
import type { Transport } from "../transport/types.ts";
import type { JobId, KvStateId } from "../wire/ids.ts";
import type { RequestFilter } from "./access_control.ts";
import type { KvStateRequestStats } from "./stats.ts";

/** Options common to every server. */
export interface ServerOptions {
  /** How to listen. Needed by {@linkcode AbstractServer.start}; not by `serve`. */
  readonly transport?: Transport;
  /** The address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /**
   * The port or ports to try, in order: a number, a list, or Flink's port
   * spec such as `"9067-9077"` or `"50100-50200,51234"`. 0 picks any free
   * port. Default 0.
   */
  readonly port?: number | string | readonly number[];
  /** The largest frame accepted (bytes after the length prefix). Default 64 MiB. */
  readonly maxFrameLength?: number;
  /**
   * The most connections served at once; more are closed on accept.
   * Default 4,096 (with the other defaults, what a peer can make a server
   * hold by input alone stays within a few hundred MiB: see RELIABILITY.md).
   */
  readonly maxConnections?: number;
  /**
   * The most connections served at once from one remote host (counted by
   * the peer's host name as the transport reports it); more from that host
   * are closed on accept, so that one client cannot take every slot.
   * Default 512.
   */
  readonly maxConnectionsPerAddress?: number;
  /**
   * The most requests in progress per connection; when reached, that
   * connection is not read until one finishes. Default 1024.
   */
  readonly maxInFlightPerConnection?: number;
  /**
   * The most requests in progress over all connections. When reached, a
   * connection that already has a request in progress is not read until
   * one finishes anywhere (a connection with none may always start one, so
   * slow peers cannot stop the others). Default 16,384.
   */
  readonly maxInFlightTotal?: number;
  /**
   * The most bytes of answers held, over all connections, for peers that
   * have not read them yet (each connection also holds at most about
   * 1 MiB). When reached, a connection that holds answers is not read until
   * its peer reads (one that holds none is served). Default 64 MiB.
   */
  readonly maxBufferedBytesTotal?: number;
  /**
   * The most bytes held for requests over all connections: frames not yet
   * complete (their carry-over buffers), and the chunks read whose frames
   * are not started yet or belong to requests in progress (a frame is a
   * view into the chunk it was read in, so the whole chunk counts until the
   * last request read from it is finished). A connection whose incomplete
   * frame would go past it is failed with Flink's pipeline failure naming a
   * `FrameBudgetError`; the others go on. While it is spent, a connection
   * that has a request in progress is not read (one that has none may start
   * one). Default 128 MiB (two frames of the largest default size).
   */
  readonly maxIncompleteFrameBytes?: number;
  /**
   * How long a frame may stay incomplete, in ms: a connection whose partial
   * frame has not completed in that time is failed with Flink's pipeline
   * failure naming an `IncompleteFrameTimeoutError`. Checked every few
   * seconds (an eighth of the shortest timeout, at most 5 s). 0 turns it off.
   * Default 30,000.
   */
  readonly incompleteFrameTimeoutMs?: number;
  /**
   * How long a connection may stay idle (no request in progress and no
   * bytes either way), in ms, before it is closed. Flink's client opens a
   * new connection when it needs one. 0 turns it off. Default 300,000.
   */
  readonly idleTimeoutMs?: number;
  /**
   * The time a request may take before it is answered with a
   * `DeadlineExceededError` failure and its signal aborted, in ms. 0 turns
   * the deadline off. Default 30,000.
   */
  readonly requestTimeoutMs?: number;
  /**
   * On `close()`, how long requests in progress may take to finish before
   * they are failed and the connections closed, in ms. Also, after a
   * framing error on a connection, how long its requests in progress may
   * take to finish (their answers are written before the failure frame)
   * before the failure frame is sent anyway. Default 5,000.
   */
  readonly closeGraceMs?: number;
  /**
   * Decides, for every request before it is answered, whether to serve it
   * (see {@linkcode RequestFilter}); a refusal answers a `BadRequestError`
   * naming it and is counted in `deniedRequests`. Default: every request is
   * served.
   */
  readonly requestFilter?: RequestFilter;
  /** Where to report request statistics, besides the server's own counters. */
  readonly stats?: KvStateRequestStats;
  /**
   * Where to log (see `createLogger` of `./observability`). Default
   * `SILENT_LOGGER`: nothing is logged, and nothing is built for it. Every
   * event has the field `server` (the server's name); none is logged per
   * request answered. The events:
   *
   * - `server_started` (info): `address`;
   * - `server_stopped` (info);
   * - `connection_refused` (warn), a connection closed on accept by a
   *   bound: `peer`, `bound` (`maxConnections` or
   *   `maxConnectionsPerAddress`), `limit`;
   * - `framing_error` (warn), a connection failed for its bytes (a bad
   *   frame length or header, a frame over `maxIncompleteFrameBytes`):
   *   `peer`, `error` (its class), `message`;
   * - `connection_timed_out`, a connection failed by the watchdog: `peer`,
   *   `reason` (`incomplete_frame`, warn; or `idle`, info), `timeout_ms`;
   * - `bad_frame` (warn), a frame answered with a failure for its header
   *   (version, message type) or its body (it does not decode); the
   *   connection goes on: `peer`, `error` (its class), `message`;
   * - `internal_error` (error), an exception caught by a last-resort
   *   guard: `error` (its class), `message`;
   * - `request_denied` (warn), refused by the `requestFilter`: `peer`,
   *   `job`, `state` (the fields the request names).
   *
   * Peers decide how often most of these happen: give a logger that
   * rate-limits per event name (as `createLogger` does by default).
   *
   * @example JSON lines, one per event
   * ```ts
   * import { KvStateServer, MemoryTransport } from "@kvstate/queryable-state";
   * import { createLogger } from "@kvstate/queryable-state/observability";
   *
   * const lines: string[] = [];
   * const logger = createLogger({ format: "json", write: (line) => lines.push(line) });
   * const server = new KvStateServer({ transport: new MemoryTransport(), logger });
   * await server.start();
   * await server.close();
   * lines.map((line) => JSON.parse(line).event); // => ["server_started", "server_stopped"]
   * ```
   */
  readonly logger?: Logger;
}

/** What a subclass tells the request filter about a request (see `AbstractServer.describeRequest`). */
export interface RequestDescription {
  /** The job the request is for, when known. */
  readonly jobId?: JobId;
  /** The state's registration name, when known. */
  readonly stateName?: string;
  /** The state instance, when known. */
  readonly kvStateId?: KvStateId;
}

/** @internal The default of `maxConnections`. */
export const DEFAULT_MAX_CONNECTIONS = 4_096;
/** @internal The default of `maxConnectionsPerAddress`. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 512;
/** @internal The default of `maxInFlightPerConnection`. */
export const DEFAULT_MAX_IN_FLIGHT = 1024;
/** @internal The default of `requestTimeoutMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** @internal The default of `closeGraceMs`. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;
