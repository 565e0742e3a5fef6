/**
 * Upstream mode of the `proxy` and `gateway` commands (CLI glue): a pool of
 * Queryable State proxies from `--upstream-proxies` (or several `--proxy`
 * values), or discovered from Flink's REST API with `--flink-rest` and
 * `--proxy-port`; its metrics; a SIGHUP that refreshes the discovery, or
 * reads a static list from the `--config` file again.
 *
 * @module
 */

import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/registry.ts";
import { MetricsStats } from "../observability/metrics_stats.ts";
import { formatAddress } from "../oracle/locations_file.ts";
import type { NetAddress, Transport } from "../transport/types.ts";
import { FlinkRestDiscovery } from "../upstream/flink_rest_discovery.ts";
import { parseProxyAddresses } from "../upstream/proxy_addresses.ts";
import { ProxyPool } from "../upstream/proxy_pool.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";
import { addDiscoveryMetrics, addPoolMetrics } from "./observe.ts";

/** Where the members of an upstream pool come from. */
export type UpstreamChoice =
  | {
    /** A fixed list. */
    readonly kind: "static";
    /** The members. */
    readonly members: readonly NetAddress[];
    /** The flag (or variable, or config key) it came from. */
    readonly source: string;
    /**
     * When the list came from the `--config` file: the file and its key,
     * read again on SIGHUP. Absent for a flag or a variable (fixed until a
     * restart).
     */
    readonly configKey?: { readonly file: string; readonly key: string };
  }
  | {
    /** Flink's REST API. */
    readonly kind: "flink-rest";
    /** The REST API's base URL. */
    readonly url: string;
    /** The proxy port or range. */
    readonly proxyPort: string;
    /** The time between refreshes, in ms. */
    readonly refreshIntervalMs: number;
  };

/** The `--config` file of a command that has the flag, if one was given. */
function configFileOf(flags: ResolvedFlags): string | undefined {
  try {
    return flags.string("config");
  } catch {
    return undefined; // a command without --config
  }
}

/** Names the flags that were given, with where each came from. */
function given(flags: ResolvedFlags, names: readonly string[]): string[] {
  return names.filter((n) => flags.has(n)).map((n) => flags.source(n));
}

/**
 * Reads the upstream flags of a command: `listFlag` (`upstream-proxies` for
 * the proxy; `proxy` for the gateway, where one value alone is no pool)
 * and `--flink-rest` with `--proxy-port` and `--flink-rest-refresh-ms`.
 *
 * @param flags The resolved flags.
 * @param listFlag The flag of a static list.
 * @param exclusive Further flags that exclude upstream mode (`locations`).
 * @returns The choice, or `undefined` when neither is given.
 * @throws {CliUsageError} When flags that exclude each other are given
 * together, `--proxy-port`/`--flink-rest-refresh-ms` without
 * `--flink-rest`, or on a bad address, URL or port range.
 */
export function upstreamChoice(
  flags: ResolvedFlags,
  listFlag: string,
  exclusive: readonly string[] = [],
): UpstreamChoice | undefined {
  const modes = given(flags, [...exclusive, listFlag, "flink-rest"]);
  if (modes.length > 1) {
    const names = [...exclusive, listFlag, "flink-rest"].map((n) => `--${n}`).join(", ");
    throw new CliUsageError(`${names} exclude each other; given: ${modes.join(", ")}`);
  }
  const url = flags.string("flink-rest");
  if (url === undefined) {
    const stray = given(flags, ["proxy-port", "flink-rest-refresh-ms"]);
    if (stray.length > 0) throw new CliUsageError(`${stray.join(", ")}: only with --flink-rest`);
    const list = flags.string(listFlag);
    if (list === undefined) return undefined;
    let members: NetAddress[];
    try {
      members = parseProxyAddresses(list);
    } catch (e) {
      throw new CliUsageError(`${flags.source(listFlag)}: ${(e as Error).message}`);
    }
    const source = flags.source(listFlag);
    const file = configFileOf(flags);
    return file !== undefined && source === `${file}: ${listFlag}`
      ? { kind: "static", members, source, configKey: { file, key: listFlag } }
      : { kind: "static", members, source };
  }
  const protocol = URL.canParse(url) ? new URL(url).protocol : undefined;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new CliUsageError(
      `${flags.source("flink-rest")}: expected an http(s) URL, got ${JSON.stringify(url)}`,
    );
  }
  const refreshIntervalMs = flags.integer("flink-rest-refresh-ms")!;
  if (refreshIntervalMs < 1) {
    throw new CliUsageError(`${flags.source("flink-rest-refresh-ms")} must be positive`);
  }
  return {
    kind: "flink-rest",
    url,
    proxyPort: flags.requiredString("proxy-port"),
    refreshIntervalMs,
  };
}

/** A running upstream pool, with its discovery when there is one. */
export interface UpstreamPool {
  /** The pool. */
  readonly pool: ProxyPool;
  /** What to print once started, e.g. `upstream: 2 proxies: a:1,b:2`. */
  readonly summary: string;
  /**
   * The flag SIGHUP reloads (the events' `flag` field): `flink-rest` (the
   * discovery), the list's flag (`upstream-proxies`, `proxy`) when the list
   * came from the `--config` file, or `undefined` (a list from a flag or a
   * variable, or no `readConfig`: fixed until a restart).
   */
  readonly reloads: string | undefined;
  /**
   * SIGHUP's work (see `reloadReported`): refreshes the discovery now, or
   * reads the list again from the `--config` file and gives the pool its
   * members (a bad file or list changes nothing).
   *
   * @returns The new summary.
   * @throws {Error} When the refresh fails, or the file or its list is bad.
   */
  reload(): Promise<string>;
  /** Closes the discovery, then the pool. */
  close(): Promise<void>;
}

