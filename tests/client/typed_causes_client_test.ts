/**
 * Typed causes through `QueryableStateClient`: an unknown state or job
 * behind a proxy (ours, or Flink's captured answers replayed by a fake
 * proxy) rejects with its typed error (`UnknownKvStateLocationError`,
 * `UnknownLocationError`, `FlinkJobNotFoundError`), the proxy's
 * `RuntimeException` kept as its `cause`. `getKvStateIfPresent` still
 * resolves `undefined` only for a cause-less `UnknownKeyOrNamespaceException`.
 */

import {
  FlinkJobNotFoundError,
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  MemoryTransport,
  QueryableStateClient,
  RemoteError,
  serializedThrowableOf,
  surfacedFrom,
  toJavaThrowable,
  type Transport,
  TYPE_SERIALIZERS as T,
  UnknownKeyOrNamespaceError,
  UnknownKvStateLocationError,
  UnknownLocationError,
} from "../../mod.ts";
import { encodeRequestFailure, javaThrowable, writeJavaThrowable } from "../../src/wire/mod.ts";
import { requestIdOf } from "../../src/server/result_frame.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { FakeServer } from "../_harness.ts";
import { readVector, vectorTest } from "../_vectors.ts";

const Q = { keyType: "string", valueType: "long" } as const;
const JOB = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
const KEY = "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";

/** The rejection of `p` (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    const v = await p;
    throw new Error(`resolved with ${String(v)}`);
  } catch (e) {
    return e;
  }
}

/** Asserts the proxy's RuntimeException is kept as the cause of a typed error. */
function assertWrapped(e: unknown, causeText: string): RemoteError {
  const remote = surfacedFrom(e);
  assertInstanceOf(remote, RemoteError);
  assert((e as Error).cause === remote, "the remote error is the cause");
  assertEquals(remote.javaClassName, "java.lang.RuntimeException");
  assert(/^Failed request \d+\.\n Caused by: /.test(remote.message), remote.message);
  assert(remote.message.includes(`Caused by: ${causeText}`), remote.message);
  assert(toJavaThrowable(e) === remote.throwable, "the throwable as received");
  assert(serializedThrowableOf(e) !== undefined, "the bytes received stay attached");
  return remote;
}

/** Our state server, proxy and client on one MemoryTransport. */
async function ourPlane(transport: Transport) {
  const server = new KvStateServer({ transport, host: "127.0.0.1", port: 0 });
  const kvStateId = server.registry.register(new InMemoryValueState(T.string, T.long).set("a", 1n));
  const address = await server.start();
  const locations = new InMemoryLocationRegistry();
  locations.notifyKvStateRegistered({
    jobId: JOB,
    jobVertexId: JobVertexId.random(),
    registrationName: "counts",
    numKeyGroups: 128,
    start: 0,
    end: 127,
    kvStateId,
    address,
  });
  const proxy = new KvStateClientProxy({ transport, host: "127.0.0.1", port: 0 });
  proxy.updateKvStateLocationOracle(JOB, locations);
  const client = new QueryableStateClient({ transport, proxy: await proxy.start() });
  return {
    client,
    proxy,
    async close() {
      await client.close();
      await proxy.close();
      await server.close();
    },
  };
}

Deno.test("typed causes through our proxy: unknown state, unknown job, job not found; the RuntimeException kept", async () => {
  const plane = await ourPlane(new MemoryTransport());
  try {
    const c = plane.client;
    assertEquals(await c.getKvState(JOB, "counts", "a", Q), 1n);

    const noState = await rejection(c.getKvState(JOB, "no-such-state", "a", Q));
    assertInstanceOf(noState, UnknownKvStateLocationError);
    assertEquals(
      noState.message,
      "No KvStateLocation found for KvState instance with name 'no-such-state'.",
    );
    assertEquals(noState.javaClassName, "org.apache.flink.runtime.query.UnknownKvStateLocation");
    assertWrapped(
      noState,
      "org.apache.flink.runtime.query.UnknownKvStateLocation: No KvStateLocation",
    );

    const otherJob = JobId.fromHex("ff".repeat(16));
    const noJob = await rejection(c.getKvState(otherJob, "counts", "a", Q));
    assertInstanceOf(noJob, UnknownLocationError);
    assertEquals(
      noJob.message,
      `Could not retrieve location of state=counts of job=${"ff".repeat(16)}. ` +
        "Potential reasons are: i) the state is not ready, or ii) the job does not exist.",
    );
    assertWrapped(noJob, "org.apache.flink.queryablestate.exceptions.UnknownLocationException: ");

    plane.proxy.updateKvStateLocationOracle(JOB, {
      requestKvStateLocation: () => Promise.reject(FlinkJobNotFoundError.forJob(JOB.toString())),
    });
    const notFound = await rejection(c.getKvState(JOB, "counts", "a", Q));
    assertInstanceOf(notFound, FlinkJobNotFoundError);
    assertEquals(notFound.message, `Could not find Flink job (${JOB.toString()})`);
    assertWrapped(notFound, "org.apache.flink.runtime.messages.FlinkJobNotFoundException: ");
  } finally {
    await plane.close();
  }
});

