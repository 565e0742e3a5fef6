/**
 * The pooled network client (Flink's `Client`): one multiplexed connection
 * per remote address, request ids per connection, responses matched out of
 * order (PROTOCOL §6).
 *
 * @module
 */

import { DecoderState, DEFAULT_MAX_FRAME_LENGTH } from "../streams/frame_decoder_stream.ts";
import type { KvStateRequestStats } from "../server/stats.ts";
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
  withSerializedThrowable,
} from "../wire/errors.ts";
import { type JavaSerializationLimits, readJavaThrowable } from "../wire/java_serialization.ts";
import type { KvStateId } from "../wire/ids.ts";
import { tickNow } from "../wire/tick_clock.ts";
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
  /** How to connect. */
  readonly transport: Transport;
  /** The name in messages. Default `Queryable State Client`. */
  readonly clientName?: string;
  /** The largest response frame accepted. Default 64 MiB. */
  readonly maxFrameLength?: number;
  /** How long a connection attempt may take, in ms. Default 10,000. */
  readonly connectTimeoutMs?: number;
  /**
   * The deadline of every request, in ms, unless a request gives its own;
   * 0 for none (Flink has none). Default 0.
   */
  readonly requestTimeoutMs?: number;
  /** Limits for reading the Java-serialized failures peers send. */
  readonly javaSerializationLimits?: Partial<JavaSerializationLimits>;
  /** Where to report request statistics. */
  readonly stats?: KvStateRequestStats;
}

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
 * failure, connection closed, deadline, ...); and the context given with the
 * request.
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
}

/** Appends one request frame, for the request id given, to a connection's outbox. */
type FrameWriter = (conn: ServerConnection, id: number) => void;

function addressKey(a: NetAddress): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/** Settles with a response frame (length prefix included) or its content. */
function settleOk(p: Pending, frame: Uint8Array, content: Uint8Array | null): void {
  p.cleanup?.();
  if (p.raw !== undefined) p.raw(frame, undefined, p.context);
  else p.resolve!(content ?? decodeKvStateResponse(frame.subarray(20)));
}

