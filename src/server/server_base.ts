/**
 * The server every role runs on: accept connections, and run each as
 * `readable -> decode -> handle -> encode -> writable` with Flink's error
 * handling (PROTOCOL §1.4, §7). Where the transport offers
 * `Connection.direct`, the same stages run as plain calls per chunk
 * (`direct_session.ts`): same bounds, same bytes, no stream hop.
 *
 * Each part lives in its own file: the accept loop (`accept_loop.ts`), the
 * stream pipeline (`stream_session.ts`) and the direct one
 * (`direct_session.ts`), the fast path (`fast_call.ts`), the deadline
 * (`deadline_sweeper.ts`), the wait on close (`graceful_close.ts`). This
 * file holds the options and the class that ties them together.
 *
 * @module
 */

import { DEFAULT_MAX_FRAME_LENGTH, FrameDecoderStream } from "../streams/frame_decoder_stream.ts";
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  RequestHandlerStream,
} from "../streams/request_handler_stream.ts";
import { listenOnPorts } from "../transport/listen.ts";
import type { Connection, Listener, NetAddress, Transport } from "../transport/types.ts";
import { ByteReader } from "../wire/bytes.ts";
import { ClosedError } from "../wire/errors.ts";
import { javaThrowable } from "../wire/java_throwable.ts";
import { tickNow } from "../wire/tick_clock.ts";
import { MESSAGE_TYPE_NAMES, MessageType, readFrameHeader, VERSION } from "../wire/messages.ts";
import { acceptLoop } from "./accept_loop.ts";
import { DeadlineSweeper } from "./deadline_sweeper.ts";
import { DirectSession, type PENDING } from "./direct_session.ts";
import { FastCall, type FastCallHooks } from "./fast_call.ts";
import {
  failedIncomingMessageFrame,
  pipelineFailureFrame,
  requestFailureFrame,
  serverFailureFrame,
} from "./failure_frames.ts";
import { settleWithin } from "./graceful_close.ts";
import { InFlight, type RequestContext } from "./in_flight.ts";
import { requestIdOf, resultFrameFor } from "./result_frame.ts";
import { type ServedConnection, servedConnection } from "./served_connection.ts";
import { type KvStateRequestStats, RequestStats, type RequestStatsSnapshot } from "./stats.ts";
import { serveStreams } from "./stream_session.ts";

export { FastCall } from "./fast_call.ts";
export type { RequestContext } from "./in_flight.ts";
export { requestIdOf, resultFrameFor } from "./result_frame.ts";

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
  /** The most connections served at once; more are closed on accept. Default 10,000. */
  readonly maxConnections?: number;
  /**
   * The most requests in progress per connection; when reached, that
   * connection is not read until one finishes. Default 1024.
   */
  readonly maxInFlightPerConnection?: number;
  /**
   * The time a request may take before it is answered with a
   * `DeadlineExceededError` failure and its signal aborted, in ms. 0 turns
   * the deadline off. Default 30,000.
   */
  readonly requestTimeoutMs?: number;
  /**
   * On `close()`, how long requests in progress may take to finish before
   * they are failed and the connections closed, in ms. Default 5,000.
   */
  readonly closeGraceMs?: number;
  /** Where to report request statistics, besides the server's own counters. */
  readonly stats?: KvStateRequestStats;
}

const DEFAULT_MAX_CONNECTIONS = 10_000;
const DEFAULT_MAX_IN_FLIGHT = 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CLOSE_GRACE_MS = 5_000;

