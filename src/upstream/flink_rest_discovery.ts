/**
 * Discovery of a Flink cluster's Queryable State proxies through Flink's
 * REST API: the hosts of the TaskManagers that `GET /taskmanagers` lists,
 * each with the proxy port (or every port of a proxy port range that
 * accepts a connection), refreshed periodically.
 *
 * @module
 */

import { addressKey } from "../client/server_connection.ts";
import type { Logger } from "../observability/logger.ts";
import { SILENT_LOGGER } from "../observability/logger.ts";
import { errorClass, errorMessage, logEvent, logs } from "../server/log_events.ts";
import type { NetAddress, Transport } from "../transport/types.ts";
import { concatBytes } from "../wire/bytes.ts";
import { ClosedError } from "../wire/errors.ts";
import {
  FlinkRestBodyTooLargeError,
  FlinkRestError,
  FlinkRestShapeError,
  FlinkRestStatusError,
  FlinkRestTimeoutError,
  FlinkRestTooManyHostsError,
  FlinkRestTooManyProbesError,
} from "./flink_rest_errors.ts";
import { type FlinkTaskManager, parseTaskManagersInfo } from "./flink_rest_taskmanagers.ts";
import { DEFAULT_MAX_PORTS_PER_RANGE, parsePortRange } from "./port_range.ts";
import { DEFAULT_PROXY_PORT } from "./proxy_addresses.ts";
import { bytesToBase64 } from "../types/json_scalars.ts";
/** The default of {@linkcode FlinkRestDiscoveryOptions.refreshIntervalMs}: 10 s. */
const DEFAULT_REFRESH_INTERVAL_MS = 10_000;
/** The default of {@linkcode FlinkRestDiscoveryOptions.requestTimeoutMs}: 5 s. */
const DEFAULT_REST_REQUEST_TIMEOUT_MS = 5_000;
/** The default of {@linkcode FlinkRestDiscoveryOptions.maxBodyBytes}: 1 MiB. */
const DEFAULT_REST_MAX_BODY_BYTES = 1024 * 1024;
/** The default of {@linkcode FlinkRestDiscoveryOptions.maxHosts}: 1024 hosts. */
const DEFAULT_MAX_HOSTS = 1024;
/** The default of {@linkcode FlinkRestDiscoveryOptions.probeTimeoutMs}: 1 s. */
const DEFAULT_PROBE_TIMEOUT_MS = 1_000;
/** The default of {@linkcode FlinkRestDiscoveryOptions.probeConcurrency}: 16 connects at once. */
const DEFAULT_PROBE_CONCURRENCY = 16;
/** The default of {@linkcode FlinkRestDiscoveryOptions.maxProbesPerRefresh}: 1024 probes. */
const DEFAULT_MAX_PROBES_PER_REFRESH = 1024;

