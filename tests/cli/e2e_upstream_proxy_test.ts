/**
 * Issue 14 end to end, the `proxy` command in upstream mode as an operator
 * runs it (a real process, real sockets on 127.0.0.1): `--upstream-proxies`
 * in front of two of our proxies (each routing to a state server with the
 * test state), one of them killed; `--flink-rest` against a fake Flink REST
 * API with a `--proxy-port` range, the REST API failing afterwards. Our
 * client queries the CLI's proxy; answers are checked value by value, the
 * pool's metrics and log events read back. Every wait bounded, processes
 * stopped by pid.
 */

import { assert, assertEquals } from "../_assert.ts";
import { type CliProcess, startCli, stopCleanly } from "./_process.ts";
import { parsePrometheus, sampleValue } from "../observability/_prometheus_parser.ts";
import { freeRange, Plane, queryAll } from "../upstream/_members.ts";
import { serveFakeFlinkRest } from "../upstream/_fake_flink_rest.ts";
import { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { formatAddress } from "../../src/oracle/locations_file.ts";

async function listening(p: CliProcess): Promise<string> {
  return (await p.waitFor("stdout", /^listening on (\S+)$/))[1];
}

async function metricsOf(
  p: CliProcess,
): Promise<(name: string, labels: Record<string, string>) => number> {
  const base = (await p.waitFor("stdout", /^http listening on (\S+)$/))[1];
  const res = await fetch(`http://${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  assertEquals(res.status, 200);
  const families = parsePrometheus(await res.text());
  return (name, labels) => sampleValue(families, name, labels) ?? -1;
}

Deno.test("e2e proxy --upstream-proxies: two proxies of ours as members, one killed, answers go on", async () => {
  const plane = await Plane.start(2);
  const [a, b] = plane.addresses.map(formatAddress);
  const cli = startCli([
    "proxy",
    "--port",
    "0",
    "--http",
    "127.0.0.1:0",
    "--upstream-proxies",
    `${a},${b}`,
  ]);
  let client: QueryableStateClient | undefined;
  try {
    await cli.waitFor("stdout", new RegExp(`^upstream: 2 proxies: ${a},${b}$`));
    client = new QueryableStateClient({ transport: denoTransport, proxy: await listening(cli) });
    await queryAll(client, 20);
    // Both members got requests (least outstanding, ties in turn).
    const [ra, rb] = plane.requestsPerProxy();
    assert(ra > 0 && rb > 0, `requests per member: ${ra}, ${rb}`);
    assertEquals(ra + rb, 20);
    let metric = await metricsOf(cli);
    assertEquals(metric("qs_pool_members", { role: "upstream", state: "up" }), 2);
    assertEquals(metric("qs_pool_member_requests_total", { role: "upstream", member: a }), ra);
    assertEquals(metric("qs_pool_member_requests_total", { role: "upstream", member: b }), rb);
    assertEquals(metric("qs_pool_failovers_total", { role: "upstream" }), 0);

    // A TaskManager goes away: its proxy closes, listener and connections.
    await plane.proxies[0].close();
    await queryAll(client, 20);
    metric = await metricsOf(cli);
    assertEquals(metric("qs_pool_member_up", { role: "upstream", member: a }), 0);
    assertEquals(metric("qs_pool_member_up", { role: "upstream", member: b }), 1);
    assertEquals(metric("qs_pool_members", { role: "upstream", state: "down" }), 1);
    assert(metric("qs_pool_member_failures_total", { role: "upstream", member: a }) >= 1);
    assert(metric("qs_pool_failovers_total", { role: "upstream" }) >= 1);
    assert(metric("qs_pool_member_failovers_total", { role: "upstream", member: a }) >= 1);
    assertEquals(metric("qs_pool_member_failures_total", { role: "upstream", member: b }), 0);
    // Answers are not errors: the proxy answered all 40 with a result.
    assertEquals(metric("qs_responses_total", { role: "proxy", outcome: "result" }), 40);
    await cli.waitFor("stderr", new RegExp(`member_down .*address=${a}`));
    await cli.waitFor("stderr", new RegExp(`failover .*address=${a} to=${b}`));
  } finally {
    await client?.close();
    await stopCleanly(cli);
    await plane.close();
  }
});

Deno.test("e2e proxy --flink-rest with a --proxy-port range: members discovered, kept while the REST API fails", async () => {
  const base = freeRange(4);
  const plane = await Plane.start(0);
  await plane.addProxy(base);
  await plane.addProxy(base + 2);
  const rest = serveFakeFlinkRest([{ host: "127.0.0.1" }, { host: "127.0.0.1", index: 1 }]);
  const cli = startCli([
    "proxy",
    "--port",
    "0",
    "--http",
    "127.0.0.1:0",
    "--flink-rest",
    rest.base,
    "--proxy-port",
    `${base}-${base + 3}`,
    "--flink-rest-refresh-ms",
    "200",
  ]);
  let client: QueryableStateClient | undefined;
  try {
    await cli.waitFor(
      "stdout",
      new RegExp(
        `^upstream: 2 proxies from ${rest.base}/taskmanagers: ` +
          `127\\.0\\.0\\.1:${base},127\\.0\\.0\\.1:${base + 2}$`,
      ),
    );
    client = new QueryableStateClient({ transport: denoTransport, proxy: await listening(cli) });
    await queryAll(client, 16);
    const [r0, r2] = plane.requestsPerProxy();
    assert(r0 > 0 && r2 > 0, `requests per member: ${r0}, ${r2}`);
    let metric = await metricsOf(cli);
    assertEquals(metric("qs_flink_rest_members", { role: "upstream" }), 2);
    assertEquals(metric("qs_flink_rest_up", { role: "upstream" }), 1);
    assertEquals(metric("qs_flink_rest_refresh_failures_total", { role: "upstream" }), 0);
    assertEquals(metric("qs_pool_members", { role: "upstream", state: "up" }), 2);

    // The REST API fails (a JobManager restarting): the last good list stays in force.
    const seen = rest.requests.length;
    rest.mode = { kind: "status", status: 503 };
    const from = cli.stderr.length;
    await cli.waitFor("stderr", /flink_rest_refresh_failed/, from);
    assert(rest.requests.length > seen);
    await queryAll(client, 16);
    metric = await metricsOf(cli);
    assertEquals(metric("qs_flink_rest_up", { role: "upstream" }), 0);
    assert(metric("qs_flink_rest_refresh_failures_total", { role: "upstream" }) >= 1);
    assertEquals(metric("qs_flink_rest_members", { role: "upstream" }), 2);
    assertEquals(metric("qs_pool_members", { role: "upstream", state: "up" }), 2);
    // Garbage is a failure too, never an empty list.
    rest.mode = { kind: "garbage" };
    const before = metric("qs_flink_rest_refresh_failures_total", { role: "upstream" });
    for (let i = 0; i < 100; i++) {
      metric = await metricsOf(cli);
      if (metric("qs_flink_rest_refresh_failures_total", { role: "upstream" }) > before + 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert(metric("qs_flink_rest_refresh_failures_total", { role: "upstream" }) > before + 1);
    await queryAll(client, 8);
    // SIGHUP refreshes at once; back to good, it reports the list.
    rest.mode = { kind: "ok" };
    const hup = cli.stdout.length;
    cli.signal("SIGHUP");
    await cli.waitFor("stdout", /^SIGHUP: upstream: 2 proxies from /, hup);
  } finally {
    await client?.close();
    await stopCleanly(cli);
    await rest.close();
    await plane.close();
  }
});
