/**
 * The client does not wait forever: a finite request deadline by default, a
 * connect timeout (also against a transport that ignores the abort signal),
 * and TCP keepalive asked for on every connection.
 */

import {
  ConnectError,
  type Connection,
  ConnectionClosedError,
  type ConnectOptions,
  DeadlineExceededError,
  FrameLengthError,
  JobId,
  KvStateId,
  MemoryTransport,
  NetworkClient,
  ProtocolError,
  QueryableStateClient,
  type Transport,
} from "../../mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import { delay, FakeServer, TRANSPORTS } from "../_harness.ts";

const req = {
  kvStateId: KvStateId.fromHex("0a0b0c0d0e0f10111213141516171819"),
  serializedKeyAndNamespace: new Uint8Array([2, 0x61, 42, 0]),
};
const ADDRESS = { hostname: "127.0.0.1", port: 9 };

/**
 * A transport whose connects never complete: with `honoursSignal`, one
 * rejects when its signal aborts; without, it stays pending until `settle`
 * (then resolves with `late`, if given). Records each connect's options.
 */
function hanging(honoursSignal: boolean) {
  const seen: ConnectOptions[] = [];
  const waiting: Array<(c: Connection) => void> = [];
  const transport: Transport = {
    name: "hanging",
    listen: () => Promise.reject(new Error("not for listening")),
    connect(options) {
      seen.push(options);
      return new Promise<Connection>((resolve, reject) => {
        waiting.push(resolve);
        if (honoursSignal) {
          options.signal?.addEventListener(
            "abort",
            () => reject(new ConnectError("aborted", { cause: options.signal?.reason })),
            { once: true },
          );
        }
      });
    },
  };
  return { transport, seen, settle: (c: Connection) => waiting.forEach((w) => w(c)) };
}

/** A connection object that only records its close. */
function inertConnection(): Connection & { closed: boolean } {
  const c = {
    closed: false,
    readable: new ReadableStream<Uint8Array>(),
    writable: new WritableStream<Uint8Array>(),
    localAddress: ADDRESS,
    remoteAddress: ADDRESS,
    close() {
      c.closed = true;
      return Promise.resolve();
    },
  };
  return c;
}

Deno.test("NetworkClient and QueryableStateClient: finite defaults (30 s per request, 10 s per connect); 0 turns a deadline off", async () => {
  const transport = new MemoryTransport();
  await using nc = new NetworkClient({ transport });
  assertEquals(nc.requestTimeoutMs, 30_000);
  assertEquals(nc.connectTimeoutMs, 10_000);
  await using qsc = new QueryableStateClient({ transport, proxy: "127.0.0.1:9069" });
  assertEquals(qsc.requestTimeoutMs, 30_000);
  assertEquals(qsc.connectTimeoutMs, 10_000);
  await using off = new QueryableStateClient({
    transport,
    proxy: "127.0.0.1:9069",
    requestTimeoutMs: 0,
    connectTimeoutMs: 250,
  });
  assertEquals(off.requestTimeoutMs, 0);
  assertEquals(off.connectTimeoutMs, 250, "passed through");
  for (const bad of [{ requestTimeoutMs: -1 }, { connectTimeoutMs: -1 }]) {
    let thrown: unknown;
    try {
      new NetworkClient({ transport, ...bad });
    } catch (e) {
      thrown = e;
    }
    assertInstanceOf(thrown, RangeError);
  }
});

for (const tc of TRANSPORTS) {
  Deno.test(`QueryableStateClient [${tc.name}]: a proxy that accepts and never answers gives DeadlineExceededError`, async () => {
    const transport = tc.make();
    const fake = await FakeServer.start(transport);
    const jobId = JobId.random();
    try {
      await using client = new QueryableStateClient({
        transport,
        proxy: fake.address,
        requestTimeoutMs: 100,
      });
      const started = performance.now();
      const query = client.getKvState(jobId, "counts", "k", {
        keyType: "string",
        valueType: "long",
      });
      const peer = await fake.accept();
      assert((await peer.frame()) !== null, "the request arrived");
      const e = await assertRejects(() => query, DeadlineExceededError, "within 100 ms");
      assert(performance.now() - started >= 90, "not before the deadline");
      assertEquals(e.javaClassName, "java.util.concurrent.TimeoutException");
      // A query's own deadline overrides the client's.
      const own = client.getKvState(jobId, "counts", "k", {
        keyType: "string",
        valueType: "long",
        timeoutMs: 30,
      });
      await assertRejects(() => own, DeadlineExceededError, "within 30 ms");
    } finally {
      await fake.close();
    }
  });
}

