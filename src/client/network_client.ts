/**
 * The pooled network client (Flink's `Client`): one multiplexed connection
 * per remote address, request ids per connection, responses matched out of
 * order (PROTOCOL §6).
 *
 * @module
 */

import { DecoderState, DEFAULT_MAX_FRAME_LENGTH } from "../streams/frame_decoder_stream.ts";
import { GuardedStats } from "../server/guarded_stats.ts";
import { type KvStateRequestStats, RequestStats } from "../server/stats.ts";
import type {
  Connection,
  DirectChannel,
  DirectHandler,
  NetAddress,
  Transport,
} from "../transport/types.ts";
import {
  ClosedError,
  ConnectError,
  ConnectionClosedError,
  DeadlineExceededError,
  errorFromJavaThrowable,
  ProtocolError,
  QueryableStateError,
  RequestQueueFullError,
  withSerializedThrowable,
} from "../wire/errors.ts";
import { type JavaSerializationLimits, readJavaThrowable } from "../wire/java_serialization.ts";
import type { KvStateId } from "../wire/ids.ts";
import { tickNow } from "../wire/tick_clock.ts";
import { PendingTable } from "./pending_table.ts";
import {
  decodeKvStateResponse,
  decodeMessage,
  encodeKvStateRequest,
  type KvStateInternalRequest,
  type KvStateRequest,
  MessageType,
  VERSION,
} from "../wire/messages.ts";

