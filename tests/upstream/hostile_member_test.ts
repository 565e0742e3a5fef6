/**
 * ProxyPool and upstream mode against hostile members over real sockets: a
 * member that answers garbage frames, the wrong request id, twice, floods
 * unsolicited answers, or closes mid-frame. Every request is answered once,
 * with its own answer (never another request's), within its deadline;
 * nothing leaks.
 */

import { assert, assertEquals } from "../_assert.ts";
import { KvStateClientProxy } from "../../src/proxy/kv_state_client_proxy.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import type { NetAddress } from "../../src/transport/types.ts";
import { ProxyPool } from "../../src/upstream/proxy_pool.ts";
import { JobId } from "../../src/wire/ids.ts";
import {
  decodeKvStateRequest,
  decodeMessage,
  encodeKvStateRequest,
  encodeKvStateResponse,
  encodeServerFailure,
  type KvStateRequest,
} from "../../src/wire/messages.ts";
import { writeJavaThrowable } from "../../src/wire/java_serialization_writer.ts";
import { javaThrowable } from "../../src/wire/java_throwable.ts";
import { requestIdOf } from "../../src/server/result_frame.ts";
import { FakeServer, RawPeer } from "../_harness.ts";

type Mode =
  | "garbage"
  | "wrongId"
  | "twice"
  | "flood"
  | "midframe"
  | "serverFailure"
  | "oversized"
  | "good";

const JOB = JobId.fromHex("0102030405060708090a0b0c0d0e0f10");

function requestOf(i: number): KvStateRequest {
  return {
    jobId: JOB,
    stateName: "s",
    keyHashCode: i,
    serializedKeyAndNamespace: new TextEncoder().encode(`key-${i}`),
  };
}

/** What a correct member answers: the key bytes, reversed (so it is not an echo). */
function contentFor(req: KvStateRequest): Uint8Array {
  return req.serializedKeyAndNamespace.slice().reverse();
}

/** A member of ours that misbehaves per `mode` (the "good" one answers rightly). */
class Member {
  readonly mode: Mode;
  readonly #server: FakeServer;
  readonly #loops: Promise<void>[] = [];
  readonly #accepting: Promise<void>;
  requests = 0;

  private constructor(server: FakeServer, mode: Mode) {
    this.#server = server;
    this.mode = mode;
    this.#accepting = this.#accept();
  }

  static async start(mode: Mode): Promise<Member> {
    return new Member(await FakeServer.start(denoTransport), mode);
  }

  get address(): NetAddress {
    return this.#server.address;
  }

  async #accept(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      let peer: RawPeer;
      try {
        peer = await this.#server.accept();
      } catch {
        return;
      }
      this.#loops.push(this.#serve(peer));
    }
  }

  async #serve(peer: RawPeer): Promise<void> {
    for (let n = 0; n < 100_000; n++) {
      try {
        const f = await peer.frame();
        if (f === null) return;
        this.requests++;
        const id = requestIdOf(f.subarray(4));
        const req = decodeKvStateRequest(decodeMessage(f.subarray(4)).body);
        const answer = encodeKvStateResponse(id, contentFor(req));
        switch (this.mode) {
          case "good":
            await peer.send(answer);
            break;
          case "garbage": {
            const bad = answer.slice();
            bad[7] = 9; // version 9
            await peer.send(bad);
            break;
          }
          case "wrongId":
            await peer.send(encodeKvStateResponse(id + 1000n, contentFor(req)));
            break;
          case "twice":
            await peer.send(answer, answer);
            break;
          case "flood": {
            const junk: Uint8Array[] = [];
            // Ids already answered (this member answers in order) and ids far
            // ahead: none is pending, so each must be dropped.
            for (let k = 1; k <= 100; k++) {
              if (id - BigInt(k) >= 0n) {
                junk.push(encodeKvStateResponse(id - BigInt(k), new Uint8Array([k])));
              }
              junk.push(encodeKvStateResponse(id + 1_000_000n + BigInt(k), new Uint8Array([k])));
            }
            junk.push(encodeKvStateResponse(-1n, new Uint8Array([0])));
            junk.push(encodeKvStateResponse(1n << 62n, new Uint8Array([0])));
            await peer.send(...junk, answer);
            break;
          }
          case "serverFailure":
            // What Flink's server handler does on an unexpected exception: a
            // SERVER_FAILURE (no request id), then the channel closed.
            await peer.send(
              encodeServerFailure(
                writeJavaThrowable(javaThrowable("java.lang.RuntimeException", "channel broke")),
              ),
            );
            await peer.conn.close();
            return;
          case "oversized":
            // Answers nothing until its fifth request, then starts a frame over
            // the pool's length bound: the connection ends for every request on it.
            if (this.requests === 5) await peer.send(new Uint8Array([0x7f, 0xff, 0xff, 0x00]));
            break;
          case "midframe":
            await peer.send(answer.subarray(0, answer.length >> 1));
            await peer.conn.close();
            return;
        }
      } catch {
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.#server.close();
    await this.#accepting;
    await Promise.all(this.#loops);
  }
}

const MODES: Mode[] = [
  "garbage",
  "wrongId",
  "twice",
  "flood",
  "midframe",
  "serverFailure",
  "oversized",
];

for (const mode of MODES) {
  Deno.test(`ProxyPool: a member that answers ${mode}: each request gets its own answer, once, in time`, async () => {
    const bad = await Member.start(mode);
    const good = await Member.start("good");
    const pool = new ProxyPool({
      transport: denoTransport,
      members: [bad.address, good.address],
      attemptTimeoutMs: 300,
      requestTimeoutMs: 5_000,
      backoffInitialMs: 50,
      backoffMaxMs: 100,
      probeTimeoutMs: 200,
    });
    try {
      const started = performance.now();
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => pool.request(requestOf(i))),
      );
      for (let i = 0; i < results.length; i++) {
        const r = results[i];
        if (mode === "twice" || mode === "flood") {
          // A definite answer from the bad member is its own answer (nothing mixed).
          assertEquals(
            r.status,
            "fulfilled",
            `request ${i}: ${(r as PromiseRejectedResult).reason}`,
          );
        }
        if (r.status === "fulfilled") {
          assertEquals(r.value, contentFor(requestOf(i)), `request ${i} got another's answer`);
        } else {
          throw new Error(`request ${i} failed: ${r.reason}`);
        }
      }
      assert(performance.now() - started < 4_000, `${performance.now() - started} ms`);
      assert(bad.requests > 0, "the bad member was asked");
    } finally {
      await pool.close();
      await bad.close();
      await good.close();
    }
  });
}

