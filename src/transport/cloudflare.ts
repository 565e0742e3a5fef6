/**
 * The Cloudflare Workers transport: the client side over `connect()` from
 * `cloudflare:sockets` (Workers' outbound TCP), so that a Worker can query a
 * Flink Queryable State proxy, e.g. with the HTTP gateway of the `./http`
 * export as its `fetch` handler. A Worker cannot listen for connections:
 * `listen` rejects with {@linkcode BindError} and says so.
 *
 * The socket's `readable` and `writable` are the connection's streams as
 * they are (a connection closes its writable to half-close, as the sockets
 * are opened with `allowHalfOpen`); `close()` closes the socket. The
 * addresses are what the socket reports once open: the remote one, else the
 * address asked for; the local one, else `0.0.0.0:0` (Workers do not tell).
 *
 * Workers' rule: an I/O object (a socket) belongs to the request that made
 * it and cannot be used by another. So make the `QueryableStateClient` in
 * each request's `fetch`, and close it before the response is done (or
 * with `ctx.waitUntil`): a client kept in a global across requests fails
 * ("Cannot perform I/O on behalf of a different request"). The gateway's
 * `/watch` route streams after `fetch` returns, so it does not work with a
 * client closed there.
 *
 * `cloudflare:sockets` is loaded on the first `connect`, with a dynamic
 * import, so this module also loads (and fails only on `connect`) outside
 * Workers; a `connect` function may be given instead (tests do).
 *
 * @example A Worker whose fetch is the HTTP gateway (plain JavaScript, a client per request)
 * ```js ignore
 * import { QueryableStateClient } from "@kvstate/queryable-state";
 * import { cloudflareTransport } from "@kvstate/queryable-state/cloudflare";
 * import { createQueryHandler } from "@kvstate/queryable-state/http";
 *
 * export default {
 *   async fetch(request, env) {
 *     const client = new QueryableStateClient({
 *       transport: cloudflareTransport,
 *       proxy: env.FLINK_PROXY, // e.g. "flink-proxy.example.com:9069"
 *     });
 *     try {
 *       return await createQueryHandler({ client })(request);
 *     } finally {
 *       await client.close();
 *     }
 *   },
 * };
 * ```
 *
 * @example A Worker cannot listen: the typed error says so
 * ```ts
 * import { BindError } from "@kvstate/queryable-state";
 * import { cloudflareTransport } from "@kvstate/queryable-state/cloudflare";
 *
 * const failure = await cloudflareTransport
 *   .listen({ hostname: "127.0.0.1", port: 9069 })
 *   .catch((e: unknown) => e);
 * failure instanceof BindError; // => true
 * (failure as BindError).message.includes("Cloudflare Workers cannot listen"); // => true
 * ```
 *
 * @module
 */

import { BindError, ConnectError } from "../wire/errors.ts";
import { checkPort, formatAddress } from "./net_address.ts";
import type { Connection, ConnectOptions, Listener, NetAddress, Transport } from "./types.ts";

/** The transport interface and the errors its signatures name (the same as `.`'s). */
export * from "./adapter_exports.ts";

/** Default time a connection may take to open, in ms. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Where the local address is not reported. */
const UNKNOWN_LOCAL: NetAddress = Object.freeze({ hostname: "0.0.0.0", port: 0 });

/**
 * What `socket.opened` resolves to in `cloudflare:sockets`: the addresses,
 * as `host:port` text, where the runtime tells them.
 *
 * @example
 * ```ts
 * import type { CloudflareSocketInfo } from "@kvstate/queryable-state/cloudflare";
 *
 * const info: CloudflareSocketInfo = { remoteAddress: "10.0.0.2:9069" };
 * info.localAddress; // => undefined
 * ```
 */
export interface CloudflareSocketInfo {
  /** The peer, e.g. `10.0.0.2:9069` or `[::1]:9069`. */
  readonly remoteAddress?: string;
  /** This side, when reported. */
  readonly localAddress?: string;
}

/**
 * The part of a `cloudflare:sockets` `Socket` this transport uses.
 *
 * @example A stand-in socket whose peer echoes
 * ```ts
 * import type { CloudflareSocket } from "@kvstate/queryable-state/cloudflare";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const socket: CloudflareSocket = {
 *   readable: pipe.readable,
 *   writable: pipe.writable,
 *   opened: Promise.resolve({ remoteAddress: "10.0.0.2:9069" }),
 *   close: () => Promise.resolve(),
 * };
 * (await socket.opened).remoteAddress; // => "10.0.0.2:9069"
 * ```
 */
export interface CloudflareSocket {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; closing it half-closes (with `allowHalfOpen`). */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the connection is open; rejects when it cannot be made. */
  readonly opened: Promise<CloudflareSocketInfo>;
  /** Closes both directions; resolves once closed. */
  close(): Promise<void>;
}

