/**
 * Failures counted by outcome (`qs_responses_total{outcome}`) through
 * `MetricsStats`, for each outcome, on the proxy's regular and fast paths
 * and on the network client; the requests-in-flight and oracle-lookup
 * getters; the class → outcome mapping of `requestFailureOutcome`.
 */
import {
  BadRequestError,
  ClosedError,
  ConnectionClosedError,
  DeadlineExceededError,
  FlinkJobNotFoundError,
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  type KvStateLocationOracle,
  KvStateServer,
  MemoryTransport,
  type NetAddress,
  NetworkClient,
  type QueryableState,
  requestFailureOutcome,
  RequestQueueFullError,
  RequestStats,
  TYPE_SERIALIZERS,
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
  UnknownKvStateKeyGroupLocationError,
  UnknownKvStateLocationError,
  UnknownLocationError,
} from "../../mod.ts";
import { serializeKeyAndNamespace } from "../../src/wire/mod.ts";
import { FrameBudgetError } from "../../src/streams/frame_budget.ts";
import {
  MetricsRegistry,
  MetricsStats,
  renderPrometheus,
  REQUEST_OUTCOMES,
  RESPONSES_METRIC,
} from "../../src/observability/mod.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { parsePrometheus, sampleValue } from "./_prometheus_parser.ts";

const S = TYPE_SERIALIZERS;
const kn = (key: string) => serializeKeyAndNamespace(key, S.string);

/** `qs_responses_total` of a role, by outcome (zeros included). */
function outcomes(registry: MetricsRegistry, role: string): Record<string, number> {
  const families = parsePrometheus(renderPrometheus(registry));
  const out: Record<string, number> = {};
  for (const outcome of REQUEST_OUTCOMES) {
    out[outcome] = sampleValue(families, RESPONSES_METRIC, { role, outcome }) ?? -1;
  }
  return out;
}

function zeros(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const outcome of REQUEST_OUTCOMES) out[outcome] = counts[outcome] ?? 0;
  return out;
}

Deno.test("requestFailureOutcome: each error class, upstream or not", () => {
  const cases: [unknown, string, string][] = [
    [new UnknownKeyOrNamespaceError("x"), "unknown_key", "unknown_key"],
    [new UnknownKvStateIdError("x"), "unknown_state", "unknown_state"],
    [new UnknownKvStateKeyGroupLocationError("x"), "unknown_state", "unknown_state"],
    [new UnknownLocationError("x"), "unknown_state", "unknown_state"],
    [new UnknownKvStateLocationError("x"), "unknown_state", "unknown_state"],
    [new FlinkJobNotFoundError("x"), "unknown_state", "unknown_state"],
    [new DeadlineExceededError("x"), "deadline", "deadline"],
    [new RequestQueueFullError("x"), "refused", "refused"],
    [new FrameBudgetError(10, 5), "refused", "refused"],
    [new ClosedError("x"), "failure", "failure"],
    [new BadRequestError("x"), "failure", "upstream_failure"],
    [new ConnectionClosedError("x"), "failure", "upstream_failure"],
    [new Error("x"), "failure", "upstream_failure"],
    [undefined, "failure", "upstream_failure"],
  ];
  for (const [err, local, upstream] of cases) {
    assertEquals(requestFailureOutcome(err), local, String(err));
    assertEquals(requestFailureOutcome(err, true), upstream, String(err));
  }
  // A value whose prototype cannot be read: no class, no throw.
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  assertEquals(requestFailureOutcome(revoked.proxy), "failure");
});

/** A state server, an oracle, and a proxy with metrics in roles `proxy` and `upstream`. */
async function plane(options: { lookupTimeoutMs?: number } = {}) {
  const registry = new MetricsRegistry();
  const transport = new MemoryTransport();
  const server = new KvStateServer({ transport });
  const kvStateId = server.registry.register(
    new InMemoryValueState(S.string, S.long).set("hello", 42n),
  );
  const serverAddress = await server.start();
  const jobId = JobId.random();
  const locations = new InMemoryLocationRegistry();
  for (const name of ["counts", "others"]) {
    locations.notifyKvStateRegistered({
      jobId,
      jobVertexId: JobVertexId.random(),
      registrationName: name,
      numKeyGroups: 128,
      start: 0,
      end: 127,
      kvStateId,
      address: serverAddress,
    });
  }
  const proxy = new KvStateClientProxy({
    transport,
    retries: 0,
    lookupTimeoutMs: options.lookupTimeoutMs,
    stats: new MetricsStats({ registry, role: "proxy" }),
    upstreamOptions: { stats: new MetricsStats({ registry, role: "upstream" }) },
    requestFilter: (d) => d.stateName !== "secret",
  });
  proxy.updateKvStateLocationOracle(jobId, locations);
  const address = await proxy.start();
  const client = new NetworkClient({
    transport,
    stats: new MetricsStats({ registry, role: "client" }),
  });
  const ask = (job: JobId, stateName: string, key: string, timeoutMs?: number) =>
    client.sendKvStateRequest(
      address,
      { jobId: job, stateName, keyHashCode: 0, serializedKeyAndNamespace: kn(key) },
      timeoutMs === undefined ? undefined : { timeoutMs },
    );
  return {
    registry,
    transport,
    server,
    proxy,
    client,
    jobId,
    ask,
    async [Symbol.asyncDispose]() {
      await client.close();
      await proxy.close();
      await server.close();
    },
  };
}

