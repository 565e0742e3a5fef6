/**
 * A whole state plane (state server, location registry, proxy, client) with
 * one transport per hop, for the TLS round trips. Runtime-neutral: it runs
 * under Deno (`tls_plane_test.ts`) and under Node (`tests/node/node_tls.node.ts`).
 */

import {
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  QueryableStateClient,
  type Transport,
  TYPE_SERIALIZERS as S,
} from "../../mod.ts";

/** The job the plane serves. */
export const PLANE_JOB: JobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");

/** The transport of each hop. */
export interface PlaneTransports {
  /** The state server's listener. */
  readonly server: Transport;
  /** The proxy's listener (what clients dial). */
  readonly proxy: Transport;
  /** The proxy's client (how it dials state servers). */
  readonly upstream: Transport;
  /** The client's. */
  readonly client: Transport;
}

/** A running plane; `close()` stops all of it. */
export interface TlsPlane {
  readonly client: QueryableStateClient;
  /** Queries `word-counts` for `hello` (42). */
  query(key?: string): Promise<bigint | null>;
  close(): Promise<void>;
}

/**
 * Starts a plane: a state server holding `word-counts` (`hello` -> 42,
 * `world` -> 7), a proxy that finds it through an in-memory registry, and a
 * client of the proxy.
 *
 * @param t The transports.
 * @param retries The proxy's retries (few, so failures come fast).
 * @returns The plane.
 */
export async function startTlsPlane(t: PlaneTransports, retries = 1): Promise<TlsPlane> {
  const server = new KvStateServer({ transport: t.server, host: "127.0.0.1", port: 0 });
  const serverAddress = await server.start();
  const proxy = new KvStateClientProxy({
    transport: t.proxy,
    upstreamTransport: t.upstream,
    host: "127.0.0.1",
    port: 0,
    retries,
    retryBackoffMs: 1,
  });
  let client: QueryableStateClient | undefined;
  try {
    const state = new InMemoryValueState(S.string, S.long).set("hello", 42n).set("world", 7n);
    const kvStateId = server.registry.register(state);
    const locations = new InMemoryLocationRegistry();
    locations.notifyKvStateRegistered({
      jobId: PLANE_JOB,
      jobVertexId: JobVertexId.random(),
      registrationName: "word-counts",
      numKeyGroups: 128,
      start: 0,
      end: 127,
      kvStateId,
      address: serverAddress,
    });
    proxy.updateKvStateLocationOracle(PLANE_JOB, locations);
    const proxyAddress = await proxy.start();
    client = new QueryableStateClient({ transport: t.client, proxy: proxyAddress });
  } catch (e) {
    await proxy.close();
    await server.close();
    throw e;
  }
  const c = client;
  return {
    client: c,
    query: (key = "hello") =>
      c.getKvState(PLANE_JOB, "word-counts", key, {
        keyType: "string",
        valueType: "long",
        timeoutMs: 10_000,
      }) as Promise<bigint | null>,
    async close() {
      await c.close();
      await proxy.close();
      await server.close();
    },
  };
}
