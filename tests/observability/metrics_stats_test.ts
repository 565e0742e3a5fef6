import {
  InMemoryValueState,
  KvStateId,
  KvStateServer,
  MemoryTransport,
  NetworkClient,
  type QueryableState,
  TYPE_SERIALIZERS,
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
} from "../../mod.ts";
import { serializeKeyAndNamespace } from "../../src/wire/mod.ts";
import {
  ACTIVE_CONNECTIONS_METRIC,
  DENIED_REQUESTS_METRIC,
  INTERNAL_ERRORS_METRIC,
  MetricDefinitionError,
  MetricsRegistry,
  MetricsStats,
  OPENED_CONNECTIONS_METRIC,
  renderPrometheus,
  REQUEST_DURATION_METRIC,
  REQUEST_OUTCOMES,
  REQUESTS_METRIC,
  RESPONSES_METRIC,
} from "../../src/observability/mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { type Family, parsePrometheus, sampleValue } from "./_prometheus_parser.ts";

const S = TYPE_SERIALIZERS;
const kn = (key: string) => serializeKeyAndNamespace(key, S.string);

function scrape(registry: MetricsRegistry): Family[] {
  return parsePrometheus(renderPrometheus(registry));
}

function byRole(families: Family[], role: string) {
  const v = (name: string, labels: Record<string, string> = {}) =>
    sampleValue(families, name, { role, ...labels });
  return {
    requests: v(REQUESTS_METRIC),
    results: v(RESPONSES_METRIC, { outcome: "result" }),
    failures: v(RESPONSES_METRIC, { outcome: "failure" }),
    denied: v(DENIED_REQUESTS_METRIC),
    internalErrors: v(INTERNAL_ERRORS_METRIC),
    active: v(ACTIVE_CONNECTIONS_METRIC),
    opened: v(OPENED_CONNECTIONS_METRIC),
    latencyCount: v(`${REQUEST_DURATION_METRIC}_count`),
    latencyInf: v(`${REQUEST_DURATION_METRIC}_bucket`, { le: "+Inf" }),
  };
}

/** `qs_responses_total` of a role, by outcome. */
function outcomesOf(families: ReturnType<typeof scrape>, role: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const outcome of REQUEST_OUTCOMES) {
    out[outcome] = sampleValue(families, RESPONSES_METRIC, { role, outcome }) ?? -1;
  }
  return out;
}

