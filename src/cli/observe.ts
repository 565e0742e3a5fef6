/**
 * Logs and metrics of the CLI's commands (CLI glue): the logger of
 * `--log-level` and `--log-format` writing to stderr, the process's metrics
 * registry, and the gauges read from a proxy's public getters.
 *
 * @module
 */

import { createLogger, type WritingLogger } from "../observability/logger.ts";
import { parseLogLevel } from "../observability/log_record.ts";
import type { MetricsRegistry } from "../observability/registry.ts";
import type { KvStateClientProxy } from "../proxy/kv_state_client_proxy.ts";
import type { FlinkRestDiscovery } from "../upstream/flink_rest_discovery.ts";
import type { ProxyPool } from "../upstream/proxy_pool.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";

/** Location cache entries of the proxy (resolved, pending and recently failed lookups): gauge, label `role`. */
export const LOCATION_CACHE_ENTRIES_METRIC = "qs_location_cache_entries";
/** The location cache's estimated size in bytes: gauge, label `role`. */
export const LOCATION_CACHE_BYTES_METRIC = "qs_location_cache_bytes";
/** Request bytes the proxy's connections to state servers hold, not yet written: gauge, label `role`. */
export const UPSTREAM_QUEUED_BYTES_METRIC = "qs_upstream_queued_bytes";
/**
 * Requests in progress now: gauge, label `role` (`proxy`: decoded and not
 * yet answered, `AbstractServer.requestsInFlight`; `upstream`: written to
 * state servers and not yet answered, `NetworkClient.requestsInFlight`).
 */
export const REQUESTS_IN_FLIGHT_METRIC = "qs_requests_in_flight";
/**
 * Oracle lookups of the proxy: counter, labels `role` and `result`
 * (`started`: each oracle call; `failed`: those that ended in an error),
 * from `KvStateClientProxy.oracleLookups`. The counters are advanced at
 * each rendering by what the proxy's counts grew since the last one.
 */
export const ORACLE_LOOKUPS_METRIC = "qs_oracle_lookups_total";

/** Members of an upstream pool by health: gauge, labels `role` and `state` (`up`, `down`, `draining`). */
export const POOL_MEMBERS_METRIC = "qs_pool_members";
/** Whether a pool member takes requests (1) or is down, or left the pool (0): gauge, labels `role`, `member`. */
export const POOL_MEMBER_UP_METRIC = "qs_pool_member_up";
/** Requests in flight on a pool member: gauge, labels `role`, `member`. */
export const POOL_MEMBER_OUTSTANDING_METRIC = "qs_pool_member_outstanding";
/** Attempts sent to a pool member (probes not counted): counter, labels `role`, `member`. */
export const POOL_MEMBER_REQUESTS_METRIC = "qs_pool_member_requests_total";
/**
 * Attempts that ended without an answer from the member (connect failure,
 * connection lost, attempt timeout, queue full): counter, labels `role`, `member`.
 */
export const POOL_MEMBER_FAILURES_METRIC = "qs_pool_member_failures_total";
/** Requests that failed on a member and were sent to another one: counter, labels `role`, `member`. */
export const POOL_MEMBER_FAILOVERS_METRIC = "qs_pool_member_failovers_total";
/** Requests the pool sent again to another member, all members: counter, label `role`. */
export const POOL_FAILOVERS_METRIC = "qs_pool_failovers_total";
/** The members the last good Flink REST refresh found: gauge, label `role`. */
export const FLINK_REST_MEMBERS_METRIC = "qs_flink_rest_members";
/** Whether the last Flink REST refresh succeeded (1) or failed (0): gauge, label `role`. */
export const FLINK_REST_UP_METRIC = "qs_flink_rest_up";
/** Flink REST refreshes that failed (the last good list kept): counter, label `role`. */
export const FLINK_REST_FAILURES_METRIC = "qs_flink_rest_refresh_failures_total";

/**
 * The logger of the flags `--log-level` (default `info`) and
 * `--log-format` (default `text`), writing one line per event to stderr
 * (through `console.error`, so the lines never interleave with the
 * CLI's other stderr lines), with `createLogger`'s default rate limit.
 *
 * @param flags The resolved flags (`log-level`, `log-format`).
 * @param write Where each line goes. Default: stderr.
 * @returns The logger.
 * @throws {CliUsageError} On a level or format that is not known, naming where it came from.
 */
