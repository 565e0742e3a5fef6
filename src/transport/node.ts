/**
 * The Node transport: TCP through `node:net`, with Nagle off, wrapped in the
 * web streams of {@linkcode Connection}. It uses nothing but `node:net`,
 * `node:timers` and web APIs, so it runs under Node (20+) and under Deno's
 * Node compatibility layer alike.
 *
 * The readable side is a byte stream fed by the socket's `data` events. When
 * the stream holds its high-water mark (64 KiB by default) of unread bytes the
 * socket is paused, and the stream's `pull` resumes it: a consumer that does
 * not read stops the socket, and TCP flow control then slows the peer. A
 * write resolves at once when `socket.write` accepts the bytes into Node's
 * buffer below its high-water mark, otherwise on `drain`.
 *
 * Connections also offer the direct path ({@linkcode Connection.direct}):
 * the socket's `data` chunks go to the handler as they come (Node allocates
 * each read afresh, so the handler may keep them), `write` is
 * `socket.write`, and `drain` is the socket's. The streams are made on first
 * use only.
 *
 * Memory per connection: Node reads up to 64 KiB at once (its own choice;
 * no option changes it) and, when a socket is paused, it has usually read
 * one chunk ahead already, which it keeps until resumed. So a paused
 * connection may hold up to two 64 KiB chunks, the one handed over and the
 * one read ahead (the Deno adapter: one of at most 16 KiB on accepted
 * connections, and nothing read while paused). An idle connection holds no
 * read buffer.
 *
 * TLS (off by default) comes from `node:tls`, with everything the option
 * types describe: a server certificate, client certificates required and
 * verified (mutual TLS), trust, a client certificate, `serverName`. Nagle
 * is off and `keepAlive` applies over TLS as over TCP, and the direct path
 * works alike. Under Deno's Node compatibility layer this is the way to
 * mutual TLS on Deno (`DenoTransport` cannot ask for client certificates).
 * See {@linkcode TlsServerOptions} and {@linkcode TlsClientOptions}.
 *
 * Under Deno (2.9.6), mind what Deno's `node:tls` and `node:net` do not do:
 * a TLS socket has no write backpressure (`drain` follows a `false` write
 * whether or not the peer reads, so the bytes for a slow reader pile up in
 * memory), and a bulk transfer both ways at once can stall; request-sized
 * traffic (what the proxy, server and client exchange) works. An accept
 * failure (EMFILE) stops a `node:net` server for good without a word. Under
 * Node none of this applies; on Deno, `DenoTransport` has none of it.
 *
 * @example Give the roles sockets: a proxy on a loopback port, a client querying it
 * ```ts
 * import {
 *   JobId,
 *   KvStateClientProxy,
 *   QueryableStateClient,
 *   UnknownLocationError,
 * } from "@kvstate/queryable-state";
 * import { nodeTransport } from "@kvstate/queryable-state/node";
 *
 * const proxy = new KvStateClientProxy({ transport: nodeTransport, host: "127.0.0.1", port: 0 });
 * const client = new QueryableStateClient({ transport: nodeTransport, proxy: await proxy.start() });
 * const job = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
 * // No oracle knows this job yet: the proxy answers with Flink's failure, typed.
 * const failure = await client
 *   .getKvState(job, "word-counts", "hello", { keyType: "string", valueType: "long" })
 *   .catch((e: unknown) => e);
 * failure instanceof UnknownLocationError; // => true
 * await client.close();
 * await proxy.close();
 * ```
 *
 * @example Echo server and client
 * ```ts
 * import { nodeTransport } from "@kvstate/queryable-state/node";
 *
 * const listener = await nodeTransport.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = (async () => {
 *   for await (const conn of listener) {
 *     await conn.readable.pipeTo(conn.writable); // echo until the client half-closes
 *     await conn.close();
 *   }
 * })();
 * const client = await nodeTransport.connect({ hostname: "127.0.0.1", port: listener.address.port });
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * await writer.close();
 * const reply = await new Response(client.readable).text(); // => "ping"
 * await client.close();
 * await listener.close();
 * await served;
 * ```
 *
 * @module
 */

