/**
 * Observability building blocks: metrics (counters, gauges, histograms, a
 * registry and its Prometheus text rendering), an adapter from the
 * statistics hooks of servers and clients to metrics, and a structured
 * logger with per-event rate limiting. Web-standard only.
 *
 * @example Metrics for a role, rendered for Prometheus
 * ```ts
 * import {
 *   MetricsRegistry,
 *   MetricsStats,
 *   renderPrometheus,
 * } from "@kvstate/queryable-state/observability";
 *
 * const registry = new MetricsRegistry();
 * const stats = new MetricsStats({ registry, role: "server" }); // a role's `stats` option
 * // What a KvStateServer given `stats` reports for one request served in 0.3 ms:
 * stats.reportRequest();
 * stats.reportSuccessfulRequest(0.3);
 * renderPrometheus(registry).includes('qs_requests_total{role="server"} 1\n'); // => true
 * ```
 *
 * @module
 */

export { Counter, CounterChild } from "./counter.ts";
export { Gauge, GaugeChild } from "./gauge.ts";
export {
  checkBuckets,
  DEFAULT_LATENCY_BUCKETS_MS,
  Histogram,
  HistogramChild,
  type HistogramOptions,
  MAX_HISTOGRAM_BUCKETS,
} from "./histogram.ts";
export { DEFAULT_MAX_LABEL_SETS, LabelSets, OTHER_LABEL_VALUE } from "./label_sets.ts";
export { checkLabelNames, checkMetricName, MetricDefinitionError } from "./metric_names.ts";
export type { MetricOptions } from "./metric_options.ts";
export {
  COLLECTOR_ERRORS_METRIC,
  FOLDED_LABEL_SETS_METRIC,
  type Metric,
  MetricsRegistry,
  type MetricsRegistryOptions,
} from "./registry.ts";
export {
  escapeHelp,
  escapeLabelValue,
  formatSampleValue,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
} from "./prometheus.ts";
/** The statistics hooks {@linkcode MetricsStats} implements (defined in the server layer). */
export type { KvStateRequestStats } from "../server/stats.ts";
export type { RequestFailureOutcome } from "../server/request_outcome.ts";
export {
  ACTIVE_CONNECTIONS_METRIC,
  DENIED_REQUESTS_METRIC,
  INTERNAL_ERRORS_METRIC,
  MetricsStats,
  type MetricsStatsOptions,
  OPENED_CONNECTIONS_METRIC,
  REQUEST_DURATION_METRIC,
  REQUEST_OUTCOMES,
  type RequestOutcome,
  REQUESTS_METRIC,
  RESPONSES_METRIC,
} from "./metrics_stats.ts";
export {
  LOG_LEVELS,
  type LogFields,
  type LogLevel,
  type LogRecord,
  parseLogLevel,
} from "./log_record.ts";
export {
  DEFAULT_MAX_FIELD_LENGTH,
  DEFAULT_MAX_FIELDS,
  formatJson,
  formatText,
  type LogFormatLimits,
  type LogFormatter,
  MAX_NAME_LENGTH,
} from "./log_format.ts";
export {
  DEFAULT_LOG_RATE_INTERVAL_MS,
  DEFAULT_LOG_RATE_MAX_EVENTS,
  DEFAULT_LOG_RATE_MAX_TRACKED,
  LogRateLimiter,
  type LogRateLimitOptions,
  OTHER_EVENTS,
  type SuppressedEvents,
} from "./log_rate_limiter.ts";
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  SILENT_LOGGER,
  SUPPRESSED_EVENT,
  type WritingLogger,
} from "./logger.ts";
