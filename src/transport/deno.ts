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
 * comes meanwhile into its next write. The streams are made on first use only.
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

import { BindError, ConnectError, ConnectionClosedError } from "../wire/errors.ts";
import { concatBytes } from "../wire/bytes.ts";
import { checkDirectFree, lockedReadable, lockedWritable } from "./locked_streams.ts";
import type {
  Connection,
  ConnectOptions,
  DirectChannel,
  DirectHandler,
  Listener,
  NetAddress,
  Transport,
} from "./types.ts";

/** Default size of a connection's read buffer: the most one read returns. */
const DEFAULT_READ_BUFFER_SIZE = 64 * 1024;
/** The read buffer of a new connection; it grows as reads fill it. */
const INITIAL_READ_BUFFER_SIZE = 2048;

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`Invalid port ${port}: must be an integer in 0..65535`);
  }
}

function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

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

function bindError(e: unknown, hostname: string, port: number): unknown {
  if (isLocalFault(e)) return e;
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

const ignore = (): void => {};

class DenoConnection implements Connection {
  readonly localAddress: NetAddress;
  readonly remoteAddress: NetAddress;
  readonly #conn: Deno.TcpConn;
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
  #writeFailure: ConnectionClosedError | undefined;
  #drainWanted = false;
  /** Nothing more is delivered: the readable is closed/errored/cancelled, or `end` was called. */
  #readEnded = false;
  /** The last pull (a read in progress) or the direct read loop, awaited by close(). */
  #pulling: Promise<void> | undefined;
  /** The last write or half-close, awaited by close(). */
  #writing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(conn: Deno.TcpConn, readBufferSize: number) {
    this.#conn = conn;
    this.#maxScratch = readBufferSize;
    this.#scratch = new Uint8Array(Math.min(INITIAL_READ_BUFFER_SIZE, readBufferSize));
    this.localAddress = netAddress(conn.localAddr);
    this.remoteAddress = netAddress(conn.remoteAddr);
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
    for (;;) {
      const buf = this.#scratch;
      let n: number | null;
      try {
        n = await this.#conn.read(buf);
      } catch (e) {
        this.#endDirect(this.#closed ? undefined : peerError(e));
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
      while (this.#paused && !this.#readEnded) {
        await new Promise<void>((resolve) => (this.#wakeReader = resolve));
      }
      if (this.#readEnded) return;
      handler.data(chunk);
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
        : peerError(e);
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
    const byob = c.byobRequest;
    const target = byob === null ? this.#scratch : byob.view as Uint8Array;
    let n: number | null;
    try {
      do n = await this.#conn.read(target); while (n === 0);
    } catch (e) {
      if (this.#closed) this.#endReadable();
      else if (!this.#readEnded) {
        this.#readEnded = true;
        c.error(peerError(e));
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
        : peerError(e);
    }
  }

  async #closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (e) {
      if (this.#closed) throw new ConnectionClosedError("Connection closed", { cause: e });
      // The peer may have gone already: nothing is left to flush then.
      if (!(e instanceof Deno.errors.NotConnected)) throw peerError(e);
    }
  }

  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already released.
    }
    this.#wc?.error(new ConnectionClosedError("Connection closed"));
    this.#endReadable();
    // The pending read and write ops were cancelled by the close: let them settle.
    await this.#pulling?.catch(ignore);
    await this.#writing?.catch(ignore);
  }
}

class DenoListener implements Listener {
  readonly address: NetAddress;
  readonly #listener: Deno.TcpListener;
  readonly #readBufferSize: number;
  readonly #accepting = new Set<Promise<Deno.TcpConn>>();
  #closing: Promise<void> | undefined;
  #closed = false;

  constructor(listener: Deno.TcpListener, readBufferSize: number) {
    this.#listener = listener;
    this.#readBufferSize = readBufferSize;
    this.address = netAddress(listener.addr);
  }

  async accept(): Promise<Connection | null> {
    if (this.#closed) return null;
    const pending = this.#listener.accept();
    this.#accepting.add(pending);
    let conn: Deno.TcpConn;
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
    conn.setNoDelay(true);
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
   * and doubles it, up to this size, whenever a read fills it. Default 64 KiB.
   */
  readonly readBufferSize?: number;
}

/**
 * TCP for Deno. `listen` binds with `Deno.listen` (a port in use rejects
 * with `BindError`, `addressInUse` set); `connect` dials with `Deno.connect`
 * (refused, unreachable, timed out or aborted rejects with `ConnectError`,
 * e.g. `Connection refused: 127.0.0.1:9069`). Nagle is off on every
 * connection.
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
 */
export class DenoTransport implements Transport {
  /** Always `deno`. */
  readonly name: string = "deno";
  readonly #readBufferSize: number;

  /**
   * Creates a transport.
   *
   * @param options The read buffer size.
   */
  constructor(options: DenoTransportOptions = {}) {
    const size = options.readBufferSize ?? DEFAULT_READ_BUFFER_SIZE;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`readBufferSize must be a positive integer, got ${size}`);
    }
    this.#readBufferSize = size;
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
    try {
      checkPort(address.port);
      const listener = Deno.listen({
        hostname: address.hostname,
        port: address.port,
        transport: "tcp",
      });
      return Promise.resolve(new DenoListener(listener, this.#readBufferSize));
    } catch (e) {
      return Promise.reject(bindError(e, address.hostname, address.port));
    }
  }

  /**
   * Opens a TCP connection.
   *
   * @param options Where to, and an optional signal that aborts the attempt.
   * @returns The connection.
   * @throws {TypeError} When the port is not an integer in 0..65535.
   * @throws {ConnectError} When the connection cannot be made or is aborted.
   */
  async connect(options: ConnectOptions): Promise<Connection> {
    const { hostname, port, signal } = options;
    let conn: Deno.TcpConn;
    checkPort(port);
    try {
      signal?.throwIfAborted();
      conn = await Deno.connect({ hostname, port, transport: "tcp", signal });
    } catch (e) {
      throw connectError(e, hostname, port, signal);
    }
    conn.setNoDelay(true);
    return new DenoConnection(conn, this.#readBufferSize);
  }
}

/**
 * The default {@linkcode DenoTransport} (64 KiB read buffers).
 *
 * @example
 * ```ts
 * import { denoTransport } from "@kvstate/queryable-state/deno";
 *
 * denoTransport.name; // => "deno"
 * ```
 */
export const denoTransport: DenoTransport = new DenoTransport();
