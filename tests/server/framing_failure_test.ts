/**
 * After a framing error the peer reliably reads why: the server writes
 * Flink's SERVER_FAILURE after the answers before it, half-closes, and reads
 * and discards what the peer still sends before it closes, so the close does
 * not turn into a reset that drops the tail of what was written. Over real
 * sockets, on both server paths, with a peer that reads late (its receive
 * window full of answers when the bad prefix arrives).
 */

import {
  AbstractServer,
  concatBytes,
  decodeKvStateInternalRequest,
  decodeMessage,
  encodeKvStateInternalRequest,
  KvStateId,
  type KvStateInternalRequest,
  MessageType,
  readJavaThrowable,
  requestIdOf,
} from "../../mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { delay, RawPeer, SOCKET_TRANSPORTS } from "../_harness.ts";

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
