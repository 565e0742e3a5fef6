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
