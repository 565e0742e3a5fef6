/**
 * A histogram with fixed buckets.
 *
 * @module
 */

import { MetricDefinitionError } from "./metric_names.ts";
import type { MetricOptions } from "./metric_options.ts";
import { checkDefinition, MetricSeries } from "./metric_series.ts";

/**
 * The default buckets of a histogram: upper bounds of request latencies in
 * milliseconds, from 50 µs (an in-memory answer) to 10 s (past the default
 * deadlines, everything else lands in `+Inf`): 0.05, 0.1, 0.25, 0.5, 1,
 * 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000.
 *
 * @example
 * ```ts
 * import { DEFAULT_LATENCY_BUCKETS_MS } from "./mod.ts";
 *
 * DEFAULT_LATENCY_BUCKETS_MS.length; // => 17
 * DEFAULT_LATENCY_BUCKETS_MS[0]; // => 0.05
 * ```
 */
export const DEFAULT_LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
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

/** The most buckets a histogram may have (`+Inf` not counted). */
export const MAX_HISTOGRAM_BUCKETS = 64;

/**
 * The definition of a histogram.
 *
 * @example
 * ```ts
 * import type { HistogramOptions } from "./mod.ts";
 *
 * const options: HistogramOptions = {
 *   name: "qs_request_duration_milliseconds",
 *   help: "Request latency.",
 *   buckets: [1, 10, 100],
 * };
 * options.buckets?.length; // => 3
 * ```
 */
export interface HistogramOptions extends MetricOptions {
  /**
   * The buckets' upper bounds (inclusive), finite and strictly increasing,
   * at most {@linkcode MAX_HISTOGRAM_BUCKETS}; `+Inf` is always added (a
   * trailing `Infinity` given here is dropped). Default
   * {@linkcode DEFAULT_LATENCY_BUCKETS_MS}.
   */
  readonly buckets?: readonly number[];
}

/**
 * Checks and copies histogram bucket bounds.
 *
 * @example
 * ```ts
 * import { checkBuckets } from "./mod.ts";
 *
 * checkBuckets([1, 2, Infinity]); // => [1, 2]
 * ```
 *
 * @param buckets The upper bounds.
 * @returns A frozen copy, without a trailing `Infinity`.
 * @throws {MetricDefinitionError} When they are not finite and strictly increasing, or too many.
 */
export function checkBuckets(buckets: readonly number[]): readonly number[] {
  const b = [...buckets];
  if (b.length > 0 && b[b.length - 1] === Infinity) b.pop();
  if (b.length > MAX_HISTOGRAM_BUCKETS) {
    throw new MetricDefinitionError(
      `A histogram has at most ${MAX_HISTOGRAM_BUCKETS} buckets, got ${b.length}`,
    );
  }
  for (let i = 0; i < b.length; i++) {
    if (typeof b[i] !== "number" || !Number.isFinite(b[i]) || (i > 0 && !(b[i] > b[i - 1]))) {
      throw new MetricDefinitionError(
        `Histogram buckets must be finite and strictly increasing: ${JSON.stringify(buckets)}`,
      );
    }
  }
  return Object.freeze(b);
}

/**
 * One series of a {@linkcode Histogram}: a count per bucket, a sum and a
 * count. A value goes into the first bucket whose bound is at least the
 * value (bounds are inclusive, as Prometheus' `le`); `NaN` is ignored.
 *
 * @example
 * ```ts
 * import { HistogramChild } from "./mod.ts";
 *
 * const h = new HistogramChild([1, 10]);
 * h.observe(1); // on the bound: in le="1"
 * h.observe(5);
 * h.observe(50); // past the last bound: only in +Inf
 * [...h.cumulativeCounts()]; // => [1, 2, 3]
 * h.sum; // => 56
 * h.count; // => 3
 * ```
 */
