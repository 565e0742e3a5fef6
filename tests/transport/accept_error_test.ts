/**
 * Accept failures reach `listener.accept()` as rejections, and the listener
 * keeps working: the server's accept loop can then back off.
 *
 * - Deno adapter, for real: a child process under `ulimit -n 128` uses up
 *   its descriptors and reports what `accept()` did (`_emfile_child.ts`).
 * - Node adapter: Node reports an accept failure as the server's `error`
 *   event (libuv usually copes with EMFILE alone, see the real-Node run in
 *   `tests/node/node_tls.node.ts`); the event is emitted by hand here.
 *   (Not run for real under Deno's Node layer: there, Deno 2.9.6's
 *   `node:net` server stops accepting for good after an EMFILE, reporting
 *   nothing, and the process can panic when out of descriptors.)
 */

import { Server } from "node:net";
import { nodeTransport } from "../../src/transport/node.ts";
import type { Listener } from "../../src/transport/types.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { HOST, settlesWithin } from "./_cases.ts";
import type { EmfileReport } from "./_emfile_scenario.ts";

const decoder = new TextDecoder();
const canUlimit = Deno.build.os !== "windows";

Deno.test({
  name:
    "deno transport: out of file descriptors, accept() rejects with EMFILE and the listener goes on",
  ignore: !canUlimit,
  async fn() {
    const child = new URL("./_emfile_child.ts", import.meta.url).pathname;
    const command = new Deno.Command("sh", {
      args: [
        "-c",
        'ulimit -n 128 && exec "$0" run --allow-net=127.0.0.1 --allow-read=/dev/null "$1"',
        Deno.execPath(),
        child,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const timer = setTimeout(() => command.kill("SIGKILL"), 30_000);
    const out = await command.output();
    clearTimeout(timer);
    const text = decoder.decode(out.stdout);
    assert(out.success, `child failed (${out.code}):\n${text}${decoder.decode(out.stderr)}`);
    const report: EmfileReport = JSON.parse(text.trim().split("\n").pop()!);
    assert(report.filled > 0, "the child used up its descriptors");
    assertEquals(report.firstAccept, "rejected EMFILE");
    // The connection stays queued in the kernel, and is accepted once
    // descriptors are free again.
    assertEquals(report.afterFreeing, "accepted");
    assert(report.ms < 20_000, `took ${report.ms} ms`);
  },
});

/** Binds with the Node adapter and hands back the `net.Server` under it. */
async function listenCapturing(): Promise<{ listener: Listener; server: Server }> {
  const original = Server.prototype.listen;
  let captured: Server | undefined;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    captured = this;
    return (original as (...a: unknown[]) => Server).apply(this, args);
  } as typeof original;
  try {
    const listener = await nodeTransport.listen({ hostname: HOST, port: 0 });
    return { listener, server: captured! };
  } finally {
    Server.prototype.listen = original;
  }
}

function emfile(): Error {
  return Object.assign(new Error("accept EMFILE"), { code: "EMFILE", syscall: "accept" });
}

Deno.test("node (Deno compat) transport: an accept failure rejects accept(); the listener goes on", async () => {
  const { listener, server } = await listenCapturing();
  try {
    // A pending accept() gets the failure.
    const pending = listener.accept();
    server.emit("error", emfile());
    assert(await settlesWithin(pending, 1000), "the failure reaches the pending accept()");
    const e1 = await assertRejects(() => pending);
    assertEquals((e1 as { code?: string }).code, "EMFILE");
    // With no accept() waiting, the next one gets it; repeats are not queued.
    server.emit("error", emfile());
    server.emit("error", emfile());
    await assertRejects(() => listener.accept(), Error, "EMFILE");
    const next = listener.accept();
    assert(!(await settlesWithin(next, 50)), "only one failure is kept");
    // Connections are still accepted.
    const client = await nodeTransport.connect({ hostname: HOST, port: listener.address.port });
    const conn = await next;
    assert(conn !== null, "accepted after the failures");
    await client.close();
    await conn.close();
  } finally {
    await listener.close();
  }
  // After close, failures are ignored and accept() gives null.
  server.emit("error", emfile());
  assertEquals(await listener.accept(), null);
});
