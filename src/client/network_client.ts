/**
 * The pooled network client (Flink's `Client`): one multiplexed connection
 * per remote address, request ids per connection, responses matched out of
 * order (PROTOCOL §6). Each connection (`server_connection.ts`) has its
 * outbox of unwritten frames (`outbox.ts`) and its table of requests waiting
 * for an answer (`pending_table.ts` of `pending.ts`).
 *
 * @module
 */

import type { LogLevel } from "../observability/log_record.ts";
import { type Logger, SILENT_LOGGER } from "../observability/logger.ts";
import { GuardedStats } from "../server/guarded_stats.ts";
import { addressText, errorClass, errorMessage, logEvent, logs } from "../server/log_events.ts";
import { type KvStateRequestStats, RequestStats } from "../server/stats.ts";
import type { NetAddress, Transport } from "../transport/types.ts";
import { ClosedError, ConnectionClosedError, DeadlineExceededError } from "../wire/errors.ts";
import type { JavaSerializationLimits } from "../wire/java_serialization.ts";
import type { KvStateId } from "../wire/ids.ts";
import { tickNow } from "../wire/tick_clock.ts";
import {
  encodeKvStateRequest,
  type KvStateInternalRequest,
  type KvStateRequest,
} from "../wire/messages.ts";
import { type Pending, rawPending, settleErr } from "./pending.ts";
import {
  addressKey,
  type ConnectionEvent,
  type FrameWriter,
  ServerConnection,
} from "./server_connection.ts";

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
  /**
   * Where to log (see `createLogger` of `./observability`). Default
   * `SILENT_LOGGER`: nothing is logged, and nothing is built for it.
   * Nothing is logged per request; every event has the fields `client` (the
   * client's name) and `address` (the peer's `host:port`). The events:
   *
   * - `connect_failed` (warn): `error` (its class), `message`;
   * - `connection_lost` (warn when requests were pending on it or it failed
   *   for another reason than the peer closing it, else info): `error`,
   *   `message`, `pending` (the requests it failed);
   * - `connection_recovered` (info): the first connection opened to an
   *   address after a `connect_failed` or a `connection_lost` at warn
   *   (up to 1,024 such addresses are remembered at once);
   * - `request_queue_full` (warn), a request refused by
   *   `maxQueuedBytesPerConnection`: `limit`.
   *
   * A connection closed by {@linkcode NetworkClient.close} is not logged.
   */
  readonly logger?: Logger;
}

