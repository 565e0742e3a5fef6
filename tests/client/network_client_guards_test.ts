/**
 * No exception raised while the client handles a request or a response
 * escapes to the runtime: a throwing raw handler, stats hook or transport is
 * counted (`internalErrors`), costs at most its own request or its own
 * connection, and the process goes on.
 */

import {
  ClosedError,
  type Connection,
  ConnectionClosedError,
  DeadlineExceededError,
  type DirectHandler,
  KvStateId,
  type KvStateRequestStats,
  MemoryTransport,
  NetworkClient,
  RequestStats,
  type Transport,
} from "../../mod.ts";
import { encodeKvStateResponse } from "../../src/wire/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import { delay, TRANSPORTS } from "../_harness.ts";
import { eventually } from "./_eventually.ts";
import { withClient } from "./_with_client.ts";

const KV_STATE_ID = KvStateId.fromHex("0a0b0c0d0e0f10111213141516171819");
const KN = new Uint8Array([2, 0x61, 42, 0]);
const req = { kvStateId: KV_STATE_ID, serializedKeyAndNamespace: KN };
const ADDRESS = { hostname: "127.0.0.1", port: 9 };

/** A raw handler that throws for the contexts named, and records what the others get. */
function handlerThrowingFor(...throwing: number[]) {
  const got = new Map<number, Uint8Array | unknown>();
  const handler = (frame: Uint8Array | null, error: unknown, i: number): void => {
    if (throwing.includes(i)) throw new Error(`handler ${i} broke`);
    got.set(i, frame ?? error);
  };
  return { handler, got };
}

for (const tc of TRANSPORTS) {
  Deno.test(`NetworkClient [${tc.name}]: a raw handler that throws on its answer loses only that answer; the connection and the other requests go on`, async () => {
    const transport = tc.make();
    const caught: unknown[] = [];
    const stats = new RequestStats();
    await withClient(transport, {
      transport,
      stats,
      onInternalError: (e) => caught.push(e),
    }, async (client, fake) => {
      const { handler, got } = handlerThrowingFor(0);
      client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 0);
      client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 1);
      const peer = await fake.accept();
      await peer.frames(2);
      // Both answers in one chunk: the second comes right after the throw.
      await peer.send(
        encodeKvStateResponse(0n, new Uint8Array([0])),
        encodeKvStateResponse(1n, new Uint8Array([1])),
      );
      assert(await eventually(() => got.has(1), 2000), "the second request got its answer");
      const frame = got.get(1) as Uint8Array;
      assertEquals(frame[frame.length - 1], 1);
      assertEquals(client.internalErrors, 1);
      assertEquals(stats.snapshot().internalErrors, 1, "reported to the stats too");
      assertEquals((caught[0] as Error).message, "handler 0 broke");
      // Same connection, still working.
      assertEquals(client.connectionCount, 1);
      const next = client.sendKvStateInternalRequest(fake.address, req);
      await peer.frame();
      await peer.send(encodeKvStateResponse(2n, new Uint8Array([2])));
      assertEquals((await next)[0], 2);
      assertEquals(fake.peers.length, 1, "no reconnect");
    });
  });

  Deno.test(`NetworkClient [${tc.name}]: raw handlers that throw when their connection fails are counted; the others still learn`, async () => {
    const transport = tc.make();
    await withClient(transport, { transport }, async (client, fake) => {
      const { handler, got } = handlerThrowingFor(0, 2);
      for (let i = 0; i < 4; i++) {
        client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, i);
      }
      const peer = await fake.accept();
      await peer.frames(4);
      await peer.close();
      assert(await eventually(() => got.size === 2, 2000), "1 and 3 learned");
      assertInstanceOf(got.get(1), ConnectionClosedError);
      assertInstanceOf(got.get(3), ConnectionClosedError);
      assertEquals(client.internalErrors, 2);
    });
  });
}

Deno.test("NetworkClient: raw handlers that throw at their deadline do not stop the sweeper", async () => {
  const transport = new MemoryTransport();
  await withClient(transport, { transport, requestTimeoutMs: 30 }, async (client, fake) => {
    const { handler, got } = handlerThrowingFor(0, 1);
    client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 0);
    client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 1);
    client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 2);
    await fake.accept();
    assert(await eventually(() => got.has(2), 2000), "the third expired too");
    assertInstanceOf(got.get(2), DeadlineExceededError);
    assertEquals(client.internalErrors, 2);
    // The sweeper still runs for later requests.
    client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 3);
    assert(await eventually(() => got.has(3), 2000), "a later request expires");
    assertInstanceOf(got.get(3), DeadlineExceededError);
  });
});

