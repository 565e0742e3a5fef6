/**
 * A set of metrics, rendered together.
 *
 * @module
 */

import { Counter } from "./counter.ts";
import { Gauge } from "./gauge.ts";
import {
  checkBuckets,
  DEFAULT_LATENCY_BUCKETS_MS,
  Histogram,
  type HistogramOptions,
} from "./histogram.ts";
import { DEFAULT_MAX_LABEL_SETS } from "./label_sets.ts";
import { MetricDefinitionError } from "./metric_names.ts";
import type { MetricOptions } from "./metric_options.ts";

/** Any metric a {@linkcode MetricsRegistry} holds. */
export type Metric = Counter | Gauge | Histogram;

/** The counter of label sets folded into `other`, per metric (label `metric`). */
export const FOLDED_LABEL_SETS_METRIC = "qs_metric_label_sets_folded_total";
/** The counter of exceptions thrown by collectors (see {@linkcode MetricsRegistry.addCollector}). */
export const COLLECTOR_ERRORS_METRIC = "qs_metric_collector_errors_total";

/** Options of a {@linkcode MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * The most label sets of each metric defined through this registry that
   * does not give its own `maxLabelSets`; past it, new label sets fold into
   * the `other` set and are counted in
   * {@linkcode FOLDED_LABEL_SETS_METRIC}. Default 100.
   */
  readonly maxLabelSets?: number;
}

/**
 * The metrics of a process (or of one role), in definition order. Defining
 * a metric again with the same name, type, labels (and buckets) returns the
 * first one, so several components can share a family; any other clash
 * (including a histogram's `_bucket`, `_sum`, `_count` series) throws
 * {@linkcode MetricDefinitionError}. Two metrics of its own count label sets
 * folded past the bound ({@linkcode FOLDED_LABEL_SETS_METRIC}) and collector
 * failures ({@linkcode COLLECTOR_ERRORS_METRIC}).
 *
 * @example
 * ```ts
 * import { MetricsRegistry, renderPrometheus } from "./mod.ts";
 *
 * const registry = new MetricsRegistry();
 * const requests = registry.counter({ name: "app_requests_total", help: "Requests." });
 * requests.inc();
 * registry.counter({ name: "app_requests_total", help: "Requests." }) === requests; // => true
 *
 * const entries = registry.gauge({ name: "app_cache_entries", help: "Cache entries." });
 * const cache = new Map([["a", 1]]);
 * registry.addCollector(() => entries.set(cache.size)); // run before each rendering
 * renderPrometheus(registry).includes("app_cache_entries 1\n"); // => true
 * ```
 */
export class MetricsRegistry {
  readonly #maxLabelSets: number;
  readonly #metrics = new Map<string, Metric>();
  /** Every series name a metric renders, to the metric's name. */
  readonly #seriesNames = new Map<string, string>();
  readonly #collectors = new Set<() => void>();
  readonly #folded: Counter;
  readonly #collectorErrors: Counter;

