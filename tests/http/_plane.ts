/**
 * An in-process state plane for the gateway tests: a KvStateServer with one
 * state per case, a KvStateClientProxy, a QueryableStateClient, all over one
 * MemoryTransport, and the gateway's handler. `close()` releases the slow
 * state's pending answers and closes everything.
 */

import {
  InMemoryListState,
  InMemoryLocationRegistry,
  InMemoryMapState,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  MemoryTransport,
  QueryableStateClient,
  type Transport,
  TYPE_SERIALIZERS as T,
} from "../../mod.ts";
import {
  createQueryHandler,
  type QueryHandler,
  type QueryHandlerOptions,
} from "../../src/http/mod.ts";

export const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
export const BASE = "http://gateway.test";

export interface Plane {
  readonly client: QueryableStateClient;
  readonly handler: QueryHandler;
  /** Answers of the "slow" state are held until released. */
  releaseSlow(): void;
  /** How many requests the slow state holds. */
  readonly slowHeld: number;
  close(): Promise<void>;
}

export async function startPlane(
  options: Omit<QueryHandlerOptions, "client"> = {},
  transport: Transport = new MemoryTransport(),
): Promise<Plane> {
  const states: Array<[string, unknown]> = [
    [
      "counts",
      new InMemoryValueState(T.string, T.long).set("hello", 42n).set("big", 9007199254740993n).set(
        "min",
        -(1n << 63n),
      ),
    ],
    [
      "doubles",
      new InMemoryValueState(T.string, T.double).set("nan", NaN).set("inf", Infinity).set(
        "neg",
        -Infinity,
      ).set("pi", 3.25),
    ],
    ["floats", new InMemoryValueState(T.int, T.float).set(1, 0.5)],
    ["blobs", new InMemoryValueState(T.long, T.bytes).set(7n, new Uint8Array([0, 1, 2, 255]))],
    ["names", new InMemoryValueState(T.int, T.string).set(1, "one").set(2, null)],
    ["flags", new InMemoryValueState(T.boolean, T.boolean).set(true, false)],
    ["chars", new InMemoryValueState(T.char, T.short).set("x", -300)],
    ["bytekeys", new InMemoryValueState(T.bytes, T.byte).set(new Uint8Array([1, 2, 255]), -5)],
    ["doublekeys", new InMemoryValueState(T.double, T.int).set(NaN, 1).set(1.5, 2)],
    ["lists", new InMemoryListState(T.string, T.long).set("a", [1n, 2n, 9007199254740993n])],
    [
      "maps",
      new InMemoryMapState(T.string, T.string, T.double).set("m", [["x", 1.5], ["y", null], [
        "z",
        NaN,
      ]]),
    ],
  ];
  return await startStatePlane(states, (client) => ({ client, ...options }), transport);
}

/**
 * Serves `states` (name and state) of job {@linkcode JOB}, and a state
 * `slow` whose answers are held until released, from one KvStateServer,
 * behind a KvStateClientProxy and a QueryableStateClient, all over one
 * transport; the handler is made by `makeOptions` (which may wrap the client).
 */
export async function startStatePlane(
  states: ReadonlyArray<readonly [string, unknown]>,
  makeOptions: (client: QueryableStateClient) => QueryHandlerOptions,
  transport: Transport,
): Promise<Plane> {
  const server = new KvStateServer({ transport, host: "127.0.0.1", port: 0 });
  const held: Array<() => void> = [];
  const slow = {
    getSerializedValue: () =>
      new Promise<Uint8Array>((resolve) =>
        held.push(() => resolve(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1])))
      ),
  };
  const address = await server.start();
  const jobId = JobId.fromHex(JOB);
  const locations = new InMemoryLocationRegistry();
  for (const [name, state] of [...states, ["slow", slow] as const]) {
    locations.notifyKvStateRegistered({
      jobId,
      jobVertexId: JobVertexId.random(),
      registrationName: name,
      numKeyGroups: 128,
      start: 0,
      end: 127,
      kvStateId: server.registry.register(state as never),
      address,
    });
  }
  const proxy = new KvStateClientProxy({ transport, host: "127.0.0.1", port: 0 });
  proxy.updateKvStateLocationOracle(jobId, locations);
  const client = new QueryableStateClient({ transport, proxy: await proxy.start() });
  const handler = createQueryHandler(makeOptions(client));
  const releaseSlow = () => {
    for (const r of held.splice(0)) r();
  };
  return {
    client,
    handler,
    releaseSlow,
    get slowHeld() {
      return held.length;
    },
    async close() {
      releaseSlow();
      await client.close();
      await proxy.close();
      await server.close();
    },
  };
}

/** `GET /v1/jobs/{job}/states/{state}?{query}`. */
export function valueUrl(state: string, query: string, job = JOB): string {
  return `${BASE}/v1/jobs/${job}/states/${encodeURIComponent(state)}?${query}`;
}

/** A POST of `body` (JSON-encoded unless a string) to `/v1/query`. */
export function batchRequest(body: unknown, init: RequestInit = {}): Request {
  return new Request(`${BASE}/v1/query`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
    ...init,
  });
}

/** What a test reads of a response: its JSON body is looked into freely. */
// deno-lint-ignore no-explicit-any
type Answer = { status: number; type: string | null; body: any };

/** Status, content type and parsed JSON body of a response. */
export async function read(res: Response): Promise<Answer> {
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    body: text === "" ? null : JSON.parse(text),
  };
}
