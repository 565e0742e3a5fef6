/**
 * The server every role runs on: accept connections, and run each as
 * `readable -> decode -> handle -> encode -> writable` with Flink's error
 * handling (PROTOCOL §1.4, §7). Where the transport offers
 * `Connection.direct`, the same stages run as plain calls per chunk
 * (`direct_session.ts`): same bounds, same bytes, no stream hop.
 *
 * Each part lives in its own file: the accept loop and its backoff
 * (`accept_loop.ts`), the stream pipeline (`stream_session.ts`) and the
 * direct one (`direct_session.ts`), the fast path (`fast_call.ts`), the
 * request deadline (`deadline_sweeper.ts`), the idle and incomplete-frame
 * timeouts (`connection_watchdog.ts`), the bounds shared by all connections
 * (`../streams/frame_budget.ts`, `../streams/shared_flow_limit.ts`), the
 * wait on close (`graceful_close.ts`). This file holds the options and the
 * class that ties them together.
 *
 * @module
 */

import { type RequestFailureOutcome, requestFailureOutcome } from "./request_outcome.ts";
import { DEFAULT_MAX_INCOMPLETE_FRAME_BYTES, FrameBudget } from "../streams/frame_budget.ts";
import { DEFAULT_MAX_FRAME_LENGTH, FrameDecoderStream } from "../streams/frame_decoder_stream.ts";
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  RequestHandlerStream,
} from "../streams/request_handler_stream.ts";
import {
  DEFAULT_MAX_BUFFERED_BYTES_TOTAL,
  DEFAULT_MAX_IN_FLIGHT_TOTAL,
  SharedFlowLimit,
} from "../streams/shared_flow_limit.ts";
import { listenOnPorts } from "../transport/listen.ts";
import type { Connection, Listener, NetAddress } from "../transport/types.ts";
import { ByteReader } from "../wire/bytes.ts";
import { BadRequestError, ClosedError } from "../wire/errors.ts";
import { javaThrowable } from "../wire/java_throwable.ts";
import { tickNow } from "../wire/tick_clock.ts";
import { MESSAGE_TYPE_NAMES, MessageType, readFrameHeader, VERSION } from "../wire/messages.ts";
import { type Logger, SILENT_LOGGER } from "../observability/logger.ts";
import { AcceptLoop } from "./accept_loop.ts";
import type { AccessRequest, RequestFilter } from "./access_control.ts";
import {
  ConnectionWatchdog,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_INCOMPLETE_FRAME_TIMEOUT_MS,
} from "./connection_watchdog.ts";
import { DeadlineSweeper } from "./deadline_sweeper.ts";
import { DirectSession, type PENDING } from "./direct_session.ts";
import { FastCall, type FastCallHooks } from "./fast_call.ts";
import {
  failedIncomingMessageFrame,
  requestFailureFrame,
  serverFailureFrame,
} from "./failure_frames.ts";
import { settleWithin } from "./graceful_close.ts";
import { GuardedStats } from "./guarded_stats.ts";
import { InFlight, type RequestContext } from "./in_flight.ts";
import { ServerLog } from "./server_log.ts";
import {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type RequestDescription,
  type ServerOptions,
} from "./server_options.ts";
import { requestIdOf, resultFrameFor, writeResultFrame } from "./result_frame.ts";
import type { AnswerBuffer } from "./answer_buffer.ts";
import { type ServedConnection, servedConnection } from "./served_connection.ts";
import { type KvStateRequestStats, RequestStats, type RequestStatsSnapshot } from "./stats.ts";
import { StreamSession } from "./stream_session.ts";

export { FastCall } from "./fast_call.ts";
export type { RequestContext } from "./in_flight.ts";
export { requestIdOf, resultFrameFor } from "./result_frame.ts";

export type { RequestDescription, ServerOptions } from "./server_options.ts";
/** After a framing failure (FIN sent): the most time spent reading and discarding. */
const FAILURE_LINGER_MS = 2_000;
/** After a framing failure (FIN sent): the most bytes read and discarded. */
const FAILURE_LINGER_BYTES = 16 * 1024 * 1024;
/** The longest state name quoted in a refusal. */
const MAX_QUOTED_NAME = 200;
/** The peer address of a `requestStream()` stage, which has no connection. */
const NO_ADDRESS: NetAddress = Object.freeze({ hostname: "", port: 0 });
/** The last-resort answer when not even a request failure can be built. */
const INTERNAL_FAILURE_FRAME = serverFailureFrame(
  javaThrowable("java.lang.RuntimeException", "Internal server error"),
);
/** The cause named when the request's own error cannot be written. */
const INTERNAL_ERROR = new Error("Internal server error");