/**
 * Base of the state server and the proxy. A subclass says how to decode a
 * request body and how to answer it; the base does the rest: framing, the
 * header checks and failure frames exactly as Flink's `AbstractServerHandler`,
 * concurrency with a per-connection bound, deadlines, statistics, and an
 * awaited, complete shutdown.
 *
 * @example A server that answers every request with its key bytes
 * ```ts
 * import {
 *   AbstractServer,
 *   decodeKvStateInternalRequest,
 *   type KvStateInternalRequest,
 *   MemoryTransport,
 * } from "@kvstate/queryable-state";
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
  readonly #tasks = new Set<Promise<void>>();
  /** Every asynchronous request in progress, for the deadline and close(). */
  readonly #deadlines: DeadlineSweeper;
  readonly #maxFrameLength: number | undefined;
  readonly #maxConnections: number;
  readonly #maxInFlight: number;
  readonly #timeoutMs: number;
  #listener: Listener | undefined;
  #acceptLoop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #started = false;
  /** What a {@linkcode FastCall} reports to (one object per server, not per request). */
  readonly #fastHooks: FastCallHooks = {
    finished: (response, startedAt) => this.#finished(response, startedAt),
    failure: (frame, err) => this.#failure(frame, err),
  };

  /**
   * Creates a AbstractServer.
   *
   * @param serverName The name used in messages.
   * @param options Binding, bounds and deadlines.
   */
  constructor(serverName: string, options: ServerOptions = {}) {
    this.serverName = serverName;
    this.#options = options;
    this.#extraStats = options.stats;
    this.#maxFrameLength = options.maxFrameLength;
    this.#maxConnections = positiveInt(
      options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      "maxConnections",
    );
    this.#maxInFlight = positiveInt(
      options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT,
      "maxInFlightPerConnection",
    );
    const timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(timeout >= 0)) throw new RangeError("requestTimeoutMs must be >= 0");
    this.#timeoutMs = timeout;
    this.#deadlines = new DeadlineSweeper(
      timeout,
      (f, err) => f.finish(this.#failure(f.frame, err)),
    );
    // Validates the frame length now rather than at the first connection.
    new FrameDecoderStream({ maxFrameLength: options.maxFrameLength });
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

  /** Called once by `close()` after the connections are closed. */
  protected onClose(): Promise<void> | void {}

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
    this.#acceptLoop = acceptLoop(listener, {
      closing: () => this.#closing !== undefined,
      accepted: (conn) => {
        if (this.#closing !== undefined || this.#connections.size >= this.#maxConnections) {
          conn.close().catch(() => {});
          return;
        }
        this.serve(conn).catch(() => {});
      },
    });
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

  /** The request statistics now. */
  get stats(): RequestStatsSnapshot {
    return this.#stats.snapshot();
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
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
   * composed over any byte stream pair the same way.
   *
   * @returns A new stage, for one connection.
   */
  requestStream(): TransformStream<Uint8Array[], Uint8Array[]> {
    const state = servedConnection(undefined);
    return new RequestHandlerStream(
      (frame) => this.#onFrame(frame, state) as Uint8Array | Promise<Uint8Array>,
      {
        maxInFlight: this.#maxInFlight,
      },
    );
  }

  async #serve(conn: Connection): Promise<void> {
    if (conn.direct !== undefined) return this.#serveDirect(conn);
    const state = servedConnection(conn);
    this.#connections.add(state);
    this.#stats.reportActiveConnection();
    this.#extraStats?.reportActiveConnection();
    try {
      await serveStreams(
        state,
        (frame) => this.#onFrame(frame, state) as Uint8Array | Promise<Uint8Array>,
        { maxFrameLength: this.#maxFrameLength, maxInFlight: this.#maxInFlight },
      );
    } finally {
      await this.#release(state);
    }
  }

  /**
   * The same pipeline on the transport's direct path: the stages run as
   * plain calls per chunk (see `DirectSession`), with the same bounds and
   * the same answers.
   */
  async #serveDirect(conn: Connection): Promise<void> {
    const state = servedConnection(conn);
    const session = new DirectSession(conn, (frame) => this.#onFrame(frame, state), {
      maxFrameLength: this.#maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH,
      maxInFlight: this.#maxInFlight,
      maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
      framingFailure: pipelineFailureFrame,
    });
    state.stopReading = () => session.stopReading();
    state.session = session;
    this.#connections.add(state);
    this.#stats.reportActiveConnection();
    this.#extraStats?.reportActiveConnection();
    try {
      await session.start();
    } finally {
      await this.#release(state);
    }
  }

  /** A connection is done: fail what it still runs, close it, count it out. */
  async #release(state: ServedConnection): Promise<void> {
    state.closed = true;
    for (const f of state.inFlight) f.abort(new ClosedError("connection closed"));
    await state.conn.close().catch(() => {});
    this.#connections.delete(state);
    this.#stats.reportInactiveConnection();
    this.#extraStats?.reportInactiveConnection();
  }

  #onFrame(
    frame: Uint8Array,
    state: ServedConnection,
  ): Uint8Array | Promise<Uint8Array> | typeof PENDING {
    let request: Req;
    // Fast path: a well-formed REQUEST header (checked byte-wise, no allocation).
    if (
      !(frame.length >= 16 &&
        ((frame[0] << 24) | (frame[1] << 16) | (frame[2] << 8) | frame[3]) === VERSION &&
        frame[4] === 0 && frame[5] === 0 && frame[6] === 0 && frame[7] === 0)
    ) {
      const r = new ByteReader(frame);
      let type: MessageType;
      try {
        type = readFrameHeader(r);
        r.readInt64();
      } catch (err) {
        return failedIncomingMessageFrame(err);
      }
      if (type !== MessageType.REQUEST) {
        return serverFailureFrame(
          javaThrowable(
            "java.lang.IllegalArgumentException",
            `Unexpected message type ${MESSAGE_TYPE_NAMES[type]}. Expected REQUEST.`,
          ),
        );
      }
    }
    try {
      request = this.decodeRequest(frame.subarray(16));
    } catch (err) {
      return failedIncomingMessageFrame(err);
    }
    this.#stats.reportRequest();
    this.#extraStats?.reportRequest();
    const startedAt = tickNow();
    const call = new FastCall(frame, request, startedAt, this.#fastHooks, state.session);
    let taken: boolean;
    try {
      taken = this.respondFast(call);
    } catch (err) {
      // A throwing fast path answers like a throwing handleRequest.
      call.fail(err);
      taken = true;
    }
    if (taken) return call.taken();
    let result: Uint8Array | Promise<Uint8Array>;
    const ctx = new InFlight(frame, startedAt);
    try {
      result = this.handleRequest(request, ctx);
    } catch (err) {
      return this.#failure(frame, err);
    }
    if (result instanceof Uint8Array) return this.#success(frame, result, startedAt);
    // Asynchronous: track it for the deadline and for close().
    state.inFlight.add(ctx);
    this.#deadlines.add(ctx);
    return new Promise<Uint8Array>((resolve) => {
      ctx.finish = (f) => {
        if (ctx.settled) return;
        ctx.settled = true;
        state.inFlight.delete(ctx);
        this.#deadlines.delete(ctx);
        resolve(f);
      };
      result.then(
        (content) => {
          if (!ctx.settled) ctx.finish(this.#success(frame, content, startedAt));
        },
        (err) => {
          if (!ctx.settled) ctx.finish(this.#failure(frame, err));
        },
      );
    });
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

  /** Statistics for a complete response frame of the fast path. */
  #finished(response: Uint8Array, startedAt: number): Uint8Array {
    if (response[11] === MessageType.REQUEST_RESULT) {
      const ms = tickNow() - startedAt;
      this.#stats.reportSuccessfulRequest(ms);
      this.#extraStats?.reportSuccessfulRequest(ms);
    } else {
      this.#stats.reportFailedRequest();
      this.#extraStats?.reportFailedRequest();
    }
    return response;
  }

  #success(request: Uint8Array, content: Uint8Array, startedAt: number): Uint8Array {
    const frame = resultFrameFor(request, content);
    const ms = tickNow() - startedAt;
    this.#stats.reportSuccessfulRequest(ms);
    this.#extraStats?.reportSuccessfulRequest(ms);
    return frame;
  }

  #failure(request: Uint8Array, err: unknown): Uint8Array {
    this.#stats.reportFailedRequest();
    this.#extraStats?.reportFailedRequest();
    return requestFailureFrame(requestIdOf(request), err);
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
    await this.#acceptLoop;
    for (const state of this.#connections) state.stopReading();
    if (this.#tasks.size > 0) {
      const grace = this.#options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
      if (await settleWithin(this.#tasks, grace)) {
        this.#failInFlight();
        for (const state of this.#connections) state.conn.close().catch(() => {});
      }
    }
    // Whatever is still in progress (served through requestStream()) is failed now.
    this.#failInFlight();
    await Promise.allSettled([...this.#tasks]);
    this.#deadlines.stop();
    await this.onClose();
  }

  /** Same as {@linkcode AbstractServer.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
  return v;
}
