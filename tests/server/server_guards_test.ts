/**
 * Last-resort guards of the server base: no exception of a subclass, a hook
 * or the machinery escapes to the runtime, on any path and any transport.
 * The one request is failed (or the one connection closed), the event is
 * counted in `internalErrors`, and other connections are answered.
 */

import {
  AbstractServer,
  type Connection,
  type DirectChannel,
  type FastCall,
  KvStateId,
  type Listener,
  requestIdOf,
  resultFrameFor,
} from "../../mod.ts";
import {
  decodeKvStateInternalRequest,
  decodeMessage,
  encodeKvStateInternalRequest,
  type KvStateInternalRequest,
  MessageType,
} from "../../src/wire/mod.ts";
import { FrameBudget, RequestHandlerStream, SharedFlowLimit } from "../../src/streams/mod.ts";
import { AcceptLoop } from "../../src/server/accept_loop.ts";
import { DeadlineSweeper } from "../../src/server/deadline_sweeper.ts";
import { DirectSession, type DirectSessionOptions } from "../../src/server/direct_session.ts";
import { InFlight } from "../../src/server/in_flight.ts";
import { connectionOver } from "./_direct_conn.ts";
import { assert, assertEquals } from "../_assert.ts";
import { delay, RawPeer, TRANSPORTS } from "../_harness.ts";

/** An error whose every property throws when read. */
function hostileError(): Error {
  const e = new Error("hostile");
  for (const key of ["message", "stack", "name", "cause"]) {
    Object.defineProperty(e, key, {
      get() {
        throw new Error(`${key} getter threw`);
      },
    });
  }
  return e;
}

/** A value on which every operation throws (instanceof, property reads, stringification). */
function hostileProxy(): unknown {
  const boom = () => {
    throw new Error("trap threw");
  };
  return new Proxy({}, { get: boom, getPrototypeOf: boom, has: boom, ownKeys: boom });
}

/** The modes, by the first key byte. */
const MODE = {
  ok: 0,
  fastFailHostileLater: 1,
  fastSendUndefinedLater: 2,
  fastSendShortNow: 3,
  fastThrowsHostile: 4,
  fastFailProxyNow: 5,
  fastFailUnprintable: 6,
  throwsHostile: 10,
  rejectsHostile: 11,
  resolvesNotBytes: 12,
  thenThrows: 13,
  returnsUndefined: 14,
  throwsProxy: 15,
  fastOk: 30,
} as const;

/** Modes that are internal errors whatever the failure frames do with hostile errors. */
const SURELY_INTERNAL = [
  MODE.fastSendUndefinedLater,
  MODE.fastSendShortNow,
  MODE.resolvesNotBytes,
  MODE.thenThrows,
  MODE.returnsUndefined,
];

class Hostile extends AbstractServer<KvStateInternalRequest> {
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }
  protected handleRequest(req: KvStateInternalRequest): Uint8Array | Promise<Uint8Array> {
    switch (req.serializedKeyAndNamespace[0]) {
      case MODE.throwsHostile:
        throw hostileError();
      case MODE.rejectsHostile:
        return Promise.reject(hostileError());
      case MODE.resolvesNotBytes:
        return Promise.resolve("not bytes" as unknown as Uint8Array);
      case MODE.thenThrows:
        return {
          then() {
            throw new Error("then threw");
          },
        } as unknown as Promise<Uint8Array>;
      case MODE.returnsUndefined:
        return undefined as unknown as Uint8Array;
      case MODE.throwsProxy:
        throw hostileProxy();
      default:
        return new Uint8Array([0x42]);
    }
  }
  protected override respondFast(call: FastCall<KvStateInternalRequest>): boolean {
    switch (call.request.serializedKeyAndNamespace[0]) {
      case MODE.fastFailHostileLater:
        setTimeout(() => call.fail(hostileError()), 1);
        return true;
      case MODE.fastSendUndefinedLater:
        setTimeout(() => call.send(undefined as unknown as Uint8Array), 1);
        return true;
      case MODE.fastSendShortNow:
        call.send(new Uint8Array(3));
        return true;
      case MODE.fastThrowsHostile:
        throw hostileError();
      case MODE.fastFailProxyNow:
        call.fail(hostileProxy());
        return true;
      case MODE.fastFailUnprintable:
        queueMicrotask(() =>
          call.fail({
            toString() {
              throw new Error("toString threw");
            },
          })
        );
        return true;
      case MODE.fastOk:
        call.send(resultFrameFor(call.frame, new Uint8Array([0x43])));
        return true;
      default:
        return false;
    }
  }
}