import { connect as netConnect, createServer, type Server, type Socket } from "node:net";
import { setImmediate } from "node:timers";
import {
  connect as tlsConnect,
  type ConnectionOptions,
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
} from "node:tls";
import { BindError, ConnectError, ConnectionClosedError, TlsError } from "../wire/errors.ts";
import { checkDirectFree, lockedReadable, lockedWritable } from "./locked_streams.ts";
import { checkPort, formatAddress } from "./net_address.ts";
import {
  type ResolvedTlsClientOptions,
  type ResolvedTlsServerOptions,
  resolveTlsClientOptions,
  resolveTlsServerOptions,
  type TlsClientOptions,
  type TlsServerOptions,
} from "./tls_options.ts";
import type {
  Connection,
  ConnectOptions,
  DirectChannel,
  DirectHandler,
  Listener,
  NetAddress,
  Transport,
} from "./types.ts";

export type { TlsClientOptions, TlsServerOptions } from "./tls_options.ts";
/** The transport interface and the errors its signatures name (the same as `.`'s). */
export * from "./adapter_exports.ts";

/** Default bytes a connection's readable holds before the socket is paused. */
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** Accepted connections a listener holds for `accept()` before it drops new ones. */
const ACCEPT_QUEUE_LIMIT = 511;

interface ErrnoError extends Error {
  code?: string;
}

/** A system error from the network, as opposed to a bad argument or a permission. */
function errnoCode(e: unknown): string | undefined {
  if (!(e instanceof Error) || e.name === "NotCapable") return undefined;
  const code = (e as ErrnoError).code;
  return typeof code === "string" && /^E[A-Z0-9_]+$/.test(code) && !code.startsWith("ERR_")
    ? code
    : undefined;
}

function abortedError(hostname: string, port: number, signal: AbortSignal): ConnectError {
  const reason = signal.reason;
  const timedOut = reason instanceof Error && reason.name === "TimeoutError";
  return new ConnectError(
    `Connection ${timedOut ? "timed out" : "aborted"}: ${formatAddress(hostname, port)}`,
    { cause: reason },
  );
}

function connectError(e: unknown, hostname: string, port: number): unknown {
  const code = errnoCode(e);
  if (code === undefined) return e;
  const where = formatAddress(hostname, port);
  switch (code) {
    case "ECONNREFUSED":
      return new ConnectError(`Connection refused: ${where}`, { cause: e });
    case "ETIMEDOUT":
      return new ConnectError(`Connection timed out: ${where}`, { cause: e });
    case "ENETUNREACH":
      return new ConnectError(`Network is unreachable: ${where}`, { cause: e });
    case "EHOSTUNREACH":
      return new ConnectError(`No route to host: ${where}`, { cause: e });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConnectError(`Unknown host: ${where}`, { cause: e });
    default:
      return new ConnectError(`Connection failed: ${where}: ${(e as Error).message}`, {
        cause: e,
      });
  }
}

function bindError(e: unknown, hostname: string, port: number): unknown {
  const code = errnoCode(e);
  if (code === undefined) return e;
  const where = formatAddress(hostname, port);
  if (code === "EADDRINUSE") {
    return new BindError(`Address already in use: ${where}`, true, { cause: e });
  }
  return new BindError(`Cannot bind ${where}: ${(e as Error).message}`, false, { cause: e });
}

/**
 * A TLS failure: OpenSSL's and Node's TLS codes (`ERR_SSL_*`, `ERR_TLS_*`,
 * `ERR_OSSL_*`) and the certificate verification codes (`CERT_HAS_EXPIRED`,
 * `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, ...): every string code that is not an
 * errno name.
 */
function isTlsFailure(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as ErrnoError).code;
  if (typeof code !== "string") return false;
  if (code.startsWith("ERR_")) return /^ERR_(SSL|TLS|OSSL)_/.test(code);
  return errnoCode(e) === undefined;
}