  /**
   * Creates a registry holding only its own two metrics.
   *
   * @param options Bounds.
   */
  constructor(options: MetricsRegistryOptions = {}) {
    const max = options.maxLabelSets ?? DEFAULT_MAX_LABEL_SETS;
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(`maxLabelSets must be a non-negative integer, got ${max}`);
    }
    this.#maxLabelSets = max;
    this.#folded = this.#define(
      new Counter({
        name: FOLDED_LABEL_SETS_METRIC,
        help: 'Label sets folded into the set of value "other" past a metric\'s bound.',
        labelNames: ["metric"],
        maxLabelSets: Infinity,
      }),
    ) as Counter;
    this.#collectorErrors = this.#define(
      new Counter({
        name: COLLECTOR_ERRORS_METRIC,
        help: "Exceptions thrown by metric collectors (the rendering went on).",
      }),
    ) as Counter;
  }

  /**
   * Defines a counter, or returns the one of that name.
   *
   * @param options The definition (`maxLabelSets` defaults to the registry's).
   * @returns The counter.
   * @throws {MetricDefinitionError} When it clashes with another metric.
   */
  counter(options: MetricOptions): Counter {
    return this.#getOrDefine(options, "counter", () => new Counter(this.#withMax(options)));
  }

  /**
   * Defines a gauge, or returns the one of that name.
   *
   * @param options The definition (`maxLabelSets` defaults to the registry's).
   * @returns The gauge.
   * @throws {MetricDefinitionError} When it clashes with another metric.
   */
  gauge(options: MetricOptions): Gauge {
    return this.#getOrDefine(options, "gauge", () => new Gauge(this.#withMax(options)));
  }

  /**
   * Defines a histogram, or returns the one of that name (with the same buckets).
   *
   * @param options The definition (`maxLabelSets` defaults to the registry's).
   * @returns The histogram.
   * @throws {MetricDefinitionError} When it clashes with another metric.
   */
  histogram(options: HistogramOptions): Histogram {
    const h = this.#getOrDefine(options, "histogram", () => new Histogram(this.#withMax(options)));
    const want = checkBuckets(options.buckets ?? DEFAULT_LATENCY_BUCKETS_MS);
    if (want.length !== h.buckets.length || want.some((b, i) => b !== h.buckets[i])) {
      throw new MetricDefinitionError(`Metric ${h.name} is defined with other buckets`);
    }
    return h;
  }

  /**
   * Adds a function run before each rendering (by
   * {@linkcode MetricsRegistry.collect}), to set gauges from state read
   * then (cache sizes, requests in flight). One that throws is counted in
   * {@linkcode COLLECTOR_ERRORS_METRIC} and the others still run.
   *
   * @param collector The function.
   * @returns A function that removes it.
   */
  addCollector(collector: () => void): () => void {
    this.#collectors.add(collector);
    return () => void this.#collectors.delete(collector);
  }

  /** Runs the collectors and brings the registry's own counters up to date. Never throws. */
  collect(): void {
    for (const c of this.#collectors) {
      try {
        c();
      } catch {
        this.#collectorErrors.inc();
      }
    }
    for (const m of this.#metrics.values()) {
      const n = m.foldedLabelSets;
      if (n === 0) continue;
      const child = this.#folded.labels({ metric: m.name });
      if (n > child.value) child.inc(n - child.value);
    }
  }

  /**
   * The metrics, in definition order (the registry's own two first).
   *
   * @returns The metrics.
   */
  metrics(): IterableIterator<Metric> {
    return this.#metrics.values();
  }

  /**
   * The metric of a name.
   *
   * @param name The name.
   * @returns The metric, or `undefined`.
   */
  get(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  #withMax<T extends MetricOptions>(options: T): T {
    return { ...options, maxLabelSets: options.maxLabelSets ?? this.#maxLabelSets };
  }

  #getOrDefine<M extends Metric>(options: MetricOptions, type: M["type"], make: () => M): M {
    const found = this.#metrics.get(options.name);
    if (found === undefined) return this.#define(make()) as M;
    const labels = options.labelNames ?? [];
    if (
      found.type !== type || found.labelNames.length !== labels.length ||
      found.labelNames.some((n, i) => n !== labels[i])
    ) {
      throw new MetricDefinitionError(
        `Metric ${options.name} is already defined as a ${found.type} with labels ${
          JSON.stringify(found.labelNames)
        }`,
      );
    }
    return found as M;
  }

  #define(metric: Metric): Metric {
    const names = metric.type === "histogram"
      ? [metric.name, `${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`]
      : [metric.name];
    for (const n of names) {
      const owner = this.#seriesNames.get(n);
      if (owner !== undefined) {
        throw new MetricDefinitionError(
          `Metric ${metric.name} clashes with metric ${owner} on series name ${n}`,
        );
      }
    }
    for (const n of names) this.#seriesNames.set(n, metric.name);
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}
