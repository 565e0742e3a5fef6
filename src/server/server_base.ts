/**
 * The server every role runs on: accept connections, and run each as
 * `readable -> decode -> handle -> encode -> writable` with Flink's error
 * handling (PROTOCOL §1.4, §7). Where the transport offers
 * `Connection.direct`, the same stages run as plain calls per chunk
 * (`direct_session.ts`): same bounds, same bytes, no stream hop.
 *
 * @module
 */

import { DEFAULT_MAX_FRAME_LENGTH, FrameDecoderStream } from "../streams/frame_decoder_stream.ts";
import { FrameEncoderStream } from "../streams/frame_encoder_stream.ts";
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  RequestHandlerStream,
} from "../streams/request_handler_stream.ts";
import { listenOnPorts } from "../transport/listen.ts";
import type { Connection, Listener, NetAddress, Transport } from "../transport/types.ts";
import { ByteReader } from "../wire/bytes.ts";
import { DirectSession, PENDING } from "./direct_session.ts";
import {
  ClosedError,
  DeadlineExceededError,
  FrameLengthError,
  ProtocolError,
} from "../wire/errors.ts";
import { javaThrowable } from "../wire/java_throwable.ts";
import { tickNow } from "../wire/tick_clock.ts";
import { MESSAGE_TYPE_NAMES, MessageType, readFrameHeader, VERSION } from "../wire/messages.ts";
import {
  failedIncomingMessageFrame,
  pipelineFailureFrame,
  requestFailureFrame,
  serverFailureFrame,
} from "./failure_frames.ts";
import { type KvStateRequestStats, RequestStats, type RequestStatsSnapshot } from "./stats.ts";

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

/** What a request handler gets besides the request. */
export interface RequestContext {
  /** The request id as the peer sent it. */
  readonly requestId: bigint;
  /** Aborted when the request's deadline passes or the server closes. */
  readonly signal: AbortSignal;
}

/**
 * The request id of a request frame (without length prefix), as Java's
 * signed long.
 *
 * @example
 * ```ts
 * import { encodeKvStateResponse, requestIdOf } from "@kvstate/queryable-state";
 *
 * requestIdOf(encodeKvStateResponse(-7n, new Uint8Array(0)).subarray(4)); // => -7n
 * ```
 *
 * @param frame A frame with a request id, without its length prefix.
 * @returns The id.
 */
export function requestIdOf(frame: Uint8Array): bigint {
  return new DataView(frame.buffer, frame.byteOffset + 8, 8).getBigInt64(0);
}

class InFlight implements RequestContext {
  readonly frame: Uint8Array;
  readonly startedAt: number;
  settled = false;
  finish!: (frame: Uint8Array) => void;
  #controller: AbortController | undefined;
  #aborted: unknown = undefined;

  constructor(frame: Uint8Array, startedAt: number) {
    this.frame = frame;
    this.startedAt = startedAt;
  }

  get requestId(): bigint {
    return requestIdOf(this.frame);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted !== undefined) this.#controller.abort(this.#aborted);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    this.#aborted = reason;
    this.#controller?.abort(reason);
  }
}

/**
 * A REQUEST_RESULT frame answering `request` (a request frame without its
 * length prefix): the request id bytes are copied, not decoded.
 *
 * @example
 * ```ts
 * import { encodeKvStateInternalRequest, KvStateId, resultFrameFor, toHex } from "@kvstate/queryable-state";
 *
 * const request = encodeKvStateInternalRequest(9n, { kvStateId: KvStateId.random(), serializedKeyAndNamespace: new Uint8Array(0) });
 * toHex(resultFrameFor(request.subarray(4), new Uint8Array([1])));
 * // => "0000001579a1b710000000010000000000000009" + "0000000101"
 * ```
 *
 * @param request The request frame, without its length prefix.
 * @param content The response content.
 * @returns The complete response frame.
 */
export function resultFrameFor(request: Uint8Array, content: Uint8Array): Uint8Array {
  const size = 24 + content.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setInt32(0, size - 4);
  v.setInt32(4, VERSION);
  v.setInt32(8, MessageType.REQUEST_RESULT);
  out.set(request.subarray(8, 16), 12);
  v.setInt32(20, content.length);
  out.set(content, 24);
  return out;
}

/** What a {@linkcode FastCall} reports to: the server's statistics and failure frames. */
interface FastCallHooks {
  finished(response: Uint8Array, startedAt: number): Uint8Array;
  failure(frame: Uint8Array, err: unknown): Uint8Array;
}

