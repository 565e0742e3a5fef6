/**
 * `getKvStateIfPresent` / `getKvStateBytesIfPresent` (and the network
 * client's `sendKvStateRequestIfPresent`): a present key resolves its value,
 * an absent key (`UnknownKeyOrNamespaceException`) resolves `undefined`
 * without any error being built, and every other failure rejects exactly as
 * `getKvState` does.
 */

import {
  InMemoryListState,
  InMemoryLocationRegistry,
  InMemoryMapState,
  InMemoryValueState,
  JavaSerializationError,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateId,
  KvStateServer,
  MemoryTransport,
  type NetAddress,
  NetworkClient,
  QueryableStateClient,
  QueryableStateError,
  RemoteError,
  serializedThrowableOf,
  toJavaThrowable,
  type Transport,
  TYPE_SERIALIZERS,
  UnknownKeyOrNamespaceError,
} from "../../mod.ts";
import {
  decodeMessage,
  encodeKvStateResponse,
  encodeRequestFailure,
  javaThrowable,
  serializeKeyAndNamespace,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { FailureDecoder } from "../../src/wire/failure_decoder.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { FakeServer, TRANSPORTS } from "../_harness.ts";
import { HAVE_VECTORS, readVector } from "../_vectors.ts";

const UNKNOWN_KEY = "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";
const MISS_MESSAGE = "Queryable State Server : No state for the specified key/namespace.";
const string = TYPE_SERIALIZERS.string;
const VALUE = { keyType: "string", valueType: "long" } as const;
const LIST = { keyType: "string", valueType: "int", stateKind: "list" } as const;
const MAP = {
  keyType: "string",
  mapKeyType: "string",
  valueType: "int",
  stateKind: "map",
} as const;

/** Flink's own miss body (with its Java stack) when the vectors are there, else ours. */
function missBody(): Uint8Array {
  return HAVE_VECTORS
    ? readVector("throwables/UnknownKeyOrNamespaceException-stack.ser")
    : writeJavaThrowable(javaThrowable(UNKNOWN_KEY, MISS_MESSAGE));
}

/** Flink's failure with a cause when the vectors are there, else ours. */
function otherBody(): Uint8Array {
  return HAVE_VECTORS
    ? readVector("throwables/IllegalStateException-with-cause-stack.ser")
    : writeJavaThrowable(javaThrowable("java.lang.RuntimeException", "Failed request 1."));
}

/**
 * Counts, while `body` runs, what the client's `FailureDecoder`s do (a spy
 * on the prototype): the decoders of the client's connections are those
 * `decodeUnlessAbsent` is called on (a proxy in the same process decodes
 * with `decode` only, and is not counted); `built` is the errors they built.
 */
async function countingDecoders(
  body: () => Promise<void>,
): Promise<{ decode: number; unlessAbsent: number; nulls: number; built: number }> {
  const proto = FailureDecoder.prototype;
  const decode = proto.decode;
  const unlessAbsent = proto.decodeUnlessAbsent;
  const decodes = new Map<FailureDecoder, number>();
  const counts = { unlessAbsent: 0, nulls: 0 };
  const ours = new Set<FailureDecoder>();
  proto.decode = function (this: FailureDecoder, b: Uint8Array) {
    decodes.set(this, (decodes.get(this) ?? 0) + 1);
    return decode.call(this, b);
  };
  proto.decodeUnlessAbsent = function (this: FailureDecoder, f: Uint8Array, from: number) {
    counts.unlessAbsent++;
    ours.add(this);
    const r = unlessAbsent.call(this, f, from);
    if (r === null) counts.nulls++;
    return r;
  };
  try {
    await body();
  } finally {
    proto.decode = decode;
    proto.decodeUnlessAbsent = unlessAbsent;
  }
  let built = 0;
  let decodeCalls = 0;
  for (const d of ours) {
    built += d.built;
    decodeCalls += decodes.get(d) ?? 0;
  }
  return { decode: decodeCalls, ...counts, built };
}

/** Text without the request numbers in it (the proxy's "Failed request 7.", the server's "ID 7"). */
const unnumbered = <T>(x: T): T =>
  JSON.parse(JSON.stringify(x).replace(/(request|request with ID) \d+/g, "$1 N"));

/** A state whose every lookup fails on the server. */
const broken = {
  getSerializedValue(): Uint8Array {
    throw new Error("the disk is on fire");
  },
};

/**
 * A KvStateServer with value, list and map states (and a broken one, and a
 * registration whose state is gone) behind our proxy, and a client.
 */
async function plane(transport: Transport) {
  const server = new KvStateServer({ transport });
  const values = new InMemoryValueState(string, TYPE_SERIALIZERS.long).set("hello", 42n);
  const lists = new InMemoryListState(string, TYPE_SERIALIZERS.int).set("hello", [1, 2, 3]);
  const maps = new InMemoryMapState(string, string, TYPE_SERIALIZERS.int).put("hello", "a", 7)
    .put("hello", "b", null);
  const jobId = JobId.random();
  const locations = new InMemoryLocationRegistry();
  const address = await server.start();
  const gone = server.registry.register(values);
  server.registry.unregister(gone);
  for (
    const [name, kvStateId] of [
      ["counts", server.registry.register(values)],
      ["lists", server.registry.register(lists)],
      ["maps", server.registry.register(maps)],
      ["broken", server.registry.register(broken)],
      ["gone", gone],
    ] as const
  ) {
    locations.notifyKvStateRegistered({
      jobId,
      jobVertexId: JobVertexId.random(),
      registrationName: name,
      numKeyGroups: 128,
      start: 0,
      end: 127,
      kvStateId,
      address,
    });
  }
  const proxy = new KvStateClientProxy({ transport });
  proxy.updateKvStateLocationOracle(jobId, locations);
  const client = new QueryableStateClient({ transport, proxy: await proxy.start() });
  return {
    jobId,
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await proxy.close();
      await server.close();
    },
  };
}

