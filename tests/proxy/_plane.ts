/** An in-process state plane for proxy tests: servers, a location registry and a proxy. */
import {
  InMemoryListState,
  InMemoryLocationRegistry,
  InMemoryMapState,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  type KvStateClientProxyOptions,
  KvStateId,
  KvStateServer,
  type NetAddress,
  QueryableStateClient,
  type Transport,
  TYPE_SERIALIZERS as S,
} from "../../mod.ts";

export const JOB = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");

export class Plane {
  readonly transport: Transport;
  readonly servers: KvStateServer[] = [];
  readonly locations = new InMemoryLocationRegistry();
  readonly vertex = JobVertexId.random();
  proxy!: KvStateClientProxy;
  client!: QueryableStateClient;
  lookups = 0;

  constructor(transport: Transport) {
    this.transport = transport;
  }

  static async start(
    transport: Transport,
    proxyOptions: Partial<KvStateClientProxyOptions> = {},
  ): Promise<Plane> {
    const plane = new Plane(transport);
    plane.proxy = new KvStateClientProxy({ transport, retryBackoffMs: 1, ...proxyOptions });
    const counting = {
      requestKvStateLocation: (jobId: JobId, name: string) => {
        plane.lookups++;
        return plane.locations.requestKvStateLocation(jobId, name);
      },
    };
    plane.proxy.updateKvStateLocationOracle(JOB, counting);
    const address = await plane.proxy.start();
    plane.client = new QueryableStateClient({ transport, proxy: address });
    return plane;
  }

  /**
   * A plane serving `states` (name and state) of {@linkcode JOB} from one
   * server, behind the proxy, with its client; `close()` ends them all.
   */
  static async serving(
    transport: Transport,
    states: ReadonlyArray<readonly [string, import("../../mod.ts").QueryableState]>,
    proxyOptions: Partial<KvStateClientProxyOptions> = {},
  ): Promise<Plane> {
    const plane = await Plane.start(transport, proxyOptions);
    const server = await plane.addServer();
    for (const [name, state] of states) plane.register(name, server, state);
    return plane;
  }

  async addServer(): Promise<KvStateServer> {
    const server = new KvStateServer({ transport: this.transport });
    await server.start();
    this.servers.push(server);
    return server;
  }

  register(
    name: string,
    server: KvStateServer,
    state: import("../../mod.ts").QueryableState,
    range: [number, number] = [0, 127],
    numKeyGroups = 128,
    kvStateId: KvStateId = KvStateId.random(),
  ): KvStateId {
    server.registry.register(state, kvStateId);
    this.locations.notifyKvStateRegistered({
      jobId: JOB,
      jobVertexId: this.vertex,
      registrationName: name,
      numKeyGroups,
      start: range[0],
      end: range[1],
      kvStateId,
      address: server.address,
    });
    return kvStateId;
  }

  /** A standard data set: value (string keys), list (int keys), map (long keys). */
  async standard(): Promise<KvStateServer> {
    const server = await this.addServer();
    this.register(
      "word-counts",
      server,
      new InMemoryValueState(S.string, S.long).set("hello", 42n).set("wörld", -7n),
    );
    this.register(
      "events",
      server,
      new InMemoryListState(S.int, S.string).set(1, ["a", "b", "c"]).set(2, []),
    );
    this.register(
      "prefs",
      server,
      new InMemoryMapState(S.long, S.string, S.double).put(9n, "x", 0.5).put(9n, "y", null),
    );
    return server;
  }

  get proxyAddress(): NetAddress {
    return this.proxy.address;
  }

  async close(): Promise<void> {
    await this.client.close();
    await this.proxy.close();
    await Promise.all(this.servers.map((s) => s.close()));
  }
}
