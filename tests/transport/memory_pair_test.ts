import { memoryConnectionPair, MemoryTransport } from "../../src/transport/memory.ts";
import { BindError, ConnectError, ConnectionClosedError } from "../../src/wire/errors.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";

/** Whether `p` settles within a few event-loop turns. */
async function settlesSoon(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(() => settled = true, () => settled = true);
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
  return settled;
}

Deno.test("memoryConnectionPair: bytes cross both ways; default addresses", async () => {
  const [a, b] = memoryConnectionPair();
  assertEquals(a.localAddress, b.remoteAddress);
  assertEquals(b.localAddress, a.remoteAddress);
  const wa = a.writable.getWriter();
  const wb = b.writable.getWriter();
  await wa.write(new Uint8Array([1, 2]));
  await wb.write(new Uint8Array([3]));
  assertEquals((await b.readable.getReader().read()).value, new Uint8Array([1, 2]));
  assertEquals((await a.readable.getReader().read()).value, new Uint8Array([3]));
  await a.close();
  await b.close();
});

Deno.test("memoryConnectionPair: written bytes are copied (the writer may reuse its buffer)", async () => {
  const [a, b] = memoryConnectionPair();
  const w = a.writable.getWriter();
  const buf = new Uint8Array([7, 7, 7]);
  await w.write(buf);
  buf.fill(0); // reuse after the write resolved
  await w.write(buf);
  assertEquals(buf.byteLength, 3, "the writer's buffer is not transferred");
  const r = b.readable.getReader();
  assertEquals((await r.read()).value, new Uint8Array([7, 7, 7]));
  assertEquals((await r.read()).value, new Uint8Array([0, 0, 0]));
  await a.close();
  await b.close();
});

Deno.test("memoryConnectionPair: bounded buffering with the given high-water mark", async () => {
  const [a, b] = memoryConnectionPair({ highWaterMark: 1024 });
  const w = a.writable.getWriter();
  assert(await settlesSoon(w.write(new Uint8Array(512))), "under the mark: resolves");
  const second = w.write(new Uint8Array(512));
  assert(!(await settlesSoon(second)), "at the mark: waits for the reader");
  const third = w.write(new Uint8Array(512));
  assert(!(await settlesSoon(third)), "queued behind");
  const r = b.readable.getReader();
  assertEquals((await r.read()).value?.length, 512);
  assert(await settlesSoon(second), "the reader took data: resolves");
  await a.close();
  await assertRejects(() => third, ConnectionClosedError);
  await b.close();
});

Deno.test("memoryConnectionPair: a cancelled readable drops later bytes instead of blocking", async () => {
  const [a, b] = memoryConnectionPair({ highWaterMark: 16 });
  const w = a.writable.getWriter();
  const blocked = w.write(new Uint8Array(64));
  assert(!(await settlesSoon(blocked)));
  await b.readable.cancel();
  await blocked;
  await w.write(new Uint8Array(1 << 20));
  await a.close();
  await b.close();
});

Deno.test("memoryConnectionPair: close() ends the peer's reads and fails its writes", async () => {
  const [a, b] = memoryConnectionPair();
  const pending = b.readable.getReader().read();
  await a.close();
  assertEquals((await pending).done, true);
  await assertRejects(
    () => b.writable.getWriter().write(new Uint8Array(1)),
    ConnectionClosedError,
    "reset by peer",
  );
  await assertRejects(
    () => a.writable.getWriter().write(new Uint8Array(1)),
    ConnectionClosedError,
    "Connection closed",
  );
  await b.close();
  await a.close();
});

Deno.test("memoryConnectionPair: invalid high-water mark", () => {
  assertThrows(() => memoryConnectionPair({ highWaterMark: -1 }), RangeError);
  assertThrows(() => new MemoryTransport({ highWaterMark: NaN }), RangeError);
  assertThrows(() => new MemoryTransport({ backlog: 0 }), RangeError);
});

Deno.test("MemoryTransport: host matching (wildcard, loopback names, others)", async () => {
  const net = new MemoryTransport();
  const any = await net.listen({ hostname: "0.0.0.0", port: 100 });
  const lo = await net.listen({ hostname: "localhost", port: 101 });
  const other = await net.listen({ hostname: "10.0.0.1", port: 102 });
  const conns = [
    await net.connect({ hostname: "10.9.9.9", port: 100 }),
    await net.connect({ hostname: "127.0.0.1", port: 101 }),
    await net.connect({ hostname: "::1", port: 101 }),
    await net.connect({ hostname: "10.0.0.1", port: 102 }),
  ];
  await assertRejects(
    () => net.connect({ hostname: "127.0.0.1", port: 102 }),
    ConnectError,
    "Connection refused: 127.0.0.1:102",
  );
  await assertRejects(
    () => net.connect({ hostname: "::1", port: 103 }),
    ConnectError,
    "Connection refused: [::1]:103",
  );
  for (const c of conns) await c.close();
  for (const l of [any, lo, other]) await l.close();
});

Deno.test("MemoryTransport: port 0 picks distinct free ports; bad ports are a TypeError", async () => {
  const net = new MemoryTransport();
  const ls = await Promise.all([0, 0, 0].map(() => net.listen({ hostname: "h", port: 0 })));
  assertEquals(new Set(ls.map((l) => l.address.port)).size, 3);
  for (const l of ls) assert(l.address.port > 0);
  await assertRejects(() => net.listen({ hostname: "h", port: 65536 }), TypeError);
  await assertRejects(() => net.listen({ hostname: "h", port: 1.5 }), TypeError);
  await assertRejects(() => net.listen({ hostname: "h", port: ls[0].address.port }), BindError);
  for (const l of ls) await l.close();
});

Deno.test("MemoryTransport: a full backlog refuses; closing the listener ends queued connections", async () => {
  const net = new MemoryTransport({ backlog: 2 });
  const l = await net.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.address.port;
  const c1 = await net.connect({ hostname: "127.0.0.1", port });
  const c2 = await net.connect({ hostname: "127.0.0.1", port });
  await assertRejects(
    () => net.connect({ hostname: "127.0.0.1", port }),
    ConnectError,
    "backlog full",
  );
  await l.close(); // c1 and c2 were never accepted
  assertEquals((await c1.readable.getReader().read()).done, true);
  await assertRejects(
    () => c2.writable.getWriter().write(new Uint8Array(1)),
    ConnectionClosedError,
  );
  await c1.close();
  await c2.close();
});

Deno.test("MemoryTransport: each instance is its own network", async () => {
  const n1 = new MemoryTransport();
  const n2 = new MemoryTransport();
  const l = await n1.listen({ hostname: "127.0.0.1", port: 9069 });
  await assertRejects(() => n2.connect({ hostname: "127.0.0.1", port: 9069 }), ConnectError);
  const l2 = await n2.listen({ hostname: "127.0.0.1", port: 9069 });
  await l.close();
  await l2.close();
});