/** Options of {@linkcode FlinkRestDiscovery}. */
export interface FlinkRestDiscoveryOptions {
  /**
   * The proxy port, or a port range in the grammar of Flink's
   * `queryable-state.proxy.ports` (`9069-9075`, `9069,9071`). Default
   * 9069. With one port, every discovered host is a member on it, unprobed
   * (the pool that takes the list health-checks its members). With several,
   * each port of the range is probed on each host (a TCP connect, closed at
   * once) and the ports that accept are members: TaskManagers sharing a
   * host take successive ports of the range. Anything else listening on a
   * port of the range is taken for a proxy too.
   */
  readonly proxyPort?: number | string;
  /**
   * The most ports `proxyPort` may name. Default 64; more throws a
   * `PortRangeError` (with `tooLarge`) from the constructor.
   */
  readonly maxPortsPerRange?: number;
  /**
   * The transport the probes connect through (the one the pool uses, so
   * that TLS and the runtime match). Required when `proxyPort` names more
   * than one port; unused otherwise.
   */
  readonly transport?: Transport;
  /** Time between the end of one refresh and the start of the next, in ms. Default 10,000. */
  readonly refreshIntervalMs?: number;
  /**
   * How long one `GET /taskmanagers` may take, reading the body included,
   * in ms. Default 5,000; past it the refresh fails with a
   * {@linkcode FlinkRestTimeoutError}.
   */
  readonly requestTimeoutMs?: number;
  /**
   * The largest response body read, in bytes. Default 1 MiB (about 1,000
   * TaskManagers at Flink 1.19's ~900 bytes each); a longer declared
   * `Content-Length` is refused unread, a body that grows past it is
   * cancelled: a {@linkcode FlinkRestBodyTooLargeError}.
   */
  readonly maxBodyBytes?: number;
  /**
   * The most distinct TaskManager hosts taken. Default 1024; more fails the
   * refresh with a {@linkcode FlinkRestTooManyHostsError} (hosts times
   * ports is the number of probes a refresh makes, bounded by
   * `maxProbesPerRefresh`).
   */
  readonly maxHosts?: number;
  /**
   * How long one probe connect may take, in ms. Default 1,000; a port that
   * does not accept within it is not a member this time.
   */
  readonly probeTimeoutMs?: number;
  /** The most probe connects in flight at once. Default 16. */
  readonly probeConcurrency?: number;
  /**
   * The most probes one refresh makes: the distinct hosts listed times the
   * ports of a `proxyPort` range (a single port is not probed, so this
   * bound does not apply to it). Default 1024 (e.g. 256 hosts × 4 ports,
   * or 64 × 16). A refresh that would probe more probes nothing and fails
   * with a {@linkcode FlinkRestTooManyProbesError} naming both numbers; the
   * last good list stays. The bound caps the time one refresh can take:
   * at most `ceil(maxProbesPerRefresh / probeConcurrency) × probeTimeoutMs`
   * for the probes (64 s with the defaults, when no probed host answers at
   * all; a host that refuses a connection answers at once), plus
   * `requestTimeoutMs` for the REST request. Less than the ports of the
   * range throws a `RangeError` from the constructor.
   */
  readonly maxProbesPerRefresh?: number;
  /**
   * Headers sent with every request, e.g. `{ authorization: "Bearer …" }`
   * for a REST API behind a gateway. `accept: application/json` is added
   * unless given. Default none.
   */
  readonly headers?: Headers | Readonly<Record<string, string>>;
  /** The fetch function (tests, custom agents, other runtimes). Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /**
   * Called with the new member list (sorted by host, then port) each time
   * it changes, e.g. `(members) => pool.setMembers(members)`. An exception
   * it throws is logged (`flink_rest_callback_failed`), and the same list is
   * offered again on the next refresh.
   */
  readonly onMembers?: (members: readonly NetAddress[]) => void;
  /**
   * Called with the error of each failed refresh (the last good list stays
   * in force). An exception it throws is logged and otherwise ignored.
   */
  readonly onError?: (error: FlinkRestError) => void;
  /**
   * Whether an empty result (no TaskManager listed, or no port of the
   * range accepting on any host) leaves a non-empty list in force. Default
   * `true`: while a JobManager restarts, TaskManagers re-register, and
   * their proxies keep answering from their caches in the meantime. With
   * `false`, an empty result empties the list.
   */
  readonly keepOnEmpty?: boolean;
  /**
   * Where events go: `flink_rest_members_changed` (info), `flink_rest_refresh_failed`
   * (warn), `flink_rest_refresh_recovered` (info), `flink_rest_empty_kept`
   * (warn), `flink_rest_address_unreadable` (warn), `flink_rest_refreshed`
   * (debug). Default silent.
   */
  readonly logger?: Logger;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  return v;
}

function memberKey(members: readonly NetAddress[]): string {
  return members.map(addressKey).join(",");
}

function compareMembers(a: NetAddress, b: NetAddress): number {
  if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
  return a.port - b.port;
}

/** A few addresses as text for a log field, at most 10 named. */
function sample(members: readonly NetAddress[]): string {
  const named = members.slice(0, 10).map(addressKey).join(",");
  return members.length > 10 ? `${named},… (${members.length})` : named;
}

