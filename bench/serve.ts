/**
 * Bench targets as separate processes, on Deno: the state server with the
 * bench data set, or our proxy in front of it. Each prints
 * `listening on HOST:PORT` once ready (the harness reads that line) and exits
 * cleanly on SIGTERM/SIGINT.
 *
 *   deno run -A bench/serve.ts server [--port 0] [--keys 1000] [--write-locations loc.json]
 *   deno run -A bench/serve.ts proxy --locations loc.json [--port 0] [--transport deno|node]
 *
 * `--transport node` runs our proxy on the Node transport (`node:net`) under
 * Deno; `serve_node.ts` (bundled) runs it under real Node.
 *
 * @module
 */

import { formatAddress, type Transport } from "../mod.ts";
import { num, parseArgs, str } from "./_flags.ts";
import { untilSignal } from "./_procs.ts";
import { SERVE_FLAGS, SERVE_USAGE, startBenchProxy, startBenchServer } from "./_serve_common.ts";

async function transportFor(name: string): Promise<Transport> {
  if (name === "deno") return (await import("../src/transport/deno.ts")).denoTransport;
  if (name === "node") return (await import("../src/transport/node.ts")).nodeTransport;
  throw new Error(`--transport: expected deno or node, got ${JSON.stringify(name)}`);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(Deno.args, SERVE_FLAGS);
  } catch (e) {
    console.error(`${(e as Error).message}\n${SERVE_USAGE}`);
    return 2;
  }
  const role = args.positional[0];
  const transport = await transportFor(str(args, "transport", "deno"));
  const host = str(args, "host", "127.0.0.1");
  const port = num(args, "port", 0);
  const maxConnections = num(args, "max-connections", 20_000);
  let close: () => Promise<void>;
  let address;
  if (role === "server") {
    const started = await startBenchServer(transport, {
      host,
      port,
      keys: num(args, "keys", 1000),
      maxConnections,
    });
    if (args.flags["write-locations"] !== undefined) {
      await Deno.writeTextFile(str(args, "write-locations"), JSON.stringify(started.locations));
    }
    close = () => started.server.close();
    address = started.address;
  } else if (role === "proxy") {
    const locations = JSON.parse(await Deno.readTextFile(str(args, "locations")));
    const started = await startBenchProxy(transport, { host, port, locations, maxConnections });
    close = () => started.proxy.close();
    address = started.address;
  } else {
    console.error(SERVE_USAGE);
    return 2;
  }
  console.log(`listening on ${formatAddress(address)}`);
  await untilSignal();
  await close();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