/** Options of {@linkcode NetworkClient}. */
export interface NetworkClientOptions {
  /** How to connect. Connections ask the transport for TCP keepalive. */
  readonly transport: Transport;
  /** The name in messages. Default `Queryable State Client`. */
  readonly clientName?: string;
  /** The largest response frame accepted. Default 64 MiB. */
  readonly maxFrameLength?: number;
  /**
   * How long a connection attempt may take, in ms; the requests waiting for
   * it then reject with `ConnectError`. 0 for no limit. Default 10,000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * The deadline of every request, in ms, unless a request gives its own;
   * 0 for none (Flink has none). Default 30,000.
   */
  readonly requestTimeoutMs?: number;
  /**
   * The most request bytes one connection holds that no write has taken yet
   * (the peer reads slowly or not at all, or the connection is still
   * opening). A request that would go past it rejects at once with
   * `RequestQueueFullError` (a request is accepted whatever its size when
   * nothing is queued). The bytes of a request that expires or is aborted
   * before they are written are dropped. What the transport holds on top is
   * at most one more such batch: a new write starts only after the last one
   * completed. Default 16 MiB.
   */
  readonly maxQueuedBytesPerConnection?: number;
  /** Limits for reading the Java-serialized failures peers send. */
  readonly javaSerializationLimits?: Partial<JavaSerializationLimits>;
  /** Where to report request statistics. */
  readonly stats?: KvStateRequestStats;
  /**
   * Called with each exception that code outside the client (a
   * {@linkcode RawResponseHandler}, the `stats` hooks) or a fault inside it
   * raised while the client handled a request or a response. Such an
   * exception never escapes to the runtime: it is counted in
   * {@linkcode NetworkClient.internalErrors} (and reported to
   * `stats.reportInternalError`) and handed here (an exception of this hook
   * is ignored). Default: none (counted only).
   */
  readonly onInternalError?: (error: unknown) => void;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** Per-request options. */
export interface RequestOptions {
  /** Abandons the request: its promise rejects; nothing is sent on the wire. */
  readonly signal?: AbortSignal;
  /** The deadline, in ms (overrides the client's `requestTimeoutMs`); 0 for none. */
  readonly timeoutMs?: number;
}

/** Builds a complete request frame for the request id the connection assigns. */
export type FrameBuilder = (requestId: bigint) => Uint8Array;

/**
 * Receives the answer of a raw request: the complete response frame
 * (REQUEST_RESULT or REQUEST_FAILURE, length prefix included; a view the
 * handler owns and may modify, e.g. to patch the request id before relaying
 * it), or `null` and the error when the request failed locally (connect
 * failure, connection closed, deadline, queue full, client closed, ...); and
 * the context given with the request.
 *
 * It should not throw. If it does, the request counts as answered all the
 * same (its answer is lost to whoever waited for it), the exception is
 * counted in {@linkcode NetworkClient.internalErrors}, and the connection
 * and its other requests go on unaffected.
 */
export type RawResponseHandler<C = undefined> = (
  frame: Uint8Array | null,
  error: unknown,
  context: C,
) => void;

interface Pending {
  readonly resolve: ((content: Uint8Array) => void) | undefined;
  readonly reject: ((err: unknown) => void) | undefined;
  readonly raw: RawResponseHandler<unknown> | undefined;
  /** What `raw` gets as its third argument. */
  readonly context: unknown;
  readonly sentAt: number;
  readonly deadline: number;
  cleanup: (() => void) | undefined;
  id: number;
  connection: ServerConnection | undefined;
  /** Where the request's frame starts in the outbox, while no write has taken it; else -1. */
  outAt: number;
  /** The outbox generation `outAt` refers to (a write takes a generation whole). */
  outGen: number;
}

/** Appends one request frame, for the request id given, to a connection's outbox. */
type FrameWriter = (conn: ServerConnection, id: number) => void;

function addressKey(a: NetAddress): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/**
 * Settles with a response frame (length prefix included) or its content. An
 * exception of a raw handler is caught and counted (`client`), never thrown.
 */
function settleOk(
  client: NetworkClient,
  p: Pending,
  frame: Uint8Array,
  content: Uint8Array | null,
): void {
  try {
    p.cleanup?.();
    if (p.raw !== undefined) p.raw(frame, undefined, p.context);
    else p.resolve!(content ?? decodeKvStateResponse(frame.subarray(20)));
  } catch (e) {
    client.reportInternalError(e);
  }
}

/** Settles with an error; like {@linkcode settleOk}, never throws. */
function settleErr(client: NetworkClient, p: Pending, err: unknown): void {
  try {
    p.cleanup?.();
    if (p.raw !== undefined) p.raw(null, err, p.context);
    else p.reject!(err);
  } catch (e) {
    client.reportInternalError(e);
  }
}

const INITIAL_OUTBOX = 4096;

/**
 * Sends requests to any address and returns the response content, or rejects
 * with a typed error. Connections are opened lazily (requests wait while one
 * connects) and reused; one that fails is dropped, and the next request to
 * that address opens a new one.
 *
 * A connection-fatal event fails every request pending on that connection
 * with an error that says what happened: `ConnectError` (refused,
 * unreachable, connect timeout), `ConnectionClosedError` (closed by the peer,
 * reset, client closed), the peer's own error for a SERVER_FAILURE, or a
 * `ProtocolError` for bytes that break the protocol.
 *
 * @example Query a state server directly
 * ```ts
 * import {
 *   InMemoryValueState, KvStateServer, MemoryTransport, NetworkClient,
 *   serializeKeyAndNamespace, TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state";
 *
 * const transport = new MemoryTransport();
 * const state = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set("hello", 42n);
 * await using server = new KvStateServer({ transport });
 * const kvStateId = server.registry.register(state);
 * const address = await server.start();
 *
 * await using client = new NetworkClient({ transport });
 * const content = await client.sendKvStateInternalRequest(address, {
 *   kvStateId,
 *   serializedKeyAndNamespace: serializeKeyAndNamespace("hello", TYPE_SERIALIZERS.string),
 * });
 * content.length; // => 8
 * ```
 */
export class NetworkClient {
  /** The name in messages. */
  readonly clientName: string;
  /** The deadline of a request that gives none, in ms (0: none). Default 30,000. */
  readonly requestTimeoutMs: number;
  /** How long a connection attempt may take, in ms (0: no limit). Default 10,000. */
  readonly connectTimeoutMs: number;
  /** The bound on the unwritten request bytes of one connection. Default 16 MiB. */
  readonly maxQueuedBytesPerConnection: number;
  readonly #options: NetworkClientOptions;
  readonly #stats: KvStateRequestStats | undefined;
  readonly #connections = new Map<string, ServerConnection>();
  readonly #keys = new WeakMap<NetAddress, string>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;
  #internalErrors = 0;

