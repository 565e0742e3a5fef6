/**
 * The bound on the request bytes a connection holds unwritten
 * (`maxQueuedBytesPerConnection`), and the removal of the bytes of requests
 * that expire or are aborted before a write took them.
 */

import {
  type ConnectOptions,
  DeadlineExceededError,
  KvStateId,
  MemoryTransport,
  NetworkClient,
  RequestQueueFullError,
  type Transport,
} from "../../mod.ts";
import {
  decodeKvStateInternalRequest,
  decodeMessage,
  encodeKvStateResponse,
} from "../../src/wire/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import { delay, type RawPeer, SOCKET_TRANSPORTS } from "../_harness.ts";
import { eventually } from "./_eventually.ts";
import { Prng } from "../_prng.ts";
import { withClient } from "./_with_client.ts";

const KV_STATE_ID = KvStateId.fromHex("0a0b0c0d0e0f10111213141516171819");
/** Key bytes that name request `n` (a frame of 44 bytes). */
const keyOf = (n: number) => new Uint8Array([2, n & 0xff, (n >> 8) & 0xff, 42]);
const req = (n: number) => ({ kvStateId: KV_STATE_ID, serializedKeyAndNamespace: keyOf(n) });
const FRAME = 44;

/** The request number a received frame carries, and its request id. */
function parse(frame: Uint8Array): { n: number; id: bigint } {
  const m = decodeMessage(frame.subarray(4));
  assert(m.type === 0);
  const kn = decodeKvStateInternalRequest(m.body).serializedKeyAndNamespace;
  return { n: kn[1] | (kn[2] << 8), id: m.requestId };
}

/** A transport whose connects wait for `release()` (requests queue meanwhile). */
function gated(inner: Transport): { transport: Transport; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return {
    transport: {
      name: "gated",
      listen: (address) => inner.listen(address),
      async connect(options: ConnectOptions) {
        await gate;
        return inner.connect(options);
      },
    },
    release,
  };
}

/** Whether a promise has settled after a few microtask turns. */
async function settledSoon(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(() => (settled = true), () => (settled = true));
  for (let i = 0; i < 3; i++) await Promise.resolve();
  return settled;
}

/**
 * Answers the request frames the peer gets (the request number as content):
 * `count` of them at most, or up to request number `lastN`.
 */
async function answer(peer: RawPeer, count: number, lastN = -1): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) {
    const f = await peer.frame();
    if (f === null) break;
    const { n, id } = parse(f);
    seen.push(n);
    await peer.send(encodeKvStateResponse(id, new Uint8Array([n & 0xff])));
    if (n === lastN) break;
  }
  return seen;
}