Deno.test("outcomes: a miss counts unknown_key on the regular path, on the fast path parsed, and relayed from the memo", async () => {
  await using p = await plane();
  // Not cached yet: the regular path (lookup, then forward).
  await assertRejects(() => p.ask(p.jobId, "counts", "nobody"), UnknownKeyOrNamespaceError);
  // Cached: the fast path; the first relayed failure is parsed, the next ones
  // are told from the memo by their bytes and relayed as they came.
  for (let i = 0; i < 3; i++) {
    await assertRejects(() => p.ask(p.jobId, "counts", "nobody"), UnknownKeyOrNamespaceError);
  }
  assertEquals((await p.ask(p.jobId, "counts", "hello")).length, 8);
  const expected = zeros({ result: 1, unknown_key: 4 });
  assertEquals(outcomes(p.registry, "proxy"), expected);
  assertEquals(outcomes(p.registry, "upstream"), expected);
  assertEquals(outcomes(p.registry, "client"), expected);
  // The proxy's own counters agree (RequestStats ignores the outcome).
  assertEquals(p.proxy.stats.failedRequests, 4);
  assertEquals(p.proxy.oracleLookups, { started: 1, failed: 0 });
});

Deno.test("outcomes: unknown state and job, refused by the filter, an oracle's failure, a dead state server", async () => {
  await using p = await plane();
  // The oracle knows no such state: unknown_state, a failed lookup.
  await assertRejects(() => p.ask(p.jobId, "nothing", "hello"), UnknownKvStateLocationError);
  // No oracle for the job: unknown_state, no lookup.
  await assertRejects(() => p.ask(JobId.random(), "counts", "hello"), UnknownLocationError);
  // Denied by the request filter: refused.
  await assertRejects(() => p.ask(p.jobId, "secret", "hello"), BadRequestError, "Access denied");
  // An oracle that throws: what no class tells apart is the upstream's failure.
  const broken = JobId.random();
  const throwing: KvStateLocationOracle = {
    requestKvStateLocation: () => Promise.reject(new Error("the job manager is down")),
  };
  p.proxy.updateKvStateLocationOracle(broken, throwing);
  await assertRejects(() => p.ask(broken, "counts", "hello"), Error, "the job manager is down");
  // A location whose state server is gone: the upstream's failure.
  const gone = JobId.random();
  const dead = new InMemoryLocationRegistry();
  const deadServer = new KvStateServer({ transport: p.transport });
  const deadAddress: NetAddress = await deadServer.start();
  await deadServer.close();
  dead.notifyKvStateRegistered({
    jobId: gone,
    jobVertexId: JobVertexId.random(),
    registrationName: "counts",
    numKeyGroups: 1,
    start: 0,
    end: 0,
    kvStateId: p.server.registry.register(new InMemoryValueState(S.string, S.long)),
    address: deadAddress,
  });
  p.proxy.updateKvStateLocationOracle(gone, dead);
  await assertRejects(() => p.ask(gone, "counts", "hello"));

  assertEquals(
    outcomes(p.registry, "proxy"),
    zeros({ unknown_state: 2, refused: 1, upstream_failure: 2 }),
  );
  // The upstream client saw only the request to the dead server: its connection failed.
  assertEquals(outcomes(p.registry, "upstream"), zeros({ upstream_failure: 1 }));
  // The client sees what the proxy answered; the denial is a remote failure to it.
  assertEquals(
    outcomes(p.registry, "client"),
    zeros({ unknown_state: 2, upstream_failure: 3 }),
  );
  // Lookups: the unknown state and the throwing oracle failed; the dead server's location resolved.
  assertEquals(p.proxy.oracleLookups, { started: 3, failed: 2 });
});

Deno.test("outcomes: a client past its deadline counts deadline; so does the proxy when its lookup is past its own", async () => {
  await using p = await plane({ lookupTimeoutMs: 200 });
  const slow = JobId.random();
  const hanging: KvStateLocationOracle = {
    requestKvStateLocation: (_job, _name, signal) =>
      new Promise((_resolve, reject) => {
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
  };
  p.proxy.updateKvStateLocationOracle(slow, hanging);
  // The client gives up first (20 ms); the proxy's lookup fails later (200 ms).
  await assertRejects(() => p.ask(slow, "counts", "hello", 20), DeadlineExceededError);
  assertEquals(outcomes(p.registry, "client"), zeros({ deadline: 1 }));
  assertEquals(p.proxy.requestsInFlight, 1);
  assertEquals(p.proxy.oracleLookups, { started: 1, failed: 0 });
  const until = Date.now() + 3000;
  while (p.proxy.requestsInFlight > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assertEquals(outcomes(p.registry, "proxy"), zeros({ deadline: 1 }));
  assertEquals(p.proxy.oracleLookups, { started: 1, failed: 1 });
});

Deno.test("requestsInFlight: a server's and a client's, while a request waits and after", async () => {
  const transport = new MemoryTransport();
  await using server = new KvStateServer({ transport });
  let answer: ((v: Uint8Array) => void) | undefined;
  const slow: QueryableState = {
    getSerializedValue: () => new Promise<Uint8Array>((resolve) => (answer = resolve)),
  };
  const kvStateId = server.registry.register(slow);
  const address = await server.start();
  const client = new NetworkClient({ transport, stats: new RequestStats() });
  try {
    assertEquals([server.requestsInFlight, client.requestsInFlight], [0, 0]);
    const pending = client.sendKvStateInternalRequest(address, {
      kvStateId,
      serializedKeyAndNamespace: kn("a"),
    });
    const until = Date.now() + 2000;
    while (answer === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
    assert(answer !== undefined, "the state was asked");
    assertEquals([server.requestsInFlight, client.requestsInFlight], [1, 1]);
    answer(new Uint8Array([7]));
    assertEquals(Array.from(await pending), [7]);
    assertEquals([server.requestsInFlight, client.requestsInFlight], [0, 0]);
  } finally {
    await client.close();
  }
});
