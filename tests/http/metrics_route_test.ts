/**
 * `metricsRoute`: `GET /metrics` answers the registry's Prometheus text
 * (collectors run at each request) with its content type; through
 * `createQueryHandler` it sits behind the bearer token unless public, and
 * other methods get 405.
 */

import { MemoryTransport, QueryableStateClient } from "../../mod.ts";
import { createQueryHandler, metricsRoute } from "../../src/http/mod.ts";
import {
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../../src/observability/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { parsePrometheus, sampleValue } from "../observability/_prometheus_parser.ts";

const URL_ = "http://gateway.test/metrics";

Deno.test("http metricsRoute: GET /metrics renders the registry at each request", async () => {
  const registry = new MetricsRegistry();
  const hits = registry.counter({ name: "app_hits_total", help: "Hits.", labelNames: ["kind"] });
  let size = 3;
  const entries = registry.gauge({ name: "app_entries", help: "Entries." });
  registry.addCollector(() => entries.set(size));
  const route = metricsRoute(registry);
  assertEquals([route.method, route.path, route.public], ["GET", "/metrics", false]);

  const call = () => route.handle({ request: new Request(URL_), url: new URL(URL_), params: {} });
  hits.labels({ kind: 'a"b' }).inc(2);
  const first = await call();
  assertEquals(first.status, 200);
  assertEquals(first.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
  assertEquals(first.headers.get("cache-control"), "no-store");
  const text = await first.text();
  assertEquals(text, renderPrometheus(registry), "exactly the registry's rendering");
  const families = parsePrometheus(text);
  assertEquals(sampleValue(families, "app_hits_total", { kind: 'a"b' }), 2);
  assertEquals(sampleValue(families, "app_entries"), 3);

  size = 5;
  hits.labels({ kind: 'a"b' }).inc();
  const again = parsePrometheus(await (await call()).text());
  assertEquals(sampleValue(again, "app_hits_total", { kind: 'a"b' }), 3, "not cached");
  assertEquals(sampleValue(again, "app_entries"), 5, "the collector ran again");
});

Deno.test("http metricsRoute: through createQueryHandler, behind the token unless public", async () => {
  const registry = new MetricsRegistry();
  registry.counter({ name: "app_hits_total", help: "Hits." }).inc();
  await using client = new QueryableStateClient({
    transport: new MemoryTransport(),
    proxy: "127.0.0.1:9069",
  });
  const open = createQueryHandler({ client, routes: [metricsRoute(registry)] });
  const res = await open(new Request(URL_));
  assertEquals([res.status, res.headers.get("content-type")], [200, PROMETHEUS_CONTENT_TYPE]);
  assert((await res.text()).includes("app_hits_total 1\n"));
  const post = await open(new Request(URL_, { method: "POST", body: "x" }));
  assertEquals(post.status, 405);
  await post.body?.cancel();

  const guarded = createQueryHandler({
    client,
    bearerToken: "t0k",
    routes: [metricsRoute(registry)],
  });
  const no = await guarded(new Request(URL_));
  assertEquals(no.status, 401);
  await no.body?.cancel();
  const yes = await guarded(new Request(URL_, { headers: { authorization: "Bearer t0k" } }));
  assertEquals(yes.status, 200);
  assert((await yes.text()).includes("app_hits_total 1\n"));

  const scrapable = createQueryHandler({
    client,
    bearerToken: "t0k",
    routes: [metricsRoute(registry, { public: true })],
  });
  const pub = await scrapable(new Request(URL_));
  assertEquals(pub.status, 200);
  assertEquals(sampleValue(parsePrometheus(await pub.text()), "app_hits_total"), 1);
});

Deno.test("http: without metricsRoute the handler has no /metrics", async () => {
  await using client = new QueryableStateClient({
    transport: new MemoryTransport(),
    proxy: "127.0.0.1:9069",
  });
  const res = await createQueryHandler({ client })(new Request(URL_));
  assertEquals(res.status, 404);
  await res.body?.cancel();
});
