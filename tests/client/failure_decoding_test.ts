/**
 * What the client makes of REQUEST_FAILURE answers: each distinct failure
 * body parsed once per connection, every request rejected with a fresh
 * error of the same class, message, cause chain and Java stack as the
 * uncached path, and no JavaScript frames captured for it.
 */

import {
  errorFromJavaThrowable,
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateId,
  KvStateServer,
  MemoryTransport,
  QueryableStateClient,
  QueryableStateError,
  RemoteError,
  serializedThrowableOf,
  toJavaThrowable,
  TYPE_SERIALIZERS,
  UnknownKeyOrNamespaceError,
} from "../../mod.ts";
import {
  decodeMessage,
  encodeRequestFailure,
  javaThrowable,
  readJavaThrowable,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { TRANSPORTS } from "../_harness.ts";
import { HAVE_VECTORS, readVector } from "../_vectors.ts";
import { withClient } from "./_with_client.ts";

/** A JavaScript frame of this project's code in a V8 stack. */
const OUR_JS_FRAME = /\bat .*\/(src|tests)\/.*\.ts:\d/;

const req = (n: number) => ({
  kvStateId: KvStateId.fromHex("0a0b0c0d0e0f10111213141516171819"),
  serializedKeyAndNamespace: new Uint8Array([2, 0x60 + (n & 0x1f), 42, 0]),
});

function requestIdOf(frame: Uint8Array): bigint {
  const m = decodeMessage(frame.subarray(4));
  assert(m.type === 0);
  return m.requestId;
}

/** Flink's own failure bodies when the vectors are there, else ours. */
function failureBodies(): { miss: Uint8Array; other: Uint8Array } {
  if (HAVE_VECTORS) {
    return {
      miss: readVector("throwables/UnknownKeyOrNamespaceException-stack.ser"),
      other: readVector("throwables/IllegalStateException-with-cause-stack.ser"),
    };
  }
  const own = (cls: string, m: string) => writeJavaThrowable(javaThrowable(cls, m));
  return {
    miss: own(
      "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
      "Queryable State Server : No state for the specified key/namespace.",
    ),
    other: own("java.lang.RuntimeException", "Failed request 1."),
  };
}

for (const tc of TRANSPORTS) {
  Deno.test(`client [${tc.name}]: repeated failures are parsed once; each request gets a fresh, equal error`, async () => {
    const transport = tc.make();
    const { miss, other } = failureBodies();
    const n = 40;
    await withClient(transport, { transport }, async (client, fake) => {
      const answers = Array.from(
        { length: n },
        (_, i) =>
          client.sendKvStateInternalRequest(fake.address, req(i)).then(
            () => {
              throw new Error(`request ${i} resolved`);
            },
            (e: unknown) => e,
          ),
      );
      const peer = await fake.accept();
      const frames = await peer.frames(n);
      // Misses and another failure, interleaved, each in a frame of its own.
      await peer.send(
        ...frames.map((f, i) => encodeRequestFailure(requestIdOf(f), i % 4 === 3 ? other : miss)),
      );
      const errors = await Promise.all(answers);
      assertEquals(new Set(errors).size, n, "a fresh error per request");
      const missThrowable = toJavaThrowable(errors[0]);
      const otherThrowable = toJavaThrowable(errors[3]);
      const expectedMiss = errorFromJavaThrowable(readJavaThrowable(miss));
      const expectedOther = errorFromJavaThrowable(readJavaThrowable(other));
      for (let i = 0; i < n; i++) {
        const e = errors[i];
        assertInstanceOf(e, QueryableStateError);
        const expected = i % 4 === 3 ? expectedOther : expectedMiss;
        assertEquals(e.constructor, expected.constructor, `request ${i}`);
        assertEquals([e.message, e.javaClassName], [expected.message, expected.javaClassName]);
        assertEquals(toJavaThrowable(e), toJavaThrowable(expected), `request ${i}`);
        assertEquals(serializedThrowableOf(e), i % 4 === 3 ? other : miss);
        // One parse per distinct body: the very same (frozen) throwable behind every error.
        assert(
          toJavaThrowable(e) === (i % 4 === 3 ? otherThrowable : missThrowable),
          `request ${i}`,
        );
        assert(!OUR_JS_FRAME.test(e.stack ?? ""), `request ${i}: ${e.stack}`);
        assertEquals(e.stack, expected.stack);
      }
      assertInstanceOf(errors[0], UnknownKeyOrNamespaceError);
      assert(Object.isFrozen(missThrowable));
      if (HAVE_VECTORS) {
        assertInstanceOf(errors[3], RemoteError);
        assertInstanceOf(errors[3].cause, RemoteError, "the cause chain is kept");
        assert(missThrowable.stackTrace.length > 0);
        assert(errors[0].stack!.includes("\n\tat "), "the remote Java frames are the stack");
      }
    });
  });
}

Deno.test("QueryableStateClient: misses through our proxy reject with fresh errors from one parse", async () => {
  const transport = new MemoryTransport();
  await using server = new KvStateServer({ transport });
  const kvStateId = server.registry.register(
    new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set("present", 1n),
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
  await using client = new QueryableStateClient({ transport, proxy: await proxy.start() });
  const query = { keyType: "string", valueType: "long" } as const;
  const errors: unknown[] = [];
  for (let i = 0; i < 20; i++) {
    try {
      await client.getKvState(jobId, "counts", `absent-${i}`, query);
      throw new Error(`absent-${i} resolved`);
    } catch (e) {
      assertInstanceOf(e, UnknownKeyOrNamespaceError);
      errors.push(e);
    }
    assertEquals(await client.getKvState(jobId, "counts", "present", query), 1n);
  }
  assertEquals(new Set(errors).size, 20);
  const first = errors[0] as UnknownKeyOrNamespaceError;
  for (const e of errors as UnknownKeyOrNamespaceError[]) {
    assert(toJavaThrowable(e) === toJavaThrowable(first), "parsed once");
    assertEquals(e.message, "Queryable State Server : No state for the specified key/namespace.");
    assert(!OUR_JS_FRAME.test(e.stack ?? ""), e.stack);
  }
  // A user's changes to one error stay with it.
  first.message = "mine";
  const next = await client.getKvState(jobId, "counts", "absent-x", query).catch((e) => e);
  assertInstanceOf(next, UnknownKeyOrNamespaceError);
  assertEquals(next.message, "Queryable State Server : No state for the specified key/namespace.");
});
