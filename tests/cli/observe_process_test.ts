/**
 * Logs and metrics of the CLI as an operator runs it: `--log-level`,
 * `--log-format` (events on stderr), and `GET /metrics` of `proxy --http`
 * and `gateway`, parsed with the strict Prometheus parser. Real processes,
 * real sockets on 127.0.0.1, every wait bounded, stopped by pid.
 */
import { assert, assertEquals } from "../_assert.ts";
import { type CliProcess, runCli, startCli, stopCleanly } from "./_process.ts";
import { parsePrometheus, sampleValue } from "../observability/_prometheus_parser.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const HELLO = `/v1/jobs/${JOB}/states/word-counts?key=hello&keyType=string&valueType=long`;
const PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

async function binaryListening(p: CliProcess): Promise<string> {
  return (await p.waitFor("stdout", /^listening on (\S+)$/))[1];
}

async function httpListening(p: CliProcess): Promise<string> {
  return `http://${(await p.waitFor("stdout", /^http listening on (\S+)$/))[1]}`;
}

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<[number, string | null, string]> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return [res.status, res.headers.get("content-type"), await res.text()];
}

Deno.test("cli metrics: proxy --http serves /metrics counting a query in every role", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "127.0.0.1:0"]);
  try {
    await binaryListening(proxy);
    const base = await httpListening(proxy);
    const [before, type, text0] = await get(`${base}/metrics`);
    assertEquals([before, type], [200, PROMETHEUS]);
    assertEquals(sampleValue(parsePrometheus(text0), "qs_requests_total", { role: "proxy" }), 0);

    assertEquals((await get(base + HELLO))[2], '{"value":"42"}');
    assertEquals((await get(base + HELLO.replace("hello", "nobody")))[0], 404);
    const [status, , text] = await get(`${base}/metrics`);
    assertEquals(status, 200);
    const families = parsePrometheus(text); // strict: throws on any bad line
    const value = (name: string, labels: Record<string, string>) =>
      sampleValue(families, name, labels) ?? -1;
    // The gateway's client, the proxy, its upstream client and the demo server each saw both.
    for (const role of ["client", "proxy", "upstream", "server"]) {
      assert(value("qs_requests_total", { role }) >= 2, `${role}: ${text}`);
      assert(value("qs_responses_total", { role, outcome: "result" }) >= 1, role);
      assert(value("qs_request_duration_milliseconds_count", { role }) >= 1, role);
    }
    assertEquals(value("qs_requests_total", { role: "proxy" }), 2);
    assertEquals(value("qs_responses_total", { role: "proxy", outcome: "result" }), 1);
    assert(value("qs_connections_active", { role: "proxy" }) >= 1, "the gateway's connection");
    assert(value("qs_location_cache_entries", { role: "proxy" }) >= 1, text);
    assert(value("qs_location_cache_bytes", { role: "proxy" }) > 0, text);
    assertEquals(value("qs_upstream_queued_bytes", { role: "proxy" }), 0);
    // The miss counts as unknown_key in every role, never as a plain failure.
    for (const role of ["client", "proxy", "upstream", "server"]) {
      assertEquals(value("qs_responses_total", { role, outcome: "unknown_key" }), 1, role);
      assertEquals(value("qs_responses_total", { role, outcome: "failure" }), 0, role);
    }
    assertEquals(value("qs_requests_in_flight", { role: "proxy" }), 0);
    assertEquals(value("qs_requests_in_flight", { role: "upstream" }), 0);
    assert(value("qs_oracle_lookups_total", { role: "proxy", result: "started" }) >= 1, text);
    assertEquals(value("qs_oracle_lookups_total", { role: "proxy", result: "failed" }), 0);
  } finally {
    await stopCleanly(proxy);
  }
});

Deno.test("cli metrics: the gateway serves /metrics behind its token", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "off", "--log-level", "off"]);
  let gateway: CliProcess | undefined;
  try {
    const address = await binaryListening(proxy);
    gateway = startCli(
      ["gateway", "--proxy", address, "--http", "127.0.0.1:0"],
      { QS_HTTP_TOKEN: "s3cret", QS_LOG_LEVEL: "off" },
    );
    const base = await httpListening(gateway);
    const auth = { authorization: "Bearer s3cret" };
    assertEquals((await get(`${base}/metrics`))[0], 401, "no token, no metrics");
    assertEquals((await get(base + HELLO, auth))[2], '{"value":"42"}');
    const [status, type, text] = await get(`${base}/metrics`, auth);
    assertEquals([status, type], [200, PROMETHEUS]);
    const families = parsePrometheus(text);
    assertEquals(sampleValue(families, "qs_requests_total", { role: "client" }), 1);
    assertEquals(
      sampleValue(families, "qs_responses_total", { role: "client", outcome: "result" }),
      1,
    );
    assertEquals(sampleValue(families, "qs_requests_total", { role: "proxy" }), undefined);
  } finally {
    if (gateway) await stopCleanly(gateway);
    await stopCleanly(proxy);
  }
  assertEquals(gateway?.stderr, [], "--log-level off (from QS_LOG_LEVEL): nothing on stderr");
  assertEquals(proxy.stderr, [], "--log-level off: nothing on stderr");
});

Deno.test("cli logs: --log-format json --log-level info prints server_started, then the stop", async () => {
  const server = startCli(["server", "--port", "0", "--log-format", "json", "--log-level", "info"]);
  try {
    const address = await binaryListening(server);
    const [line] = await server.waitFor("stderr", /^\{.*"event":"server_started".*$/);
    const event = JSON.parse(line);
    assertEquals([event.level, event.event, event.address], ["info", "server_started", address]);
    assert(!Number.isNaN(Date.parse(event.time)), line);
    assertEquals(server.stdout.filter((l) => l.startsWith("{")), [], "no log line on stdout");
  } finally {
    await stopCleanly(server);
  }
  const events = server.stderr.map((l) => JSON.parse(l));
  assertEquals(events.map((e) => e.event), ["server_started", "shutdown", "server_stopped"]);
  assertEquals(events[1].signal, "SIGTERM");
});

Deno.test("cli logs: --log-level off prints no event; warn leaves info out", async () => {
  for (const level of ["off", "warn"]) {
    const server = startCli(["server", "--port", "0", "--log-level", level]);
    try {
      await binaryListening(server);
    } finally {
      await stopCleanly(server);
    }
    assertEquals(server.stderr, [], level);
    assert(server.stdout.some((l) => l.startsWith("listening on ")), "stdout unchanged");
  }
  // The default: info, as text.
  const server = startCli(["server", "--port", "0"]);
  try {
    await binaryListening(server);
    await server.waitFor("stderr", / INFO server_started /);
  } finally {
    await stopCleanly(server);
  }
});

Deno.test("cli logs: a bad level or format is a usage error naming its source", async () => {
  const level = await runCli(["server", "--port", "0", "--log-level", "loud"]);
  assertEquals(level.code, 2, level.stderr);
  assert(level.stderr.startsWith('--log-level: Unknown log level "loud"'), level.stderr);
  const format = await runCli(["gateway", "--proxy", "127.0.0.1:1"], { QS_LOG_FORMAT: "xml" });
  assertEquals(format.code, 2, format.stderr);
  assert(
    format.stderr.startsWith('QS_LOG_FORMAT: expected text or json, got "xml"'),
    format.stderr,
  );
  assert(format.stderr.includes("usage: "), format.stderr);
});
