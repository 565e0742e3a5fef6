/**
 * ProxyPool over real sockets, with several of our proxies (one state
 * server behind them) as members: load spread, failover when a member dies
 * under load, a member that never answers, a member that comes back,
 * definite failures never retried, draining, close.
 */

import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import {
  ClosedError,
  ConnectError,
  ConnectionClosedError,
  DeadlineExceededError,
  UnknownKeyOrNamespaceError,
} from "../../src/wire/errors.ts";
import { encodeKvStateRequest } from "../../src/wire/messages.ts";
import { ProxyPool } from "../../src/upstream/proxy_pool.ts";
import {
  KEYS,
  longOf,
  Plane,
  Relay,
  requestFor,
  SilentMember,
  transport,
  until,
  withRelayedPlane,
} from "./_members.ts";
import { recorder } from "./_log_recorder.ts";
import { watchTimers } from "./_timers.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";

const FAST = { backoffInitialMs: 20, backoffMaxMs: 100, probeTimeoutMs: 500 };

/** Asks for key `i % KEYS` and checks the value: the right answer, once. */
async function checkKey(pool: ProxyPool, i: number): Promise<void> {
  const k = i % KEYS;
  const content = await pool.request(requestFor(`k${k}`));
  assertEquals(longOf(content), BigInt(1000 + k), `value of k${k}`);
}

Deno.test("ProxyPool: sequential requests take turns over equal members; concurrent ones spread by outstanding requests", async () => {
  const plane = await Plane.start(3);
  try {
    await using pool = new ProxyPool({ transport, members: plane.addresses });
    for (let i = 0; i < 90; i++) await checkKey(pool, i);
    // Nothing outstanding between sequential requests: ties, taken in turn.
    assertEquals(plane.requestsPerProxy(), [30, 30, 30]);
    const before = plane.requestsPerProxy();
    await Promise.all(Array.from({ length: 300 }, (_, i) => checkKey(pool, i)));
    const spread = plane.requestsPerProxy().map((n, i) => n - before[i]);
    assertEquals(spread.reduce((a, b) => a + b), 300);
    for (const n of spread) assert(n >= 50, `each member takes a share: ${spread}`);
    assertEquals(pool.members.map((m) => [m.up, m.outstanding, m.failures]), [
      [true, 0, 0],
      [true, 0, 0],
      [true, 0, 0],
    ]);
    assertEquals(pool.members.map((m) => m.requests), spread.map((n) => 30 + n));
  } finally {
    await plane.close();
  }
});

Deno.test("ProxyPool: a member killed with requests in flight on it: each is sent to the other member and answered once, rightly", async () => {
  const plane = await Plane.start(2);
  const a = new Relay(plane.addresses[0]);
  const b = new Relay(plane.addresses[1]);
  a.start();
  b.start();
  try {
    await using pool = new ProxyPool({ transport, members: [a.address, b.address], ...FAST });
    await checkKey(pool, 0);
    await checkKey(pool, 1);
    // A stalls: its answers are dropped, so requests sent to it stay in flight.
    a.holding = true;
    const n = 100;
    const results: Array<bigint | unknown> = new Array(n);
    let settled = 0;
    const all = Array.from({ length: n }, (_, i) =>
      pool.request(requestFor(`k${i % KEYS}`)).then(
        (c) => (results[i] = longOf(c)),
        (e) => (results[i] = e),
      ).finally(() => settled++));
    // Every request sent to A has reached A's proxy and is stuck there.
    await until(
      () => pool.members[0].outstanding > 0 && settled === n - pool.members[0].outstanding,
      5_000,
      "requests held on A",
    );
    const held = pool.members[0].outstanding;
    assert(held >= 20, `many requests in flight on A: ${held}`);
    await a.kill();
    await Promise.all(all);
    assertEquals(settled, n);
    for (let i = 0; i < n; i++) assertEquals(results[i], BigInt(1000 + (i % KEYS)), `request ${i}`);
    const [ma, mb] = pool.members;
    assertEquals(ma.up, false);
    assertEquals(ma.failures, held);
    assertEquals(ma.failovers, held);
    assertEquals(pool.failovers, held);
    assertEquals(mb.up, true);
    assertEquals(mb.failures, 0);
    // Later requests go to B only (A is down and refuses connections).
    const bBefore = mb.requests;
    for (let i = 0; i < 10; i++) await checkKey(pool, i);
    assertEquals(pool.members[1].requests - bBefore, 10);
  } finally {
    await a.kill();
    await b.kill();
    await plane.close();
  }
});

