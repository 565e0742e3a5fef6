/**
 * Starting the bench state server and our proxy on a given transport
 * (runtime-neutral: `serve.ts` runs it on Deno, `serve_node.ts` on Node).
 *
 * @module
 */

import {
  KvStateClientProxy,
  KvStateServer,
  type NetAddress,
  StaticLocationOracle,
  type Transport,
} from "../mod.ts";
import { BENCH_JOB_ID, benchLocations, buildBenchStates } from "./_dataset.ts";

/** Options of {@linkcode startBenchServer}. */
export interface BenchServerOptions {
  /** The address to bind. */
  readonly host: string;
  /** The port (0 for any). */
  readonly port: number;
  /** Keys per state. */
  readonly keys: number;
  /** The most connections served at once. */
  readonly maxConnections: number;
}

/**
 * Starts a state server holding the bench data set, each state registered
 * under the ids of both its key-group ranges.
 *
 * @param transport The transport.
 * @param options Binding and size.
 * @returns The server, its address and its locations document.
 */
export async function startBenchServer(
  transport: Transport,
  options: BenchServerOptions,
): Promise<{ server: KvStateServer; address: NetAddress; locations: unknown }> {
  const server = new KvStateServer({
    transport,
    host: options.host,
    port: options.port,
    maxConnections: options.maxConnections,
    // The load generators connect from one host (127.0.0.1).
    maxConnectionsPerAddress: options.maxConnections,
  });
  const states = buildBenchStates(options.keys);
  for (const s of states) {
    server.registry.register(s.state, s.kvStateIds[0]);
    server.registry.register(s.state, s.kvStateIds[1]);
  }
  const address = await server.start();
  return { server, address, locations: benchLocations(states, address) };
}

/** Options of {@linkcode startBenchProxy}. */
export interface BenchProxyOptions {
  /** The address to bind. */
  readonly host: string;
  /** The port (0 for any). */
  readonly port: number;
  /** The locations document (as written by `serve.ts server --write-locations`). */
  readonly locations: unknown;
  /** The most connections served at once. */
  readonly maxConnections: number;
}

/**
 * Starts our proxy, with the real code path: a static oracle for the bench
 * job (looked up once, then cached), key-group routing, stats on.
 *
 * @param transport The transport (also used upstream).
 * @param options Binding and locations.
 * @returns The proxy and its address.
 */
export async function startBenchProxy(
  transport: Transport,
  options: BenchProxyOptions,
): Promise<{ proxy: KvStateClientProxy; address: NetAddress }> {
  const proxy = new KvStateClientProxy({
    transport,
    host: options.host,
    port: options.port,
    maxConnections: options.maxConnections,
    // The load generators connect from one host (127.0.0.1).
    maxConnectionsPerAddress: options.maxConnections,
  });
  proxy.updateKvStateLocationOracle(BENCH_JOB_ID, new StaticLocationOracle(options.locations));
  const address = await proxy.start();
  return { proxy, address };
}

/** The flags `serve.ts` and `serve_node.ts` accept. */
export const SERVE_FLAGS = [
  "host",
  "port",
  "keys",
  "locations",
  "write-locations",
  "transport",
  "max-connections",
] as const;

/** The usage line of the serve scripts. */
export const SERVE_USAGE = "usage: serve.ts server [--host H] [--port P] [--keys N] " +
  "[--write-locations FILE] [--max-connections N]\n" +
  "       serve.ts proxy --locations FILE [--host H] [--port P] [--transport deno|node] " +
  "[--max-connections N]";
