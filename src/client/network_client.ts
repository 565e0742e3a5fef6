/**
 * The pooled network client (Flink's `Client`): one multiplexed connection
 * per remote address, request ids per connection, responses matched out of
 * order (PROTOCOL §6).
 *
 * @module
 */

import { DecoderState } from "../streams/frame_decoder_stream.ts";
import { DEFAULT_MAX_FRAME_LENGTH } from "../streams/frame_decoder_stream.ts";
import type { KvStateRequestStats } from "../server/stats.ts";
import type { Connection, NetAddress, Transport } from "../transport/types.ts";
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
import {
  decodeKvStateResponse,
  decodeMessage,
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  type KvStateInternalRequest,
  type KvStateRequest,
  MessageType,
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

interface Pending {
  readonly resolve: (content: Uint8Array) => void;
  readonly reject: (err: unknown) => void;
  readonly sentAt: number;
  readonly deadline: number;
  cleanup: (() => void) | undefined;
  id: number;
  connection: ServerConnection | undefined;
}

function addressKey(a: NetAddress): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

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
    return this.send(address, (id) => encodeKvStateInternalRequest(id, request), options);
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
        sentAt: now,
        deadline: timeoutMs > 0 ? now + timeoutMs : Infinity,
        cleanup: undefined,
        id: -1,
        connection: undefined,
      };
      if (signal !== undefined) {
        const onAbort = () => {
          this.#abandon(
            pending,
            new DeadlineExceededError("The request was aborted", { cause: signal.reason }),
          );
        };
        signal.addEventListener("abort", onAbort, { once: true });
        pending.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      if (timeoutMs > 0) this.#ensureSweeper(timeoutMs);
      this.#connectionFor(address).enqueue(pending, build);
    });
  }

  #abandon(pending: Pending, err: QueryableStateError): void {
    pending.connection?.forget(pending);
    settle(pending, err, false);
  }

  #connectionFor(address: NetAddress): ServerConnection {
    const key = addressKey(address);
    let conn = this.#connections.get(key);
    if (conn === undefined || conn.dead) {
      conn = new ServerConnection(this, address, this.#options, () => {
        if (this.#connections.get(key) === conn) this.#connections.delete(key);
      });
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

function settle(pending: Pending, result: Uint8Array | unknown, ok: boolean): void {
  pending.cleanup?.();
  if (ok) pending.resolve(result as Uint8Array);
  else pending.reject(result);
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
  /** Frames waiting for the connection or for the write in progress. */
  #outbox: Uint8Array[] = [];
  #writing = false;
  #queued: Array<[Pending, FrameBuilder]> | undefined = [];
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
    this.#writer = conn.writable.getWriter();
    this.#client.statsSink?.reportActiveConnection();
    const queued = this.#queued!;
    this.#queued = undefined;
    for (const [pending, build] of queued) this.#send(pending, build);
    this.#readLoop(conn);
  }

  enqueue(pending: Pending, build: FrameBuilder): void {
    pending.connection = this;
    if (this.#queued !== undefined) this.#queued.push([pending, build]);
    else this.#send(pending, build);
  }

  forget(pending: Pending): void {
    if (pending.id >= 0) this.#pending.delete(pending.id);
    else if (this.#queued !== undefined) {
      const i = this.#queued.findIndex(([p]) => p === pending);
      if (i >= 0) this.#queued.splice(i, 1);
    }
  }

  #send(pending: Pending, build: FrameBuilder): void {
    const id = this.#nextId++;
    let frame: Uint8Array;
    try {
      frame = build(BigInt(id));
    } catch (err) {
      settle(pending, err, false);
      return;
    }
    pending.id = id;
    this.#pending.set(id, pending);
    this.#client.statsSink?.reportRequest();
    this.#outbox.push(frame);
    if (!this.#writing) this.#flush();
  }

  /** Writes everything in the outbox, coalesced into one write per round. */
  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#outbox.length > 0 && !this.dead) {
        const frames = this.#outbox;
        this.#outbox = [];
        let bytes: Uint8Array;
        if (frames.length === 1) bytes = frames[0];
        else {
          let total = 0;
          for (const f of frames) total += f.length;
          bytes = new Uint8Array(total);
          let off = 0;
          for (const f of frames) {
            bytes.set(f, off);
            off += f.length;
          }
        }
        await this.#writer!.write(bytes);
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
        const err = this.#decoder.push(value, frames);
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
      await this.fail(
        err instanceof QueryableStateError ? err : new ConnectionClosedError(
          `Connection to ${addressKey(this.#address)} failed: ${(err as Error)?.message}`,
          { cause: err },
        ),
      );
    } finally {
      reader.releaseLock();
    }
  }

  #onFrame(frame: Uint8Array): void {
    const m = decodeMessage(frame); // throws ProtocolError: connection-fatal
    switch (m.type) {
      case MessageType.REQUEST_RESULT: {
        const content = decodeKvStateResponse(m.body);
        const p = this.#pending.get(Number(m.requestId));
        if (p === undefined) return; // late or unknown: dropped
        this.#pending.delete(p.id);
        this.#client.statsSink?.reportSuccessfulRequest(performance.now() - p.sentAt);
        settle(p, content, true);
        return;
      }
      case MessageType.REQUEST_FAILURE: {
        const err = withSerializedThrowable(
          errorFromJavaThrowable(readJavaThrowable(m.body, this.#options.javaSerializationLimits)),
          m.body,
        );
        const p = this.#pending.get(Number(m.requestId));
        if (p === undefined) return;
        this.#pending.delete(p.id);
        this.#client.statsSink?.reportFailedRequest();
        settle(p, err, false);
        return;
      }
      case MessageType.SERVER_FAILURE: {
        const err = withSerializedThrowable(
          errorFromJavaThrowable(readJavaThrowable(m.body, this.#options.javaSerializationLimits)),
          m.body,
        );
        throw err;
      }
      default:
        throw new ProtocolError(
          "Unexpected message type REQUEST. Expected REQUEST_RESULT, REQUEST_FAILURE or SERVER_FAILURE.",
          "java.lang.IllegalStateException",
        );
    }
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
      settle(
        p,
        new DeadlineExceededError(
          `Request to ${addressKey(this.#address)} did not complete within ${
            Math.round(p.deadline - p.sentAt)
          } ms`,
        ),
        false,
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
    this.#outbox = [];
    for (const p of pending) {
      this.#client.statsSink?.reportFailedRequest();
      settle(p, err, false);
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
