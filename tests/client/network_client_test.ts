import {
  ClosedError,
  ConnectError,
  ConnectionClosedError,
  DeadlineExceededError,
  KvStateId,
  NetworkClient,
  ProtocolError,
  RemoteError,
  RequestStats,
  UnknownKeyOrNamespaceError,
} from "../../mod.ts";
import {
  decodeKvStateInternalRequest,
  decodeMessage,
  encodeKvStateResponse,
  encodeRequestFailure,
  encodeServerFailure,
  javaThrowable,
  toHex,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import { delay, FakeServer, TRANSPORTS } from "../_harness.ts";

const req = (n: number) => ({
  kvStateId: KvStateId.fromHex("0a0b0c0d0e0f10111213141516171819"),
  serializedKeyAndNamespace: new Uint8Array([2, 0x60 + n, 42, 0]),
});

function requestIdOf(frame: Uint8Array): bigint {
  const m = decodeMessage(frame.subarray(4));
  assert(m.type === 0);
  return m.requestId;
}

for (const tc of TRANSPORTS) {
  Deno.test(`NetworkClient [${tc.name}]: lazy connect, queue while connecting, ids from 0, out-of-order answers`, async () => {
    const transport = tc.make();
    const fake = await FakeServer.start(transport);
    const stats = new RequestStats();
    const client = new NetworkClient({ transport, stats });
    try {
      assertEquals(client.connectionCount, 0);
      const answers = [0, 1, 2].map((n) => client.sendKvStateInternalRequest(fake.address, req(n)));
      assertEquals(client.connectionCount, 1, "one connection per address");
      const peer = await fake.accept();
      const frames = await peer.frames(3);
      assertEquals(frames.map(requestIdOf), [0n, 1n, 2n]);
      assertEquals(
        frames.map((f) =>
          decodeKvStateInternalRequest(decodeMessage(f.subarray(4)).body)
            .serializedKeyAndNamespace[1]
        ),
        [0x60, 0x61, 0x62],
        "sent in queue order",
      );
      // Answer in reverse order, plus an answer for an id nobody asked for.
      await peer.send(
        encodeKvStateResponse(99n, new Uint8Array([99])),
        encodeKvStateResponse(2n, new Uint8Array([2])),
        encodeKvStateResponse(1n, new Uint8Array([1])),
        encodeKvStateResponse(0n, new Uint8Array([0])),
      );
      assertEquals((await Promise.all(answers)).map((a) => a[0]), [0, 1, 2]);
      // Ids continue on the same connection.
      const next = client.sendKvStateInternalRequest(fake.address, req(3));
      assertEquals(requestIdOf((await peer.frame())!), 3n);
      const failure = writeJavaThrowable(javaThrowable(
        "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
        "Queryable State Server : No state for the specified key/namespace.",
      ));
      await peer.send(encodeRequestFailure(3n, failure));
      const err = await assertRejects(() => next, UnknownKeyOrNamespaceError);
      assertEquals(
        err.message,
        "Queryable State Server : No state for the specified key/namespace.",
      );
      const s = stats.snapshot();
      assertEquals([s.activeConnections, s.requests, s.successfulRequests, s.failedRequests], [
        1,
        4,
        3,
        1,
      ]);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  Deno.test(`NetworkClient [${tc.name}]: SERVER_FAILURE fails every pending request; the next request reconnects`, async () => {
    const transport = tc.make();
    const fake = await FakeServer.start(transport);
    const client = new NetworkClient({ transport });
    try {
      const pending = [0, 1, 2].map((n) => client.sendKvStateInternalRequest(fake.address, req(n)));
      const peer = await fake.accept();
      await peer.frames(3);
      await peer.send(encodeServerFailure(writeJavaThrowable(javaThrowable(
        "java.lang.IllegalArgumentException",
        "Unexpected message type REQUEST_RESULT. Expected REQUEST.",
      ))));
      for (const p of pending) {
        const e = await assertRejects(() => p, RemoteError);
        assertEquals(e.javaClassName, "java.lang.IllegalArgumentException");
        assertEquals(e.message, "Unexpected message type REQUEST_RESULT. Expected REQUEST.");
      }
      assert(await peer.closedWithin(2000), "the client closed the connection");
      const again = client.sendKvStateInternalRequest(fake.address, req(5));
      const peer2 = await fake.accept();
      assertEquals(requestIdOf((await peer2.frame())!), 0n, "a new connection counts from 0");
      await peer2.send(encodeKvStateResponse(0n, new Uint8Array([5])));
      assertEquals((await again)[0], 5);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  Deno.test(`NetworkClient [${tc.name}]: peer close, garbage and bad types are connection-fatal with clear errors`, async () => {
    const transport = tc.make();
    const fake = await FakeServer.start(transport);
    const client = new NetworkClient({ transport });
    try {
      // Peer closes mid-request.
      let p = client.sendKvStateInternalRequest(fake.address, req(0));
      let peer = await fake.accept();
      await peer.frame();
      await peer.close();
      const closed = await assertRejects(() => p, ConnectionClosedError);
      assert(closed.message.includes("closed by peer"), closed.message);
      // Garbage (a bad version).
      p = client.sendKvStateInternalRequest(fake.address, req(1));
      peer = await fake.accept();
      await peer.frame();
      await peer.send(new Uint8Array([0, 0, 0, 8, 1, 2, 3, 4, 0, 0, 0, 1]));
      await assertRejects(() => p, ProtocolError, "Version Mismatch");
      // A REQUEST frame sent to a client.
      p = client.sendKvStateInternalRequest(fake.address, req(2));
      peer = await fake.accept();
      const sent = (await peer.frame())!;
      await peer.send(sent);
      await assertRejects(() => p, ProtocolError, "Unexpected message type REQUEST");
      // A failure whose Throwable does not deserialize.
      p = client.sendKvStateInternalRequest(fake.address, req(3));
      peer = await fake.accept();
      await peer.frame();
      await peer.send(encodeRequestFailure(0n, new Uint8Array([0xac, 0xed, 0, 5, 0x73, 0x72])));
      await assertRejects(() => p, ProtocolError);
      // A negative content length.
      p = client.sendKvStateInternalRequest(fake.address, req(4));
      peer = await fake.accept();
      await peer.frame();
      const bad = encodeKvStateResponse(0n, new Uint8Array(0));
      new DataView(bad.buffer).setInt32(20, -1);
      await peer.send(bad);
      await assertRejects(() => p, ProtocolError, "Negative length for state content");
      // An oversized frame.
      const small = new NetworkClient({ transport, maxFrameLength: 100 });
      try {
        const q = small.sendKvStateInternalRequest(fake.address, req(5));
        peer = await fake.accept();
        await peer.frame();
        await peer.send(encodeKvStateResponse(0n, new Uint8Array(200)));
        await assertRejects(() => q, ProtocolError, "exceeds 100");
      } finally {
        await small.close();
      }
    } finally {
      await client.close();
      await fake.close();
    }
  });

  Deno.test(`NetworkClient [${tc.name}]: refused connections reject with ConnectError`, async () => {
    const transport = tc.make();
    const fake = await FakeServer.start(transport);
    const address = fake.address;
    await fake.close();
    await using client = new NetworkClient({ transport });
    const pending = [0, 1].map((n) => client.sendKvStateInternalRequest(address, req(n)));
    for (const p of pending) await assertRejects(() => p, ConnectError);
    assertEquals(client.connectionCount, 0);
  });

  Deno.test(`NetworkClient [${tc.name}]: signal, deadline, late answers dropped, close`, async () => {
    const transport = tc.make();
    const fake = await FakeServer.start(transport);
    const client = new NetworkClient({ transport, requestTimeoutMs: 100 });
    try {
      const controller = new AbortController();
      const aborted = client.sendKvStateInternalRequest(fake.address, req(0), {
        signal: controller.signal,
        timeoutMs: 0,
      });
      const timedOut = client.sendKvStateInternalRequest(fake.address, req(1));
      const peer = await fake.accept();
      await peer.frames(2);
      controller.abort(new Error("user gave up"));
      await assertRejects(() => aborted, DeadlineExceededError, "aborted");
      const e = await assertRejects(() => timedOut, DeadlineExceededError);
      assert(e.message.includes("within 100 ms"), e.message);
      // Late answers for both are dropped without harm; the connection still works.
      await peer.send(
        encodeKvStateResponse(0n, new Uint8Array([0])),
        encodeKvStateResponse(1n, new Uint8Array([1])),
      );
      const ok = client.sendKvStateInternalRequest(fake.address, req(2));
      assertEquals(requestIdOf((await peer.frame())!), 2n);
      await peer.send(encodeKvStateResponse(2n, new Uint8Array([2])));
      assertEquals((await ok)[0], 2);
      // An already aborted signal.
      await assertRejects(
        () =>
          client.sendKvStateInternalRequest(fake.address, req(3), { signal: AbortSignal.abort() }),
        DeadlineExceededError,
      );
      // Close with a request pending.
      const pending = client.sendKvStateInternalRequest(fake.address, req(4), { timeoutMs: 0 });
      const rejected = assertRejects(() => pending, ConnectionClosedError);
      await peer.frame();
      await client.close();
      await rejected;
      await assertRejects(
        () => client.sendKvStateInternalRequest(fake.address, req(5)),
        ClosedError,
        "already shut down",
      );
      await client.close(); // idempotent
    } finally {
      await client.close();
      await fake.close();
    }
  });
}

Deno.test("NetworkClient: requests to several addresses use one connection each", async () => {
  const { MemoryTransport } = await import("../../mod.ts");
  const transport = new MemoryTransport();
  const a = await FakeServer.start(transport);
  const b = await FakeServer.start(transport);
  await using client = new NetworkClient({ transport });
  const pa = client.sendKvStateInternalRequest(a.address, req(0));
  const pb = client.sendKvStateInternalRequest(b.address, req(1));
  assertEquals(client.connectionCount, 2);
  const [peerA, peerB] = await Promise.all([a.accept(), b.accept()]);
  assertEquals(requestIdOf((await peerA.frame())!), 0n);
  assertEquals(requestIdOf((await peerB.frame())!), 0n, "ids are per connection");
  await peerB.send(encodeKvStateResponse(0n, new Uint8Array([0xb])));
  await peerA.send(encodeKvStateResponse(0n, new Uint8Array([0xa])));
  assertEquals(toHex(await pa), "0a");
  assertEquals(toHex(await pb), "0b");
  await client.close();
  await a.close();
  await b.close();
  assertInstanceOf(new ConnectError("x"), Error);
  await delay(0);
});
