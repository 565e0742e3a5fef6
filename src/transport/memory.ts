/**
 * An in-memory transport: connection pairs whose bytes never leave the
 * process, and a virtual network of listeners reachable by port. For tests
 * and for running a whole server, proxy and client in one isolate (an edge
 * function, a test harness). Web-standard only.
 *
 * Each direction is a bounded pipe: a write resolves at once while the
 * reader's queue holds less than the high-water mark, otherwise when the
 * reader takes data. Written bytes are copied, so the writer may reuse its
 * buffer once a write resolved and the reader may keep the chunks it reads.
 *
 * @module
 */

import { BindError, ConnectError, ConnectionClosedError } from "../wire/errors.ts";
import { checkPort, formatAddress } from "./net_address.ts";
import type { Connection, ConnectOptions, Listener, NetAddress, Transport } from "./types.ts";

/** Default bytes a pipe buffers before a write waits for the reader. */
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

function endReadable(rc: ReadableByteStreamController): void {
  try {
    rc.close();
    // A BYOB read in progress must be answered for the close to reach it.
    rc.byobRequest?.respond(0);
  } catch {
    // Already closed, errored or cancelled.
  }
}

/** One direction: a writable on one side feeding a readable on the other. */
class Pipe {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #rc!: ReadableByteStreamController;
  #wc!: WritableStreamDefaultController;
  /** Set once the connection is closed: writes reject with it. */
  #broken: Error | null = null;
  /** The reader cancelled: bytes written from now on are dropped. */
  #cancelled = false;
  #waitResolve: (() => void) | null = null;
  #waitReject: ((e: Error) => void) | null = null;
  /** What aborting the writable does: close the writer's connection. */
  onAbort: () => void = () => {};

  constructor(highWaterMark: number) {
    this.readable = new ReadableStream({
      type: "bytes",
      start: (c) => {
        this.#rc = c;
      },
      pull: () => this.#wake(),
      cancel: () => {
        this.#cancelled = true;
        this.#wake();
      },
    }, { highWaterMark });
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => {
        this.#wc = c;
      },
      write: (chunk) => this.#write(chunk),
      close: () => {
        if (this.#broken !== null) throw this.#broken;
        endReadable(this.#rc);
      },
      abort: () => this.onAbort(),
    });
  }

  #write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#broken !== null) throw this.#broken;
    if (this.#cancelled || chunk.byteLength === 0) return;
    // Copy: the writer may reuse its buffer, the reader may keep the chunk.
    this.#rc.enqueue(chunk.slice());
    if (this.#rc.desiredSize! > 0) return;
    return new Promise<void>((resolve, reject) => {
      this.#waitResolve = resolve;
      this.#waitReject = reject;
    });
  }

  #wake(): void {
    const resolve = this.#waitResolve;
    if (resolve !== null) {
      this.#waitResolve = this.#waitReject = null;
      resolve();
    }
  }

  /** The connection closed: the reader sees the end, the writer errors. */
  shutdown(writerError: Error): void {
    if (this.#broken !== null) return;
    this.#broken = writerError;
    const reject = this.#waitReject;
    this.#waitResolve = this.#waitReject = null;
    this.#wc.error(writerError);
    reject?.(writerError);
    endReadable(this.#rc);
  }
}

class MemoryConnection implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddress: NetAddress;
  readonly remoteAddress: NetAddress;
  readonly #in: Pipe;
  readonly #out: Pipe;
  #closed = false;

  constructor(
    incoming: Pipe,
    outgoing: Pipe,
    localAddress: NetAddress,
    remoteAddress: NetAddress,
  ) {
    this.#in = incoming;
    this.#out = outgoing;
    this.readable = incoming.readable;
    this.writable = outgoing.writable;
    outgoing.onAbort = () => void this.close();
    this.localAddress = localAddress;
    this.remoteAddress = remoteAddress;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#out.shutdown(new ConnectionClosedError("Connection closed"));
      this.#in.shutdown(new ConnectionClosedError("Connection reset by peer"));
    }
    return Promise.resolve();
  }
}

/**
 * Options of {@linkcode memoryConnectionPair}.
 *
 * @example
 * ```ts
 * import { memoryConnectionPair, type MemoryConnectionPairOptions } from "@kvstate/queryable-state";
 *
 * const options: MemoryConnectionPairOptions = {
 *   first: { hostname: "10.0.0.1", port: 40000 },
 *   second: { hostname: "10.0.0.2", port: 9069 },
 *   highWaterMark: 1024,
 * };
 * const [client, server] = memoryConnectionPair(options);
 * client.remoteAddress; // => { hostname: "10.0.0.2", port: 9069 }
 * await client.close();
 * await server.close();
 * ```
 */