Deno.test("ProxyPool: forward() under a member's death: every handler called exactly once, with the right frame", () =>
  withRelayedPlane(async (plane, a) => {
    await using pool = new ProxyPool({
      transport,
      members: [a.address, plane.addresses[1]],
      ...FAST,
    });
    a.holding = true;
    const n = 60;
    const calls = new Array<number>(n).fill(0);
    const frames: Array<Uint8Array | null> = new Array(n).fill(null);
    const done = Promise.all(Array.from({ length: n }, (_, i) =>
      new Promise<void>((resolve) => {
        const body = encodeKvStateRequest(0n, requestFor(`k${i % KEYS}`)).subarray(20);
        pool.forward(body, (frame, _error, ctx: number) => {
          calls[ctx]++;
          frames[ctx] = frame === null ? null : frame.slice();
          resolve();
        }, i);
      })));
    await until(() => pool.members[0].outstanding >= n / 2 - 1, 5_000, "requests held on A");
    await a.kill();
    await done;
    await new Promise((r) => setTimeout(r, 50));
    assertEquals(calls, new Array(n).fill(1));
    for (let i = 0; i < n; i++) {
      const f = frames[i]!;
      assertEquals(f[11], 1, `request ${i} answered with a result`);
      assertEquals(longOf(f.subarray(24)), BigInt(1000 + (i % KEYS)));
    }
    assert(pool.failovers >= n / 2 - 1);
  }));

Deno.test("ProxyPool: a member that accepts and never answers is abandoned after attemptTimeoutMs, taken out, and the request answered elsewhere", async () => {
  const plane = await Plane.start(1);
  const silent = new SilentMember();
  try {
    await using pool = new ProxyPool({
      transport,
      members: [silent.address, plane.addresses[0]],
      attemptTimeoutMs: 150,
      ...FAST,
      backoffInitialMs: 60_000,
      backoffMaxMs: 60_000,
    });
    const started = performance.now();
    for (let i = 0; i < 6; i++) await checkKey(pool, i);
    const took = performance.now() - started;
    // One attempt was abandoned (150 ms, the sweeper's granularity on top), no more.
    assert(took >= 140 && took < 2_000, `took ${took} ms`);
    assert(silent.bytesRead > 0, "the silent member got the request");
    const [s, p] = pool.members;
    assertEquals([s.up, s.requests, s.failures, s.failovers, s.outstanding], [false, 1, 1, 1, 0]);
    assertEquals([p.up, p.requests, p.failures], [true, 6, 0]);
  } finally {
    await silent.close();
    await plane.close();
  }
});

Deno.test("ProxyPool: only a silent member: the request's own deadline ends it with DeadlineExceededError, on time", async () => {
  const silent = new SilentMember();
  try {
    await using pool = new ProxyPool({ transport, members: [silent.address], ...FAST });
    const started = performance.now();
    await assertRejects(
      () => pool.request(requestFor("k1"), { timeoutMs: 200 }),
      DeadlineExceededError,
    );
    const took = performance.now() - started;
    assert(took >= 190 && took < 1_500, `took ${took} ms`);
    // The request's own deadline is not the member's fault.
    assertEquals(pool.members[0].up, true);
    const aborted = new AbortController();
    const pending = pool.request(requestFor("k1"), { signal: aborted.signal });
    aborted.abort(new Error("no longer needed"));
    await assertRejects(() => pending, DeadlineExceededError, "aborted");
    assertEquals(pool.members[0].outstanding, 0);
  } finally {
    await silent.close();
  }
});

Deno.test("ProxyPool: a member that comes back on the same port is probed back up and used again", () =>
  withRelayedPlane(async (plane, a) => {
    const { events, logger } = recorder();
    const seen = () => events.map((e) => e.event);
    await using pool = new ProxyPool({
      transport,
      members: [a.address, plane.addresses[1]],
      logger,
      ...FAST,
    });
    await checkKey(pool, 0);
    await a.kill();
    for (let i = 0; i < 4; i++) await checkKey(pool, i);
    assertEquals(pool.members[0].up, false);
    assert(seen().includes("member_down") && seen().includes("failover"), `${seen()}`);
    // Down and refusing: probes fail, with backoff (20 ms doubling to 100 ms).
    await new Promise((r) => setTimeout(r, 150));
    assertEquals(pool.members[0].up, false);
    a.start();
    await until(() => pool.members[0].up, 3_000, "member A back up");
    assert(seen().includes("member_up"));
    const before = pool.members[0].requests;
    for (let i = 0; i < 10; i++) await checkKey(pool, i);
    assertEquals(pool.members[0].requests - before, 5);
  }));

