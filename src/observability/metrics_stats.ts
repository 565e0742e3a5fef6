/**
 * The statistics hooks of servers and clients, recorded as metrics.
 *
 * @module
 */

import type { KvStateRequestStats } from "../server/stats.ts";
import type { RequestFailureOutcome } from "../server/request_outcome.ts";
import type { CounterChild } from "./counter.ts";
import type { GaugeChild } from "./gauge.ts";
import { DEFAULT_LATENCY_BUCKETS_MS, type HistogramChild } from "./histogram.ts";
import type { MetricsRegistry } from "./registry.ts";

/** Requests received (server) or sent (client): counter, label `role`. */
export const REQUESTS_METRIC = "qs_requests_total";
/** Responses by outcome: counter, labels `role` and `outcome` (see {@linkcode REQUEST_OUTCOMES}). */
export const RESPONSES_METRIC = "qs_responses_total";
/** Latency of the requests answered with a result, in ms: histogram, label `role`. */
export const REQUEST_DURATION_METRIC = "qs_request_duration_milliseconds";
/** Connections open now: gauge, label `role`. */
export const ACTIVE_CONNECTIONS_METRIC = "qs_connections_active";
/** Connections opened since start: counter, label `role`. */
export const OPENED_CONNECTIONS_METRIC = "qs_connections_opened_total";
/** Exceptions caught by a last-resort guard: counter, label `role`. */
export const INTERNAL_ERRORS_METRIC = "qs_internal_errors_total";
/** Requests refused by a server's request filter: counter, label `role`. */
export const DENIED_REQUESTS_METRIC = "qs_requests_denied_total";

/**
 * The values of the `outcome` label of {@linkcode RESPONSES_METRIC}:
 * `result` (answered with a value), and for failures the reason when the
 * reporter gives one to `reportFailedRequest(outcome)` — `unknown_key`,
 * `unknown_state` (or job), `upstream_failure`, `refused` (by a bound or the
 * request filter), `deadline` — else `failure`. Servers, proxies and the
 * network client give the reason (see `requestFailureOutcome` for the
 * mapping from error classes); a hook called without one counts `failure`.
 *
 * @example
 * ```ts
 * import { REQUEST_OUTCOMES } from "./mod.ts";
 *
 * REQUEST_OUTCOMES.includes("unknown_key"); // => true
 * ```
 */
export const REQUEST_OUTCOMES: readonly RequestOutcome[] = Object.freeze(
  [
    "result",
    "failure",
    "unknown_key",
    "unknown_state",
    "upstream_failure",
    "refused",
    "deadline",
  ] as const,
);

/** One of {@linkcode REQUEST_OUTCOMES}: `result`, or a {@linkcode RequestFailureOutcome}. */
export type RequestOutcome = "result" | RequestFailureOutcome;

/** Options of {@linkcode MetricsStats}. */
export interface MetricsStatsOptions {
  /** Where the metrics are defined (shared by every role of a process). */
  readonly registry: MetricsRegistry;
  /**
   * The value of the `role` label of every series this adapter records,
   * e.g. `server`, `proxy`, `proxy_upstream` (the proxy's own client),
   * `client`. One adapter per role: two with the same role add up.
   */
  readonly role: string;
  /**
   * The bounds of the latency histogram, in ms. Default
   * {@linkcode DEFAULT_LATENCY_BUCKETS_MS}. Every adapter of one registry
   * must use the same.
   */
  readonly latencyBucketsMs?: readonly number[];
}

/**
 * The statistics hooks of a server (`KvStateServer`, `KvStateClientProxy`:
 * their `stats` option) or of a `NetworkClient` (its `stats` option),
 * recorded as metrics in a registry under the `qs_…` names exported here,
 * every series labelled with the adapter's `role`. Each hook is a few
 * counter increments on series resolved once, at construction: no lookup
 * and no allocation per request.
 *
 * What the roles report: a server counts every decoded request, and either a
 * result (with its latency from decode to answer) or a failure (a miss
 * included: it is a failure on the wire, `unknown_key`; a denied request is
 * also counted as denied, and `refused`); a client counts every request
 * written, and a result (latency from send) or a failure: answered, failed
 * by its connection closing (`upstream_failure`), past its deadline or
 * aborted (`deadline`); a request its queue bound refuses before writing it
 * counts as `refused` only (not as a request). A proxy relaying a failure
 * on its fast path counts the outcome classified once per distinct body.
 *
 * @example Feeding a server's statistics to metrics
 * ```ts
 * import {
 *   InMemoryValueState,
 *   KvStateServer,
 *   MemoryTransport,
 *   NetworkClient,
 *   TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state";
 * import { serializeKeyAndNamespace } from "@kvstate/queryable-state/wire";
 * import { MetricsRegistry, MetricsStats, renderPrometheus } from "./mod.ts";
 *
 * const registry = new MetricsRegistry();
 * const transport = new MemoryTransport();
 * await using server = new KvStateServer({
 *   transport,
 *   stats: new MetricsStats({ registry, role: "server" }),
 * });
 * const kvStateId = server.registry.register(
 *   new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.int).set("a", 1),
 * );
 * await using client = new NetworkClient({ transport });
 * await client.sendKvStateInternalRequest(await server.start(), {
 *   kvStateId,
 *   serializedKeyAndNamespace: serializeKeyAndNamespace("a", TYPE_SERIALIZERS.string),
 * });
 * const text = renderPrometheus(registry);
 * text.includes('qs_responses_total{role="server",outcome="result"} 1\n'); // => true
 * text.includes('qs_request_duration_milliseconds_count{role="server"} 1\n'); // => true
 * ```
 */
