/**
 * The transport interface: the only thing the protocol core knows about
 * sockets. A runtime adapter (Deno, Node) or the in-memory pair implements
 * it; everything above works on the web streams of a {@linkcode Connection},
 * or, where an adapter offers it, on the same bytes through the callbacks of
 * {@linkcode Connection.direct} (the hot path under the streams: no promise
 * or stream hop per chunk).
 *
 * @module
 */

export type { TlsClientOptions, TlsServerOptions } from "./tls_options.ts";

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
  /**
   * Optional: the direct path, for code that moves many small chunks and
   * cannot pay a promise and a stream hop per chunk (the server and client
   * of this module use it when offered). It hands the connection's bytes to
   * `handler` as they are read and returns the controls for writing and
   * flow control. It may be taken once, and only while neither `readable`
   * nor `writable` has been used; afterwards both streams are locked.
   *
   * @param handler Receives the bytes, the end and the drain events.
   * @returns The controls.
   * @throws {TypeError} When the streams are in use or the direct path was
   * taken already.
   */
  direct?(handler: DirectHandler): DirectChannel;
}

/**
 * The receiving side of {@linkcode Connection.direct}. The adapter calls it
 * from its event loop turns, never re-entrantly from a `DirectChannel` call.
 *
 * @example Count the bytes of a connection
 * ```ts
 * import type { DirectHandler } from "@kvstate/queryable-state";
 *
 * let received = 0;
 * const handler: DirectHandler = {
 *   data(chunk) {
 *     received += chunk.length;
 *   },
 *   end(error) {
 *     if (error !== undefined) console.error(error);
 *   },
 *   drain() {},
 * };
 * handler.data(new Uint8Array(3));
 * received; // => 3
 * ```
 */
export interface DirectHandler {
  /**
   * Bytes from the peer, in order. The chunk is the handler's to keep: the
   * adapter never writes to its memory again.
   */
  data(chunk: Uint8Array): void;
  /**
   * Reading is over, once and for good: `undefined` when the peer closed its
   * side or the connection was closed locally, otherwise the error
   * (`ConnectionClosedError`, e.g. a reset, or a failed write; `TlsError`
   * when TLS ended it, e.g. a failed server-side handshake or the peer's
   * alert). No `data` follows.
   */
  end(error?: unknown): void;
  /**
   * After a `write` that returned `false`: the adapter takes writes again.
   * Also called when the connection closes, so that a writer waiting for it
   * learns (its next `write` throws).
   */
  drain(): void;
}

/**
 * The controls of {@linkcode Connection.direct}.
 *
 * @example An echo server on the direct path
 * ```ts
 * import type { DirectChannel } from "@kvstate/queryable-state";
 * import { denoTransport } from "@kvstate/queryable-state/deno";
 *
 * const listener = await denoTransport.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const client = await denoTransport.connect({ hostname: "127.0.0.1", port: listener.address.port });
 * const server = (await accepted)!;
 * // Each chunk goes straight back; when the adapter asks, wait for drain.
 * const io: DirectChannel = server.direct!({
 *   data(chunk) {
 *     if (!io.write(chunk)) io.pause();
 *   },
 *   end() {
 *     io.closeWrite().catch(() => {});
 *   },
 *   drain() {
 *     io.resume();
 *   },
 * });
 * const writer = client.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * await writer.close();
 * await new Response(client.readable).text(); // => "ping"
 * await client.close();
 * await server.close();
 * await listener.close();
 * ```
 */
export interface DirectChannel {
  /**
   * Sends bytes; they must not be modified afterwards. Returns whether the
   * adapter takes more now: after `false`, hold further bytes until the
   * handler's `drain` (the bytes given are sent in any case).
   *
   * @throws {ConnectionClosedError} When the connection is closed or failed.
   */
  write(bytes: Uint8Array): boolean;
  /**
   * Sends what is written, then half-closes (FIN).
   *
   * @returns Resolves once the bytes are handed to the operating system.
   */
  closeWrite(): Promise<void>;
  /** Stops the `data` calls until `resume` (TCP then slows the peer). */
  pause(): void;
  /** Restarts the `data` calls. */
  resume(): void;
}

/** A bound server socket. */
export interface Listener extends AsyncIterable<Connection> {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: NetAddress;
  /**
   * Waits for the next connection; `null` once the listener is closed.
   * Rejects when accepting fails (e.g. out of file descriptors: the
   * runtime's error, with `code` `EMFILE` or `ENFILE`); the listener stays
   * open, so the caller may back off and call again.
   */
  accept(): Promise<Connection | null>;
  /** Stops accepting and releases the port. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@linkcode Transport.connect}. */
export interface ConnectOptions extends NetAddress {
  /** Aborts the connection attempt. */
  readonly signal?: AbortSignal;
  /**
   * Turns TCP keepalive on for the connection, where the runtime allows
   * (a dead peer is then noticed even when no request is in flight), with
   * the system's timing (on Linux, first probe after 2 hours idle unless
   * `net.ipv4.tcp_keepalive_time` says otherwise). Default `false`; the
   * module's clients ask for it. The Deno adapter cannot apply it to TLS
   * connections opened with a client certificate (`Deno.connectTls`).
   */
  readonly keepAlive?: boolean;
}

/**
 * A way to listen and connect. Implementations map their runtime's failures
 * to the module's typed errors: a failed connect rejects with `ConnectError`
 * (`TlsError`, a subclass, when a TLS handshake failed), a failed bind with
 * `BindError` (with `addressInUse` set when the port is taken).
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