  /**
   * Creates a NetworkClient.
   *
   * @param options The transport and bounds.
   * @throws {RangeError} For a negative timeout or a bound that is not positive.
   */
  constructor(options: NetworkClientOptions) {
    this.#options = options;
    this.clientName = options.clientName ?? "Queryable State Client";
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(this.requestTimeoutMs >= 0)) throw new RangeError("requestTimeoutMs must be >= 0");
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!(this.connectTimeoutMs >= 0)) throw new RangeError("connectTimeoutMs must be >= 0");
    this.maxQueuedBytesPerConnection = options.maxQueuedBytesPerConnection ??
      DEFAULT_MAX_QUEUED_BYTES;
    if (!(this.maxQueuedBytesPerConnection > 0)) {
      throw new RangeError("maxQueuedBytesPerConnection must be > 0");
    }
    const stats = options.stats;
    // Our own counters cannot throw; anyone else's are guarded.
    this.#stats = stats === undefined || Object.getPrototypeOf(stats) === RequestStats.prototype
      ? stats
      : new GuardedStats(stats, (e) => this.reportInternalError(e));
  }

  /** The number of open or opening connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * The request bytes that the connections hold and no write has taken yet
   * (each connection at most `maxQueuedBytesPerConnection`, or one request
   * larger than that); 0 when every peer keeps up.
   */
  get queuedBytes(): number {
    let n = 0;
    for (const conn of this.#connections.values()) n += conn.queuedBytes;
    return n;
  }

  /**
   * How many exceptions were caught that would otherwise have escaped to the
   * runtime: thrown by a {@linkcode RawResponseHandler} or the `stats`
   * hooks, or by a fault of the client itself (that one then failed only
   * the connection concerned). See {@linkcode NetworkClientOptions.onInternalError}.
   */
  get internalErrors(): number {
    return this.#internalErrors;
  }

  /**
   * Sends a `KvStateRequest` (what a client sends to a proxy).
   *
   * @param address The proxy.
   * @param request The request.
   * @param options Signal and deadline.
   * @returns The response content.
   */
  sendKvStateRequest(
    address: NetAddress,
    request: KvStateRequest,
    options?: RequestOptions,
  ): Promise<Uint8Array> {
    return this.send(address, (id) => encodeKvStateRequest(id, request), options);
  }

  /**
   * Sends a `KvStateInternalRequest` (what a proxy sends to a state server).
   *
   * @param address The state server.
   * @param request The request.
   * @param options Signal and deadline.
   * @returns The response content.
   */
  sendKvStateInternalRequest(
    address: NetAddress,
    request: KvStateInternalRequest,
    options?: RequestOptions,
  ): Promise<Uint8Array> {
    return this.#promise(
      address,
      internalWriter(request.kvStateId, request.serializedKeyAndNamespace),
      options,
    );
  }

  /**
   * Sends one request frame, built for the id the connection assigns.
   *
   * @param address Where to.
   * @param build Encodes the complete frame for a request id (its length
   * prefix must match its length: the request rejects with a `TypeError`
   * otherwise).
   * @param options Signal and deadline.
   * @returns The response content (a view into the received frame).
   */
  send(address: NetAddress, build: FrameBuilder, options?: RequestOptions): Promise<Uint8Array> {
    return this.#promise(address, (conn, id) => conn.append(build(BigInt(id))), options);
  }

  /**
   * The forwarding path of a proxy: sends a `KvStateInternalRequest`
   * (encoded straight into the connection's write buffer) and hands the
   * state server's complete response frame to `handler`, without decoding
   * it, without a promise and without a copy. Failures sent by the server
   * (REQUEST_FAILURE) arrive as frames too; local failures (connect,
   * connection closed, deadline, queue full, client closed) as
   * `(null, error)`. A full queue (`RequestQueueFullError`) and a closed
   * client are answered at once, before this method returns. The client's
   * `requestTimeoutMs` applies.
   *
   * @param address The state server.
   * @param kvStateId The state instance.
   * @param serializedKeyAndNamespace The key and namespace bytes.
   * @param handler Receives the response frame or the error, and `context`,
   * exactly once. One handler can serve every request: what differs per
   * request travels in `context`, so that a request costs no closure.
   * @param context The handler's third argument.
   */
  forwardInternalRequest<C>(
    address: NetAddress,
    kvStateId: KvStateId,
    serializedKeyAndNamespace: Uint8Array,
    handler: RawResponseHandler<C>,
    context: C,
  ): void {
    const now = tickNow();
    const timeoutMs = this.requestTimeoutMs;
    const pending: Pending = {
      resolve: undefined,
      reject: undefined,
      raw: handler as RawResponseHandler<unknown>,
      context,
      sentAt: now,
      deadline: timeoutMs > 0 ? now + timeoutMs : Infinity,
      cleanup: undefined,
      id: -1,
      connection: undefined,
      outAt: -1,
      outGen: -1,
    };
    if (this.#closing !== undefined) {
      settleErr(this, pending, ClosedError.shutDown(this.clientName));
      return;
    }
    if (timeoutMs > 0) this.#ensureSweeper(timeoutMs);
    this.#connectionFor(address).sendInternal(pending, kvStateId, serializedKeyAndNamespace);
  }

  #promise(address: NetAddress, write: FrameWriter, options?: RequestOptions): Promise<Uint8Array> {
    if (this.#closing !== undefined) {
      return Promise.reject(ClosedError.shutDown(this.clientName));
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new DeadlineExceededError("The request was aborted", { cause: signal.reason }),
      );
    }
    const timeoutMs = options?.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<Uint8Array>((resolve, reject) => {
      const now = performance.now();
      const pending: Pending = {
        resolve,
        reject,
        raw: undefined,
        context: undefined,
        sentAt: now,
        deadline: timeoutMs > 0 ? now + timeoutMs : Infinity,
        cleanup: undefined,
        id: -1,
        connection: undefined,
        outAt: -1,
        outGen: -1,
      };
      if (signal !== undefined) {
        const onAbort = () => {
          try {
            pending.connection?.forget(pending);
          } catch (e) {
            this.reportInternalError(e);
          }
          settleErr(
            this,
            pending,
            new DeadlineExceededError("The request was aborted", { cause: signal.reason }),
          );
        };
        signal.addEventListener("abort", onAbort, { once: true });
        pending.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      if (timeoutMs > 0) this.#ensureSweeper(timeoutMs);
      this.#connectionFor(address).enqueue(pending, write);
    });
  }

  #connectionFor(address: NetAddress): ServerConnection {
    let key = this.#keys.get(address);
    if (key === undefined) {
      key = addressKey(address);
      this.#keys.set(address, key);
    }
    let conn = this.#connections.get(key);
    if (conn === undefined || conn.dead) {
      const k = key;
      const created: ServerConnection = new ServerConnection(this, address, this.#options, () => {
        if (this.#connections.get(k) === created) this.#connections.delete(k);
      });
      conn = created;
      this.#connections.set(key, conn);
    }
    return conn;
  }

  #ensureSweeper(timeoutMs: number): void {
    if (this.#sweeper !== undefined) return;
    const period = Math.min(1000, Math.max(5, Math.floor(timeoutMs / 10)));
    this.#sweeper = setInterval(this.#sweep, period);
  }

  /** The sweeper's tick: expires requests; stops when none with a deadline is left. */
  #sweep = (): void => {
    const now = performance.now();
    let pending = 0;
    for (const conn of this.#connections.values()) {
      try {
        pending += conn.expire(now);
      } catch (e) {
        // A fault of ours: that connection goes, the others and the sweeper stay.
        this.reportInternalError(e);
        conn.fail(
          new ConnectionClosedError(`Connection to ${addressKey(conn.address)} failed`, {
            cause: e,
          }),
        );
      }
    }
    if (pending === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };

  /**
   * Closes every connection, failing pending requests with
   * `ConnectionClosedError`; later requests reject with `ClosedError`.
   * Idempotent.
   *
   * @returns Resolves when every connection is released.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#sweeper !== undefined) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
      const conns = [...this.#connections.values()];
      this.#connections.clear();
      await Promise.all(
        conns.map((c) => c.fail(new ConnectionClosedError(`${this.clientName} is shut down`))),
      );
    })();
    return this.#closing;
  }

  /** Same as {@linkcode NetworkClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal Stats hook (guarded: never throws). */
  get statsSink(): KvStateRequestStats | undefined {
    return this.#stats;
  }

  /**
   * @internal Counts an exception caught on its way to the runtime and hands
   * it to the `stats` hooks' `reportInternalError` and to `onInternalError`.
   * Never throws.
   */
  reportInternalError(error: unknown): void {
    this.#internalErrors++;
    this.#stats?.reportInternalError?.(error); // guarded (or our own counters)
    const hook = this.#options.onInternalError;
    if (hook === undefined) return;
    try {
      hook(error);
    } catch {
      // The hook's own failure has nowhere left to go.
    }
  }
}