/**
 * The options of `connect()` in `cloudflare:sockets` that this transport sets.
 *
 * @example
 * ```ts
 * import type { CloudflareSocketOptions } from "@kvstate/queryable-state/cloudflare";
 *
 * const options: CloudflareSocketOptions = { secureTransport: "off", allowHalfOpen: true };
 * options.allowHalfOpen; // => true
 * ```
 */
export interface CloudflareSocketOptions {
  /** `off`: plain TCP (the transport always asks for it). */
  readonly secureTransport?: "off" | "on" | "starttls";
  /** Keep the writable open when the peer ends its side (the transport asks for it). */
  readonly allowHalfOpen?: boolean;
}

/**
 * `connect()` of `cloudflare:sockets`, or a stand-in with its shape.
 *
 * @example
 * ```ts
 * import type { CloudflareConnect } from "@kvstate/queryable-state/cloudflare";
 *
 * const refuse: CloudflareConnect = () => {
 *   throw new Error("no sockets here");
 * };
 * typeof refuse; // => "function"
 * ```
 */
export type CloudflareConnect = (
  address: NetAddress,
  options?: CloudflareSocketOptions,
) => CloudflareSocket;

/**
 * Options of {@linkcode CloudflareTransport}.
 *
 * @example
 * ```ts
 * import {
 *   CloudflareTransport,
 *   type CloudflareTransportOptions,
 * } from "@kvstate/queryable-state/cloudflare";
 *
 * const options: CloudflareTransportOptions = { connectTimeoutMs: 3_000 };
 * new CloudflareTransport(options).name; // => "cloudflare"
 * ```
 */
export interface CloudflareTransportOptions {
  /**
   * The function that opens sockets. Default: `connect` from
   * `cloudflare:sockets`, imported on the first `connect` (outside Workers
   * that import fails, and `connect` rejects with `ConnectError`).
   */
  readonly connect?: CloudflareConnect;
  /**
   * How long a connection may take to open, in ms, after which `connect`
   * rejects with `ConnectError` ("timed out") and the socket is closed.
   * Default 10,000; 0 for no limit (the client's own `connectTimeoutMs`,
   * also 10 s by default, still applies through the abort signal).
   */
  readonly connectTimeoutMs?: number;
}

/** `host:port` or `[v6]:port` as a {@linkcode NetAddress}; `undefined` when it is neither. */
function parseAddress(text: string | undefined): NetAddress | undefined {
  if (typeof text !== "string") return undefined;
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535 || colon + 1 === text.length) {
    return undefined;
  }
  let hostname = text.slice(0, colon);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  return hostname === "" ? undefined : { hostname, port };
}

/** `cloudflare:sockets`' connect, imported once per isolate. */
let socketsModule: Promise<CloudflareConnect> | undefined;

function loadSocketsConnect(): Promise<CloudflareConnect> {
  return socketsModule ??= import("cloudflare:sockets").then(
    (mod: { connect?: unknown }) => {
      if (typeof mod.connect !== "function") {
        throw new TypeError("cloudflare:sockets has no connect()");
      }
      return mod.connect as CloudflareConnect;
    },
  ).catch((e: unknown) => {
    socketsModule = undefined;
    throw new ConnectError(
      "cloudflare:sockets is not available: CloudflareTransport runs on Cloudflare Workers " +
        `(workerd); elsewhere use the Deno or Node transport (${(e as Error)?.message ?? e})`,
      { cause: e },
    );
  });
}

/** A socket of `cloudflare:sockets` as a {@linkcode Connection}. */
class CloudflareConnection implements Connection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddress: NetAddress;
  readonly remoteAddress: NetAddress;
  readonly #socket: CloudflareSocket;
  #closing: Promise<void> | undefined;

  constructor(socket: CloudflareSocket, info: CloudflareSocketInfo, asked: NetAddress) {
    this.#socket = socket;
    this.readable = socket.readable;
    this.writable = socket.writable;
    this.remoteAddress = parseAddress(info?.remoteAddress) ??
      { hostname: asked.hostname, port: asked.port };
    this.localAddress = parseAddress(info?.localAddress) ?? UNKNOWN_LOCAL;
  }

  close(): Promise<void> {
    return this.#closing ??= this.#socket.close().catch(() => {});
  }
}

