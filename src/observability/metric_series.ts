/**
 * What counters, gauges and histograms share (internal, not exported by
 * `mod.ts`): the checked definition, the bounded label sets, and the one
 * series of a metric without labels. Each metric class holds one
 * {@linkcode MetricSeries} and forwards to it.
 *
 * @module
 */

import { DEFAULT_MAX_LABEL_SETS, LabelSets } from "./label_sets.ts";
import { checkLabelNames, checkMetricName, MetricDefinitionError } from "./metric_names.ts";
import type { MetricOptions } from "./metric_options.ts";

/** A metric's checked name, help text and label names. */
export interface MetricDefinition {
  /** The metric's name, checked. */
  readonly name: string;
  /** The metric's help text. */
  readonly help: string;
  /** The metric's label names, checked. */
  readonly labelNames: readonly string[];
}

/**
 * Checks a metric's name and label names.
 *
 * @example
 * ```ts
 * import { checkDefinition } from "./metric_series.ts";
 *
 * checkDefinition({ name: "qs_up", help: "Up.", labelNames: ["role"] }, false).labelNames;
 * // => ["role"]
 * ```
 *
 * @param options The definition.
 * @param reservesLe Whether the label name `le` is reserved (histograms).
 * @returns The checked definition.
 * @throws {MetricDefinitionError} On an invalid name or label name.
 */
export function checkDefinition(options: MetricOptions, reservesLe: boolean): MetricDefinition {
  return {
    name: checkMetricName(options.name),
    help: String(options.help),
    labelNames: checkLabelNames(options.labelNames ?? [], reservesLe),
  };
}

/**
 * The series of one metric: its label sets (bounded by `maxLabelSets`,
 * default {@linkcode DEFAULT_MAX_LABEL_SETS}) and, for a metric without
 * labels, its one series, made at once so that it renders before its first
 * update.
 *
 * @example
 * ```ts
 * import { checkDefinition, MetricSeries } from "./metric_series.ts";
 *
 * const one = new MetricSeries(checkDefinition({ name: "n", help: "." }, false), undefined, () => ({ n: 0 }));
 * one.single().n++;
 * [...one.sets.entries()].length; // => 1
 * ```
 */
export class MetricSeries<C> {
  /** The label sets. */
  readonly sets: LabelSets<C>;
  readonly #name: string;
  readonly #unlabeled: C | undefined;

  /**
   * Creates the label sets, and the series of a metric without labels.
   *
   * @param definition The checked definition.
   * @param maxLabelSets The most label sets (default {@linkcode DEFAULT_MAX_LABEL_SETS}).
   * @param make Creates a series.
   * @throws {RangeError} When `maxLabelSets` is not a non-negative integer or `Infinity`.
   */
  constructor(definition: MetricDefinition, maxLabelSets: number | undefined, make: () => C) {
    this.#name = definition.name;
    this.sets = new LabelSets(
      definition.labelNames,
      maxLabelSets ?? DEFAULT_MAX_LABEL_SETS,
      make,
    );
    this.#unlabeled = definition.labelNames.length === 0 ? this.sets.get({}) : undefined;
  }

  /**
   * The one series of a metric without labels.
   *
   * @returns The series.
   * @throws {MetricDefinitionError} When the metric has labels.
   */
  single(): C {
    if (this.#unlabeled === undefined) {
      throw new MetricDefinitionError(`Metric ${this.#name} has labels: use labels(…)`);
    }
    return this.#unlabeled;
  }
}
