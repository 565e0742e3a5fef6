import {
  InMemoryListState,
  InMemoryMapState,
  InMemoryValueState,
  KvStateId,
  KvStateRegistry,
  KvStateServer,
  NetworkClient,
  type QueryableState,
  requestIdOf,
  TYPE_SERIALIZERS,
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
} from "../../mod.ts";
import {
  decodeMessage,
  encodeKvStateInternalRequest,
  encodeKvStateResponse,
  fromHex,
  readJavaThrowable,
  serializeKeyAndNamespace,
  toHex,
} from "../../src/wire/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import {
  capturedServerStates,
  delay,
  RawPeer,
  TRANSPORTS,
  withoutStackFrames,
} from "../_harness.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";

const S = TYPE_SERIALIZERS;
const kn = (key: string) => serializeKeyAndNamespace(key, S.string);

function throwableOf(frame: Uint8Array) {
  const m = decodeMessage(frame.subarray(4));
  return { type: m.type, id: m.type === 3 ? undefined : m.requestId, t: readJavaThrowable(m.body) };
}

async function withServer(
  transportName: string,
  make: () => import("../../mod.ts").Transport,
  fn: (server: KvStateServer, transport: import("../../mod.ts").Transport) => Promise<void>,
  options: ConstructorParameters<typeof KvStateServer>[0] = {},
) {
  const transport = make();
  const server = new KvStateServer({ transport, ...options });
  try {
    await server.start();
    await fn(server, transport);
  } finally {
    await server.close();
  }
  assert(transportName.length > 0);
}

