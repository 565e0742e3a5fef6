/**
 * The baseline forwarder on Node (`node:net`), the same engine as
 * `baseline_forwarder.ts` (`_forwarder_core.ts`): frames parsed in place in
 * each `data` chunk (a partial frame is carried over), routed by key group,
 * one pooled upstream socket per state server, one `socket.write` per batch.
 * Node 20 does not run TypeScript, so bundle it first:
 *
 *   deno bundle --platform deno -o /tmp/baseline_forwarder_node.mjs bench/baseline_forwarder_node.ts
 *   node /tmp/baseline_forwarder_node.mjs --locations loc.json [--host 127.0.0.1] [--port 0]
 *
 * (`run_proxy_bench.ts` does both.) It prints `listening on HOST:PORT` once
 * ready; SIGTERM/SIGINT end it.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import * as net from "node:net";
import process from "node:process";
import {
  type ClientSide,
  forwarderArgs,
  ForwarderCore,
  OutBuffer,
  type Sink,
} from "./_forwarder_core.ts";

class NodeSink implements Sink {
  out: OutBuffer = new OutBuffer(4096);
  touched = false;
  closed = false;
  readonly #socket: net.Socket;

  constructor(socket: net.Socket) {
    this.#socket = socket;
  }

  flush(): void {
    const o = this.out;
    if (o.len === 0) return;
    // socket.write keeps the array until sent: hand it a copy.
    this.#socket.write(o.buf.slice(0, o.len));
    o.len = 0;
  }
}

/** Feeds `data` chunks to a handler, carrying a partial frame over. */
function reader(
  core: ForwarderCore,
  handle: (b: Uint8Array, end: number) => number,
  onError: (e: unknown) => void,
): (chunk: Uint8Array) => void {
  let carry: Uint8Array | null = null;
  let carryLen = 0;
  return (chunk) => {
    let b = chunk;
    let end = chunk.length;
    if (carryLen > 0) {
      if (carry!.length < carryLen + end) {
        const g = new Uint8Array(Math.max(carry!.length * 2, carryLen + end));
        g.set(carry!.subarray(0, carryLen));
        carry = g;
      }
      carry!.set(chunk, carryLen);
      b = carry!;
      end = carryLen + chunk.length;
    }
    let used: number;
    try {
      used = handle(b, end);
    } catch (e) {
      onError(e); // framing lost
      return;
    }
    core.flushTouched();
    const rest = end - used;
    if (rest === 0) {
      carryLen = 0;
    } else if (b === carry) {
      if (used > 0) carry.copyWithin(0, used, end);
      carryLen = rest;
    } else {
      if (carry === null || carry.length < rest) carry = new Uint8Array(Math.max(rest, 4096));
      carry.set(b.subarray(used, end));
      carryLen = rest;
    }
  };
}

function fatal(what: string): (e?: unknown) => void {
  return (e) => {
    console.error(`baseline forwarder: ${what}${e ? `: ${(e as Error)?.message ?? e}` : ""}`);
    process.exit(1);
  };
}

async function main(): Promise<void> {
  let args;
  try {
    args = forwarderArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  const core = new ForwarderCore(JSON.parse(readFileSync(args.locations, "utf8")));
  for (const up of core.upstreams) {
    const i = up.address.lastIndexOf(":");
    const socket = net.connect({
      host: up.address.slice(0, i).replace(/^\[|\]$/g, ""),
      port: Number(up.address.slice(i + 1)),
      noDelay: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.setNoDelay(true);
    up.sink = new NodeSink(socket);
    socket.on(
      "data",
      reader(core, (b, end) => core.onUpstreamBytes(up, b, end), fatal(`upstream ${up.address}`)),
    );
    socket.on("error", fatal(`upstream ${up.address} failed`));
    socket.on("close", () => fatal(`upstream ${up.address} closed`)());
  }
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    const client: ClientSide = new NodeSink(socket);
    const done = () => {
      client.closed = true;
      socket.destroy();
    };
    socket.on("data", reader(core, (b, end) => core.onClientBytes(client, b, end), done));
    socket.on("error", done);
    socket.on("close", done);
  });
  server.listen(args.port, args.host, () => {
    const a = server.address() as net.AddressInfo;
    console.log(`listening on ${a.address}:${a.port}`);
  });
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch(fatal("start failed"));