export interface MemoryConnectionPairOptions {
  /** The first connection's local address (the second's remote one). */
  readonly first?: NetAddress;
  /** The second connection's local address (the first's remote one). */
  readonly second?: NetAddress;
  /**
   * Bytes each direction buffers before a write waits for the reader.
   * Default 64 KiB.
   */
  readonly highWaterMark?: number;
}

/**
 * Two connected in-memory {@linkcode Connection}s: the bytes written on one
 * are read on the other. Each direction is bounded (a write resolves only
 * while the reader's queue is under the high-water mark, or once the reader
 * took data). Closing a `writable` half-closes (the peer reads the end);
 * aborting it, or `close()`, ends both directions for both sides: pending
 * reads end, pending and later writes reject with `ConnectionClosedError`.
 *
 * @example Echo through a pair
 * ```ts
 * import { memoryConnectionPair } from "@kvstate/queryable-state";
 *
 * const [client, server] = memoryConnectionPair();
 * const echo = server.readable.pipeTo(server.writable); // the server echoes
 * const writer = client.writable.getWriter();
 * await writer.write(new Uint8Array([1, 2, 3]));
 * await writer.close(); // half-close: the server's readable ends, so does its echo
 * const reader = client.readable.getReader();
 * (await reader.read()).value; // => Uint8Array(3) [ 1, 2, 3 ]
 * (await reader.read()).done; // => true
 * await echo;
 * await client.close();
 * await server.close();
 * ```
 *
 * @param options Addresses and buffer size.
 * @returns The two ends.
 */
export function memoryConnectionPair(
  options: MemoryConnectionPairOptions = {},
): [Connection, Connection] {
  const hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  if (!(hwm >= 0)) throw new RangeError(`highWaterMark must be >= 0, got ${hwm}`);
  const first = options.first ?? { hostname: "memory", port: 1 };
  const second = options.second ?? { hostname: "memory", port: 2 };
  return pair(hwm, first, second);
}

function pair(
  hwm: number,
  first: NetAddress,
  second: NetAddress,
): [MemoryConnection, MemoryConnection] {
  const ab = new Pipe(hwm);
  const ba = new Pipe(hwm);
  return [
    new MemoryConnection(ba, ab, first, second),
    new MemoryConnection(ab, ba, second, first),
  ];
}

/**
 * Options of {@linkcode MemoryTransport}.
 *
 * @example
 * ```ts
 * import { MemoryTransport, type MemoryTransportOptions } from "@kvstate/queryable-state";
 *
 * const options: MemoryTransportOptions = { highWaterMark: 16 * 1024, backlog: 64 };
 * new MemoryTransport(options).name; // => "memory"
 * ```
 */
export interface MemoryTransportOptions {
  /** Bytes each direction of a connection buffers. Default 64 KiB. */
  readonly highWaterMark?: number;
  /**
   * Connections a listener queues before it refuses more (they wait for
   * `accept()`). Default 511.
   */
  readonly backlog?: number;
}

const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);
const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

function reaches(listenHost: string, targetHost: string): boolean {
  if (WILDCARDS.has(listenHost) || listenHost === targetHost) return true;
  return LOOPBACK.has(listenHost) && LOOPBACK.has(targetHost);
}

class MemoryListener implements Listener {
  readonly address: NetAddress;
  readonly #backlog: number;
  readonly #release: () => void;
  readonly #queue: MemoryConnection[] = [];
  readonly #waiters: ((c: Connection | null) => void)[] = [];
  #closed = false;

  constructor(address: NetAddress, backlog: number, release: () => void) {
    this.address = address;
    this.#backlog = backlog;
    this.#release = release;
  }

  /** @internal Hands an incoming connection over; false when the backlog is full. */
  offer(conn: MemoryConnection): boolean {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter(conn);
      return true;
    }
    if (this.#queue.length >= this.#backlog) return false;
    this.#queue.push(conn);
    return true;
  }

