/**
 * The `proxy` command (CLI glue): a queryable-state client proxy, in front
 * of the locations of `--locations`, of a pool of upstream proxies
 * (`--upstream-proxies`, `--flink-rest`), or of an embedded demo state
 * plane.
 *
 * @module
 */

import { formatAddress } from "../oracle/locations_file.ts";
import { InMemoryLocationRegistry } from "../oracle/in_memory_location_registry.ts";
import { KvStateClientProxy } from "../proxy/kv_state_client_proxy.ts";
import { KvStateServer } from "../server/kv_state_server.ts";
import { JobVertexId } from "../wire/ids.ts";
import { denoTransport } from "../transport/deno.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";
import type { CliContext } from "./context.ts";
import { diallingTransport, servingTransport } from "./tls_flags.ts";
import { DEMO_FIXTURES, parseFixtures, registerFixtures } from "./fixtures.ts";
import { AllowFile } from "./access_file.ts";
import { LocationsSource } from "./locations_source.ts";
import { onHangup, reloadReported, untilSignal } from "./signals.ts";
import { QueryableStateClient } from "../client/queryable_state_client.ts";
import type { NetAddress } from "../transport/types.ts";
import {
  type CliHttpServer,
  dialAddress,
  gatewayHandler,
  httpAddress,
  httpBase,
  serveHttp,
} from "./http_serve.ts";
import type { Logger, WritingLogger } from "../observability/logger.ts";
import { MetricsRegistry } from "../observability/registry.ts";
import { MetricsStats } from "../observability/metrics_stats.ts";
import { metricsRoute } from "../http/metrics_route.ts";
import { addProxyGauges, cliLogger } from "./observe.ts";
import { startUpstreamPool, upstreamChoice, type UpstreamPool } from "./upstream_pool.ts";
import { readConfigJson } from "./config_file.ts";

/** The demo state the explorer link shows. */
const DEMO_QUERY = {
  job: "0102030405060708a1a2a3a4a5a6a7a8",
  state: "word-counts",
  key: "hello",
  keyType: "string",
  valueType: "long",
} as const;

/**
 * The explorer page's link to the demo value (the page at `/` reads its
 * form from these parameters).
 *
 * @param http Where the HTTP gateway listens.
 * @returns The link.
 */
export function demoExplorerLink(http: NetAddress): string {
  return `${httpBase(http)}/?${new URLSearchParams(DEMO_QUERY)}`;
}

/** The gateway beside the proxy: its client dials the proxy itself. */
interface ProxyGateway {
  readonly http: CliHttpServer;
  readonly client: QueryableStateClient;
}

/**
 * Starts the HTTP gateway in front of the proxy at `proxyAddress`.
 *
 * @returns The gateway, or the exit code when it cannot listen.
 */
function startGateway(
  flags: ResolvedFlags,
  listen: NetAddress,
  proxyAddress: NetAddress,
  logger: Logger,
  metrics: MetricsRegistry,
): ProxyGateway | number {
  const client = new QueryableStateClient({
    transport: denoTransport,
    proxy: dialAddress(proxyAddress),
    logger,
    stats: new MetricsStats({ registry: metrics, role: "client" }),
  });
  try {
    const http = serveHttp(
      gatewayHandler(client, flags, undefined, [metricsRoute(metrics)]),
      listen,
    );
    return { http, client };
  } catch (e) {
    console.error((e as Error).message);
    void client.close();
    return 1;
  }
}

/** The embedded demo state plane: a state server with the demo data, and its registry. */
async function startDemo(
  proxy: KvStateClientProxy,
  logger: Logger,
  metrics: MetricsRegistry,
): Promise<{ server: KvStateServer; hint: string }> {
  const fixtures = parseFixtures(DEMO_FIXTURES);
  const server = new KvStateServer({
    transport: denoTransport,
    host: "127.0.0.1",
    port: 0,
    logger,
    stats: new MetricsStats({ registry: metrics, role: "server" }),
  });
  const serverAddress = await server.start();
  const registry = new InMemoryLocationRegistry();
  registerFixtures(server.registry, fixtures);
  for (const s of fixtures.states) {
    registry.notifyKvStateRegistered({
      jobId: fixtures.jobId,
      jobVertexId: JobVertexId.random(),
      registrationName: s.name,
      numKeyGroups: s.numKeyGroups,
      start: 0,
      end: s.numKeyGroups - 1,
      kvStateId: s.kvStateId,
      address: serverAddress,
    });
  }
  proxy.updateKvStateLocationOracle(fixtures.jobId, registry);
  const hint = `demo state server on ${formatAddress(serverAddress)}; job ${fixtures.jobId}: ` +
    fixtures.states.map((s) => `${s.name} (${s.stateKind} ${s.keyType} -> ${s.valueType})`)
      .join(", ");
  return { server, hint };
}

/**
 * Runs the proxy until SIGINT or SIGTERM; SIGHUP reloads `--locations`
 * (a file) and `--allow`, refreshes `--flink-rest`, and reads an
 * `--upstream-proxies` list given in the `--config` file again.
 *
 * @param flags The resolved flags.
 * @param context How the CLI was started.
 * @returns The exit code.
 * @throws {CliUsageError} On flags that do not fit.
 */