/**
 * A request on a server's fast path ({@linkcode AbstractServer.respondFast}):
 * the request, its frame, and the way to answer it, once.
 *
 * @example A subclass answering every request at once
 * ```ts
 * import {
 *   AbstractServer,
 *   decodeKvStateInternalRequest,
 *   type FastCall,
 *   type KvStateInternalRequest,
 *   MemoryTransport,
 *   resultFrameFor,
 * } from "@kvstate/queryable-state";
 *
 * class Fixed extends AbstractServer<KvStateInternalRequest> {
 *   protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
 *     return decodeKvStateInternalRequest(body);
 *   }
 *   protected handleRequest(): Uint8Array {
 *     throw new Error("not used");
 *   }
 *   protected override respondFast(call: FastCall<KvStateInternalRequest>): boolean {
 *     call.send(resultFrameFor(call.frame, new Uint8Array([42])));
 *     return true;
 *   }
 * }
 * await using server = new Fixed("Fixed", { transport: new MemoryTransport() });
 * (await server.start()).port > 0; // => true
 * ```
 */
export class FastCall<Req> {
  /** The request frame, without its length prefix (the request id is at bytes 8 to 16). */
  readonly frame: Uint8Array;
  /** The decoded request. */
  readonly request: Req;
  readonly #startedAt: number;
  readonly #hooks: FastCallHooks;
  readonly #session: DirectSession | undefined;
  /** Still inside `respondFast`: an answer now is returned, not delivered. */
  #sync = true;
  #answer: Uint8Array | undefined;
  #deliver: ((response: Uint8Array) => void) | undefined;
  #answered = false;

  /** @internal Made by the server for each request. */
  constructor(
    frame: Uint8Array,
    request: Req,
    startedAt: number,
    hooks: FastCallHooks,
    session: DirectSession | undefined,
  ) {
    this.frame = frame;
    this.request = request;
    this.#startedAt = startedAt;
    this.#hooks = hooks;
    this.#session = session;
  }

