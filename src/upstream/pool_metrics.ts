/**
 * A proxy pool's members as metrics: read from {@linkcode ProxyPool.members}
 * at each rendering of a registry.
 *
 * @module
 */

import type { MetricsRegistry } from "../observability/registry.ts";
import type { ProxyPool } from "./proxy_pool.ts";

/** Members of a pool by state (`up`, `down`, `draining`): gauge, labels `pool` and `state`. */
export const POOL_MEMBERS_METRIC = "qs_upstream_members";
/** Whether a member is up (1) or not (0; also once it left the pool): gauge, labels `pool` and `member`. */
export const POOL_MEMBER_UP_METRIC = "qs_upstream_member_up";
/** Requests in flight on a member (0 once it left): gauge, labels `pool` and `member`. */
export const POOL_MEMBER_OUTSTANDING_METRIC = "qs_upstream_member_outstanding";
/** Requests sent to a member (each attempt): counter, labels `pool` and `member`. */
export const POOL_MEMBER_REQUESTS_METRIC = "qs_upstream_member_requests_total";
/** Requests sent to a member that got no answer from it: counter, labels `pool` and `member`. */
export const POOL_MEMBER_FAILURES_METRIC = "qs_upstream_member_failures_total";
/** Requests that failed on a member and went to another: counter, labels `pool` and `member`. */
export const POOL_MEMBER_FAILOVERS_METRIC = "qs_upstream_member_failovers_total";

/**
 * Records a pool's members in a registry, read at each rendering: the count
 * of members by state ({@linkcode POOL_MEMBERS_METRIC}), and per member
 * (label `member`, its `host:port`) whether it is up, its requests in
 * flight, and the counters of {@linkcode PoolMemberSnapshot}: requests,
 * failures, failovers (each counter advanced by what the member's count grew
 * since the last rendering). Every series carries `pool` (the pool's name).
 * A member's series stay once it left (a registry keeps its series), its
 * gauges at 0; the registry's bound on label sets (default 100 per metric)
 * applies, and a pool has at most `maxMembers` (default 64) at once.
 *
 * @example
 * ```ts
 * import { MemoryTransport, ProxyPool } from "@kvstate/queryable-state";
 * import { MetricsRegistry, renderPrometheus } from "@kvstate/queryable-state/observability";
 * import { addProxyPoolMetrics } from "./pool_metrics.ts";
 *
 * const registry = new MetricsRegistry();
 * await using pool = new ProxyPool({ transport: new MemoryTransport(), members: "tm-1,tm-2" });
 * const stop = addProxyPoolMetrics(registry, pool);
 * const text = renderPrometheus(registry);
 * text.includes('qs_upstream_members{pool="Queryable State Proxy Pool",state="up"} 2\n'); // => true
 * text.includes('qs_upstream_member_up{pool="Queryable State Proxy Pool",member="tm-1:9069"} 1\n'); // => true
 * stop(); // the pool is no longer read
 * ```
 *
 * @param registry The registry.
 * @param pool The pool.
 * @returns Removes the collector (the series stay as they are).
 */
export function addProxyPoolMetrics(registry: MetricsRegistry, pool: ProxyPool): () => void {
  const byMember = ["pool", "member"];
  const members = registry.gauge({
    name: POOL_MEMBERS_METRIC,
    help: "Members of the upstream proxy pool, by state (up, down, draining).",
    labelNames: ["pool", "state"],
  });
  const up = registry.gauge({
    name: POOL_MEMBER_UP_METRIC,
    help: "Whether a member of the upstream proxy pool is up (1) or not (0).",
    labelNames: byMember,
  });
  const outstanding = registry.gauge({
    name: POOL_MEMBER_OUTSTANDING_METRIC,
    help: "Requests in flight on a member of the upstream proxy pool.",
    labelNames: byMember,
  });
  const counters = {
    requests: registry.counter({
      name: POOL_MEMBER_REQUESTS_METRIC,
      help: "Requests sent to a member of the upstream proxy pool (each attempt).",
      labelNames: byMember,
    }),
    failures: registry.counter({
      name: POOL_MEMBER_FAILURES_METRIC,
      help: "Requests sent to a member of the upstream proxy pool that got no answer from it.",
      labelNames: byMember,
    }),
    failovers: registry.counter({
      name: POOL_MEMBER_FAILOVERS_METRIC,
      help: "Requests that failed on a member of the upstream proxy pool and went to another.",
      labelNames: byMember,
    }),
  };
  const name = pool.name;
  /** The counts seen at the last rendering, of the members present then. */
  let seen = new Map<string, { requests: number; failures: number; failovers: number }>();
  return registry.addCollector(() => {
    const now = pool.members;
    const next = new Map<string, { requests: number; failures: number; failovers: number }>();
    let upCount = 0;
    let downCount = 0;
    let drainingCount = 0;
    for (const m of now) {
      if (m.draining) drainingCount++;
      else if (m.up) upCount++;
      else downCount++;
      const labels = { pool: name, member: m.address };
      up.labels(labels).set(m.up && !m.draining ? 1 : 0);
      outstanding.labels(labels).set(m.outstanding);
      const last = seen.get(m.address);
      for (const key of ["requests", "failures", "failovers"] as const) {
        // A member that left and came back counts from 0 again.
        const grew = last === undefined || m[key] < last[key] ? m[key] : m[key] - last[key];
        if (grew > 0) counters[key].labels(labels).inc(grew);
      }
      next.set(m.address, { requests: m.requests, failures: m.failures, failovers: m.failovers });
    }
    for (const address of seen.keys()) {
      if (next.has(address)) continue;
      const labels = { pool: name, member: address };
      up.labels(labels).set(0);
      outstanding.labels(labels).set(0);
    }
    seen = next;
    members.labels({ pool: name, state: "up" }).set(upCount);
    members.labels({ pool: name, state: "down" }).set(downCount);
    members.labels({ pool: name, state: "draining" }).set(drainingCount);
  });
}
