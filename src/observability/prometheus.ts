/**
 * The Prometheus text exposition format (version 0.0.4) of a registry.
 *
 * @module
 */

import type { MetricsRegistry } from "./registry.ts";

/** The `Content-Type` of {@linkcode renderPrometheus}'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * A label value as the text format writes it between double quotes:
 * backslash, double quote and line feed escaped.
 *
 * @example
 * ```ts
 * import { escapeLabelValue } from "./mod.ts";
 *
 * escapeLabelValue('a "b"\\c\nd'); // => 'a \\"b\\"\\\\c\\nd'
 * ```
 *
 * @param value The value.
 * @returns The escaped value.
 */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : "\\" + c))
    : value;
}

/**
 * A help text as the text format writes it in a `# HELP` line: backslash
 * and line feed escaped.
 *
 * @example
 * ```ts
 * import { escapeHelp } from "./mod.ts";
 *
 * escapeHelp("one\ntwo \\ \"three\""); // => 'one\\ntwo \\\\ "three"'
 * ```
 *
 * @param help The text.
 * @returns The escaped text.
 */
export function escapeHelp(help: string): string {
  return /[\\\n]/.test(help) ? help.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\")) : help;
}

/**
 * A sample value as the text format writes it (`+Inf`, `-Inf`, `NaN`, or
 * the shortest decimal JavaScript gives).
 *
 * @example
 * ```ts
 * import { formatSampleValue } from "./mod.ts";
 *
 * formatSampleValue(Infinity); // => "+Inf"
 * formatSampleValue(0.25); // => "0.25"
 * ```
 *
 * @param value The value.
 * @returns Its text.
 */
export function formatSampleValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (value !== value) return "NaN";
  return String(value);
}

function labelText(names: readonly string[], values: readonly string[], le?: string): string {
  if (names.length === 0 && le === undefined) return "";
  let s = "{";
  for (let i = 0; i < names.length; i++) {
    if (i > 0) s += ",";
    s += `${names[i]}="${escapeLabelValue(values[i])}"`;
  }
  if (le !== undefined) s += `${names.length > 0 ? "," : ""}le="${le}"`;
  return s + "}";
}

/**
 * Renders every metric of a registry in the Prometheus text exposition
 * format, version 0.0.4 (serve it with {@linkcode PROMETHEUS_CONTENT_TYPE}):
 * the registry's collectors run first; then, per metric, a `# HELP` and a
 * `# TYPE` line and one line per series (a histogram: cumulative
 * `_bucket{le="…"}` lines ending with `le="+Inf"`, then `_sum` and
 * `_count`). Lines end with a line feed.
 *
 * @example
 * ```ts
 * import { MetricsRegistry, renderPrometheus } from "./mod.ts";
 *
 * const registry = new MetricsRegistry();
 * registry.counter({ name: "app_hits_total", help: "Hits.", labelNames: ["path"] })
 *   .labels({ path: '/a"b' }).inc(3);
 * const latency = registry.histogram({ name: "app_ms", help: "Latency.", buckets: [1, 10] });
 * latency.observe(4);
 * const text = renderPrometheus(registry);
 * text.includes('app_hits_total{path="/a\\"b"} 3\n'); // => true
 * text.includes('app_ms_bucket{le="1"} 0\napp_ms_bucket{le="10"} 1\napp_ms_bucket{le="+Inf"} 1\n'); // => true
 * text.includes("app_ms_sum 4\napp_ms_count 1\n"); // => true
 * ```
 *
 * @param registry The metrics.
 * @returns The exposition text.
 */
export function renderPrometheus(registry: MetricsRegistry): string {
  registry.collect();
  const out: string[] = [];
  for (const m of registry.metrics()) {
    out.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`);
    if (m.type === "histogram") {
      const les = m.buckets.map(formatSampleValue);
      les.push("+Inf");
      for (const [values, child] of m.series()) {
        const counts = child.cumulativeCounts();
        for (let i = 0; i < les.length; i++) {
          out.push(`${m.name}_bucket${labelText(m.labelNames, values, les[i])} ${counts[i]}`);
        }
        const labels = labelText(m.labelNames, values);
        out.push(
          `${m.name}_sum${labels} ${formatSampleValue(child.sum)}`,
          `${m.name}_count${labels} ${child.count}`,
        );
      }
    } else {
      for (const [values, child] of m.series()) {
        out.push(
          `${m.name}${labelText(m.labelNames, values)} ${formatSampleValue(child.value)}`,
        );
      }
    }
  }
  return out.join("\n") + "\n";
}
