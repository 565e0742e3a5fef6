/**
 * The proxy against the frames Flink's real proxy and client produced
 * (../shared/flink-vectors/captured): same inputs, same bytes (stack traces
 * aside, which no non-JVM peer can produce).
 */
import {
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateId,
  KvStateLocation,
  KvStateServer,
  MemoryTransport,
  QueryableStateClient,
  TYPE_SERIALIZERS as S,
} from "../../mod.ts";
import {
  decodeKvStateInternalRequest,
  decodeKvStateRequest,
  decodeMessage,
  encodeKvStateRequest,
  encodeKvStateResponse,
  encodeRequestFailure,
  fromHex,
  javaThrowable,
  readJavaThrowable,
  stringHashCode,
  toHex,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { FakeServer, RawPeer, RawState, withoutStackFrames } from "../_harness.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";

const JOB = JobId.fromHex("01020304050607081112131415161718");

function failure(frame: Uint8Array) {
  const m = decodeMessage(frame.subarray(4));
  return { m, t: readJavaThrowable(m.body) };
}

vectorTest(
  "proxy: answers Flink's captured client requests with the bytes Flink's proxy sent",
  async () => {
    const captured = entries("capturedFrame").filter((e) =>
      e.capturedFrom === "KvStateClientProxyImpl" && e.requestFramesHex
    ).sort((a, b) => a.file.localeCompare(b.file));
    assert(captured.length >= 8);
    const transport = new MemoryTransport();
    const server = new KvStateServer({ transport });
    const proxy = new KvStateClientProxy({ transport, retryBackoffMs: 1 });
    try {
      const address = await server.start();
      // The data Flink's harness served: word-counts (String -> raw bytes) and longs (Long -> raw bytes).
      const words = new Map<string, Uint8Array>([["hello", fromHex("000000000000002a")]]);
      for (const e of captured) {
        if (e.file.includes("non-ascii")) {
          const req = decodeKvStateRequest(
            decodeMessage(fromHex(e.requestFramesHex[0]).subarray(4)).body,
          );
          const key = (await import("../../src/wire/mod.ts")).deserializeKeyAndNamespace(
            req.serializedKeyAndNamespace,
            S.string,
          );
          words.set(key!, fromHex(e.decoded.contentHex));
        }
      }
      const wordsId = KvStateId.random();
      server.registry.register(new RawState(S.string, [...words]), wordsId);
      const longsId = KvStateId.random();
      server.registry.register(new RawState(S.long, [[7n, fromHex("cafebabe")]]), longsId);
      const locations = new Map<string, KvStateLocation>();
      for (const [name, id] of [["word-counts", wordsId], ["longs", longsId]] as const) {
        const loc = new KvStateLocation(JOB, JobVertexId.random(), 128, name);
        loc.registerKvState(0, 127, id, address);
        locations.set(name, loc);
      }
      const { UnknownKvStateLocationError } = await import("../../mod.ts");
      proxy.updateKvStateLocationOracle(JOB, {
        requestKvStateLocation: (_j, name) =>
          locations.has(name)
            ? Promise.resolve(locations.get(name)!)
            : Promise.reject(UnknownKvStateLocationError.forName(name)),
      });
      const peer = await RawPeer.connect(transport, await proxy.start());
      for (const e of captured) {
        await peer.send(fromHex(e.requestFramesHex[0]));
        const got = (await peer.frame())!;
        const want = readVector(e.file);
        const w = decodeMessage(want.subarray(4));
        if (w.type === 1) {
          assertEquals(toHex(got), toHex(want), e.file);
          continue;
        }
        const a = failure(got);
        const b = failure(want);
        assertEquals(a.m.type, b.m.type, e.file);
        if (a.m.type !== 3 && b.m.type !== 3) assertEquals(a.m.requestId, b.m.requestId, e.file);
        assertEquals(a.t.className, b.t.className, e.file);
        assertEquals(a.t.message, withoutStackFrames(b.t.message ?? ""), e.file);
      }
      await peer.close();
    } finally {
      await proxy.close();
      await server.close();
    }
  },
);

vectorTest(
  "proxy: forwards as Flink's proxy does, and relays results and failures (fake state server)",
  async () => {
    const want = (name: string) => readVector(`captured/${name}.bin`);
    const transport = new MemoryTransport();
    const fake = await FakeServer.start(transport);
    const proxy = new KvStateClientProxy({ transport });
    try {
      const kvStateId = KvStateId.fromHex("0a0b0c0d0e0f10111213141516171819");
      const loc = new KvStateLocation(JOB, JobVertexId.random(), 128, "fake");
      loc.registerKvState(0, 127, kvStateId, fake.address);
      proxy.updateKvStateLocationOracle(JOB, {
        requestKvStateLocation: () => Promise.resolve(loc),
      });
      const client = await RawPeer.connect(transport, await proxy.start());
      const ask = (id: bigint, key: string) =>
        client.send(encodeKvStateRequest(id, {
          jobId: JOB,
          stateName: "fake",
          keyHashCode: stringHashCode(key),
          serializedKeyAndNamespace: fromHex(
            key === "hello" ? "0668656c6c6f2a00" : "06616761696e2a00",
          ),
        }));

      await ask(31n, "hello");
      const server = await fake.accept();
      const internal0 = (await server.frame())!;
      assertEquals(
        toHex(internal0),
        toHex(want("proxy-internal-request-0")),
        "first internal request",
      );
      await server.send(encodeKvStateResponse(0n, fromHex("00010203")));
      assertEquals(toHex((await client.frame())!), toHex(want("proxy-11-relayed-result")));

      await ask(32n, "again");
      const internal1 = (await server.frame())!;
      assertEquals(
        toHex(internal1),
        toHex(want("proxy-internal-request-1")),
        "second internal request",
      );
      await server.send(
        encodeRequestFailure(
          1n,
          writeJavaThrowable(
            javaThrowable("java.lang.IllegalStateException", "fake server says no"),
          ),
        ),
      );
      const wrapped = failure((await client.frame())!);
      const expected = failure(want("proxy-12-relayed-non-badrequest-failure"));
      assertEquals(wrapped.t.className, "java.lang.RuntimeException");
      assertEquals(wrapped.t.message, expected.t.message);

      await ask(33n, "again");
      await server.frame();
      const flinkRelay = want("proxy-13-relayed-badrequest-failure");
      const body = decodeMessage(flinkRelay.subarray(4)).body;
      await server.send(encodeRequestFailure(2n, body));
      assertEquals(
        toHex((await client.frame())!),
        toHex(flinkRelay),
        "a bad request is relayed unchanged",
      );

      const iq = decodeKvStateInternalRequest(decodeMessage(internal0.subarray(4)).body);
      assertEquals(iq.kvStateId.toString(), kvStateId.toString());
      await client.close();
    } finally {
      await proxy.close();
      await fake.close();
    }
  },
);

vectorTest("QueryableStateClient: sends exactly the bytes Flink's client sent", async () => {
  const transport = new MemoryTransport();
  const fake = await FakeServer.start(transport);
  const client = new QueryableStateClient({ transport, proxy: fake.address });
  try {
    const q1 = client.getKvState(JOB, "word-counts", "hello", {
      keyType: "string",
      valueType: "long",
    });
    const q2 = client.getKvState(JOB, "longs", 7n, { keyType: "long", valueType: "bytes" });
    const q3 = client.getKvStateBytes(JOB, "", 0, new Uint8Array(0));
    const peer = await fake.accept();
    const frames = await peer.frames(3);
    for (let i = 0; i < 3; i++) {
      assertEquals(
        toHex(frames[i]),
        toHex(readVector(`captured/client-sent-${i}.bin`)),
        `frame ${i}`,
      );
    }
    await peer.send(
      encodeKvStateResponse(2n, new Uint8Array(0)),
      encodeKvStateResponse(0n, fromHex("000000000000002a")),
      encodeKvStateResponse(1n, fromHex("00000002cafe")),
    );
    assertEquals(await q1, 42n);
    assertEquals(toHex(await q2), "cafe");
    assertEquals((await q3).length, 0);
  } finally {
    await client.close();
    await fake.close();
  }
});