export function cliLogger(
  flags: ResolvedFlags,
  write: (line: string) => void = (line) => console.error(line),
): WritingLogger {
  let level;
  try {
    level = parseLogLevel(flags.requiredString("log-level"));
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    throw new CliUsageError(`${flags.source("log-level")}: ${(e as Error).message}`);
  }
  const format = flags.requiredString("log-format").trim().toLowerCase();
  if (format !== "text" && format !== "json") {
    throw new CliUsageError(
      `${flags.source("log-format")}: expected text or json, got ${
        JSON.stringify(flags.requiredString("log-format").slice(0, 40))
      }`,
    );
  }
  return createLogger({ level, format, write });
}

/**
 * Gauges of a proxy read at each rendering from its public getters:
 * {@linkcode LOCATION_CACHE_ENTRIES_METRIC},
 * {@linkcode LOCATION_CACHE_BYTES_METRIC} (`locationCacheSize`) and
 * {@linkcode UPSTREAM_QUEUED_BYTES_METRIC} (`client.queuedBytes`), each
 * labelled `role="proxy"`; {@linkcode REQUESTS_IN_FLIGHT_METRIC} with
 * `role="proxy"` (`requestsInFlight`) and `role="upstream"`
 * (`client.requestsInFlight`); and the counters
 * {@linkcode ORACLE_LOOKUPS_METRIC} (`oracleLookups`).
 *
 * @param registry The process's registry.
 * @param proxy The proxy.
 */
export function addProxyGauges(registry: MetricsRegistry, proxy: KvStateClientProxy): void {
  const role = { role: "proxy" };
  const byRole = ["role"];
  const entries = registry.gauge({
    name: LOCATION_CACHE_ENTRIES_METRIC,
    help: "Location cache entries (resolved, pending and recently failed lookups).",
    labelNames: byRole,
  }).labels(role);
  const bytes = registry.gauge({
    name: LOCATION_CACHE_BYTES_METRIC,
    help: "The location cache's estimated size, in bytes.",
    labelNames: byRole,
  }).labels(role);
  const queued = registry.gauge({
    name: UPSTREAM_QUEUED_BYTES_METRIC,
    help: "Request bytes waiting to be written to state servers.",
    labelNames: byRole,
  }).labels(role);
  const inFlight = registry.gauge({
    name: REQUESTS_IN_FLIGHT_METRIC,
    help: "Requests in progress now (proxy: received, upstream: sent), not yet answered.",
    labelNames: byRole,
  });
  const proxyInFlight = inFlight.labels(role);
  const upstreamInFlight = inFlight.labels({ role: "upstream" });
  const lookups = registry.counter({
    name: ORACLE_LOOKUPS_METRIC,
    help: "Location lookups asked of the oracles (started), and those that failed.",
    labelNames: ["role", "result"],
  });
  const started = lookups.labels({ role: "proxy", result: "started" });
  const failed = lookups.labels({ role: "proxy", result: "failed" });
  // The proxy's counts only grow: each rendering adds what they grew by.
  let seenStarted = 0;
  let seenFailed = 0;
  registry.addCollector(() => {
    const size = proxy.locationCacheSize;
    entries.set(size.entries);
    bytes.set(size.bytes);
    queued.set(proxy.client.queuedBytes);
    proxyInFlight.set(proxy.requestsInFlight);
    upstreamInFlight.set(proxy.client.requestsInFlight);
    const n = proxy.oracleLookups;
    if (n.started > seenStarted) started.inc(n.started - seenStarted);
    if (n.failed > seenFailed) failed.inc(n.failed - seenFailed);
    seenStarted = n.started;
    seenFailed = n.failed;
  });
}

/**
 * Metrics of an upstream pool, read at each rendering from
 * `ProxyPool.members` and `ProxyPool.failovers`:
 * {@linkcode POOL_MEMBERS_METRIC}, and per member
 * {@linkcode POOL_MEMBER_UP_METRIC}, {@linkcode POOL_MEMBER_OUTSTANDING_METRIC},
 * {@linkcode POOL_MEMBER_REQUESTS_METRIC}, {@linkcode POOL_MEMBER_FAILURES_METRIC},
 * {@linkcode POOL_MEMBER_FAILOVERS_METRIC}; and {@linkcode POOL_FAILOVERS_METRIC}.
 * A member that left the pool keeps its series, `up` 0 (the registry folds
 * label sets past its bound, 100 by default, into `other`). The counters
 * advance by what the pool's counts grew since the last rendering (a
 * member that left and came back counts from 0 again).
 *
 * @param registry The process's registry.
 * @param pool The pool.
 * @param role The `role` label.
 */