  accept(): Promise<Connection | null> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    for (const w of this.#waiters.splice(0)) w(null);
    await Promise.all(this.#queue.splice(0).map((c) => c.close()));
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
 * A virtual network in memory: `listen` registers a listener under a port
 * (0 picks a free one), `connect` reaches the listener on that port or
 * rejects with `ConnectError` (`Connection refused: host:port`). A listener
 * on `0.0.0.0`/`::` is reached under any host name, one on a loopback name
 * (`localhost`, `127.0.0.1`, `::1`) under any loopback name. Each instance is
 * its own network. Web APIs only, so it runs anywhere.
 *
 * @example A server and a client in one isolate
 * ```ts
 * import { MemoryTransport } from "@kvstate/queryable-state";
 *
 * const net = new MemoryTransport();
 * const listener = await net.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await net.connect({ hostname: "127.0.0.1", port: listener.address.port });
 * const server = (await listener.accept())!;
 * server.remoteAddress.port === client.localAddress.port; // => true
 * await client.close();
 * await server.close();
 * await listener.close();
 * ```
 */
export class MemoryTransport implements Transport {
  /** Always `memory`. */
  readonly name: string = "memory";
  readonly #hwm: number;
  readonly #backlog: number;
  readonly #listeners = new Map<number, MemoryListener>();
  #nextListenPort = 49152;
  #nextClientPort = 32768;

  /**
   * Creates an empty network.
   *
   * @param options Buffer size and backlog.
   */
  constructor(options: MemoryTransportOptions = {}) {
    this.#hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.#backlog = options.backlog ?? 511;
    if (!(this.#hwm >= 0)) throw new RangeError(`highWaterMark must be >= 0, got ${this.#hwm}`);
    if (!(this.#backlog >= 1)) throw new RangeError(`backlog must be >= 1, got ${this.#backlog}`);
  }

  /**
   * Registers a listener.
   *
   * @param address Host and port; port 0 picks a free port.
   * @returns The listener.
   * @throws {TypeError} When the port is not an integer in 0..65535.
   * @throws {BindError} With `addressInUse` when the port is taken.
   */
  listen(address: NetAddress): Promise<Listener> {
    try {
      checkPort(address.port);
      let port = address.port;
      if (port === 0) port = this.#freePort(address);
      else if (this.#listeners.has(port)) {
        throw new BindError(
          `Address already in use: ${formatAddress(address.hostname, address.port)}`,
          true,
        );
      }
      const listener = new MemoryListener(
        { hostname: address.hostname, port },
        this.#backlog,
        () => {
          if (this.#listeners.get(port) === listener) this.#listeners.delete(port);
        },
      );
      this.#listeners.set(port, listener);
      return Promise.resolve(listener);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #freePort(address: NetAddress): number {
    for (let i = 0; i < 16384; i++) {
      const port = this.#nextListenPort;
      this.#nextListenPort = port === 65535 ? 49152 : port + 1;
      if (!this.#listeners.has(port)) return port;
    }
    throw new BindError(`No free port: ${formatAddress(address.hostname, address.port)}`, true);
  }

  /**
   * Connects to the listener on `options.port`.
   *
   * @param options Where to, and an optional abort signal.
   * @returns The client's end of the connection.
   * @throws {TypeError} When the port is not an integer in 0..65535.
   * @throws {ConnectError} When no listener is reachable there, its backlog
   * is full, or the signal is aborted.
   */
  connect(options: ConnectOptions): Promise<Connection> {
    const target = { hostname: options.hostname, port: options.port };
    try {
      checkPort(target.port);
    } catch (e) {
      return Promise.reject(e);
    }
    if (options.signal?.aborted) {
      const reason = options.signal.reason;
      const what = reason instanceof Error && reason.name === "TimeoutError"
        ? "timed out"
        : "aborted";
      return Promise.reject(
        new ConnectError(`Connection ${what}: ${formatAddress(target.hostname, target.port)}`, {
          cause: reason,
        }),
      );
    }
    const listener = this.#listeners.get(options.port);
    if (listener === undefined || !reaches(listener.address.hostname, options.hostname)) {
      return Promise.reject(
        new ConnectError(`Connection refused: ${formatAddress(target.hostname, target.port)}`),
      );
    }
    const clientPort = this.#nextClientPort;
    this.#nextClientPort = clientPort === 60999 ? 32768 : clientPort + 1;
    const local = { hostname: options.hostname, port: clientPort };
    const [client, server] = pair(this.#hwm, local, target);
    if (!listener.offer(server)) {
      return Promise.reject(
        new ConnectError(
          `Connection refused: ${formatAddress(target.hostname, target.port)} (backlog full)`,
        ),
      );
    }
    return Promise.resolve(client);
  }
}