  /**
   * Answers with a complete response frame (length prefix included). Later
   * answers are ignored.
   *
   * @param response The frame.
   */
  send(response: Uint8Array): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#answerWith(this.#hooks.finished(response, this.#startedAt));
  }

  /**
   * Answers with a failure, as a rejection of `handleRequest` is answered.
   * Later answers are ignored.
   *
   * @param error The failure.
   */
  fail(error: unknown): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#answerWith(this.#hooks.failure(this.frame, error));
  }

  #answerWith(frame: Uint8Array): void {
    if (this.#sync) this.#answer = frame;
    else if (this.#session !== undefined) this.#session.settle(frame);
    else this.#deliver!(frame);
  }

  /** @internal `respondFast` returned `true`: the answer now, or a way to wait for it. */
  taken(): Uint8Array | Promise<Uint8Array> | typeof PENDING {
    this.#sync = false;
    if (this.#answer !== undefined) return this.#answer;
    if (this.#session !== undefined) return PENDING;
    return new Promise<Uint8Array>((resolve) => (this.#deliver = resolve));
  }
}

interface ConnectionState {
  readonly conn: Connection;
  /** Stops reading new requests (server shutdown). */
  stopReading: () => void;
  readonly inFlight: Set<InFlight>;
  closed: boolean;
  /** The direct path's session, which takes asynchronous answers without a promise. */
  session?: DirectSession;
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
  readonly #connections = new Set<ConnectionState>();
  readonly #tasks = new Set<Promise<void>>();
  /** Every asynchronous request in progress, for the deadline sweep and close(). */
  readonly #inFlight = new Set<InFlight>();
  readonly #maxFrameLength: number | undefined;
  readonly #maxConnections: number;
  readonly #maxInFlight: number;
  readonly #timeoutMs: number;
  #listener: Listener | undefined;
  #acceptLoop: Promise<void> | undefined;
  #sweeper: ReturnType<typeof setInterval> | undefined;
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
    this.#acceptLoop = this.#accept(listener);
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

  async #accept(listener: Listener): Promise<void> {
    for (;;) {
      let conn: Connection | null;
      try {
        conn = await listener.accept();
      } catch {
        if (this.#closing !== undefined) return;
        continue;
      }
      if (conn === null) return;
      if (this.#closing !== undefined || this.#connections.size >= this.#maxConnections) {
        conn.close().catch(() => {});
        continue;
      }
      this.serve(conn).catch(() => {});
    }
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
    const state: ConnectionState = {
      conn: undefined as unknown as Connection,
      stopReading: () => {},
      inFlight: new Set(),
      closed: false,
    };
    return new RequestHandlerStream(
      (frame) => this.#onFrame(frame, state) as Uint8Array | Promise<Uint8Array>,
      {
        maxInFlight: this.#maxInFlight,
      },
    );
  }

  async #serve(conn: Connection): Promise<void> {
    if (conn.direct !== undefined) return this.#serveDirect(conn);
    const reader = conn.readable.getReader();
    const state: ConnectionState = {
      conn,
      stopReading: () => reader.cancel().catch(() => {}),
      inFlight: new Set(),
      closed: false,
    };
    this.#connections.add(state);
    this.#stats.reportActiveConnection();
    this.#extraStats?.reportActiveConnection();
    // An idle connection costs only its pending read: the pipeline is built
    // when the first bytes arrive.
    let first: ReadableStreamReadResult<Uint8Array>;
    try {
      first = await reader.read();
    } catch {
      first = { done: true, value: undefined };
    }
    if (first.done) {
      await this.#release(state);
      return;
    }
    const decoder = new FrameDecoderStream({ maxFrameLength: this.#maxFrameLength });
    const output = decoder.readable
      .pipeThrough(
        new RequestHandlerStream(
          (frame) => this.#onFrame(frame, state) as Uint8Array | Promise<Uint8Array>,
          {
            maxInFlight: this.#maxInFlight,
          },
        ),
      )
      .pipeThrough(new FrameEncoderStream())
      .pipeTo(conn.writable, { preventAbort: true });
    const input = pump(first.value, reader, decoder.writable);
    // When the output side ends (framing lost, peer gone), stop reading too.
    output.then(
      () => reader.cancel().catch(() => {}),
      (err) => reader.cancel(err).catch(() => {}),
    );
    const [inResult, outResult] = await Promise.allSettled([input, output]);
    try {
      // The output side carries the decoder's own error; the input side only
      // learns of it second hand.
      const err = outResult.status === "rejected"
        ? outResult.reason
        : inResult.status === "rejected"
        ? inResult.reason
        : undefined;
      if (err instanceof FrameLengthError || err instanceof ProtocolError) {
        // The framing is lost: tell the peer why, then close (as Flink does).
        await writeBestEffort(conn, pipelineFailureFrame(err));
      }
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
    const state: ConnectionState = {
      conn,
      stopReading: () => {},
      inFlight: new Set(),
      closed: false,
    };
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
  async #release(state: ConnectionState): Promise<void> {
    state.closed = true;
    for (const f of state.inFlight) f.abort(new ClosedError("connection closed"));
    await state.conn.close().catch(() => {});
    this.#connections.delete(state);
    this.#stats.reportInactiveConnection();
    this.#extraStats?.reportInactiveConnection();
  }

  #onFrame(
    frame: Uint8Array,
    state: ConnectionState,
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
    this.#inFlight.add(ctx);
    this.#ensureSweeper();
    return new Promise<Uint8Array>((resolve) => {
      ctx.finish = (f) => {
        if (ctx.settled) return;
        ctx.settled = true;
        state.inFlight.delete(ctx);
        this.#inFlight.delete(ctx);
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

  #ensureSweeper(): void {
    if (this.#sweeper !== undefined || this.#timeoutMs === 0) return;
    const period = Math.min(1000, Math.max(5, Math.floor(this.#timeoutMs / 10)));
    this.#sweeper = setInterval(() => this.#sweep(), period);
  }

  #sweep(): void {
    const now = performance.now();
    for (const f of [...this.#inFlight]) {
      if (now - f.startedAt >= this.#timeoutMs) {
        const err = new DeadlineExceededError(
          `Request ${f.requestId} did not complete within ${this.#timeoutMs} ms`,
        );
        f.abort(err);
        f.finish(this.#failure(f.frame, err));
      }
    }
    if (this.#inFlight.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #failInFlight(): void {
    const err = ClosedError.shutDown(this.serverName);
    for (const f of [...this.#inFlight]) {
      f.abort(err);
      f.finish(this.#failure(f.frame, err));
    }
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      const all = Promise.allSettled([...this.#tasks]);
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), grace))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.#failInFlight();
        for (const state of this.#connections) state.conn.close().catch(() => {});
      }
    }
    // Whatever is still in progress (served through requestStream()) is failed now.
    this.#failInFlight();
    await Promise.allSettled([...this.#tasks]);
    if (this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
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

async function pump(
  first: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  dest: WritableStream<Uint8Array>,
): Promise<void> {
  const writer = dest.getWriter();
  try {
    await writer.write(first);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    await writer.close();
  } catch (err) {
    await writer.abort(err).catch(() => {});
    reader.cancel(err).catch(() => {});
    throw err;
  }
}

async function writeBestEffort(conn: Connection, bytes: Uint8Array): Promise<void> {
  try {
    const writer = conn.writable.getWriter();
    await writer.write(bytes);
    writer.releaseLock();
  } catch {
    // The peer may be gone already.
  }
}