export function addPoolMetrics(registry: MetricsRegistry, pool: ProxyPool, role: string): void {
  const byMember = ["role", "member"];
  const members = registry.gauge({
    name: POOL_MEMBERS_METRIC,
    help: "Members of the upstream pool, by state.",
    labelNames: ["role", "state"],
  });
  const counts = {
    up: members.labels({ role, state: "up" }),
    down: members.labels({ role, state: "down" }),
    draining: members.labels({ role, state: "draining" }),
  };
  const up = registry.gauge({
    name: POOL_MEMBER_UP_METRIC,
    help: "Whether the pool member takes requests (1), or is down or gone (0).",
    labelNames: byMember,
  });
  const outstanding = registry.gauge({
    name: POOL_MEMBER_OUTSTANDING_METRIC,
    help: "Requests in flight on the pool member.",
    labelNames: byMember,
  });
  const counters = [
    [
      registry.counter({
        name: POOL_MEMBER_REQUESTS_METRIC,
        help: "Attempts sent to the pool member.",
        labelNames: byMember,
      }),
      "requests",
    ],
    [
      registry.counter({
        name: POOL_MEMBER_FAILURES_METRIC,
        help: "Attempts on the pool member that ended without an answer from it.",
        labelNames: byMember,
      }),
      "failures",
    ],
    [
      registry.counter({
        name: POOL_MEMBER_FAILOVERS_METRIC,
        help: "Requests that failed on the pool member and went to another one.",
        labelNames: byMember,
      }),
      "failovers",
    ],
  ] as const;
  const failovers = registry.counter({
    name: POOL_FAILOVERS_METRIC,
    help: "Requests the pool sent again to another member.",
    labelNames: ["role"],
  }).labels({ role });
  /** Per member: the counts seen at the last rendering. */
  const seen = new Map<string, [number, number, number]>();
  let seenFailovers = 0;
  registry.addCollector(() => {
    let nUp = 0, nDown = 0, nDraining = 0;
    const present = new Set<string>();
    for (const m of pool.members) {
      present.add(m.address);
      if (m.draining) nDraining++;
      else if (m.up) nUp++;
      else nDown++;
      const labels = { role, member: m.address };
      up.labels(labels).set(m.up && !m.draining ? 1 : 0);
      outstanding.labels(labels).set(m.outstanding);
      const last = seen.get(m.address) ?? [0, 0, 0];
      counters.forEach(([counter, field], i) => {
        const n = m[field];
        // A count below the last one: the member left and came back, counting from 0.
        const grew = n >= last[i] ? n - last[i] : n;
        const child = counter.labels(labels); // a member's counters show from its first rendering
        if (grew > 0) child.inc(grew);
        last[i] = n;
      });
      seen.set(m.address, last);
    }
    for (const address of seen.keys()) {
      if (present.has(address)) continue;
      const labels = { role, member: address };
      up.labels(labels).set(0);
      outstanding.labels(labels).set(0);
      seen.delete(address);
    }
    counts.up.set(nUp);
    counts.down.set(nDown);
    counts.draining.set(nDraining);
    const n = pool.failovers;
    if (n > seenFailovers) failovers.inc(n - seenFailovers);
    seenFailovers = n;
  });
}

/** What {@linkcode addDiscoveryMetrics} returns: the hooks the discovery reports to. */
export interface DiscoveryMetrics {
  /** Counts a failed refresh (the discovery's `onError`). */
  refreshFailed(): void;
  /** Reads the discovery's members and last outcome at each rendering. */
  watch(discovery: FlinkRestDiscovery): void;
}

/**
 * Metrics of a Flink REST discovery: {@linkcode FLINK_REST_MEMBERS_METRIC},
 * {@linkcode FLINK_REST_UP_METRIC} (1 until a refresh fails),
 * {@linkcode FLINK_REST_FAILURES_METRIC}, each labelled `role`.
 *
 * @param registry The process's registry.
 * @param role The `role` label.
 * @returns The hooks: pass `refreshFailed` as the discovery's `onError`, then `watch` it.
 */
export function addDiscoveryMetrics(registry: MetricsRegistry, role: string): DiscoveryMetrics {
  const labels = { role };
  const failures = registry.counter({
    name: FLINK_REST_FAILURES_METRIC,
    help: "Flink REST refreshes that failed (the last good member list kept).",
    labelNames: ["role"],
  }).labels(labels);
  const members = registry.gauge({
    name: FLINK_REST_MEMBERS_METRIC,
    help: "Members found by the last good Flink REST refresh.",
    labelNames: ["role"],
  }).labels(labels);
  const up = registry.gauge({
    name: FLINK_REST_UP_METRIC,
    help: "Whether the last Flink REST refresh succeeded (1) or failed (0).",
    labelNames: ["role"],
  }).labels(labels);
  return {
    refreshFailed: () => failures.inc(),
    watch(discovery) {
      registry.addCollector(() => {
        members.set(discovery.members.length);
        up.set(discovery.lastError === undefined ? 1 : 0);
      });
    },
  };
}