export class HistogramChild {
  readonly #bounds: Float64Array;
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /**
   * Creates an empty series.
   *
   * @param bounds The checked bucket bounds (see {@linkcode checkBuckets}).
   */
  constructor(bounds: readonly number[]) {
    this.#bounds = Float64Array.from(bounds);
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /**
   * Records a value.
   *
   * @param value The value (`NaN` is ignored).
   */
  observe(value: number): void {
    if (value !== value) return;
    const bounds = this.#bounds;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    this.#counts[lo]++;
    this.#sum += value;
    this.#count++;
  }

  /** The sum of the values recorded. */
  get sum(): number {
    return this.#sum;
  }

  /** How many values were recorded. */
  get count(): number {
    return this.#count;
  }

  /**
   * The cumulative count of each bucket, in bound order, the last one being
   * `+Inf` (equal to {@linkcode HistogramChild.count}).
   *
   * @returns One count per bound, then the `+Inf` count.
   */
  cumulativeCounts(): Float64Array {
    const out = new Float64Array(this.#counts.length);
    let total = 0;
    for (let i = 0; i < out.length; i++) out[i] = total += this.#counts[i];
    return out;
  }
}

/**
 * A Prometheus histogram: per label set, how many values fell at or below
 * each of fixed bounds, their sum and their count (latencies, sizes).
 *
 * @example
 * ```ts
 * import { Histogram } from "./mod.ts";
 *
 * const latency = new Histogram({
 *   name: "qs_request_duration_milliseconds",
 *   help: "Request latency.",
 *   buckets: [0.5, 1, 5],
 * });
 * latency.observe(0.2);
 * latency.observe(3);
 * latency.count; // => 2
 * latency.buckets; // => [0.5, 1, 5]
 * ```
 */
export class Histogram {
  /** The metric type, as rendered in the `# TYPE` line. */
  readonly type = "histogram" as const;
  /** The metric's name (the series are `_bucket`, `_sum` and `_count` of it). */
  readonly name: string;
  /** The metric's help text. */
  readonly help: string;
  /** The metric's label names. */
  readonly labelNames: readonly string[];
  /** The buckets' upper bounds, `+Inf` not included. */
  readonly buckets: readonly number[];
  readonly #series: MetricSeries<HistogramChild>;

  /**
   * Defines a histogram (outside a registry; see `MetricsRegistry`).
   *
   * @param options The definition.
   * @throws {MetricDefinitionError} On an invalid name, label name or buckets.
   */
  constructor(options: HistogramOptions) {
    const definition = checkDefinition(options, true);
    this.name = definition.name;
    this.help = definition.help;
    this.labelNames = definition.labelNames;
    const buckets = checkBuckets(options.buckets ?? DEFAULT_LATENCY_BUCKETS_MS);
    this.buckets = buckets;
    this.#series = new MetricSeries(
      definition,
      options.maxLabelSets,
      () => new HistogramChild(buckets),
    );
  }

  /**
   * The series of a label set (created when new; folded into `other` past
   * the bound).
   *
   * @param labels One string per label name.
   * @returns The series.
   * @throws {MetricDefinitionError} When the labels do not match the label names.
   */
  labels(labels: Readonly<Record<string, string>>): HistogramChild {
    return this.#series.sets.get(labels);
  }

  /**
   * Records a value in a metric without labels.
   *
   * @param value The value (`NaN` is ignored).
   * @throws {MetricDefinitionError} When the metric has labels.
   */
  observe(value: number): void {
    this.#series.single().observe(value);
  }

  /** How many values a metric without labels recorded. */
  get count(): number {
    return this.#series.single().count;
  }

  /** The sum of the values a metric without labels recorded. */
  get sum(): number {
    return this.#series.single().sum;
  }

  /** How many label sets were folded into the `other` set. */
  get foldedLabelSets(): number {
    return this.#series.sets.folded;
  }

  /**
   * The series, in creation order.
   *
   * @returns Pairs of label values and series.
   */
  series(): IterableIterator<readonly [readonly string[], HistogramChild]> {
    return this.#series.sets.entries();
  }
}