function settleErr(p: Pending, err: unknown): void {
  p.cleanup?.();
  if (p.raw !== undefined) p.raw(null, err, p.context);
  else p.reject!(err);
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
  readonly #options: NetworkClientOptions;
  readonly #connections = new Map<string, ServerConnection>();
  readonly #keys = new WeakMap<NetAddress, string>();
  readonly #timeoutMs: number;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Creates a NetworkClient.
   *
   * @param options The transport and bounds.
   */
  constructor(options: NetworkClientOptions) {
    this.#options = options;
    this.clientName = options.clientName ?? "Queryable State Client";
    this.#timeoutMs = options.requestTimeoutMs ?? 0;
    if (!(this.#timeoutMs >= 0)) throw new RangeError("requestTimeoutMs must be >= 0");
  }

  /** The number of open or opening connections. */
  get connectionCount(): number {
    return this.#connections.size;
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
   * @param build Encodes the complete frame for a request id.
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
   * connection closed, deadline, client closed) as `(null, error)`. The
   * client's `requestTimeoutMs` applies.
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
    if (this.#closing !== undefined) {
      handler(null, ClosedError.shutDown(this.clientName), context);
      return;
    }
    const now = tickNow();
    const pending: Pending = {
      resolve: undefined,
      reject: undefined,
      raw: handler as RawResponseHandler<unknown>,
      context,
      sentAt: now,
      deadline: this.#timeoutMs > 0 ? now + this.#timeoutMs : Infinity,
      cleanup: undefined,
      id: -1,
      connection: undefined,
    };
    if (this.#timeoutMs > 0) this.#ensureSweeper(this.#timeoutMs);
    const conn = this.#connectionFor(address);
    if (conn.ready) conn.sendInternal(pending, kvStateId, serializedKeyAndNamespace);
    else conn.enqueue(pending, internalWriter(kvStateId, serializedKeyAndNamespace));
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
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs;
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
      };
      if (signal !== undefined) {
        const onAbort = () => {
          pending.connection?.forget(pending);
          settleErr(
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
    this.#sweeper = setInterval(() => {
      const now = performance.now();
      let pending = 0;
      for (const conn of this.#connections.values()) pending += conn.expire(now);
      if (pending === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, period);
  }

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

  /** @internal Stats hook. */
  get statsSink(): KvStateRequestStats | undefined {
    return this.#options.stats;
  }
}

function internalWriter(kvStateId: KvStateId, kn: Uint8Array): FrameWriter {
  return (conn, id) => conn.appendInternal(id, kvStateId, kn);
}

/** One TCP connection to one address, with its pending requests. */
class ServerConnection {
  readonly #client: NetworkClient;
  readonly #address: NetAddress;
  readonly #options: NetworkClientOptions;
  readonly #onDead: () => void;
  readonly #pending = new Map<number, Pending>();
  readonly #decoder: DecoderState;
  #nextId = 0;
  #conn: Connection | undefined;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** The connection's direct path, when its transport offers one (then no writer). */
  #io: DirectChannel | undefined;
  /** Request frames waiting for the write in progress, encoded in place. */
  #out: Uint8Array = new Uint8Array(INITIAL_OUTBOX);
  #outView: DataView = new DataView(this.#out.buffer);
  #outLen = 0;
  #writing = false;
  #flushScheduled = false;
  #queued: Array<[Pending, FrameWriter]> | undefined = [];
  #closed: Promise<void> | undefined;
  readonly #opening: Promise<void>;
  dead = false;

  constructor(
    client: NetworkClient,
    address: NetAddress,
    options: NetworkClientOptions,
    onDead: () => void,
  ) {
    this.#client = client;
    this.#address = address;
    this.#options = options;
    this.#onDead = onDead;
    this.#decoder = new DecoderState(options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH);
    this.#opening = this.#open();
  }

  /** Whether requests can be written now (connected, not failed). */
  get ready(): boolean {
    return this.#queued === undefined && !this.dead;
  }

  async #open(): Promise<void> {
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let conn: Connection;
    try {
      conn = await this.#options.transport.connect({
        hostname: this.#address.hostname,
        port: this.#address.port,
        signal: controller.signal,
      });
    } catch (err) {
      clearTimeout(timer);
      const e = err instanceof ConnectError ? err : new ConnectError(
        controller.signal.aborted
          ? `Connection timed out: ${addressKey(this.#address)}`
          : `Could not connect to ${addressKey(this.#address)}: ${(err as Error)?.message}`,
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
    if (conn.direct !== undefined) this.#io = conn.direct(this.#directHandler());
    else this.#writer = conn.writable.getWriter();
    this.#client.statsSink?.reportActiveConnection();
    const queued = this.#queued!;
    this.#queued = undefined;
    for (const [pending, write] of queued) this.#register(pending, write);
    if (this.#io === undefined) this.#readLoop(conn);
  }

  /** The direct path's events: frames straight from each chunk read. */
  #directHandler(): DirectHandler {
    const frames: Uint8Array[] = [];
    return {
      data: (chunk) => {
        if (this.dead) return;
        const err = this.#decoder.push(chunk, frames, true);
        try {
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
            ? new ConnectionClosedError(`Connection closed by peer ${addressKey(this.#address)}`)
            : this.#connectionError(error),
        );
      },
      drain: () => {
        this.#writing = false;
        if (this.#outLen > 0 && !this.dead) this.#flushDirect();
      },
    };
  }

  #connectionError(err: unknown): unknown {
    return err instanceof QueryableStateError ? err : new ConnectionClosedError(
      `Connection to ${addressKey(this.#address)} failed: ${(err as Error)?.message}`,
      { cause: err },
    );
  }

  enqueue(pending: Pending, write: FrameWriter): void {
    pending.connection = this;
    if (this.#queued !== undefined) this.#queued.push([pending, write]);
    else this.#register(pending, write);
  }

  forget(pending: Pending): void {
    if (pending.id >= 0) this.#pending.delete(pending.id);
    else if (this.#queued !== undefined) {
      const i = this.#queued.findIndex(([p]) => p === pending);
      if (i >= 0) this.#queued.splice(i, 1);
    }
  }

  #register(pending: Pending, write: FrameWriter): void {
    const id = this.#nextId++;
    const mark = this.#outLen;
    try {
      write(this, id);
    } catch (err) {
      this.#outLen = mark;
      settleErr(pending, err);
      return;
    }
    pending.id = id;
    this.#pending.set(id, pending);
    this.#client.statsSink?.reportRequest();
    this.#scheduleFlush();
  }

  /** The forwarding fast path: register and encode without a closure. */
  sendInternal(pending: Pending, kvStateId: KvStateId, kn: Uint8Array): void {
    pending.connection = this;
    const id = this.#nextId++;
    this.appendInternal(id, kvStateId, kn);
    pending.id = id;
    this.#pending.set(id, pending);
    this.#client.statsSink?.reportRequest();
    this.#scheduleFlush();
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
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (this.#writing) return;
      if (this.#io !== undefined) this.#flushDirect();
      else this.#flush();
    });
  }

  /** Direct path: writes the outbox now; after a full buffer, `drain` writes the rest. */
  #flushDirect(): void {
    if (this.#outLen === 0 || this.dead) return;
    const bytes = this.#takeOutbox();
    try {
      this.#writing = !this.#io!.write(bytes);
    } catch (err) {
      this.fail(
        new ConnectionClosedError(`Write to ${addressKey(this.#address)} failed`, { cause: err }),
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
    return bytes;
  }

  /**
   * Writes what the outbox holds, one write per round; requests added while
   * a write is in progress go out together in the next round.
   */
  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#outLen > 0 && !this.dead) {
        await this.#writer!.write(this.#takeOutbox());
      }
    } catch (err) {
      await this.fail(
        new ConnectionClosedError(`Write to ${addressKey(this.#address)} failed`, { cause: err }),
      );
    } finally {
      this.#writing = false;
    }
  }

  async #readLoop(conn: Connection): Promise<void> {
    const reader = conn.readable.getReader();
    const frames: Uint8Array[] = [];
    try {
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
        new ConnectionClosedError(`Connection closed by peer ${addressKey(this.#address)}`),
      );
    } catch (err) {
      if (this.dead) return;
      await this.fail(this.#connectionError(err));
    } finally {
      reader.releaseLock();
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
      this.#pending.delete(p.id);
      this.#client.statsSink?.reportSuccessfulRequest(performance.now() - p.sentAt);
      settleOk(p, f, content);
      return;
    }
    // REQUEST_FAILURE
    if (p === undefined) return;
    if (p.raw !== undefined) {
      // The receiver decides whether it needs the Throwable parsed.
      this.#pending.delete(p.id);
      this.#client.statsSink?.reportFailedRequest();
      settleOk(p, f, null);
      return;
    }
    // A Throwable that does not parse fails the whole connection (and so this request too).
    const body = f.subarray(20);
    const err = withSerializedThrowable(
      errorFromJavaThrowable(readJavaThrowable(body, this.#options.javaSerializationLimits)),
      body,
    );
    this.#pending.delete(p.id);
    this.#client.statsSink?.reportFailedRequest();
    settleErr(p, err);
  }

  /** Fails requests past their deadline. @returns The number still pending. */
  expire(now: number): number {
    let left = 0;
    const expired: Pending[] = [];
    for (const p of this.#pending.values()) {
      if (p.deadline <= now) expired.push(p);
      else if (p.deadline !== Infinity) left++;
    }
    for (const [p] of this.#queued ?? []) {
      if (p.deadline <= now) expired.push(p);
      else if (p.deadline !== Infinity) left++;
    }
    for (const p of expired) {
      this.forget(p);
      settleErr(
        p,
        new DeadlineExceededError(
          `Request to ${addressKey(this.#address)} did not complete within ${
            Math.round(p.deadline - p.sentAt)
          } ms`,
        ),
      );
    }
    return left;
  }

  /**
   * Closes the connection and fails everything pending on it with `err`.
   * Idempotent.
   */
  fail(err: unknown): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.dead = true;
    this.#onDead();
    const pending = [...this.#pending.values(), ...(this.#queued ?? []).map(([p]) => p)];
    this.#pending.clear();
    this.#queued = undefined;
    this.#outLen = 0;
    for (const p of pending) {
      this.#client.statsSink?.reportFailedRequest();
      settleErr(p, err);
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
