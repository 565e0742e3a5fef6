import { concatBytes, encodeKvStateResponse, toHex } from "../../src/wire/mod.ts";
import {
  FrameDecoderStream,
  FrameEncoderStream,
  RequestHandlerStream,
} from "../../src/streams/mod.ts";
import { coalesce } from "../../src/streams/frame_encoder_stream.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";

Deno.test("FrameEncoderStream: one write per batch, bytes in order; a single frame is not copied", async () => {
  const a = encodeKvStateResponse(1n, new Uint8Array([1, 2]));
  const b = encodeKvStateResponse(2n, new Uint8Array([3]));
  const chunks = await Array.fromAsync(
    ReadableStream.from([[a, b], [a], []]).pipeThrough(new FrameEncoderStream()),
  );
  assertEquals(chunks.length, 2, "empty batches write nothing");
  assertEquals(toHex(chunks[0]), toHex(concatBytes([a, b])));
  assert(chunks[1] === a);
  assertEquals(coalesce([]).length, 0);
});

Deno.test("decoder -> encoder round trip restores the byte stream", async () => {
  const frames = Array.from(
    { length: 50 },
    (_, i) => encodeKvStateResponse(BigInt(i), new Uint8Array(i)),
  );
  const all = concatBytes(frames);
  const out = await Array.fromAsync(
    ReadableStream.from([all.slice(0, 333), all.slice(333)])
      .pipeThrough(new FrameDecoderStream())
      .pipeThrough(
        new TransformStream<Uint8Array[], Uint8Array[]>({
          transform(batch, c) {
            // Re-add the prefixes.
            c.enqueue(
              batch.map((f) =>
                concatBytes([new Uint8Array([0, 0, f.length >> 8, f.length & 255]), f])
              ),
            );
          },
        }),
      )
      .pipeThrough(new FrameEncoderStream()),
  );
  assertEquals(toHex(concatBytes(out)), toHex(all));
});

Deno.test("RequestHandlerStream: sync answers keep their batch; async ones finish in any order", async () => {
  const gates = new Map<number, () => void>();
  const stage = new RequestHandlerStream((frame) => {
    const n = frame[0];
    if (n % 2 === 0) return new Uint8Array([n]);
    if (n === 9) return null;
    return new Promise((resolve) => gates.set(n, () => resolve(new Uint8Array([n]))));
  });
  const writer = stage.writable.getWriter();
  const reader = stage.readable.getReader();
  // The readable has no queue: the write is taken once a read is pending.
  const first = reader.read();
  await writer.write([0, 1, 2, 3, 4, 9].map((n) => new Uint8Array([n])));
  assertEquals((await first).value?.map((f) => f[0]), [0, 2, 4]);
  gates.get(3)!();
  assertEquals((await reader.read()).value?.map((f) => f[0]), [3]);
  gates.get(1)!();
  assertEquals((await reader.read()).value?.map((f) => f[0]), [1]);
  const closed = writer.close();
  assert((await reader.read()).done);
  await closed;
});

Deno.test("RequestHandlerStream: close waits for requests in flight", async () => {
  let release!: () => void;
  const stage = new RequestHandlerStream(() =>
    new Promise<Uint8Array>((resolve) => (release = () => resolve(new Uint8Array([7]))))
  );
  const out = Array.fromAsync(stage.readable);
  const writer = stage.writable.getWriter();
  await writer.write([new Uint8Array([1])]);
  const closing = writer.close();
  setTimeout(() => release(), 5);
  await closing;
  assertEquals((await out).flat().map((f) => f[0]), [7]);
});

Deno.test("RequestHandlerStream: at maxInFlight the input is not taken (backpressure)", async () => {
  const resolvers: Array<() => void> = [];
  let calls = 0;
  const stage = new RequestHandlerStream(() => {
    calls++;
    return new Promise<Uint8Array>((resolve) => resolvers.push(() => resolve(new Uint8Array([1]))));
  }, { maxInFlight: 2 });
  const writer = stage.writable.getWriter();
  const reader = stage.readable.getReader();
  const pump = (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
    }
  })();
  await writer.write([new Uint8Array([1]), new Uint8Array([2])]);
  assertEquals(calls, 2);
  let thirdTaken = false;
  const third = writer.write([new Uint8Array([3]), new Uint8Array([4])]).then(
    () => (thirdTaken = true),
  );
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(calls, 2, "no third request while two are in flight");
  assert(!thirdTaken);
  resolvers.shift()!();
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(calls, 3, "one finished, one more taken, mid-batch");
  assert(!thirdTaken);
  for (let i = 0; i < 2; i++) {
    resolvers.shift()!();
    await new Promise((r) => setTimeout(r, 0));
  }
  await third;
  assertEquals(calls, 4);
  for (const r of resolvers.splice(0)) r();
  await writer.close();
  await pump;
  assertThrows(() => new RequestHandlerStream(() => null, { maxInFlight: 0 }), RangeError);
  assertThrows(() => new RequestHandlerStream(() => null, { maxBufferedBytes: 0 }), RangeError);
});

Deno.test("RequestHandlerStream: a consumer that does not read stops the input mid-batch", async () => {
  let calls = 0;
  const big = new Uint8Array(1000);
  const stage = new RequestHandlerStream(() => {
    calls++;
    return big;
  }, { maxBufferedBytes: 10_000 });
  const writer = stage.writable.getWriter();
  let taken = false;
  const write = writer.write(Array.from({ length: 100 }, () => new Uint8Array([0]))).then(
    () => (taken = true),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert(!taken, "the batch is held");
  assert(calls <= 11, `only about maxBufferedBytes of answers were produced (${calls})`);
  const reader = stage.readable.getReader();
  let frames = 0;
  while (frames < 100) frames += (await reader.read()).value!.length;
  await write;
  assertEquals(calls, 100);
  await writer.close();
  assert((await reader.read()).done);
});

Deno.test("RequestHandlerStream: a rejecting handler errors the stream", async () => {
  const stage = new RequestHandlerStream(() => Promise.reject(new Error("bug")));
  const done = Array.fromAsync(stage.readable);
  const writer = stage.writable.getWriter();
  await writer.write([new Uint8Array([1])]).catch(() => {});
  await assertRejects(() => done, Error, "bug");
  await writer.closed.catch(() => {});
});

Deno.test("RequestHandlerStream: a handler that throws errors both sides (a pipe through it ends)", async () => {
  const boom = new Error("handler broke");
  const stage = new RequestHandlerStream((frame) => {
    if (frame[0] === 2) throw boom;
    return frame;
  });
  const piped = ReadableStream.from([[new Uint8Array([1])], [new Uint8Array([2])]])
    .pipeThrough(stage);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the output never ended")), 2000);
  });
  try {
    const err = await assertRejects(() => Promise.race([Array.fromAsync(piped), hung]));
    assert(err === boom, `the handler's error: ${err}`);
  } finally {
    clearTimeout(timer);
  }
});
