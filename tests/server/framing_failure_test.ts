/**
 * After a framing error the peer reliably reads why: the server writes
 * Flink's SERVER_FAILURE after the answers before it (those of requests
 * still in progress too, within the close grace), half-closes, and reads
 * and discards what the peer still sends before it closes, so the close does
 * not turn into a reset that drops the tail of what was written. Over real
 * sockets, on both server paths, with a peer that reads late (its receive
 * window full of answers when the bad prefix arrives), and with requests
 * answered late (the state server's regular path, and the proxy's fast path
 * in front of a slow state server).
 */

import { AbstractServer, KvStateId, requestIdOf } from "../../mod.ts";
import {
  concatBytes,
  decodeKvStateInternalRequest,
  decodeMessage,
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  type KvStateInternalRequest,
  MessageType,
  readJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { delay, RawPeer, SOCKET_TRANSPORTS } from "../_harness.ts";
import { JOB, Plane } from "../proxy/_plane.ts";

const RUNS = 5;
const ANSWERS = 128;
const ANSWER_BYTES = 64 * 1024;

/** Answers every request with 64 KiB. */
class Big extends AbstractServer<KvStateInternalRequest> {
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }
  protected handleRequest(): Uint8Array {
    return new Uint8Array(ANSWER_BYTES).fill(0x33);
  }
}

const request = (id: number) =>
  encodeKvStateInternalRequest(BigInt(id), {
    kvStateId: KvStateId.fromHex("000102030405060708090a0b0c0d0e0f"),
    serializedKeyAndNamespace: new Uint8Array([1]),
  });

for (const tc of SOCKET_TRANSPORTS) {
  Deno.test(`framing failure [${tc.name}]: 8 MiB of answers, then a bad length prefix and 1 MiB more: the peer reads every answer, the SERVER_FAILURE, then EOF (${RUNS} runs)`, async () => {
    const transport = tc.make();
    await using server = new Big("Big Server", { transport });
    await server.start();
    const requests = Array.from({ length: ANSWERS }, (_, i) => request(i + 1));
    const junk = new Uint8Array(1 << 20).fill(0x5a);
    for (let run = 0; run < RUNS; run++) {
      const peer = await RawPeer.connect(transport, server.address);
      try {
        const writing = peer.send(
          concatBytes([...requests, new Uint8Array([0xff, 0xff, 0xff, 0xfe]), junk]),
        );
        writing.catch(() => {});
        // A peer that reads late: its receive window fills with answers.
        await delay(100);
        for (let i = 1; i <= ANSWERS; i++) {
          const answer = await peer.frame();
          assert(answer !== null, `run ${run}: answer ${i}`);
          assertEquals(requestIdOf(answer.subarray(4)), BigInt(i));
          assertEquals(answer.length, 24 + ANSWER_BYTES);
        }
        const failure = await peer.frame();
        assert(failure !== null, `run ${run}: the failure frame arrives`);
        const m = decodeMessage(failure.subarray(4));
        assertEquals(m.type, MessageType.SERVER_FAILURE);
        const t = readJavaThrowable(m.body);
        assertEquals(t.className, "java.lang.RuntimeException");
        assert(
          (t.message ?? "").startsWith("Exception in server pipeline. Caused by: "),
          `run ${run}: ${t.message}`,
        );
        assert((t.message ?? "").includes("negative pre-adjustment length field: -2"), t.message!);
        await writing; // every byte was taken: no reset
        assertEquals(await peer.frame(), null, `run ${run}: then EOF`);
      } finally {
        await peer.close();
      }
    }
    // The server lets go of each connection once its peer is gone.
    for (let i = 0; i < 100 && server.stats.activeConnections > 0; i++) await delay(10);
    assertEquals(server.stats.activeConnections, 0);
  });
}

/** Answers each request after `ms`; a request whose key is [0xff] never. */
class Late extends AbstractServer<KvStateInternalRequest> {
  readonly #ms: number;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  constructor(transport: import("../../mod.ts").Transport, ms: number, closeGraceMs?: number) {
    super("Late Server", { transport, closeGraceMs });
    this.#ms = ms;
  }
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }
  protected handleRequest(req: KvStateInternalRequest): Promise<Uint8Array> {
    if (req.serializedKeyAndNamespace[0] === 0xff) return new Promise(() => {});
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve(req.serializedKeyAndNamespace);
      }, this.#ms);
      this.#timers.add(t);
    });
  }
  protected override onClose(): void {
    for (const t of this.#timers) clearTimeout(t);
  }
}

const BAD_PREFIX = new Uint8Array([0xff, 0xff, 0xff, 0xfe]);

/** The message of a SERVER_FAILURE frame (prefix included). */
function serverFailureMessage(frame: Uint8Array): string {
  const m = decodeMessage(frame.subarray(4));
  assertEquals(m.type, MessageType.SERVER_FAILURE);
  return readJavaThrowable(m.body).message ?? "";
}

