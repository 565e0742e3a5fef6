/**
 * The Node adapter under the real `node` binary (not Deno's compatibility
 * layer). Bundled to one ES module by `tests/transport/node_real_test.ts`
 * (`deno bundle`, `node:*` kept external) and run with `node --test`.
 * Nothing here, nor in what it imports, may touch `Deno`.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { connect as netConnect } from "node:net";
import process from "node:process";
import { setImmediate } from "node:timers";
import { test } from "node:test";
import { parsePortSpec } from "../../src/transport/listen.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import { NodeTransport, nodeTransport } from "../../src/transport/node.ts";
import { ConnectionClosedError } from "../../src/wire/errors.ts";
import {
  directCases,
  HOST,
  pattern,
  socketCases,
  transportCases,
  verifyPattern,
} from "../transport/_cases.ts";

test("runs under Node without Deno globals", () => {
  assert.equal(typeof (globalThis as Record<string, unknown>).Deno, "undefined");
  assert.match(process.version, /^v\d+\./);
});

for (const c of [...transportCases, ...socketCases, ...directCases]) {
  test(`node transport: ${c.name}`, () => c.run(nodeTransport));
}

// The core pieces are web-standard: they run under Node as they are.
for (const c of transportCases) {
  test(`memory transport: ${c.name}`, () => c.run(new MemoryTransport()));
}

test("parsePortSpec under Node", () => {
  assert.deepEqual(parsePortSpec("9069, 9100-9102"), [9069, 9100, 9101, 9102]);
  assert.throws(() => parsePortSpec("9070-9069"), TypeError);
});

test("a raw node:net client: an unread readable pauses our socket, the client's writes back up", async () => {
  const transport = new NodeTransport({ highWaterMark: 16 * 1024 });
  const listener = await transport.listen({ hostname: HOST, port: 0 });
  const accepted = listener.accept();
  const raw = netConnect({ host: HOST, port: listener.address.port });
  await once(raw, "connect");
  const server = await accepted;
  assert.ok(server !== null);
  try {
    // Write, ignoring the raw socket's own backpressure, until 1 MiB waits in
    // its user-space buffer: the kernel buffers are full because our side
    // stopped reading. Without the pause, our readable would swallow it all.
    const CH = 64 * 1024;
    let written = 0;
    while (raw.writableLength < 1024 * 1024) {
      assert.ok(written < 128 * 1024 * 1024, "no backpressure from an unread readable");
      raw.write(pattern(5, written, CH));
      written += CH;
      await new Promise((resolve) => setImmediate(resolve));
    }
    raw.end();
    const chunks: Uint8Array[] = [];
    for await (const c of server.readable) {
      assert.equal(Object.getPrototypeOf(c), Uint8Array.prototype, "plain Uint8Array chunks");
      chunks.push(c);
    }
    assert.equal(verifyPattern(5, chunks), written);
    // Our writes to a peer that has gone fail with ConnectionClosedError.
    raw.destroy();
    await once(raw, "close");
    const writer = server.writable.getWriter();
    await assert.rejects(async () => {
      for (let i = 0; i < 1000; i++) {
        await writer.write(new Uint8Array(64 * 1024));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }, ConnectionClosedError);
  } finally {
    raw.destroy();
    await server.close();
    await listener.close();
  }
});