Deno.test("ProxyPool: a definite failure (unknown key, unknown state) is returned as is and never sent again", async () => {
  const plane = await Plane.start(3);
  try {
    await using pool = new ProxyPool({ transport, members: plane.addresses, ...FAST });
    const total = () => plane.requestsPerProxy().reduce((a, b) => a + b);
    await assertRejects(() => pool.request(requestFor("absent")), UnknownKeyOrNamespaceError);
    assertEquals(total(), 1);
    assertEquals(await pool.requestIfPresent(requestFor("absent")), undefined);
    assertEquals(total(), 2);
    const e = await assertRejects(() => pool.request(requestFor("k1", "no-such-state")));
    assertEquals((e as Error).constructor.name, "UnknownKvStateLocationError");
    assertEquals(total(), 3);
    assertEquals(longOf((await pool.requestIfPresent(requestFor("k3")))!), 1003n);
    assertEquals(pool.failovers, 0);
    assertEquals(pool.members.map((m) => m.up), [true, true, true]);
  } finally {
    await plane.close();
  }
});

Deno.test("ProxyPool: every member refusing: the request fails with ConnectError after maxAttempts, each member once", async () => {
  const plane = await Plane.start(1);
  const relays = [
    new Relay(plane.addresses[0]),
    new Relay(plane.addresses[0]),
    new Relay(plane.addresses[0]),
    new Relay(plane.addresses[0]),
  ];
  for (const r of relays) r.start();
  const addresses = relays.map((r) => r.address);
  for (const r of relays) await r.kill();
  try {
    await using pool = new ProxyPool({ transport, members: addresses, ...FAST });
    await assertRejects(() => pool.request(requestFor("k1")), ConnectError);
    assertEquals(pool.members.map((m) => m.requests).reduce((a, b) => a + b), 3);
    assertEquals(pool.failovers, 2);
    assertEquals(pool.members.filter((m) => !m.up).length, 3);
  } finally {
    await plane.close();
  }
});

Deno.test("ProxyPool: a member removed with a request in flight is drained: the request finishes, then its connection closes", () =>
  withRelayedPlane(async (plane, a) => {
    await using pool = new ProxyPool({ transport, members: [a.address], ...FAST });
    a.holding = true;
    const pending = pool.request(requestFor("k7"));
    await until(() => plane.proxies[0].stats.requests === 1, 3_000, "the request on A");
    pool.setMembers([plane.addresses[1]]);
    assertEquals(
      pool.members.map((m) => [m.address.endsWith(`:${a.port}`), m.draining, m.outstanding]),
      [
        [false, false, 0],
        [true, true, 1],
      ],
    );
    // New requests go to the member listed.
    await checkKey(pool, 2);
    await a.kill();
    // A's connection lost under the request: sent to the member listed.
    assertEquals(longOf(await pending), 1007n);
    await until(() => pool.members.length === 1, 2_000, "A gone");
    assertEquals(pool.members[0].requests, 2);
  }));

Deno.test("ProxyPool: setMembers bounds and errors; no member at all is a ConnectError", async () => {
  await using pool = new ProxyPool({ transport, maxMembers: 2 });
  await assertRejects(() => pool.request(requestFor("k1")), ConnectError, "no member");
  let err: unknown;
  try {
    pool.setMembers(["a:1", "b:2", "c:3"]);
  } catch (e) {
    err = e;
  }
  assertInstanceOf(err, RangeError);
  assertEquals(pool.members, []);
  pool.setMembers(["a:1", "a:1", "b"]);
  assertEquals(pool.members.map((m) => m.address), ["a:1", "b:9069"]);
  await pool.close();
  await assertRejects(() => pool.request(requestFor("k1")), ClosedError);
  let closed: unknown;
  try {
    pool.setMembers([]);
  } catch (e) {
    closed = e;
  }
  assertInstanceOf(closed, ClosedError);
});

