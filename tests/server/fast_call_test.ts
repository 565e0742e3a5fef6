/**
 * `AbstractServer.respondFast` through `FastCall`: answers now or later,
 * failures, a throwing fast path, and the regular path beside it, on every
 * transport (the direct session and the stream pipeline).
 */

import {
  AbstractServer,
  type FastCall,
  KvStateId,
  type KvStateRequestStats,
  requestIdOf,
  resultFrameFor,
} from "../../mod.ts";
import {
  decodeKvStateInternalRequest,
  decodeMessage,
  encodeKvStateInternalRequest,
  type KvStateInternalRequest,
  readJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { RawPeer, TRANSPORTS } from "../_harness.ts";

/** Answers by the first key byte: 1 now, 2 later, 3 fails later, 4 throws, else the regular path. */
class Fast extends AbstractServer<KvStateInternalRequest> {
  regular = 0;
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }
  protected handleRequest(): Uint8Array {
    this.regular++;
    return new Uint8Array([0x52]);
  }
  protected override respondFast(call: FastCall<KvStateInternalRequest>): boolean {
    const mode = call.request.serializedKeyAndNamespace[0];
    switch (mode) {
      case 1:
        call.send(resultFrameFor(call.frame, new Uint8Array([0x11])));
        call.send(resultFrameFor(call.frame, new Uint8Array([0xee]))); // ignored
        return true;
      case 2:
        setTimeout(() => call.send(resultFrameFor(call.frame, new Uint8Array([0x22]))), 5);
        return true;
      case 3:
        queueMicrotask(() => call.fail(new Error("fast path failed")));
        return true;
      case 4:
        throw new Error("fast path threw");
      default:
        return false;
    }
  }
}

const request = (id: number, mode: number) =>
  encodeKvStateInternalRequest(BigInt(id), {
    kvStateId: KvStateId.fromHex("000102030405060708090a0b0c0d0e0f"),
    serializedKeyAndNamespace: new Uint8Array([mode]),
  });

for (const tc of TRANSPORTS) {
  Deno.test(`FastCall [${tc.name}]: answers now and later, failures, a throwing fast path`, async () => {
    const transport = tc.make();
    await using server = new Fast("Fast Server", { transport });
    await server.start();
    const peer = await RawPeer.connect(transport, server.address);
    try {
      // Pipelined, in one write: each answer carries its own id and content.
      await peer.send(request(1, 1), request(2, 2), request(3, 3), request(4, 4), request(5, 9));
      const byId = new Map<bigint, Uint8Array>();
      for (const f of await peer.frames(5)) byId.set(requestIdOf(f.subarray(4)), f);
      const content = (id: number) => {
        const f = byId.get(BigInt(id))!;
        assertEquals(decodeMessage(f.subarray(4)).type, 1, `request ${id} answered with a result`);
        return f[f.length - 1];
      };
      assertEquals(content(1), 0x11, "answered at once; a second send is ignored");
      assertEquals(content(2), 0x22, "answered later");
      assertEquals(content(5), 0x52, "the regular path");
      for (const [id, text] of [[3, "fast path failed"], [4, "fast path threw"]] as const) {
        const m = decodeMessage(byId.get(BigInt(id))!.subarray(4));
        assertEquals(m.type, 2, `request ${id} answered with a failure`);
        const t = readJavaThrowable(m.body);
        assert(JSON.stringify(t).includes(text), `request ${id}: ${JSON.stringify(t)}`);
      }
      assertEquals(server.regular, 1);
      const stats = server.stats;
      assertEquals(stats.requests, 5);
      assertEquals(stats.successfulRequests, 3);
      assertEquals(stats.failedRequests, 2);
      // The connection still works.
      await peer.send(request(6, 1));
      const again = (await peer.frame())!;
      assertEquals(requestIdOf(again.subarray(4)), 6n);
      assertEquals(again[again.length - 1], 0x11);
    } finally {
      await peer.close();
    }
  });
}

for (const tc of TRANSPORTS) {
  Deno.test(`AbstractServer [${tc.name}]: a throwing stats sink is counted, the request answered`, async () => {
    const transport = tc.make();
    let throwing = true;
    const boom = () => {
      if (throwing) throw new Error("stats sink broke");
    };
    const stats: KvStateRequestStats = {
      reportActiveConnection: boom,
      reportInactiveConnection: boom,
      reportRequest: boom,
      reportSuccessfulRequest: boom,
      reportFailedRequest: boom,
      reportInternalError: boom,
    };
    await using server = new Fast("Fast Server", { transport, stats });
    await server.start();
    const peer = await RawPeer.connect(transport, server.address);
    try {
      await peer.send(request(1, 1), request(2, 9));
      const got = await peer.frames(2);
      assertEquals(got.map((f) => requestIdOf(f.subarray(4))).sort(), [1n, 2n]);
      for (const f of got) assertEquals(decodeMessage(f.subarray(4)).type, 1, "answered");
      // The connection still works.
      throwing = false;
      await peer.send(request(3, 1));
      const again = (await peer.frame())!;
      assertEquals(requestIdOf(again.subarray(4)), 3n);
    } finally {
      await peer.close();
    }
    assert(server.stats.internalErrors >= 3, `counted: ${server.stats.internalErrors}`);
    assertEquals(server.stats.successfulRequests, 3);
  });
}