export class MetricsStats implements KvStateRequestStats {
  readonly #requests: CounterChild;
  readonly #outcomes: Readonly<Record<RequestOutcome, CounterChild>>;
  readonly #latency: HistogramChild;
  readonly #active: GaugeChild;
  readonly #opened: CounterChild;
  readonly #internalErrors: CounterChild;
  readonly #denied: CounterChild;

  /**
   * Defines the metrics in the registry (or finds them) and the series of this role.
   *
   * @param options Registry, role, buckets.
   * @throws {MetricDefinitionError} When the registry holds a clashing metric of one of these names.
   */
  constructor(options: MetricsStatsOptions) {
    const { registry } = options;
    const role = { role: String(options.role) };
    const byRole = ["role"];
    this.#requests = registry.counter({
      name: REQUESTS_METRIC,
      help: "Requests received (server) or sent (client).",
      labelNames: byRole,
    }).labels(role);
    const responses = registry.counter({
      name: RESPONSES_METRIC,
      help: "Requests answered, by outcome (result, or the failure's kind when known).",
      labelNames: ["role", "outcome"],
    });
    const outcomes = {} as Record<RequestOutcome, CounterChild>;
    for (const outcome of REQUEST_OUTCOMES) {
      outcomes[outcome] = responses.labels({ role: role.role, outcome });
    }
    this.#outcomes = outcomes;
    this.#latency = registry.histogram({
      name: REQUEST_DURATION_METRIC,
      help: "Time from receiving (server) or sending (client) a request to its result, in ms.",
      labelNames: byRole,
      buckets: options.latencyBucketsMs ?? DEFAULT_LATENCY_BUCKETS_MS,
    }).labels(role);
    this.#active = registry.gauge({
      name: ACTIVE_CONNECTIONS_METRIC,
      help: "Connections open now.",
      labelNames: byRole,
    }).labels(role);
    this.#opened = registry.counter({
      name: OPENED_CONNECTIONS_METRIC,
      help: "Connections opened since start.",
      labelNames: byRole,
    }).labels(role);
    this.#internalErrors = registry.counter({
      name: INTERNAL_ERRORS_METRIC,
      help: "Exceptions caught by a last-resort guard (a request failed or a connection closed).",
      labelNames: byRole,
    }).labels(role);
    this.#denied = registry.counter({
      name: DENIED_REQUESTS_METRIC,
      help: "Requests refused by the request filter (also counted as failed).",
      labelNames: byRole,
    }).labels(role);
  }

  /** Counts an opened connection. */
  reportActiveConnection(): void {
    this.#active.inc();
    this.#opened.inc();
  }

  /** Counts a closed connection. */
  reportInactiveConnection(): void {
    this.#active.dec();
  }

  /** Counts a request. */
  reportRequest(): void {
    this.#requests.inc();
  }

  /**
   * Counts a result and records its latency in the histogram.
   *
   * @param durationMs The request's latency, in ms.
   */
  reportSuccessfulRequest(durationMs: number): void {
    this.#outcomes.result.inc();
    this.#latency.observe(durationMs);
  }

  /**
   * Counts a failed request.
   *
   * @param outcome Its kind, when the reporter knows it (not in the
   *   `KvStateRequestStats` interface; an unknown value counts as `failure`).
   */
  reportFailedRequest(outcome?: RequestFailureOutcome): void {
    const c = outcome === undefined || (outcome as string) === "result" ||
        !Object.hasOwn(this.#outcomes, outcome)
      ? this.#outcomes.failure
      : this.#outcomes[outcome];
    c.inc();
  }

  /**
   * Counts an exception caught by a last-resort guard.
   *
   * @param _err The exception (not recorded: only counted).
   */
  reportInternalError(_err?: unknown): void {
    this.#internalErrors.inc();
  }

  /** Counts a request refused by the request filter. */
  reportDeniedRequest(): void {
    this.#denied.inc();
  }
}
