/**
 * Issue 14 end to end in process, over real sockets: a FlinkRestDiscovery
 * (against the fake Flink REST API, a proxy port range probed on
 * 127.0.0.1) feeding a ProxyPool that an upstream-mode KvStateClientProxy
 * forwards to, queried by our client. TaskManagers come (a proxy starts on
 * a port of the range) and go (one closes): the pool follows at the next
 * refresh, and every query in between gets its right value. The REST API
 * failing, or listing no TaskManager, keeps the list.
 */

import { assert, assertEquals } from "../_assert.ts";
import { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { KvStateClientProxy } from "../../src/proxy/kv_state_client_proxy.ts";
import { FlinkRestDiscovery } from "../../src/upstream/flink_rest_discovery.ts";
import { ProxyPool } from "../../src/upstream/proxy_pool.ts";
import { freeRange, Plane, queryAll, transport, until } from "./_members.ts";
import { serveFakeFlinkRest } from "./_fake_flink_rest.ts";

Deno.test("e2e discovery feeding a pool: TaskManagers come and go, the REST API fails, queries are answered throughout", async () => {
  const base = freeRange(4);
  const plane = await Plane.start(0);
  await plane.addProxy(base);
  await plane.addProxy(base + 1);
  const rest = serveFakeFlinkRest([{ host: "127.0.0.1" }]);
  const pool = new ProxyPool({ transport, backoffInitialMs: 20, backoffMaxMs: 100 });
  const changes: string[][] = [];
  const discovery = new FlinkRestDiscovery(rest.base, {
    proxyPort: `${base}-${base + 3}`,
    transport,
    refreshIntervalMs: 50,
    probeTimeoutMs: 500,
    onMembers: (members) => {
      changes.push(members.map((m) => String(m.port - base)));
      pool.setMembers(members);
    },
  });
  const front = new KvStateClientProxy({ transport, upstream: pool });
  let client: QueryableStateClient | undefined;
  const ports = () => pool.members.filter((m) => !m.draining).map((m) => m.address).join(",");
  try {
    assertEquals((await discovery.start()).map((m) => m.port), [base, base + 1]);
    client = new QueryableStateClient({ transport, proxy: await front.start() });
    await queryAll(client, 16);
    assertEquals(plane.requestsPerProxy().map((n) => n > 0), [true, true]);

    // A TaskManager comes: its proxy on the next port of the range joins at a refresh.
    await plane.addProxy(base + 2);
    await until(() => pool.members.length === 3, 5_000, "the third member");
    await queryAll(client, 24);
    assert(plane.requestsPerProxy()[2] > 0, `${plane.requestsPerProxy()}`);

    // One goes: its proxy closes; queries go on (failing over), the refresh drops it.
    await plane.proxies[0].close();
    await queryAll(client, 16);
    await until(
      () => ports() === `127.0.0.1:${base + 1},127.0.0.1:${base + 2}`,
      5_000,
      "the member that went to leave",
    );
    await queryAll(client, 16);

    // The REST API fails, then lists no TaskManager: the list is kept both times.
    const seen = rest.requests.length;
    rest.mode = { kind: "status", status: 500 };
    await until(() => rest.requests.length >= seen + 2, 5_000, "failed refreshes");
    assert(discovery.lastError !== undefined);
    rest.taskManagers = [];
    rest.mode = { kind: "ok" };
    await until(() => rest.requests.length >= seen + 4, 5_000, "empty refreshes");
    assertEquals(ports(), `127.0.0.1:${base + 1},127.0.0.1:${base + 2}`);
    await queryAll(client, 16);
    assertEquals(changes, [["0", "1"], ["0", "1", "2"], ["1", "2"]]);
  } finally {
    await client?.close();
    await front.close();
    await discovery.close();
    await pool.close();
    await rest.close();
    await plane.close();
  }
});