for (const tc of TRANSPORTS) {
  vectorTest(
    `KvStateServer [${tc.name}]: answers Flink's captured requests as Flink's server did`,
    async () => {
      const captured = entries("capturedFrame").filter((e) =>
        e.capturedFrom === "KvStateServerImpl"
      );
      assert(captured.length >= 10);
      await withServer(tc.name, tc.make, async (server, transport) => {
        for (const [hex, state] of capturedServerStates()) {
          server.registry.register(state, KvStateId.fromHex(hex));
        }
        // server-10 has two responses for one pair of requests: group by request.
        const byRequest = new Map<string, Uint8Array[]>();
        for (const e of captured) {
          const key = e.requestFramesHex.join("|");
          byRequest.set(key, [...(byRequest.get(key) ?? []), readVector(e.file)]);
        }
        for (const [reqs, expected] of byRequest) {
          const peer = await RawPeer.connect(transport, server.address);
          await peer.send(...reqs.split("|").map(fromHex));
          const got = await peer.frames(expected.length);
          const sortKey = (f: Uint8Array) => toHex(f.subarray(12, 20));
          got.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
          expected.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
          for (let i = 0; i < expected.length; i++) {
            const want = decodeMessage(expected[i].subarray(4));
            if (want.type === 1) {
              assertEquals(toHex(got[i]), toHex(expected[i]), `result for ${reqs}`);
            } else {
              const a = throwableOf(got[i]);
              const b = throwableOf(expected[i]);
              assertEquals(a.type, b.type, reqs);
              assertEquals(a.id, b.id, reqs);
              assertEquals(a.t.className, b.t.className, reqs);
              // Netty's IndexOutOfBoundsException text names its buffer classes: compare the class only.
              const netty = (m: string) =>
                m.replace(/IndexOutOfBoundsException: [^\n]*/, "IndexOutOfBoundsException: …");
              assertEquals(
                netty(a.t.message ?? ""),
                netty(withoutStackFrames(b.t.message ?? "")),
                reqs,
              );
            }
          }
          await peer.close();
        }
      });
    },
  );

  Deno.test(`KvStateServer [${tc.name}]: value, list and map states; unknown id and key`, async () => {
    await withServer(tc.name, tc.make, async (server, transport) => {
      const v = server.registry.register(new InMemoryValueState(S.string, S.long).set("a", -5n));
      const l = server.registry.register(new InMemoryListState(S.int, S.string).set(1, ["x", "é"]));
      const m = server.registry.register(
        new InMemoryMapState(S.long, S.string, S.int).put(3n, "k", 7).put(3n, "n", null),
      );
      await using client = new NetworkClient({ transport });
      const at = server.address;
      assertEquals(
        toHex(
          await client.sendKvStateInternalRequest(at, {
            kvStateId: v,
            serializedKeyAndNamespace: kn("a"),
          }),
        ),
        "fffffffffffffffb",
      );
      assertEquals(
        toHex(
          await client.sendKvStateInternalRequest(at, {
            kvStateId: l,
            serializedKeyAndNamespace: serializeKeyAndNamespace(1, S.int),
          }),
        ),
        "0278" + "2c" + "02e901",
      );
      assertEquals(
        toHex(
          await client.sendKvStateInternalRequest(at, {
            kvStateId: m,
            serializedKeyAndNamespace: serializeKeyAndNamespace(3n, S.long),
          }),
        ),
        "026b" + "00" + "00000007" + "026e" + "01",
      );
      const missing = await assertRejects(
        () =>
          client.sendKvStateInternalRequest(at, {
            kvStateId: v,
            serializedKeyAndNamespace: kn("b"),
          }),
        UnknownKeyOrNamespaceError,
      );
      assertEquals(
        missing.message,
        "Queryable State Server : No state for the specified key/namespace.",
      );
      const unknown = KvStateId.fromHex("000102030405060708090a0b0c0d0e0f");
      const e = await assertRejects(
        () =>
          client.sendKvStateInternalRequest(at, {
            kvStateId: unknown,
            serializedKeyAndNamespace: kn("a"),
          }),
        UnknownKvStateIdError,
      );
      assertEquals(
        e.message,
        "Queryable State Server : No registered state with ID 000102030405060708090a0b0c0d0e0f.",
      );
      assertEquals(server.stats.requests, 5);
      assertEquals(server.stats.successfulRequests, 3);
      assertEquals(server.stats.failedRequests, 2);
      assertEquals(server.stats.activeConnections, 1);
      server.registry.unregister(v);
      await assertRejects(
        () =>
          client.sendKvStateInternalRequest(at, {
            kvStateId: v,
            serializedKeyAndNamespace: kn("a"),
          }),
        UnknownKvStateIdError,
      );
    });
  });

  Deno.test(`KvStateServer [${tc.name}]: bad frames answer SERVER_FAILURE and the connection keeps working`, async () => {
    await withServer(tc.name, tc.make, async (server, transport) => {
      const id = server.registry.register(new InMemoryValueState(S.string, S.int).set("k", 1));
      const good = (rid: bigint) =>
        encodeKvStateInternalRequest(rid, { kvStateId: id, serializedKeyAndNamespace: kn("k") });
      const peer = await RawPeer.connect(transport, server.address);
      const badVersion = good(1n);
      badVersion[4] = 0x00;
      const wrongType = encodeKvStateResponse(2n, new Uint8Array([1]));
      const unknownType = good(3n);
      unknownType[11] = 9;
      const truncatedBody = good(4n).slice(0, 30);
      new DataView(truncatedBody.buffer).setInt32(0, 26);
      const negKn = good(5n);
      new DataView(negKn.buffer).setInt32(36, -1);
      const tiny = new Uint8Array([0, 0, 0, 3, 0x79, 0xa1, 0xb7]);
      const empty = new Uint8Array([0, 0, 0, 0]);
      await peer.send(
        badVersion,
        wrongType,
        unknownType,
        truncatedBody,
        negKn,
        tiny,
        empty,
        good(6n),
      );
      const frames = await peer.frames(8);
      const failures = frames.slice(0, 7).map(throwableOf);
      for (const f of failures) assertEquals(f.type, 3);
      assertEquals(failures[0].t.className, "java.lang.RuntimeException");
      assertEquals(
        failures[0].t.message,
        "Failed incoming message. Caused by: java.lang.IllegalStateException: Version Mismatch:  Found 10598160, Expected: 2040641296.\n",
      );
      assertEquals(failures[1].t.className, "java.lang.IllegalArgumentException");
      assertEquals(
        failures[1].t.message,
        "Unexpected message type REQUEST_RESULT. Expected REQUEST.",
      );
      assertEquals(
        failures[2].t.message,
        "Failed incoming message. Caused by: java.lang.IllegalStateException: Illegal message type with index 9.\n",
      );
      assert(
        failures[3].t.message!.startsWith(
          "Failed incoming message. Caused by: java.lang.IndexOutOfBoundsException: ",
        ),
      );
      assertEquals(
        failures[4].t.message,
        "Failed incoming message. Caused by: java.lang.IllegalArgumentException: Negative length for key and namespace. This indicates a serialization error.\n",
      );
      assert(failures[5].t.message!.includes("IndexOutOfBoundsException"));
      assert(failures[6].t.message!.includes("IndexOutOfBoundsException"));
      const last = decodeMessage(frames[7].subarray(4));
      assert(last.type === 1);
      assertEquals(last.requestId, 6n);
      assertEquals(server.stats.requests, 1);
      await peer.close();
    });
  });

  Deno.test(`KvStateServer [${tc.name}]: a lost framing ends that connection only`, async () => {
    await withServer(tc.name, tc.make, async (server, transport) => {
      const id = server.registry.register(new InMemoryValueState(S.string, S.int).set("k", 1));
      const good = encodeKvStateInternalRequest(1n, {
        kvStateId: id,
        serializedKeyAndNamespace: kn("k"),
      });
      const bystander = await RawPeer.connect(transport, server.address);
      for (const prefix of [[0xff, 0xff, 0xff, 0xff], [0x7f, 0xff, 0xff, 0xff]]) {
        const peer = await RawPeer.connect(transport, server.address);
        await peer.send(good, new Uint8Array(prefix), new Uint8Array(100));
        const [ok, failure] = await peer.frames(2);
        assertEquals(decodeMessage(ok.subarray(4)).type, 1);
        const f = throwableOf(failure);
        assertEquals(f.type, 3);
        assert(
          f.t.message!.startsWith(
            "Exception in server pipeline. Caused by: io.netty.handler.codec.",
          ),
        );
        assert(await peer.closedWithin(5000), "the connection is closed");
        await peer.close();
        await bystander.send(good);
        assertEquals(decodeMessage((await bystander.frame())!.subarray(4)).type, 1);
      }
      await bystander.close();
    }, { maxFrameLength: 1 << 20 });
  });

  Deno.test(`KvStateServer [${tc.name}]: garbage input never takes the server down`, async () => {
    await withServer(tc.name, tc.make, async (server, transport) => {
      const id = server.registry.register(new InMemoryValueState(S.string, S.int).set("k", 1));
      let seed = 12345;
      const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
      for (let round = 0; round < 20; round++) {
        const peer = await RawPeer.connect(transport, server.address);
        const junk = new Uint8Array(1 + Math.floor(rnd() * 300));
        for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rnd() * 256);
        // Keep lengths small so that the server answers rather than waits.
        junk[0] = 0;
        await peer.send(junk);
        await peer.close();
      }
      await using client = new NetworkClient({ transport });
      const got = await client.sendKvStateInternalRequest(server.address, {
        kvStateId: id,
        serializedKeyAndNamespace: kn("k"),
      });
      assertEquals(toHex(got), "00000001");
    });
  });

  Deno.test(`KvStateServer [${tc.name}]: thousands of pipelined requests over several connections, every answer matched`, async () => {
    await withServer(tc.name, tc.make, async (server, transport) => {
      const state = new InMemoryValueState(S.int, S.int);
      for (let i = 0; i < 500; i++) state.set(i, i * 3);
      const id = server.registry.register(state);
      const clients = Array.from({ length: 4 }, () => new NetworkClient({ transport }));
      try {
        const jobs: Promise<void>[] = [];
        for (let c = 0; c < clients.length; c++) {
          for (let i = 0; i < 1500; i++) {
            const key = (i * 7 + c) % 600;
            jobs.push(
              clients[c].sendKvStateInternalRequest(server.address, {
                kvStateId: id,
                serializedKeyAndNamespace: serializeKeyAndNamespace(key, S.int),
              }).then(
                (content) => {
                  assert(key < 500, `key ${key} should be missing`);
                  assertEquals(
                    new DataView(content.buffer, content.byteOffset).getInt32(0),
                    key * 3,
                  );
                },
                (err) => {
                  assert(key >= 500, `key ${key}: ${err}`);
                  assertInstanceOf(err, UnknownKeyOrNamespaceError);
                },
              ),
            );
          }
        }
        await Promise.all(jobs);
        assertEquals(server.stats.requests, 6000);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });
  });

  Deno.test(`KvStateServer [${tc.name}]: asynchronous states, deadlines and close with requests in flight`, async () => {
    let calls = 0;
    let abortedSignals = 0;
    const slow: QueryableState = {
      getSerializedValue(knBytes, ctx) {
        calls++;
        const wait = knBytes[1] === 0x68 ? 10 : 100_000; // "h..." answers, others hang
        return new Promise((resolve) => {
          const t = setTimeout(() => resolve(new Uint8Array([9])), wait);
          ctx.signal.addEventListener("abort", () => {
            abortedSignals++;
            clearTimeout(t);
          });
        });
      },
    };
    const transport = tc.make();
    const server = new KvStateServer({ transport, requestTimeoutMs: 200, closeGraceMs: 300 });
    const id = server.registry.register(slow);
    await server.start();
    const client = new NetworkClient({ transport });
    try {
      assertEquals(
        toHex(
          await client.sendKvStateInternalRequest(server.address, {
            kvStateId: id,
            serializedKeyAndNamespace: kn("hi"),
          }),
        ),
        "09",
      );
      const err = await assertRejects(
        () =>
          client.sendKvStateInternalRequest(server.address, {
            kvStateId: id,
            serializedKeyAndNamespace: kn("zz"),
          }),
      );
      assert(
        String((err as Error).message).includes("DeadlineExceededError") ||
          String((err as Error).message).includes("java.util.concurrent.TimeoutException"),
        String(err),
      );
      assertEquals(abortedSignals, 1);
      // Close while one request is in flight: it is answered before the close completes.
      const inFlight = client.sendKvStateInternalRequest(server.address, {
        kvStateId: id,
        serializedKeyAndNamespace: kn("ho"),
      });
      await delay(2);
      await server.close();
      assertEquals(toHex(await inFlight), "09");
      assertEquals(calls, 3);
    } finally {
      await client.close();
      await server.close();
    }
  });
}