Deno.test("MetricsStats: a KvStateServer and a NetworkClient over MemoryTransport count hits, misses, failures, denials", async () => {
  const registry = new MetricsRegistry();
  const transport = new MemoryTransport();
  await using server = new KvStateServer({
    transport,
    stats: new MetricsStats({ registry, role: "server" }),
    requestFilter: (r) => r.stateName !== "secret",
  });
  const counts = server.registry.register(
    new InMemoryValueState(S.string, S.int).set("a", 1).set("b", 2),
  );
  const secret = server.registry.register(new InMemoryValueState(S.string, S.int).set("a", 3), {
    stateName: "secret",
  });
  // A state answering (later) with something that is not bytes: a bug the server's guard catches.
  const broken: QueryableState = {
    getSerializedValue: () => Promise.resolve(42 as unknown as Uint8Array),
  };
  const brokenId = server.registry.register(broken);
  const address = await server.start();
  const client = new NetworkClient({
    transport,
    stats: new MetricsStats({ registry, role: "client" }),
  });
  const ask = (kvStateId: KvStateId, key: string) =>
    client.sendKvStateInternalRequest(address, { kvStateId, serializedKeyAndNamespace: kn(key) });
  try {
    assertEquals((await ask(counts, "a")).length, 4);
    assertEquals((await ask(counts, "b")).length, 4);
    await assertRejects(() => ask(counts, "zz"), UnknownKeyOrNamespaceError);
    await assertRejects(
      () => ask(KvStateId.fromHex("000102030405060708090a0b0c0d0e0f"), "a"),
      UnknownKvStateIdError,
    );
    await assertRejects(() => ask(secret, "a"), Error, "Access denied");
    await assertRejects(() => ask(brokenId, "a"));

    const families = scrape(registry);
    const s = byRole(families, "server");
    assertEquals(s.requests, 6);
    assertEquals(s.results, 2);
    // By outcome: the miss, the unknown state id, the denial, the internal error.
    assertEquals(outcomesOf(families, "server"), {
      result: 2,
      failure: 1,
      unknown_key: 1,
      unknown_state: 1,
      upstream_failure: 0,
      refused: 1,
      deadline: 0,
    });
    assertEquals(s.denied, 1);
    assertEquals(s.internalErrors, 1);
    assertEquals(s.active, 1);
    assertEquals(s.opened, 1);
    assertEquals(s.latencyCount, 2);
    assertEquals(s.latencyInf, 2);
    // The server's own counters agree with the metrics.
    assertEquals(server.stats.requests, s.requests);
    assertEquals(server.stats.successfulRequests, s.results);
    assertEquals(server.stats.failedRequests, 4);
    const c = byRole(families, "client");
    assertEquals(c.requests, 6);
    assertEquals(c.results, 2);
    // The client sees the denial and the internal error as the server's failures.
    assertEquals(outcomesOf(families, "client"), {
      result: 2,
      failure: 0,
      unknown_key: 1,
      unknown_state: 1,
      upstream_failure: 2,
      refused: 0,
      deadline: 0,
    });
    assertEquals(c.denied, 0);
    assertEquals(c.active, 1);
    assertEquals(c.latencyCount, 2);
    // Latencies over MemoryTransport are far below 10 s: all in finite buckets.
    assertEquals(
      sampleValue(families, `${REQUEST_DURATION_METRIC}_bucket`, { role: "client", le: "10000" }),
      2,
    );
  } finally {
    await client.close();
  }
  assertEquals(byRole(scrape(registry), "client").active, 0);
  // The server sees the connection close shortly after (bounded wait).
  const until = Date.now() + 2000;
  while (byRole(scrape(registry), "server").active !== 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assertEquals(byRole(scrape(registry), "server").active, 0);
  assertEquals(byRole(scrape(registry), "server").opened, 1);
});

Deno.test("MetricsStats: a failure's outcome, when given, picks its series; unknown ones count as failure", () => {
  const registry = new MetricsRegistry();
  const stats = new MetricsStats({ registry, role: "proxy" });
  stats.reportFailedRequest("unknown_key");
  stats.reportFailedRequest("deadline");
  stats.reportFailedRequest("deadline");
  stats.reportFailedRequest("result" as never); // a failure is never a result
  stats.reportFailedRequest("toString" as never);
  stats.reportFailedRequest("nonsense" as never);
  stats.reportFailedRequest();
  const f = scrape(registry);
  const v = (outcome: string) => sampleValue(f, RESPONSES_METRIC, { role: "proxy", outcome });
  assertEquals(v("unknown_key"), 1);
  assertEquals(v("deadline"), 2);
  assertEquals(v("failure"), 4);
  assertEquals(v("result"), 0);
  assertEquals(v("nonsense"), undefined);
});

Deno.test("MetricsStats: roles add up separately in one registry; every series exists from the start", () => {
  const registry = new MetricsRegistry();
  const a = new MetricsStats({ registry, role: "proxy" });
  const b = new MetricsStats({ registry, role: "proxy_upstream", latencyBucketsMs: undefined });
  const f0 = scrape(registry);
  assertEquals(byRole(f0, "proxy").requests, 0);
  assertEquals(byRole(f0, "proxy_upstream").latencyCount, 0);
  a.reportRequest();
  a.reportSuccessfulRequest(0.07);
  b.reportRequest();
  b.reportRequest();
  b.reportActiveConnection();
  b.reportActiveConnection();
  b.reportInactiveConnection();
  b.reportInternalError(new Error("x"));
  b.reportDeniedRequest();
  const f = scrape(registry);
  assertEquals(byRole(f, "proxy").requests, 1);
  assertEquals(byRole(f, "proxy_upstream").requests, 2);
  assertEquals(byRole(f, "proxy_upstream").active, 1);
  assertEquals(byRole(f, "proxy_upstream").opened, 2);
  assertEquals(byRole(f, "proxy_upstream").internalErrors, 1);
  assertEquals(byRole(f, "proxy_upstream").denied, 1);
  assertEquals(
    sampleValue(f, `${REQUEST_DURATION_METRIC}_bucket`, { role: "proxy", le: "0.05" }),
    0,
  );
  assertEquals(
    sampleValue(f, `${REQUEST_DURATION_METRIC}_bucket`, { role: "proxy", le: "0.1" }),
    1,
  );
  assertEquals(sampleValue(f, `${REQUEST_DURATION_METRIC}_sum`, { role: "proxy" }), 0.07);
  // Other buckets for the same family: refused, as a clash.
  assertThrows(
    () => new MetricsStats({ registry, role: "x", latencyBucketsMs: [1, 2] }),
    MetricDefinitionError,
  );
  assert(renderPrometheus(registry).endsWith("\n"));
});