Deno.test("typed causes through our proxy: getKvStateIfPresent rejects an unknown state or job, resolves undefined for an absent key", async () => {
  const plane = await ourPlane(new MemoryTransport());
  try {
    const c = plane.client;
    assertEquals(await c.getKvStateIfPresent(JOB, "counts", "absent", Q), undefined);
    assertEquals(await c.getKvStateIfPresent(JOB, "counts", "a", Q), 1n);
    const noState = await rejection(c.getKvStateIfPresent(JOB, "no-such-state", "a", Q));
    assertInstanceOf(noState, UnknownKvStateLocationError);
    assertWrapped(noState, "org.apache.flink.runtime.query.UnknownKvStateLocation: ");
    const noJob = await rejection(
      c.getKvStateIfPresent(JobId.fromHex("ee".repeat(16)), "counts", "a", Q),
    );
    assertInstanceOf(noJob, UnknownLocationError);
    const bytes = await rejection(
      c.getKvStateBytesIfPresent(JOB, "no-such-state", 0, new Uint8Array([1, 0x2a, 0])),
    );
    assertInstanceOf(bytes, UnknownKvStateLocationError);
  } finally {
    await plane.close();
  }
});

/** A client whose "proxy" is a fake peer answering every request with `body` as a failure. */
async function withFakeProxy(
  bodies: Uint8Array[],
  ask: (client: QueryableStateClient) => Promise<unknown>[],
): Promise<unknown[]> {
  const transport = new MemoryTransport();
  const fake = await FakeServer.start(transport);
  const client = new QueryableStateClient({ transport, proxy: fake.address });
  try {
    const outcomes = ask(client).map((p) =>
      p.then((v) => ({ ok: v }), (e: unknown) => ({ err: e }))
    );
    const peer = await fake.accept();
    const frames = await peer.frames(outcomes.length);
    await peer.send(
      ...frames.map((f, i) => encodeRequestFailure(requestIdOf(f.subarray(4)), bodies[i])),
    );
    return await Promise.all(outcomes);
  } finally {
    await client.close();
    await fake.close();
  }
}

vectorTest(
  "typed causes: Flink's captured proxy failures (unknown state, unknown job) reach the client typed",
  async () => {
    const captured = (name: string) => readVector(`captured/${name}.bin`).subarray(20);
    const noState = captured("proxy-03-unknown-state-name");
    const noJob = captured("proxy-04-unknown-job");
    const got = await withFakeProxy(
      [noState, noJob, noState, noJob],
      (c) => [
        c.getKvState(JOB, "s", "k", Q),
        c.getKvState(JOB, "s", "k", Q),
        c.getKvStateIfPresent(JOB, "s", "k", Q),
        c.getKvStateIfPresent(JOB, "s", "k", Q),
      ],
    );
    for (let i = 0; i < got.length; i++) {
      const g = got[i] as { err?: unknown };
      assert("err" in g, `query ${i}: rejects`);
      if (i % 2 === 0) {
        assertInstanceOf(g.err, UnknownKvStateLocationError);
        assertEquals(
          g.err.message,
          "No KvStateLocation found for KvState instance with name 'no-such-state'.",
        );
        assertWrapped(g.err, "org.apache.flink.runtime.query.UnknownKvStateLocation: ");
        assertEquals(serializedThrowableOf(g.err), noState);
      } else {
        assertInstanceOf(g.err, UnknownLocationError);
        assertWrapped(
          g.err,
          "org.apache.flink.queryablestate.exceptions.UnknownLocationException: ",
        );
        assertEquals(serializedThrowableOf(g.err), noJob);
      }
    }
  },
);

Deno.test("typed causes: a miss only in a wrapper's text is not absent: getKvStateIfPresent rejects with the typed miss", async () => {
  const plain = writeJavaThrowable(
    javaThrowable(KEY, "Queryable State Server : No state for the specified key/namespace."),
  );
  const inText = writeJavaThrowable(
    javaThrowable(
      "java.lang.RuntimeException",
      `Failed request 4.\n Caused by: ${KEY}: Queryable State Server : No state for the specified key/namespace.\n`,
    ),
  );
  const got = await withFakeProxy(
    [plain, inText, inText],
    (c) => [
      c.getKvStateIfPresent(JOB, "s", "k", Q),
      c.getKvStateIfPresent(JOB, "s", "k", Q),
      c.getKvState(JOB, "s", "k", Q),
    ],
  );
  assertEquals(got[0], { ok: undefined }, "a cause-less miss is absent");
  for (const g of got.slice(1) as Array<{ err?: unknown }>) {
    assert("err" in g);
    assertInstanceOf(g.err, UnknownKeyOrNamespaceError);
    assertEquals(
      g.err.message,
      "Queryable State Server : No state for the specified key/namespace.",
    );
    assertWrapped(g.err, KEY);
  }
});