const outcome = (p: Promise<unknown>): Promise<{ ok: unknown } | { err: unknown }> =>
  p.then((ok) => ({ ok }), (err: unknown) => ({ err }));

for (const tc of TRANSPORTS) {
  Deno.test(`getKvStateIfPresent [${tc.name}]: present keys resolve their values, absent keys undefined (value, list, map, bytes), through our proxy and KvStateServer`, async () => {
    await using p = await plane(tc.make());
    const { client, jobId } = p;
    const counts = await countingDecoders(async () => {
      assertEquals(await client.getKvStateIfPresent(jobId, "counts", "hello", VALUE), 42n);
      assertEquals(await client.getKvStateIfPresent(jobId, "counts", "absent", VALUE), undefined);
      assertEquals(await client.getKvStateIfPresent(jobId, "lists", "hello", LIST), [1, 2, 3]);
      assertEquals(await client.getKvStateIfPresent(jobId, "lists", "absent", LIST), undefined);
      assertEquals(await client.getKvStateIfPresent(jobId, "maps", "hello", MAP), [
        ["a", 7],
        ["b", null],
      ]);
      assertEquals(await client.getKvStateIfPresent(jobId, "maps", "absent", MAP), undefined);
      // By job id text too.
      assertEquals(
        await client.getKvStateIfPresent(jobId.toString(), "counts", "x", VALUE),
        undefined,
      );
      const bytes = (key: string) =>
        client.getKvStateBytesIfPresent(
          jobId,
          "counts",
          string.hashCode(key),
          serializeKeyAndNamespace(key, string),
        );
      assertEquals(await bytes("hello"), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 42]));
      assertEquals(await bytes("absent"), undefined);
    });
    // Five misses told from the decoder's memo; not one error built.
    assertEquals(counts, { decode: 0, unlessAbsent: 5, nulls: 5, built: 0 });
    // The same misses still reject through getKvState.
    const miss = await outcome(client.getKvState(jobId, "counts", "absent", VALUE));
    assert("err" in miss);
    assertInstanceOf(miss.err, UnknownKeyOrNamespaceError);
    assertEquals(miss.err.message, MISS_MESSAGE);
  });

  Deno.test(`getKvStateIfPresent [${tc.name}]: every other failure rejects with the same error as getKvState`, async () => {
    await using p = await plane(tc.make());
    const { client, jobId } = p;
    const cases: [string, JobId, string][] = [
      ["unknown state name", jobId, "nope"],
      ["unknown job", JobId.random(), "counts"],
      ["state gone from the server (unknown KvStateID)", jobId, "gone"],
      ["the state fails on the server", jobId, "broken"],
    ];
    for (const [what, job, name] of cases) {
      const plain = await outcome(client.getKvState(job, name, "hello", VALUE));
      const present = await outcome(client.getKvStateIfPresent(job, name, "hello", VALUE));
      const bytes = await outcome(
        client.getKvStateBytesIfPresent(
          job,
          name,
          string.hashCode("hello"),
          serializeKeyAndNamespace("hello", string),
        ),
      );
      assert("err" in plain, `${what}: getKvState resolved`);
      for (const got of [present, bytes]) {
        assert("err" in got, `${what}: resolved ${JSON.stringify(got)}`);
        const a: unknown = plain.err;
        const b: unknown = got.err;
        assertInstanceOf(a, QueryableStateError);
        assertInstanceOf(b, QueryableStateError);
        assert(!(b instanceof UnknownKeyOrNamespaceError), what);
        assertEquals(b.constructor, a.constructor, what);
        assertEquals(
          [b.name, unnumbered(b.message), b.javaClassName],
          [a.name, unnumbered(a.message), a.javaClassName],
          what,
        );
        assertEquals(unnumbered(toJavaThrowable(b)), unnumbered(toJavaThrowable(a)), what);
      }
    }
  });

  Deno.test(`getKvStateIfPresent [${tc.name}]: hits, misses and failures pipelined on one connection`, async () => {
    await using p = await plane(tc.make());
    const { client, jobId } = p;
    const n = 300;
    const expected: unknown[] = [];
    const counts = await countingDecoders(async () => {
      const answers = Array.from({ length: n }, (_, i) => {
        switch (i % 3) {
          case 0:
            expected.push({ ok: 42n });
            return outcome(client.getKvStateIfPresent(jobId, "counts", "hello", VALUE));
          case 1:
            expected.push({ ok: undefined });
            return outcome(client.getKvStateIfPresent(jobId, "counts", `absent-${i}`, VALUE));
          default:
            expected.push("broken");
            return outcome(client.getKvStateIfPresent(jobId, "broken", "hello", VALUE));
        }
      });
      const got = await Promise.all(answers);
      for (let i = 0; i < n; i++) {
        if (expected[i] === "broken") {
          const g = got[i];
          assert("err" in g, `query ${i}`);
          assertInstanceOf(g.err, RemoteError);
          assert(g.err.message.includes("the disk is on fire"), g.err.message);
        } else assertEquals(got[i], expected[i], `query ${i}`);
      }
    });
    // One error built per failure, none per miss.
    assertEquals(counts, { decode: 0, unlessAbsent: 200, nulls: 100, built: 100 });
  });
}

