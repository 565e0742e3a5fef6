/**
 * The Deno transport: TCP through `Deno.listen` / `Deno.connect`, with Nagle
 * off, wrapped in the web streams of {@linkcode Connection}.
 *
 * The readable side is a pull-based byte stream over `conn.read`: each pull
 * reads into one per-connection buffer and enqueues an exact-size copy of
 * what arrived, so every chunk is fresh memory the consumer may keep (the
 * frame decoder keeps views into chunks). Measured against `conn.readable`
 * (which allocates a new 64 KiB buffer per read) it costs less than half the
 * CPU per read for small reads (~1 KiB) and is no slower for bulk transfers;
 * see `tests/transport/_measure_read_path.ts`.
 *
 * Connections also offer the direct path ({@linkcode Connection.direct}):
 * one `conn.read` loop hands each chunk (an exact-size copy) to the handler,
 * and writes go out one at a time: every `write` returns `false` and the
 * handler's `drain` follows when the write is done, so a writer batches what
 * comes meanwhile into its next write. Nothing is read while the handler has
 * paused the connection, and a paused connection lets go of its read buffer
 * (it is made again on resume). The streams are made on first use only.
 *
 * Read buffers start at 2 KiB and double while reads fill them, up to 16 KiB
 * on the connections a listener accepts (whose input is untrusted) and 64 KiB
 * on those `connect` opens (see {@linkcode DenoTransportOptions.readBufferSize}).
 *
 * TLS (off by default): `listenTls` serves it through `Deno.listenTls`,
 * `connectTls` speaks it through `Deno.startTls` over a `Deno.connect`
 * socket (or `Deno.connectTls` when a client certificate is given). The
 * streams and the direct path work alike over TLS. What Deno cannot do:
 * ask clients for certificates (`Deno.listenTls` has no option for it; use
 * `NodeTransport` from the `./node` export, which runs under Deno too),
 * combine `serverName` with a client certificate, and set socket options on
 * the connections `Deno.listenTls` accepts or `Deno.connectTls` opens (Nagle
 * stays on there, and `keepAlive` is not applied). Also, Deno (2.9.6) does
 * not release the socket of a connection whose handshake never started: a
 * client that connects and sends nothing is failed with `TlsError` after
 * the handshake timeout and its resource closed, but the socket itself
 * stays open until that client leaves. See {@linkcode TlsServerOptions} and
 * {@linkcode TlsClientOptions}.
 *
 * @example Give the roles sockets: a proxy on a loopback port, a client querying it
 * ```ts
 * import {
 *   JobId,
 *   KvStateClientProxy,
 *   QueryableStateClient,
 *   UnknownLocationError,
 * } from "@kvstate/queryable-state";
 * import { denoTransport } from "@kvstate/queryable-state/deno";
 *
 * const proxy = new KvStateClientProxy({ transport: denoTransport, host: "127.0.0.1", port: 0 });
 * const client = new QueryableStateClient({ transport: denoTransport, proxy: await proxy.start() });
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
 * import { denoTransport } from "@kvstate/queryable-state/deno";
 *
 * const listener = await denoTransport.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = (async () => {
 *   for await (const conn of listener) {
 *     await conn.readable.pipeTo(conn.writable); // echo until the client half-closes
 *     await conn.close();
 *   }
 * })();
 * const client = await denoTransport.connect({ hostname: "127.0.0.1", port: listener.address.port });
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

import { BindError, ConnectError, ConnectionClosedError, TlsError } from "../wire/errors.ts";
import { concatBytes } from "../wire/bytes.ts";
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

/** Default largest read buffer of a connection `connect` opens: the most one read returns. */
const DEFAULT_READ_BUFFER_SIZE = 64 * 1024;
/**
 * Default largest read buffer of a connection a listener accepts. Smaller:
 * its input is untrusted, and every accepted connection may hold a read
 * buffer (an idle one in its pending read) and one chunk read.
 */