for (const tc of SOCKET_TRANSPORTS) {
  Deno.test(`NetworkClient [${tc.name}]: a state server that never reads holds at most the bound; requests past it fail at once; expired bytes are dropped`, async () => {
    const BOUND = 256 * 1024;
    const DEADLINE = 1500;
    const transport = tc.make();
    const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = listener.accept(); // accepted, never read
    const client = new NetworkClient({
      transport,
      maxQueuedBytesPerConnection: BOUND,
      requestTimeoutMs: DEADLINE,
    });
    const kn = new Uint8Array(64 * 1024).fill(7);
    const outcomes: unknown[] = [];
    const handler = (frame: Uint8Array | null, error: unknown, i: number) => {
      outcomes[i] = frame ?? error;
    };
    try {
      const started = performance.now();
      let sent = 0;
      let refusedAt = -1;
      let most = 0;
      // ~15 MB at most; the kernel's buffers on loopback take a few MB before writes wait.
      for (let i = 0; i < 240 && performance.now() - started < DEADLINE / 2; i++) {
        client.forwardInternalRequest(listener.address, KV_STATE_ID, kn, handler, i);
        sent++;
        most = Math.max(most, client.queuedBytes);
        assert(client.queuedBytes <= BOUND, `queued ${client.queuedBytes} > ${BOUND}`);
        if (outcomes[i] !== undefined) {
          // Answered before forwardInternalRequest returned: refused at once.
          assertInstanceOf(outcomes[i], RequestQueueFullError);
          refusedAt = i;
          break;
        }
        await delay(0);
      }
      assert(refusedAt >= 0, `no request was refused after ${sent} requests of 64 KiB`);
      assert(most > BOUND - 2 * kn.length, `the outbox filled up to the bound (${most})`);
      const err = outcomes[refusedAt] as RequestQueueFullError;
      assertEquals(err.javaClassName, "java.util.concurrent.RejectedExecutionException");
      assert(err.message.includes("maxQueuedBytesPerConnection"), err.message);
      // The promise API is refused at once too, and changes nothing.
      const before = client.queuedBytes;
      const refused = client.sendKvStateInternalRequest(listener.address, {
        kvStateId: KV_STATE_ID,
        serializedKeyAndNamespace: kn,
      });
      assert(await settledSoon(refused), "refused at once");
      await assertRejects(() => refused, RequestQueueFullError);
      assertEquals(client.queuedBytes, before);
      // After the deadlines, the bytes nobody wrote are gone.
      assert(await eventually(() => client.queuedBytes === 0, DEADLINE + 2000), "outbox emptied");
      assert(
        await eventually(() => outcomes.filter((o) => o !== undefined).length === sent, 1000),
        "every request settled",
      );
      for (const o of outcomes) {
        assert(
          o instanceof DeadlineExceededError || o instanceof RequestQueueFullError,
          `unexpected outcome ${o}`,
        );
      }
      assertEquals(client.connectionCount, 1, "the connection itself stays");
    } finally {
      await client.close();
      await (await accepted)?.close();
      await listener.close();
    }
  });
}

Deno.test("NetworkClient: requests queued while connecting count toward the bound; aborted and expired ones leave the outbox; the rest go out intact", async () => {
  const memory = new MemoryTransport();
  const { transport, release } = gated(memory);
  await withClient(memory, {
    transport,
    maxQueuedBytesPerConnection: 10 * FRAME,
    requestTimeoutMs: 0,
  }, async (client, fake) => {
    const controllers = new Map<number, AbortController>();
    const answers = new Map<number, Promise<Uint8Array>>();
    for (let n = 0; n < 10; n++) {
      const c = new AbortController();
      controllers.set(n, c);
      answers.set(
        n,
        client.sendKvStateInternalRequest(fake.address, req(n), {
          signal: c.signal,
          timeoutMs: n === 4 || n === 5 ? 50 : 0,
        }),
      );
    }
    assertEquals(client.queuedBytes, 10 * FRAME, "ten frames wait for the connection");
    const full = client.sendKvStateInternalRequest(fake.address, req(10));
    assert(await settledSoon(full), "refused at once");
    await assertRejects(() => full, RequestQueueFullError, "is full");
    assertEquals(client.queuedBytes, 10 * FRAME);

    // Aborted in the middle: their bytes no longer count.
    controllers.get(1)!.abort();
    controllers.get(3)!.abort();
    await assertRejects(() => answers.get(1)!, DeadlineExceededError, "aborted");
    await assertRejects(() => answers.get(3)!, DeadlineExceededError, "aborted");
    assertEquals(client.queuedBytes, 8 * FRAME);
    // So two more fit.
    const last = new AbortController();
    answers.set(11, client.sendKvStateInternalRequest(fake.address, req(11)));
    answers.set(
      12,
      client.sendKvStateInternalRequest(fake.address, req(12), { signal: last.signal }),
    );
    assertEquals(client.queuedBytes, 10 * FRAME);
    await assertRejects(
      () => client.sendKvStateInternalRequest(fake.address, req(13)),
      RequestQueueFullError,
    );
    // Aborting the last one queued.
    last.abort();
    await assertRejects(() => answers.get(12)!, DeadlineExceededError, "aborted");
    assertEquals(client.queuedBytes, 9 * FRAME);

    // 4 and 5 expire while the connection is still opening.
    await assertRejects(() => answers.get(4)!, DeadlineExceededError, "within 50 ms");
    await assertRejects(() => answers.get(5)!, DeadlineExceededError, "within 50 ms");
    assertEquals(client.queuedBytes, 7 * FRAME);

    release();
    const peer = await fake.accept();
    const live = [0, 2, 6, 7, 8, 9, 11];
    const seen = await answer(peer, live.length);
    assertEquals(seen, live, "exactly the live requests, in order, each frame intact");
    for (const n of live) assertEquals((await answers.get(n)!)[0], n);
    assertEquals(client.queuedBytes, 0);
  });
});

