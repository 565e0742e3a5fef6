/**
 * The pool's log events, and a silent member failing its probes, over real
 * sockets.
 */

import { assert, assertEquals } from "../_assert.ts";
import { ProxyPool } from "../../src/upstream/proxy_pool.ts";
import { recorder } from "./_log_recorder.ts";
import { Plane, requestFor, SilentMember, transport, until, withRelayedPlane } from "./_members.ts";

Deno.test("pool logs: member_added, member_down (with the error and the wait), failover, member_up, member_removed", () =>
  withRelayedPlane(async (plane, a) => {
    const { events, logger } = recorder();
    await using pool = new ProxyPool({
      transport,
      name: "p",
      members: [a.address, plane.addresses[1]],
      logger,
      backoffInitialMs: 20,
      backoffMaxMs: 40,
    });
    await pool.request(requestFor("k1"));
    await a.kill();
    await pool.request(requestFor("k1"));
    await pool.request(requestFor("k1"));
    a.start();
    await until(() => pool.members[0].up, 3_000, "A up");
    pool.setMembers([plane.addresses[1]]);
    const own = events.filter(({ event: e }) => e.startsWith("member_") || e === "failover");
    const A = `127.0.0.1:${a.port}`;
    const B = `127.0.0.1:${plane.addresses[1].port}`;
    assertEquals(own.map(({ level, event, fields }) => [level, event, fields.address]), [
      ["info", "member_added", A],
      ["info", "member_added", B],
      ["warn", "member_down", A],
      ["info", "failover", A],
      ["info", "member_up", A],
      ["info", "member_removed", A],
    ]);
    const down = own[2].fields;
    assertEquals([down.pool, down.error], ["p", "ConnectError"]);
    assert(
      typeof down.retry_in_ms === "number" && down.retry_in_ms >= 10 && down.retry_in_ms <= 20,
    );
    assertEquals([own[3].fields.to, own[3].fields.attempt, own[3].fields.error], [
      B,
      1,
      "ConnectError",
    ]);
    assert(typeof own[4].fields.down_ms === "number");
    assertEquals(own[5].fields.outstanding, 0);
  }));

Deno.test("pool: a member that accepts and never answers fails its probes and stays out; requests go elsewhere", async () => {
  const plane = await Plane.start(1);
  const silent = new SilentMember();
  const { events, logger } = recorder();
  try {
    await using pool = new ProxyPool({
      transport,
      members: [silent.address, plane.addresses[0]],
      attemptTimeoutMs: 100,
      probeTimeoutMs: 50,
      backoffInitialMs: 10,
      backoffMaxMs: 20,
      logger,
    });
    await pool.request(requestFor("k1"));
    await pool.request(requestFor("k2"));
    assertEquals(pool.members[0].up, false);
    // Several probes time out meanwhile (each 50 ms, 10-20 ms apart).
    const read = silent.bytesRead;
    await new Promise((r) => setTimeout(r, 400));
    assert(silent.bytesRead > read, "the silent member was probed");
    assertEquals(pool.members[0].up, false);
    assertEquals(events.filter((e) => e.event === "member_up").length, 0);
    for (let i = 0; i < 10; i++) await pool.request(requestFor(`k${i}`));
    assertEquals(pool.members[0].requests, 1);
    assertEquals(pool.members[1].requests, 12);
  } finally {
    await silent.close();
    await plane.close();
  }
});