/**
 * Base of the state server and the proxy. A subclass says how to decode a
 * request body and how to answer it; the base does the rest: framing, the
 * header checks and failure frames exactly as Flink's `AbstractServerHandler`,
 * concurrency with a per-connection bound, deadlines, statistics, and an
 * awaited, complete shutdown. Every bound has a default (see
 * {@linkcode ServerOptions}); after a framing failure the frames before it
 * are answered (the requests in progress may finish for up to
 * `closeGraceMs`), then the peer is sent the failure frame and FIN, and its
 * input is read and discarded (from the failure on, at most 16 MiB; for up
 * to 2 s after FIN) so that it reads why before the close. No exception of a
 * subclass, a hook or the machinery escapes to the runtime: a last-resort
 * guard fails the one request (or closes the one connection) and counts it
 * in `internalErrors`.
 *
 * @example A server that answers every request with its key bytes
 * ```ts
 * import { AbstractServer, MemoryTransport } from "@kvstate/queryable-state";
 * import {
 *   decodeKvStateInternalRequest,
 *   type KvStateInternalRequest,
 * } from "@kvstate/queryable-state/wire";
 *
 * class EchoServer extends AbstractServer<KvStateInternalRequest> {
 *   protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
 *     return decodeKvStateInternalRequest(body);
 *   }
 *   protected handleRequest(req: KvStateInternalRequest): Uint8Array {
 *     return req.serializedKeyAndNamespace;
 *   }
 * }
 *
 * await using server = new EchoServer("Echo Server", { transport: new MemoryTransport() });
 * const address = await server.start();
 * address.port > 0; // => true
 * ```
 */
export abstract class AbstractServer<Req> {
  /** The name used in messages, e.g. `Queryable State Server`. */
  readonly serverName: string;
  readonly #options: ServerOptions;
  readonly #stats = new RequestStats();
  readonly #extraStats: KvStateRequestStats | undefined;
  readonly #connections = new Set<ServedConnection>();
  /** Connections served per remote host name. */
  readonly #perAddress = new Map<string, number>();
  readonly #tasks = new Set<Promise<void>>();
  /** Every asynchronous request in progress, for the deadline and close(). */
  readonly #deadlines: DeadlineSweeper;
  readonly #watchdog: ConnectionWatchdog;
  /** Bytes of incomplete frames and of requests in progress, over all connections. */
  readonly #budget: FrameBudget;
  /** Requests in progress and answers held, over all connections. */
  readonly #limit: SharedFlowLimit;
  readonly #filter: RequestFilter | undefined;
  readonly #maxFrameLength: number;
  readonly #maxConnections: number;
  readonly #maxPerAddress: number;
  readonly #maxInFlight: number;
  readonly #closeGraceMs: number;
  readonly #internalError = (err: unknown): void => this.reportInternalError(err);
  readonly #log: ServerLog;
  #listener: Listener | undefined;
  #acceptLoop: AcceptLoop | undefined;
  #closing: Promise<void> | undefined;
  #started = false;
  /** What a {@linkcode FastCall} reports to (one object per server, not per request). */
  readonly #fastHooks: FastCallHooks<Req>;
  /** `reuseFastCalls()`: answered calls wait in `#fastCalls` for a later request. */
  readonly #reuseCalls: boolean;
  readonly #fastCalls: FastCall<Req>[] = [];
  /** The subclass answers some requests in place (`answerInPlace` is overridden). */
  readonly #inPlace: boolean;

