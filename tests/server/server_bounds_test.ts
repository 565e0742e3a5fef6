/**
 * The bounds of the server base that hold across connections and over
 * time: the idle timeout, the per-address connection cap, the accept
 * backoff, the shared budget for incomplete frames and its timeout, and the
 * shared bounds on requests in progress and answers held. Each one is
 * checked on the connection it concerns and on a neighbour that must go on
 * being served.
 */

import {
  AbstractServer,
  type Connection,
  KvStateId,
  type Listener,
  MemoryTransport,
  requestIdOf,
  type ServerOptions,
  type Transport,
} from "../../mod.ts";
import {
  decodeKvStateInternalRequest,
  decodeMessage,
  encodeKvStateInternalRequest,
  type KvStateInternalRequest,
  MessageType,
  readJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { delay, RawPeer, TRANSPORTS } from "../_harness.ts";

const STATE = KvStateId.fromHex("000102030405060708090a0b0c0d0e0f");

/** Key byte 0: answer now; 1: answer after 600 ms; 2: wait for `release()`; 3: answer 4 KiB. */
class Bounded extends AbstractServer<KvStateInternalRequest> {
  started = 0;
  #gate: Promise<void>;
  #open!: () => void;
  constructor(options: ServerOptions) {
    super("Bounded Server", options);
    this.#gate = new Promise((r) => (this.#open = r));
  }
  release(): void {
    this.#open();
  }
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }
  protected handleRequest(req: KvStateInternalRequest): Uint8Array | Promise<Uint8Array> {
    this.started++;
    switch (req.serializedKeyAndNamespace[0]) {
      case 1:
        return delay(600).then(() => new Uint8Array([1]));
      case 2:
        return this.#gate.then(() => new Uint8Array([2]));
      case 3:
        return new Uint8Array(4096).fill(3);
      default:
        return new Uint8Array([0]);
    }
  }
}

const request = (id: number, mode = 0, keyBytes = 1) => {
  const key = new Uint8Array(keyBytes);
  key[0] = mode;
  return encodeKvStateInternalRequest(BigInt(id), {
    kvStateId: STATE,
    serializedKeyAndNamespace: key,
  });
};

async function roundTrip(peer: RawPeer, id: number): Promise<void> {
  await peer.send(request(id));
  const f = await peer.frame();
  assert(f !== null, `request ${id} answered`);
  assertEquals(requestIdOf(f.subarray(4)), BigInt(id));
}

/** The pipeline failure a connection was closed with, then EOF. */
async function pipelineFailure(peer: RawPeer): Promise<string> {
  const f = await peer.frame();
  assert(f !== null, "a failure frame");
  const m = decodeMessage(f.subarray(4));
  assertEquals(m.type, MessageType.SERVER_FAILURE);
  const message = readJavaThrowable(m.body).message ?? "";
  assert(message.startsWith("Exception in server pipeline. Caused by: "), message);
  assert(await peer.closedWithin(3000), "then EOF");
  return message;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited > ms) throw new Error("condition not met in time");
    await delay(5);
  }
}