const DEFAULT_ACCEPTED_READ_BUFFER_SIZE = 16 * 1024;
/** The read buffer of a new connection; it grows as reads fill it. */
const INITIAL_READ_BUFFER_SIZE = 2048;
/** A paused connection's read buffer: none (it is made again on resume). */
const NO_BUFFER = new Uint8Array(0);

function netAddress(addr: Deno.NetAddr): NetAddress {
  return { hostname: addr.hostname, port: addr.port };
}

/** Errors that are the caller's mistake or a permission, not the network's. */
function isLocalFault(e: unknown): boolean {
  return e instanceof TypeError || e instanceof Deno.errors.NotCapable;
}

function connectError(e: unknown, hostname: string, port: number, signal?: AbortSignal): unknown {
  if (e instanceof ConnectError || (isLocalFault(e) && !signal?.aborted)) return e;
  const where = formatAddress(hostname, port);
  if (signal?.aborted) {
    const reason = signal.reason;
    const timedOut = reason instanceof DOMException && reason.name === "TimeoutError";
    return new ConnectError(`Connection ${timedOut ? "timed out" : "aborted"}: ${where}`, {
      cause: reason,
    });
  }
  if (e instanceof Deno.errors.ConnectionRefused) {
    return new ConnectError(`Connection refused: ${where}`, { cause: e });
  }
  if (e instanceof Deno.errors.TimedOut) {
    return new ConnectError(`Connection timed out: ${where}`, { cause: e });
  }
  if (e instanceof Deno.errors.NetworkUnreachable) {
    return new ConnectError(`Network is unreachable: ${where}`, { cause: e });
  }
  return new ConnectError(`Connection failed: ${where}: ${(e as Error)?.message ?? e}`, {
    cause: e,
  });
}

