/**
 * The child of `network_client_gc_test.ts`: forwards requests to a state
 * server over sockets (the proxy's path, `forwardInternalRequest`, 128 in
 * flight), forces one full GC while requests are in flight, then goes on.
 * Run with `--v8-flags=--expose-gc,--trace-gc-nvp`: the parent reads what
 * the scavenges after the `MARK` line promoted.
 *
 *   deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc,--trace-gc-nvp \
 *     tests/client/_gc_churn.ts [requests after the full GC]
 *
 * Prints `MARK` after the full GC and `DONE <requests> <failures>` at the end.
 *
 * @module
 */

import { denoTransport } from "../../src/transport/deno.ts";
import { InMemoryValueState, KvStateServer, NetworkClient, TYPE_SERIALIZERS } from "../../mod.ts";
import { serializeKeyAndNamespace } from "../../src/wire/mod.ts";

const DEPTH = 128;
const after = Number(Deno.args[0] ?? 200_000);
const before = 30_000;

const state = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long);
for (let i = 0; i < 100; i++) state.set(`k${i}`, BigInt(i));
const server = new KvStateServer({ transport: denoTransport, host: "127.0.0.1", port: 0 });
const kvStateId = server.registry.register(state);
const address = await server.start();
const client = new NetworkClient({ transport: denoTransport });
const keys = Array.from(
  { length: 100 },
  (_, i) => serializeKeyAndNamespace(`k${i}`, TYPE_SERIALIZERS.string),
);

let sent = 0;
let answered = 0;
let failures = 0;
let target = before;
let done: () => void = () => {};

/** One handler for every request (no closure per request, as in the proxy). */
function onAnswer(frame: Uint8Array | null, _error: unknown, _n: number): void {
  answered++;
  if (frame === null || frame[11] !== 1) failures++;
  if (sent < target) send();
  else if (answered === sent) done();
}

function send(): void {
  const n = sent++;
  client.forwardInternalRequest(address, kvStateId, keys[n % keys.length], onAnswer, n);
}

async function phase(n: number): Promise<void> {
  target = sent + n;
  const finished = new Promise<void>((resolve) => (done = resolve));
  for (let i = 0; i < DEPTH; i++) send();
  // A full GC with requests in flight (the pending requests' table is live).
  if (n === after) {
    (globalThis as unknown as { gc: () => void }).gc();
    console.log("MARK");
  }
  await finished;
}

await phase(before);
await phase(after);
console.log(`DONE ${answered} ${failures}`);
await client.close();
await server.close();
