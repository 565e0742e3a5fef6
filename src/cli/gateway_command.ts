/**
 * The `gateway` command (CLI glue): the HTTP/JSON gateway alone, in front of
 * any Queryable State client proxy (ours, or a Flink TaskManager's).
 *
 * @module
 */

import { QueryableStateClient } from "../client/queryable_state_client.ts";
import { formatAddress, parseAddress } from "../oracle/locations_file.ts";
import type { NetAddress, Transport } from "../transport/types.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";
import { diallingTransport } from "./tls_flags.ts";
import { gatewayHandler, httpAddress, serveHttp } from "./http_serve.ts";
import { untilSignal } from "./signals.ts";
import type { WritingLogger } from "../observability/logger.ts";
import { MetricsRegistry } from "../observability/registry.ts";
import { MetricsStats } from "../observability/metrics_stats.ts";
import { metricsRoute } from "../http/metrics_route.ts";
import { cliLogger } from "./observe.ts";

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
 * Runs the gateway until SIGINT or SIGTERM.
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

async function runGateway(flags: ResolvedFlags, logger: WritingLogger): Promise<number> {
  let proxy: NetAddress;
  try {
    proxy = parseAddress(flags.requiredString("proxy"));
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    throw new CliUsageError(`--proxy: ${(e as Error).message}`);
  }
  const listen = httpAddress(flags.requiredString("http"));
  const dial = await diallingTransport(flags);
  const metrics = new MetricsRegistry();
  const client = new QueryableStateClient({
    transport: dial.transport,
    proxy,
    logger,
    stats: new MetricsStats({ registry: metrics, role: "client" }),
  });
  const handler = gatewayHandler(client, flags, proxyAccepts(dial.transport, proxy), [
    metricsRoute(metrics),
  ]);
  let http;
  try {
    http = serveHttp(handler, listen);
  } catch (e) {
    console.error((e as Error).message);
    await client.close();
    return 1;
  }
  if (dial.summary) console.log(dial.summary);
  console.log(`gateway in front of the proxy at ${formatAddress(proxy)}`);
  console.log(`http listening on ${formatAddress(http.address)}`);
  const signal = await untilSignal();
  console.log(`${signal}: shutting down`);
  logger.info("shutdown", { signal });
  await http.close();
  await client.close();
  return 0;
}
