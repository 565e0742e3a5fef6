/**
 * The request stage's hooks for a consumer that writes the answers itself:
 * batches joined into one buffer, bytes being written counted as held, and
 * waiting for room before reading more input.
 */

import { RequestHandlerStream, SharedFlowLimit } from "../../src/streams/mod.ts";
import { assert, assertEquals } from "../_assert.ts";

const frame = (n: number) => new Uint8Array([n, n]);

Deno.test("RequestHandlerStream joinBatches: a batch of several answers is one buffer, in order; a single answer passes as is", async () => {
  const stage = new RequestHandlerStream((f) => frame(f[0]), { joinBatches: true });
  const out = ReadableStream.from([
    [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])],
    [new Uint8Array([4])],
  ]).pipeThrough(stage);
  const batches = await Array.fromAsync(out);
  assertEquals(batches.map((b) => b.map((f) => Array.from(f))), [
    [[1, 1, 2, 2, 3, 3]],
    [[4, 4]],
  ]);
});

Deno.test("RequestHandlerStream countWriting: bytes being written hold the stage (its bound and the shared one) until written", async () => {
  const limit = new SharedFlowLimit(100, 1 << 20);
  const stage = new RequestHandlerStream((f) => frame(f[0]), { maxBufferedBytes: 10, limit });
  const writer = stage.writable.getWriter();
  const reader = stage.readable.getReader();
  await writer.write([new Uint8Array([1])]);
  const { value } = await reader.read();
  assertEquals(value!.length, 1);
  await stage.waitForRoom(); // read: room again
  stage.countWriting(10);
  assertEquals(limit.heldBytes, 10);
  let room = false;
  const waiting = stage.waitForRoom().then(() => (room = true));
  await new Promise((r) => setTimeout(r, 10));
  assert(!room, "10 bytes being written fill the stage's 10");
  stage.countWriting(-10);
  await waiting;
  assertEquals(limit.heldBytes, 0);
  await writer.close();
  assertEquals((await reader.read()).done, true);
});