  /**
   * Creates a AbstractServer.
   *
   * @param serverName The name used in messages.
   * @param options Binding, bounds and deadlines.
   * @throws {RangeError} When a bound is out of range.
   */
  constructor(serverName: string, options: ServerOptions = {}) {
    this.serverName = serverName;
    this.#options = options;
    this.#extraStats = options.stats === undefined
      ? undefined
      : new GuardedStats(options.stats, (err) => {
        this.#stats.reportInternalError(err);
        this.#log.internalError(err);
      });
    this.#filter = options.requestFilter;
    this.#log = new ServerLog(options.logger ?? SILENT_LOGGER, serverName);
    // Validates the frame length now rather than at the first connection.
    new FrameDecoderStream({ maxFrameLength: options.maxFrameLength });
    this.#maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    this.#maxConnections = positiveInt(
      options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      "maxConnections",
    );
    this.#maxPerAddress = positiveInt(
      options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
      "maxConnectionsPerAddress",
    );
    this.#maxInFlight = positiveInt(
      options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT,
      "maxInFlightPerConnection",
    );
    this.#budget = new FrameBudget(
      nonNegative(
        options.maxIncompleteFrameBytes ?? DEFAULT_MAX_INCOMPLETE_FRAME_BYTES,
        "maxIncompleteFrameBytes",
      ),
    );
    this.#limit = new SharedFlowLimit(
      options.maxInFlightTotal ?? DEFAULT_MAX_IN_FLIGHT_TOTAL,
      options.maxBufferedBytesTotal ?? DEFAULT_MAX_BUFFERED_BYTES_TOTAL,
      this.#budget,
    );
    this.#closeGraceMs = nonNegative(
      options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS,
      "closeGraceMs",
    );
    const timeout = nonNegative(
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      "requestTimeoutMs",
    );
    this.#deadlines = new DeadlineSweeper(
      timeout,
      (f, err) => f.finish(this.#failure(f.frame, err)),
      this.#internalError,
    );
    this.#watchdog = new ConnectionWatchdog(
      this.#connections,
      nonNegative(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, "idleTimeoutMs"),
      nonNegative(
        options.incompleteFrameTimeoutMs ?? DEFAULT_INCOMPLETE_FRAME_TIMEOUT_MS,
        "incompleteFrameTimeoutMs",
      ),
      this.#internalError,
      (c, reason, timeoutMs) => this.#log.timedOut(c.conn, reason, timeoutMs),
    );
    this.#inPlace = this.answerInPlace !== AbstractServer.prototype.answerInPlace;
    this.#reuseCalls = this.reuseFastCalls();
    this.#fastHooks = {
      finished: (response, call, startedAt, outcome) =>
        this.#finished(response, call, startedAt, outcome),
      failure: (frame, err) => this.#failure(frame, err),
      decode: (body) => this.decodeRequest(body),
      budget: this.#budget,
      recycle: (call) => {
        if (this.#fastCalls.length < MAX_SPARE_FAST_CALLS) this.#fastCalls.push(call);
      },
    };
  }

  /**
   * Decodes a REQUEST body. Throwing here answers the frame with Flink's
   * `Failed incoming message` SERVER_FAILURE.
   *
   * @param body The body after the request id.
   * @returns The request.
   */
  protected abstract decodeRequest(body: Uint8Array): Req;

  /**
   * Decodes the REQUEST body `bytes[start, end)`: what the server calls.
   * Default: {@linkcode AbstractServer.decodeRequest} of a view of it; a
   * subclass may read it in place instead, which saves the views per
   * request. Throwing answers as `decodeRequest` throwing does.
   *
   * @param bytes The buffer holding the body.
   * @param start Where the body (after the request id) starts.
   * @param end Where it ends.
   * @returns The request.
   */
  protected decodeRequestAt(bytes: Uint8Array, start: number, end: number): Req {
    return this.decodeRequest(bytes.subarray(start, end));
  }

  /**
   * Answers a request with the response content, or throws / rejects. A
   * bad-request error is sent as is; anything else is wrapped as Flink
   * wraps it.
   *
   * @param request The decoded request.
   * @param context The request id and its abort signal.
   * @returns The serialized state content.
   */
  protected abstract handleRequest(
    request: Req,
    context: RequestContext,
  ): Uint8Array | Promise<Uint8Array>;

  /**
   * What the request filter sees of a request besides the peer's address:
   * its job, state name and state id where the subclass knows them. Called
   * only when a `requestFilter` is set. Default: nothing (`{}`).
   *
   * @param _request The decoded request.
   * @returns The description.
   */
  protected describeRequest(_request: Req): RequestDescription {
    return {};
  }

  /**
   * An optional synchronous path for a subclass that can answer a request
   * straight from its bytes, without decoding it into an object (a state
   * server looking a key up by its serialized bytes, for example). The
   * request body (what `decodeRequest` would get: the bytes after the
   * request id) is `bytes[start, end)`; `bytes` must not be kept or
   * modified. Return the response content, or `undefined` to leave the
   * request to the regular path (`decodeRequest`, then `handleRequest`).
   * Throwing answers like a throwing `handleRequest`. Not called when a
   * `requestFilter` is set (the filter needs the decoded request). Default:
   * `undefined` for every request.
   *
   * @param _bytes The buffer holding the request.
   * @param _start Where the body starts.
   * @param _end Where it ends.
   * @returns The content, or `undefined`.
   */
  protected answerInPlace(
    _bytes: Uint8Array,
    _start: number,
    _end: number,
  ): Uint8Array | undefined {
    return undefined;
  }

  /** Called once by `close()` after the connections are closed. */
  protected onClose(): Promise<void> | void {}

  /**
   * Counts an exception caught by a last-resort guard (in `internalErrors`
   * and the `stats` hooks' `reportInternalError`). For subclasses whose own
   * callbacks (timers, sockets of their own) guard themselves. Never throws.
   *
   * @param err The exception.
   */
  protected reportInternalError(err: unknown): void {
    try {
      this.#stats.reportInternalError(err);
      this.#extraStats?.reportInternalError?.(err);
    } catch {
      // Counting must not fail the caller.
    }
    this.#log.internalError(err);
  }

  /**
   * The logger given in the options (`SILENT_LOGGER` when none), for a
   * subclass's own events.
   */
  protected get logger(): Logger {
    return this.#log.logger;
  }

  /**
   * Binds the configured address (trying the ports in order) and starts
   * accepting connections.
   *
   * @returns The bound address.
   * @throws {BindError} When every port is taken.
   * @throws {ClosedError} When the server was already started or closed.
   */
  async start(): Promise<NetAddress> {
    if (this.#closing !== undefined) throw ClosedError.shutDown(this.serverName);
    if (this.#started) throw new ClosedError(`${this.serverName} is already started.`);
    const transport = this.#options.transport;
    if (transport === undefined) {
      throw new TypeError(`${this.serverName}: a transport is needed to listen`);
    }
    this.#started = true;
    const listener = await listenOnPorts(
      transport,
      this.#options.host ?? "127.0.0.1",
      this.#options.port ?? 0,
      this.serverName,
    );
    this.#listener = listener;
    this.#acceptLoop = new AcceptLoop(listener, {
      closing: () => this.#closing !== undefined,
      accepted: (conn) => this.#accepted(conn),
      internalError: this.#internalError,
    });
    this.#log.started(listener.address);
    return listener.address;
  }

  /**
   * The bound address.
   *
   * @throws {ClosedError} Before `start()` resolved.
   */
  get address(): NetAddress {
    if (this.#listener === undefined) {
      throw new ClosedError(`${this.serverName} is not started.`);
    }
    return this.#listener.address;
  }

  /**
   * Requests in progress now, over all connections (decoded and not yet
   * answered: the count that `maxInFlightTotal` bounds). Read-only.
   */
  get requestsInFlight(): number {
    return this.#limit.inFlight;
  }

  /** The request statistics now. */
  get stats(): RequestStatsSnapshot {
    return this.#stats.snapshot();
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** A connection from the accept loop: served, or closed at once when over a bound. */
  #accepted(conn: Connection): void {
    if (
      this.#closing !== undefined || this.#connections.size >= this.#maxConnections ||
      (this.#perAddress.get(conn.remoteAddress?.hostname ?? "") ?? 0) >= this.#maxPerAddress
    ) {
      conn.close().catch(() => {});
      if (this.#closing === undefined && this.#log.warns) {
        const all = this.#connections.size >= this.#maxConnections;
        this.#log.refused(
          conn,
          all ? "maxConnections" : "maxConnectionsPerAddress",
          all ? this.#maxConnections : this.#maxPerAddress,
        );
      }
      return;
    }
    this.serve(conn).catch(() => {});
  }

  /**
   * Serves one connection until it closes: any byte stream pair works, e.g.
   * one side of an in-memory pair. Resolves when the connection is done.
   *
   * @param conn The connection.
   * @throws {ClosedError} When the server is closed.
   */
  serve(conn: Connection): Promise<void> {
    if (this.#closing !== undefined) {
      conn.close().catch(() => {});
      return Promise.reject(ClosedError.shutDown(this.serverName));
    }
    const task = this.#serve(conn);
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task)).catch(() => {});
    return task;
  }

  /**
   * The request stage of this server as a stream transform: batches of
   * frames (without length prefix) in, batches of encoded response frames
   * out. `serve` runs it between the frame decoder and encoder; it can be
   * composed over any byte stream pair the same way. Its requests count in
   * the server's shared bounds; the request filter sees an empty peer
   * address (`{ hostname: "", port: 0 }`).
   *
   * @returns A new stage, for one connection.
   */
  requestStream(): TransformStream<Uint8Array[], Uint8Array[]> {
    const state = servedConnection(undefined, performance.now());
    return new RequestHandlerStream(
      (frame) =>
        this.#onFrame(frame, 0, frame.length, state, null) as Uint8Array | Promise<Uint8Array>,
      { maxInFlight: this.#maxInFlight, limit: this.#limit, onError: this.#internalError },
    );
  }

  async #serve(conn: Connection): Promise<void> {
    const state = servedConnection(conn, performance.now());
    const options = {
      maxFrameLength: this.#maxFrameLength,
      maxInFlight: this.#maxInFlight,
      maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
      budget: this.#budget,
      limit: this.#limit,
      internalError: this.#internalError,
      failureGraceMs: this.#closeGraceMs,
      lingerMs: FAILURE_LINGER_MS,
      lingerBytes: FAILURE_LINGER_BYTES,
    };
    try {
      if (conn.direct !== undefined) {
        // The direct path: the stages run as plain calls per chunk, with
        // the same bounds and the same answers.
        const session = new DirectSession(
          conn,
          (bytes, start, end, out) => this.#onFrame(bytes, start, end, state, out),
          {
            ...options,
            framingFailure: this.#log.framingFailure(conn),
          },
        );
        state.stopReading = () => session.stopReading();
        state.session = session;
        state.probe = session;
        state.input = session;
        this.#register(state);
        await session.start();
      } else {
        const session = new StreamSession(
          conn,
          (frame) =>
            this.#onFrame(frame, 0, frame.length, state, null) as Uint8Array | Promise<Uint8Array>,
          { ...options, framingFailure: this.#log.framingFailure(conn) },
        );
        state.stopReading = () => session.stopReading();
        state.probe = session;
        state.input = session;
        this.#register(state);
        await session.run();
      }
    } catch (err) {
      this.reportInternalError(err);
    } finally {
      await this.#release(state);
    }
  }

  #register(state: ServedConnection): void {
    this.#connections.add(state);
    this.#perAddress.set(state.host, (this.#perAddress.get(state.host) ?? 0) + 1);
    this.#stats.reportActiveConnection();
    this.#extraStats?.reportActiveConnection();
    this.#watchdog.watch();
  }

  /** A connection is done: fail what it still runs, close it, count it out. */
  async #release(state: ServedConnection): Promise<void> {
    if (state.closed) return;
    state.closed = true;
    for (const f of state.inFlight) f.abort(new ClosedError("connection closed"));
    try {
      await state.conn.close();
    } catch {
      // Closed already.
    }
    if (this.#connections.delete(state)) {
      const n = (this.#perAddress.get(state.host) ?? 1) - 1;
      if (n <= 0) this.#perAddress.delete(state.host);
      else this.#perAddress.set(state.host, n);
      this.#stats.reportInactiveConnection();
      this.#extraStats?.reportInactiveConnection();
    }
  }

  /**
   * Answers one frame, `bytes[start, end)`: returns the response frame, a
   * promise of it, {@linkcode PENDING}, or `null` when the answer is written
   * into `out` (the direct path; the stream path has no `out`). Never
   * throws: whatever escapes the steps below is caught here, counted, and
   * answered as a failure of this request.
   */
  #onFrame(
    bytes: Uint8Array,
    start: number,
    end: number,
    state: ServedConnection,
    out: AnswerBuffer | null,
  ): Uint8Array | Promise<Uint8Array> | typeof PENDING | null {
    let frame: Uint8Array | undefined;
    try {
      // Fast path: a well-formed REQUEST header (checked byte-wise, no allocation).
      if (
        end - start >= 16 &&
        ((bytes[start] << 24) | (bytes[start + 1] << 16) | (bytes[start + 2] << 8) |
            bytes[start + 3]) === VERSION &&
        bytes[start + 4] === 0 && bytes[start + 5] === 0 && bytes[start + 6] === 0 &&
        bytes[start + 7] === 0
      ) {
        if (this.#inPlace && this.#filter === undefined) {
          const answer = this.#answerInPlace(bytes, start, end, out);
          if (answer !== undefined) return answer;
        }
      } else {
        frame = viewOf(bytes, start, end);
        const r = new ByteReader(frame);
        let type: MessageType;
        try {
          type = readFrameHeader(r);
          r.readInt64();
        } catch (err) {
          this.#log.badFrame(state.conn, err);
          return failedIncomingMessageFrame(err);
        }
        if (type !== MessageType.REQUEST) {
          const message = `Unexpected message type ${MESSAGE_TYPE_NAMES[type]}. Expected REQUEST.`;
          if (this.#log.warns) this.#log.badFrame(state.conn, new TypeError(message));
          return serverFailureFrame(javaThrowable("java.lang.IllegalArgumentException", message));
        }
      }
      let request: Req;
      try {
        request = this.decodeRequestAt(bytes, start + 16, end);
      } catch (err) {
        this.#log.badFrame(state.conn, err);
        return failedIncomingMessageFrame(err);
      }
      this.#stats.reportRequest();
      this.#extraStats?.reportRequest();
      const startedAt = tickNow();
      if (this.#filter !== undefined) {
        frame ??= viewOf(bytes, start, end);
        const answer = this.#filtered(frame, request, startedAt, state);
        if (answer !== undefined) return answer;
      }
      // The fast path takes the frame where it lies: no view.
      const call = (this.#fastCalls.pop() ?? new FastCall(this.#fastHooks, this.#reuseCalls))
        .start(bytes, start, end, request, startedAt, state.session, state.input);
      if (this.#tryFast(call)) return call.taken();
      if (this.#reuseCalls) this.#fastCalls.push(call.clear());
      frame ??= viewOf(bytes, start, end);
      return this.#regular(frame, request, new InFlight(frame, startedAt), state, out);
    } catch (err) {
      return this.#internalFailure(frame ?? bytes.subarray(start, end), err);
    }
  }

  /**
   * `answerInPlace` for a well-formed REQUEST frame: `undefined` when the
   * subclass leaves it to the regular path, else the answer as `#onFrame`
   * returns it (written into `out` when there is one).
   */
  #answerInPlace(
    bytes: Uint8Array,
    start: number,
    end: number,
    out: AnswerBuffer | null,
  ): Uint8Array | null | undefined {
    const startedAt = tickNow();
    let content: Uint8Array | undefined;
    try {
      content = this.answerInPlace(bytes, start + 16, end);
    } catch (err) {
      this.#stats.reportRequest();
      this.#extraStats?.reportRequest();
      return this.#failure(bytes.subarray(start, end), err);
    }
    if (content === undefined) return undefined;
    this.#stats.reportRequest();
    this.#extraStats?.reportRequest();
    if (out === null || !(content instanceof Uint8Array)) {
      return this.#success(bytes.subarray(start, end), content, startedAt);
    }
    writeResultFrame(out, bytes, start, content);
    this.#reportSuccess(startedAt);
    return null;
  }

  /** The regular path: `handleRequest`, with the deadline for an asynchronous answer. */
  #regular(
    frame: Uint8Array,
    request: Req,
    ctx: InFlight,
    state: ServedConnection,
    out: AnswerBuffer | null,
  ): Uint8Array | Promise<Uint8Array> | null {
    let result: Uint8Array | Promise<Uint8Array>;
    try {
      result = this.handleRequest(request, ctx);
    } catch (err) {
      return this.#failure(frame, err);
    }
    if (result instanceof Uint8Array) {
      if (out === null) return this.#success(frame, result, ctx.startedAt);
      writeResultFrame(out, frame, 0, result);
      this.#reportSuccess(ctx.startedAt);
      return null;
    }
    // Asynchronous: track it for the deadline and for close().
    return this.#tracked(ctx, state, (finish) => this.#settleWith(result, ctx, finish));
  }

  /**
   * Tracks `ctx` (deadline, close(), the request-bytes budget) until it is
   * finished, once, through the `finish` handed to `start` or by the
   * deadline.
   */
  #tracked(
    ctx: InFlight,
    state: ServedConnection,
    start: (finish: (frame: Uint8Array) => void) => void,
  ): Promise<Uint8Array> {
    state.inFlight.add(ctx);
    this.#deadlines.add(ctx);
    // The frame stays in memory until the answer: it counts in the budget,
    // with the whole chunk it was read in when the session says which.
    const hold = state.input?.retainInput();
    if (hold === undefined) this.#budget.hold(ctx.frame.length);
    return new Promise<Uint8Array>((resolve) => {
      ctx.finish = (f) => {
        if (ctx.settled) return;
        ctx.settled = true;
        state.inFlight.delete(ctx);
        this.#deadlines.delete(ctx);
        if (hold !== undefined) hold.release();
        else this.#budget.release(ctx.frame.length);
        resolve(f);
      };
      try {
        start(ctx.finish);
      } catch (err) {
        ctx.finish(this.#internalFailure(ctx.frame, err));
      }
    });
  }

  /** Finishes `ctx` with what `result` settles to. */
  #settleWith(
    result: Promise<Uint8Array>,
    ctx: InFlight,
    finish: (frame: Uint8Array) => void,
  ): void {
    const frame = ctx.frame;
    result.then(
      (content) => {
        if (!ctx.settled) finish(this.#success(frame, content, ctx.startedAt));
      },
      (err) => {
        if (!ctx.settled) finish(this.#failure(frame, err));
      },
    );
  }

  /**
   * Runs the request filter. Returns `undefined` when the request may go on
   * now (the filter said `true` synchronously), or the answer: a refusal,
   * or the promise of the answer once an asynchronous filter has decided.
   */
  #filtered(
    frame: Uint8Array,
    request: Req,
    startedAt: number,
    state: ServedConnection,
  ): Uint8Array | Promise<Uint8Array> | undefined {
    let description: RequestDescription | undefined;
    let verdict: boolean | Promise<boolean>;
    try {
      description = this.describeRequest(request);
      verdict = this.#filter!(this.#accessRequest(state, description));
    } catch {
      return this.#denied(frame, description, state);
    }
    if (verdict === true) return undefined;
    if (typeof (verdict as Promise<boolean> | null)?.then !== "function") {
      return this.#denied(frame, description, state);
    }
    // Asynchronous: the request is tracked (deadline, close()) from now on.
    const ctx = new InFlight(frame, startedAt);
    return this.#tracked(ctx, state, (finish) => {
      const decided = (allowed: unknown): void => {
        if (ctx.settled) return;
        try {
          if (allowed !== true) {
            finish(this.#denied(frame, description, state));
            return;
          }
          const call = new FastCall(this.#fastHooks, false)
            .start(frame, 0, frame.length, request, startedAt, undefined, undefined);
          if (this.#tryFast(call)) {
            const answer = call.taken() as Uint8Array | Promise<Uint8Array>;
            if (answer instanceof Uint8Array) finish(answer);
            else answer.then(finish);
            return;
          }
          let result: Uint8Array | Promise<Uint8Array>;
          try {
            result = this.handleRequest(request, ctx);
          } catch (err) {
            finish(this.#failure(frame, err));
            return;
          }
          if (result instanceof Uint8Array) finish(this.#success(frame, result, startedAt));
          else this.#settleWith(result, ctx, finish);
        } catch (err) {
          finish(this.#internalFailure(frame, err));
        }
      };
      (verdict as Promise<boolean>).then(decided, () => decided(false));
    });
  }

  #accessRequest(state: ServedConnection, d: RequestDescription): AccessRequest {
    return {
      remoteAddress: state.conn === undefined ? NO_ADDRESS : state.conn.remoteAddress,
      jobId: d.jobId,
      stateName: d.stateName,
      kvStateId: d.kvStateId,
    };
  }

  /** A refused request: counted, answered with a `BadRequestError` naming the refusal. */
  #denied(
    frame: Uint8Array,
    d: RequestDescription | undefined,
    state: ServedConnection,
  ): Uint8Array {
    this.#stats.reportDeniedRequest();
    this.#extraStats?.reportDeniedRequest?.();
    let text = `Access denied: request ${requestIdOf(frame)}`;
    try {
      if (d?.jobId !== undefined) text += ` for job ${d.jobId}`;
      if (typeof d?.stateName === "string") text += ` state ${quoted(d.stateName)}`;
      if (d?.kvStateId !== undefined) text += ` (state id ${d.kvStateId})`;
    } catch {
      // A description that cannot be printed is left out.
    }
    const host = state.conn === undefined ? "" : state.conn.remoteAddress?.hostname ?? "";
    text += ` from ${host === "" ? "an unknown peer" : quoted(host)}`;
    this.#log.denied(d, state.conn);
    return this.#failure(frame, BadRequestError.fromServer(this.serverName, text), "refused");
  }

  /**
   * The outcome a failure of a request is counted with in the statistics
   * (`reportFailedRequest(outcome)`), when the server does not know it
   * otherwise (a denied request is `refused`, an internal error `failure`).
   * Default: {@linkcode requestFailureOutcome} of `err` (not upstream); a
   * proxy counts what no class tells apart as `upstream_failure`. Called
   * once per failed request; a throw counts as an internal error and
   * `failure`.
   *
   * @param err The error the request failed with.
   * @returns The outcome.
   */
  protected failureOutcome(err: unknown): RequestFailureOutcome {
    return requestFailureOutcome(err);
  }

  /**
   * An optional fast path for a subclass that answers with complete frames
   * (for example a proxy relaying a state server's answer with the request
   * id patched): take the request by returning `true` and answer it, now or
   * later, exactly once through `call.send` (a complete response frame,
   * length prefix included) or `call.fail` (answered like a failure of
   * `handleRequest`); or return `false` for the regular path through
   * {@linkcode AbstractServer.handleRequest}. The call costs no promise and
   * no closure. Requests on this path are not tracked for the server's
   * deadline: the subclass bounds them.
   *
   * @param _call The request, its frame and its answer.
   * @returns Whether the request was taken.
   */
  protected respondFast(_call: FastCall<Req>): boolean {
    return false;
  }

  /**
   * Whether the server may reuse a {@linkcode FastCall} object for a later
   * request once it is answered (its answer delivered), which saves an
   * object per request. Only for a subclass that never touches a call after
   * answering it, nor after returning `false` for it (the call would then be
   * another request's); a call whose `respondFast` threw is not reused.
   * Asked once, at construction. Default `false`.
   *
   * @returns `true` to reuse calls.
   */
  protected reuseFastCalls(): boolean {
    return false;
  }

  /** `respondFast`, where a throw answers like a throwing `handleRequest` (the call is taken). */
  #tryFast(call: FastCall<Req>): boolean {
    try {
      return this.respondFast(call);
    } catch (err) {
      call.failThrown(err);
      return true;
    }
  }

  /** Statistics for a complete response frame of the fast path. Never throws. */
  #finished(
    response: Uint8Array,
    call: FastCall<Req>,
    startedAt: number,
    outcome: RequestFailureOutcome | undefined,
  ): Uint8Array {
    if (!(response instanceof Uint8Array) || response.length < 16) {
      return this.#internalFailure(
        call.frame,
        new TypeError("FastCall.send needs a complete response frame"),
      );
    }
    if (response[11] === MessageType.REQUEST_RESULT) {
      const ms = tickNow() - startedAt;
      this.#stats.reportSuccessfulRequest(ms);
      this.#extraStats?.reportSuccessfulRequest(ms);
    } else {
      const why = outcome ?? "failure";
      this.#stats.reportFailedRequest(why);
      this.#extraStats?.reportFailedRequest(why);
    }
    return response;
  }

  /** The result frame for `content`. Never throws. */
  #success(request: Uint8Array, content: Uint8Array, startedAt: number): Uint8Array {
    let frame: Uint8Array;
    try {
      if (!(content instanceof Uint8Array)) {
        throw new TypeError("handleRequest must answer with a Uint8Array");
      }
      frame = resultFrameFor(request, content);
    } catch (err) {
      return this.#internalFailure(request, err);
    }
    this.#reportSuccess(startedAt);
    return frame;
  }

  #reportSuccess(startedAt: number): void {
    const ms = tickNow() - startedAt;
    this.#stats.reportSuccessfulRequest(ms);
    this.#extraStats?.reportSuccessfulRequest(ms);
  }

  /**
   * The failure frame for `err`, counted with `outcome` (default: the
   * subclass's {@linkcode AbstractServer.failureOutcome} of `err`). Never throws.
   */
  #failure(request: Uint8Array, err: unknown, outcome?: RequestFailureOutcome): Uint8Array {
    let frame: Uint8Array;
    try {
      frame = requestFailureFrame(requestIdOf(request), err);
    } catch (e) {
      return this.#internalFailure(request, e);
    }
    let why = outcome;
    if (why === undefined) {
      try {
        why = this.failureOutcome(err);
      } catch (e) {
        this.reportInternalError(e);
        why = "failure";
      }
    }
    this.#stats.reportFailedRequest(why);
    this.#extraStats?.reportFailedRequest(why);
    return frame;
  }

  /**
   * The last resort: an exception escaped a step of answering `request`.
   * It is counted, and the request is failed (the connection goes on).
   * Never throws.
   */
  #internalFailure(request: Uint8Array, err: unknown): Uint8Array {
    this.reportInternalError(err);
    this.#stats.reportFailedRequest("failure");
    this.#extraStats?.reportFailedRequest("failure");
    if (request.length >= 16) {
      try {
        return requestFailureFrame(requestIdOf(request), err);
      } catch {
        try {
          return requestFailureFrame(requestIdOf(request), INTERNAL_ERROR);
        } catch {
          // The constant frame below.
        }
      }
    }
    return INTERNAL_FAILURE_FRAME;
  }

  #failInFlight(): void {
    this.#deadlines.failAll(
      ClosedError.shutDown(this.serverName),
      (f, err) => f.finish(this.#failure(f.frame, err)),
    );
  }

  /**
   * Stops accepting, stops reading new requests, lets the requests in
   * progress finish (up to `closeGraceMs`, then fails them), closes every
   * connection and releases every timer. Idempotent: later calls return the
   * same promise.
   *
   * @returns Resolves when everything is released.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#listener?.close().catch(() => {});
    this.#acceptLoop?.stop();
    await this.#acceptLoop?.done;
    for (const state of this.#connections) {
      try {
        state.stopReading();
      } catch (err) {
        this.reportInternalError(err);
      }
    }
    if (this.#tasks.size > 0) {
      if (await settleWithin(this.#tasks, this.#closeGraceMs)) {
        this.#failInFlight();
        for (const state of this.#connections) state.conn.close().catch(() => {});
      }
    }
    // Whatever is still in progress (served through requestStream()) is failed now.
    this.#failInFlight();
    await Promise.allSettled([...this.#tasks]);
    this.#deadlines.stop();
    this.#watchdog.stop();
    await this.onClose();
    if (this.#started) this.#log.stopped();
  }

  /** Same as {@linkcode AbstractServer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** `bytes[start, end)`, as `bytes` itself when that is all of it. */
function viewOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
}

/** The most answered {@linkcode FastCall}s kept for reuse. */
const MAX_SPARE_FAST_CALLS = 4096;

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
  return v;
}

function nonNegative(v: number, name: string): number {
  if (!(typeof v === "number" && v >= 0 && v !== Infinity)) {
    throw new RangeError(`${name} must be a finite number >= 0`);
  }
  return v;
}

/** `text` in quotes, cut to a bounded length. */
function quoted(text: string): string {
  const cut = text.length > MAX_QUOTED_NAME ? `${text.slice(0, MAX_QUOTED_NAME)}…` : text;
  return JSON.stringify(cut);
}
