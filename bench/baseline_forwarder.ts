/**
 * The baseline forwarder on Deno: the ceiling our proxy is compared with.
 * One `conn.read` loop per connection into a reused buffer, frames parsed in
 * place, `KvStateRequest` routed by key group through a static location
 * table, forwarded as `KvStateInternalRequest` over one pooled upstream
 * connection per state server (own id map), one write per batch (see
 * `_forwarder_core.ts`). No Web Streams.
 *
 *   deno run -A bench/baseline_forwarder.ts --locations loc.json [--host 127.0.0.1] [--port 0] \
 *     [--read-buffer 16384]
 *
 * The locations file is what `serve.ts server --write-locations` writes. It
 * prints `listening on HOST:PORT` once ready; SIGTERM/SIGINT end it.
 *
 * @module
 */

import { type ClientSide, forwarderArgs, ForwarderCore } from "./_forwarder_core.ts";
import { DenoSink, readLoop } from "./_deno_io.ts";

async function main(): Promise<number> {
  let args;
  try {
    args = forwarderArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const core = new ForwarderCore(JSON.parse(await Deno.readTextFile(args.locations)));
  const flush = () => core.flushTouched();
  const fatal = (what: string) => (e?: unknown) => {
    console.error(`baseline forwarder: ${what}${e ? `: ${(e as Error)?.message ?? e}` : ""}`);
    Deno.exit(1);
  };
  for (const up of core.upstreams) {
    const i = up.address.lastIndexOf(":");
    const conn = await Deno.connect({
      hostname: up.address.slice(0, i).replace(/^\[|\]$/g, ""),
      port: Number(up.address.slice(i + 1)),
    });
    conn.setNoDelay(true);
    up.sink = new DenoSink(conn, fatal(`write to ${up.address} failed`));
    readLoop(conn, 64 * 1024, (b, end) => core.onUpstreamBytes(up, b, end), flush).then(
      fatal(`upstream ${up.address} closed`),
      fatal(`upstream ${up.address} failed`),
    );
  }
  const listener = Deno.listen({ hostname: args.host, port: args.port });
  const addr = listener.addr as Deno.NetAddr;
  console.log(`listening on ${addr.hostname}:${addr.port}`);
  const stop = () => {
    listener.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  for await (const conn of listener) {
    conn.setNoDelay(true);
    const client: ClientSide = new DenoSink(conn, () => {
      client.closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    });
    readLoop(conn, args.readBuffer, (b, end) => core.onClientBytes(client, b, end), flush)
      .catch(() => {})
      .finally(() => {
        client.closed = true;
        try {
          conn.close();
        } catch {
          // already closed
        }
      });
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
