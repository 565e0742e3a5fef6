/**
 * QueryableStateClient given an existing ProxyPool (`{ pool }`): its queries
 * go through that pool (counted on its members, following `setMembers` as a
 * discovery calls it), its defaults are the pool's, and its close leaves the
 * pool open for its owner; `proxy` and `pool` together, or a pool that is
 * not one, are refused.
 */

import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import { ProxyPool } from "../../src/upstream/proxy_pool.ts";
import { ClosedError } from "../../src/wire/errors.ts";
import { JOB, Plane, STATE, transport } from "../upstream/_members.ts";

const types = { keyType: "string", valueType: "long" } as const;

Deno.test("QueryableStateClient given a pool: queries go through its members, which setMembers changes", async () => {
  const plane = await Plane.start(2);
  const [a, b] = plane.addresses;
  const pool = new ProxyPool({ transport, requestTimeoutMs: 4_321 });
  try {
    const client = new QueryableStateClient({ pool });
    assertEquals(client.proxies, []);
    assertEquals(client.proxy, undefined);
    assertEquals(client.requestTimeoutMs, 4_321);

    pool.setMembers([a]);
    assertEquals(client.proxies, [a]);
    for (let i = 0; i < 4; i++) {
      assertEquals(await client.getKvState(JOB, STATE, `k${i}`, types), BigInt(1000 + i));
    }
    assertEquals(await client.getKvStateIfPresent(JOB, STATE, "absent", types), undefined);
    assertEquals(pool.members.map((m) => [m.address, m.requests]), [[`127.0.0.1:${a.port}`, 5]]);
    assertEquals(plane.requestsPerProxy(), [5, 0]);

    // What a discovery does: the client follows the pool's new members.
    pool.setMembers([b]);
    assertEquals(client.proxies, [b]);
    assertEquals(await client.getKvState(JOB, STATE, "k7", types), 1007n);
    assertEquals(plane.requestsPerProxy(), [5, 1]);

    // The client's close leaves the pool open: it still answers; the client refuses.
    await client.close();
    assertEquals(pool.closed, false);
    await assertRejects(() => client.getKvState(JOB, STATE, "k1", types), ClosedError);
    const other = new QueryableStateClient({ pool });
    assertEquals(await other.getKvState(JOB, STATE, "k2", types), 1002n);
    await other.close();
    assertEquals(pool.members[0].requests, 2);
  } finally {
    await pool.close();
    await plane.close();
  }
});

Deno.test("QueryableStateClient given a pool: a closed pool's ClosedError; both proxy and pool, or no pool, refused", async () => {
  const memory = new MemoryTransport();
  const pool = new ProxyPool({ transport: memory, members: "tm-1,tm-2" });
  await pool.close();
  const client = new QueryableStateClient({ pool });
  await assertRejects(() => client.getKvState(JOB, STATE, "k1", types), ClosedError);
  await client.close();
  assertThrows(
    () =>
      new QueryableStateClient(
        { pool, proxy: "tm-1:9069" } as unknown as ConstructorParameters<
          typeof QueryableStateClient
        >[0],
      ),
    TypeError,
    "give proxy or pool, not both",
  );
  assertThrows(
    () => new QueryableStateClient({ pool: {} as ProxyPool }),
    TypeError,
    "pool must be a ProxyPool",
  );
  // An own pool (several proxies) is still closed with the client.
  const own = new QueryableStateClient({ transport: memory, proxy: "tm-1,tm-2" });
  assert(own.proxies.length === 2);
  await own.close();
  await assertRejects(() => own.getKvState(JOB, STATE, "k1", types), ClosedError);
});

Deno.test("QueryableStateClient given a pool: proxies are the members' addresses as given, those draining left out", async () => {
  const pool = new ProxyPool({ transport: new MemoryTransport() });
  try {
    const client = new QueryableStateClient({ pool });
    // A host name that is all digits is taken as an address object: not read back from text.
    pool.setMembers([{ hostname: "1234", port: 1 }, "[::1]:2", "tm-3"]);
    assertEquals(client.proxies, [
      { hostname: "1234", port: 1 },
      { hostname: "::1", port: 2 },
      { hostname: "tm-3", port: 9069 },
    ]);
    assertEquals(client.proxy, { hostname: "1234", port: 1 });
    pool.setMembers(["tm-3"]);
    assertEquals(client.proxies, [{ hostname: "tm-3", port: 9069 }]);
    await client.close();
  } finally {
    await pool.close();
  }
});