const STATE = KvStateId.fromHex("000102030405060708090a0b0c0d0e0f");
const request = (id: number, mode: number) =>
  encodeKvStateInternalRequest(BigInt(id), {
    kvStateId: STATE,
    serializedKeyAndNamespace: new Uint8Array([mode]),
  });

for (const tc of TRANSPORTS) {
  Deno.test(`server guards [${tc.name}]: every hostile handler, fast path and answer fails its own request only`, async () => {
    const transport = tc.make();
    await using server = new Hostile("Hostile Server", { transport });
    await server.start();
    const modes = Object.values(MODE).filter((m) => m !== MODE.ok && m !== MODE.fastOk);
    const peer = await RawPeer.connect(transport, server.address);
    const other = await RawPeer.connect(transport, server.address);
    try {
      // Every hostile mode, pipelined on one connection, between good requests.
      const frames = modes.flatMap((m, i) => [request(100 + i, m), request(200 + i, MODE.fastOk)]);
      await peer.send(...frames);
      const byId = new Map<bigint, Uint8Array>();
      for (const f of await peer.frames(frames.length)) byId.set(requestIdOf(f.subarray(4)), f);
      modes.forEach((m, i) => {
        const f = byId.get(BigInt(100 + i));
        assert(f !== undefined, `mode ${m} answered`);
        assertEquals(decodeMessage(f.subarray(4)).type, MessageType.REQUEST_FAILURE, `mode ${m}`);
        const ok = byId.get(BigInt(200 + i))!;
        assertEquals(decodeMessage(ok.subarray(4)).type, MessageType.REQUEST_RESULT);
      });
      // Another connection, and the same one, are answered.
      await other.send(request(1, MODE.ok), request(2, MODE.fastOk));
      const answers = await other.frames(2);
      for (const f of answers) {
        assertEquals(decodeMessage(f.subarray(4)).type, MessageType.REQUEST_RESULT);
      }
      await peer.send(request(3, MODE.ok));
      assertEquals(requestIdOf((await peer.frame())!.subarray(4)), 3n);
    } finally {
      await peer.close();
      await other.close();
    }
    const stats = server.stats;
    assert(
      stats.internalErrors >= SURELY_INTERNAL.length,
      `internal errors counted: ${stats.internalErrors}`,
    );
    assertEquals(stats.failedRequests, modes.length);
  });
}

/** A connection whose direct channel throws from the calls the session makes. */
function throwingDirect(): { conn: Connection; written: Uint8Array[] } {
  const written: Uint8Array[] = [];
  const channel: DirectChannel = {
    write(bytes) {
      written.push(bytes);
      return true;
    },
    closeWrite: () => Promise.resolve(),
    pause() {
      throw new TypeError("pause threw");
    },
    resume() {},
  };
  const conn = connectionOver(channel);
  return { conn, written };
}

/** DirectSession options for the guard tests: internal errors go to `caught`. */
function guardedOptions(
  o: { maxBufferedBytes: number; budget: FrameBudget; limit: SharedFlowLimit; caught: unknown[] },
): DirectSessionOptions {
  return {
    maxFrameLength: 1024,
    maxInFlight: 8,
    maxBufferedBytes: o.maxBufferedBytes,
    framingFailure: () => new Uint8Array(4),
    budget: o.budget,
    limit: o.limit,
    internalError: (e) => o.caught.push(e),
    failureGraceMs: 10,
    lingerMs: 10,
    lingerBytes: 10,
  };
}

