/**
 * The transport interface: the only thing the protocol core knows about
 * sockets. A runtime adapter (Deno, Node) or the in-memory pair implements
 * it; everything above works on the web streams of a {@linkcode Connection}.
 *
 * @module
 */

/** A network endpoint. */
export interface NetAddress {
  /** The host name or IP address. */
  readonly hostname: string;
  /** The TCP port. */
  readonly port: number;
}

/**
 * One bidirectional byte connection.
 *
 * `readable` yields the bytes the peer sent, each chunk a fresh array that
 * the consumer may keep (the adapter never reuses a chunk's memory after
 * enqueueing it). `writable` sends bytes and applies backpressure: its writes
 * resolve only once the bytes are handed to the operating system (or the
 * peer, in memory), so a slow peer slows the writer instead of filling memory.
 */
export interface Connection {
  /** Bytes from the peer. Ends when the peer closes its side. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. Closing it half-closes the connection (FIN). */
  readonly writable: WritableStream<Uint8Array>;
  /** This side's address. */
  readonly localAddress: NetAddress;
  /** The peer's address. */
  readonly remoteAddress: NetAddress;
  /**
   * Closes both directions at once, abandoning unsent bytes. Idempotent;
   * resolves when the underlying resource is released. Pending reads end,
   * pending writes reject.
   */
  close(): Promise<void>;
}

/** A bound server socket. */
export interface Listener extends AsyncIterable<Connection> {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: NetAddress;
  /**
   * Waits for the next connection; `null` once the listener is closed.
   */
  accept(): Promise<Connection | null>;
  /** Stops accepting and releases the port. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@linkcode Transport.connect}. */
export interface ConnectOptions extends NetAddress {
  /** Aborts the connection attempt. */
  readonly signal?: AbortSignal;
}

/**
 * A way to listen and connect. Implementations map their runtime's failures
 * to the module's typed errors: a failed connect rejects with `ConnectError`,
 * a failed bind with `BindError` (with `addressInUse` set when the port is
 * taken).
 */
export interface Transport {
  /** A short name for diagnostics, e.g. `deno`, `node`, `memory`. */
  readonly name: string;
  /**
   * Binds one address.
   *
   * @param address Host and port (0 for any free port).
   */
  listen(address: NetAddress): Promise<Listener>;
  /**
   * Opens a connection.
   *
   * @param options Where to, and an optional abort signal.
   */
  connect(options: ConnectOptions): Promise<Connection>;
}