function internalWriter(kvStateId: KvStateId, kn: Uint8Array): FrameWriter {
  return (conn, id) => conn.appendInternal(id, kvStateId, kn);
}

/** Copies `out[from, to)` to `target[at..]` (`target` may be `out` itself, with `at <= from`). */
function moveBytes(
  out: Uint8Array,
  from: number,
  to: number,
  target: Uint8Array,
  at: number,
): void {
  if (from === to || (target === out && from === at)) return;
  if (target === out) out.copyWithin(at, from, to);
  else target.set(out.subarray(from, to), at);
}

/**
 * One TCP connection to one address, with its pending requests.
 *
 * Requests are encoded into one outbox (`#out`) as they come, whether the
 * connection is open or still opening; a write takes the whole outbox at
 * once, and a fresh one collects what comes meanwhile. The outbox is what a
 * peer that does not read makes grow: it is bounded (a request past the
 * bound fails at once), and the frame of a request that expires or is
 * aborted before a write took it is cut out of it (each request remembers
 * where its frame starts and in which outbox generation).
 */
class ServerConnection {
  readonly #client: NetworkClient;
  readonly address: NetAddress;
  readonly #options: NetworkClientOptions;
  readonly #onDead: () => void;
  /** By request id. Not a `Map`: see {@linkcode PendingTable} for why. */
  readonly #pending = new PendingTable<Pending>();
  readonly #decoder: DecoderState;
  readonly #maxQueued: number;
  #nextId = 0;
  #conn: Connection | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** The connection's direct path, when its transport offers one (then no writer). */
  #io: DirectChannel | undefined;
  /** Request frames that no write has taken yet, encoded in place. */
  #out: Uint8Array = new Uint8Array(INITIAL_OUTBOX);
  #outView: DataView = new DataView(this.#out.buffer);
  #outLen = 0;
  /** Counts the outboxes taken by writes (see `Pending.outGen`). */
  #outGen = 0;
  /** Frames of abandoned requests still in the outbox: [start, length] pairs, in any order. */
  #holes: number[] | undefined;
  #holeBytes = 0;
  /** A write is in progress, or the transport asked to wait for `drain`, or the connection is opening. */
  #writing = true;
  #flushScheduled = false;
  #closed: Promise<void> | undefined;
  /** Aborts the connect in progress (a timeout, or the connection failed meanwhile). */
  readonly #connecting = new AbortController();
  readonly #opening: Promise<void>;
  dead = false;