function tlsFailure(e: unknown, peer: NetAddress): TlsError {
  const code = (e as ErrnoError).code;
  const where = formatAddress(peer.hostname, peer.port);
  return new TlsError(`TLS failure with ${where}: ${(e as Error).message} (${code})`, {
    cause: e,
  });
}

function peerError(e: unknown): ConnectionClosedError {
  const code = errnoCode(e);
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") {
    return new ConnectionClosedError("Connection reset by peer", { cause: e });
  }
  return new ConnectionClosedError(`Connection failed: ${(e as Error)?.message ?? e}`, {
    cause: e,
  });
}

const ignore = (): void => {};

/**
 * `tls.connect`'s options. `allowHalfOpen` is honoured by `tls.connect`
 * (it goes to the TLSSocket) though its type does not list it.
 */
function tlsConnectOptions(
  host: string,
  port: number,
  servername: string | undefined,
  secureContext: SecureContext,
): ConnectionOptions {
  const options = {
    host,
    port,
    allowHalfOpen: true,
    secureContext,
    servername,
    rejectUnauthorized: true,
  };
  return options;
}

class NodeConnection implements Connection {
  readonly localAddress: NetAddress;
  readonly remoteAddress: NetAddress;
  readonly #socket: Socket;
  readonly #highWaterMark: number;
  /** A TLS socket: its failures may be TLS failures. */
  readonly #tls: boolean;
  /** The streams, made on first use (the direct path never makes them). */
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #rc: ReadableByteStreamController | undefined;
  #wc: WritableStreamDefaultController | undefined;
  /** The direct path's handler, once taken. */
  #handler: DirectHandler | undefined;
  /** Nothing more is delivered: the readable is closed/errored/cancelled, or `end` was called. */
  #readEnded = false;
  /** Why the reading failed, for a readable made afterwards. */
  #readError: unknown = undefined;
  #paused = true;
  /** The first socket error. */
  #error: unknown = undefined;
  /** close() was called. */
  #closed = false;
  /** The socket emitted `close`: its handle is released. */
  #gone = false;
  #closing: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  #drainResolve: (() => void) | undefined;
  #drainReject: ((e: unknown) => void) | undefined;

