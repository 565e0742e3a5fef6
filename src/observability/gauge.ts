/**
 * A gauge: a value that goes up and down.
 *
 * @module
 */

import type { MetricOptions } from "./metric_options.ts";
import { checkDefinition, MetricSeries } from "./metric_series.ts";

/**
 * One series of a {@linkcode Gauge}.
 *
 * @example
 * ```ts
 * import { GaugeChild } from "./mod.ts";
 *
 * const g = new GaugeChild();
 * g.inc();
 * g.inc();
 * g.dec();
 * g.value; // => 1
 * g.set(7);
 * g.value; // => 7
 * ```
 */
export class GaugeChild {
  #value = 0;

  /**
   * Sets the gauge.
   *
   * @param value The new value.
   */
  set(value: number): void {
    this.#value = value;
  }

  /**
   * Raises the gauge.
   *
   * @param amount How much to add (default 1).
   */
  inc(amount = 1): void {
    this.#value += amount;
  }

  /**
   * Lowers the gauge.
   *
   * @param amount How much to take away (default 1).
   */
  dec(amount = 1): void {
    this.#value -= amount;
  }

  /** The value now. */
  get value(): number {
    return this.#value;
  }
}

/**
 * A Prometheus gauge: a value per label set that goes up and down (open
 * connections, requests in flight, cache entries).
 *
 * @example
 * ```ts
 * import { Gauge } from "./mod.ts";
 *
 * const open = new Gauge({ name: "qs_connections_active", help: "Open connections." });
 * open.inc();
 * open.inc();
 * open.dec();
 * open.value; // => 1
 * ```
 */
export class Gauge {
  /** The metric type, as rendered in the `# TYPE` line. */
  readonly type = "gauge" as const;
  /** The metric's name. */
  readonly name: string;
  /** The metric's help text. */
  readonly help: string;
  /** The metric's label names. */
  readonly labelNames: readonly string[];
  readonly #series: MetricSeries<GaugeChild>;

  /**
   * Defines a gauge (outside a registry; see `MetricsRegistry`).
   *
   * @param options The definition.
   * @throws {MetricDefinitionError} On an invalid name or label name.
   */
  constructor(options: MetricOptions) {
    const definition = checkDefinition(options, false);
    this.name = definition.name;
    this.help = definition.help;
    this.labelNames = definition.labelNames;
    this.#series = new MetricSeries(definition, options.maxLabelSets, () => new GaugeChild());
  }

  /**
   * The series of a label set (created when new; folded into `other` past
   * the bound).
   *
   * @param labels One string per label name.
   * @returns The series.
   * @throws {MetricDefinitionError} When the labels do not match the label names.
   */
  labels(labels: Readonly<Record<string, string>>): GaugeChild {
    return this.#series.sets.get(labels);
  }

  /**
   * Sets a metric without labels.
   *
   * @param value The new value.
   */
  set(value: number): void {
    this.#series.single().set(value);
  }

  /**
   * Raises a metric without labels.
   *
   * @param amount How much to add (default 1).
   */
  inc(amount = 1): void {
    this.#series.single().inc(amount);
  }

  /**
   * Lowers a metric without labels.
   *
   * @param amount How much to take away (default 1).
   */
  dec(amount = 1): void {
    this.#series.single().dec(amount);
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
  series(): IterableIterator<readonly [readonly string[], GaugeChild]> {
    return this.#series.sets.entries();
  }
}
