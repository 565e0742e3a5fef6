/**
 * A hand-written stand-in for a client proxy, for `client_bench.ts
 * --upstream fast`: it answers each `KvStateRequest` for the bench's value
 * state `word-counts` from a table built at start, with the very bytes our
 * `KvStateServer` (relayed unchanged by our proxy) sends: the RESPONSE frame
 * of a present key, else the `UnknownKeyOrNamespaceException` failure. It
 * costs about the same per hit and per miss, so that the client's own cost of
 * a hit and of a miss is what differs between the bench's phases. One
 * `conn.read` loop per connection, one write per batch; it ignores the job id
 * and state name. Not a proxy anyone should run.
 *
 *   deno run -A bench/fast_client_proxy.ts [--port 0] [--keys 1000]
 *
 * It prints `listening on HOST:PORT` once ready; SIGTERM/SIGINT end it.
 *
 * @module
 */

import { formatAddress } from "../mod.ts";
import { appendAnswer, buildBenchAnswers, fnv, type SplitAnswer } from "./_answers.ts";
import { type DenoSink, serveConnections } from "./_deno_io.ts";
import { num, parseArgs, str } from "./_flags.ts";

interface Entry extends SplitAnswer {
  /** The serialized key and namespace. */
  readonly kn: Uint8Array;
}

function main(): Promise<number> {
  const a = parseArgs(Deno.args, ["host", "port", "keys"]);
  const { entries, missing, knownIds } = buildBenchAnswers(num(a, "keys", 1000));
  // word-counts is the first state, its id the first id.
  const id = knownIds[0];
  const table = new Map<number, Entry[]>();
  for (const e of entries) {
    if (!id.every((x, i) => e.key[i] === x)) continue;
    const kn = e.key.subarray(16);
    const h = fnv(kn, 0, kn.length);
    let list = table.get(h);
    if (list === undefined) table.set(h, list = []);
    list.push({ kn, head: e.head, tail: e.tail });
  }

  const handle = (sink: DenoSink, b: Uint8Array, end: number): number => {
    let p = 0;
    while (end - p >= 4) {
      const len = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      if (len < 0 || len > 1 << 20) throw new Error("bad frame length");
      const fend = p + 4 + len;
      if (fend > end) break;
      // [len][version][type][id 8][jobId 16][nameLen][name][hash 4][knLen][kn]
      let ans: SplitAnswer = missing;
      const nameLen = (b[p + 36] << 24) | (b[p + 37] << 16) | (b[p + 38] << 8) | b[p + 39];
      const knAt = p + 40 + nameLen + 8;
      if (nameLen >= 0 && knAt <= fend) {
        const knLen = (b[knAt - 4] << 24) | (b[knAt - 3] << 16) | (b[knAt - 2] << 8) |
          b[knAt - 1];
        if (knLen >= 0 && knAt + knLen <= fend) {
          const list = table.get(fnv(b, knAt, knAt + knLen));
          if (list !== undefined) {
            outer: for (const e of list) {
              if (e.kn.length !== knLen) continue;
              for (let i = 0; i < knLen; i++) if (e.kn[i] !== b[knAt + i]) continue outer;
              ans = e;
              break;
            }
          }
        }
      }
      appendAnswer(sink.out, ans, b, p);
      p = fend;
    }
    return p;
  };

  const listener = Deno.listen({ hostname: str(a, "host", "127.0.0.1"), port: num(a, "port", 0) });
  const addr = listener.addr as Deno.NetAddr;
  console.log(`listening on ${formatAddress({ hostname: addr.hostname, port: addr.port })}`);
  const stop = () => {
    listener.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  return serveConnections(listener, handle).then(() => 0);
}

if (import.meta.main) Deno.exit(await main());
