import {
  checkBuckets,
  Counter,
  DEFAULT_LATENCY_BUCKETS_MS,
  DEFAULT_MAX_LABEL_SETS,
  FOLDED_LABEL_SETS_METRIC,
  Gauge,
  Histogram,
  HistogramChild,
  MetricDefinitionError,
  MetricsRegistry,
  renderPrometheus,
} from "../../src/observability/mod.ts";
import { assertEquals, assertThrows } from "../_assert.ts";
import { parsePrometheus, sampleValue } from "./_prometheus_parser.ts";

function bucketsOf(h: HistogramChild): number[] {
  return [...h.cumulativeCounts()];
}

Deno.test("histogram: a value on a bound counts in that bucket, just above it in the next", () => {
  const h = new HistogramChild(checkBuckets([1, 2, 5]));
  h.observe(1);
  assertEquals(bucketsOf(h), [1, 1, 1, 1]);
  h.observe(1 + Number.EPSILON);
  assertEquals(bucketsOf(h), [1, 2, 2, 2]);
  h.observe(5);
  h.observe(5.000001);
  assertEquals(bucketsOf(h), [1, 2, 3, 4]);
  h.observe(-3); // below every bound: the first bucket
  h.observe(0);
  assertEquals(bucketsOf(h), [3, 4, 5, 6]);
  h.observe(Infinity);
  assertEquals(bucketsOf(h), [3, 4, 5, 7]);
  h.observe(-Infinity);
  assertEquals(bucketsOf(h), [4, 5, 6, 8]);
  assertEquals(h.count, 8);
  h.observe(NaN); // ignored
  assertEquals(h.count, 8);
  assertEquals(bucketsOf(h), [4, 5, 6, 8]);
});

Deno.test("histogram: default buckets go from 0.05 ms to 10 s and every value lands once", () => {
  assertEquals(DEFAULT_LATENCY_BUCKETS_MS, [
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
  ]);
  const h = new Histogram({ name: "t_ms", help: "." });
  assertEquals(h.buckets, DEFAULT_LATENCY_BUCKETS_MS);
  const values = [0, 0.03, 0.05, 0.07, 0.3, 0.9, 1, 7, 99, 100, 101, 9999, 10000, 10001, 1e9];
  for (const v of values) h.observe(v);
  const counts = bucketsOf(h.labels({}));
  // Each cumulative count is the number of values at or below its bound.
  DEFAULT_LATENCY_BUCKETS_MS.forEach((le, i) => {
    assertEquals(counts[i], values.filter((v) => v <= le).length, `le=${le}`);
  });
  assertEquals(counts[counts.length - 1], values.length);
  assertEquals(h.sum, values.reduce((a, b) => a + b, 0));
});

Deno.test("histogram: buckets must be finite, strictly increasing, at most 64", () => {
  assertEquals(checkBuckets([1, 2, Infinity]), [1, 2]);
  assertEquals(checkBuckets([]), []);
  for (const bad of [[2, 1], [1, 1], [NaN], [-Infinity, 1], [1, Infinity, 2]]) {
    assertThrows(() => checkBuckets(bad), MetricDefinitionError, "strictly increasing");
  }
  assertThrows(
    () => checkBuckets(Array.from({ length: 65 }, (_, i) => i)),
    MetricDefinitionError,
    "at most 64",
  );
  checkBuckets(Array.from({ length: 64 }, (_, i) => i));
  // No buckets: only +Inf.
  const h = new HistogramChild(checkBuckets([]));
  h.observe(3);
  assertEquals(bucketsOf(h), [1]);
});

Deno.test("counter and gauge: values, negative increments refused, labels required when defined", () => {
  const c = new Counter({ name: "t_total", help: "." });
  c.inc();
  c.inc(0);
  c.inc(2.5);
  assertEquals(c.value, 3.5);
  assertThrows(() => c.inc(-1), RangeError, "only goes up");
  assertThrows(() => c.inc(NaN), RangeError);
  assertEquals(c.value, 3.5);
  const g = new Gauge({ name: "t_g", help: ".", labelNames: ["a"] });
  assertThrows(() => g.inc(), MetricDefinitionError, "has labels");
  const child = g.labels({ a: "x" });
  child.inc(5);
  child.dec(2);
  assertEquals(g.labels({ a: "x" }).value, 3);
  assertEquals(g.labels({ a: "x" }), child);
  child.set(-1);
  assertEquals(child.value, -1);
  assertThrows(() => g.labels({}), MetricDefinitionError, "missing");
  assertThrows(() => g.labels({ a: "x", b: "y" }), MetricDefinitionError, "do not match");
  assertThrows(
    () => g.labels({ a: 1 as unknown as string }),
    MetricDefinitionError,
    "not a string",
  );
});

Deno.test("names and label names follow Prometheus' grammar", () => {
  for (const name of ["", "1abc", "a-b", "a b", "é"]) {
    assertThrows(() => new Counter({ name, help: "." }), MetricDefinitionError, "metric name");
  }
  new Counter({ name: "a:b_c9", help: "." });
  for (const label of ["", "1a", "a-b", "__reserved"]) {
    assertThrows(
      () => new Counter({ name: "t", help: ".", labelNames: [label] }),
      MetricDefinitionError,
      "label name",
    );
  }
  assertThrows(
    () => new Counter({ name: "t", help: ".", labelNames: ["a", "a"] }),
    MetricDefinitionError,
    "twice",
  );
  assertThrows(
    () => new Histogram({ name: "t", help: ".", labelNames: ["le"] }),
    MetricDefinitionError,
    "reserved",
  );
  new Counter({ name: "t", help: ".", labelNames: ["le"] }); // only histograms reserve it
});

