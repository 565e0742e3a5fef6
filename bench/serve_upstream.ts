/**
 * A bench target as its own process: our proxy in upstream mode (Deno
 * transport), forwarding every client request whole to a pool of other
 * Queryable State proxies and relaying their answers with only the request
 * id patched. Configured as `serve.ts proxy` is (the same connection
 * bounds), with the pool's defaults otherwise. Prints
 * `listening on HOST:PORT` once ready; on SIGUSR2 prints one line
 * `pool {...}` (the pool's failovers and its members' snapshots, JSON);
 * exits cleanly on SIGTERM/SIGINT.
 *
 *   deno run -A bench/serve_upstream.ts --upstream 127.0.0.1:9070,127.0.0.1:9071 [--port 0]
 *
 * @module
 */

import { formatAddress, KvStateClientProxy } from "../mod.ts";
import { denoTransport } from "../src/transport/deno.ts";
import { num, parseArgs, str } from "./_flags.ts";
import { untilSignal } from "./_procs.ts";

const USAGE = "usage: serve_upstream.ts --upstream HOST:PORT[,HOST:PORT...] [--host H] " +
  "[--port P] [--max-connections N]";

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(Deno.args, ["upstream", "host", "port", "max-connections"]);
    str(args, "upstream");
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const maxConnections = num(args, "max-connections", 20_000);
  const proxy = new KvStateClientProxy({
    transport: denoTransport,
    host: str(args, "host", "127.0.0.1"),
    port: num(args, "port", 0),
    maxConnections,
    // The load generators connect from one host (127.0.0.1).
    maxConnectionsPerAddress: maxConnections,
    upstream: { members: str(args, "upstream") },
  });
  const address = await proxy.start();
  console.log(`listening on ${formatAddress(address)}`);
  const report = () => {
    const pool = proxy.upstream!;
    console.log(`pool ${JSON.stringify({ failovers: pool.failovers, members: pool.members })}`);
  };
  Deno.addSignalListener("SIGUSR2", report);
  await untilSignal();
  Deno.removeSignalListener("SIGUSR2", report);
  await proxy.close();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
