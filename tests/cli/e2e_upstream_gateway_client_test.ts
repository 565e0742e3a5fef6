/**
 * Issue 14 end to end, the `gateway` and `client` commands with several
 * proxies (real processes, real sockets on 127.0.0.1): the gateway with two
 * `--proxy` values keeps answering over HTTP after one proxy dies; `client
 * --proxy h1:p1,h2:p2` answers with the first proxy gone; the gateway with
 * `--flink-rest` queries the proxies the fake REST API lists. Every wait
 * bounded, processes stopped by pid.
 */

import { assert, assertEquals } from "../_assert.ts";
import { type CliProcess, runCli, startCli, stopCleanly } from "./_process.ts";
import { parsePrometheus, sampleValue } from "../observability/_prometheus_parser.ts";
import { JOB, Plane, STATE } from "../upstream/_members.ts";
import { serveFakeFlinkRest } from "../upstream/_fake_flink_rest.ts";
import { formatAddress } from "../../src/oracle/locations_file.ts";

const route = (key: string) =>
  `/v1/jobs/${JOB}/states/${STATE}?key=${key}&keyType=string&valueType=long`;

async function get(url: string): Promise<[number, string]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return [res.status, await res.text()];
}

async function httpBase(p: CliProcess): Promise<string> {
  return `http://${(await p.waitFor("stdout", /^http listening on (\S+)$/))[1]}`;
}

/** GETs keys k0..k(n-1) and checks each answer. */
async function getAll(base: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    assertEquals(await get(base + route(`k${i}`)), [200, `{"value":"${1000 + i}"}`], `k${i}`);
  }
}

async function metricsOf(
  base: string,
): Promise<(name: string, labels: Record<string, string>) => number> {
  const [status, text] = await get(`${base}/metrics`);
  assertEquals(status, 200);
  const families = parsePrometheus(text);
  return (name, labels) => sampleValue(families, name, labels) ?? -1;
}

Deno.test("e2e gateway with two --proxy values: answers over HTTP go on after one proxy dies", async () => {
  const plane = await Plane.start(2);
  const [a, b] = plane.addresses.map(formatAddress);
  const gateway = startCli(["gateway", "--http", "127.0.0.1:0", "--proxy", a, "--proxy", b]);
  try {
    await gateway.waitFor("stdout", new RegExp(`^upstream: 2 proxies: ${a},${b}$`));
    const base = await httpBase(gateway);
    assertEquals(await get(`${base}/readyz`), [200, '{"status":"ready"}']);
    await getAll(base, 12);
    const [ra, rb] = plane.requestsPerProxy();
    assert(ra > 0 && rb > 0, `requests per proxy: ${ra}, ${rb}`);

    await plane.proxies[0].close();
    await getAll(base, 12);
    const metric = await metricsOf(base);
    assertEquals(metric("qs_pool_member_up", { role: "upstream", member: a }), 0);
    assertEquals(metric("qs_pool_member_up", { role: "upstream", member: b }), 1);
    assert(metric("qs_pool_failovers_total", { role: "upstream" }) >= 1);
    assertEquals(metric("qs_responses_total", { role: "client", outcome: "result" }), 24);
    // Still ready: one member takes requests.
    assertEquals((await get(`${base}/readyz`))[0], 200);
    // A miss is an answer, never failed over: 404 from the member that is up.
    const failovers = metric("qs_pool_failovers_total", { role: "upstream" });
    assertEquals((await get(base + route("nobody")))[0], 404);
    assertEquals(
      (await metricsOf(base))("qs_pool_failovers_total", { role: "upstream" }),
      failovers,
    );

    // Both gone: not ready, and a query fails within its deadline (no hang).
    await plane.proxies[1].close();
    const started = Date.now();
    const [status, body] = await get(base + route("k1"));
    assertEquals(status, 502, body); // an upstream failure, as with one proxy that is gone
    assert(Date.now() - started < 9_000, "failed within the deadline");
    assertEquals((await get(`${base}/readyz`))[0], 503);
  } finally {
    await stopCleanly(gateway);
    await plane.close();
  }
});

Deno.test("e2e gateway --flink-rest: the proxies of the listed TaskManagers answer over HTTP", async () => {
  const plane = await Plane.start(1);
  const port = plane.addresses[0].port;
  const rest = serveFakeFlinkRest([{ host: "127.0.0.1" }]);
  const gateway = startCli([
    "gateway",
    "--http",
    "127.0.0.1:0",
    "--flink-rest",
    rest.base,
    "--proxy-port",
    String(port),
  ]);
  try {
    await gateway.waitFor(
      "stdout",
      new RegExp(`^upstream: 1 proxy from ${rest.base}/taskmanagers`),
    );
    const base = await httpBase(gateway);
    await getAll(base, 6);
    const metric = await metricsOf(base);
    assertEquals(metric("qs_flink_rest_members", { role: "upstream" }), 1);
    assertEquals(
      metric("qs_pool_member_requests_total", { role: "upstream", member: `127.0.0.1:${port}` }),
      6,
    );
  } finally {
    await stopCleanly(gateway);
    await rest.close();
    await plane.close();
  }
});

Deno.test("e2e client --proxy h1:p1,h2:p2: answers with the first proxy gone", async () => {
  const plane = await Plane.start(2);
  const [a, b] = plane.addresses.map(formatAddress);
  try {
    const query = (proxy: string, key: string) =>
      runCli([
        "client",
        "--proxy",
        proxy,
        "--job",
        JOB.toString(),
        "--state",
        STATE,
        "--key-type",
        "string",
        "--key",
        key,
        "--value-type",
        "long",
        "--timeout-ms",
        "10000",
      ]);
    let ran = await query(`${a},${b}`, "k3");
    assertEquals([ran.code, ran.stdout], [0, "1003\n"], ran.stderr);
    await plane.proxies[0].close();
    ran = await query(`${a},${b}`, "k4");
    assertEquals([ran.code, ran.stdout], [0, "1004\n"], ran.stderr);
    // A definite answer is not retried elsewhere: a miss fails at once with its Java class.
    ran = await query(`${a},${b}`, "nobody");
    assertEquals(ran.code, 1);
    assert(ran.stderr.includes("UnknownKeyOrNamespaceException"), ran.stderr);
    // Both gone: a connect failure, within the deadline.
    await plane.proxies[1].close();
    ran = await query(`${a},${b}`, "k4");
    assertEquals(ran.code, 1);
    assert(ran.stderr.length > 0);
  } finally {
    await plane.close();
  }
});
