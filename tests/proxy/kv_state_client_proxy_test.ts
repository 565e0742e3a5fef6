import {
  ConnectionClosedError,
  DeadlineExceededError,
  FlinkJobNotFoundError,
  InMemoryValueState,
  JobId,
  KvStateClientProxy,
  KvStateId,
  type KvStateLocation,
  KvStateLocationOracleRegistry,
  memoryConnectionPair,
  QueryableStateClient,
  RemoteError,
  TYPE_SERIALIZERS as S,
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
  UnknownKvStateKeyGroupLocationError,
  UnknownKvStateLocationError,
  UnknownLocationError,
} from "../../mod.ts";
import {
  encodeKvStateRequest,
  serializeKeyAndNamespace,
  stringHashCode,
} from "../../src/wire/mod.ts";
import { FrameDecoderStream, FrameEncoderStream } from "../../src/streams/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import { delay, RawPeer, TRANSPORTS } from "../_harness.ts";
import { JOB, Plane } from "./_plane.ts";

for (const tc of TRANSPORTS) {
  Deno.test(`proxy [${tc.name}]: value, list and map states with string, int and long keys`, async () => {
    const plane = await Plane.start(tc.make());
    try {
      await plane.standard();
      const c = plane.client;
      assertEquals(
        await c.getKvState(JOB, "word-counts", "hello", { keyType: "string", valueType: "long" }),
        42n,
      );
      assertEquals(
        await c.getKvState(JOB.toString(), "word-counts", "wörld", {
          keyType: "string",
          valueType: "long",
        }),
        -7n,
      );
      assertEquals(
        await c.getKvState(JOB, "events", 1, {
          keyType: "int",
          valueType: "string",
          stateKind: "list",
        }),
        ["a", "b", "c"],
      );
      assertEquals(
        await c.getKvState(JOB, "events", 2, {
          keyType: "int",
          valueType: "string",
          stateKind: "list",
        }),
        [],
      );
      assertEquals(
        await c.getKvState(JOB, "prefs", 9n, {
          keyType: "long",
          mapKeyType: "string",
          valueType: "double",
          stateKind: "map",
        }),
        [["x", 0.5], ["y", null]],
      );
      assertEquals(plane.lookups, 3, "one lookup per state, then cached");
      assertEquals(plane.proxy.stats.successfulRequests, 5);
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy [${tc.name}]: unknown key, state, job; key group without location; wrong key type`, async () => {
    const plane = await Plane.start(tc.make());
    try {
      const server = await plane.standard();
      const c = plane.client;
      const q = { keyType: "string", valueType: "long" } as const;
      const missing = await assertRejects(
        () => c.getKvState(JOB, "word-counts", "nope", q),
        UnknownKeyOrNamespaceError,
      );
      assertEquals(
        missing.message,
        "Queryable State Server : No state for the specified key/namespace.",
      );

      // Typed by the cause in the text of the proxy's RuntimeException, which is kept as its cause.
      const noStateTyped = await assertRejects(
        () => c.getKvState(JOB, "nope", "hello", q),
        UnknownKvStateLocationError,
      );
      assertEquals(
        noStateTyped.message,
        "No KvStateLocation found for KvState instance with name 'nope'.",
      );
      const noState = noStateTyped.cause as RemoteError;
      assertInstanceOf(noState, RemoteError);
      assertEquals(noState.javaClassName, "java.lang.RuntimeException");
      assert(
        noState.message.endsWith(
          "Caused by: org.apache.flink.runtime.query.UnknownKvStateLocation: No KvStateLocation found for KvState instance with name 'nope'.\n",
        ),
        noState.message,
      );
      assert(/^Failed request \d+\.\n Caused by: /.test(noState.message), noState.message);

      const otherJob = JobId.fromHex("00000000000000050000000000000006");
      const noJobTyped = await assertRejects(
        () => c.getKvState(otherJob, "word-counts", "hello", q),
        UnknownLocationError,
      );
      const noJob = noJobTyped.cause as RemoteError;
      assertInstanceOf(noJob, RemoteError);
      assert(
        noJob.message.endsWith(
          "Caused by: org.apache.flink.queryablestate.exceptions.UnknownLocationException: Could not retrieve location of state=word-counts of job=00000000000000050000000000000006. Potential reasons are: i) the state is not ready, or ii) the job does not exist.\n",
        ),
        noJob.message,
      );

      // Half the key groups only: "hello" is in key group 35 of 128.
      plane.register("half", server, new InMemoryValueState(S.string, S.long).set("hello", 1n), [
        64,
        127,
      ]);
      const lookupsBefore = plane.lookups;
      const noGroup = await assertRejects(
        () => c.getKvState(JOB, "half", "hello", q),
        UnknownKvStateKeyGroupLocationError,
      );
      assertEquals(noGroup.message, "Queryable State Proxy Server : Unknown key-group location.");
      assertEquals(plane.lookups - lookupsBefore, 4, "one lookup and three forced re-lookups");

      const wrongType = await assertRejects(
        () => c.getKvState(JOB, "word-counts", 5, { keyType: "int", valueType: "long" }),
        RemoteError,
      );
      assert(
        wrongType.message.includes(
          "Caused by: java.lang.RuntimeException: Error while processing request with ID",
        ),
        wrongType.message,
      );
      assert(wrongType.message.includes("Unable to deserialize key and namespace"));
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy [${tc.name}]: a server that dies and re-registers elsewhere; requests in flight succeed`, async () => {
    const plane = await Plane.start(tc.make());
    try {
      const first = await plane.addServer();
      const data = () => new InMemoryValueState(S.string, S.long).set("hello", 42n);
      plane.register("word-counts", first, data());
      const q = { keyType: "string", valueType: "long" } as const;
      assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 42n);
      await first.close();
      // Requests sent now meet a closed server; the state comes back elsewhere a little later.
      const inFlight = Array.from(
        { length: 20 },
        () => plane.client.getKvState(JOB, "word-counts", "hello", q),
      );
      await delay(2);
      const second = await plane.addServer();
      plane.register("word-counts", second, data());
      for (const v of await Promise.all(inFlight)) assertEquals(v, 42n);
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy [${tc.name}]: a stale KvStateID is re-looked-up and retried`, async () => {
    const plane = await Plane.start(tc.make());
    try {
      const server = await plane.addServer();
      const state = new InMemoryValueState(S.string, S.long).set("hello", 1n);
      const oldId = plane.register("word-counts", server, state);
      const q = { keyType: "string", valueType: "long" } as const;
      assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 1n);
      // The state re-registers under a new id (a task restart); the proxy's cache still holds the old one.
      server.registry.unregister(oldId);
      plane.locations.notifyKvStateUnregistered(JOB, "word-counts", 0, 127);
      state.set("hello", 2n);
      plane.register("word-counts", server, state);
      assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 2n);
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy [${tc.name}]: a server that stays down: bounded retries, a clear error, then idle`, async () => {
    const plane = await Plane.start(tc.make(), { retries: 3 });
    try {
      const server = await plane.addServer();
      plane.register("word-counts", server, new InMemoryValueState(S.string, S.long));
      await server.close();
      const before = plane.lookups;
      const err = await assertRejects(
        () =>
          plane.client.getKvState(JOB, "word-counts", "hello", {
            keyType: "string",
            valueType: "long",
          }),
        RemoteError,
      );
      assertEquals(err.javaClassName, "java.lang.RuntimeException");
      assert(err.message.includes("Caused by: java.net.ConnectException: "), err.message);
      assertEquals(plane.lookups - before, 4, "the first lookup and 3 forced re-lookups");
      const settled = plane.lookups;
      await delay(100);
      assertEquals(
        plane.lookups,
        settled,
        "no lookups after the request failed: the proxy is idle",
      );
    } finally {
      await plane.close();
    }
  });

  Deno.test(`proxy [${tc.name}]: 10,000 requests from several clients, every answer matched`, async () => {
    const plane = await Plane.start(tc.make());
    const extra: QueryableStateClient[] = [];
    try {
      const a = await plane.addServer();
      const b = await plane.addServer();
      const state = new InMemoryValueState(S.int, S.long);
      for (let i = 0; i < 1000; i++) state.set(i, BigInt(i) * 1000n);
      // Key groups split over two servers.
      const id = plane.register("numbers", a, state, [0, 63]);
      b.registry.register(state, id);
      plane.locations.notifyKvStateRegistered({
        jobId: JOB,
        jobVertexId: plane.vertex,
        registrationName: "numbers",
        numKeyGroups: 128,
        start: 64,
        end: 127,
        kvStateId: id,
        address: b.address,
      });
      for (let i = 0; i < 3; i++) {
        extra.push(
          new QueryableStateClient({ transport: plane.transport, proxy: plane.proxyAddress }),
        );
      }
      const clients = [plane.client, ...extra];
      const all: Promise<void>[] = [];
      for (let i = 0; i < 10_000; i++) {
        const key = i % 1100;
        const c = clients[i % clients.length];
        all.push(
          c.getKvState(JOB, "numbers", key, { keyType: "int", valueType: "long" }).then(
            (v) => {
              assert(key < 1000);
              assertEquals(v, BigInt(key) * 1000n);
            },
            (e) => {
              assert(key >= 1000, String(e));
              assertInstanceOf(e, UnknownKeyOrNamespaceError);
            },
          ),
        );
      }
      await Promise.all(all);
      assertEquals(plane.proxy.stats.requests, 10_000);
      assert(a.stats.requests > 1000 && b.stats.requests > 1000, "both servers took traffic");
    } finally {
      await Promise.all(extra.map((c) => c.close()));
      await plane.close();
    }
  });
}

Deno.test("proxy: an oracle that fails, hangs, or is swapped mid-flight", async () => {
  const { MemoryTransport } = await import("../../mod.ts");
  const transport = new MemoryTransport();
  const plane = await Plane.start(transport, { lookupTimeoutMs: 100 });
  try {
    await plane.standard();
    const q = { keyType: "string", valueType: "long" } as const;
    // Fails: wrapped, and remembered for the negative TTL only (default 1 s).
    let calls = 0;
    plane.proxy.updateKvStateLocationOracle(JOB, {
      requestKvStateLocation: () => {
        calls++;
        return Promise.reject(new Error("oracle exploded"));
      },
    });
    for (let i = 0; i < 2; i++) {
      const e = await assertRejects(
        () => plane.client.getKvState(JOB, "word-counts", "hello", q),
        RemoteError,
      );
      assert(e.message.includes("java.lang.RuntimeException: oracle exploded"), e.message);
    }
    assertEquals(calls, 1, "a failed lookup is answered from the cache within the negative TTL");
    // Throws synchronously: same.
    plane.proxy.updateKvStateLocationOracle(JOB, {
      requestKvStateLocation: () => {
        throw new Error("sync boom");
      },
    });
    await assertRejects(
      () => plane.client.getKvState(JOB, "word-counts", "hello", q),
      RemoteError,
      "sync boom",
    );
    // Hangs: the lookup deadline fails it, and the hung lookup is not reused.
    let hung = 0;
    let abortedSignals = 0;
    plane.proxy.updateKvStateLocationOracle(JOB, {
      requestKvStateLocation: (_j, _n, signal) => {
        hung++;
        signal?.addEventListener("abort", () => abortedSignals++);
        return new Promise<KvStateLocation>(() => {});
      },
    });
    const h = await assertRejects(
      () => plane.client.getKvState(JOB, "word-counts", "hello", q),
      RemoteError,
    );
    assert(h.message.includes("java.util.concurrent.TimeoutException: Location lookup"), h.message);
    assertEquals(abortedSignals, 1);
    // Swapped mid-flight: a slow lookup on the old oracle completes; the new oracle serves new requests.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    plane.proxy.updateKvStateLocationOracle(JOB, {
      requestKvStateLocation: async (j, n) => {
        await gate;
        return plane.locations.requestKvStateLocation(j, n);
      },
    });
    const slow = plane.client.getKvState(JOB, "word-counts", "hello", q);
    await delay(5);
    plane.proxy.updateKvStateLocationOracle(JOB, plane.locations);
    assertEquals(await plane.client.getKvState(JOB, "word-counts", "hello", q), 42n);
    release();
    assertEquals(await slow, 42n);
    assertEquals(hung, 1);
    // Removed: UnknownLocationException.
    plane.proxy.updateKvStateLocationOracle(JOB, null);
    const removed = await assertRejects(
      () => plane.client.getKvState(JOB, "word-counts", "hello", q),
      UnknownLocationError,
      "Could not retrieve location of state=word-counts",
    );
    assert((removed.cause as RemoteError).message.includes("UnknownLocationException"));
  } finally {
    await plane.close();
  }
});

Deno.test("proxy: location cache: shared lookups, FlinkJobNotFound remembered briefly, update invalidates, default job answers all", async () => {
  const { MemoryTransport } = await import("../../mod.ts");
  const transport = new MemoryTransport();
  const plane = await Plane.start(transport);
  try {
    await plane.standard();
    const q = { keyType: "string", valueType: "long" } as const;
    // Concurrent requests share one lookup.
    plane.lookups = 0;
    plane.proxy.updateKvStateLocationOracle(JOB, {
      requestKvStateLocation: async (j, n) => {
        plane.lookups++;
        await delay(10);
        return plane.locations.requestKvStateLocation(j, n);
      },
    });
    const many = await Promise.all(
      Array.from({ length: 50 }, () => plane.client.getKvState(JOB, "word-counts", "hello", q)),
    );
    assertEquals(many.length, 50);
    assertEquals(plane.lookups, 1);
    await plane.client.getKvState(JOB, "word-counts", "hello", q);
    assertEquals(plane.lookups, 1, "cached");
    // Updating the job's oracle (even with the same one) drops its cached locations.
    plane.proxy.updateKvStateLocationOracle(JOB, plane.proxy.getKvStateLocationOracle(JOB));
    await plane.client.getKvState(JOB, "word-counts", "hello", q);
    assertEquals(plane.lookups, 2, "looked up again after the update");
    // FlinkJobNotFound: like any failed lookup, answered from the cache within the negative TTL.
    let notFound = 0;
    plane.proxy.updateKvStateLocationOracle(JOB, {
      requestKvStateLocation: () => {
        notFound++;
        return Promise.reject(FlinkJobNotFoundError.forJob(JOB.toString()));
      },
    });
    for (let i = 0; i < 2; i++) {
      const typed = await assertRejects(
        () => plane.client.getKvState(JOB, "word-counts", "hello", q),
        FlinkJobNotFoundError,
        "Could not find Flink job (0102030405060708a1a2a3a4a5a6a7a8)",
      );
      const e = typed.cause as RemoteError;
      assertInstanceOf(e, RemoteError);
      assert(
        e.message.includes(
          "org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (0102030405060708a1a2a3a4a5a6a7a8)",
        ),
      );
    }
    assertEquals(notFound, 1);
    // An oracle under the default job id answers for every job.
    const other = JobId.random();
    plane.proxy.updateKvStateLocationOracle(JOB, null);
    plane.proxy.updateKvStateLocationOracle(JobId.DEFAULT, {
      requestKvStateLocation: (_j, n) => plane.locations.requestKvStateLocation(JOB, n),
    });
    assertEquals(await plane.client.getKvState(other, "word-counts", "hello", q), 42n);
    assert(
      plane.proxy.getKvStateLocationOracle(other) === plane.proxy.getKvStateLocationOracle(JOB),
    );
  } finally {
    await plane.close();
  }
});

Deno.test("oracle registry: copy-on-write snapshots", () => {
  const registry = new KvStateLocationOracleRegistry();
  const o1 = { requestKvStateLocation: () => Promise.reject(new Error("1")) };
  const o2 = { requestKvStateLocation: () => Promise.reject(new Error("2")) };
  const a = JobId.random();
  const b = JobId.random();
  registry.update(a, o1);
  const snap = registry.snapshot();
  registry.update(b, o2);
  registry.update(a, null);
  assertEquals([...snap.keys()], [a.toString()], "an old snapshot never changes");
  assertEquals(registry.jobs().map(String), [b.toString()]);
  // Listing while updating is safe: iteration sees one snapshot.
  for (const _ of registry.snapshot()) registry.update(JobId.random(), o1);
  assertEquals(registry.jobs().length, 2);
  assert(registry.get(a) === null);
  registry.update(JobId.DEFAULT, o1);
  assert(registry.get(b) === o1, "the default job's oracle wins");
});

Deno.test("proxy: the forwarding stage serves over an in-memory byte stream pair (no TCP)", async () => {
  const { MemoryTransport } = await import("../../mod.ts");
  const transport = new MemoryTransport();
  const plane = await Plane.start(transport);
  try {
    await plane.standard();
    const [clientSide, proxySide] = memoryConnectionPair();
    const done = proxySide.readable
      .pipeThrough(new FrameDecoderStream())
      .pipeThrough(plane.proxy.forwardingStream())
      .pipeThrough(new FrameEncoderStream())
      .pipeTo(proxySide.writable);
    const peer = RawPeer.wrap(clientSide);
    const kn = serializeKeyAndNamespace("hello", S.string);
    await peer.send(
      encodeKvStateRequest(77n, {
        jobId: JOB,
        stateName: "word-counts",
        keyHashCode: stringHashCode("hello"),
        serializedKeyAndNamespace: kn,
      }),
    );
    const frame = (await peer.frame())!;
    assertEquals(
      Array.from(frame.subarray(12)),
      [0, 0, 0, 0, 0, 0, 0, 77, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 42],
    );
    await peer.close();
    await done.catch(() => {});
    await proxySide.close();
  } finally {
    await plane.close();
  }
});

Deno.test("proxy: close fails pending work and closes its own upstream client", async () => {
  const { MemoryTransport } = await import("../../mod.ts");
  const transport = new MemoryTransport();
  const proxy = new KvStateClientProxy({ transport, closeGraceMs: 50 });
  proxy.updateKvStateLocationOracle(JOB, { requestKvStateLocation: () => new Promise(() => {}) });
  const address = await proxy.start();
  const client = new QueryableStateClient({ transport, proxy: address });
  const pending = client.getKvState(JOB, "x", "y", { keyType: "string", valueType: "long" });
  await delay(5);
  await proxy.close();
  const e = await assertRejects(() => pending);
  assert(e instanceof RemoteError || e instanceof ConnectionClosedError, String(e));
  await client.close();
  await assertRejects(() =>
    proxy.client.sendKvStateInternalRequest(address, {
      kvStateId: KvStateId.random(),
      serializedKeyAndNamespace: new Uint8Array(0),
    })
  );
  assertInstanceOf(new UnknownKvStateIdError("x"), Error);
  assertInstanceOf(UnknownKvStateLocationError.forName("x"), Error);
  assertInstanceOf(new DeadlineExceededError("x"), Error);
});
