/**
 * QueryableStateClient with several proxies, every one of them down: a
 * typed error well within the deadline (refused connects), or at the
 * deadline (silent proxies); no timer or socket left after close (the
 * pool's probes included).
 */

import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { ConnectError, DeadlineExceededError } from "../../src/wire/errors.ts";
import { JOB, refusedPorts, SilentMember, STATE, transport } from "../upstream/_members.ts";
import { watchTimers } from "../upstream/_timers.ts";

const types = { keyType: "string", valueType: "long" } as const;

Deno.test("QueryableStateClient: every proxy refusing: a ConnectError at once, again later, nothing left after close", async () => {
  const proxy = refusedPorts(4).map((p) => `127.0.0.1:${p}`).join(",");
  // The probes' backoff timers (10 to 50 ms; the sanitizer does not see a pending setTimeout).
  using timers = watchTimers((ms) => ms <= 50);
  const client = new QueryableStateClient({
    transport,
    proxy,
    requestTimeoutMs: 5_000,
    failover: { backoffInitialMs: 20, backoffMaxMs: 50, probeTimeoutMs: 100 },
  });
  try {
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      let err: unknown;
      try {
        await client.getKvState(JOB, STATE, "k1", types);
      } catch (e) {
        err = e;
      }
      assertInstanceOf(err, ConnectError, `round ${round}`);
      assert(performance.now() - started < 2_000, `${performance.now() - started} ms`);
      // Probes of the members taken out run meanwhile.
      await new Promise((r) => setTimeout(r, 60));
    }
    assert(timers.started >= 4, "each member down waited on a probe timer");
  } finally {
    await client.close();
  }
  assertEquals(timers.pending.size, 0, "a probe timer outlived close()");
});

Deno.test("QueryableStateClient: every proxy silent: DeadlineExceededError at the request's deadline, nothing left after close", async () => {
  const silent = [new SilentMember(), new SilentMember(), new SilentMember()];
  const client = new QueryableStateClient({
    transport,
    proxy: silent.map((s) => s.address),
    requestTimeoutMs: 300,
    failover: { attemptTimeoutMs: 100, backoffInitialMs: 20, backoffMaxMs: 50, probeTimeoutMs: 50 },
  });
  try {
    const started = performance.now();
    let err: unknown;
    try {
      await client.getKvState(JOB, STATE, "k1", types);
    } catch (e) {
      err = e;
    }
    const took = performance.now() - started;
    assertInstanceOf(err, DeadlineExceededError);
    assert(took >= 250 && took < 1_500, `${took} ms`);
  } finally {
    await client.close();
    for (const s of silent) await s.close();
  }
});