Deno.test("getKvStateIfPresent: a fresh client's first miss is parsed, later ones are a byte comparison", async () => {
  const transport = new MemoryTransport();
  await using p = await plane(transport);
  const { client, jobId } = p;
  const seen = new Set<FailureDecoder>();
  const parse = FailureDecoder.prototype.decodeUnlessAbsent;
  FailureDecoder.prototype.decodeUnlessAbsent = function (this: FailureDecoder, f, from) {
    seen.add(this);
    return parse.call(this, f, from);
  };
  try {
    for (let i = 0; i < 20; i++) {
      assertEquals(await client.getKvStateIfPresent(jobId, "counts", `k${i}`, VALUE), undefined);
    }
  } finally {
    FailureDecoder.prototype.decodeUnlessAbsent = parse;
  }
  assertEquals(seen.size, 1);
  const [d] = seen;
  assertEquals([d.parsed, d.reused, d.absent, d.built], [1, 19, 20, 0]);
});

/** The request id of a request frame (length prefix included). */
function requestIdOf(frame: Uint8Array): bigint {
  const m = decodeMessage(frame.subarray(4));
  assert(m.type === 0);
  return m.requestId;
}

/** A QueryableStateClient whose "proxy" is a fake peer answering as a test says. */
async function withFakeProxy(
  transport: Transport,
  body: (client: QueryableStateClient, fake: FakeServer, address: NetAddress) => Promise<void>,
): Promise<void> {
  const fake = await FakeServer.start(transport);
  const client = new QueryableStateClient({ transport, proxy: fake.address });
  try {
    await body(client, fake, fake.address);
  } finally {
    await client.close();
    await fake.close();
  }
}

