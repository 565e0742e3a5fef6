import {
  concatBytes,
  encodeKvStateRequest,
  encodeKvStateResponse,
  FrameLengthError,
  JobId,
  toHex,
} from "../../src/wire/mod.ts";
import { DecoderState, FrameDecoderStream } from "../../src/streams/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";

async function decodeChunks(
  chunks: Uint8Array[],
  maxFrameLength?: number,
): Promise<Uint8Array[][]> {
  const stream = ReadableStream.from(chunks).pipeThrough(
    new FrameDecoderStream({ maxFrameLength }),
  );
  return await Array.fromAsync(stream);
}

function sampleFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 6; i++) {
    frames.push(encodeKvStateResponse(BigInt(i), new Uint8Array(i * 7).fill(i)));
  }
  frames.push(encodeKvStateRequest(99n, {
    jobId: JobId.random(),
    stateName: "state-€",
    keyHashCode: 12345,
    serializedKeyAndNamespace: new Uint8Array([6, 104, 101, 108, 108, 111, 42, 0]),
  }));
  frames.push(new Uint8Array([0, 0, 0, 0])); // a zero-length frame is legal
  return frames;
}

const withoutPrefix = (f: Uint8Array) => toHex(f.subarray(4));

Deno.test("FrameDecoderStream: many frames in one chunk arrive as one batch of views", async () => {
  const frames = sampleFrames();
  const chunk = concatBytes(frames);
  const batches = await decodeChunks([chunk]);
  assertEquals(batches.length, 1);
  assertEquals(batches[0].map(toHex), frames.map(withoutPrefix));
  for (const f of batches[0]) assert(f.buffer === chunk.buffer, "whole frames are views");
});

Deno.test("FrameDecoderStream: every split point of the whole byte stream", async () => {
  const frames = sampleFrames();
  const all = concatBytes(frames);
  for (let cut = 0; cut <= all.length; cut++) {
    const batches = await decodeChunks([all.slice(0, cut), all.slice(cut)]);
    assertEquals(batches.flat().map(toHex), frames.map(withoutPrefix), `cut at ${cut}`);
  }
  for (let a = 0; a < all.length; a += 3) {
    for (let b = a; b <= all.length; b += 5) {
      const batches = await decodeChunks([all.slice(0, a), all.slice(a, b), all.slice(b)]);
      assertEquals(batches.flat().map(toHex), frames.map(withoutPrefix), `cuts ${a},${b}`);
    }
  }
});

Deno.test("FrameDecoderStream: byte by byte", async () => {
  const frames = sampleFrames();
  const all = concatBytes(frames);
  const chunks = Array.from(all, (b) => new Uint8Array([b]));
  const batches = await decodeChunks(chunks);
  assertEquals(batches.flat().map(toHex), frames.map(withoutPrefix));
});

Deno.test("FrameDecoderStream: random chunking of 2000 frames (seeded)", async () => {
  const rng = new Prng(7);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    frames.push(encodeKvStateResponse(BigInt(i), rng.bytes(rng.int(300))));
  }
  const all = concatBytes(frames);
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < all.length;) {
    const n = 1 + rng.int(700);
    chunks.push(all.slice(off, off + n));
    off += n;
  }
  const batches = await decodeChunks(chunks);
  assertEquals(batches.flat().map(toHex), frames.map(withoutPrefix));
});

Deno.test("FrameDecoderStream: a partial frame at end of input is dropped", async () => {
  const f = encodeKvStateResponse(1n, new Uint8Array(10));
  const batches = await decodeChunks([concatBytes([f, f.subarray(0, 9)])]);
  assertEquals(batches.flat().length, 1);
});

Deno.test("FrameDecoderStream: negative length errors the stream after the good frames", async () => {
  const good = encodeKvStateResponse(1n, new Uint8Array([1]));
  const stream = ReadableStream.from([
    concatBytes([good, new Uint8Array([0xff, 0xff, 0xff, 0xfe])]),
  ])
    .pipeThrough(new FrameDecoderStream());
  const reader = stream.getReader();
  const first = await reader.read();
  assertEquals(first.value?.length, 1);
  const err = await assertRejects(() => reader.read(), FrameLengthError);
  assertEquals(err.length, -2);
  assertEquals(err.message, "negative pre-adjustment length field: -2");
  assertEquals(err.javaClassName, "io.netty.handler.codec.CorruptedFrameException");
});