  constructor(socket: Socket, highWaterMark: number, tls = false) {
    this.#socket = socket;
    this.#highWaterMark = highWaterMark;
    this.#tls = tls;
    socket.setNoDelay(true);
    this.localAddress = { hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    this.remoteAddress = { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    // Paused first, so that adding the data listener does not start the flow:
    // the stream's pull or the direct path does.
    socket.pause();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    socket.on("drain", this.#onDrain);
  }

  get readable(): ReadableStream<Uint8Array> {
    if (this.#readable === undefined) {
      if (this.#handler !== undefined) return this.#readable = lockedReadable();
      this.#readable = new ReadableStream({
        type: "bytes",
        start: (c) => {
          this.#rc = c;
          if (this.#readError !== undefined) c.error(this.#readError);
          else if (this.#readEnded) c.close();
        },
        pull: this.#resume,
        cancel: () => {
          // Stop reading; TCP then holds the peer back until close().
          this.#readEnded = true;
          this.#pause();
        },
      }, { highWaterMark: this.#highWaterMark });
    }
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    if (this.#writable === undefined) {
      if (this.#handler !== undefined) return this.#writable = lockedWritable();
      this.#writable = new WritableStream<Uint8Array>({
        start: (c) => {
          this.#wc = c;
          if (this.#closed || this.#gone) c.error(this.#writeError());
        },
        write: this.#write,
        close: this.#end,
        abort: () => this.close(),
      });
    }
    return this.#writable;
  }

  direct(handler: DirectHandler): DirectChannel {
    checkDirectFree(
      this.#handler !== undefined,
      this.#readable !== undefined || this.#writable !== undefined,
    );
    this.#handler = handler;
    if (this.#readEnded) {
      queueMicrotask(() => handler.end(this.#endError()));
    } else this.#resume();
    return {
      write: this.#directWrite,
      closeWrite: this.#end,
      pause: () => this.#pause(),
      resume: this.#resume,
    };
  }

  #onData = (chunk: Uint8Array): void => {
    if (this.#readEnded) return;
    const handler = this.#handler;
    if (handler !== undefined) {
      // Node allocates every read's memory afresh: the chunk is the handler's.
      // A plain Uint8Array view, so that slicing frames out of it does not go
      // through Buffer's own (slower) subarray.
      handler.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return;
    }
    const rc = this.#rc!;
    // Enqueueing transfers the chunk's ArrayBuffer: hand it over when the chunk
    // owns all of it (Node allocates one per read), copy it otherwise.
    const buffer = chunk.buffer;
    if (chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength) {
      try {
        rc.enqueue(chunk as Uint8Array<ArrayBuffer>);
      } catch {
        rc.enqueue(new Uint8Array(chunk));
      }
    } else {
      rc.enqueue(new Uint8Array(chunk));
    }
    if (rc.desiredSize! <= 0) this.#pause();
  };

  #pause(): void {
    if (!this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #resume = (): void => {
    if (this.#paused && !this.#readEnded) {
      this.#paused = false;
      this.#socket.resume();
    }
  };

  /** What ends the reading now: `undefined` for an orderly end. */
  #endError(): unknown {
    return !this.#closed && this.#error !== undefined ? this.#failure(this.#error) : undefined;
  }

  /** The typed error of a socket failure. */
  #failure(e: unknown): ConnectionClosedError | TlsError {
    return this.#tls && isTlsFailure(e) ? tlsFailure(e, this.remoteAddress) : peerError(e);
  }

  /** Ends the reading side in order (EOF, or closed here). */
  #endReadable(): void {
    if (this.#readEnded) return;
    this.#readEnded = true;
    if (this.#handler !== undefined) {
      this.#handler.end();
      return;
    }
    try {
      this.#rc?.close();
      this.#rc?.byobRequest?.respond(0);
    } catch {
      // Already closed.
    }
  }

  #onEnd = (): void => {
    // A TLS alert (e.g. TLS 1.3's "certificate required") comes as an
    // `error` followed by an `end`: the reading then fails with it.
    if (this.#error !== undefined && !this.#closed && !this.#readEnded) {
      const err = this.#failure(this.#error);
      this.#readEnded = true;
      this.#readError = err;
      if (this.#handler !== undefined) this.#handler.end(err);
      else this.#rc?.error(err);
      return;
    }
    this.#endReadable();
  };

  #onError = (e: unknown): void => {
    this.#error ??= e;
  };

  #onDrain = (): void => {
    const resolve = this.#drainResolve;
    this.#drainResolve = this.#drainReject = undefined;
    resolve?.();
    this.#handler?.drain();
  };

  #onClose = (): void => {
    this.#gone = true;
    const failed = !this.#closed && this.#error !== undefined;
    const err = failed
      ? this.#failure(this.#error)
      : new ConnectionClosedError(this.#closed ? "Connection closed" : "Connection closed by peer");
    if (failed && !this.#readEnded) {
      this.#readEnded = true;
      this.#readError = err;
      if (this.#handler !== undefined) this.#handler.end(err);
      else this.#rc?.error(err);
    } else {
      this.#endReadable();
    }
    this.#fail(err);
    // A direct writer waiting for drain learns of the close (its next write throws).
    this.#handler?.drain();
    this.#closeResolve?.();
  };

  /** Errors the writable and rejects a write waiting for `drain`. */
  #fail(err: unknown): void {
    this.#wc?.error(err);
    const reject = this.#drainReject;
    this.#drainResolve = this.#drainReject = undefined;
    reject?.(err);
  }

  #write = (chunk: Uint8Array): Promise<void> | undefined => {
    if (this.#closed || this.#gone) throw this.#writeError();
    if (this.#socket.write(chunk)) return;
    return new Promise<void>((resolve, reject) => {
      this.#drainResolve = resolve;
      this.#drainReject = reject;
    });
  };

  #directWrite = (chunk: Uint8Array): boolean => {
    if (this.#closed || this.#gone) throw this.#writeError();
    return this.#socket.write(chunk);
  };

  #writeError(): ConnectionClosedError | TlsError {
    if (!this.#closed && this.#error !== undefined) return this.#failure(this.#error);
    return new ConnectionClosedError("Connection closed");
  }

  #end = (): Promise<void> => {
    if (this.#closed || this.#gone) return Promise.reject(this.#writeError());
    return new Promise<void>((resolve, reject) => {
      this.#socket.end((e?: unknown) => {
        if (e === undefined || e === null) resolve();
        else reject(this.#closed ? this.#writeError() : this.#failure(e));
      });
    });
  };

  close(): Promise<void> {
    return this.#closing ??= new Promise<void>((resolve) => {
      this.#closed = true;
      this.#endReadable();
      this.#fail(new ConnectionClosedError("Connection closed"));
      if (this.#gone) {
        resolve();
        return;
      }
      this.#closeResolve = resolve;
      this.#socket.destroy();
    });
  }
}

interface AcceptWaiter {
  resolve(conn: Connection | null): void;
  reject(error: unknown): void;
}

class NodeListener implements Listener {
  readonly address: NetAddress;
  readonly #server: Server;
  readonly #highWaterMark: number;
  readonly #tls: boolean;
  /** TLS: the most a handshake may take (0: plaintext). */
  readonly #handshakeMs: number;
  /**
   * TLS: the raw sockets whose handshake is under way, by peer address, each
   * with the timer that destroys it. Node's own `handshakeTimeout` is set
   * too, but Deno's Node layer reports its expiry without closing the
   * socket; destroying the raw socket closes it on both.
   */
  readonly #handshaking = new Map<string, [Socket, ReturnType<typeof setTimeout>]>();
  readonly #queue: NodeConnection[] = [];
  readonly #waiters: AcceptWaiter[] = [];
  /** An accept failure no `accept()` has taken yet (one is kept: they repeat). */
  #acceptError: unknown = undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(server: Server, highWaterMark: number, handshakeMs: number) {
    this.#server = server;
    this.#highWaterMark = highWaterMark;
    const tls = handshakeMs > 0;
    this.#tls = tls;
    this.#handshakeMs = handshakeMs;
    const info = server.address();
    this.address = typeof info === "object" && info !== null
      ? { hostname: info.address, port: info.port }
      : { hostname: String(info), port: 0 };
    // A TLS server hands over connections once their handshake succeeded;
    // the failed ones (`tlsClientError`) it destroys itself.
    server.on(tls ? "secureConnection" : "connection", this.#onConnection);
    if (tls) {
      server.on("connection", this.#onRawConnection);
      server.on("tlsClientError", ignore);
    }
    server.on("error", this.#onError);
  }

  /** TLS: a TCP connection whose handshake starts; it has `handshakeMs` to finish. */
  #onRawConnection = (raw: Socket): void => {
    const key = `${raw.remoteAddress}|${raw.remotePort}`;
    if (raw.remotePort === undefined || this.#closed) return;
    const timer = setTimeout(() => {
      this.#handshaking.delete(key);
      raw.destroy();
    }, this.#handshakeMs);
    this.#handshaking.set(key, [raw, timer]);
    raw.once("close", () => {
      const entry = this.#handshaking.get(key);
      if (entry !== undefined && entry[0] === raw) {
        clearTimeout(entry[1]);
        this.#handshaking.delete(key);
      }
    });
  };

  #onConnection = (socket: Socket): void => {
    if (this.#tls) {
      const key = `${socket.remoteAddress}|${socket.remotePort}`;
      const entry = this.#handshaking.get(key);
      if (entry !== undefined) {
        clearTimeout(entry[1]);
        this.#handshaking.delete(key);
      }
    }
    if (this.#closed || this.#queue.length >= ACCEPT_QUEUE_LIMIT) {
      socket.destroy();
      return;
    }
    const conn = new NodeConnection(socket, this.#highWaterMark, this.#tls);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(conn);
    else this.#queue.push(conn);
  };

  /**
   * An accept failure (e.g. `EMFILE`) that Node reports: the next `accept()`
   * rejects with it, and the server keeps listening. (On EMFILE libuv
   * usually copes alone: it drops the pending connections, reporting
   * nothing, and accepting resumes when descriptors are free again.)
   */
  #onError = (e: unknown): void => {
    if (this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.reject(e);
    else this.#acceptError ??= e;
  };

  /**
   * The next connection (for TLS, one whose handshake succeeded); `null`
   * once closed. Rejects with Node's error (its `code`, e.g. `EMFILE`,
   * names it) when Node reports an accept failure; the listener stays open.
   */
  accept(): Promise<Connection | null> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(null);
    const failed = this.#acceptError;
    if (failed !== undefined) {
      this.#acceptError = undefined;
      return Promise.reject(failed);
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#acceptError = undefined;
    // Stops accepting and releases the port now; Node's close callback would
    // wait for every accepted connection to end, so it is not waited for.
    this.#server.close();
    for (const w of this.#waiters.splice(0)) w.resolve(null);
    for (const [raw, timer] of this.#handshaking.values()) {
      clearTimeout(timer);
      raw.destroy();
    }
    this.#handshaking.clear();
    await Promise.all(this.#queue.splice(0).map((c) => c.close()));
    // Let the listening handle's close complete.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Connection> {
    for (;;) {
      const conn = await this.accept();
      if (conn === null) return;
      yield conn;
    }
  }
}

/**
 * Options of {@linkcode NodeTransport}.
 *
 * @example
 * ```ts
 * import { NodeTransport, type NodeTransportOptions } from "@kvstate/queryable-state/node";
 *
 * const options: NodeTransportOptions = { highWaterMark: 256 * 1024 };
 * new NodeTransport(options).name; // => "node"
 * ```
 */
export interface NodeTransportOptions {
  /**
   * Bytes a connection's readable holds before the socket is paused.
   * Default 64 KiB.
   */
  readonly highWaterMark?: number;
  /**
   * Serve TLS on `listen` (`tls.createServer`): certificate and key, client
   * certificates required and verified when `clientCa` is set (mutual TLS),
   * the handshake timeout. Default: unset, plaintext.
   */
  readonly listenTls?: TlsServerOptions;
  /**
   * Speak TLS on `connect` (`tls.connect`): trust (`ca`, which replaces
   * Node's default roots), a client certificate, the name to verify, the
   * handshake timeout. Default: unset, plaintext.
   */
  readonly connectTls?: TlsClientOptions;
}

/**
 * TCP through `node:net`, for Node (and Deno's Node compatibility layer).
 * `listen` binds with `net.createServer` (a port in use rejects with
 * `BindError`, `addressInUse` set); `connect` dials with `net.connect`
 * (refused, unreachable, timed out or aborted rejects with `ConnectError`,
 * e.g. `Connection refused: 127.0.0.1:9069`). Nagle is off on every
 * connection; sockets are half-open capable; `keepAlive` turns TCP
 * keepalive on (system timing).
 *
 * TLS, per side and off by default: `listenTls` (certificate, key, and
 * `clientCa` for mutual TLS) and `connectTls` (trust, client certificate,
 * name). A failed handshake rejects `connect` with `TlsError` (a
 * `ConnectError`); a server never sees the connections whose handshake
 * failed. A TLS failure after the handshake (e.g. TLS 1.3's "certificate
 * required" alert, which a client without a certificate receives after its
 * handshake) ends the connection with `TlsError`.
 *
 * A connection's `readable` yields fresh chunks the consumer may keep and
 * pauses the socket while its high-water mark of bytes is unread; a write
 * resolves when Node's socket buffer accepts the bytes (or on `drain`), so do
 * not modify a chunk after writing it. Closing the `writable` half-closes
 * (FIN). `close()` ends pending reads, rejects pending writes with
 * `ConnectionClosedError` and resolves once the socket is closed. Cancelling
 * the readable only stops reading; aborting the writable closes the
 * connection.
 *
 * @example Bind, connect, check the addresses
 * ```ts
 * import { NodeTransport } from "@kvstate/queryable-state/node";
 *
 * const transport = new NodeTransport({ highWaterMark: 16 * 1024 });
 * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await transport.connect({ hostname: "127.0.0.1", port: listener.address.port });
 * const server = (await listener.accept())!;
 * server.remoteAddress.port === client.localAddress.port; // => true
 * await client.close();
 * await server.close();
 * await listener.close();
 * ```
 *
 * @example The options for mutual TLS (certificates as PEM text)
 * ```ts
 * import { NodeTransport } from "@kvstate/queryable-state/node";
 *
 * const read = (name: string) => `-----BEGIN ${name}-----\n...\n-----END ${name}-----\n`;
 * const options = {
 *   listenTls: { cert: read("CERTIFICATE"), key: read("PRIVATE KEY"), clientCa: read("CERTIFICATE") },
 * };
 * options.listenTls.clientCa.startsWith("-----BEGIN CERTIFICATE-----"); // => true
 * // new NodeTransport(options) serves TLS and requires client certificates.
 * typeof NodeTransport; // => "function"
 * ```
 */
export class NodeTransport implements Transport {
  /** Always `node`. */
  readonly name: string = "node";
  readonly #highWaterMark: number;
  readonly #listenTls: ResolvedTlsServerOptions | undefined;
  readonly #connectTls: ResolvedTlsClientOptions | undefined;
  /** The client side's TLS context, made once (the CAs are parsed once). */
  readonly #secureContext: SecureContext | undefined;

  /**
   * Creates a transport.
   *
   * @param options The readable high-water mark, and TLS for each side.
   * @throws {RangeError} When `highWaterMark` or a handshake timeout is out of range.
   * @throws {TypeError} When the TLS options are incomplete, or (under Node)
   * `connectTls` holds PEM text OpenSSL cannot use.
   */
  constructor(options: NodeTransportOptions = {}) {
    const hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (!(hwm >= 1)) throw new RangeError(`highWaterMark must be >= 1, got ${hwm}`);
    this.#highWaterMark = hwm;
    if (options.listenTls !== undefined) {
      this.#listenTls = resolveTlsServerOptions(options.listenTls);
    }
    if (options.connectTls !== undefined) {
      const tls = resolveTlsClientOptions(options.connectTls);
      this.#connectTls = tls;
      try {
        this.#secureContext = createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
      } catch (e) {
        throw new TypeError(
          `connectTls: unusable certificate, key or CA: ${(e as Error)?.message ?? e}`,
          { cause: e },
        );
      }
    }
  }

  /** Whether `listen` serves TLS. */
  get servesTls(): boolean {
    return this.#listenTls !== undefined;
  }

  /** Whether `connect` speaks TLS. */
  get connectsTls(): boolean {
    return this.#connectTls !== undefined;
  }

  /**
   * Binds a TCP address.
   *
   * @param address Host and port (0 for any free port).
   * @returns The listener.
   * @throws {TypeError} When the port is not an integer in 0..65535.
   * @throws {BindError} With `addressInUse` when the port is taken.
   */
  listen(address: NetAddress): Promise<Listener> {
    return new Promise<Listener>((resolve, reject) => {
      checkPort(address.port);
      const tls = this.#listenTls;
      let server: Server;
      try {
        server = tls === undefined
          ? createServer({ allowHalfOpen: true, pauseOnConnect: true })
          : createTlsServer({
            allowHalfOpen: true,
            cert: tls.cert,
            key: tls.key,
            ca: tls.clientCa,
            requestCert: tls.clientCa !== undefined,
            rejectUnauthorized: tls.clientCa !== undefined,
            handshakeTimeout: tls.handshakeTimeoutMs,
          });
      } catch (e) {
        throw new TypeError(
          `listenTls: unusable certificate, key or CA: ${(e as Error)?.message ?? e}`,
          { cause: e },
        );
      }
      const onError = (e: unknown): void => {
        server.off("listening", onListening);
        reject(bindError(e, address.hostname, address.port));
      };
      const onListening = (): void => {
        server.off("error", onError);
        resolve(new NodeListener(server, this.#highWaterMark, tls?.handshakeTimeoutMs ?? 0));
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen({ host: address.hostname, port: address.port });
    });
  }

  /**
   * Opens a TCP connection. With `connectTls`, the TLS handshake is part of
   * it: `connect` resolves once the server's certificate is verified.
   *
   * @param options Where to, an optional signal that aborts the attempt
   * (handshake included), and whether to turn TCP keepalive on.
   * @returns The connection.
   * @throws {TypeError} When the port is not an integer in 0..65535.
   * @throws {ConnectError} When the connection cannot be made or is aborted.
   * @throws {TlsError} When the TLS handshake fails or times out.
   */
  connect(options: ConnectOptions): Promise<Connection> {
    const { hostname, port, signal } = options;
    const keepAlive = options.keepAlive === true;
    const tls = this.#connectTls;
    return new Promise<Connection>((resolve, reject) => {
      checkPort(port);
      if (signal?.aborted) {
        reject(abortedError(hostname, port, signal));
        return;
      }
      const socket: Socket = tls === undefined
        ? netConnect({ host: hostname, port, allowHalfOpen: true })
        : tlsConnect(tlsConnectOptions(hostname, port, tls.serverName, this.#secureContext!));
      /** TCP is up (TLS: the handshake is under way). */
      let connected = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (): void => {
        clearTimeout(timer);
        socket.off("connect", onConnect);
        socket.off("secureConnect", onSecure);
        socket.off("error", onError);
        signal?.removeEventListener("abort", onAbort);
      };
      const onConnect = (): void => {
        if (keepAlive) socket.setKeepAlive(true);
        if (tls === undefined) {
          settle();
          resolve(new NodeConnection(socket, this.#highWaterMark));
          return;
        }
        connected = true;
        timer = setTimeout(() => {
          settle();
          socket.on("error", ignore);
          socket.destroy();
          reject(
            new TlsError(
              `TLS handshake with ${formatAddress(hostname, port)} timed out after ` +
                `${tls.handshakeTimeoutMs} ms`,
            ),
          );
        }, tls.handshakeTimeoutMs);
      };
      const onSecure = (): void => {
        settle();
        resolve(new NodeConnection(socket, this.#highWaterMark, true));
      };
      const onError = (e: unknown): void => {
        settle();
        socket.destroy();
        // Once TCP is up, what fails is the handshake (a reset included: the
        // server dropped us, or does not speak TLS).
        reject(
          connected || (tls !== undefined && isTlsFailure(e))
            ? new TlsError(
              `TLS handshake with ${formatAddress(hostname, port)} failed: ` +
                `${(e as Error)?.message ?? e}`,
              { cause: e },
            )
            : connectError(e, hostname, port),
        );
      };
      const onAbort = (): void => {
        settle();
        socket.on("error", ignore);
        socket.destroy();
        reject(abortedError(hostname, port, signal!));
      };
      socket.once("connect", onConnect);
      if (tls !== undefined) socket.once("secureConnect", onSecure);
      socket.once("error", onError);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * The default {@linkcode NodeTransport} (64 KiB readable high-water mark).
 *
 * @example
 * ```ts
 * import { nodeTransport } from "@kvstate/queryable-state/node";
 *
 * nodeTransport.name; // => "node"
 * ```
 */
export const nodeTransport: NodeTransport = new NodeTransport();