Deno.test("upstream mode: a front proxy over a flooding and a garbage member: every client request answered with its own id and content", async () => {
  const flood = await Member.start("flood");
  const garbage = await Member.start("garbage");
  const good = await Member.start("good");
  const front = new KvStateClientProxy({
    transport: denoTransport,
    upstream: {
      members: [flood.address, garbage.address, good.address],
      attemptTimeoutMs: 300,
      backoffInitialMs: 50,
      backoffMaxMs: 100,
      probeTimeoutMs: 200,
    },
  });
  const peer = await RawPeer.connect(denoTransport, await front.start());
  try {
    const n = 30;
    for (let i = 0; i < n; i++) {
      await peer.send(encodeKvStateRequest(BigInt(5000 + i), requestOf(i)));
    }
    const seen = new Set<bigint>();
    for (let k = 0; k < n; k++) {
      const f = (await peer.frame())!;
      assert(f !== null, "an answer");
      assertEquals(f[11], 1, "a result");
      const id = requestIdOf(f.subarray(4));
      assert(!seen.has(id), `id ${id} answered twice`);
      seen.add(id);
      const i = Number(id) - 5000;
      assert(i >= 0 && i < n, `unknown id ${id}`);
      assertEquals(f.subarray(24), contentFor(requestOf(i)), `id ${id} got another's content`);
    }
    assertEquals(seen.size, n);
  } finally {
    await peer.close();
    await front.close();
    await flood.close();
    await garbage.close();
    await good.close();
  }
});

Deno.test("ProxyPool: a member answering every probe with a SERVER_FAILURE stays down (a probe's SERVER_FAILURE is no answer)", async () => {
  const bad = await Member.start("serverFailure");
  const good = await Member.start("good");
  const pool = new ProxyPool({
    transport: denoTransport,
    members: [bad.address, good.address],
    backoffInitialMs: 20,
    backoffMaxMs: 40,
    probeTimeoutMs: 200,
  });
  try {
    // Sequential requests take turns: one of the first two goes to the bad member.
    for (let i = 0; i < 2; i++) {
      assertEquals(await pool.request(requestOf(i)), contentFor(requestOf(i)));
    }
    assertEquals(pool.members[0].up, false, "taken out");
    const asked = bad.requests;
    // Several probes, each answered with a SERVER_FAILURE.
    for (let i = 0; i < 100 && bad.requests < asked + 3; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert(bad.requests >= asked + 3, `probed: ${bad.requests - asked}`);
    assertEquals(pool.members[0].up, false, "still down after its probes");
  } finally {
    await pool.close();
    await bad.close();
    await good.close();
  }
});
