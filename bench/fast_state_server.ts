/**
 * A hand-written state server for the bench data set: the same answers as
 * `serve.ts server` (our `KvStateServer`), byte for byte, from a table built
 * at start (kvStateId + key bytes → the encoded answer), with one `conn.read`
 * loop per connection and one write per batch. It exists so that the state
 * server is not the bottleneck when the forwarders are compared
 * (`run_proxy_bench.ts --server fast`); it is not a state server anyone
 * should run.
 *
 *   deno run -A bench/fast_state_server.ts [--port 0] [--keys 1000] [--write-locations loc.json]
 *
 * It prints `listening on HOST:PORT` once ready; SIGTERM/SIGINT end it.
 *
 * @module
 */

import { formatAddress } from "../mod.ts";
import { benchLocations } from "./_dataset.ts";
import { appendAnswer, buildBenchAnswers, fnv } from "./_answers.ts";
import { type DenoSink, serveConnections } from "./_deno_io.ts";
import { num, parseArgs, str } from "./_flags.ts";

interface Entry {
  readonly key: Uint8Array;
  /** The answer frame without its request id: [len][version][type] + body after the id. */
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
}

function hex(b: Uint8Array, at: number): string {
  return Array.from(b.subarray(at, at + 16), (x) => x.toString(16).padStart(2, "0")).join("");
}

function main(): Promise<number> | number {
  const a = parseArgs(Deno.args, ["host", "port", "keys", "write-locations"]);
  const keys = num(a, "keys", 1000);
  // The answers, byte for byte those of KvStateServer (shared with native/write_table.ts).
  const { states, entries, missing, unknownId, knownIds: ids } = buildBenchAnswers(keys);
  const table = new Map<number, Entry[]>();
  for (const e of entries) {
    const h = fnv(e.key, 0, e.key.length);
    let list = table.get(h);
    if (list === undefined) table.set(h, list = []);
    list.push(e);
  }
  const knownIds = new Set<string>(ids.map((id) => hex(id, 0)));

  const handle = (sink: DenoSink, b: Uint8Array, end: number): number => {
    let p = 0;
    while (end - p >= 4) {
      const len = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      if (len < 0 || len > 1 << 20) throw new Error("bad frame length");
      const fend = p + 4 + len;
      if (fend > end) break;
      // [len][version][type][id 8][kvStateId 16][knLen][kn]
      let ans = missing;
      if (len >= 36) {
        const knLen = (b[p + 36] << 24) | (b[p + 37] << 16) | (b[p + 38] << 8) | b[p + 39];
        const keyEnd = p + 40 + knLen;
        if (keyEnd <= fend && knLen >= 0) {
          const list = table.get(hashKey(b, p + 20, p + 36, p + 40, keyEnd));
          let found: Entry | undefined;
          if (list !== undefined) {
            outer: for (const e of list) {
              const k = e.key;
              if (k.length !== 16 + knLen) continue;
              for (let i = 0; i < 16; i++) if (k[i] !== b[p + 20 + i]) continue outer;
              for (let i = 0; i < knLen; i++) if (k[16 + i] !== b[p + 40 + i]) continue outer;
              found = e;
              break;
            }
          }
          if (found !== undefined) ans = found;
          else if (!isKnown(b, p + 20)) ans = unknownId;
        }
      }
      appendAnswer(sink.out, ans, b, p);
      p = fend;
    }
    return p;
  };
  // FNV over the id then the key bytes, the same as over the table's keys.
  const hashKey = (b: Uint8Array, idAt: number, idEnd: number, knAt: number, knEnd: number) => {
    let h = 0x811c9dc5;
    for (let i = idAt; i < idEnd; i++) h = Math.imul(h ^ b[i], 0x01000193);
    for (let i = knAt; i < knEnd; i++) h = Math.imul(h ^ b[i], 0x01000193);
    return h >>> 0;
  };
  const isKnown = (b: Uint8Array, at: number) => knownIds.has(hex(b, at));

  const listener = Deno.listen({
    hostname: str(a, "host", "127.0.0.1"),
    port: num(a, "port", 0),
  });
  const addr = listener.addr as Deno.NetAddr;
  const address = { hostname: addr.hostname, port: addr.port };
  if (a.flags["write-locations"] !== undefined) {
    Deno.writeTextFileSync(
      str(a, "write-locations"),
      JSON.stringify(benchLocations(states, address)),
    );
  }
  console.log(`listening on ${formatAddress(address)}`);
  const stop = () => {
    listener.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  return serveConnections(listener, handle).then(() => 0);
}

if (import.meta.main) Deno.exit(await main());