Deno.test("FrameDecoderStream: the maximum is enforced on the prefix alone", async () => {
  // Only the 4-byte prefix of a huge frame is sent: the error comes at once,
  // with nothing buffered.
  const prefix = new Uint8Array([0x7f, 0xff, 0xff, 0xfb]);
  const err = await assertRejects(() => decodeChunks([prefix]), FrameLengthError);
  assertEquals(err.length, 0x7ffffffb);
  assertEquals(err.maxFrameLength, 64 * 1024 * 1024);
  // Split prefix too.
  await assertRejects(() => decodeChunks([prefix.slice(0, 2), prefix.slice(2)]), FrameLengthError);
  // Exactly at the maximum passes; one above fails.
  const at = concatBytes([new Uint8Array([0, 0, 0, 16]), new Uint8Array(16)]);
  assertEquals((await decodeChunks([at], 16)).flat().length, 1);
  await assertRejects(() => decodeChunks([at], 15), FrameLengthError, "exceeds 15: 16");
  assertThrows(() => new FrameDecoderStream({ maxFrameLength: -1 }), RangeError);
  assertThrows(() => new FrameDecoderStream({ maxFrameLength: 2 ** 31 }), RangeError);
});

Deno.test("DecoderState: a large frame trickled in grows its buffer only as bytes arrive", () => {
  const state = new DecoderState(64 * 1024 * 1024);
  const out: Uint8Array[] = [];
  const len = 32 * 1024 * 1024;
  assertEquals(state.push(new Uint8Array([len >>> 24, (len >>> 16) & 255, 0, 0]), out), null);
  assertEquals(state.push(new Uint8Array(1000), out), null);
  assertEquals(state.buffered, 1004);
  assertEquals(out.length, 0);
});

Deno.test("DecoderState: returns the error instead of throwing", () => {
  const state = new DecoderState(100);
  const out: Uint8Array[] = [];
  const err = state.push(new Uint8Array([0, 0, 0, 1, 9, 0, 0, 0, 101]), out);
  assertInstanceOf(err, FrameLengthError);
  assertEquals(out.length, 1);
});

vectorTest(
  "FrameDecoderStream: every Flink vector frame, split at every byte boundary",
  async () => {
    const files = entries().filter((e) => e.kind === "frame" || e.kind === "capturedFrame");
    assert(files.length > 50);
    for (const e of files) {
      const bytes = readVector(e.file);
      const step = bytes.length > 2000 ? 997 : 1;
      for (let cut = 0; cut <= bytes.length; cut += step) {
        const batches = await decodeChunks([bytes.slice(0, cut), bytes.slice(cut)]);
        const frames = batches.flat();
        assertEquals(frames.length, 1, `${e.file} cut ${cut}`);
        assertEquals(frames[0].length, bytes.length - 4);
      }
    }
  },
);

/** Every frame of `chunks` through feed / next / endChunk, and the error met. */
function lazyDecode(
  d: DecoderState,
  chunks: readonly Uint8Array[],
): { frames: Uint8Array[]; error: Error | null } {
  const frames: Uint8Array[] = [];
  for (const c of chunks) {
    d.feed(c);
    for (let f = d.next(); f !== null; f = d.next()) frames.push(f);
    const error = d.endChunk();
    if (error !== null) return { frames, error };
  }
  return { frames, error: null };
}