export async function proxyCommand(flags: ResolvedFlags, context: CliContext): Promise<number> {
  const logger = cliLogger(flags);
  try {
    return await runProxy(flags, context, logger);
  } finally {
    logger.flush();
  }
}

async function runProxy(
  flags: ResolvedFlags,
  context: CliContext,
  logger: WritingLogger,
): Promise<number> {
  const allowFile = flags.string("allow");
  const allow = allowFile === undefined ? undefined : await AllowFile.open(allowFile);
  const tls = await servingTransport(flags);
  const upstream = await diallingTransport(flags, "upstream-");
  const locations = flags.string("locations");
  const choice = upstreamChoice(flags, "upstream-proxies", ["locations"]);
  if (upstream.summary && locations === undefined && choice === undefined) {
    throw new CliUsageError(
      "--upstream-tls* need --locations, --upstream-proxies or --flink-rest " +
        "(the demo state server speaks plaintext)",
    );
  }
  const httpFlag = flags.string("http");
  if (httpFlag !== undefined && httpFlag !== "off" && tls.summary) {
    throw new CliUsageError(
      "--http does not work with --tls-cert yet (the gateway dials its proxy in plaintext)",
    );
  }
  // The demo serves HTTP on a free port unless told otherwise (or serving TLS).
  const httpListen = httpFlag === "off"
    ? undefined
    : httpFlag !== undefined
    ? httpAddress(httpFlag)
    : locations === undefined && choice === undefined && !tls.summary
    ? { hostname: "127.0.0.1", port: 0 }
    : undefined;

  // One registry for the process: the proxy, its upstream client, the demo server, the gateway.
  const metrics = new MetricsRegistry();
  // Upstream mode: the pool the proxy forwards every request to (owned here, closed last).
  let pool: UpstreamPool | undefined;
  if (choice !== undefined) {
    pool = await startUpstreamPool(choice, {
      transport: upstream.transport,
      logger,
      metrics,
      role: "upstream",
      name: "Queryable State Proxy Pool",
      maxFrameLength: flags.integer("max-frame-length"),
      readConfig: readConfigJson,
    });
  }
  const proxy = new KvStateClientProxy({
    transport: tls.transport,
    upstreamTransport: upstream.transport,
    host: flags.string("host"),
    port: flags.string("port"),
    maxFrameLength: flags.integer("max-frame-length"),
    retries: flags.integer("retries"),
    requestFilter: allow?.filter,
    logger,
    stats: new MetricsStats({ registry: metrics, role: "proxy" }),
    upstreamOptions: { stats: new MetricsStats({ registry: metrics, role: "upstream" }) },
    upstream: pool?.pool,
  });
  addProxyGauges(metrics, proxy);
  let source: LocationsSource | undefined;
  let demo: { server: KvStateServer; hint: string } | undefined;
  if (locations !== undefined) {
    try {
      source = await LocationsSource.open(locations, proxy);
    } catch (e) {
      console.error(`cannot use ${(e as Error).message}`);
      await proxy.close();
      return 2;
    }
  } else if (pool === undefined) {
    demo = await startDemo(proxy, logger, metrics);
  }
  let address;
  try {
    address = await proxy.start();
  } catch (e) {
    console.error((e as Error).message);
    await proxy.close();
    await pool?.close();
    await demo?.server.close();
    return 1;
  }
  let gateway: ProxyGateway | undefined;
  if (httpListen !== undefined) {
    const started = startGateway(flags, httpListen, address, logger, metrics);
    if (typeof started === "number") {
      await proxy.close();
      await pool?.close();
      await demo?.server.close();
      return started;
    }
    gateway = started;
  }
  const stopReloads = onHangup(async () => {
    if (source !== undefined) {
      await reloadReported(source, "locations", "the previous locations", logger);
    }
    if (allow !== undefined) await reloadReported(allow, "allow", "the previous rules", logger);
    if (pool?.reloads !== undefined) {
      await reloadReported(pool, pool.reloads, "the previous member list", logger);
    }
  });
  if (demo) console.log(demo.hint);
  if (allow) console.log(allow.summary);
  if (tls.summary) console.log(tls.summary);
  if (upstream.summary) console.log(upstream.summary);
  if (pool) console.log(pool.summary);
  console.log(`listening on ${formatAddress(address)}`);
  if (demo !== undefined) {
    console.log(
      `query a demo key with:\n  ${context.clientCommand} ` +
        `--proxy ${formatAddress(address)} --job 0102030405060708a1a2a3a4a5a6a7a8 ` +
        "--state word-counts --key-type string --key hello --value-type long",
    );
    if (tls.summary) {
      console.log(
        "  (over TLS: add --tls-ca with the CA of --tls-cert, and --allow-read for it; " +
          "with --tls-client-ca also --tls-cert/--tls-key)",
      );
    }
  }
  if (gateway !== undefined) {
    console.log(`http listening on ${formatAddress(gateway.http.address)}`);
    if (demo !== undefined) console.log(`explore: ${demoExplorerLink(gateway.http.address)}`);
  }
  const signal = await untilSignal();
  console.log(`${signal}: shutting down`);
  logger.info("shutdown", { signal });
  await stopReloads();
  await gateway?.http.close();
  await gateway?.client.close();
  await proxy.close();
  await pool?.close();
  await demo?.server.close();
  return 0;
}
