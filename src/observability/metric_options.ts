/**
 * What every metric is defined with.
 *
 * @module
 */

/**
 * The definition shared by counters, gauges and histograms.
 *
 * @example
 * ```ts
 * import type { MetricOptions } from "./mod.ts";
 *
 * const options: MetricOptions = {
 *   name: "qs_requests_total",
 *   help: "Requests received.",
 *   labelNames: ["role"],
 * };
 * options.labelNames?.length; // => 1
 * ```
 */
export interface MetricOptions {
  /** The metric's name (Prometheus grammar: `[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  readonly name: string;
  /** One line saying what it counts (rendered escaped in the `# HELP` line). */
  readonly help: string;
  /** Its label names, in rendering order. Default: none (one series). */
  readonly labelNames?: readonly string[];
  /**
   * The most label sets (series) it holds; past it, a new label set folds
   * into the set whose every value is `other`, and is counted. Default: the
   * registry's `maxLabelSets`, 100 outside a registry.
   */
  readonly maxLabelSets?: number;
}