Deno.test("DecoderState lazily (feed / next / endChunk): every split point gives push's frames, as views", () => {
  const frames = sampleFrames();
  const all = concatBytes(frames);
  for (let cut = 0; cut <= all.length; cut++) {
    const got = lazyDecode(new DecoderState(1 << 20), [all.slice(0, cut), all.slice(cut)]);
    assertEquals(got.error, null);
    assertEquals(got.frames.map(toHex), frames.map(withoutPrefix), `cut at ${cut}`);
  }
  for (let a = 0; a < all.length; a += 3) {
    for (let b = a; b <= all.length; b += 5) {
      const got = lazyDecode(new DecoderState(1 << 20), [
        all.slice(0, a),
        all.slice(a, b),
        all.slice(b),
      ]);
      assertEquals(got.frames.map(toHex), frames.map(withoutPrefix), `cuts at ${a}, ${b}`);
    }
  }
  // Byte by byte.
  const bytes = Array.from(all, (_, i) => all.slice(i, i + 1));
  assertEquals(
    lazyDecode(new DecoderState(1 << 20), bytes).frames.map(toHex),
    frames.map(withoutPrefix),
  );
  // Whole frames are views into the chunk, handed out one call at a time.
  const d = new DecoderState(1 << 20);
  assertEquals(d.feed(all), all.length);
  const first = d.next()!;
  assert(first.buffer === all.buffer, "a view");
  assertEquals(toHex(first), withoutPrefix(frames[0]));
});

Deno.test("DecoderState lazily: the frames before a bad length are handed out first, then endChunk reports it", () => {
  const frames = sampleFrames();
  const bad = new Uint8Array([0x80, 0, 0, 0, 1, 2, 3]);
  for (const max of [1 << 20, 100]) {
    const input = concatBytes([...frames.slice(0, 3), bad]);
    for (let cut = 0; cut <= input.length; cut += 7) {
      const d = new DecoderState(max);
      const got = lazyDecode(d, [input.slice(0, cut), input.slice(cut)]);
      assertInstanceOf(got.error, FrameLengthError);
      assertEquals(got.frames.map(toHex), frames.slice(0, 3).map(withoutPrefix), `cut at ${cut}`);
      assertEquals(d.next(), null, "nothing after the error");
    }
  }
  // A length over the maximum, after a good frame.
  const d = new DecoderState(10);
  d.feed(concatBytes([new Uint8Array([0, 0, 0, 1, 7]), new Uint8Array([0, 0, 0, 11])]));
  assertEquals(Array.from(d.next()!), [7]);
  assertEquals(d.next(), null);
  assertEquals((d.endChunk() as FrameLengthError).message.includes("11"), true);
});

Deno.test("DecoderState lazily with a budget: the tail is carried over (and reserved) only at endChunk; feed counts a completed carry-over", async () => {
  const { FrameBudget, FrameBudgetError } = await import("../../src/streams/mod.ts");
  const budget = new FrameBudget(100_000);
  const d = new DecoderState(1 << 20, budget);
  const small = new Uint8Array([0, 0, 0, 2, 1, 2]);
  const big = new Uint8Array(4 + 90_000);
  new DataView(big.buffer).setInt32(0, 90_000);
  // One whole frame, then the head of the big one.
  const chunk1 = concatBytes([small, big.subarray(0, 1000)]);
  assertEquals(d.feed(chunk1), chunk1.length);
  assertEquals(Array.from(d.next()!), [1, 2]);
  assertEquals(d.next(), null);
  assertEquals(budget.used, 0, "nothing reserved before endChunk");
  assertEquals(d.endChunk(), null);
  assertEquals(budget.used, 65536, "the carry-over");
  assertEquals(d.buffered, 1000);
  // The rest of the big frame and a small one: feed counts the chunk and
  // the completed carry-over buffer (the frame is a view into it).
  const chunk2 = concatBytes([big.subarray(1000), small]);
  const held = d.feed(chunk2);
  assertEquals(held, chunk2.length + big.length);
  assertEquals(budget.used, 0, "the carry-over's reservation is given back: the caller holds it");
  assertEquals(d.next()!.length, 90_000);
  assertEquals(Array.from(d.next()!), [1, 2]);
  assertEquals(d.next(), null);
  assertEquals(d.endChunk(), null);
  // A carry-over over the budget is reported by endChunk.
  budget.hold(99_000);
  d.feed(big.subarray(0, 100));
  assertEquals(d.next(), null);
  assertInstanceOf(d.endChunk(), FrameBudgetError);
  assertEquals(budget.used, 99_000, "nothing reserved");
  budget.release(99_000);
  // clear() drops what was fed and the partial frame.
  d.feed(concatBytes([small, big.subarray(0, 10)]));
  d.clear();
  assertEquals([d.next(), d.endChunk(), d.buffered, budget.used], [null, null, 0, 0]);
});
