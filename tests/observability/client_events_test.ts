/**
 * The log events of the network client, from real scenarios over every
 * transport: connect failed then recovered, a connection lost with a
 * request pending, the request queue full, the logger passed through by
 * `QueryableStateClient`, nothing on close and nothing per request.
 */

import {
  type ConnectOptions,
  InMemoryValueState,
  JobId,
  KvStateId,
  KvStateServer,
  type LogLevel,
  type NetAddress,
  NetworkClient,
  QueryableStateClient,
  RequestQueueFullError,
  type Transport,
  TYPE_SERIALIZERS as S,
} from "../../mod.ts";
import { serializeKeyAndNamespace } from "../../src/wire/mod.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { FakeServer, TRANSPORTS } from "../_harness.ts";
import { Capture, hostPort } from "./_capture.ts";

const CLIENT = "Queryable State Client";

async function stateServer(
  transport: Transport,
  port = 0,
  id?: KvStateId,
): Promise<{ server: KvStateServer; id: KvStateId; address: NetAddress }> {
  const server = new KvStateServer({ transport, port });
  const kvStateId = server.registry.register(
    new InMemoryValueState(S.string, S.long).set("hello", 42n),
    id,
  );
  const address = await server.start();
  return { server, id: kvStateId, address };
}

const req = (kvStateId: KvStateId) => ({
  kvStateId,
  serializedKeyAndNamespace: serializeKeyAndNamespace("hello", S.string),
});

for (const tc of TRANSPORTS) {
  /** One transport per case (an in-memory one is its own network). */
  const t = tc.make();

  Deno.test(`client events [${tc.name}]: connect_failed (address, error), then connection_recovered once the server is back`, async () => {
    const cap = new Capture();
    const { server, id, address } = await stateServer(t);
    await server.close();
    await using client = new NetworkClient({ transport: t, logger: cap.logger });
    await assertRejects(() => client.sendKvStateInternalRequest(address, req(id)));
    const failed = await cap.waitFor("connect_failed");
    assertEquals(failed.level, "warn");
    assertEquals(failed.client, CLIENT);
    assertEquals(failed.address, hostPort(address));
    assertEquals(failed.error, "ConnectError");
    assert(typeof failed.message === "string" && failed.message.length > 0);
    const back = await stateServer(t, address.port, id);
    try {
      assertEquals((await client.sendKvStateInternalRequest(address, req(id))).length, 8);
      const recovered = await cap.waitFor("connection_recovered");
      assertEquals(recovered.level, "info");
      assertEquals(recovered.address, hostPort(address));
      for (let i = 0; i < 20; i++) await client.sendKvStateInternalRequest(address, req(id));
      assertEquals(cap.events.map((e) => e.event), ["connect_failed", "connection_recovered"]);
    } finally {
      await client.close();
      await back.server.close();
    }
    assertEquals(cap.named("connection_lost").length, 0, cap.lines.join("\n"));
  });

  Deno.test(`client events [${tc.name}]: a connection closed under a pending request logs connection_lost at warn with pending 1`, async () => {
    const cap = new Capture();
    const fake = await FakeServer.start(t);
    await using client = new NetworkClient({ transport: t, logger: cap.logger });
    try {
      const answer = client.sendKvStateInternalRequest(
        fake.address,
        req(KvStateId.fromHex("000102030405060708090a0b0c0d0e0f")),
      );
      const peer = await fake.accept();
      assert((await peer.frame()) !== null, "the request arrives");
      await peer.close();
      await assertRejects(() => answer);
      const lost = await cap.waitFor("connection_lost");
      assertEquals(lost.level, "warn");
      assertEquals(lost.pending, 1);
      assertEquals(lost.address, hostPort(fake.address));
      assertEquals(lost.error, "ConnectionClosedError");
    } finally {
      await client.close();
      await fake.close();
    }
  });

  Deno.test(`client events [${tc.name}]: a request past maxQueuedBytesPerConnection logs request_queue_full with the limit`, async () => {
    const cap = new Capture();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated: Transport = {
      name: "gated",
      listen: (address) => t.listen(address),
      async connect(options: ConnectOptions) {
        await gate;
        return t.connect(options);
      },
    };
    const { server, id, address } = await stateServer(t);
    const client = new NetworkClient({
      transport: gated,
      logger: cap.logger,
      maxQueuedBytesPerConnection: 50,
    });
    try {
      const first = client.sendKvStateInternalRequest(address, req(id));
      await assertRejects(
        () => client.sendKvStateInternalRequest(address, req(id)),
        RequestQueueFullError,
      );
      const full = await cap.waitFor("request_queue_full");
      assertEquals(full.level, "warn");
      assertEquals(full.limit, 50);
      assertEquals(full.address, hostPort(address));
      release();
      assertEquals((await first).length, 8);
    } finally {
      release();
      await client.close();
      await server.close();
    }
  });

  Deno.test(`client events [${tc.name}]: QueryableStateClient passes its logger through`, async () => {
    const cap = new Capture();
    const { server, address } = await stateServer(t);
    await server.close();
    await using client = new QueryableStateClient({
      transport: t,
      proxy: address,
      logger: cap.logger,
    });
    await assertRejects(() =>
      client.getKvState(JobId.random(), "s", "k", { keyType: "string", valueType: "long" })
    );
    const e = await cap.waitFor("connect_failed");
    assertEquals(e.client, CLIENT);
    assertEquals(e.address, hostPort(address));
  });
}

Deno.test("client events: a logger that is off is never asked per request, and never written to", async () => {
  const t = TRANSPORTS[0].make();
  let enabledCalls = 0;
  let writes = 0;
  const write = () => void writes++;
  const logger = {
    enabled: (_l: LogLevel) => (enabledCalls++, false),
    debug: write,
    info: write,
    warn: write,
    error: write,
  };
  const { server, id, address } = await stateServer(t);
  await using client = new NetworkClient({ transport: t, logger });
  try {
    for (let i = 0; i < 100; i++) await client.sendKvStateInternalRequest(address, req(id));
    assertEquals(enabledCalls, 0);
    await server.close();
    await assertRejects(() => client.sendKvStateInternalRequest(address, req(id)));
    assert(enabledCalls > 0, "asked when the connection failed");
    assertEquals(writes, 0);
  } finally {
    await client.close();
    await server.close();
  }
});
