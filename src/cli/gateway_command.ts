/**
 * The `gateway` command (CLI glue): the HTTP/JSON gateway alone, in front of
 * any Queryable State client proxy (ours, or a Flink TaskManager's), or of
 * several through a pool (several `--proxy` values, or `--flink-rest`).
 *
 * @module
 */

import { QueryableStateClient } from "../client/queryable_state_client.ts";
import { formatAddress } from "../oracle/locations_file.ts";
import type { NetAddress, Transport } from "../transport/types.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";
import { diallingTransport } from "./tls_flags.ts";
import { gatewayHandler, httpAddress, serveHttp } from "./http_serve.ts";
import { onHangup, reloadReported, untilSignal } from "./signals.ts";
import type { WritingLogger } from "../observability/logger.ts";
import { MetricsRegistry } from "../observability/registry.ts";
import { MetricsStats } from "../observability/metrics_stats.ts";
import { metricsRoute } from "../http/metrics_route.ts";
import { cliLogger } from "./observe.ts";
import { startUpstreamPool, upstreamChoice, type UpstreamPool } from "./upstream_pool.ts";
import { readConfigJson } from "./config_file.ts";

/** How long `/readyz` waits for the proxy to accept a connection. */
const READY_TIMEOUT_MS = 2_000;

/**
 * `/readyz` of the gateway: whether the proxy accepts a connection within
 * {@linkcode READY_TIMEOUT_MS}.
 */
function proxyAccepts(transport: Transport, proxy: NetAddress): () => Promise<boolean> {
  return async () => {
    try {
      const conn = await transport.connect({
        ...proxy,
        signal: AbortSignal.timeout(READY_TIMEOUT_MS),
      });
      await conn.close();
      return true;
    } catch {
      return false;
    }
  };
}

/**
 * Runs the gateway until SIGINT or SIGTERM; SIGHUP refreshes the member
 * list of `--flink-rest`, or reads several `--proxy` values given in the
 * `--config` file again.
 *
 * @param flags The resolved flags.
 * @returns The exit code.
 * @throws {CliUsageError} On flags that do not fit.
 */
export async function gatewayCommand(flags: ResolvedFlags): Promise<number> {
  const logger = cliLogger(flags);
  try {
    return await runGateway(flags, logger);
  } finally {
    logger.flush();
  }
}

/** `/readyz` with a pool: some member takes requests. */
function someMemberUp(pool: UpstreamPool): () => boolean {
  return () => pool.pool.members.some((m) => m.up && !m.draining);
}

async function runGateway(flags: ResolvedFlags, logger: WritingLogger): Promise<number> {
  const choice = upstreamChoice(flags, "proxy");
  if (choice === undefined) throw new CliUsageError("--proxy is required");
  const listen = httpAddress(flags.requiredString("http"));
  const dial = await diallingTransport(flags);
  const metrics = new MetricsRegistry();
  // One proxy: the client dials it. Several, or discovered: the client queries through the pool.
  let pool: UpstreamPool | undefined;
  if (choice.kind === "flink-rest" || choice.members.length > 1) {
    pool = await startUpstreamPool(choice, {
      transport: dial.transport,
      logger,
      metrics,
      role: "upstream",
      statsRole: "client",
      name: "Queryable State Gateway Pool",
      // A query is given up at --deadline-ms: so are its attempts.
      requestTimeoutMs: flags.integer("deadline-ms"),
      readConfig: readConfigJson,
    });
  }
  const proxy = choice.kind === "static" ? choice.members[0] : undefined;
  const client = pool !== undefined
    ? new QueryableStateClient({ pool: pool.pool })
    : new QueryableStateClient({
      transport: dial.transport,
      proxy: proxy!,
      logger,
      stats: new MetricsStats({ registry: metrics, role: "client" }),
    });
  const handler = gatewayHandler(
    client,
    flags,
    pool ? someMemberUp(pool) : proxyAccepts(dial.transport, proxy!),
    [metricsRoute(metrics)],
  );
  const closeAll = async () => {
    await client.close(); // leaves the pool open: closed next
    await pool?.close();
  };
  let http;
  try {
    http = serveHttp(handler, listen);
  } catch (e) {
    console.error((e as Error).message);
    await closeAll();
    return 1;
  }
  const reloads = pool?.reloads;
  const stopReloads = reloads === undefined
    ? undefined
    : onHangup(() => reloadReported(pool!, reloads, "the previous member list", logger));
  if (dial.summary) console.log(dial.summary);
  if (pool) {
    console.log(pool.summary);
    console.log("gateway in front of the upstream pool");
  } else {
    console.log(`gateway in front of the proxy at ${formatAddress(proxy!)}`);
  }
  console.log(`http listening on ${formatAddress(http.address)}`);
  const signal = await untilSignal();
  console.log(`${signal}: shutting down`);
  logger.info("shutdown", { signal });
  await stopReloads?.();
  await http.close();
  await closeAll();
  return 0;
}
