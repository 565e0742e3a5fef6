/**
 * The gateway with several `--proxy` values queries its pool directly (no
 * in-process proxy in between, as a real process on 127.0.0.1): with every
 * member refusing connections, a query answers 502 with the client's typed
 * `ConnectError` (not a `RemoteError` relayed by an inner proxy), well within
 * `--deadline-ms`; and its metrics have no `role="proxy"` series.
 */

import { assert, assertEquals } from "../_assert.ts";
import { startCli, stopCleanly } from "./_process.ts";
import { JOB, refusedPorts, STATE } from "../upstream/_members.ts";

Deno.test("gateway with two --proxy values both down: 502 with the typed ConnectError, within the deadline", async () => {
  const [a, b] = refusedPorts(2).map((p) => `127.0.0.1:${p}`);
  const gateway = startCli([
    "gateway",
    "--http",
    "127.0.0.1:0",
    "--proxy",
    a,
    "--proxy",
    b,
    "--deadline-ms",
    "8000",
  ]);
  try {
    await gateway.waitFor("stdout", new RegExp(`^upstream: 2 proxies: ${a},${b}$`));
    const base = `http://${(await gateway.waitFor("stdout", /^http listening on (\S+)$/))[1]}`;
    const url = `${base}/v1/jobs/${JOB}/states/${STATE}?key=k1&keyType=string&valueType=long`;
    for (let round = 0; round < 2; round++) {
      const started = Date.now();
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      const body = await res.json();
      assertEquals(res.status, 502, JSON.stringify(body));
      assertEquals(body.error.type, "ConnectError", JSON.stringify(body));
      assertEquals(body.error.javaClass, "java.net.ConnectException");
      assert(
        (body.error.message as string).includes(`127.0.0.1:`),
        `names a member: ${body.error.message}`,
      );
      assert(Date.now() - started < 4_000, `${Date.now() - started} ms`);
    }
    assertEquals((await fetch(`${base}/readyz`)).status, 503);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert(!metrics.includes('role="proxy"'), "no in-process proxy");
    assert(metrics.includes('qs_pool_member_requests_total{role="upstream"'), metrics);
    assert(metrics.includes('qs_requests_total{role="client"}'), metrics);
  } finally {
    await stopCleanly(gateway);
  }
});
