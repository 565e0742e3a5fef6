/**
 * Access control end to end: a request filter on the state server and on the
 * proxy, over every transport. A refused request gets a REQUEST_FAILURE that a
 * Java client reads as Flink's BadRequestException naming the refusal; the
 * refusal is counted; an allowed request is answered as before.
 */
import {
  accessFilter,
  type AccessRequest,
  BadRequestError,
  InMemoryListState,
  InMemoryValueState,
  JobId,
  KvStateId,
  KvStateRegistry,
  KvStateServer,
  parseAccessRules,
  type QueryableStateClient,
  type RequestFilter,
  type Transport,
  TYPE_SERIALIZERS as S,
} from "../../mod.ts";
import {
  BAD_REQUEST_EXCEPTION,
  decodeKvStateResponse,
  decodeMessage,
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  MessageType,
  readJavaThrowable,
  serializeKeyAndNamespace,
  stringHashCode,
  toHex,
} from "../../src/wire/mod.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { delay, RawPeer, TRANSPORTS } from "../_harness.ts";
import { JOB, Plane } from "../proxy/_plane.ts";

const OTHER_JOB = JobId.fromHex("ffffffffffffffffffffffffffffffff");
const kn = (key: string) => serializeKeyAndNamespace(key, S.string);
const STATE_SERVER = "Queryable State Server";
const PROXY = "Queryable State Proxy Server";

/** One answer frame, decoded. */
function answer(frame: Uint8Array) {
  const m = decodeMessage(frame.subarray(4));
  assert(m.type !== MessageType.SERVER_FAILURE, "a refusal fails the request, not the connection");
  const requestId = m.requestId;
  if (m.type === MessageType.REQUEST_FAILURE) {
    const t = readJavaThrowable(m.body);
    return { requestId, ok: false, className: t.className, message: t.message ?? "", body: "" };
  }
  assertEquals(m.type, MessageType.REQUEST_RESULT);
  return {
    requestId,
    ok: true,
    className: "",
    message: "",
    body: toHex(decodeKvStateResponse(m.body)),
  };
}

/** Sends frames on one connection and returns the answers sorted by request id. */
async function exchange(
  transport: Transport,
  at: { hostname: string; port: number },
  frames: Uint8Array[],
) {
  const peer = await RawPeer.connect(transport, at);
  try {
    await peer.send(...frames);
    const got = (await peer.frames(frames.length)).map(answer);
    return got.sort((a, b) => Number(a.requestId - b.requestId));
  } finally {
    await peer.close();
  }
}

/** A refusal: Flink's BadRequestException, from `server`, naming the refusal and the request. */
function assertRefused(a: ReturnType<typeof answer>, requestId: bigint, server: string) {
  assertEquals(a.requestId, requestId, STATE_SERVER);
  assertEquals(a.ok, false, `request ${requestId} should be refused`);
  assertEquals(a.className, BAD_REQUEST_EXCEPTION);
  assert(
    a.message.startsWith(`${server} : Access denied: request ${requestId} `),
    `the message names the refusal: ${a.message}`,
  );
}

/**
 * Through the typed client: "word-counts" of "hello" is 42, "events" of 1 is
 * refused with Flink's BadRequestException from `server`.
 */
async function clientRefusesEvents(
  client: QueryableStateClient,
  server: string,
): Promise<BadRequestError> {
  assertEquals(
    await client.getKvState(JOB, "word-counts", "hello", { keyType: "string", valueType: "long" }),
    42n,
  );
  const e = await assertRejects(
    () =>
      client.getKvState(JOB, "events", 1, {
        keyType: "int",
        valueType: "string",
        stateKind: "list",
      }),
    BadRequestError,
  );
  assertEquals(e.javaClassName, BAD_REQUEST_EXCEPTION);
  assert(e.message.startsWith(`${server} : Access denied: request `), e.message);
  return e;
}