for (const tc of TRANSPORTS) {
  Deno.test(`server bounds [${tc.name}]: an idle connection is closed; a busy one, or one waiting for an answer, is not`, async () => {
    const transport = tc.make();
    await using server = new Bounded({ transport, idleTimeoutMs: 200 });
    await server.start();
    const idle = await RawPeer.connect(transport, server.address);
    const busy = await RawPeer.connect(transport, server.address);
    const waiting = await RawPeer.connect(transport, server.address);
    try {
      const t0 = performance.now();
      const idleClosed = idle.closedWithin(3000).then((closed) => ({
        closed,
        after: performance.now() - t0,
      }));
      await waiting.send(request(100, 1)); // answered after 600 ms
      for (let i = 0; i < 14; i++) {
        await roundTrip(busy, i + 1);
        await delay(50);
      }
      const { closed, after } = await idleClosed;
      assert(closed, "the idle connection is closed");
      assert(after >= 150, `not before its time: ${after} ms`);
      const answer = await waiting.frame();
      assert(answer !== null, "the slow request is answered on its open connection");
      assertEquals(requestIdOf(answer.subarray(4)), 100n);
      await roundTrip(busy, 99);
    } finally {
      await Promise.all([idle.close(), busy.close(), waiting.close()]);
    }
  });

  Deno.test(`server bounds [${tc.name}]: past maxConnectionsPerAddress a connection is closed at once, the others are served`, async () => {
    const transport = tc.make();
    await using server = new Bounded({ transport, maxConnectionsPerAddress: 2 });
    await server.start();
    const a = await RawPeer.connect(transport, server.address);
    const b = await RawPeer.connect(transport, server.address);
    const peers = [a, b];
    try {
      await roundTrip(a, 1);
      await roundTrip(b, 2);
      const c = await RawPeer.connect(transport, server.address);
      peers.push(c);
      await c.send(request(3)).catch(() => {});
      assert(await c.closedWithin(3000), "the third connection from one host is closed");
      await roundTrip(a, 4);
      await a.close();
      await until(() => server.stats.activeConnections === 1);
      const d = await RawPeer.connect(transport, server.address);
      peers.push(d);
      await roundTrip(d, 5);
      await roundTrip(b, 6);
    } finally {
      await Promise.all(peers.slice(1).map((p) => p.close()));
    }
  });

  Deno.test(`server bounds [${tc.name}]: incomplete frames share one budget; a connection over it is failed, the others complete`, async () => {
    const transport = tc.make();
    await using server = new Bounded({ transport, maxIncompleteFrameBytes: 100 * 1024 });
    await server.start();
    const big = (id: number) => request(id, 0, 80_000);
    const a = await RawPeer.connect(transport, server.address);
    const b = await RawPeer.connect(transport, server.address);
    try {
      const frameA = big(1);
      await a.send(frameA.subarray(0, 14)); // reserves 64 KiB
      await delay(50);
      await b.send(big(2).subarray(0, 14)); // 64 KiB more do not fit
      const message = await pipelineFailure(b);
      assert(
        message.includes(
          "io.netty.handler.codec.TooLongFrameException: Frame of 80040 bytes cannot be buffered: incomplete frames of all connections are limited to 102400 bytes",
        ),
        message,
      );
      await a.send(frameA.subarray(14));
      const answer = await a.frame();
      assert(answer !== null, "the first connection's frame completes");
      assertEquals(requestIdOf(answer.subarray(4)), 1n);
      // The budget is given back: a new large frame fits again.
      await a.send(big(3));
      assertEquals(requestIdOf((await a.frame())!.subarray(4)), 3n);
    } finally {
      await a.close();
      await b.close();
    }
  });

  Deno.test(`server bounds [${tc.name}]: a frame that stays incomplete fails its connection after incompleteFrameTimeoutMs`, async () => {
    const transport = tc.make();
    await using server = new Bounded({ transport, incompleteFrameTimeoutMs: 200 });
    await server.start();
    const stalled = await RawPeer.connect(transport, server.address);
    const trickling = await RawPeer.connect(transport, server.address);
    const good = await RawPeer.connect(transport, server.address);
    try {
      const frame = request(1, 0, 1000);
      await stalled.send(frame.subarray(0, 10));
      let trickled = 0;
      const trickle = (async () => {
        for (; trickled < 40; trickled++) {
          try {
            await trickling.send(frame.subarray(trickled, trickled + 1));
          } catch {
            return;
          }
          await delay(25);
        }
      })();
      for (let i = 0; i < 5; i++) await roundTrip(good, i + 1);
      const t0 = performance.now();
      for (const peer of [stalled, trickling]) {
        const message = await pipelineFailure(peer);
        assert(
          message.includes(
            "io.netty.handler.timeout.ReadTimeoutException: Frame incomplete for more than 200 ms",
          ),
          message,
        );
      }
      assert(performance.now() - t0 < 2000, "in time");
      assert(trickled < 40, `failed while still trickling (${trickled} bytes sent)`);
      await trickle;
      await roundTrip(good, 10);
    } finally {
      await Promise.all([stalled.close(), trickling.close(), good.close()]);
    }
  });
}

for (const tc of TRANSPORTS.filter((t) => t.name !== "node")) {
  Deno.test(`server bounds [${tc.name}]: maxInFlightTotal holds requests over all connections; a connection with none in progress may start one`, async () => {
    const transport = tc.make();
    await using server = new Bounded({ transport, maxInFlightTotal: 4 });
    await server.start();
    const a = await RawPeer.connect(transport, server.address);
    const b = await RawPeer.connect(transport, server.address);
    try {
      await a.send(...Array.from({ length: 10 }, (_, i) => request(i + 1, 2)));
      await until(() => server.started === 4);
      await delay(50);
      assertEquals(server.started, 4, "the total is held at 4");
      await b.send(request(101, 2), request(102, 2));
      await until(() => server.started === 5);
      await delay(50);
      assertEquals(server.started, 5, "the second connection starts one, not two");
      server.release();
      const ids = (await a.frames(10)).map((f) => requestIdOf(f.subarray(4)));
      assertEquals(ids.length, 10);
      assertEquals((await b.frames(2)).length, 2);
      assertEquals(server.started, 12);
    } finally {
      server.release();
      await a.close();
      await b.close();
    }
  });
  Deno.test(`server bounds [${tc.name}]: requests in progress keep the bytes they were read in counted in maxIncompleteFrameBytes; while it is spent, a connection with a request in progress is not read, one with none starts one`, async () => {
    const transport = tc.make();
    // 300 bytes: the 10 requests of the first connection (410 bytes, read
    // in one chunk) spend it as long as one of them is in progress.
    await using server = new Bounded({ transport, maxIncompleteFrameBytes: 300 });
    await server.start();
    const a = await RawPeer.connect(transport, server.address);
    const b = await RawPeer.connect(transport, server.address);
    try {
      await a.send(...Array.from({ length: 10 }, (_, i) => request(i + 1, 2)));
      await until(() => server.started >= 1);
      await delay(50);
      assertEquals(server.started, 1, "one started, then the budget is spent: the others wait");
      await b.send(request(101, 2), request(102, 2));
      await until(() => server.started === 2);
      await delay(50);
      assertEquals(server.started, 2, "the second connection starts one, not two");
      server.release();
      const ids = (await a.frames(10)).map((f) => requestIdOf(f.subarray(4)));
      assertEquals(
        ids.sort((x, y) => Number(x - y)),
        Array.from({ length: 10 }, (_, i) => BigInt(i + 1)),
      );
      assertEquals((await b.frames(2)).length, 2);
      assertEquals(server.started, 12);
      // Everything given back: a frame of 240 bytes split over two writes
      // (a carry-over) fits the budget again.
      const big = request(200, 0, 200);
      await a.send(big.subarray(0, 20));
      await delay(20);
      await a.send(big.subarray(20));
      assertEquals(requestIdOf((await a.frame())!.subarray(4)), 200n);
    } finally {
      server.release();
      await a.close();
      await b.close();
    }
  });
}