for (const tc of TRANSPORTS) {
  Deno.test(`getKvStateIfPresent [${tc.name}]: Flink's own miss body resolves undefined, out of order, mixed with hits and other failures; no error built for a miss`, async () => {
    const transport = tc.make();
    const miss = missBody();
    const other = otherBody();
    const n = 64;
    const counts = await countingDecoders(async () => {
      await withFakeProxy(transport, async (client, fake) => {
        const job = JobId.random();
        const answers = Array.from(
          { length: n },
          (_, i) => outcome(client.getKvStateIfPresent(job, "s", `k${i}`, VALUE)),
        );
        const peer = await fake.accept();
        const frames = await peer.frames(n);
        // Answered in reverse order: hit (i % 4 == 0), other failure (i % 4 == 3), else miss.
        const replies = frames.map((f, i) => {
          const id = requestIdOf(f);
          if (i % 4 === 0) {
            return encodeKvStateResponse(id, new Uint8Array([0, 0, 0, 0, 0, 0, 0, i]));
          }
          return encodeRequestFailure(id, i % 4 === 3 ? other : miss);
        }).reverse();
        await peer.send(...replies);
        const got = await Promise.all(answers);
        for (let i = 0; i < n; i++) {
          const g = got[i];
          if (i % 4 === 0) assertEquals(g, { ok: BigInt(i) }, `query ${i}`);
          else if (i % 4 === 3) {
            assert("err" in g, `query ${i}`);
            assertInstanceOf(g.err, QueryableStateError);
            assert(!(g.err instanceof UnknownKeyOrNamespaceError));
            assertEquals(serializedThrowableOf(g.err), other);
            if (HAVE_VECTORS) assertInstanceOf(g.err, RemoteError);
          } else assertEquals(g, { ok: undefined }, `query ${i}`);
        }
      });
    });
    assertEquals(counts, { decode: 0, unlessAbsent: 48, nulls: 32, built: 16 });
  });
}

Deno.test("getKvStateIfPresent: an UnknownKeyOrNamespaceException with a cause is not a plain miss: it rejects as getKvState does", async () => {
  const transport = new MemoryTransport();
  const wrapped = writeJavaThrowable(
    javaThrowable(UNKNOWN_KEY, MISS_MESSAGE, javaThrowable("java.lang.RuntimeException", "lost")),
  );
  await withFakeProxy(transport, async (client, fake) => {
    const job = JobId.random();
    const plain = outcome(client.getKvState(job, "s", "k", VALUE));
    const present = outcome(client.getKvStateIfPresent(job, "s", "k", VALUE));
    const peer = await fake.accept();
    const frames = await peer.frames(2);
    await peer.send(...frames.map((f) => encodeRequestFailure(requestIdOf(f), wrapped)));
    const [a, b] = await Promise.all([plain, present]);
    assert("err" in a && "err" in b);
    assertInstanceOf(a.err, RemoteError);
    assertInstanceOf(b.err, RemoteError);
    assertEquals([b.err.message, b.err.javaClassName], [a.err.message, a.err.javaClassName]);
    assertEquals(b.err.javaClassName, UNKNOWN_KEY);
    assertEquals(toJavaThrowable(b.err), toJavaThrowable(a.err));
  });
});

