/**
 * QueryableStateClient with several proxies (issue 14): the address forms,
 * one proxy on the direct path, several through a pool that survives the
 * loss of one proxy.
 */

import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import { ConnectError, ConnectionClosedError } from "../../src/wire/errors.ts";
import {
  JOB,
  Plane,
  Relay,
  STATE,
  transport,
  until,
  withRelayedPlane,
} from "../upstream/_members.ts";

const types = { keyType: "string", valueType: "long" } as const;

Deno.test("QueryableStateClient: proxy forms: host alone is port 9069; a list by commas or an array", async () => {
  const memory = new MemoryTransport();
  await using one = new QueryableStateClient({ transport: memory, proxy: "tm-1" });
  assertEquals(one.proxy, { hostname: "tm-1", port: 9069 });
  assertEquals(one.proxies, [{ hostname: "tm-1", port: 9069 }]);
  await using two = new QueryableStateClient({ transport: memory, proxy: "tm-1:9070, [::1]" });
  assertEquals(two.proxies, [{ hostname: "tm-1", port: 9070 }, { hostname: "::1", port: 9069 }]);
  assertEquals(two.proxy, { hostname: "tm-1", port: 9070 });
  await using array = new QueryableStateClient({
    transport: memory,
    proxy: [{ hostname: "a", port: 1 }, "b:2"],
    requestTimeoutMs: 1234,
  });
  assertEquals(array.proxies.length, 2);
  assertEquals(array.requestTimeoutMs, 1234);
  assertEquals(array.connectTimeoutMs, 10_000);
  assertThrows(() => new QueryableStateClient({ transport: memory, proxy: "a:99999" }), TypeError);
  assertThrows(() => new QueryableStateClient({ transport: memory, proxy: "" }), TypeError);
});

Deno.test("QueryableStateClient: one proxy keeps the direct path (no failover: a refused connect is the error)", async () => {
  const plane = await Plane.start(1);
  const relay = new Relay(plane.addresses[0]);
  relay.start();
  try {
    await using client = new QueryableStateClient({ transport, proxy: `127.0.0.1:${relay.port}` });
    assertEquals(await client.getKvState(JOB, STATE, "k3", types), 1003n);
    await relay.kill();
    const e = await assertRejects(() => client.getKvState(JOB, STATE, "k3", types));
    assert(e instanceof ConnectError || e instanceof ConnectionClosedError, String(e));
  } finally {
    await relay.kill();
    await plane.close();
  }
});

Deno.test("QueryableStateClient: several proxies: queries spread, and survive the loss of one proxy under load", () =>
  withRelayedPlane(async (plane, a) => {
    await using client = new QueryableStateClient({
      transport,
      proxy: `127.0.0.1:${a.port},127.0.0.1:${plane.addresses[1].port}`,
      failover: { backoffInitialMs: 20, backoffMaxMs: 100 },
    });
    for (let i = 0; i < 10; i++) {
      assertEquals(await client.getKvState(JOB, STATE, `k${i}`, types), BigInt(1000 + i));
    }
    assertEquals(plane.requestsPerProxy(), [5, 5]);
    a.holding = true;
    const n = 40;
    const all = Promise.all(
      Array.from({ length: n }, (_, i) => client.getKvState(JOB, STATE, `k${i}`, types)),
    );
    await until(() => plane.proxies[0].stats.requests >= 5 + 10, 5_000, "queries held on A");
    await a.kill();
    assertEquals(await all, Array.from({ length: n }, (_, i) => BigInt(1000 + i)));
    assertEquals(await client.getKvStateIfPresent(JOB, STATE, "absent", types), undefined);
    // A later query with A gone goes to B at once.
    const before = plane.proxies[1].stats.requests;
    assertEquals(await client.getKvState(JOB, STATE, "k9", types), 1009n);
    assertEquals(plane.proxies[1].stats.requests - before, 1);
  }));