/** The most addresses remembered as failed, for `connection_recovered`. */
const MAX_FAILED_ADDRESSES = 1024;

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
 *   InMemoryValueState,
 *   KvStateServer,
 *   MemoryTransport,
 *   NetworkClient,
 *   TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state";
 * import { serializeKeyAndNamespace } from "@kvstate/queryable-state/wire";
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
  readonly #logger: Logger;
  /** Addresses whose last connection failed (for `connection_recovered`); bounded. */
  readonly #failed = new Set<string>();
  /** `close()` was called. */
  #stopping = false;

  /**
   * Creates a NetworkClient.
   *
   * @param options The transport and bounds.
   * @throws {RangeError} For a negative timeout or a bound that is not positive.
   */
  constructor(options: NetworkClientOptions) {
    this.#options = options;
    this.#logger = options.logger ?? SILENT_LOGGER;
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
   * Requests in flight now over all connections: written (or queued) and not
   * yet answered, failed or expired. Read-only; costs a walk over the
   * connections (one per state server).
   */
  get requestsInFlight(): number {
    let n = 0;
    for (const conn of this.#connections.values()) n += conn.pendingRequests;
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
   * Sends a `KvStateRequest` whose miss is a normal outcome: like
   * {@linkcode NetworkClient.sendKvStateRequest}, but a REQUEST_FAILURE that
   * is an `UnknownKeyOrNamespaceException` (the state holds no value for the
   * key; what `sendKvStateRequest` rejects with `UnknownKeyOrNamespaceError`)
   * resolves `undefined`, without building an error: the failure body is
   * recognised by a byte comparison once it was parsed. Every other failure
   * rejects exactly as with `sendKvStateRequest`. The `stats` count such a
   * miss as a failed request, as the wire says.
   *
   * @example A present and an absent key, through a proxy
   * ```ts
   * import {
   *   InMemoryLocationRegistry,
   *   InMemoryValueState,
   *   JobId,
   *   JobVertexId,
   *   KvStateClientProxy,
   *   KvStateServer,
   *   MemoryTransport,
   *   NetworkClient,
   *   TYPE_SERIALIZERS,
   * } from "@kvstate/queryable-state";
   * import { serializeKeyAndNamespace } from "@kvstate/queryable-state/wire";
   *
   * const transport = new MemoryTransport();
   * const string = TYPE_SERIALIZERS.string;
   * await using server = new KvStateServer({ transport });
   * const kvStateId = server.registry.register(
   *   new InMemoryValueState(string, TYPE_SERIALIZERS.long).set("hello", 42n),
   * );
   * const jobId = JobId.random();
   * const locations = new InMemoryLocationRegistry();
   * locations.notifyKvStateRegistered({
   *   jobId, jobVertexId: JobVertexId.random(), registrationName: "counts",
   *   numKeyGroups: 128, start: 0, end: 127, kvStateId, address: await server.start(),
   * });
   * await using proxy = new KvStateClientProxy({ transport });
   * proxy.updateKvStateLocationOracle(jobId, locations);
   * const address = await proxy.start();
   *
   * await using client = new NetworkClient({ transport });
   * const ask = (key: string) =>
   *   client.sendKvStateRequestIfPresent(address, {
   *     jobId, stateName: "counts", keyHashCode: string.hashCode(key),
   *     serializedKeyAndNamespace: serializeKeyAndNamespace(key, string),
   *   });
   * (await ask("hello"))?.length; // => 8
   * await ask("absent"); // => undefined
   * ```
   *
   * @param address The proxy.
   * @param request The request.
   * @param options Signal and deadline.
   * @returns The response content, or `undefined` when the key has no value.
   */
  sendKvStateRequestIfPresent(
    address: NetAddress,
    request: KvStateRequest,
    options?: RequestOptions,
  ): Promise<Uint8Array | undefined> {
    return this.#promise(
      address,
      (out, id) => out.append(encodeKvStateRequest(BigInt(id), request)),
      options,
      true,
    );
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
      false,
    ) as Promise<Uint8Array>;
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
    return this.#promise(
      address,
      (out, id) => out.append(build(BigInt(id))),
      options,
      false,
    ) as Promise<Uint8Array>;
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
    const pending = this.#rawPending(handler, context, this.requestTimeoutMs);
    if (pending !== undefined) {
      this.#connectionFor(address).sendInternal(pending, kvStateId, serializedKeyAndNamespace);
    }
  }

  /**
   * The forwarding path of a proxy in front of other proxies (see
   * `ProxyPool`): sends a whole request, its body copied after a REQUEST
   * header with the id the connection assigns, and hands the peer's
   * complete response frame to `handler`, as
   * {@linkcode NetworkClient.forwardInternalRequest} does (no promise, no
   * decoding; local failures as `(null, error)`, a full queue and a closed
   * client answered before this method returns).
   *
   * @example Forward an encoded `KvStateRequest` to a proxy
   * ```ts
   * import {
   *   JobId, KvStateClientProxy, MemoryTransport, NetworkClient, TYPE_SERIALIZERS,
   * } from "@kvstate/queryable-state";
   * import { encodeKvStateRequest, serializeKeyAndNamespace } from "@kvstate/queryable-state/wire";
   *
   * const transport = new MemoryTransport();
   * await using proxy = new KvStateClientProxy({ transport });
   * const address = await proxy.start();
   * const body = encodeKvStateRequest(0n, {
   *   jobId: JobId.random(), stateName: "absent", keyHashCode: 0,
   *   serializedKeyAndNamespace: serializeKeyAndNamespace("k", TYPE_SERIALIZERS.string),
   * }).subarray(20); // the bytes after the request id
   * await using client = new NetworkClient({ transport });
   * const type = await new Promise<number>((resolve) =>
   *   client.forwardRequest(address, body, (frame) => resolve(frame?.[11] ?? -1), undefined)
   * );
   * type; // => 2
   * ```
   *
   * @param address The peer.
   * @param body The request body: the bytes after the request id (kept
   * unchanged by the caller until `handler` is called).
   * @param handler Receives the response frame or the error, and `context`,
   * exactly once.
   * @param context The handler's third argument.
   * @param timeoutMs This request's deadline in ms (0: none). Default the
   * client's `requestTimeoutMs`.
   */
  forwardRequest<C>(
    address: NetAddress,
    body: Uint8Array,
    handler: RawResponseHandler<C>,
    context: C,
    timeoutMs: number = this.requestTimeoutMs,
  ): void {
    const pending = this.#rawPending(handler, context, timeoutMs);
    if (pending !== undefined) this.#connectionFor(address).sendRequest(pending, body);
  }

  /**
   * A raw request's entry with its deadline (`timeoutMs` 0: none), the
   * sweeper started for it; `undefined` when the client is closing (the
   * handler has then been answered with `ClosedError`).
   */
  #rawPending<C>(
    handler: RawResponseHandler<C>,
    context: C,
    timeoutMs: number,
  ): Pending | undefined {
    const now = tickNow();
    const pending = rawPending(
      handler as RawResponseHandler<unknown>,
      context,
      now,
      timeoutMs > 0 ? now + timeoutMs : Infinity,
    );
    if (this.#closing !== undefined) {
      settleErr(this, pending, ClosedError.shutDown(this.clientName));
      return undefined;
    }
    if (timeoutMs > 0) this.#ensureSweeper(timeoutMs);
    return pending;
  }

  /**
   * A request settled through a promise. With `absentIsUndefined`, a miss
   * (an `UnknownKeyOrNamespaceException` failure) resolves `undefined`
   * instead of rejecting; otherwise the promise never resolves `undefined`.
   */
  #promise(
    address: NetAddress,
    write: FrameWriter,
    options: RequestOptions | undefined,
    absentIsUndefined: boolean,
  ): Promise<Uint8Array | undefined> {
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
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      const now = performance.now();
      const pending: Pending = {
        resolve,
        reject,
        raw: undefined,
        context: undefined,
        absentIsUndefined,
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
          // A request written (or queued) and not answered: it failed by its deadline.
          if (pending.id >= 0) this.#stats?.reportFailedRequest("deadline");
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
    // Set before the connections are failed (below, synchronously): their loss is not logged.
    this.#stopping = true;
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

  /**
   * @internal A connection's event, to the log (see
   * {@linkcode NetworkClientOptions.logger}). Never throws.
   */
  logConnection(
    event: ConnectionEvent,
    address: NetAddress,
    error: unknown,
    detail: number,
  ): void {
    try {
      if (this.#logger === SILENT_LOGGER || this.#stopping) return;
      if (event === "connected") {
        if (this.#failed.size === 0) return;
        const key = addressText(address);
        if (!this.#failed.delete(key)) return;
        this.#log("info", "connection_recovered", key, {});
        return;
      }
      if (event === "request_queue_full") {
        this.#log("warn", "request_queue_full", undefined, { limit: detail }, address);
        return;
      }
      const level: LogLevel = event === "connect_failed" || detail > 0 ||
          !(error instanceof ConnectionClosedError)
        ? "warn"
        : "info";
      if (level === "warn" && this.#failed.size < MAX_FAILED_ADDRESSES) {
        this.#failed.add(addressText(address));
      }
      const fields: Record<string, unknown> = {
        error: errorClass(error),
        message: errorMessage(error),
      };
      if (event === "connection_lost") fields.pending = detail;
      this.#log(level, event, undefined, fields, address);
    } catch {
      // Logging never fails the caller.
    }
  }

  #log(
    level: LogLevel,
    event: string,
    key: string | undefined,
    fields: Record<string, unknown>,
    address?: NetAddress,
  ): void {
    if (!logs(this.#logger, level)) return;
    logEvent(this.#logger, level, event, {
      client: this.clientName,
      address: key ?? addressText(address),
      ...fields,
    });
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
  return (out, id) => out.appendInternal(id, kvStateId, kn);
}