Deno.test("NetworkClient: a connect that hangs fails with ConnectError after connectTimeoutMs; keepAlive is asked for", async () => {
  const { transport, seen } = hanging(true);
  await using client = new NetworkClient({ transport, connectTimeoutMs: 60 });
  const started = performance.now();
  const a = client.sendKvStateInternalRequest(ADDRESS, req);
  const b = client.sendKvStateInternalRequest(ADDRESS, req);
  const e = await assertRejects(() => a, ConnectError, "Connection timed out: 127.0.0.1:9");
  await assertRejects(() => b, ConnectError, "timed out");
  assert(performance.now() - started >= 50, "not before the timeout");
  assertEquals(e.javaClassName, "java.net.ConnectException");
  assertEquals(seen.length, 1, "one connect for both requests");
  assertEquals(seen[0].keepAlive, true);
  assert(seen[0].signal?.aborted, "the attempt was aborted");
  assertEquals(client.connectionCount, 0);
});

Deno.test("QueryableStateClient: passes connectTimeoutMs and keepAlive on", async () => {
  const { transport, seen } = hanging(true);
  await using client = new QueryableStateClient({
    transport,
    proxy: ADDRESS,
    connectTimeoutMs: 40,
  });
  await assertRejects(
    () => client.getKvState(JobId.random(), "s", 1, { keyType: "int", valueType: "long" }),
    ConnectError,
    "timed out",
  );
  assertEquals(seen[0].keepAlive, true);
});

Deno.test("NetworkClient: a transport that ignores the abort signal cannot hold requests or close(); a late connection is closed", async () => {
  const { transport, settle } = hanging(false);
  const client = new NetworkClient({ transport, connectTimeoutMs: 40 });
  await assertRejects(
    () => client.sendKvStateInternalRequest(ADDRESS, req),
    ConnectError,
    "timed out",
  );
  // A second connection attempt, still hanging when the client closes.
  const slow = new NetworkClient({ transport, connectTimeoutMs: 0 });
  const pending = slow.sendKvStateInternalRequest(ADDRESS, req);
  const rejected = assertRejects(() => pending, ConnectionClosedError, "shut down");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closedInTime = await Promise.race([
    Promise.all([client.close(), slow.close()]).then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), 1000))),
  ]);
  clearTimeout(timer);
  assert(closedInTime, "close() did not wait for the hanging connect");
  await rejected;
  // Both attempts complete after all: the connections are closed at once.
  const late = inertConnection();
  settle(late);
  await delay(5);
  assert(late.closed, "the late connection was closed");
});

Deno.test("NetworkClient: close() during a connect aborts it instead of waiting for the timeout", async () => {
  const { transport, seen } = hanging(true);
  const client = new NetworkClient({ transport }); // default connect timeout: 10 s
  const pending = client.sendKvStateInternalRequest(ADDRESS, req);
  const rejected = assertRejects(() => pending, ConnectionClosedError, "shut down");
  const started = performance.now();
  await client.close();
  await rejected;
  assert(performance.now() - started < 1000, "closed promptly");
  assert(seen[0].signal?.aborted, "the attempt was aborted");
});

for (const tc of TRANSPORTS) {
  Deno.test(`NetworkClient [${tc.name}]: a peer that answers with a TLS record is named as speaking TLS`, async () => {
    const transport = tc.make();
    const fake = await FakeServer.start(transport);
    try {
      await using client = new NetworkClient({ transport, requestTimeoutMs: 5_000 });
      const pending = client.sendKvStateInternalRequest(fake.address, req);
      const peer = await fake.accept();
      // A TLS alert record (fatal, protocol_version), as a TLS server sends a plaintext client.
      await peer.send(new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]));
      const err = await assertRejects(() => pending);
      assertInstanceOf(err, ProtocolError);
      assert(/speaks TLS/.test((err as Error).message), (err as Error).message);
      assertInstanceOf((err as Error).cause, FrameLengthError);
    } finally {
      await fake.close();
    }
  });
}
