import {
  escapeHelp,
  escapeLabelValue,
  formatSampleValue,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "../../src/observability/mod.ts";
import { assertEquals, assertThrows } from "../_assert.ts";
import { parsePrometheus, sampleValue } from "./_prometheus_parser.ts";

Deno.test("renderPrometheus: the exact text of a small registry", () => {
  const registry = new MetricsRegistry();
  registry.counter({ name: "t_requests_total", help: "Requests.", labelNames: ["role"] })
    .labels({ role: "server" }).inc(3);
  registry.gauge({ name: "t_open", help: "Open." }).set(-2);
  const h = registry.histogram({
    name: "t_ms",
    help: "Latency.",
    labelNames: ["role"],
    buckets: [0.5, 1],
  });
  h.labels({ role: "a" }).observe(0.5);
  h.labels({ role: "a" }).observe(3);
  registry.counter({ name: "t_empty_total", help: "Never used.", labelNames: ["x"] });
  assertEquals(
    renderPrometheus(registry),
    [
      '# HELP qs_metric_label_sets_folded_total Label sets folded into the set of value "other" past a metric\'s bound.',
      "# TYPE qs_metric_label_sets_folded_total counter",
      "# HELP qs_metric_collector_errors_total Exceptions thrown by metric collectors (the rendering went on).",
      "# TYPE qs_metric_collector_errors_total counter",
      "qs_metric_collector_errors_total 0",
      "# HELP t_requests_total Requests.",
      "# TYPE t_requests_total counter",
      't_requests_total{role="server"} 3',
      "# HELP t_open Open.",
      "# TYPE t_open gauge",
      "t_open -2",
      "# HELP t_ms Latency.",
      "# TYPE t_ms histogram",
      't_ms_bucket{role="a",le="0.5"} 1',
      't_ms_bucket{role="a",le="1"} 1',
      't_ms_bucket{role="a",le="+Inf"} 2',
      't_ms_sum{role="a"} 3.5',
      't_ms_count{role="a"} 2',
      "# HELP t_empty_total Never used.",
      "# TYPE t_empty_total counter",
      "",
    ].join("\n"),
  );
  assertEquals(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("renderPrometheus: label values and help with backslashes, quotes, line feeds and unicode parse back", () => {
  const registry = new MetricsRegistry();
  const tricky = [
    'a"b',
    "back\\slash",
    "line\nfeed",
    "\\n literal",
    "}{,=",
    "é ✓ 😀",
    "",
    '\\"',
    "tab\there\r",
  ];
  const c = registry.counter({
    name: "t_hits_total",
    help: 'Help with \\ a backslash,\na line feed and "quotes".',
    labelNames: ["path", "other"],
  });
  tricky.forEach((v, i) => c.labels({ path: v, other: String(i) }).inc(i + 1));
  const text = renderPrometheus(registry);
  // One line per series: a line feed in a value never splits a line.
  assertEquals(text.split("\n").filter((l) => l.startsWith("t_hits_total")).length, tricky.length);
  const families = parsePrometheus(text);
  const f = families.find((x) => x.name === "t_hits_total")!;
  assertEquals(f.help, 'Help with \\ a backslash,\na line feed and "quotes".');
  tricky.forEach((v, i) => {
    assertEquals(sampleValue(families, "t_hits_total", { path: v, other: String(i) }), i + 1, v);
  });
});

Deno.test("escaping helpers and sample values", () => {
  assertEquals(escapeLabelValue('a "b"\\c\nd'), 'a \\"b\\"\\\\c\\nd');
  assertEquals(escapeLabelValue("plain"), "plain");
  assertEquals(escapeHelp('one\ntwo \\ "three"'), 'one\\ntwo \\\\ "three"');
  assertEquals(formatSampleValue(Infinity), "+Inf");
  assertEquals(formatSampleValue(-Infinity), "-Inf");
  assertEquals(formatSampleValue(NaN), "NaN");
  assertEquals(formatSampleValue(1e21), "1e+21");
  assertEquals(formatSampleValue(-0.125), "-0.125");
});

Deno.test("renderPrometheus: special values and many series parse; the histogram invariants hold", () => {
  const registry = new MetricsRegistry({ maxLabelSets: 1000 });
  const g = registry.gauge({ name: "t_g", help: "G.", labelNames: ["k"] });
  g.labels({ k: "inf" }).set(Infinity);
  g.labels({ k: "-inf" }).set(-Infinity);
  g.labels({ k: "nan" }).set(NaN);
  g.labels({ k: "tiny" }).set(1e-9);
  const h = registry.histogram({ name: "t_h", help: "H.", labelNames: ["k"] });
  for (let s = 0; s < 20; s++) {
    const child = h.labels({ k: `s${s}` });
    for (let i = 0; i < 50; i++) child.observe(((i * 7919 + s * 31) % 20000) / 1.7);
  }
  const families = parsePrometheus(renderPrometheus(registry));
  assertEquals(sampleValue(families, "t_g", { k: "inf" }), Infinity);
  assertEquals(sampleValue(families, "t_g", { k: "-inf" }), -Infinity);
  assertEquals(Number.isNaN(sampleValue(families, "t_g", { k: "nan" })), true);
  assertEquals(sampleValue(families, "t_g", { k: "tiny" }), 1e-9);
  assertEquals(sampleValue(families, "t_h_count", { k: "s3" }), 50);
  assertEquals(sampleValue(families, "t_h_bucket", { k: "s3", le: "+Inf" }), 50);
  assertEquals(families.find((f) => f.name === "t_h")!.samples.length, 20 * (17 + 1 + 2));
});

Deno.test("the test parser refuses broken expositions (so the checks above can fail)", () => {
  const ok = "# HELP a A.\n# TYPE a counter\na 1\n";
  parsePrometheus(ok);
  const broken: [string, string][] = [
    ["# TYPE a counter\na 1", "line feed"],
    ['# TYPE a counter\na{x="1} 1\n', "unterminated"],
    ['# TYPE a counter\na{x="\\t"} 1\n', "bad escape"],
    ["# TYPE a counter\na one\n", "bad value"],
    ["# TYPE a counter\na -1\n", "negative counter"],
    ["# TYPE a counter\na 1\na 2\n", "twice"],
    ["# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na 2\n", "contiguous"],
    ["# TYPE a counter\na 1\n# HELP a late\n", "after samples"],
    ["# TYPE a nonsense\n", "bad type"],
    [
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      "cumulative",
    ],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', "+Inf"],
    [
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n',
      "+Inf != _count",
    ],
    [
      '# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      "increasing",
    ],
    ["# TYPE a counter\n\na 1\n", "empty line"],
  ];
  for (const [text, why] of broken) assertThrows(() => parsePrometheus(text), Error, why);
});