/** A state server with three states: two registered with job and name, one without. */
async function stateServer(transport: Transport, requestFilter?: RequestFilter) {
  const server = new KvStateServer({ transport, requestFilter });
  const counts = server.registry.register(
    new InMemoryValueState(S.string, S.long).set("hello", 42n),
    { jobId: JOB, stateName: "word-counts" },
  );
  const secret = server.registry.register(
    new InMemoryValueState(S.string, S.long).set("hello", 7n),
    { kvStateId: KvStateId.fromHex("5e".repeat(16)), jobId: JOB, stateName: "secret" },
  );
  const anonymous = server.registry.register(
    new InMemoryValueState(S.string, S.long).set("hello", 1n),
  );
  await server.start();
  const internal = (id: bigint, kvStateId: KvStateId) =>
    encodeKvStateInternalRequest(id, { kvStateId, serializedKeyAndNamespace: kn("hello") });
  return { server, counts, secret, anonymous, internal };
}

Deno.test("KvStateRegistry: the call forms, and what a state was registered with", () => {
  const registry = new KvStateRegistry();
  const state = { getSerializedValue: () => null };
  const a = registry.register(state);
  const fixed = KvStateId.fromHex("0a".repeat(16));
  assertEquals(registry.register(state, fixed), fixed);
  const b = registry.register(state, { jobId: JOB, stateName: "s" });
  const c = registry.register(state, { kvStateId: KvStateId.fromHex("0c".repeat(16)), jobId: JOB });
  assertEquals(registry.size, 4);
  assertEquals(registry.registration(a), { kvStateId: a });
  assertEquals(registry.registration(fixed), { kvStateId: fixed });
  const rb = registry.registration(b)!;
  assertEquals([rb.kvStateId?.toString(), rb.jobId?.toString(), rb.stateName], [
    b.toString(),
    JOB.toString(),
    "s",
  ]);
  assert(Object.isFrozen(rb), "the shared description cannot be changed");
  assertEquals(registry.registration(c)?.stateName, undefined);
  assertEquals(c.toString(), "0c".repeat(16));
  assertEquals(registry.get(b), state);
  let threw = false;
  try {
    registry.register(state, { kvStateId: fixed, stateName: "again" });
  } catch (e) {
    threw = e instanceof TypeError && e.message.includes(fixed.toString());
  }
  assert(threw, "a taken id is refused in the options form too");
  assertEquals(registry.registration(fixed), { kvStateId: fixed }, "the first registration stays");
  registry.unregister(b);
  assertEquals(registry.registration(b), undefined);
});