function bindError(e: unknown, hostname: string, port: number, tls: boolean): unknown {
  if (isLocalFault(e)) return e;
  if (tls && typeof (e as { code?: unknown })?.code !== "string") {
    // Not an OS error: Deno.listenTls refused the certificate or the key.
    return new TypeError(`listenTls: unusable certificate or key: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  }
  const where = formatAddress(hostname, port);
  if (e instanceof Deno.errors.AddrInUse) {
    return new BindError(`Address already in use: ${where}`, true, { cause: e });
  }
  return new BindError(`Cannot bind ${where}: ${(e as Error)?.message ?? e}`, false, {
    cause: e,
  });
}

function peerError(e: unknown): ConnectionClosedError {
  if (e instanceof ConnectionClosedError) return e;
  if (
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted
  ) {
    return new ConnectionClosedError("Connection reset by peer", { cause: e });
  }
  return new ConnectionClosedError(`Connection failed: ${(e as Error)?.message ?? e}`, {
    cause: e,
  });
}

/**
 * A TLS failure reported by a read or a write (rustls reports a bad
 * certificate, an alert from the peer, or a malformed record as InvalidData).
 */
function tlsIoError(e: unknown, peer: NetAddress): TlsError | undefined {
  if (!(e instanceof Deno.errors.InvalidData)) return undefined;
  const where = formatAddress(peer.hostname, peer.port);
  return new TlsError(`TLS failure with ${where}: ${e.message}`, { cause: e });
}

/** Fails a TLS handshake error, or passes on the connect error it already is. */
function handshakeError(e: unknown, peer: string): unknown {
  if (e instanceof ConnectError || isLocalFault(e)) return e;
  return new TlsError(`TLS handshake with ${peer} failed: ${(e as Error)?.message ?? e}`, {
    cause: e,
  });
}

function abortError(signal: AbortSignal, where: string): ConnectError {
  const reason = signal.reason;
  const timedOut = reason instanceof DOMException && reason.name === "TimeoutError";
  return new ConnectError(`Connection ${timedOut ? "timed out" : "aborted"}: ${where}`, {
    cause: reason,
  });
}

/**
 * Runs a client handshake to completion, bounded by the timeout and the
 * signal; on failure the connection is closed and the error is typed.
 */
async function clientHandshake(
  conn: Deno.TlsConn,
  where: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const handshake = conn.handshake();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TlsError(`TLS handshake with ${where} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    if (signal !== undefined) {
      onAbort = () => reject(abortError(signal, where));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  try {
    await Promise.race([handshake, bound]);
  } catch (e) {
    try {
      conn.close();
    } catch {
      // Already released.
    }
    // Let the cancelled handshake op settle.
    await handshake.catch(ignore);
    throw handshakeError(e, where);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
  }
}

const ignore = (): void => {};

class DenoConnection implements Connection {
  readonly localAddress: NetAddress;
  readonly remoteAddress: NetAddress;
  readonly #conn: Deno.Conn<Deno.NetAddr>;
  /** A TLS connection: read and write failures may be TLS failures. */
  readonly #tls: boolean;
  /** Server side of TLS: the handshake in progress (reads wait for it). */
  #handshake: Promise<void> | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why the TLS handshake failed; every later failure of the connection reports it. */
  #tlsFailure: TlsError | undefined;
  /**
   * The read buffer. It starts small, so that an idle connection holds little
   * memory, and doubles (up to the configured size) whenever a read fills it.
   */
  #scratch: Uint8Array;
  readonly #maxScratch: number;
  /** The streams, made on first use (the direct path never makes them). */
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #rc: ReadableByteStreamController | undefined;
  #wc: WritableStreamDefaultController | undefined;
  /** The direct path's handler, once taken. */
  #handler: DirectHandler | undefined;
  /** Direct path: `data` calls are held back. */
  #paused = false;
  #wakeReader: (() => void) | undefined;
  /** Direct path: bytes written while a write is in progress. */
  #writeQueue: Uint8Array[] = [];
  /** Direct path: the write in progress. */
  #writeLoop: Promise<void> | undefined;
  #writeFailure: ConnectionClosedError | TlsError | undefined;
  #drainWanted = false;
  /** Nothing more is delivered: the readable is closed/errored/cancelled, or `end` was called. */
  #readEnded = false;
  /** The last pull (a read in progress) or the direct read loop, awaited by close(). */
  #pulling: Promise<void> | undefined;
  /** The last write or half-close, awaited by close(). */
  #writing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  /**
   * @param conn The socket (TCP, or TLS).
   * @param readBufferSize The largest read buffer.
   * @param tls Whether `conn` is a TLS connection.
   * @param serverHandshakeMs For a TLS connection just accepted: how long
   * its handshake may take (it is started here; reads wait for it).
   */
  constructor(
    conn: Deno.Conn<Deno.NetAddr>,
    readBufferSize: number,
    tls = false,
    serverHandshakeMs = 0,
  ) {
    this.#conn = conn;
    this.#tls = tls;
    this.#maxScratch = readBufferSize;
    this.#scratch = new Uint8Array(Math.min(INITIAL_READ_BUFFER_SIZE, readBufferSize));
    this.localAddress = netAddress(conn.localAddr);
    this.remoteAddress = netAddress(conn.remoteAddr);
    if (serverHandshakeMs > 0) this.#handshake = this.#serverHandshake(serverHandshakeMs);
  }

  /**
   * The server side of a TLS handshake, bounded in time. It never rejects:
   * a failure is kept in `#tlsFailure` and ends the reading with it.
   */
  async #serverHandshake(timeoutMs: number): Promise<void> {
    const peer = formatAddress(this.remoteAddress.hostname, this.remoteAddress.port);
    this.#handshakeTimer = setTimeout(() => {
      this.#handshakeTimer = undefined;
      this.#tlsFailure ??= new TlsError(
        `TLS handshake with ${peer} timed out after ${timeoutMs} ms`,
      );
      try {
        // The raw socket only: close() is still the owner's to call.
        this.#conn.close();
      } catch {
        // Already released.
      }
    }, timeoutMs);
    try {
      await (this.#conn as Deno.TlsConn).handshake();
    } catch (e) {
      if (!this.#closed) {
        this.#tlsFailure ??= new TlsError(
          `TLS handshake with ${peer} failed: ${(e as Error)?.message ?? e}`,
          { cause: e },
        );
        // Nothing can be exchanged any more: let the peer know now.
        try {
          this.#conn.close();
        } catch {
          // Already released.
        }
      }
    } finally {
      clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined;
      this.#handshake = undefined;
    }
  }

  /** The error of a failed read or write. */
  #ioError(e: unknown): ConnectionClosedError | TlsError {
    if (this.#tlsFailure !== undefined) return this.#tlsFailure;
    return (this.#tls ? tlsIoError(e, this.remoteAddress) : undefined) ?? peerError(e);
  }

  get readable(): ReadableStream<Uint8Array> {
    if (this.#readable === undefined) {
      if (this.#handler !== undefined) return this.#readable = lockedReadable();
      this.#readable = new ReadableStream({
        type: "bytes",
        start: (c) => {
          this.#rc = c;
          if (this.#readEnded) c.close();
        },
        pull: (c) => (this.#pulling = this.#pull(c)),
        cancel: () => {
          // TCP cannot stop receiving: later bytes are dropped until close().
          this.#readEnded = true;
        },
      });
    }
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    if (this.#writable === undefined) {
      if (this.#handler !== undefined) return this.#writable = lockedWritable();
      this.#writable = new WritableStream<Uint8Array>({
        start: (c) => {
          this.#wc = c;
          if (this.#closed) c.error(new ConnectionClosedError("Connection closed"));
        },
        write: (chunk) => (this.#writing = this.#write(chunk)),
        close: () => (this.#writing = this.#closeWrite()),
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
    if (this.#readEnded) queueMicrotask(() => handler.end());
    else this.#pulling = this.#readDirect(handler);
    return {
      write: this.#writeDirect,
      closeWrite: () => this.#closeWriteDirect(),
      pause: () => {
        this.#paused = true;
      },
      resume: () => {
        this.#paused = false;
        const wake = this.#wakeReader;
        this.#wakeReader = undefined;
        wake?.();
      },
    };
  }

  /**
   * The direct read loop: one buffer, reused; each chunk handed over is an
   * exact-size copy (cheaper for the collector than handing over views that
   * pin large buffers). The buffer doubles, up to the configured size, when
   * a read fills it.
   */
  async #readDirect(handler: DirectHandler): Promise<void> {
    if (this.#handshake !== undefined) {
      await this.#handshake;
      if (this.#tlsFailure !== undefined && !this.#closed) {
        this.#endDirect(this.#tlsFailure);
        return;
      }
    }
    for (;;) {
      if (this.#paused) {
        // Nothing is read while paused (TCP holds the peer back), and the
        // read buffer is let go of: a paused connection holds no read memory.
        const size = this.#scratch.length;
        this.#scratch = NO_BUFFER;
        await this.#whilePaused();
        if (this.#readEnded) return;
        this.#scratch = new Uint8Array(size);
      }
      const buf = this.#scratch;
      let n: number | null;
      try {
        n = await this.#conn.read(buf);
      } catch (e) {
        this.#endDirect(this.#closed ? undefined : this.#ioError(e));
        return;
      }
      if (n === null) {
        this.#endDirect(undefined);
        return;
      }
      if (this.#readEnded) return;
      if (n === 0) continue;
      const chunk = buf.slice(0, n);
      if (n === buf.length && n < this.#maxScratch) {
        this.#scratch = new Uint8Array(Math.min(n * 2, this.#maxScratch));
      }
      // Paused while that read was pending: the chunk waits (one at most).
      if (this.#paused) await this.#whilePaused();
      if (this.#readEnded) return;
      handler.data(chunk);
    }
  }

  /** Direct path: resolves once resumed (or the reading is over). */
  async #whilePaused(): Promise<void> {
    while (this.#paused && !this.#readEnded) {
      await new Promise<void>((resolve) => (this.#wakeReader = resolve));
    }
  }

  /** Direct path: ends the reading once. */
  #endDirect(error: unknown): void {
    if (this.#readEnded) return;
    this.#readEnded = true;
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
    this.#handler!.end(error);
  }

  #writeDirect = (bytes: Uint8Array): boolean => {
    if (this.#closed) throw new ConnectionClosedError("Connection closed");
    if (this.#writeFailure !== undefined) throw this.#writeFailure;
    // Deno's writes are asynchronous: one at a time, and the caller holds
    // what comes next until it completes (then `drain`), which batches it.
    if (this.#writeLoop === undefined) this.#writing = this.#writeLoop = this.#flushDirect(bytes);
    else this.#writeQueue.push(bytes);
    this.#drainWanted = true;
    return false;
  };

  async #flushDirect(first: Uint8Array): Promise<void> {
    let chunk = first;
    try {
      for (;;) {
        let written = await this.#conn.write(chunk);
        while (written < chunk.length) written += await this.#conn.write(chunk.subarray(written));
        const queue = this.#writeQueue;
        if (queue.length === 0) break;
        this.#writeQueue = [];
        chunk = queue.length === 1 ? queue[0] : concatBytes(queue);
      }
    } catch (e) {
      this.#writeQueue = [];
      this.#writeFailure = this.#closed
        ? new ConnectionClosedError("Connection closed", { cause: e })
        : this.#ioError(e);
      this.#endDirect(this.#writeFailure);
    } finally {
      this.#writeLoop = undefined;
    }
    if (this.#drainWanted) {
      this.#drainWanted = false;
      this.#handler!.drain();
    }
  }

  async #closeWriteDirect(): Promise<void> {
    while (this.#writeLoop !== undefined) await this.#writeLoop;
    if (this.#writeFailure !== undefined) throw this.#writeFailure;
    this.#writing = this.#closeWrite();
    await this.#writing;
  }

  async #pull(c: ReadableByteStreamController): Promise<void> {
    // A BYOB reader gets the bytes read straight into its own buffer.
    if (this.#handshake !== undefined) {
      await this.#handshake;
      if (this.#tlsFailure !== undefined && !this.#closed) {
        if (!this.#readEnded) {
          this.#readEnded = true;
          c.error(this.#tlsFailure);
        }
        return;
      }
    }
    const byob = c.byobRequest;
    const target = byob === null ? this.#scratch : byob.view as Uint8Array;
    let n: number | null;
    try {
      do n = await this.#conn.read(target); while (n === 0);
    } catch (e) {
      if (this.#closed) this.#endReadable();
      else if (!this.#readEnded) {
        this.#readEnded = true;
        c.error(this.#ioError(e));
      }
      return;
    }
    if (n === null) this.#endReadable();
    else if (!this.#readEnded) {
      if (byob === null) {
        c.enqueue(this.#scratch.slice(0, n));
        if (n === this.#scratch.length && n < this.#maxScratch) {
          this.#scratch = new Uint8Array(Math.min(n * 2, this.#maxScratch));
        }
      } else byob.respond(n);
    }
  }

  #endReadable(): void {
    if (this.#handler !== undefined) {
      this.#endDirect(undefined);
      return;
    }
    if (this.#readEnded) return;
    this.#readEnded = true;
    try {
      this.#rc?.close();
      this.#rc?.byobRequest?.respond(0);
    } catch {
      // Already closed.
    }
  }

  async #write(chunk: Uint8Array): Promise<void> {
    try {
      let written = await this.#conn.write(chunk);
      while (written < chunk.byteLength) written += await this.#conn.write(chunk.subarray(written));
    } catch (e) {
      throw this.#closed
        ? new ConnectionClosedError("Connection closed", { cause: e })
        : this.#ioError(e);
    }
  }

  async #closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (e) {
      if (this.#closed) throw new ConnectionClosedError("Connection closed", { cause: e });
      // The peer may have gone already: nothing is left to flush then.
      if (!(e instanceof Deno.errors.NotConnected)) throw this.#ioError(e);
    }
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#handshakeTimer);
    try {
      this.#conn.close();
    } catch {
      // Already released.
    }
    this.#wc?.error(new ConnectionClosedError("Connection closed"));
    this.#endReadable();
    // The pending read, write and handshake ops were cancelled by the close: let them settle.
    await this.#handshake;
    await this.#pulling?.catch(ignore);
    await this.#writing?.catch(ignore);
  }
}

class DenoListener implements Listener {
  readonly address: NetAddress;
  readonly #listener: Deno.Listener<Deno.Conn<Deno.NetAddr>, Deno.NetAddr>;
  readonly #readBufferSize: number;
  /** TLS: the handshake timeout (0: plaintext). */
  readonly #handshakeMs: number;
  readonly #accepting = new Set<Promise<Deno.Conn<Deno.NetAddr>>>();
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(
    listener: Deno.Listener<Deno.Conn<Deno.NetAddr>, Deno.NetAddr>,
    readBufferSize: number,
    handshakeMs: number,
  ) {
    this.#listener = listener;
    this.#readBufferSize = readBufferSize;
    this.#handshakeMs = handshakeMs;
    this.address = netAddress(listener.addr);
  }

  /**
   * The next connection. An accept failure (e.g. `EMFILE`, out of file
   * descriptors) rejects with Deno's error, whose `code` names it; the
   * listener stays open, so the caller may back off and accept again.
   */
  async accept(): Promise<Connection | null> {
    if (this.#closed) return null;
    const pending = this.#listener.accept();
    this.#accepting.add(pending);
    let conn: Deno.Conn<Deno.NetAddr>;
    try {
      conn = await pending;
    } catch (e) {
      if (this.#closed) return null;
      throw e;
    } finally {
      this.#accepting.delete(pending);
    }
    if (this.#closed) {
      conn.close();
      return null;
    }
    if (this.#handshakeMs > 0) {
      // Deno offers no socket options on TLS connections (Nagle stays on).
      // The handshake runs in the connection, so a slow client does not
      // hold up the next accept.
      return new DenoConnection(conn, this.#readBufferSize, true, this.#handshakeMs);
    }
    (conn as Deno.TcpConn).setNoDelay(true);
    return new DenoConnection(conn, this.#readBufferSize);
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already released.
    }
    // Pending accept ops were cancelled by the close: let them settle.
    for (const pending of [...this.#accepting]) await pending.catch(ignore);
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
 * Options of {@linkcode DenoTransport}.
 *
 * @example
 * ```ts
 * import { DenoTransport, type DenoTransportOptions } from "@kvstate/queryable-state/deno";
 *
 * const options: DenoTransportOptions = { readBufferSize: 16 * 1024 };
 * new DenoTransport(options).name; // => "deno"
 * ```
 */
export interface DenoTransportOptions {
  /**
   * The largest read buffer of a connection, the most one read returns. A
   * connection starts with a 2 KiB buffer (so idle connections stay cheap)
   * and doubles it, up to this size, whenever a read fills it; on the
   * direct path a paused connection lets go of it (nothing is read while
   * paused). Default 16 KiB for the connections a listener accepts (their
   * input is untrusted: each may keep a buffer in its pending read, and a
   * chunk read), 64 KiB for those `connect` opens.
   */
  readonly readBufferSize?: number;
  /**
   * Serve TLS on `listen` (`Deno.listenTls`): the certificate and key, and
   * the handshake timeout. Default: unset, plaintext. `clientCa` is not
   * supported (Deno cannot ask clients for certificates): the constructor
   * throws `TypeError`; use `NodeTransport` for mutual TLS.
   */
  readonly listenTls?: TlsServerOptions;
  /**
   * Speak TLS on `connect`: the trust, an optional client certificate, the
   * name to verify, the handshake timeout. Default: unset, plaintext.
   * `serverName` together with a client certificate is not supported (the
   * constructor throws `TypeError`).
   */
  readonly connectTls?: TlsClientOptions;
}

/**
 * TCP for Deno. `listen` binds with `Deno.listen` (a port in use rejects
 * with `BindError`, `addressInUse` set); `connect` dials with `Deno.connect`
 * (refused, unreachable, timed out or aborted rejects with `ConnectError`,
 * e.g. `Connection refused: 127.0.0.1:9069`). Nagle is off on every
 * plaintext connection; `keepAlive` turns TCP keepalive on (system timing).
 *
 * TLS, per side and off by default: `listenTls` (certificate and key) and
 * `connectTls` (trust, client certificate, name). A failed handshake
 * rejects `connect` with `TlsError` (a `ConnectError`); on the server side
 * it ends that connection's reading with `TlsError`. Mutual TLS is not
 * possible on this adapter (see the module doc); `NodeTransport` does it.
 *
 * A connection's `readable` yields fresh chunks the consumer may keep; its
 * `writable` resolves a write once every byte is handed to the kernel, and
 * closing it half-closes the socket (FIN). `close()` ends pending reads,
 * rejects pending writes with `ConnectionClosedError` and resolves once the
 * socket is released. Cancelling the readable only stops reading; aborting
 * the writable closes the connection.
 *
 * @example Bind, connect, check the addresses
 * ```ts
 * import { DenoTransport } from "@kvstate/queryable-state/deno";
 *
 * const transport = new DenoTransport({ readBufferSize: 16 * 1024 });
 * const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await transport.connect({ hostname: "127.0.0.1", port: listener.address.port });
 * const server = (await listener.accept())!;
 * server.remoteAddress.port === client.localAddress.port; // => true
 * await client.close();
 * await server.close();
 * await listener.close();
 * ```
 *
 * @example The options for TLS (certificates as PEM text)
 * ```ts
 * import { DenoTransport } from "@kvstate/queryable-state/deno";
 *
 * const pem = "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n";
 * const serving = new DenoTransport({ listenTls: { cert: pem, key: pem } });
 * const dialling = new DenoTransport({ connectTls: { ca: pem, handshakeTimeoutMs: 5_000 } });
 * serving.servesTls; // => true
 * dialling.connectsTls; // => true
 * ```
 */
export class DenoTransport implements Transport {
  /** Always `deno`. */
  readonly name: string = "deno";
  readonly #readBufferSize: number | undefined;
  readonly #listenTls: ResolvedTlsServerOptions | undefined;
  readonly #connectTls: ResolvedTlsClientOptions | undefined;

  /**
   * Creates a transport.
   *
   * @param options The read buffer size, and TLS for each side.
   * @throws {RangeError} When `readBufferSize` or a handshake timeout is not a positive integer.
   * @throws {TypeError} When the TLS options are incomplete, or ask for what
   * Deno cannot do (`listenTls.clientCa`; `connectTls.serverName` with a
   * client certificate).
   */
  constructor(options: DenoTransportOptions = {}) {
    const size = options.readBufferSize;
    if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
      throw new RangeError(`readBufferSize must be a positive integer, got ${size}`);
    }
    this.#readBufferSize = size;
    if (options.listenTls !== undefined) {
      const tls = resolveTlsServerOptions(options.listenTls);
      if (tls.clientCa !== undefined) {
        throw new TypeError(
          "DenoTransport cannot require client certificates: Deno.listenTls has no option " +
            "to ask for or verify them. For mutual TLS use NodeTransport (the ./node export), " +
            "which runs under Deno too",
        );
      }
      this.#listenTls = tls;
    }
    if (options.connectTls !== undefined) {
      const tls = resolveTlsClientOptions(options.connectTls);
      if (tls.serverName !== undefined && tls.cert !== undefined) {
        throw new TypeError(
          "DenoTransport cannot combine connectTls.serverName with a client certificate " +
            "(Deno.connectTls verifies the host it dials; Deno.startTls takes no certificate). " +
            "Use NodeTransport, or a certificate naming the host dialled",
        );
      }
      this.#connectTls = tls;
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
    const tls = this.#listenTls;
    try {
      checkPort(address.port);
      const listener = tls === undefined
        ? Deno.listen({ hostname: address.hostname, port: address.port, transport: "tcp" })
        : Deno.listenTls({
          hostname: address.hostname,
          port: address.port,
          transport: "tcp",
          cert: tls.cert,
          key: tls.key,
        });
      return Promise.resolve(
        new DenoListener(
          listener,
          this.#readBufferSize ?? DEFAULT_ACCEPTED_READ_BUFFER_SIZE,
          tls?.handshakeTimeoutMs ?? 0,
        ),
      );
    } catch (e) {
      return Promise.reject(bindError(e, address.hostname, address.port, tls !== undefined));
    }
  }

  /**
   * Opens a TCP connection.
   *
   * With `connectTls`, the TLS handshake is part of it: `connect` resolves
   * once the server's certificate is verified.
   *
   * @param options Where to, an optional signal that aborts the attempt
   * (handshake included), and whether to turn TCP keepalive on.
   * @returns The connection.
   * @throws {TypeError} When the port is not an integer in 0..65535.
   * @throws {ConnectError} When the connection cannot be made or is aborted.
   * @throws {TlsError} When the TLS handshake fails or times out.
   */
  async connect(options: ConnectOptions): Promise<Connection> {
    const { hostname, port, signal } = options;
    checkPort(port);
    const tls = this.#connectTls;
    if (tls !== undefined && tls.cert !== undefined) return this.#connectWithCert(options, tls);
    let conn: Deno.TcpConn;
    try {
      signal?.throwIfAborted();
      conn = await Deno.connect({ hostname, port, transport: "tcp", signal });
    } catch (e) {
      throw connectError(e, hostname, port, signal);
    }
    conn.setNoDelay(true);
    if (options.keepAlive === true) conn.setKeepAlive(true);
    if (tls === undefined) return new DenoConnection(conn, this.#dialledReadBufferSize);
    const where = formatAddress(hostname, port);
    let secure: Deno.TlsConn;
    try {
      secure = await Deno.startTls(conn, {
        hostname: tls.serverName ?? hostname,
        caCerts: tls.ca,
      });
    } catch (e) {
      try {
        conn.close();
      } catch {
        // Already released.
      }
      throw handshakeError(e, where);
    }
    await clientHandshake(secure, where, tls.handshakeTimeoutMs, signal);
    return new DenoConnection(secure, this.#dialledReadBufferSize, true);
  }

  /**
   * TLS with a client certificate: only `Deno.connectTls` takes one. It has
   * no signal (an abort stops the wait, and a connection made later is
   * closed) and its connections take no socket options.
   */
  async #connectWithCert(
    options: ConnectOptions,
    tls: ResolvedTlsClientOptions,
  ): Promise<Connection> {
    const { hostname, port, signal } = options;
    const where = formatAddress(hostname, port);
    if (signal?.aborted) throw abortError(signal, where);
    const pending = Deno.connectTls({
      hostname,
      port,
      caCerts: tls.ca,
      cert: tls.cert!,
      key: tls.key!,
    });
    let conn: Deno.TlsConn;
    let onAbort: (() => void) | undefined;
    try {
      conn = signal === undefined ? await pending : await new Promise<Deno.TlsConn>(
        (resolve, reject) => {
          onAbort = () => {
            pending.then((c) => c.close(), ignore);
            reject(abortError(signal, where));
          };
          signal.addEventListener("abort", onAbort, { once: true });
          pending.then(resolve, reject);
        },
      );
    } catch (e) {
      throw connectError(e, hostname, port, signal);
    } finally {
      if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
    }
    await clientHandshake(conn, where, tls.handshakeTimeoutMs, signal);
    return new DenoConnection(conn, this.#dialledReadBufferSize, true);
  }

  /** The largest read buffer of a connection `connect` opens. */
  get #dialledReadBufferSize(): number {
    return this.#readBufferSize ?? DEFAULT_READ_BUFFER_SIZE;
  }
}

/**
 * The default {@linkcode DenoTransport} (read buffers of at most 16 KiB on
 * accepted connections, 64 KiB on dialled ones).
 *
 * @example
 * ```ts
 * import { denoTransport } from "@kvstate/queryable-state/deno";
 *
 * denoTransport.name; // => "deno"
 * ```
 */
export const denoTransport: DenoTransport = new DenoTransport();
