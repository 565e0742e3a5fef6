/**
 * The gateway's metrics route, `GET /metrics`: a registry in the Prometheus
 * text exposition format.
 *
 * @module
 */

import type { MetricsRegistry } from "../observability/registry.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../observability/prometheus.ts";
import type { Route } from "./route_table.ts";

/** Options of {@linkcode metricsRoute}. */
export interface MetricsRouteOptions {
  /**
   * Whether `/metrics` answers without the gateway's bearer token (for a
   * scraper that cannot send one). Default `false`: behind the token like
   * the data routes.
   */
  readonly public?: boolean;
}

/**
 * The route `GET /metrics`: every metric of `registry` rendered at each
 * request by `renderPrometheus` (its collectors run first), answered with
 * `PROMETHEUS_CONTENT_TYPE` and `cache-control: no-store`. Give it to
 * `createQueryHandler` through its `routes` option.
 *
 * @example
 * ```ts
 * import { MemoryTransport, QueryableStateClient } from "@kvstate/queryable-state";
 * import { createQueryHandler, metricsRoute } from "@kvstate/queryable-state/http";
 * import { MetricsRegistry } from "@kvstate/queryable-state/observability";
 *
 * const registry = new MetricsRegistry();
 * registry.counter({ name: "app_hits_total", help: "Hits." }).inc();
 * await using client = new QueryableStateClient({
 *   transport: new MemoryTransport(), proxy: "127.0.0.1:9069",
 * });
 * const handler = createQueryHandler({ client, routes: [metricsRoute(registry)] });
 * const res = await handler(new Request("http://localhost/metrics"));
 * res.status; // => 200
 * res.headers.get("content-type"); // => "text/plain; version=0.0.4; charset=utf-8"
 * (await res.text()).includes("app_hits_total 1\n"); // => true
 * ```
 *
 * @param registry The metrics to serve.
 * @param options Whether the route is public (default: behind the token).
 * @returns The route.
 */
export function metricsRoute(registry: MetricsRegistry, options: MetricsRouteOptions = {}): Route {
  return {
    method: "GET",
    path: "/metrics",
    public: options.public ?? false,
    handle: () =>
      new Response(renderPrometheus(registry), {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
      }),
  };
}
