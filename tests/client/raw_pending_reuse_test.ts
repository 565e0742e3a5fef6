/**
 * A raw request's entry is reused once settled (`rawPending` in
 * `src/client/pending.ts`): a settled entry taken again at once by a new
 * request must not be reached through anything the old request left (its
 * id in the pending table, its place in the outbox), so a late answer for
 * the old request settles nothing.
 */

import { DeadlineExceededError, KvStateId, MemoryTransport } from "../../mod.ts";
import { encodeKvStateResponse } from "../../src/wire/mod.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { delay } from "../_harness.ts";
import { eventually } from "./_eventually.ts";
import { withClient } from "./_with_client.ts";

const KV_STATE_ID = KvStateId.fromHex("0a0b0c0d0e0f10111213141516171819");
const KN = new Uint8Array([2, 0x61, 42, 0]);

Deno.test("NetworkClient: an expired raw request's entry, reused at once by its handler, is not settled by the late answer of the expired request", async () => {
  const transport = new MemoryTransport();
  await withClient(transport, { transport, requestTimeoutMs: 150 }, async (client, fake) => {
    const calls: Array<[number, Uint8Array | null, unknown]> = [];
    const handler = (frame: Uint8Array | null, error: unknown, i: number): void => {
      calls.push([i, frame === null ? null : frame.slice(), error]);
      // Taken while the entry of request 0 was just given back: it gets that entry.
      if (i === 0) client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 1);
    };
    client.forwardInternalRequest(fake.address, KV_STATE_ID, KN, handler, 0);
    const peer = await fake.accept();
    assert((await peer.frame()) !== null, "request 0 arrived");
    assert(await eventually(() => calls.length >= 1, 2000), "request 0 expired");
    assertEquals(calls[0][0], 0);
    assertInstanceOf(calls[0][2], DeadlineExceededError);
    const second = await peer.frame();
    assert(second !== null, "request 1 arrived");
    assertEquals(second[19], 1, "its request id is 1");
    // The late answer of request 0 first, then request 1's, in one chunk.
    await peer.send(
      encodeKvStateResponse(0n, new Uint8Array([10])),
      encodeKvStateResponse(1n, new Uint8Array([11])),
    );
    assert(await eventually(() => calls.length >= 2, 2000), "request 1 answered");
    await delay(20);
    assertEquals(calls.length, 2, "each request settled once");
    const [i, frame, error] = calls[1];
    assertEquals(i, 1);
    assertEquals(error, undefined);
    assert(frame !== null);
    assertEquals(frame[19], 1, "request 1's answer");
    assertEquals(frame[frame.length - 1], 11);
  });
});