const NOOP = (): void => {};

/** A URL's percent-encoded user or password, decoded (as is when malformed). */
function uriDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `user:password` as HTTP Basic authorization's base64 of its UTF-8 bytes. */
function basicToken(credentials: string): string {
  return bytesToBase64(new TextEncoder().encode(credentials));
}

/**
 * Finds the Queryable State proxies of a Flink cluster from its REST API
 * and keeps the list current: `GET <url>/taskmanagers` (Flink 1.19's
 * `TaskManagersInfo`), the host of each TaskManager's RPC address (`path`:
 * see {@linkcode parseTaskManagersInfo}), the proxy port or the ports of a
 * range that accept a connection. It reports a changed list to `onMembers`;
 * on a failed refresh (HTTP error, timeout, invalid JSON or shape, body,
 * host count or probe count over its bound) it keeps the last good list, reports the typed
 * error to `onError` and the logger, and tries again at the next interval.
 * Web APIs only (`fetch`, `AbortController`, timers).
 *
 * @example One port: every TaskManager host is a member
 * ```ts
 * import { FlinkRestDiscovery } from "./flink_rest_discovery.ts";
 *
 * const body = { taskmanagers: [
 *   { id: "10.0.0.5:6122-4e7a1c", path: "pekko.tcp://flink@10.0.0.5:6122/user/rpc/taskmanager_0" },
 *   { id: "10.0.0.6:6122-9b02ff", path: "pekko.tcp://flink@10.0.0.6:6122/user/rpc/taskmanager_0" },
 * ] };
 * const seen: string[][] = [];
 * await using discovery = new FlinkRestDiscovery("http://jobmanager:8081", {
 *   fetch: () => Promise.resolve(Response.json(body)),
 *   onMembers: (members) => seen.push(members.map((m) => `${m.hostname}:${m.port}`)),
 * });
 * await discovery.refresh();
 * seen; // => [["10.0.0.5:9069", "10.0.0.6:9069"]]
 * discovery.url; // => "http://jobmanager:8081/taskmanagers"
 * ```
 *
 * @example A failed refresh keeps the last good list
 * ```ts
 * import { FlinkRestDiscovery } from "./flink_rest_discovery.ts";
 * import { FlinkRestStatusError } from "./flink_rest_errors.ts";
 *
 * let status = 200;
 * const body = { taskmanagers: [{ id: "tm-1", path: "pekko.tcp://flink@10.0.0.5:6122/user/rpc/taskmanager_0" }] };
 * await using discovery = new FlinkRestDiscovery("http://jobmanager:8081", {
 *   fetch: () => Promise.resolve(status === 200 ? Response.json(body) : new Response("down", { status })),
 * });
 * await discovery.refresh();
 * status = 503;
 * const error = await discovery.refresh().catch((e) => e);
 * error instanceof FlinkRestStatusError; // => true
 * discovery.members.length; // => 1
 * ```
 */
export class FlinkRestDiscovery implements AsyncDisposable {
  /** The URL requested (`<base>/taskmanagers`, without user information). */
  readonly url: string;
  /** The proxy ports taken on each host (one, or the ports of the range). */
  readonly ports: readonly number[];
  /** The time between refreshes, in ms. */
  readonly refreshIntervalMs: number;
  readonly #requestUrl: string;
  readonly #fallbackHost: string;
  readonly #transport: Transport | undefined;
  readonly #fetch: typeof fetch;
  readonly #headers: Headers;
  readonly #requestTimeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #maxHosts: number;
  readonly #probeTimeoutMs: number;
  readonly #probeConcurrency: number;
  readonly #maxProbes: number;
  readonly #keepOnEmpty: boolean;
  readonly #onMembers: ((members: readonly NetAddress[]) => void) | undefined;
  readonly #onError: ((error: FlinkRestError) => void) | undefined;
  readonly #logger: Logger;
  #members: readonly NetAddress[] = Object.freeze([]);
  #key = "";
  #lastError: FlinkRestError | undefined;
  #failures = 0;
  #inflight: Promise<readonly NetAddress[]> | undefined;
  #current: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #started: Promise<readonly NetAddress[]> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;

