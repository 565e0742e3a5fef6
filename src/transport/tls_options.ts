/**
 * The TLS options of the socket transports, in web-standard terms (PEM
 * text, no runtime types), and their checks. Plaintext is the default
 * everywhere: Flink's own clients and servers speak plaintext. A transport
 * serves TLS when given {@linkcode TlsServerOptions} (`listenTls`) and
 * speaks TLS to the servers it dials when given {@linkcode TlsClientOptions}
 * (`connectTls`); the two are independent, so one process can take TLS from
 * its clients and speak plaintext upstream, or the reverse, with two
 * transport instances.
 *
 * What each adapter supports (Deno 2.9, Node 20+):
 *
 * | feature | `DenoTransport` | `NodeTransport` (Node, or Deno's Node layer) |
 * |---|---|---|
 * | serve TLS (`cert`, `key`) | yes (`Deno.listenTls`) | yes (`node:tls`) |
 * | require client certificates (`clientCa`) | no: `Deno.listenTls` cannot ask for them; the constructor throws | yes |
 * | trust (`ca`) | added to Deno's default roots | replaces Node's default roots |
 * | default trust (no `ca`) | Deno's roots (Mozilla's, or the system's with `DENO_TLS_CA_STORE=system`) | Node's bundled Mozilla roots (plus `NODE_EXTRA_CA_CERTS`) |
 * | client certificate (`cert`, `key`) | yes (`Deno.connectTls`) | yes |
 * | `serverName` | yes, without a client certificate (`Deno.startTls`) | yes |
 * | Nagle off, keepalive | dialled without a client certificate: yes; served, or dialled with one: no (Deno offers no socket options on TLS connections) | yes |
 * | direct path (`Connection.direct`) | yes | yes |
 * | a client that never starts its handshake | failed after the timeout, but Deno keeps its socket open until it leaves | disconnected after the timeout |
 * | write backpressure over TLS | yes | yes on Node; not under Deno's Node layer |
 *
 * @example Options for a server and for its clients
 * ```ts
 * import type { TlsClientOptions, TlsServerOptions } from "@kvstate/queryable-state";
 *
 * const pem = (label: string) => `-----BEGIN ${label}-----\n...\n-----END ${label}-----\n`;
 * const serving: TlsServerOptions = { cert: pem("CERTIFICATE"), key: pem("PRIVATE KEY") };
 * const dialling: TlsClientOptions = { ca: pem("CERTIFICATE"), serverName: "state-1.internal" };
 * serving.clientCa; // => undefined
 * dialling.serverName; // => "state-1.internal"
 * ```
 *
 * @module
 */

/** Default time a TLS handshake may take before the connection is failed. */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * TLS for the connections a listener accepts (the server side).
 *
 * @example
 * ```ts
 * import type { TlsServerOptions } from "@kvstate/queryable-state";
 *
 * const options: TlsServerOptions = {
 *   cert: "-----BEGIN CERTIFICATE-----\n...",
 *   key: "-----BEGIN PRIVATE KEY-----\n...",
 *   handshakeTimeoutMs: 5_000,
 * };
 * options.handshakeTimeoutMs; // => 5000
 * ```
 */
export interface TlsServerOptions {
  /** The server's certificate chain, PEM, leaf first. Required. */
  readonly cert: string;
  /** The private key of the certificate, PEM. Required. */
  readonly key: string;
  /**
   * Mutual TLS: the CA certificates (PEM; one string may hold several) that
   * client certificates must chain to. When set, every client must present
   * a valid certificate or its handshake fails. Default: unset, clients are
   * not asked for certificates. Only `NodeTransport` supports it (on Node
   * and under Deno); `DenoTransport` rejects it.
   */
  readonly clientCa?: string | readonly string[];
  /**
   * The most a client's handshake may take, in milliseconds; a client that
   * does not complete it in time is disconnected. Default 10 000.
   */
  readonly handshakeTimeoutMs?: number;
}

/**
 * TLS for the connections a transport opens (the client side).
 *
 * @example
 * ```ts
 * import type { TlsClientOptions } from "@kvstate/queryable-state";
 *
 * // Trust the runtime's default roots; verify the name the certificate carries.
 * const options: TlsClientOptions = { serverName: "proxy.internal" };
 * options.ca; // => undefined
 * ```
 */
