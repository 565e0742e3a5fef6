/**
 * ProxyPool under member-list churn and racing closes, over real sockets:
 * setMembers called again and again while requests are in flight loses no
 * request and leaks no connection; a close racing with failover settles
 * every request at once; the forward path the same.
 */

import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { ClosedError, ConnectError, QueryableStateError } from "../../src/wire/errors.ts";
import { encodeKvStateRequest } from "../../src/wire/messages.ts";
import { ProxyPool } from "../../src/upstream/proxy_pool.ts";
import { KEYS, longOf, Plane, Relay, requestFor, transport, until } from "./_members.ts";

const FAST = { backoffInitialMs: 20, backoffMaxMs: 100, probeTimeoutMs: 300 };

Deno.test("ProxyPool: setMembers churning under load: every request answered rightly, no member left draining", async () => {
  const plane = await Plane.start(3);
  try {
    await using pool = new ProxyPool({ transport, members: plane.addresses, ...FAST });
    const lists = [[0], [1, 2], [2], [0, 1, 2], [1], [0, 2]].map((l) =>
      l.map((i) => plane.addresses[i])
    );
    const requests: Promise<void>[] = [];
    for (let round = 0; round < 60; round++) {
      for (let j = 0; j < 10; j++) {
        const k = (round * 10 + j) % KEYS;
        requests.push(
          pool.request(requestFor(`k${k}`)).then((c) =>
            assertEquals(longOf(c), BigInt(1000 + k), `k${k}`)
          ),
        );
      }
      pool.setMembers(lists[round % lists.length]);
      if (round % 5 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(requests);
    pool.setMembers(plane.addresses);
    await until(
      () => pool.members.length === 3 && pool.members.every((m) => m.outstanding === 0),
      2_000,
      "drained members released",
    );
    assertEquals(pool.failovers, 0, "churn alone is no failure");
  } finally {
    await plane.close();
  }
});

Deno.test("ProxyPool: setMembers([]) under load: requests in flight finish, new ones are a ConnectError", async () => {
  const plane = await Plane.start(2);
  try {
    await using pool = new ProxyPool({ transport, members: plane.addresses, ...FAST });
    const inFlight = Array.from({ length: 50 }, (_, i) => pool.request(requestFor(`k${i % KEYS}`)));
    pool.setMembers([]);
    const outcomes = await Promise.allSettled(inFlight);
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i];
      assertEquals(o.status, "fulfilled", `request ${i}`);
      if (o.status === "fulfilled") assertEquals(longOf(o.value), BigInt(1000 + (i % KEYS)));
    }
    let err: unknown;
    try {
      await pool.request(requestFor("k1"));
    } catch (e) {
      err = e;
    }
    assertInstanceOf(err, ConnectError);
    await until(() => pool.members.length === 0, 2_000, "drained");
  } finally {
    await plane.close();
  }
});

Deno.test("ProxyPool: close racing with failover (a member killed under load): every request and forward settles at once, typed", async () => {
  const plane = await Plane.start(2);
  const relays = plane.addresses.map((a) => new Relay(a));
  for (const r of relays) r.start();
  try {
    const pool = new ProxyPool({ transport, members: relays.map((r) => r.address), ...FAST });
    for (let i = 0; i < 4; i++) await pool.request(requestFor(`k${i}`));
    relays[0].holding = true;
    const pending = Array.from(
      { length: 40 },
      (_, i) => pool.request(requestFor(`k${i % KEYS}`)).then((c) => longOf(c), (e) => e),
    );
    const forwards: unknown[] = [];
    const forwardsDone = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new Promise<void>((resolve) => {
          let calls = 0;
          const body = encodeKvStateRequest(0n, requestFor(`k${i}`)).subarray(20);
          pool.forward(body, (frame, error) => {
            calls++;
            assertEquals(calls, 1, "a forward's handler is called once");
            forwards.push(frame !== null ? frame[11] : error);
            resolve();
          }, undefined);
        })),
    );
    await until(() => pool.members[0].outstanding > 0, 2_000, "requests held on member 0");
    // Member 0 dies: its requests fail over to member 1 while the pool closes.
    const killed = relays[0].kill();
    await new Promise((r) => setTimeout(r, 0));
    const started = performance.now();
    await pool.close();
    const outcomes = await Promise.all(pending);
    await forwardsDone;
    await killed;
    assert(performance.now() - started < 1_500, `${performance.now() - started} ms`);
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i];
      if (typeof o === "bigint") assertEquals(o, BigInt(1000 + (i % KEYS)), `request ${i}`);
      else assertInstanceOf(o, QueryableStateError, `request ${i}: ${o}`);
    }
    for (const f of forwards) {
      if (typeof f !== "number") assertInstanceOf(f, QueryableStateError);
      else assertEquals(f, 1);
    }
    let late: unknown;
    try {
      await pool.request(requestFor("k1"));
    } catch (e) {
      late = e;
    }
    assertInstanceOf(late, ClosedError);
  } finally {
    for (const r of relays) await r.kill();
    await plane.close();
  }
});