/** Answers every request later with its key's bytes, reusing its calls (as the proxy does). */
class Reusing extends AbstractServer<KvStateInternalRequest> {
  readonly calls = new Set<FastCall<KvStateInternalRequest>>();
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }
  protected handleRequest(): Uint8Array {
    throw new Error("not used");
  }
  protected override reuseFastCalls(): boolean {
    return true;
  }
  protected override respondFast(call: FastCall<KvStateInternalRequest>): boolean {
    this.calls.add(call);
    const key = call.request.serializedKeyAndNamespace.slice();
    // Later, from the call's own copy of the frame (the chunk it was read in may be gone).
    setTimeout(() => {
      assertEquals(Array.from(call.request.serializedKeyAndNamespace), Array.from(key));
      call.send(resultFrameFor(call.frame, key));
    }, key[0] % 3);
    return true;
  }
}

for (const tc of TRANSPORTS) {
  Deno.test(`FastCall [${tc.name}]: reused calls answer each request with its own id and bytes`, async () => {
    const transport = tc.make();
    const server = new Reusing("Reusing", { transport });
    await server.start();
    try {
      const peers = [
        await RawPeer.connect(transport, server.address),
        await RawPeer.connect(transport, server.address),
      ];
      const rounds = 5;
      const perRound = 60;
      for (let round = 0; round < rounds; round++) {
        await Promise.all(peers.map(async (peer, p) => {
          const frames = Array.from({ length: perRound }, (_, i) => {
            const id = round * 1000 + p * 100 + i;
            return encodeKvStateInternalRequest(BigInt(id), {
              kvStateId: KvStateId.fromHex("000102030405060708090a0b0c0d0e0f"),
              serializedKeyAndNamespace: new Uint8Array([i, p, round, ...new Array(i).fill(7)]),
            });
          });
          await peer.send(...frames);
          const answers = await peer.frames(perRound);
          const byId = new Map(answers.map((f) => [requestIdOf(f.subarray(4)), f]));
          for (let i = 0; i < perRound; i++) {
            const f = byId.get(BigInt(round * 1000 + p * 100 + i));
            assert(f !== undefined, `answer ${i} of peer ${p}, round ${round}`);
            const m = decodeMessage(f.subarray(4));
            assertEquals(m.type, 1);
            assertEquals(
              Array.from(m.body.subarray(4)),
              [i, p, round, ...new Array(i).fill(7)],
            );
          }
        }));
      }
      for (const peer of peers) await peer.close();
      // Calls answered in one round serve the next ones.
      assert(
        server.calls.size <= 2 * perRound,
        `${server.calls.size} calls for ${rounds * 2 * perRound} requests`,
      );
      assertEquals(server.stats.successfulRequests, rounds * 2 * perRound);
    } finally {
      await server.close();
    }
  });
}

/** Reuses its calls; key 1: keeps the call and throws, key 2: keeps the call to answer later. */
class KeepsAndThrows extends AbstractServer<KvStateInternalRequest> {
  kept: FastCall<KvStateInternalRequest> | undefined;
  later: FastCall<KvStateInternalRequest> | undefined;
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }
  protected handleRequest(): Uint8Array {
    throw new Error("not used");
  }
  protected override reuseFastCalls(): boolean {
    return true;
  }
  protected override respondFast(call: FastCall<KvStateInternalRequest>): boolean {
    if (call.request.serializedKeyAndNamespace[0] === 1) {
      this.kept = call;
      throw new Error("threw after keeping the call");
    }
    this.later = call;
    return true;
  }
}

for (const tc of TRANSPORTS) {
  Deno.test(`FastCall [${tc.name}]: a call whose respondFast threw is not reused: its late answer answers no other request`, async () => {
    const transport = tc.make();
    await using server = new KeepsAndThrows("Keeps", { transport });
    await server.start();
    const peer = await RawPeer.connect(transport, server.address);
    try {
      await peer.send(request(1, 1));
      const [failed] = await peer.frames(1);
      assertEquals(requestIdOf(failed.subarray(4)), 1n);
      assertEquals(decodeMessage(failed.subarray(4)).type, 2, "the throw answered as a failure");
      await peer.send(request(2, 2));
      for (let i = 0; i < 200 && server.later === undefined; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert(server.later !== undefined, "request 2 reached respondFast");
      // The subclass answers through the call it kept (as a relay would, patching the id in).
      const stale = resultFrameFor(request(1, 1).subarray(4), new Uint8Array([0xee]));
      server.kept!.copyRequestId(stale, 12);
      server.kept!.send(stale);
      server.later.send(resultFrameFor(server.later.frame, new Uint8Array([0x22])));
      const [answer] = await peer.frames(1);
      assertEquals(requestIdOf(answer.subarray(4)), 2n);
      assertEquals(decodeMessage(answer.subarray(4)).type, 1);
      assertEquals(answer[answer.length - 1], 0x22, "request 2 answered with its own answer");
    } finally {
      await peer.close();
    }
  });
}