Deno.test("ProxyPool: close() with requests in flight: each rejects at once, nothing is left behind", async () => {
  const plane = await Plane.start(2);
  const relays = plane.addresses.map((a) => new Relay(a));
  for (const r of relays) r.start();
  try {
    const pool = new ProxyPool({ transport, members: relays.map((r) => r.address), ...FAST });
    await checkKey(pool, 1);
    for (const r of relays) r.holding = true;
    const pending = Array.from(
      { length: 20 },
      (_, i) => pool.request(requestFor(`k${i}`)).then(() => "answered", (e) => e),
    );
    await until(() => pool.members.every((m) => m.outstanding > 0), 3_000, "requests in flight");
    const started = performance.now();
    await pool.close();
    const outcomes = await Promise.all(pending);
    assert(performance.now() - started < 1_000);
    for (const o of outcomes) assertInstanceOf(o, ConnectionClosedError);
    assertEquals(pool.failovers, 0);
    let forwarded: unknown;
    pool.forward(new Uint8Array(0), (_f, e) => (forwarded = e), undefined);
    assertInstanceOf(forwarded, ClosedError);
  } finally {
    for (const r of relays) await r.kill();
    await plane.close();
  }
});

Deno.test("ProxyPool: a member proxy closed and started again on the same port is taken back", async () => {
  const plane = await Plane.start(2);
  try {
    await using pool = new ProxyPool({ transport, members: plane.addresses, ...FAST });
    for (let i = 0; i < 4; i++) await checkKey(pool, i);
    const port = plane.addresses[0].port;
    await plane.proxies[0].close();
    for (let i = 0; i < 6; i++) await checkKey(pool, i);
    assertEquals(pool.members[0].up, false);
    const again = await plane.addProxy(port);
    assertEquals(plane.addresses.at(-1)!.port, port);
    await until(() => pool.members[0].up, 3_000, "the member back up");
    for (let i = 0; i < 10; i++) await checkKey(pool, i);
    assertEquals(again.stats.requests >= 5, true, `${again.stats.requests}`);
  } finally {
    await plane.close();
  }
});

Deno.test("ProxyPool: failover stays within the request's deadline: three silent members, attempts of 100 ms, a deadline of 250 ms", async () => {
  const silent = [new SilentMember(), new SilentMember(), new SilentMember()];
  try {
    await using pool = new ProxyPool({
      transport,
      members: silent.map((s) => s.address),
      attemptTimeoutMs: 100,
      requestTimeoutMs: 250,
      ...FAST,
      backoffInitialMs: 60_000,
      backoffMaxMs: 60_000,
    });
    for (const forward of [false, true]) {
      const started = performance.now();
      const err = forward
        ? await new Promise<unknown>((resolve) =>
          pool.forward(
            encodeKvStateRequest(0n, requestFor("k1")).subarray(20),
            (_f, e) => resolve(e),
            undefined,
          )
        )
        : await pool.request(requestFor("k1")).then(() => undefined, (e) => e);
      const took = performance.now() - started;
      assertInstanceOf(err, DeadlineExceededError);
      assert(took >= 240 && took < 1_500, `took ${took} ms`);
    }
    // The first two attempts were cut short and took their members out; the last ran out of time.
    assertEquals(pool.members.map((m) => m.requests), [2, 2, 2]);
    assertEquals(pool.failovers, 4);
  } finally {
    for (const s of silent) await s.close();
  }
});

Deno.test("ProxyPool: the probe timers of members that are down are cleared when one is drained and on close()", async () => {
  // Backoff of 300 to 600 s: only the probes' timers have such delays.
  using timers = watchTimers((ms) => ms >= 300_000);
  const pool = new ProxyPool({
    transport: new MemoryTransport(),
    members: "tm-1,tm-2",
    backoffInitialMs: 600_000,
    backoffMaxMs: 600_000,
  });
  await assertRejects(() => pool.request(requestFor("k1")), ConnectError);
  assertEquals(pool.members.map((m) => [m.address, m.up]), [["tm-1:9069", false], [
    "tm-2:9069",
    false,
  ]]);
  assertEquals(timers.pending.size, 2);
  pool.setMembers(["tm-2"]);
  assertEquals(timers.pending.size, 1, "the drained member's probe timer is cleared");
  await pool.close();
  assertEquals(timers.pending.size, 0, "a probe timer outlived close()");
});