/** The next frame is the SERVER_FAILURE naming {@linkcode BAD_PREFIX}'s length; then EOF. */
async function assertBadPrefixFailureThenEof(peer: RawPeer): Promise<void> {
  const failure = await peer.frame();
  assert(failure !== null, "the failure frame");
  assert(
    serverFailureMessage(failure).includes("negative pre-adjustment length field: -2"),
    serverFailureMessage(failure),
  );
  assertEquals(await peer.frame(), null, "then EOF");
}

for (const tc of SOCKET_TRANSPORTS) {
  Deno.test(`framing failure [${tc.name}]: 5 requests answered after 150 ms, then a bad prefix in the same write: 5 answers, the SERVER_FAILURE, EOF`, async () => {
    const transport = tc.make();
    await using server = new Late(transport, 150);
    await server.start();
    const peer = await RawPeer.connect(transport, server.address);
    try {
      const requests = [1, 2, 3, 4, 5].map((id) =>
        encodeKvStateInternalRequest(BigInt(id), {
          kvStateId: KvStateId.fromHex("000102030405060708090a0b0c0d0e0f"),
          serializedKeyAndNamespace: new Uint8Array([id]),
        })
      );
      const t0 = performance.now();
      await peer.send(...requests, BAD_PREFIX);
      const ids: bigint[] = [];
      for (let i = 0; i < 5; i++) {
        const answer = await peer.frame();
        assert(answer !== null, `answer ${i + 1}`);
        assertEquals(answer[11], MessageType.REQUEST_RESULT);
        ids.push(requestIdOf(answer.subarray(4)));
      }
      assertEquals(ids.sort(), [1n, 2n, 3n, 4n, 5n]);
      assert(performance.now() - t0 >= 140, "the answers came when the requests finished");
      await assertBadPrefixFailureThenEof(peer);
    } finally {
      await peer.close();
    }
  });

  Deno.test(`framing failure [${tc.name}]: a request slower than closeGraceMs is dropped; the SERVER_FAILURE follows the answers there are`, async () => {
    const transport = tc.make();
    await using server = new Late(transport, 20, 200);
    await server.start();
    const peer = await RawPeer.connect(transport, server.address);
    try {
      const request = (id: number, key: number) =>
        encodeKvStateInternalRequest(BigInt(id), {
          kvStateId: KvStateId.fromHex("000102030405060708090a0b0c0d0e0f"),
          serializedKeyAndNamespace: new Uint8Array([key]),
        });
      const t0 = performance.now();
      await peer.send(request(1, 1), request(2, 0xff), request(3, 3), BAD_PREFIX);
      const first = await peer.frames(2);
      assertEquals(first.map((f) => requestIdOf(f.subarray(4))).sort(), [1n, 3n]);
      const failure = await peer.frame();
      assert(failure !== null);
      assert(performance.now() - t0 >= 190, "sent at the end of the grace");
      serverFailureMessage(failure);
      assertEquals(await peer.frame(), null, "request 2 is never answered; EOF");
    } finally {
      await peer.close();
    }
  });

  Deno.test(`framing failure [${tc.name}]: through the proxy (fast path) in front of a state server answering after 150 ms: 5 answers, the SERVER_FAILURE, EOF`, async () => {
    const transport = tc.make();
    const plane = await Plane.start(transport);
    const timers = new Set<ReturnType<typeof setTimeout>>();
    try {
      const server = await plane.addServer();
      plane.register("late", server, {
        getSerializedValue: (kn: Uint8Array) =>
          new Promise<Uint8Array>((resolve) => {
            const t = setTimeout(() => {
              timers.delete(t);
              resolve(kn.slice());
            }, 150);
            timers.add(t);
          }),
      });
      const request = (id: number) =>
        encodeKvStateRequest(BigInt(id), {
          jobId: JOB,
          stateName: "late",
          keyHashCode: id,
          serializedKeyAndNamespace: new Uint8Array([id]),
        });
      const peer = await RawPeer.connect(transport, plane.proxyAddress);
      try {
        // The location is cached first: the requests then take the fast path.
        await peer.send(request(100));
        assertEquals(requestIdOf((await peer.frame())!.subarray(4)), 100n);
        const t0 = performance.now();
        await peer.send(request(1), request(2), request(3), request(4), request(5), BAD_PREFIX);
        const answers = await peer.frames(5);
        assert(performance.now() - t0 >= 140, "the answers came from the slow state server");
        for (const a of answers) assertEquals(a[11], MessageType.REQUEST_RESULT);
        assertEquals(answers.map((a) => requestIdOf(a.subarray(4))).sort(), [1n, 2n, 3n, 4n, 5n]);
        await assertBadPrefixFailureThenEof(peer);
      } finally {
        await peer.close();
      }
    } finally {
      for (const t of timers) clearTimeout(t);
      await plane.close();
    }
  });
}