Deno.test("NetworkClient: many aborts in any order keep the outbox consistent", async () => {
  const memory = new MemoryTransport();
  const { transport, release } = gated(memory);
  const rng = new Prng(9);
  await withClient(memory, { transport, requestTimeoutMs: 0 }, async (client, fake) => {
    const total = 300;
    const controllers: AbortController[] = [];
    const answers: Promise<Uint8Array>[] = [];
    for (let n = 0; n < total; n++) {
      controllers.push(new AbortController());
      answers.push(
        client.sendKvStateInternalRequest(fake.address, req(n), {
          signal: controllers[n].signal,
        }),
      );
      answers[n].catch(() => {});
    }
    // Abort all but every 7th, in a shuffled order; more queue in between.
    const order = [...Array(total).keys()].filter((n) => n % 7 !== 0);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let live = total;
    let extra = total;
    for (let k = 0; k < order.length; k++) {
      controllers[order[k]].abort();
      live--;
      if (k % 25 === 0) {
        answers.push(client.sendKvStateInternalRequest(fake.address, req(extra++)));
        live++;
      }
      assertEquals(client.queuedBytes, live * FRAME, `after ${k + 1} aborts`);
    }
    const expected = [...Array(extra).keys()].filter((n) => n >= total || n % 7 === 0);
    release();
    const peer = await fake.accept();
    // Abandoned frames below half of the outbox may still go out; their answers are dropped.
    const seen = (await answer(peer, extra, extra - 1)).filter((n) => n >= total || n % 7 === 0);
    assertEquals(seen, expected);
    for (const n of expected) assertEquals((await answers[n])[0], n & 0xff);
  });
});

Deno.test("NetworkClient: a request larger than the bound goes when nothing else waits", async () => {
  const memory = new MemoryTransport();
  const { transport, release } = gated(memory);
  await withClient(
    memory,
    { transport, maxQueuedBytesPerConnection: 100 },
    async (client, fake) => {
      const big = client.sendKvStateInternalRequest(fake.address, {
        kvStateId: KV_STATE_ID,
        serializedKeyAndNamespace: new Uint8Array(200),
      });
      assertEquals(client.queuedBytes, 240);
      const next = new Uint8Array(1);
      let refusal: unknown;
      client.forwardInternalRequest(fake.address, KV_STATE_ID, next, (_f, e) => (refusal = e), 0);
      assertInstanceOf(refusal, RequestQueueFullError, "refused before the call returned");
      release();
      const peer = await fake.accept();
      const f = (await peer.frame())!;
      await peer.send(encodeKvStateResponse(parse(f).id, new Uint8Array([1])));
      assertEquals((await big)[0], 1);
    },
  );
});

Deno.test("NetworkClient: maxQueuedBytesPerConnection must be positive", () => {
  for (const bad of [0, -1, Number.NaN]) {
    let thrown: unknown;
    try {
      new NetworkClient({ transport: new MemoryTransport(), maxQueuedBytesPerConnection: bad });
    } catch (e) {
      thrown = e;
    }
    assertInstanceOf(thrown, RangeError);
  }
  assertEquals(
    new NetworkClient({ transport: new MemoryTransport() }).maxQueuedBytesPerConnection,
    16 * 1024 * 1024,
  );
});