Deno.test("NetworkClient: a raw handler that throws on a closed client is counted, not thrown", async () => {
  const client = new NetworkClient({ transport: new MemoryTransport() });
  await client.close();
  const { handler, got } = handlerThrowingFor(0);
  client.forwardInternalRequest(ADDRESS, KV_STATE_ID, KN, handler, 0);
  client.forwardInternalRequest(ADDRESS, KV_STATE_ID, KN, handler, 1);
  assertInstanceOf(got.get(1), ClosedError);
  assertEquals(client.internalErrors, 1);
});

Deno.test("NetworkClient: stats hooks that throw (and an onInternalError that throws) break nothing", async () => {
  const transport = new MemoryTransport();
  const boom = () => {
    throw new Error("stats broke");
  };
  const stats: KvStateRequestStats = {
    reportActiveConnection: boom,
    reportInactiveConnection: boom,
    reportRequest: boom,
    reportSuccessfulRequest: boom,
    reportFailedRequest: boom,
  };
  const client = await withClient(
    transport,
    { transport, stats, onInternalError: boom },
    async (client, fake) => {
      const ok = client.sendKvStateInternalRequest(fake.address, req);
      const { handler, got } = handlerThrowingFor();
      client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 0);
      const peer = await fake.accept();
      await peer.frames(2);
      await peer.send(
        encodeKvStateResponse(0n, new Uint8Array([7])),
        encodeKvStateResponse(1n, new Uint8Array([8])),
      );
      assertEquals((await ok)[0], 7);
      assert(await eventually(() => got.has(0), 2000));
      // active connection, 2 requests, 2 successes
      assertEquals(client.internalErrors, 5);
    },
  );
  assertEquals(client.internalErrors, 6, "and the inactive connection");
});

/** A transport whose connections break as soon as the client takes them. */
function brokenTransport(path: "direct" | "streams"): Transport {
  return {
    name: "broken",
    listen: () => Promise.reject(new Error("not for listening")),
    connect() {
      let closed = false;
      const conn: Connection = {
        get readable(): ReadableStream<Uint8Array> {
          throw new TypeError("readable is gone");
        },
        get writable(): WritableStream<Uint8Array> {
          throw new TypeError("writable is gone");
        },
        localAddress: ADDRESS,
        remoteAddress: ADDRESS,
        close() {
          closed = true;
          return Promise.resolve();
        },
      };
      if (path === "direct") {
        (conn as { direct?: Connection["direct"] }).direct = () => {
          throw new TypeError(`direct path is gone (closed: ${closed})`);
        };
      }
      return Promise.resolve(conn);
    },
  };
}

for (const path of ["direct", "streams"] as const) {
  Deno.test(`NetworkClient: a connection the transport breaks while opening (${path}) fails its requests, nothing escapes`, async () => {
    const client = new NetworkClient({ transport: brokenTransport(path) });
    try {
      const e = await assertRejects(
        () => client.sendKvStateInternalRequest(ADDRESS, req),
        ConnectionClosedError,
        "is gone",
      );
      assertInstanceOf(e.cause, TypeError);
      assertEquals(client.internalErrors, 1);
      assertEquals(client.connectionCount, 0);
    } finally {
      await client.close();
    }
  });
}

Deno.test("NetworkClient: the direct path's events never throw (a failing write, a throwing handler at the end)", async () => {
  let events: DirectHandler | undefined;
  let writes = 0;
  const transport: Transport = {
    name: "scripted",
    listen: () => Promise.reject(new Error("not for listening")),
    connect: () =>
      Promise.resolve({
        readable: new ReadableStream<Uint8Array>(),
        writable: new WritableStream<Uint8Array>(),
        localAddress: ADDRESS,
        remoteAddress: ADDRESS,
        close: () => Promise.resolve(),
        direct(handler: DirectHandler) {
          events = handler;
          return {
            write: () => {
              if (++writes > 1) throw new ConnectionClosedError("write failed");
              return false; // wait for drain
            },
            closeWrite: () => Promise.resolve(),
            pause() {},
            resume() {},
          };
        },
      }),
  };
  const client = new NetworkClient({ transport, requestTimeoutMs: 0 });
  try {
    const { handler, got } = handlerThrowingFor(0);
    client.forwardInternalRequest(ADDRESS, KV_STATE_ID, KN, handler, 0);
    assert(await eventually(() => writes === 1, 1000), "first write");
    client.forwardInternalRequest(ADDRESS, KV_STATE_ID, KN, handler, 1);
    await delay(0);
    assertEquals(client.queuedBytes, 44, "held until drain");
    events!.drain(); // the second write throws: the connection fails, 0's handler throws
    assertInstanceOf(got.get(1), ConnectionClosedError);
    assertEquals(client.internalErrors, 1);
    events!.end(new Error("late end")); // after the failure: ignored
    events!.data(new Uint8Array([0, 0, 0, 1, 9])); // ignored too
    assertEquals(client.connectionCount, 0);
  } finally {
    await client.close();
  }
});