Deno.test("getKvStateIfPresent: a failure body that does not parse fails the connection, as with getKvState", async () => {
  const transport = new MemoryTransport();
  await withFakeProxy(transport, async (client, fake) => {
    const job = JobId.random();
    const present = outcome(client.getKvStateIfPresent(job, "s", "k", VALUE));
    const plain = outcome(client.getKvState(job, "s", "other", VALUE));
    const peer = await fake.accept();
    const [first] = await peer.frames(2);
    await peer.send(
      encodeRequestFailure(requestIdOf(first), new Uint8Array([0xac, 0xed, 0, 5, 0x99])),
    );
    const [a, b] = await Promise.all([present, plain]);
    assert("err" in a && "err" in b);
    assertInstanceOf(a.err, JavaSerializationError);
    assert(a.err === b.err, "the connection's failure reaches every request on it");
  });
});

Deno.test("getKvStateIfPresent: abort and deadline still reject; bad arguments reject, never throw", async () => {
  const transport = new MemoryTransport();
  await withFakeProxy(transport, async (client, fake) => {
    const job = JobId.random();
    const controller = new AbortController();
    const aborted = outcome(
      client.getKvStateIfPresent(job, "s", "k", {
        ...VALUE,
        signal: controller.signal,
        timeoutMs: 0,
      }),
    );
    const late = outcome(client.getKvStateIfPresent(job, "s", "k", { ...VALUE, timeoutMs: 20 }));
    const peer = await fake.accept();
    await peer.frames(2);
    controller.abort();
    const [a, l] = await Promise.all([aborted, late]);
    assert("err" in a && "err" in l);
    assertEquals((a.err as Error).name, "DeadlineExceededError");
    assertEquals((l.err as Error).name, "DeadlineExceededError");
    let bad: Promise<unknown> | undefined;
    try {
      bad = client.getKvStateIfPresent(job, "s", "k", {
        keyType: "nope" as "string",
        valueType: "long",
      });
    } catch (e) {
      throw new Error(`threw instead of rejecting: ${e}`);
    }
    const b = await outcome(bad);
    assert("err" in b && (b.err as Error).message.includes("nope"));
  });
});

Deno.test("NetworkClient.sendKvStateRequestIfPresent: content or undefined; an internal request still rejects on a miss", async () => {
  const transport = new MemoryTransport();
  await using server = new KvStateServer({ transport });
  const kvStateId = server.registry.register(
    new InMemoryValueState(string, TYPE_SERIALIZERS.long).set("hello", 42n),
  );
  const jobId = JobId.random();
  const locations = new InMemoryLocationRegistry();
  locations.notifyKvStateRegistered({
    jobId,
    jobVertexId: JobVertexId.random(),
    registrationName: "counts",
    numKeyGroups: 128,
    start: 0,
    end: 127,
    kvStateId,
    address: await server.start(),
  });
  await using proxy = new KvStateClientProxy({ transport });
  proxy.updateKvStateLocationOracle(jobId, locations);
  const address = await proxy.start();
  await using client = new NetworkClient({ transport });
  const ask = (key: string) =>
    client.sendKvStateRequestIfPresent(address, {
      jobId,
      stateName: "counts",
      keyHashCode: string.hashCode(key),
      serializedKeyAndNamespace: serializeKeyAndNamespace(key, string),
    });
  assertEquals(await ask("hello"), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 42]));
  assertEquals(await ask("absent"), undefined);
  // Straight to the server, an internal request still rejects on a miss.
  const direct = await outcome(
    client.sendKvStateInternalRequest(server.address, {
      kvStateId,
      serializedKeyAndNamespace: serializeKeyAndNamespace("absent", string),
    }),
  );
  assert("err" in direct);
  assertInstanceOf(direct.err, UnknownKeyOrNamespaceError);
  const unknown = await outcome(
    client.sendKvStateInternalRequest(server.address, {
      kvStateId: KvStateId.random(),
      serializedKeyAndNamespace: serializeKeyAndNamespace("hello", string),
    }),
  );
  assert("err" in unknown);
  assertEquals(
    (unknown.err as QueryableStateError).javaClassName.endsWith("UnknownKvStateIdException"),
    true,
  );
});
