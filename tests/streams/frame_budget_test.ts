/**
 * The shared budget of the frame decoders: what a carry-over reserves, when
 * it is given back, and the error when it does not fit.
 */

import {
  DecoderState,
  FrameBudget,
  FrameBudgetError,
  FrameDecoderStream,
  SharedFlowLimit,
} from "../../src/streams/mod.ts";
import { assert, assertEquals } from "../_assert.ts";

/** A frame of `n` body bytes, with its prefix. */
function frame(n: number, fill = 1): Uint8Array {
  const f = new Uint8Array(4 + n).fill(fill);
  new DataView(f.buffer).setInt32(0, n);
  return f;
}

Deno.test("DecoderState with a budget: a carry-over reserves its buffer, grows within it, and gives it back", () => {
  const budget = new FrameBudget(200_000);
  const d = new DecoderState(1 << 20, budget);
  const big = frame(150_000);
  const out: Uint8Array[] = [];
  assertEquals(d.push(big.subarray(0, 10), out), null);
  assertEquals(budget.used, 65536, "sized for the frame up to 64 KiB");
  const id = d.partialFrame;
  assert(id !== 0);
  assertEquals(d.push(big.subarray(10, 70_000), out), null);
  assertEquals(budget.used, 131072, "doubled");
  assertEquals(d.partialFrame, id, "the same partial frame");
  assertEquals(d.push(big.subarray(70_000), out), null);
  assertEquals(out.length, 1);
  assertEquals(out[0].length, 150_000);
  assertEquals(budget.used, 0, "complete: given back");
  assertEquals(d.partialFrame, 0);
  // Whole frames inside a chunk cost nothing.
  assertEquals(d.push(frame(1000), out), null);
  assertEquals(budget.used, 0);
  // A new partial frame has a new id; reset gives it back.
  d.push(big.subarray(0, 100), out);
  assert(d.partialFrame !== 0 && d.partialFrame !== id);
  d.reset();
  assertEquals(budget.used, 0);
});

Deno.test("DecoderState with a budget: a frame that does not fit fails with FrameBudgetError and holds nothing", () => {
  const budget = new FrameBudget(100_000);
  const a = new DecoderState(1 << 20, budget);
  const b = new DecoderState(1 << 20, budget);
  const out: Uint8Array[] = [];
  assertEquals(a.push(frame(80_000).subarray(0, 100), out), null);
  // The frames before the one that does not fit are handed over.
  const chunk = new Uint8Array([...frame(3), ...frame(80_000).subarray(0, 100)]);
  const err = b.push(chunk, out);
  assert(err instanceof FrameBudgetError, String(err));
  assertEquals(err.frameLength, 80_004);
  assertEquals(err.budget, 100_000);
  assertEquals(err.javaClassName, "io.netty.handler.codec.TooLongFrameException");
  assertEquals(out.length, 1);
  assertEquals(budget.used, 65536, "only the first decoder's reservation");
  // Growing past the budget fails too, and gives back what was held.
  const err2 = a.push(frame(80_000).subarray(100, 60_000), out);
  assertEquals(err2, null, "80,004 bytes fit");
  const c = new DecoderState(1 << 20, budget);
  assert(c.push(frame(50_000).subarray(0, 10), out) instanceof FrameBudgetError);
  a.reset();
  assertEquals(budget.used, 0);
});

Deno.test("FrameDecoderStream with a budget: the reservation is given back at the end and on cancel", async () => {
  const budget = new FrameBudget(1 << 20);
  const ended = ReadableStream.from([frame(100_000).subarray(0, 50)]).pipeThrough(
    new FrameDecoderStream({ budget }),
  );
  assertEquals(await Array.fromAsync(ended), []);
  assertEquals(budget.used, 0, "a partial frame at the end is dropped");
  const stream = new FrameDecoderStream({ budget });
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const pending = reader.read(); // takes the backpressure off
  await writer.write(frame(100_000).subarray(0, 50));
  assertEquals(budget.used, 65536);
  await reader.cancel();
  assertEquals((await pending).done, true);
  await writer.closed.catch(() => {});
  assertEquals(budget.used, 0, "cancelled: given back");
});

Deno.test("FrameBudget and SharedFlowLimit: bounds are validated", () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    let threw = false;
    try {
      new FrameBudget(bad);
    } catch (e) {
      threw = e instanceof RangeError;
    }
    assert(threw, `FrameBudget(${bad})`);
  }
  for (const [a, b] of [[0, 1], [1, 0], [1.5, 1]]) {
    let threw = false;
    try {
      new SharedFlowLimit(a, b);
    } catch (e) {
      threw = e instanceof RangeError;
    }
    assert(threw, `SharedFlowLimit(${a}, ${b})`);
  }
  const limit = new SharedFlowLimit(1, 10);
  limit.heldBytes = 10;
  assertEquals(limit.blocks(0, 0), false, "nothing held: may go on");
  assertEquals(limit.blocks(0, 1), true);
  let woken = 0;
  limit.wait(() => woken++);
  limit.wake();
  assertEquals(woken, 1, "the in-flight bound has room");
  assertEquals(limit.waiting, 0);
});

Deno.test("DecoderState: small frames sharing a large chunk with carried-over bytes do not keep the chunk", () => {
  const d = new DecoderState(1 << 20);
  const out: Uint8Array[] = [];
  const big = frame(100_000, 9);
  // The tail of a carried-over frame, two small frames, the start of the next large one.
  d.push(big.subarray(0, 60_000), out);
  const chunk = new Uint8Array([
    ...big.subarray(60_000),
    ...frame(3, 1),
    ...frame(2, 2),
    ...frame(50_000).subarray(0, 20_000),
  ]);
  d.push(chunk, out);
  assertEquals(out.map((f) => f.length), [100_000, 3, 2]);
  assert(out[1].buffer !== chunk.buffer && out[2].buffer === out[1].buffer, "copied out together");
  assertEquals([...out[1], ...out[2]], [1, 1, 1, 2, 2]);
  // A chunk made mostly of whole frames keeps them as views.
  const full = new Uint8Array([...frame(3000, 4), ...frame(2000, 5), 0, 0]);
  d.reset();
  out.length = 0;
  d.push(full, out);
  assert(out.every((f) => f.buffer === full.buffer), "views");
});

Deno.test("SharedFlowLimit with a budget: while it is spent, a stage with a request in progress waits (one with none may start); giving bytes back wakes it", () => {
  const budget = new FrameBudget(100);
  const limit = new SharedFlowLimit(1000, 1 << 20, budget);
  assertEquals(limit.blocks(1, 0), false);
  budget.hold(100);
  assertEquals(limit.blocks(1, 0), true, "spent: a stage with a request in progress waits");
  assertEquals(limit.blocks(0, 0), false, "a stage with none may start one");
  let woken = 0;
  limit.wait(() => woken++);
  limit.wake();
  assertEquals(woken, 1, "woken to check again (the other bounds have room)");
  // Every bound at its limit: nobody is woken.
  const full = new SharedFlowLimit(1, 1, budget);
  full.inFlight = 1;
  full.heldBytes = 1;
  full.wait(() => woken++);
  full.wake();
  assertEquals(woken, 1);
  budget.release(1);
  full.wake();
  assertEquals(woken, 2, "the budget has room again");
  // Without a budget, the old rule.
  const plain = new SharedFlowLimit(1, 1);
  assertEquals(plain.blocks(1, 0), false);
});
