/**
 * Bench targets under real Node, on the Node transport: the same roles and
 * flags as `serve.ts` (`server` or `proxy`), bundled first because Node 20
 * does not run TypeScript:
 *
 *   deno bundle --platform deno -o /tmp/serve_node.mjs bench/serve_node.ts
 *   node /tmp/serve_node.mjs proxy --locations loc.json [--port 0]
 *
 * (`run_proxy_bench.ts` does both.) It prints `listening on HOST:PORT` once
 * ready and exits cleanly on SIGTERM/SIGINT.
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { formatAddress } from "../mod.ts";
import { nodeTransport } from "../src/transport/node.ts";
import { num, parseArgs, str } from "./_flags.ts";
import { SERVE_FLAGS, SERVE_USAGE, startBenchProxy, startBenchServer } from "./_serve_common.ts";

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), SERVE_FLAGS);
  } catch (e) {
    console.error(`${(e as Error).message}\n${SERVE_USAGE}`);
    return 2;
  }
  const role = args.positional[0];
  const host = str(args, "host", "127.0.0.1");
  const port = num(args, "port", 0);
  const maxConnections = num(args, "max-connections", 20_000);
  let close: () => Promise<void>;
  let address;
  if (role === "server") {
    const started = await startBenchServer(nodeTransport, {
      host,
      port,
      keys: num(args, "keys", 1000),
      maxConnections,
    });
    if (args.flags["write-locations"] !== undefined) {
      writeFileSync(str(args, "write-locations"), JSON.stringify(started.locations));
    }
    close = () => started.server.close();
    address = started.address;
  } else if (role === "proxy") {
    const locations = JSON.parse(readFileSync(str(args, "locations"), "utf8"));
    const started = await startBenchProxy(nodeTransport, {
      host,
      port,
      locations,
      maxConnections,
    });
    close = () => started.proxy.close();
    address = started.address;
  } else {
    console.error(SERVE_USAGE);
    return 2;
  }
  console.log(`listening on ${formatAddress(address)}`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  await close();
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