Deno.test("DirectSession: an exception inside a callback fails the session, counted, and does not escape", async () => {
  const { conn } = throwingDirect();
  const caught: unknown[] = [];
  const limit = new SharedFlowLimit(10, 1 << 20);
  const budget = new FrameBudget(1 << 20);
  const session = new DirectSession(
    conn,
    () => new Uint8Array(4),
    guardedOptions({ maxBufferedBytes: 4, budget, limit, caught }),
  );
  const done = session.start();
  // Two frames: the first answer fills the 4 bytes of room, so the session
  // pauses the channel for the second, which throws.
  session.data(new Uint8Array([0, 0, 0, 1, 7, 0, 0, 0, 1, 7]));
  session.drain();
  session.end();
  const end = await done;
  assert(end.error instanceof TypeError, `ended with the exception: ${end.error}`);
  assertEquals(caught.length, 1);
  assertEquals([budget.used, limit.heldBytes, limit.inFlight], [0, 0, 0]);
});

Deno.test("DirectSession: a handler that throws or a promise that rejects fails the session, counted", async () => {
  for (
    const handler of [
      () => {
        throw new Error("handler threw");
      },
      () => Promise.reject(new Error("handler rejected")),
    ]
  ) {
    const { conn } = throwingDirect();
    const caught: unknown[] = [];
    const limit = new SharedFlowLimit(10, 1 << 20);
    const session = new DirectSession(
      conn,
      handler,
      guardedOptions({
        maxBufferedBytes: 1 << 20,
        budget: new FrameBudget(1 << 20),
        limit,
        caught,
      }),
    );
    const done = session.start();
    session.data(new Uint8Array([0, 0, 0, 1, 7]));
    const end = await done;
    assert(end.error instanceof Error);
    assertEquals(caught.length, 1);
    assertEquals(limit.inFlight, 0);
  }
});

Deno.test("RequestHandlerStream: a throwing handler is reported through onError", async () => {
  const seen: unknown[] = [];
  const stage = new RequestHandlerStream(() => {
    throw new Error("handler threw");
  }, { onError: (e) => seen.push(e) });
  const out = ReadableStream.from([[new Uint8Array([1])]]).pipeThrough(stage);
  let failed = false;
  try {
    await Array.fromAsync(out);
  } catch {
    failed = true;
  }
  assert(failed, "the stage errors");
  assertEquals(seen.length, 1);
});

Deno.test("DeadlineSweeper: a request whose expiry throws is counted; the others still expire", async () => {
  const caught: unknown[] = [];
  const expired: InFlight[] = [];
  const sweeper = new DeadlineSweeper(20, (f) => {
    if (f.frame[0] === 1) throw new Error("expire threw");
    expired.push(f);
    sweeper.delete(f);
  }, (e) => caught.push(e));
  const bad = new InFlight(new Uint8Array(16).fill(1), performance.now());
  const good = new InFlight(new Uint8Array(16), performance.now());
  sweeper.add(bad);
  sweeper.add(good);
  for (let i = 0; i < 50 && expired.length === 0; i++) await delay(10);
  sweeper.stop();
  assertEquals(expired, [good]);
  assertEquals(caught.length, 1);
  assertEquals(sweeper.inFlight.size, 0, "the throwing one is dropped, not retried forever");
});

Deno.test("AcceptLoop: a connection whose hand-over throws is counted and closed; accepting goes on", async () => {
  let closed = 0;
  const fake = (): Connection => ({ close: () => Promise.resolve(void closed++) }) as Connection;
  const queue = [fake(), fake(), null];
  const listener = {
    accept: () => Promise.resolve(queue.shift() ?? null),
  } as unknown as Listener;
  const caught: unknown[] = [];
  let handed = 0;
  const loop = new AcceptLoop(listener, {
    closing: () => false,
    accepted: () => {
      if (handed++ === 0) throw new Error("accepted threw");
    },
    internalError: (e) => caught.push(e),
  });
  await loop.done;
  assertEquals([handed, caught.length, closed], [2, 1, 1]);
});