  /**
   * Creates a discovery; nothing is requested before {@linkcode start} or
   * {@linkcode refresh}.
   *
   * @param url The REST API's base URL, e.g. `http://jobmanager:8081`
   * (a path prefix, as behind a gateway, is kept). User information in it
   * (`http://user:password@host:8081`) is sent as HTTP Basic authorization
   * (unless `headers` has one), not in the URL, which `fetch` refuses.
   * @param options Ports, bounds, callbacks (see {@linkcode FlinkRestDiscoveryOptions}).
   * @throws {TypeError} When the URL is not http(s), a header is invalid,
   * or a range is given without a transport.
   * @throws {PortRangeError} When `proxyPort` is invalid or names too many ports.
   * @throws {RangeError} When a bound is not a positive integer, or
   * `maxProbesPerRefresh` is less than the ports of a range.
   */
  constructor(url: string | URL, options: FlinkRestDiscoveryOptions = {}) {
    const base = new URL(String(url));
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError(`The Flink REST URL must be http(s), got ${base.protocol}`);
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    base.search = "";
    base.hash = "";
    const target = new URL("taskmanagers", base);
    // fetch refuses a URL with credentials (Node, browsers, workers): they go in a header.
    const credentials = target.username !== "" || target.password !== ""
      ? `${uriDecoded(target.username)}:${uriDecoded(target.password)}`
      : undefined;
    target.username = "";
    target.password = "";
    this.url = target.href;
    this.#requestUrl = target.href;
    this.#fallbackHost = base.hostname.replace(/^\[(.*)\]$/, "$1");
    this.ports = Object.freeze(
      parsePortRange(options.proxyPort ?? DEFAULT_PROXY_PORT, {
        maxPorts: options.maxPortsPerRange ?? DEFAULT_MAX_PORTS_PER_RANGE,
      }),
    );
    this.#transport = options.transport;
    if (this.ports.length > 1 && this.#transport === undefined) {
      throw new TypeError("A proxy port range is probed: FlinkRestDiscovery needs a transport");
    }
    this.refreshIntervalMs = positiveInteger(
      "refreshIntervalMs",
      options.refreshIntervalMs,
      DEFAULT_REFRESH_INTERVAL_MS,
    );
    this.#requestTimeoutMs = positiveInteger(
      "requestTimeoutMs",
      options.requestTimeoutMs,
      DEFAULT_REST_REQUEST_TIMEOUT_MS,
    );
    this.#maxBodyBytes = positiveInteger(
      "maxBodyBytes",
      options.maxBodyBytes,
      DEFAULT_REST_MAX_BODY_BYTES,
    );
    this.#maxHosts = positiveInteger("maxHosts", options.maxHosts, DEFAULT_MAX_HOSTS);
    this.#probeTimeoutMs = positiveInteger(
      "probeTimeoutMs",
      options.probeTimeoutMs,
      DEFAULT_PROBE_TIMEOUT_MS,
    );
    this.#probeConcurrency = positiveInteger(
      "probeConcurrency",
      options.probeConcurrency,
      DEFAULT_PROBE_CONCURRENCY,
    );
    this.#maxProbes = positiveInteger(
      "maxProbesPerRefresh",
      options.maxProbesPerRefresh,
      DEFAULT_MAX_PROBES_PER_REFRESH,
    );
    if (this.ports.length > 1 && this.#maxProbes < this.ports.length) {
      throw new RangeError(
        `maxProbesPerRefresh (${this.#maxProbes}) is less than the ${this.ports.length} ports ` +
          "of proxyPort: not one host could be probed",
      );
    }
    this.#headers = new Headers(options.headers as Record<string, string> | Headers | undefined);
    if (!this.#headers.has("accept")) this.#headers.set("accept", "application/json");
    if (credentials !== undefined && !this.#headers.has("authorization")) {
      this.#headers.set("authorization", `Basic ${basicToken(credentials)}`);
    }
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#keepOnEmpty = options.keepOnEmpty ?? true;
    this.#onMembers = options.onMembers;
    this.#onError = options.onError;
    this.#logger = options.logger ?? SILENT_LOGGER;
  }

  /** The members in force (sorted by host, then port; empty before the first good refresh). */
  get members(): readonly NetAddress[] {
    return this.#members;
  }

  /** The error of the last refresh when it failed; `undefined` after a good one. */
  get lastError(): FlinkRestError | undefined {
    return this.#lastError;
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Refreshes now, then every `refreshIntervalMs` after the previous
   * refresh ended, until {@linkcode close}. Calling it again returns the
   * first call's promise.
   *
   * @returns The members after the first refresh; rejects with its error
   * (the refreshes go on either way, so a caller that only wants the loop
   * may ignore the outcome: `discovery.start().catch(() => {})`).
   * @throws {ClosedError} When the discovery is closed.
   */
  start(): Promise<readonly NetAddress[]> {
    if (this.#closed) return Promise.reject(ClosedError.shutDown("FlinkRestDiscovery"));
    if (this.#started !== undefined) return this.#started;
    const first = this.refresh();
    this.#started = first;
    first.then(this.#schedule, this.#schedule);
    return first;
  }

  readonly #schedule = (): void => {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.refresh().then(this.#schedule, this.#schedule);
    }, this.refreshIntervalMs);
  };

  /**
   * Requests the TaskManagers now (joining a refresh in flight), probes a
   * range, and puts the result in force, calling `onMembers` when it
   * changed. On failure the last good list stays, and the error goes to
   * `onError`, the logger, {@linkcode lastError}, and the returned promise.
   *
   * @returns The members in force afterwards.
   * @throws {FlinkRestError} A subclass naming what failed.
   * @throws {ClosedError} When the discovery was closed before or during the refresh.
   */
  refresh(): Promise<readonly NetAddress[]> {
    if (this.#closed) return Promise.reject(ClosedError.shutDown("FlinkRestDiscovery"));
    if (this.#inflight !== undefined) return this.#inflight;
    const run = this.#run().finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = run;
    return run;
  }

  async #run(): Promise<readonly NetAddress[]> {
    const controller = new AbortController();
    this.#current = controller;
    try {
      const tms = await this.#request(controller);
      const hosts = this.#hosts(tms);
      let members: NetAddress[];
      if (this.ports.length === 1) {
        members = hosts.map((hostname) => ({ hostname, port: this.ports[0] }));
      } else {
        if (hosts.length * this.ports.length > this.#maxProbes) {
          throw new FlinkRestTooManyProbesError(
            this.url,
            this.#maxProbes,
            hosts.length,
            this.ports.length,
          );
        }
        members = await this.#probeAll(hosts, controller.signal);
      }
      if (this.#closed) throw ClosedError.shutDown("FlinkRestDiscovery");
      members.sort(compareMembers);
      this.#succeeded(tms.length, hosts.length, members);
      return this.#members;
    } catch (err) {
      if (this.#closed) throw ClosedError.shutDown("FlinkRestDiscovery");
      const error = err instanceof FlinkRestError
        ? err
        : new FlinkRestError(this.url, `request failed: ${errorMessage(err)}`, { cause: err });
      this.#failed(error);
      throw error;
    } finally {
      if (this.#current === controller) this.#current = undefined;
    }
  }

  /** GET /taskmanagers within the timeout, the body bounded, the shape checked. */
  async #request(controller: AbortController): Promise<FlinkTaskManager[]> {
    const timeout = new FlinkRestTimeoutError(this.url, this.#requestTimeoutMs);
    const timer = setTimeout(() => controller.abort(timeout), this.#requestTimeoutMs);
    try {
      let text: string;
      try {
        const res = await this.#fetch(this.#requestUrl, {
          method: "GET",
          headers: this.#headers,
          signal: controller.signal,
          redirect: "follow",
        });
        if (!res.ok) {
          res.body?.cancel().catch(NOOP);
          throw new FlinkRestStatusError(this.url, res.status);
        }
        text = await this.#readBody(res);
      } catch (err) {
        if (controller.signal.aborted && controller.signal.reason === timeout) throw timeout;
        throw err;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new FlinkRestShapeError(this.url, "the body is not JSON", { cause: err });
      }
      return parseTaskManagersInfo(body, this.url);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The body as text, read through its stream and counted: never more than the bound. */
  async #readBody(res: Response): Promise<string> {
    const max = this.#maxBodyBytes;
    const declared = res.headers.get("content-length");
    if (declared !== null && Number(declared) > max) {
      res.body?.cancel().catch(NOOP);
      throw new FlinkRestBodyTooLargeError(this.url, max, Number(declared), true);
    }
    const body = res.body;
    if (body === null) return "";
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > max) throw new FlinkRestBodyTooLargeError(this.url, max, total, false);
        chunks.push(value);
      }
    } catch (err) {
      // Not awaited: a peer that never acknowledges the cancel cannot hold the refresh.
      reader.cancel(err).catch(NOOP);
      throw err;
    }
    return new TextDecoder().decode(concatBytes(chunks));
  }

  /** The distinct hosts of the TaskManagers, in the order listed. */
  #hosts(tms: readonly FlinkTaskManager[]): string[] {
    const hosts = new Set<string>();
    let unreadable = 0;
    let example: FlinkTaskManager | undefined;
    for (const tm of tms) {
      const a = tm.address;
      if (a === undefined) {
        unreadable++;
        example ??= tm;
        continue;
      }
      // A local address: the TaskManager runs in the JobManager's process.
      hosts.add(a.local ? this.#fallbackHost : a.host!);
    }
    if (unreadable > 0 && logs(this.#logger, "warn")) {
      logEvent(this.#logger, "warn", "flink_rest_address_unreadable", {
        url: this.url,
        unreadable,
        id: example!.id.slice(0, 200),
        path: example!.path.slice(0, 200),
      });
    }
    if (tms.length > 0 && hosts.size === 0) {
      throw new FlinkRestShapeError(
        this.url,
        `no TaskManager path is an RPC address with a host (e.g. ${
          JSON.stringify(example!.path.slice(0, 100))
        })`,
      );
    }
    if (hosts.size > this.#maxHosts) {
      throw new FlinkRestTooManyHostsError(this.url, this.#maxHosts, hosts.size);
    }
    return [...hosts];
  }

  /** Probes every port of the range on every host, `probeConcurrency` at a time. */
  async #probeAll(hosts: readonly string[], signal: AbortSignal): Promise<NetAddress[]> {
    const targets: NetAddress[] = [];
    for (const hostname of hosts) {
      for (const port of this.ports) targets.push({ hostname, port });
    }
    const open = new Array<boolean>(targets.length).fill(false);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length && !signal.aborted) {
        const i = next++;
        open[i] = await this.#probe(targets[i], signal);
      }
    };
    const workers: Promise<void>[] = [];
    for (let w = 0; w < Math.min(this.#probeConcurrency, targets.length); w++) {
      workers.push(worker());
    }
    await Promise.all(workers);
    return targets.filter((_, i) => open[i]);
  }

  /** Whether `target` accepts a connection within `probeTimeoutMs` (the connection closed at once). */
  #probe(target: NetAddress, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    const attempt = new AbortController();
    return new Promise<boolean>((resolve) => {
      // Whatever ends the probe first clears both: a connect that ignores the abort keeps no timer.
      const stop = (): void => {
        done();
        attempt.abort(signal.reason);
        resolve(false);
      };
      const timer = setTimeout(() => {
        done();
        attempt.abort(new FlinkRestTimeoutError(addressKey(target), this.#probeTimeoutMs));
        resolve(false);
      }, this.#probeTimeoutMs);
      signal.addEventListener("abort", stop, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", stop);
      };
      let connecting: Promise<{ close(): Promise<void> }>;
      try {
        connecting = this.#transport!.connect({
          hostname: target.hostname,
          port: target.port,
          signal: attempt.signal,
        });
      } catch {
        done();
        resolve(false);
        return;
      }
      connecting.then(
        async (conn) => {
          try {
            await conn.close();
          } catch {
            // Closed already.
          }
          done();
          resolve(!attempt.signal.aborted);
        },
        () => {
          done();
          resolve(false);
        },
      );
    });
  }

  #succeeded(taskManagers: number, hosts: number, members: NetAddress[]): void {
    const recovered = this.#failures;
    this.#lastError = undefined;
    this.#failures = 0;
    if (recovered > 0 && logs(this.#logger, "info")) {
      logEvent(this.#logger, "info", "flink_rest_refresh_recovered", {
        url: this.url,
        failures: recovered,
      });
    }
    if (logs(this.#logger, "debug")) {
      logEvent(this.#logger, "debug", "flink_rest_refreshed", {
        url: this.url,
        taskmanagers: taskManagers,
        hosts,
        members: members.length,
      });
    }
    if (members.length === 0 && this.#members.length > 0 && this.#keepOnEmpty) {
      if (logs(this.#logger, "warn")) {
        logEvent(this.#logger, "warn", "flink_rest_empty_kept", {
          url: this.url,
          taskmanagers: taskManagers,
          members_kept: this.#members.length,
        });
      }
      return;
    }
    const key = memberKey(members);
    if (key === this.#key) return;
    const before = new Set(this.#members.map(addressKey));
    const after = new Set(members.map(addressKey));
    const added = members.filter((m) => !before.has(addressKey(m)));
    const removed = this.#members.filter((m) => !after.has(addressKey(m)));
    this.#members = Object.freeze(members.map((m) => Object.freeze({ ...m })));
    this.#key = key;
    if (logs(this.#logger, "info")) {
      logEvent(this.#logger, "info", "flink_rest_members_changed", {
        url: this.url,
        members: members.length,
        added: sample(added),
        removed: sample(removed),
      });
    }
    if (this.#onMembers !== undefined) {
      try {
        this.#onMembers(this.#members);
      } catch (err) {
        // Not taken (e.g. a pool refusing more than maxMembers): offered again next refresh.
        this.#key = "";
        this.#callbackFailed("onMembers", err);
      }
    }
  }

  #failed(error: FlinkRestError): void {
    this.#lastError = error;
    this.#failures++;
    if (logs(this.#logger, "warn")) {
      logEvent(this.#logger, "warn", "flink_rest_refresh_failed", {
        url: this.url,
        error_class: errorClass(error),
        error: errorMessage(error),
        members_kept: this.#members.length,
        failures: this.#failures,
      });
    }
    if (this.#onError !== undefined) {
      try {
        this.#onError(error);
      } catch (err) {
        this.#callbackFailed("onError", err);
      }
    }
  }

  #callbackFailed(callback: string, err: unknown): void {
    if (!logs(this.#logger, "error")) return;
    logEvent(this.#logger, "error", "flink_rest_callback_failed", {
      url: this.url,
      callback,
      error_class: errorClass(err),
      error: errorMessage(err),
    });
  }

  /**
   * Stops the refreshes: cancels the timer and a refresh in flight (its
   * request and probes; it rejects with `ClosedError`, and `onMembers` is
   * not called), and waits until it has ended. Idempotent.
   *
   * @returns Resolves when nothing is left running.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#current?.abort(ClosedError.shutDown("FlinkRestDiscovery"));
    const inflight = this.#inflight;
    this.#closing = inflight === undefined ? Promise.resolve() : inflight.then(NOOP, NOOP);
    return this.#closing;
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