for (const tc of TRANSPORTS) {
  Deno.test(`KvStateServer [${tc.name}]: maxInFlightPerConnection bounds the requests running at once`, async () => {
    const started: number[] = [];
    const release: (() => void)[] = [];
    const gated: QueryableState = {
      getSerializedValue(knBytes) {
        started.push(knBytes[1]);
        return new Promise((resolve) => {
          release.push(() => resolve(new Uint8Array([knBytes[1]])));
        });
      },
    };
    const transport = tc.make();
    const server = new KvStateServer({ transport, maxInFlightPerConnection: 3 });
    const id = server.registry.register(gated);
    await server.start();
    const peer = await RawPeer.connect(transport, server.address);
    const other = await RawPeer.connect(transport, server.address);
    try {
      const request = (i: number) =>
        encodeKvStateInternalRequest(BigInt(i), {
          kvStateId: id,
          serializedKeyAndNamespace: kn(String.fromCharCode(0x61 + i)),
        });
      // Ten pipelined requests in one write: three start, the rest wait in the connection.
      await peer.send(...Array.from({ length: 10 }, (_, i) => request(i)));
      const settle = async (n: number) => {
        for (let i = 0; i < 50 && started.length < n; i++) await delay(5);
        await delay(20);
      };
      await settle(3);
      assertEquals(started.length, 3, "three requests run");
      // The bound is per connection: another connection is served meanwhile.
      await other.send(request(20));
      await settle(4);
      assertEquals(started.length, 4, "the other connection's request runs");
      release.splice(3, 1)[0]();
      const answer = await other.frame();
      assertEquals(requestIdOf(answer!.subarray(4)), 20n);
      // Each finished request lets exactly one more start, until all ten are answered.
      const got = new Set<bigint>();
      for (let k = 0; k < 10; k++) {
        release.shift()!();
        const f = await peer.frame();
        assert(f !== null && decodeMessage(f.subarray(4)).type === 1, "a result");
        const rid = requestIdOf(f.subarray(4));
        assertEquals(f[f.length - 1], Number(rid) + 0x61, "the answer of its own request");
        got.add(rid);
        await settle(Math.min(10, 3 + k + 1) + 1);
        assertEquals(started.length, Math.min(10, 3 + k + 1) + 1, `after ${k + 1} answers`);
      }
      assertEquals(got.size, 10);
    } finally {
      await peer.close();
      await other.close();
      await server.close();
    }
  });

  Deno.test(`KvStateServer [${tc.name}]: a slow reader does not make the server buffer without bound`, async () => {
    const transport = tc.make();
    const big = new Uint8Array(64 * 1024).fill(7);
    const server = new KvStateServer({ transport, maxInFlightPerConnection: 8 });
    const id = server.registry.register({ getSerializedValue: () => big });
    await server.start();
    const peer = await RawPeer.connect(transport, server.address);
    try {
      // 20,000 requests ask for 1.25 GiB of responses; the reader takes none for a while.
      const n = 20_000;
      const one = (i: number) =>
        encodeKvStateInternalRequest(BigInt(i), {
          kvStateId: id,
          serializedKeyAndNamespace: kn("k"),
        });
      const before = Deno.memoryUsage();
      let sent = 0;
      const sending = (async () => {
        for (; sent < n; sent += 100) {
          await peer.send(...Array.from({ length: 100 }, (_, k) => one(sent + k)));
        }
      })().catch(() => {});
      await delay(400);
      const during = Deno.memoryUsage();
      const grown = Math.max(0, during.rss - before.rss) +
        Math.max(0, during.external - before.external);
      assert(grown < 96 * 1024 * 1024, `memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
      // The stream is intact: the first answers arrive in order of completion, each whole.
      for (let i = 0; i < 50; i++) {
        const f = await peer.frame();
        assert(f !== null && f.length === 24 + big.length);
      }
      // The reader vanishes with thousands of answers pending: the server copes.
      await peer.close();
      await sending;
      const other = await RawPeer.connect(transport, server.address);
      await other.send(one(1));
      const f = await other.frame();
      assert(f !== null && decodeMessage(f.subarray(4)).type === 1);
      await other.close();
    } finally {
      await peer.close().catch(() => {});
      await server.close();
    }
  });
}

Deno.test("KvStateServer: maxConnections closes extra connections; registry rejects duplicate ids", async () => {
  const { MemoryTransport } = await import("../../mod.ts");
  const transport = new MemoryTransport();
  await using server = new KvStateServer({ transport, maxConnections: 1 });
  await server.start();
  const a = await RawPeer.connect(transport, server.address);
  await delay(5);
  const b = await RawPeer.connect(transport, server.address);
  assert(await b.closedWithin(2000), "the second connection is closed");
  await a.close();
  await b.close();
  const registry = new KvStateRegistry();
  const id = registry.register({ getSerializedValue: () => null });
  let threw = false;
  try {
    registry.register({ getSerializedValue: () => null }, id);
  } catch {
    threw = true;
  }
  assert(threw);
});

Deno.test("KvStateServer: deadlines and close also cover requests served through requestStream()", async () => {
  const { FrameDecoderStream, FrameEncoderStream } = await import("../../src/streams/mod.ts");
  const { memoryConnectionPair } = await import("../../mod.ts");
  const server = new KvStateServer({ requestTimeoutMs: 50 });
  const id = server.registry.register({ getSerializedValue: () => new Promise(() => {}) });
  const [a, b] = memoryConnectionPair();
  const served = b.readable.pipeThrough(new FrameDecoderStream()).pipeThrough(
    server.requestStream(),
  )
    .pipeThrough(new FrameEncoderStream()).pipeTo(b.writable).catch(() => {});
  const peer = RawPeer.wrap(a);
  await peer.send(
    encodeKvStateInternalRequest(3n, { kvStateId: id, serializedKeyAndNamespace: kn("k") }),
  );
  const f = throwableOf((await peer.frame())!);
  assertEquals(f.type, 2);
  assertEquals(f.id, 3n);
  assert(f.t.message!.includes("did not complete within 50 ms"), f.t.message!);
  await peer.send(
    encodeKvStateInternalRequest(4n, { kvStateId: id, serializedKeyAndNamespace: kn("k") }),
  );
  await delay(5);
  await server.close();
  const g = throwableOf((await peer.frame())!);
  assertEquals(g.id, 4n);
  assert(g.t.message!.includes("Queryable State Server is already shut down."), g.t.message!);
  await peer.close();
  await b.close();
  await served;
});
