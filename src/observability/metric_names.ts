/**
 * What a metric's name and label names may be, and the error a bad
 * definition raises.
 *
 * @module
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A metric was defined with an invalid name or label name, defined twice in
 * one registry with a different type, labels or buckets, or used with labels
 * that do not match its definition.
 *
 * @example
 * ```ts
 * import { MetricDefinitionError, MetricsRegistry } from "./mod.ts";
 *
 * const registry = new MetricsRegistry();
 * let error: unknown;
 * try {
 *   registry.counter({ name: "bad name", help: "?" });
 * } catch (e) {
 *   error = e;
 * }
 * error instanceof MetricDefinitionError; // => true
 * ```
 */
export class MetricDefinitionError extends Error {
  /** The error's name. */
  override name = "MetricDefinitionError";
}

/**
 * Checks a metric name against Prometheus' grammar (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
 *
 * @example
 * ```ts
 * import { checkMetricName } from "./mod.ts";
 *
 * checkMetricName("qs_requests_total"); // => "qs_requests_total"
 * ```
 *
 * @param name The name.
 * @returns The name.
 * @throws {MetricDefinitionError} When the name is not valid.
 */
export function checkMetricName(name: string): string {
  if (typeof name !== "string" || !METRIC_NAME.test(name)) {
    throw new MetricDefinitionError(`Invalid metric name ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * Checks label names against Prometheus' grammar (`[a-zA-Z_][a-zA-Z0-9_]*`,
 * not starting with `__`, no duplicates; `le` is reserved for histograms).
 *
 * @example
 * ```ts
 * import { checkLabelNames } from "./mod.ts";
 *
 * checkLabelNames(["role", "outcome"], false); // => ["role", "outcome"]
 * ```
 *
 * @param names The label names.
 * @param histogram Whether the metric is a histogram (`le` then refused).
 * @returns A frozen copy of the names.
 * @throws {MetricDefinitionError} When a name is not valid or repeated.
 */
export function checkLabelNames(
  names: readonly string[],
  histogram: boolean,
): readonly string[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== "string" || !LABEL_NAME.test(n) || n.startsWith("__")) {
      throw new MetricDefinitionError(`Invalid label name ${JSON.stringify(n)}`);
    }
    if (histogram && n === "le") {
      throw new MetricDefinitionError(`The label name "le" is reserved for histogram buckets`);
    }
    if (seen.has(n)) throw new MetricDefinitionError(`Label name "${n}" given twice`);
    seen.add(n);
  }
  return Object.freeze([...names]);
}