/** Where the pool's parts report. */
export interface UpstreamPoolContext {
  /** The transport the pool (and the probes of a port range) dial with. */
  readonly transport: Transport;
  /** The process's logger. */
  readonly logger: Logger;
  /** The process's metrics. */
  readonly metrics: MetricsRegistry;
  /** The `role` label of the pool's metrics (`qs_pool_*`, `qs_flink_rest_*`): `upstream`. */
  readonly role: string;
  /**
   * The `role` label of the members' request and connection metrics
   * (`qs_requests_total`, `qs_responses_total`, ...). Default `role`. The
   * gateway's pool is its client: `client`, as with one proxy.
   */
  readonly statsRole?: string;
  /** The pool's name in messages and log events. */
  readonly name: string;
  /** The largest frame accepted from a member, in bytes. Default the pool's. */
  readonly maxFrameLength?: number;
  /** The deadline of a request, all attempts included, in ms. Default the pool's (30,000). */
  readonly requestTimeoutMs?: number;
  /**
   * Reads the `--config` file again (and parses its JSON), for SIGHUP with a
   * list from it. Default: none (such a list is not reloaded).
   */
  readonly readConfig?: (file: string) => Promise<unknown>;
}

/**
 * The static list a config document gives under `key`, read again on
 * SIGHUP. Only the list is taken: the other keys need a restart.
 *
 * @throws {CliUsageError} When the document has no list there, or a bad one (naming file and key).
 */
function listIn(doc: unknown, file: string, key: string): NetAddress[] {
  const value = typeof doc === "object" && doc !== null && !Array.isArray(doc)
    ? (doc as Record<string, unknown>)[key]
    : undefined;
  if (typeof value !== "string" && typeof value !== "number") {
    throw new CliUsageError(
      `${file}: ${key}: expected the list of proxies (another mode needs a restart)`,
    );
  }
  try {
    return parseProxyAddresses(String(value));
  } catch (e) {
    throw new CliUsageError(`${file}: ${key}: ${(e as Error).message}`);
  }
}

function membersText(members: readonly NetAddress[]): string {
  const text = members.slice(0, 10).map(formatAddress).join(",");
  return members.length > 10 ? `${text},... (${members.length})` : text;
}

function countText(n: number): string {
  return `${n} ${n === 1 ? "proxy" : "proxies"}`;
}

/**
 * Starts an upstream pool: with a static list at once; with
 * `--flink-rest`, after the first refresh (when it fails, the pool starts
 * empty, the error is printed on stderr, and the refreshes go on).
 *
 * @param choice Where the members come from.
 * @param context Transport, logger, metrics.
 * @returns The pool.
 * @throws {CliUsageError} On a `--proxy-port` that is not a port or a range.
 */
export async function startUpstreamPool(
  choice: UpstreamChoice,
  context: UpstreamPoolContext,
): Promise<UpstreamPool> {
  const { transport, logger, metrics, role } = context;
  const options = {
    transport,
    name: context.name,
    logger,
    maxFrameLength: context.maxFrameLength,
    requestTimeoutMs: context.requestTimeoutMs,
    stats: new MetricsStats({ registry: metrics, role: context.statsRole ?? role }),
  };
  if (choice.kind === "static") {
    const pool = new ProxyPool({ ...options, members: choice.members });
    addPoolMetrics(metrics, pool, role);
    const { configKey } = choice;
    const readConfig = context.readConfig;
    const reread = configKey === undefined || readConfig === undefined
      ? undefined
      : async (): Promise<string> => {
        const members = listIn(await readConfig(configKey.file), configKey.file, configKey.key);
        pool.setMembers(members);
        return `upstream: ${countText(members.length)} from ${configKey.file}: ${
          membersText(members)
        }`;
      };
    return {
      pool,
      summary: `upstream: ${countText(choice.members.length)}: ${membersText(choice.members)}`,
      reloads: reread === undefined ? undefined : configKey!.key,
      reload: reread ??
        (() =>
          Promise.resolve(`upstream: ${choice.source} is not reloaded (restart to change it)`)),
      close: () => pool.close(),
    };
  }
  const pool = new ProxyPool(options);
  const failures = addDiscoveryMetrics(metrics, role);
  let discovery: FlinkRestDiscovery;
  try {
    discovery = new FlinkRestDiscovery(choice.url, {
      proxyPort: choice.proxyPort,
      transport,
      refreshIntervalMs: choice.refreshIntervalMs,
      logger,
      onMembers: (members) => pool.setMembers(members),
      onError: () => failures.refreshFailed(),
    });
  } catch (e) {
    await pool.close();
    const flag = e instanceof TypeError ? "--flink-rest" : "--proxy-port";
    throw new CliUsageError(`${flag}: ${(e as Error).message}`);
  }
  failures.watch(discovery);
  addPoolMetrics(metrics, pool, role);
  const describe = (members: readonly NetAddress[]): string =>
    `upstream: ${countText(members.length)} from ${discovery.url}` +
    (members.length > 0 ? `: ${membersText(members)}` : "");
  let summary: string;
  try {
    summary = describe(await discovery.start());
  } catch (e) {
    summary = `upstream: none yet from ${discovery.url} (${
      (e as Error).message
    }); trying again every ${choice.refreshIntervalMs} ms`;
  }
  return {
    pool,
    summary,
    reloads: "flink-rest",
    reload: async () => describe(await discovery.refresh()),
    close: async () => {
      await discovery.close();
      await pool.close();
    },
  };
}
