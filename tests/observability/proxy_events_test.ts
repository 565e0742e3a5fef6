/**
 * The log events of the proxy, from real scenarios over every transport: a
 * dead state server (upstream failed, then recovered when it comes back),
 * an oracle that fails then works (lookup failed, then recovered), an
 * unknown state, a request refused by the access filter, a state server
 * that closes an idle connection, nothing per request, nothing on close.
 */

import { InMemoryValueState, type JobId, KvStateServer, TYPE_SERIALIZERS as S } from "../../mod.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { TRANSPORTS } from "../_harness.ts";
import { JOB, Plane } from "../proxy/_plane.ts";
import { Capture, hostPort } from "./_capture.ts";

const PROXY = "Queryable State Proxy Server";
const q = { keyType: "string", valueType: "long" } as const;
const data = () => new InMemoryValueState(S.string, S.long).set("hello", 42n);

for (const tc of TRANSPORTS) {
  /** One transport per case (an in-memory one is its own network). */
  const t = tc.make();

  Deno.test(`proxy events [${tc.name}]: a dead state server logs upstream_connect_failed (address, error), then upstream_recovered once it is back`, async () => {
    const cap = new Capture();
    const plane = await Plane.start(t, { logger: cap.logger, retries: 1 });
    try {
      const first = await plane.addServer();
      const id = plane.register("word-counts", first, data());
      const address = first.address;
      await first.close();
      await assertRejects(() => plane.client.getKvState(JOB, "word-counts", "hello", q));
      const failed = cap.named("upstream_connect_failed");
      assert(failed.length >= 1, cap.lines.join("\n"));
      assertEquals(failed[0].level, "warn");
      assertEquals(failed[0].address, hostPort(address));
      assertEquals(failed[0].error, "ConnectError");
      assertEquals(failed[0].client, "Queryable State Proxy Client");
      assertEquals(cap.named("upstream_recovered").length, 0);
      // Back on the same address, with the same state id.
      const again = new KvStateServer({ transport: t, port: address.port });
      plane.servers.push(again);
      again.registry.register(data(), id);
      await again.start();
      assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 42n);
      const recovered = await cap.waitFor("upstream_recovered");
      assertEquals(recovered.level, "info");
      assertEquals(recovered.address, hostPort(address));
      // Once: the next requests are not logged.
      for (let i = 0; i < 20; i++) {
        assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 42n);
      }
      assertEquals(cap.named("upstream_recovered").length, 1);
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy events [${tc.name}]: an oracle that fails then works logs oracle_lookup_failed (job, state, error), then oracle_lookup_recovered once`, async () => {
    const cap = new Capture();
    const plane = await Plane.start(t, { logger: cap.logger, locationCache: { negativeTtlMs: 0 } });
    try {
      const server = await plane.addServer();
      plane.register("word-counts", server, data());
      let failures = 1;
      plane.proxy.updateKvStateLocationOracle(JOB, {
        requestKvStateLocation: (jobId: JobId, name: string) => {
          if (failures-- > 0) return Promise.reject(new TypeError("oracle down"));
          return plane.locations.requestKvStateLocation(jobId, name);
        },
      });
      await assertRejects(() => plane.client.getKvState(JOB, "word-counts", "hello", q));
      const failed = await cap.waitFor("oracle_lookup_failed");
      assertEquals(failed.level, "warn");
      assertEquals(failed.server, PROXY);
      assertEquals(failed.job, JOB.toString());
      assertEquals(failed.state, "word-counts");
      assertEquals(failed.error, "TypeError");
      assertEquals(failed.message, "oracle down");
      assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 42n);
      const recovered = await cap.waitFor("oracle_lookup_recovered");
      assertEquals(recovered.level, "info");
      assertEquals(recovered.job, JOB.toString());
      assertEquals(recovered.state, "word-counts");
      // A lookup that never failed is not "recovered".
      plane.register("other", server, data());
      assertEquals(await plane.client.getKvState(JOB, "other", "hello", q), 42n);
      assertEquals(cap.named("oracle_lookup_recovered").length, 1);
      assertEquals(cap.named("oracle_lookup_failed").length, 1);
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy events [${tc.name}]: a state nobody registered logs oracle_state_unknown (info), not oracle_lookup_failed`, async () => {
    const cap = new Capture();
    const plane = await Plane.start(t, { logger: cap.logger });
    try {
      plane.register("word-counts", await plane.addServer(), data());
      await assertRejects(() => plane.client.getKvState(JOB, "nope", "hello", q));
      const e = await cap.waitFor("oracle_state_unknown");
      assertEquals(e.level, "info");
      assertEquals(e.state, "nope");
      assertEquals(e.error, "UnknownKvStateLocationError");
      assertEquals(cap.named("oracle_lookup_failed").length, 0);
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy events [${tc.name}]: a request refused by the access filter logs request_denied (peer, job, state)`, async () => {
    const cap = new Capture();
    const plane = await Plane.start(t, {
      logger: cap.logger,
      requestFilter: (r) => r.stateName !== "secret",
    });
    try {
      const server = await plane.addServer();
      plane.register("word-counts", server, data());
      plane.register("secret", server, data());
      assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 42n);
      await assertRejects(() => plane.client.getKvState(JOB, "secret", "hello", q));
      const e = await cap.waitFor("request_denied");
      assertEquals(e.level, "warn");
      assertEquals(e.server, PROXY);
      assertEquals(e.job, JOB.toString());
      assertEquals(e.state, "secret");
      assert(String(e.peer).startsWith("127.0.0.1:"), String(e.peer));
      assertEquals(cap.named("request_denied").length, 1);
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy events [${tc.name}]: a state server closing an idle upstream connection logs upstream_connection_lost at info (0 pending); nothing per request, nothing when the proxy closes`, async () => {
    const cap = new Capture();
    const plane = await Plane.start(t, { logger: cap.logger });
    try {
      const server = await plane.addServer();
      plane.register("word-counts", server, data());
      for (let i = 0; i < 50; i++) {
        assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 42n);
      }
      assertEquals(cap.events.map((e) => e.event), ["server_started"]);
      const address = server.address;
      await server.close();
      const lost = await cap.waitFor("upstream_connection_lost");
      assertEquals(lost.level, "info");
      assertEquals(lost.pending, 0);
      assertEquals(lost.address, hostPort(address));
      assertEquals(lost.error, "ConnectionClosedError");
    } finally {
      await plane.close();
    }
    assertEquals(cap.events.at(-1)!.event, "server_stopped");
    assertEquals(cap.named("upstream_connection_lost").length, 1);
  });

  Deno.test(`proxy events [${tc.name}]: upstreamOptions.logger takes the client's events under their own names`, async () => {
    const cap = new Capture();
    const upstream = new Capture();
    const plane = await Plane.start(t, {
      logger: cap.logger,
      retries: 0,
      upstreamOptions: { logger: upstream.logger },
    });
    try {
      const server = await plane.addServer();
      plane.register("word-counts", server, data());
      await server.close();
      await assertRejects(() => plane.client.getKvState(JOB, "word-counts", "hello", q));
      const e = await upstream.waitFor("connect_failed");
      assertEquals(e.address, hostPort(server.address));
      assertEquals(cap.named("upstream_connect_failed").length, 0);
    } finally {
      await plane.close();
    }
  });
}
