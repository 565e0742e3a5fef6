/**
 * A monotonic counter.
 *
 * @module
 */

import type { MetricOptions } from "./metric_options.ts";
import { checkDefinition, MetricSeries } from "./metric_series.ts";

/**
 * One series of a {@linkcode Counter}: a value that only goes up.
 *
 * @example
 * ```ts
 * import { CounterChild } from "./mod.ts";
 *
 * const c = new CounterChild();
 * c.inc();
 * c.inc(2.5);
 * c.value; // => 3.5
 * ```
 */
export class CounterChild {
  #value = 0;

  /**
   * Adds to the counter.
   *
   * @param amount How much (default 1; zero or more).
   * @throws {RangeError} When `amount` is negative or not a number.
   */
  inc(amount = 1): void {
    if (!(amount >= 0)) throw new RangeError(`A counter only goes up, got ${amount}`);
    this.#value += amount;
  }

  /** The value now. */
  get value(): number {
    return this.#value;
  }
}

/**
 * A Prometheus counter: a value per label set that only goes up (requests,
 * errors, bytes).
 *
 * @example
 * ```ts
 * import { Counter } from "./mod.ts";
 *
 * const requests = new Counter({
 *   name: "qs_requests_total",
 *   help: "Requests.",
 *   labelNames: ["role"],
 * });
 * const server = requests.labels({ role: "server" }); // keep it: no lookup per request
 * server.inc();
 * server.inc();
 * requests.labels({ role: "server" }).value; // => 2
 *
 * const errors = new Counter({ name: "qs_errors_total", help: "Errors." });
 * errors.inc();
 * errors.value; // => 1
 * ```
 */
export class Counter {
  /** The metric type, as rendered in the `# TYPE` line. */
  readonly type = "counter" as const;
  /** The metric's name. */
  readonly name: string;
  /** The metric's help text. */
  readonly help: string;
  /** The metric's label names. */
  readonly labelNames: readonly string[];
  readonly #series: MetricSeries<CounterChild>;

  /**
   * Defines a counter (outside a registry; see `MetricsRegistry`).
   *
   * @param options The definition.
   * @throws {MetricDefinitionError} On an invalid name or label name.
   */
  constructor(options: MetricOptions) {
    const definition = checkDefinition(options, false);
    this.name = definition.name;
    this.help = definition.help;
    this.labelNames = definition.labelNames;
    this.#series = new MetricSeries(definition, options.maxLabelSets, () => new CounterChild());
  }

  /**
   * The series of a label set (created when new; folded into `other` past
   * the bound). Keep it to count without a lookup.
   *
   * @param labels One string per label name.
   * @returns The series.
   * @throws {MetricDefinitionError} When the labels do not match the label names.
   */
  labels(labels: Readonly<Record<string, string>>): CounterChild {
    return this.#series.sets.get(labels);
  }

  /**
   * Adds to the counter of a metric without labels.
   *
   * @param amount How much (default 1; zero or more).
   * @throws {MetricDefinitionError} When the metric has labels.
   */
  inc(amount = 1): void {
    this.#series.single().inc(amount);
  }

  /** The value of a metric without labels. */
  get value(): number {
    return this.#series.single().value;
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
  series(): IterableIterator<readonly [readonly string[], CounterChild]> {
    return this.#series.sets.entries();
  }
}