for (const tc of TRANSPORTS) {
  Deno.test(`access control [${tc.name}]: the state server answers what the allow list admits and refuses the rest`, async () => {
    const transport = tc.make();
    const seen: AccessRequest[] = [];
    const allow = accessFilter(parseAccessRules(`job ${JOB}  state word-counts  from 127.0.0.0/8`));
    const s = await stateServer(transport, (r) => {
      seen.push(r);
      return allow(r);
    });
    try {
      const unknown = KvStateId.fromHex("00".repeat(16));
      const got = await exchange(transport, s.server.address, [
        s.internal(1n, s.counts),
        s.internal(2n, s.secret),
        s.internal(3n, s.anonymous),
        s.internal(4n, unknown),
        s.internal(5n, s.counts),
      ]);
      assertEquals(got[0].ok, true);
      assertEquals(got[0].body, "000000000000002a");
      assertRefused(got[1], 2n, STATE_SERVER); // another state name
      assert(
        got[1].message.includes(
          `for job ${JOB} state "secret" (state id ${"5e".repeat(16)}) from `,
        ),
        `the refusal names the registered job and name: ${got[1].message}`,
      );
      assertRefused(got[2], 3n, STATE_SERVER); // registered without job and name: the job rule does not match
      assertRefused(got[3], 4n, STATE_SERVER); // no such state: refused before the registry is asked
      assertEquals(got[4].body, "000000000000002a", "the connection serves on after refusals");
      assertEquals(s.server.stats.deniedRequests, 3);
      // What the filter saw: the registration, and the peer.
      assertEquals(seen.length, 5);
      const first = seen.find((r) => r.kvStateId?.equals(s.counts))!;
      assertEquals(first.jobId?.toString(), JOB.toString());
      assertEquals(first.stateName, "word-counts");
      assert(
        ["127.0.0.1", "::ffff:127.0.0.1"].includes(first.remoteAddress.hostname),
        first.remoteAddress.hostname,
      );
      assert(first.remoteAddress.port > 0);
      const anon = seen.find((r) => r.kvStateId?.equals(s.anonymous))!;
      assertEquals([anon.jobId, anon.stateName], [undefined, undefined]);
      const none = seen.find((r) => r.kvStateId?.equals(unknown))!;
      assertEquals([none.jobId, none.stateName], [undefined, undefined]);
    } finally {
      await s.server.close();
    }
  });

  Deno.test(`access control [${tc.name}]: state server: an async filter decides; a throwing or rejecting filter refuses`, async () => {
    const transport = tc.make();
    let calls = 0;
    const asyncFilter: RequestFilter = async (r) => {
      calls++;
      await delay(r.stateName === "word-counts" ? 5 : 1);
      return r.stateName === "word-counts";
    };
    const a = await stateServer(transport, asyncFilter);
    const thrower = await stateServer(transport, () => {
      throw new Error("filter broke");
    });
    const rejecter = await stateServer(transport, () => Promise.reject(new Error("filter broke")));
    try {
      const got = await exchange(transport, a.server.address, [
        a.internal(1n, a.counts),
        a.internal(2n, a.secret),
        a.internal(3n, a.counts),
      ]);
      assertEquals(got[0].body, "000000000000002a");
      assertRefused(got[1], 2n, STATE_SERVER);
      assertEquals(got[2].body, "000000000000002a");
      assertEquals(calls, 3);
      assertEquals(a.server.stats.deniedRequests, 1);
      for (const s of [thrower, rejecter]) {
        const [r] = await exchange(transport, s.server.address, [s.internal(9n, s.counts)]);
        assertRefused(r, 9n, STATE_SERVER);
        assertEquals(s.server.stats.deniedRequests, 1);
      }
    } finally {
      await Promise.all([a.server.close(), thrower.server.close(), rejecter.server.close()]);
    }
  });

  Deno.test(`access control [${tc.name}]: the proxy refuses by job, state and peer before any lookup`, async () => {
    const transport = tc.make();
    const seen: AccessRequest[] = [];
    const allow = accessFilter(parseAccessRules(
      `job ${JOB} state word-counts from 127.0.0.0/8\njob * state prefs from 10.0.0.0/8`,
    ));
    const plane = await Plane.start(transport, {
      requestFilter: (r) => {
        seen.push(r);
        return allow(r);
      },
    });
    try {
      const server = await plane.standard();
      const request = (id: bigint, jobId: JobId, stateName: string) =>
        encodeKvStateRequest(id, {
          jobId,
          stateName,
          keyHashCode: stringHashCode("hello"),
          serializedKeyAndNamespace: kn("hello"),
        });
      const got = await exchange(transport, plane.proxyAddress, [
        request(1n, JOB, "word-counts"),
        request(2n, JOB, "events"), // another state
        request(3n, OTHER_JOB, "word-counts"), // another job
        request(4n, JOB, "prefs"), // a rule for the state, but from other peers
      ]);
      assertEquals(got[0].body, "000000000000002a");
      assertRefused(got[1], 2n, PROXY);
      assertRefused(got[2], 3n, PROXY);
      assertRefused(got[3], 4n, PROXY);
      assertEquals(plane.proxy.stats.deniedRequests, 3);
      assertEquals(plane.lookups, 1, "refused requests do not look locations up");
      assertEquals(server.stats.requests, 1, "refused requests do not reach the state server");
      assertEquals(server.stats.deniedRequests, 0);
      const first = seen.find((r) => r.stateName === "word-counts" && r.jobId?.equals(JOB))!;
      assertEquals(first.kvStateId, undefined);
      assert(
        ["127.0.0.1", "::ffff:127.0.0.1"].includes(first.remoteAddress.hostname),
        first.remoteAddress.hostname,
      );
      // The typed client reads the refusal as Flink's BadRequestException.
      await clientRefusesEvents(plane.client, PROXY);
      assertEquals(plane.proxy.stats.deniedRequests, 4);
    } finally {
      await plane.close();
    }
  });

  Deno.test(`access control [${tc.name}]: the proxy: an async filter decides; a throwing filter refuses`, async () => {
    const transport = tc.make();
    for (
      const [filter, allowed] of [
        [async (r: AccessRequest) => {
          await delay(1);
          return r.stateName !== "events";
        }, true],
        [() => {
          throw new Error("filter broke");
        }, false],
        [() => Promise.reject(new Error("filter broke")), false],
      ] as Array<[RequestFilter, boolean]>
    ) {
      const plane = await Plane.start(transport, { requestFilter: filter });
      try {
        await plane.standard();
        const frames = ["word-counts", "events"].map((stateName, i) =>
          encodeKvStateRequest(BigInt(i + 1), {
            jobId: JOB,
            stateName,
            keyHashCode: 0,
            serializedKeyAndNamespace: kn("hello"),
          })
        );
        const got = await exchange(transport, plane.proxyAddress, frames);
        if (allowed) assertEquals(got[0].body, "000000000000002a");
        else assertRefused(got[0], 1n, PROXY);
        assertRefused(got[1], 2n, PROXY);
        assertEquals(plane.proxy.stats.deniedRequests, allowed ? 1 : 2);
      } finally {
        await plane.close();
      }
    }
  });

  Deno.test(`access control [${tc.name}]: a state server's refusal reaches the client through an open proxy`, async () => {
    const transport = tc.make();
    const plane = await Plane.start(transport);
    const server = new KvStateServer({
      transport,
      requestFilter: accessFilter(parseAccessRules(`job * state word-counts from *`)),
    });
    await server.start();
    try {
      for (
        const [name, state] of [
          ["word-counts", new InMemoryValueState(S.string, S.long).set("hello", 42n)],
          ["events", new InMemoryListState(S.int, S.string).set(1, ["a"])],
        ] as const
      ) {
        const kvStateId = server.registry.register(state, { jobId: JOB, stateName: name });
        plane.locations.notifyKvStateRegistered({
          jobId: JOB,
          jobVertexId: plane.vertex,
          registrationName: name,
          numKeyGroups: 128,
          start: 0,
          end: 127,
          kvStateId,
          address: server.address,
        });
      }
      const e = await clientRefusesEvents(plane.client, STATE_SERVER);
      assert(e.message.includes(`for job ${JOB} state "events"`), e.message);
      assertEquals(server.stats.deniedRequests, 1);
      assertEquals(plane.proxy.stats.deniedRequests, 0);
    } finally {
      await plane.close();
      await server.close();
    }
  });
}

Deno.test("access control: without a filter nothing is refused", async () => {
  const transport = TRANSPORTS[0].make();
  const s = await stateServer(transport);
  try {
    const got = await exchange(transport, s.server.address, [
      s.internal(1n, s.counts),
      s.internal(2n, s.secret),
      s.internal(3n, s.anonymous),
    ]);
    assertEquals(got.map((a) => a.body), [
      "000000000000002a",
      "0000000000000007",
      "0000000000000001",
    ]);
    assertEquals(s.server.stats.deniedRequests, 0);
  } finally {
    await s.server.close();
  }
});