Deno.test("server bounds [memory]: maxBufferedBytesTotal stops a peer that does not read; a reading peer is served", async () => {
  const transport = new MemoryTransport({ highWaterMark: 1024 });
  await using server = new Bounded({ transport, maxBufferedBytesTotal: 8192 });
  await server.start();
  const stuck = await RawPeer.connect(transport, server.address);
  const reading = await RawPeer.connect(transport, server.address);
  try {
    await stuck.send(...Array.from({ length: 40 }, (_, i) => request(i + 1, 3)));
    await delay(100);
    const held = server.started;
    assert(held < 12, `the peer that does not read is held back (${held} started)`);
    for (let i = 0; i < 10; i++) {
      await reading.send(request(100 + i, 3));
      const f = await reading.frame();
      assertEquals(requestIdOf(f!.subarray(4)), BigInt(100 + i));
    }
    const ids = (await stuck.frames(40)).map((f) => requestIdOf(f.subarray(4)));
    assertEquals(ids.length, 40, "once it reads, all its answers come");
  } finally {
    await stuck.close();
    await reading.close();
  }
});

Deno.test("server bounds: a failing accept backs off (5 ms doubling to 1 s, reset on success); open connections are served meanwhile", async () => {
  const calls: number[] = [];
  const memory = new MemoryTransport();
  const memListener = await memory.listen({ hostname: "127.0.0.1", port: 0 });
  let succeedAt = 6;
  let closed = false;
  const listener: Listener = {
    address: { hostname: "127.0.0.1", port: 1 },
    accept(): Promise<Connection | null> {
      if (closed) return Promise.resolve(null);
      calls.push(performance.now());
      if (calls.length === succeedAt) return memListener.accept();
      return Promise.reject(new Error("accept failed: EMFILE (too many open files)"));
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
    async *[Symbol.asyncIterator]() {},
  };
  const fake: Transport = {
    name: "fake",
    listen: () => Promise.resolve(listener),
    connect: () => Promise.reject(new Error("not used")),
  };
  await using server = new Bounded({ transport: fake });
  await server.start();
  // One connection served through serve(), beside the failing accept loop.
  const [client, served] = await Promise.all([
    memory.connect({ hostname: "127.0.0.1", port: memListener.address.port }),
    memListener.accept(),
  ]);
  server.serve(served!).catch(() => {});
  const peer = RawPeer.wrap(client);
  // The sixth accept succeeds (a connection made now is taken by it).
  const accepted = memory.connect({ hostname: "127.0.0.1", port: memListener.address.port });
  try {
    for (let i = 0; i < 8; i++) {
      await roundTrip(peer, i + 1);
      await delay(25);
    }
    await until(() => calls.length >= 12, 5000);
    succeedAt = -1;
    const gaps = calls.slice(1).map((t, i) => t - calls[i]);
    // 5, 10, 20, 40, 80 ms, then the success, then 0 (the next accept at once), 5, 10, 20 ms…
    const expected = [5, 10, 20, 40, 80, 0, 5, 10, 20, 40];
    expected.forEach((ms, i) => {
      assert(gaps[i] >= ms * 0.8, `gap ${i}: ${gaps[i].toFixed(1)} ms >= ${ms} ms`);
      assert(gaps[i] < ms * 2 + 40, `gap ${i}: ${gaps[i].toFixed(1)} ms not much over ${ms} ms`);
    });
    // Not a spin: a handful of calls in the time, not thousands.
    assert(calls.length <= 14, `${calls.length} accept calls`);
    const other = RawPeer.wrap(await accepted);
    await roundTrip(other, 50);
    await other.close();
  } finally {
    await peer.close();
    await memListener.close();
  }
});