export interface TlsClientOptions {
  /**
   * The CA certificates (PEM; one string may hold several) that the
   * server's certificate must chain to. Default: the runtime's trust store.
   * `NodeTransport` trusts only these when given; `DenoTransport` trusts
   * them in addition to Deno's default roots (Deno has no way to drop them).
   */
  readonly ca?: string | readonly string[];
  /** A client certificate chain (PEM), for mutual TLS. Needs `key`. Default none. */
  readonly cert?: string;
  /** The private key of `cert` (PEM). Needs `cert`. Default none. */
  readonly key?: string;
  /**
   * The name the server's certificate must carry (and the SNI sent).
   * Default: the host dialled (an IP address then matches the certificate's
   * IP addresses).
   */
  readonly serverName?: string;
  /**
   * The most the handshake may take, in milliseconds, after the TCP
   * connection is made; then `connect` rejects with `TlsError`. A peer that
   * does not speak TLS (e.g. a plaintext Flink server) would otherwise hold
   * the handshake forever. Default 10 000.
   */
  readonly handshakeTimeoutMs?: number;
}

/** {@linkcode TlsServerOptions}, checked, with the defaults filled in. */
export interface ResolvedTlsServerOptions {
  /** The certificate chain. */
  readonly cert: string;
  /** The key. */
  readonly key: string;
  /** The client CAs, or `undefined` when clients are not asked for certificates. */
  readonly clientCa: string[] | undefined;
  /** The handshake timeout. */
  readonly handshakeTimeoutMs: number;
}

/** {@linkcode TlsClientOptions}, checked, with the defaults filled in. */
export interface ResolvedTlsClientOptions {
  /** The CAs, or `undefined` for the runtime's trust store. */
  readonly ca: string[] | undefined;
  /** The client certificate chain, if any. */
  readonly cert: string | undefined;
  /** Its key, if any. */
  readonly key: string | undefined;
  /** The name to verify, if not the host dialled. */
  readonly serverName: string | undefined;
  /** The handshake timeout. */
  readonly handshakeTimeoutMs: number;
}

function pem(value: unknown, what: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`${what} must be a non-empty PEM string`);
  }
  return value;
}

function pemList(value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError(`${what} must be a PEM string or a non-empty array of them`);
  }
  return list.map((v, i) => pem(v, `${what}[${i}]`));
}

function timeout(value: unknown, what: string): number {
  if (value === undefined) return DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new RangeError(`${what} must be an integer in 1..2147483647, got ${value}`);
  }
  return value;
}

/**
 * Checks server TLS options and fills in the defaults.
 *
 * @example
 * ```ts
 * import { resolveTlsServerOptions } from "./tls_options.ts";
 *
 * resolveTlsServerOptions({ cert: "C", key: "K" }).handshakeTimeoutMs; // => 10000
 * ```
 *
 * @param options The options.
 * @param label What they belong to, for the error messages.
 * @returns The resolved options.
 * @throws {TypeError} When `cert` or `key` is missing, or a PEM value is not a non-empty string.
 * @throws {RangeError} When `handshakeTimeoutMs` is not a positive integer.
 */
export function resolveTlsServerOptions(
  options: TlsServerOptions,
  label = "listenTls",
): ResolvedTlsServerOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${label} must be an object`);
  }
  return {
    cert: pem(options.cert, `${label}.cert`),
    key: pem(options.key, `${label}.key`),
    clientCa: pemList(options.clientCa, `${label}.clientCa`),
    handshakeTimeoutMs: timeout(options.handshakeTimeoutMs, `${label}.handshakeTimeoutMs`),
  };
}

/**
 * Checks client TLS options and fills in the defaults.
 *
 * @example
 * ```ts
 * import { resolveTlsClientOptions } from "./tls_options.ts";
 *
 * resolveTlsClientOptions({ ca: "C" }).ca; // => ["C"]
 * ```
 *
 * @param options The options.
 * @param label What they belong to, for the error messages.
 * @returns The resolved options.
 * @throws {TypeError} When only one of `cert` and `key` is given, a PEM value
 * is not a non-empty string, or `serverName` is empty.
 * @throws {RangeError} When `handshakeTimeoutMs` is not a positive integer.
 */
export function resolveTlsClientOptions(
  options: TlsClientOptions,
  label = "connectTls",
): ResolvedTlsClientOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${label} must be an object`);
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new TypeError(`${label}: a client certificate needs both cert and key`);
  }
  const serverName = options.serverName;
  if (serverName !== undefined && (typeof serverName !== "string" || serverName === "")) {
    throw new TypeError(`${label}.serverName must be a non-empty string`);
  }
  return {
    ca: pemList(options.ca, `${label}.ca`),
    cert: options.cert === undefined ? undefined : pem(options.cert, `${label}.cert`),
    key: options.key === undefined ? undefined : pem(options.key, `${label}.key`),
    serverName,
    handshakeTimeoutMs: timeout(options.handshakeTimeoutMs, `${label}.handshakeTimeoutMs`),
  };
}
