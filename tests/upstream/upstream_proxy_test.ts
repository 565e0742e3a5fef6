/**
 * KvStateClientProxy in upstream mode over real sockets: a proxy fronting a
 * pool of two of our proxies answers byte for byte as a member does
 * directly (results and failures, only the request id differing), survives
 * the loss of a member, and closes only the pool it made.
 */

import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import { NetworkClient } from "../../src/client/network_client.ts";
import { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { KvStateClientProxy } from "../../src/proxy/kv_state_client_proxy.ts";
import type { NetAddress } from "../../src/transport/types.ts";
import { ProxyPool } from "../../src/upstream/proxy_pool.ts";
import { JobId } from "../../src/wire/ids.ts";
import {
  RemoteError,
  UnknownKeyOrNamespaceError,
  UnknownKvStateLocationError,
} from "../../src/wire/errors.ts";
import { encodeKvStateRequest, type KvStateRequest } from "../../src/wire/messages.ts";
import { readJavaThrowable } from "../../src/wire/java_serialization.ts";
import { writeJavaThrowable } from "../../src/wire/java_serialization_writer.ts";
import { javaThrowable } from "../../src/wire/java_throwable.ts";
import { encodeRequestFailure } from "../../src/wire/messages.ts";
import { MAX_FAILURE_FRAME_LENGTH } from "../../src/server/failure_frames.ts";
import { requestIdOf } from "../../src/server/result_frame.ts";
import { RawPeer } from "../_harness.ts";
import { idOfFrame, ScriptedUpstream } from "../_scripted_upstream.ts";
import { largestTraceStream } from "../wire/_java_streams.ts";
import { JOB, Plane, requestFor, STATE, transport, until, withRelayedPlane } from "./_members.ts";

/**
 * A failure frame's throwable as text, with request ids replaced: a member's
 * wrapped failure names the request id it got (the pool's), as Flink's
 * proxy names its own.
 */
function failureText(frame: Uint8Array): string {
  return JSON.stringify(readJavaThrowable(frame.subarray(20))).replace(/request \d+/g, "request N");
}

/** The raw answer frame of `request` from `address`, with the request id zeroed. */
function rawAnswer(
  client: NetworkClient,
  address: NetAddress,
  request: KvStateRequest,
): Promise<Uint8Array> {
  const body = encodeKvStateRequest(0n, request).subarray(20);
  return new Promise((resolve, reject) =>
    client.forwardRequest(address, body, (frame, error) => {
      if (frame === null) reject(error);
      else {
        const copy = frame.slice();
        copy.fill(0, 12, 20);
        resolve(copy);
      }
    }, undefined)
  );
}

const CASES: Array<[string, KvStateRequest]> = [
  ["a value", requestFor("k5")],
  ["another value", requestFor("k63")],
  ["an absent key", requestFor("absent")],
  ["an unknown state", requestFor("k1", "no-such-state")],
  ["an unknown job", {
    ...requestFor("k1"),
    jobId: JobId.fromHex("ffeeddccbbaa99887766554433221100"),
  }],
];

Deno.test("upstream mode: a proxy fronting two proxies answers byte for byte as a member does directly", async () => {
  const plane = await Plane.start(2);
  try {
    await using front = new KvStateClientProxy({
      transport,
      upstream: { members: plane.addresses },
    });
    const frontAddress = await front.start();
    await using client = new NetworkClient({ transport });
    for (const [what, request] of CASES) {
      const direct = await rawAnswer(client, plane.addresses[0], request);
      const wrapped = direct[11] === 2 && failureText(direct).includes("Failed request N");
      for (let i = 0; i < 4; i++) {
        const fronted = await rawAnswer(client, frontAddress, request);
        if (!wrapped) assertEquals(fronted, direct, `${what}, round ${i}`);
        else {
          // The same bytes but the request id in the text.
          assertEquals(failureText(fronted), failureText(direct), `${what}, round ${i}`);
        }
      }
    }
    // Spread over both members; the oracles of the front were never asked.
    assertEquals(plane.requestsPerProxy().map((n) => n >= 10), [true, true]);
    assertEquals(front.oracleLookups.started, 0);
    const stats = front.stats;
    assertEquals(stats.requests, 20);
    assertEquals(stats.successfulRequests, 8);
    assertEquals(stats.failedRequests, 12);
    assertEquals(front.upstream!.members.map((m) => m.up), [true, true]);
  } finally {
    await plane.close();
  }
});

Deno.test("upstream mode: our client through the front proxy gets typed values and errors as from a member", async () => {
  const plane = await Plane.start(2);
  try {
    await using front = new KvStateClientProxy({
      transport,
      upstream: { members: plane.addresses },
    });
    await using viaFront = new QueryableStateClient({ transport, proxy: await front.start() });
    await using direct = new QueryableStateClient({ transport, proxy: plane.addresses[1] });
    const types = { keyType: "string", valueType: "long" } as const;
    for (let i = 0; i < 20; i++) {
      assertEquals(await viaFront.getKvState(JOB, STATE, `k${i}`, types), BigInt(1000 + i));
    }
    assertEquals(await viaFront.getKvStateIfPresent(JOB, STATE, "absent", types), undefined);
    await assertRejects(
      () => viaFront.getKvState(JOB, STATE, "absent", types),
      UnknownKeyOrNamespaceError,
    );
    const a = await assertRejects(() => viaFront.getKvState(JOB, "nope", "k1", types));
    const b = await assertRejects(() => direct.getKvState(JOB, "nope", "k1", types));
    assertInstanceOf(a, UnknownKvStateLocationError);
    assertEquals(a.message, b.message);
    assertEquals(
      (a.cause as Error | undefined)?.message.replace(/request \d+/g, "request N"),
      (b.cause as Error | undefined)?.message.replace(/request \d+/g, "request N"),
    );
  } finally {
    await plane.close();
  }
});

Deno.test("upstream mode: a member lost under load: the front proxy's clients still get every answer, rightly", () =>
  withRelayedPlane(async (plane, a) => {
    await using pool = new ProxyPool({
      transport,
      members: [a.address, plane.addresses[1]],
      backoffInitialMs: 20,
      backoffMaxMs: 100,
    });
    const front = new KvStateClientProxy({ transport, upstream: pool });
    await using client = new QueryableStateClient({ transport, proxy: await front.start() });
    const types = { keyType: "string", valueType: "long" } as const;
    assertEquals(await client.getKvState(JOB, STATE, "k0", types), 1000n);
    a.holding = true;
    const n = 80;
    const all = Promise.all(
      Array.from({ length: n }, (_, i) => client.getKvState(JOB, STATE, `k${i % 64}`, types)),
    );
    await until(() => pool.members[0].outstanding >= 20, 5_000, "requests held on A");
    await a.kill();
    const values = await all;
    assertEquals(values, Array.from({ length: n }, (_, i) => BigInt(1000 + (i % 64))));
    assert(pool.failovers >= 20);
    assertEquals(pool.members[0].up, false);
    // The pool was given, not made: the proxy leaves it open.
    await front.close();
    assertEquals(pool.closed, false);
    assertEquals((await pool.request(requestFor("k2"))).length, 8);
  }));

Deno.test("upstream mode: a pool made from options is the proxy's, closed with it; an empty one answers ConnectError", async () => {
  const front = new KvStateClientProxy({ transport, upstream: { members: [] } });
  await using client = new QueryableStateClient({ transport, proxy: await front.start() });
  const e = await assertRejects(() =>
    client.getKvState(JOB, STATE, "k1", { keyType: "string", valueType: "long" })
  );
  // Wrapped as Flink's proxy wraps a failure of its own; the text names the empty pool.
  assertInstanceOf(e, RemoteError);
  assert(e.message.includes("java.net.ConnectException") && e.message.includes("no member"));
  const pool = front.upstream!;
  assertEquals(pool.closed, false);
  await front.close();
  assertEquals(pool.closed, true);
});

Deno.test("upstream mode: a member's failure is relayed byte for byte (id patched), a huge one trimmed, one that does not parse refused", async () => {
  const small = writeJavaThrowable(
    javaThrowable("java.lang.RuntimeException", "Failed request 3."),
  );
  const garbage = new Uint8Array([0xac, 0xed, 0x00, 0x05, 0x73, 0xff, 0xff, 0xff]);
  const huge = largestTraceStream("java.lang.RuntimeException");
  let body = small;
  const member = await ScriptedUpstream.start(
    transport,
    (f) => encodeRequestFailure(idOfFrame(f), body),
  );
  await using front = new KvStateClientProxy({
    transport,
    upstream: { members: [member.address] },
  });
  const peer = await RawPeer.connect(transport, await front.start());
  try {
    const ask = async (id: bigint) => {
      await peer.send(encodeKvStateRequest(id, requestFor("k1")));
      return (await peer.frame())!;
    };
    for (const id of [77n, 78n]) {
      const answer = await ask(id);
      assertEquals(answer, encodeRequestFailure(id, small), `relayed unchanged, id ${id}`);
    }
    body = huge;
    const trimmed = await ask(79n);
    assert(trimmed.length <= MAX_FAILURE_FRAME_LENGTH, `${trimmed.length} bytes`);
    assertEquals(requestIdOf(trimmed.subarray(4)), 79n);
    assertEquals(readJavaThrowable(trimmed.subarray(20)).className, "java.lang.RuntimeException");
    body = garbage;
    const refused = await ask(80n);
    assertEquals(refused[11], 2);
    assertEquals(requestIdOf(refused.subarray(4)), 80n);
    const t = readJavaThrowable(refused.subarray(20));
    assert(JSON.stringify(t).includes("StreamCorruptedException"), JSON.stringify(t).slice(0, 300));
    // Every one was answered by the member: no failover, the member stays up.
    assertEquals(member.requests, 4);
    assertEquals(front.upstream!.members[0].up, true);
    assertEquals(front.upstream!.failovers, 0);
  } finally {
    await peer.close();
    await front.close();
    await member.close();
  }
});