Deno.test("label sets: past the bound new sets fold into other, are counted and rendered", () => {
  const registry = new MetricsRegistry({ maxLabelSets: 3 });
  const c = registry.counter({ name: "t_hits_total", help: ".", labelNames: ["path", "code"] });
  for (let i = 0; i < 3; i++) c.labels({ path: `/p${i}`, code: "200" }).inc();
  assertEquals(c.foldedLabelSets, 0);
  c.labels({ path: "/p0", code: "200" }).inc(); // existing: not folded
  c.labels({ path: "/new", code: "500" }).inc(10);
  c.labels({ path: "/newer", code: "404" }).inc(20);
  assertEquals(c.foldedLabelSets, 2);
  assertEquals(c.labels({ path: "other", code: "other" }).value, 30);
  // The other set is found as an existing set: not counted again.
  assertEquals(c.foldedLabelSets, 2);
  const series = [...c.series()].map(([v, child]) => `${v.join("|")}=${child.value}`);
  assertEquals(series, ["/p0|200=2", "/p1|200=1", "/p2|200=1", "other|other=30"]);
  const families = parsePrometheus(renderPrometheus(registry));
  assertEquals(sampleValue(families, FOLDED_LABEL_SETS_METRIC, { metric: "t_hits_total" }), 2);
  assertEquals(sampleValue(families, "t_hits_total", { path: "other", code: "other" }), 30);
  // Rendering again does not count twice.
  c.labels({ path: "/newest", code: "200" }).inc();
  const again = parsePrometheus(renderPrometheus(registry));
  assertEquals(sampleValue(again, FOLDED_LABEL_SETS_METRIC, { metric: "t_hits_total" }), 3);
  assertEquals(sampleValue(again, "t_hits_total", { path: "other", code: "other" }), 31);
});

Deno.test("label sets: the default bound is 100 and a metric's own bound wins", () => {
  assertEquals(DEFAULT_MAX_LABEL_SETS, 100);
  const g = new Gauge({ name: "t_g", help: ".", labelNames: ["k"] });
  for (let i = 0; i < 150; i++) g.labels({ k: String(i) }).inc();
  assertEquals([...g.series()].length, 101);
  assertEquals(g.foldedLabelSets, 50);
  const registry = new MetricsRegistry({ maxLabelSets: 2 });
  const own = registry.gauge({ name: "t_own", help: ".", labelNames: ["k"], maxLabelSets: 5 });
  for (let i = 0; i < 10; i++) own.labels({ k: String(i) }).inc();
  assertEquals(own.foldedLabelSets, 5);
  assertThrows(() => new MetricsRegistry({ maxLabelSets: -1 }), RangeError);
  assertThrows(
    () => new Gauge({ name: "t", help: ".", labelNames: ["k"], maxLabelSets: 1.5 }),
    RangeError,
  );
});

Deno.test("registry: same definition returns the same metric; clashes throw", () => {
  const registry = new MetricsRegistry();
  const c = registry.counter({ name: "t_total", help: ".", labelNames: ["a"] });
  assertEquals(registry.counter({ name: "t_total", help: "other help", labelNames: ["a"] }), c);
  assertEquals(registry.get("t_total"), c);
  assertThrows(() => registry.gauge({ name: "t_total", help: "." }), MetricDefinitionError);
  assertThrows(
    () => registry.counter({ name: "t_total", help: ".", labelNames: ["b"] }),
    MetricDefinitionError,
  );
  const h = registry.histogram({ name: "t_ms", help: ".", buckets: [1, 2] });
  assertEquals(registry.histogram({ name: "t_ms", help: ".", buckets: [1, 2, Infinity] }), h);
  assertThrows(
    () => registry.histogram({ name: "t_ms", help: ".", buckets: [1, 3] }),
    MetricDefinitionError,
    "other buckets",
  );
  assertThrows(() => registry.histogram({ name: "t_ms", help: "." }), MetricDefinitionError);
  // A histogram's series names are taken.
  for (const name of ["t_ms_bucket", "t_ms_sum", "t_ms_count"]) {
    assertThrows(() => registry.counter({ name, help: "." }), MetricDefinitionError, "clashes");
  }
  registry.counter({ name: "t_b_count", help: "." });
  assertThrows(() => registry.histogram({ name: "t_b", help: "." }), MetricDefinitionError);
  assertEquals(registry.get("t_b"), undefined);
  assertThrows(() => registry.counter({ name: FOLDED_LABEL_SETS_METRIC, help: "." }));
});

Deno.test("registry: collectors run before rendering; one that throws is counted, the others run", () => {
  const registry = new MetricsRegistry();
  const entries = registry.gauge({ name: "t_entries", help: "." });
  let size = 3;
  const remove = registry.addCollector(() => entries.set(size));
  registry.addCollector(() => {
    throw new Error("broken collector");
  });
  let text = renderPrometheus(registry);
  assertEquals(sampleValue(parsePrometheus(text), "t_entries"), 3);
  assertEquals(sampleValue(parsePrometheus(text), "qs_metric_collector_errors_total"), 1);
  size = 7;
  text = renderPrometheus(registry);
  assertEquals(sampleValue(parsePrometheus(text), "t_entries"), 7);
  assertEquals(sampleValue(parsePrometheus(text), "qs_metric_collector_errors_total"), 2);
  remove();
  size = 9;
  text = renderPrometheus(registry);
  assertEquals(sampleValue(parsePrometheus(text), "t_entries"), 7);
});