/**
 * The client side of TCP on Cloudflare Workers, over `connect()` from
 * `cloudflare:sockets`. `connect` opens a plain TCP socket (half-open
 * capable) and resolves once it is open; refused, unreachable, blocked,
 * timed out (`connectTimeoutMs`) or aborted (the `signal`) rejects with
 * `ConnectError`, e.g. `Connection failed: 10.0.0.2:9069: ...`, and the
 * socket is closed. `keepAlive` is ignored (Workers offer no socket
 * options). `listen` rejects with `BindError`: Workers cannot listen.
 *
 * Make the client that uses it per request (see the module doc).
 *
 * @example Connect through a stand-in `connect` (on Workers, leave it out)
 * ```ts
 * import { CloudflareTransport } from "@kvstate/queryable-state/cloudflare";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>(); // a peer that echoes
 * const transport = new CloudflareTransport({
 *   connect: () => ({
 *     readable: pipe.readable,
 *     writable: pipe.writable,
 *     opened: Promise.resolve({ remoteAddress: "10.0.0.2:9069" }),
 *     close: () => Promise.resolve(),
 *   }),
 * });
 * const conn = await transport.connect({ hostname: "flink-proxy", port: 9069 });
 * conn.remoteAddress; // => { hostname: "10.0.0.2", port: 9069 }
 * const reply = new Response(conn.readable).text();
 * const writer = conn.writable.getWriter();
 * await writer.write(new TextEncoder().encode("ping"));
 * await writer.close();
 * await reply; // => "ping"
 * await conn.close();
 * ```
 */
export class CloudflareTransport implements Transport {
  /** Always `cloudflare`. */
  readonly name: string = "cloudflare";
  readonly #connect: CloudflareConnect | undefined;
  readonly #connectTimeoutMs: number;

  /**
   * Creates a transport.
   *
   * @param options The `connect` function and the connect timeout.
   * @throws {RangeError} When `connectTimeoutMs` is negative or not a number.
   */
  constructor(options: CloudflareTransportOptions = {}) {
    const timeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!(timeout >= 0)) throw new RangeError(`connectTimeoutMs must be >= 0, got ${timeout}`);
    this.#connectTimeoutMs = timeout;
    this.#connect = options.connect;
  }

  /** The connect timeout in ms (0: none). */
  get connectTimeoutMs(): number {
    return this.#connectTimeoutMs;
  }

  /**
   * Always rejects: a Cloudflare Worker cannot accept TCP connections.
   * Run the proxy and the server elsewhere (Deno, Node, Bun) and query them
   * from the Worker.
   *
   * @param address The address that was asked for (named in the error).
   * @returns Never resolves.
   * @throws {BindError} Always, `addressInUse` false.
   */
  listen(address: NetAddress): Promise<Listener> {
    return Promise.reject(
      new BindError(
        `Cloudflare Workers cannot listen for TCP connections ` +
          `(asked for ${formatAddress(address.hostname, address.port)}): ` +
          "use this transport for clients only",
        false,
      ),
    );
  }

  /**
   * Opens a TCP connection with `connect()` of `cloudflare:sockets`.
   *
   * @param options Where to, and an optional signal that aborts the attempt.
   * @returns The connection, once open.
   * @throws {TypeError} When the port is not an integer in 0..65535.
   * @throws {ConnectError} When the connection cannot be made, times out or
   * is aborted, or `cloudflare:sockets` is not available.
   */
  async connect(options: ConnectOptions): Promise<Connection> {
    const { hostname, port, signal } = options;
    checkPort(port);
    const where = formatAddress(hostname, port);
    if (signal?.aborted) throw abortedError(where, signal);
    const connect = this.#connect ?? await loadSocketsConnect();
    if (signal?.aborted) throw abortedError(where, signal);
    let socket: CloudflareSocket;
    try {
      socket = connect({ hostname, port }, { secureTransport: "off", allowHalfOpen: true });
    } catch (e) {
      throw new ConnectError(`Connection failed: ${where}: ${(e as Error)?.message ?? e}`, {
        cause: e,
      });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const info = await new Promise<CloudflareSocketInfo>((resolve, reject) => {
        if (signal !== undefined) {
          onAbort = () => reject(abortedError(where, signal));
          signal.addEventListener("abort", onAbort, { once: true });
        }
        const ms = this.#connectTimeoutMs;
        if (ms > 0) {
          timer = setTimeout(
            () => reject(new ConnectError(`Connection timed out after ${ms} ms: ${where}`)),
            ms,
          );
        }
        socket.opened.then(resolve, (e: unknown) =>
          reject(
            new ConnectError(`Connection failed: ${where}: ${(e as Error)?.message ?? e}`, {
              cause: e,
            }),
          ));
      });
      return new CloudflareConnection(socket, info, { hostname, port });
    } catch (e) {
      await socket.close().catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort);
    }
  }
}

function abortedError(where: string, signal: AbortSignal): ConnectError {
  const reason = signal.reason;
  const timedOut = reason instanceof Error && reason.name === "TimeoutError";
  return new ConnectError(`Connection ${timedOut ? "timed out" : "aborted"}: ${where}`, {
    cause: reason,
  });
}

/**
 * The default {@linkcode CloudflareTransport}: `connect` from
 * `cloudflare:sockets`, 10 s connect timeout.
 *
 * @example
 * ```ts
 * import { cloudflareTransport } from "@kvstate/queryable-state/cloudflare";
 *
 * cloudflareTransport.name; // => "cloudflare"
 * cloudflareTransport.connectTimeoutMs; // => 10000
 * ```
 */
export const cloudflareTransport: CloudflareTransport = new CloudflareTransport();