  constructor(
    client: NetworkClient,
    address: NetAddress,
    options: NetworkClientOptions,
    onDead: () => void,
  ) {
    this.#client = client;
    this.address = address;
    this.#options = options;
    this.#onDead = onDead;
    this.#maxQueued = client.maxQueuedBytesPerConnection;
    this.#decoder = new DecoderState(options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH);
    this.#opening = this.#open();
  }

  /** Request bytes that no write has taken yet (not counting abandoned requests'). */
  get queuedBytes(): number {
    return this.#outLen - this.#holeBytes;
  }

  /** Connects (within the connect timeout), then writes what was queued meanwhile. Never rejects. */
  async #open(): Promise<void> {
    const timeoutMs = this.#client.connectTimeoutMs;
    const controller = this.#connecting;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let connecting: Promise<Connection> | undefined;
    let conn: Connection;
    try {
      connecting = this.#options.transport.connect({
        hostname: this.address.hostname,
        port: this.address.port,
        signal: controller.signal,
        keepAlive: true,
      });
      // Raced with the abort, so that a transport that ignores the signal cannot hold us.
      conn = await new Promise<Connection>((resolve, reject) => {
        if (controller.signal.aborted) reject(controller.signal.reason);
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
          once: true,
        });
        if (timeoutMs > 0) {
          timer = setTimeout(
            () =>
              controller.abort(
                new ConnectError(`Connection timed out: ${addressKey(this.address)}`),
              ),
            timeoutMs,
          );
        }
        connecting!.then(resolve, reject);
      });
    } catch (err) {
      clearTimeout(timer);
      // A connection that arrives after all is closed at once.
      connecting?.then((late) => late.close().catch(() => {}), () => {});
      const e = err instanceof ConnectError ? err : new ConnectError(
        `Could not connect to ${addressKey(this.address)}: ${(err as Error)?.message}`,
        { cause: err },
      );
      // Not awaited: fail() waits for this very attempt to end.
      this.fail(e);
      return;
    }
    clearTimeout(timer);
    if (this.dead) {
      await conn.close().catch(() => {});
      return;
    }
    this.#conn = conn;
    try {
      if (conn.direct !== undefined) this.#io = conn.direct(this.#directHandler());
      else this.#writer = conn.writable.getWriter();
      this.#client.statsSink?.reportActiveConnection();
      if (this.#io === undefined) this.#readLoop(conn);
      this.#writing = false;
      if (this.#outLen > 0) this.#writeOut();
    } catch (e) {
      this.#internalFailure(e);
    }
  }

  /** A fault of ours (or of the transport) on this connection: counted, and the connection fails. */
  #internalFailure(err: unknown): void {
    this.#client.reportInternalError(err);
    this.fail(this.#connectionError(err));
  }

  /** The direct path's events: frames straight from each chunk read. Never throw. */
  #directHandler(): DirectHandler {
    const frames: Uint8Array[] = [];
    return {
      data: (chunk) => {
        if (this.dead) return;
        try {
          const err = this.#decoder.push(chunk, frames, true);
          for (let i = 0; i < frames.length; i++) {
            this.#onFrame(frames[i]);
            if (this.dead) return;
          }
          if (err !== null) throw err;
        } catch (e) {
          this.fail(this.#connectionError(e));
        } finally {
          frames.length = 0;
        }
      },
      end: (error) => {
        if (this.dead) return;
        this.fail(
          error === undefined
            ? new ConnectionClosedError(`Connection closed by peer ${addressKey(this.address)}`)
            : this.#connectionError(error),
        );
      },
      drain: () => {
        this.#writing = false;
        if (this.#outLen > 0 && !this.dead) {
          try {
            this.#flushDirect();
          } catch (e) {
            this.#internalFailure(e);
          }
        }
      },
    };
  }

  #connectionError(err: unknown): unknown {
    return err instanceof QueryableStateError ? err : new ConnectionClosedError(
      `Connection to ${addressKey(this.address)} failed: ${(err as Error)?.message}`,
      { cause: err },
    );
  }

  /** Registers a request whose frame `write` encodes (the general path). */
  enqueue(pending: Pending, write: FrameWriter): void {
    pending.connection = this;
    const id = this.#nextId++;
    let mark = this.#outLen;
    try {
      for (let attempt = 0;; attempt++) {
        write(this, id);
        const size = this.#outLen - mark;
        if (size < 4 || this.#outView.getInt32(mark) !== size - 4) {
          throw new TypeError(`A request frame's length prefix must be its length less 4`);
        }
        if (mark === 0 || this.#outLen <= this.#maxQueued) break;
        this.#outLen = mark;
        // Once more after cutting out abandoned frames, if there are any.
        if (attempt > 0 || this.#holeBytes === 0) {
          settleErr(this.#client, pending, this.#queueFull(size));
          return;
        }
        this.#compact();
        mark = this.#outLen;
      }
    } catch (err) {
      this.#outLen = mark;
      settleErr(this.#client, pending, err);
      return;
    }
    this.#track(pending, id, mark);
  }

  /** The forwarding fast path: register and encode without a closure. */
  sendInternal(pending: Pending, kvStateId: KvStateId, kn: Uint8Array): void {
    pending.connection = this;
    if (this.#outLen > 0 && this.#outLen + 40 + kn.length > this.#maxQueued && this.#full(kn)) {
      settleErr(this.#client, pending, this.#queueFull(40 + kn.length));
      return;
    }
    const mark = this.#outLen;
    const id = this.#nextId++;
    try {
      this.appendInternal(id, kvStateId, kn);
    } catch (err) {
      this.#outLen = mark;
      settleErr(this.#client, pending, err);
      return;
    }
    this.#track(pending, id, mark);
  }

  /** Whether an internal request for `kn` is refused, once abandoned frames are cut out. */
  #full(kn: Uint8Array): boolean {
    if (this.#holeBytes > 0) this.#compact();
    return this.#outLen > 0 && this.#outLen + 40 + kn.length > this.#maxQueued;
  }

  #track(pending: Pending, id: number, at: number): void {
    pending.id = id;
    pending.outAt = at;
    pending.outGen = this.#outGen;
    this.#pending.set(pending);
    this.#client.statsSink?.reportRequest();
    this.#scheduleFlush();
  }

  #queueFull(size: number): RequestQueueFullError {
    return new RequestQueueFullError(
      `Request queue to ${addressKey(this.address)} is full: ${this.#outLen} bytes wait to be ` +
        `written, a request of ${size} bytes would go past maxQueuedBytesPerConnection ` +
        `(${this.#maxQueued}); the peer does not keep up`,
    );
  }

  /** Takes a request back (aborted): its frame leaves the outbox if no write took it yet. */
  forget(pending: Pending): void {
    if (pending.id >= 0) this.#pending.delete(pending);
    this.#cutOut(pending);
    // Amortized: compact once abandoned frames are half the outbox.
    if (this.#holeBytes > 0 && 2 * this.#holeBytes >= this.#outLen) this.#compact();
  }

  /** Marks the frame of an abandoned request for removal (the last one goes at once). */
  #cutOut(p: Pending): void {
    const at = p.outAt;
    if (at < 0 || p.outGen !== this.#outGen) return;
    p.outAt = -1;
    const len = this.#outView.getInt32(at) + 4;
    if (at + len === this.#outLen) {
      this.#outLen = at;
      return;
    }
    (this.#holes ??= []).push(at, len);
    this.#holeBytes += len;
  }

  /** Removes the holes from the outbox, and shrinks it when it is mostly empty. */
  #compact(): void {
    const holes = this.#holes;
    if (holes === undefined || holes.length === 0) return;
    const n = holes.length / 2;
    const order: number[] = [];
    for (let i = 0; i < n; i++) order.push(i);
    order.sort((x, y) => holes[2 * x] - holes[2 * y]);
    const starts: number[] = [];
    /** Bytes removed before and at each hole (prefix sums). */
    const removed: number[] = [];
    let sum = 0;
    for (const i of order) {
      const start = holes[2 * i];
      const len = holes[2 * i + 1];
      // A hole past a truncated end is moot.
      if (start >= this.#outLen) continue;
      starts.push(start);
      sum += len;
      removed.push(sum);
    }
    const out = this.#out;
    const live = this.#outLen - sum;
    const small = Math.max(INITIAL_OUTBOX, 2 * live);
    const target = out.length > 2 * small ? new Uint8Array(small) : out;
    let w = 0;
    let r = 0;
    for (let i = 0; i < starts.length; i++) {
      moveBytes(out, r, starts[i], target, w);
      w += starts[i] - r;
      r = starts[i] + (removed[i] - (i > 0 ? removed[i - 1] : 0));
    }
    moveBytes(out, r, this.#outLen, target, w);
    w += this.#outLen - r;
    // The requests still waiting in this outbox move left by what was removed before them.
    const gen = this.#outGen;
    for (const p of this.#pending.values()) {
      if (p.outGen !== gen || p.outAt < 0) continue;
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (starts[mid] < p.outAt) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) p.outAt -= removed[lo - 1];
    }
    if (target !== out) {
      this.#out = target;
      this.#outView = new DataView(target.buffer);
    }
    this.#outLen = w;
    this.#holes = undefined;
    this.#holeBytes = 0;
  }

  #reserve(n: number): void {
    const need = this.#outLen + n;
    if (need <= this.#out.length) return;
    let cap = this.#out.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#out.subarray(0, this.#outLen));
    this.#out = next;
    this.#outView = new DataView(next.buffer);
  }

  /** Appends a complete frame. */
  append(frame: Uint8Array): void {
    this.#reserve(frame.length);
    this.#out.set(frame, this.#outLen);
    this.#outLen += frame.length;
  }

  /** Appends a `KvStateInternalRequest` frame, encoded in place. */
  appendInternal(id: number, kvStateId: KvStateId, kn: Uint8Array): void {
    const size = 40 + kn.length;
    this.#reserve(size);
    const v = this.#outView;
    const p = this.#outLen;
    v.setInt32(p, size - 4);
    v.setInt32(p + 4, VERSION);
    v.setInt32(p + 8, MessageType.REQUEST);
    v.setInt32(p + 12, Math.floor(id / 4294967296));
    v.setUint32(p + 16, id >>> 0);
    kvStateId.writeTo(this.#out, p + 20);
    v.setInt32(p + 36, kn.length);
    this.#out.set(kn, p + 40);
    this.#outLen = p + size;
  }

  #scheduleFlush(): void {
    if (this.#writing || this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flushTask);
  }

  /** The scheduled flush (one function per connection). Never throws. */
  #flushTask = (): void => {
    this.#flushScheduled = false;
    if (this.#writing || this.dead) return;
    try {
      this.#writeOut();
    } catch (e) {
      this.#internalFailure(e);
    }
  };

  /** Starts writing the outbox, on whichever path the connection has. */
  #writeOut(): void {
    if (this.#io !== undefined) this.#flushDirect();
    else {
      this.#flush().catch((e) => this.#internalFailure(e));
    }
  }

  /** Direct path: writes the outbox now; after a full buffer, `drain` writes the rest. */
  #flushDirect(): void {
    if (this.#outLen === 0 || this.dead) return;
    const bytes = this.#takeOutbox();
    try {
      this.#writing = !this.#io!.write(bytes);
    } catch (err) {
      this.fail(
        new ConnectionClosedError(`Write to ${addressKey(this.address)} failed`, { cause: err }),
      );
    }
  }

  /** The outbox's bytes; a fresh outbox replaces it (the transport may hold on to them). */
  #takeOutbox(): Uint8Array {
    const bytes = this.#out.subarray(0, this.#outLen);
    // Sized for a batch like this one rather than for the largest so far.
    this.#out = new Uint8Array(Math.max(INITIAL_OUTBOX, Math.min(2 * this.#outLen, 1 << 20)));
    this.#outView = new DataView(this.#out.buffer);
    this.#outLen = 0;
    // The requests in this batch are the transport's now; abandoned ones among them go too.
    this.#outGen++;
    if (this.#holes !== undefined) {
      this.#holes = undefined;
      this.#holeBytes = 0;
    }
    return bytes;
  }

  /**
   * Stream path: writes what the outbox holds, one write at a time (the next
   * only once the last one completed); requests added meanwhile go out
   * together in the next round.
   */
  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#outLen > 0 && !this.dead) {
        await this.#writer!.write(this.#takeOutbox());
      }
    } catch (err) {
      await this.fail(
        new ConnectionClosedError(`Write to ${addressKey(this.address)} failed`, { cause: err }),
      );
    } finally {
      this.#writing = false;
    }
  }

  /** Stream path: reads response frames until the end. Never rejects. */
  async #readLoop(conn: Connection): Promise<void> {
    const frames: Uint8Array[] = [];
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      reader = conn.readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const err = this.#decoder.push(value, frames, true);
        for (let i = 0; i < frames.length; i++) {
          this.#onFrame(frames[i]);
          if (this.dead) return;
        }
        frames.length = 0;
        if (err !== null) throw err;
      }
      await this.fail(
        new ConnectionClosedError(`Connection closed by peer ${addressKey(this.address)}`),
      );
    } catch (err) {
      if (this.dead) return;
      await this.fail(this.#connectionError(err));
    } finally {
      try {
        reader?.releaseLock();
      } catch (e) {
        this.#client.reportInternalError(e);
      }
    }
  }

  /**
   * Handles one response frame, length prefix included (the decoder hands
   * frames over that way, so a relayed frame needs no new view); throws to
   * fail the connection.
   */
  #onFrame(f: Uint8Array): void {
    // Header, read in place; anything unusual goes through decodeMessage for its exact error.
    if (
      f.length < 20 ||
      ((f[4] << 24) | (f[5] << 16) | (f[6] << 8) | f[7]) !== VERSION ||
      f[8] !== 0 || f[9] !== 0 || f[10] !== 0 || f[11] === 0 || f[11] > 2
    ) {
      const m = decodeMessage(f.subarray(4)); // throws ProtocolError: connection-fatal
      if (m.type === MessageType.SERVER_FAILURE) {
        throw withSerializedThrowable(
          errorFromJavaThrowable(readJavaThrowable(m.body, this.#options.javaSerializationLimits)),
          m.body,
        );
      }
      throw new ProtocolError(
        "Unexpected message type REQUEST. Expected REQUEST_RESULT, REQUEST_FAILURE or SERVER_FAILURE.",
        "java.lang.IllegalStateException",
      );
    }
    const hi = (f[12] << 24) | (f[13] << 16) | (f[14] << 8) | f[15];
    const lo = ((f[16] << 24) | (f[17] << 16) | (f[18] << 8) | f[19]) >>> 0;
    const p = hi >= 0 && hi < 0x200000 ? this.#pending.get(hi * 4294967296 + lo) : undefined;
    if (f[11] === MessageType.REQUEST_RESULT) {
      // Validates the content length whether or not anyone waits for it.
      const len = f.length >= 24 ? (f[20] << 24) | (f[21] << 16) | (f[22] << 8) | f[23] : -1;
      const whole = len >= 0 && 24 + len <= f.length;
      const content = whole && p?.raw !== undefined ? null : decodeKvStateResponse(f.subarray(20));
      if (p === undefined) return; // late or unknown: dropped
      this.#pending.delete(p);
      this.#client.statsSink?.reportSuccessfulRequest(performance.now() - p.sentAt);
      settleOk(this.#client, p, f, content);
      return;
    }
    // REQUEST_FAILURE
    if (p === undefined) return;
    if (p.raw !== undefined) {
      // The receiver decides whether it needs the Throwable parsed.
      this.#pending.delete(p);
      this.#client.statsSink?.reportFailedRequest();
      settleOk(this.#client, p, f, null);
      return;
    }
    // A Throwable that does not parse fails the whole connection (and so this request too).
    const body = f.subarray(20);
    const err = withSerializedThrowable(
      errorFromJavaThrowable(readJavaThrowable(body, this.#options.javaSerializationLimits)),
      body,
    );
    this.#pending.delete(p);
    this.#client.statsSink?.reportFailedRequest();
    settleErr(this.#client, p, err);
  }

  /**
   * Fails requests past their deadline, and cuts the frames of those that no
   * write took yet out of the outbox. @returns The number still pending.
   */
  expire(now: number): number {
    let left = 0;
    let expired: Pending[] | undefined;
    // Once per tick: gives back the slots of a burst.
    this.#pending.trim();
    for (const p of this.#pending.values()) {
      if (p.deadline <= now) (expired ??= []).push(p);
      else if (p.deadline !== Infinity) left++;
    }
    if (expired === undefined) return left;
    for (const p of expired) {
      this.#pending.delete(p);
      this.#cutOut(p);
    }
    this.#compact();
    for (const p of expired) {
      settleErr(
        this.#client,
        p,
        new DeadlineExceededError(
          `Request to ${addressKey(this.address)} did not complete within ${
            Math.round(p.deadline - p.sentAt)
          } ms`,
        ),
      );
    }
    return left;
  }

  /**
   * Closes the connection and fails everything pending on it with `err`.
   * Idempotent; never rejects.
   */
  fail(err: unknown): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.dead = true;
    this.#onDead();
    this.#connecting.abort(err);
    const pending = this.#pending.values();
    this.#pending.clear();
    this.#outLen = 0;
    this.#holes = undefined;
    this.#holeBytes = 0;
    for (const p of pending) {
      this.#client.statsSink?.reportFailedRequest();
      settleErr(this.#client, p, err);
    }
    this.#closed = (async () => {
      // A connect in progress ends first (and closes what it opened).
      await this.#opening;
      const conn = this.#conn;
      if (conn !== undefined) {
        await conn.close().catch(() => {});
        this.#client.statsSink?.reportInactiveConnection();
      }
    })();
    return this.#closed;
  }
}
