/**
 * `deno bench` suites for the codecs and streams:
 *
 *   deno bench -A bench/codecs_bench.ts
 *
 * Per-frame benches do one frame per iteration, so `iter/s` is frames/s.
 * Batch benches say how many frames one iteration handles (`×128`): their
 * frames/s is 128 × `iter/s`. The `stage` group runs the real request stages
 * in memory (no sockets): the state server's request stream on batches, and
 * a whole forward (client → proxy → state server → back) over
 * `MemoryTransport`, so a forwarded request's cost can be read without the
 * kernel. Bytes copied per forwarded request: `bench/bytes_copied.ts`.
 *
 * @module
 */

import {
  InMemoryLocationRegistry,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  MemoryTransport,
  TYPE_SERIALIZERS,
  UnknownKeyOrNamespaceError,
} from "../mod.ts";
import {
  decodeKvStateInternalRequest,
  decodeKvStateRequest,
  decodeMessage,
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  encodeKvStateResponse,
  encodeRequestFailure,
  keyGroupForKeyHash,
  murmurHash,
  readJavaThrowable,
  serializeKeyAndNamespace,
  stringHashCode,
  writeJavaThrowable,
} from "../src/wire/mod.ts";
import { DecoderState, FrameDecoderStream } from "../src/streams/mod.ts";
import { coalesce } from "../src/streams/frame_encoder_stream.ts";
import { requestFailureFrame } from "../src/server/failure_frames.ts";
import {
  BENCH_JOB_ID,
  BENCH_NUM_KEY_GROUPS,
  buildBenchStates,
  buildRequestMix,
} from "./_dataset.ts";

const BATCH = 128;
const states = buildBenchStates(1000);
const proxyMix = buildRequestMix(states, {
  seed: 1,
  size: 1024,
  hitRatio: 0.9,
  keys: 1000,
  mode: "proxy",
});
const directMix = buildRequestMix(states, {
  seed: 1,
  size: 1024,
  hitRatio: 0.9,
  keys: 1000,
  mode: "direct",
});

function concat(frames: readonly Uint8Array[]): Uint8Array {
  return coalesce(frames);
}

/** One chunk holding 128 request frames, as one socket read would deliver. */
const requestChunk = concat(proxyMix.slice(0, BATCH).map((r) => r.frame));
const content = new Uint8Array(8).fill(7);
const responseFrames = Array.from(
  { length: BATCH },
  (_, i) => encodeKvStateResponse(BigInt(i), content),
);
const responseChunk = concat(responseFrames);
const oneRequest = proxyMix[0].frame;
const oneRequestBody = oneRequest.subarray(20);
const oneInternal = directMix[0].frame;
const oneInternalBody = oneInternal.subarray(20);
const kn = serializeKeyAndNamespace("word-123", TYPE_SERIALIZERS.string);
const kvStateId = states[0].kvStateIds[0];
const unknownKey = new UnknownKeyOrNamespaceError(
  "Queryable State Server : No state for the specified key/namespace.",
);
const unknownKeyJava = unknownKey.toJavaThrowable();
const unknownKeyBytes = writeJavaThrowable(unknownKeyJava);
let sink = 0;

// ---- decode ----

Deno.bench("DecoderState.push: one chunk of ×128 KvStateRequest frames", {
  group: "decode",
  baseline: true,
}, () => {
  const d = new DecoderState(64 * 1024 * 1024);
  const out: Uint8Array[] = [];
  d.push(requestChunk, out);
  sink += out.length;
});

Deno.bench("DecoderState.push: ×128 frames split in 2 chunks (carry-over)", {
  group: "decode",
}, () => {
  const d = new DecoderState(64 * 1024 * 1024);
  const out: Uint8Array[] = [];
  const mid = (requestChunk.length >> 1) + 3;
  d.push(requestChunk.subarray(0, mid), out);
  d.push(requestChunk.subarray(mid), out);
  sink += out.length;
});

Deno.bench("FrameDecoderStream: 16 chunks × 128 frames (×2048 frames)", {
  group: "decode",
}, async () => {
  const chunks = Array.from({ length: 16 }, () => requestChunk);
  let n = 0;
  for await (const batch of ReadableStream.from(chunks).pipeThrough(new FrameDecoderStream())) {
    n += batch.length;
  }
  sink += n;
});

Deno.bench("decodeMessage + decodeKvStateRequest (1 frame)", { group: "decode" }, () => {
  const m = decodeMessage(oneRequest.subarray(4));
  sink += decodeKvStateRequest(m.body).keyHashCode;
});

Deno.bench("decodeKvStateRequest body only (1 frame)", { group: "decode" }, () => {
  sink += decodeKvStateRequest(oneRequestBody).keyHashCode;
});

Deno.bench("decodeKvStateInternalRequest body (1 frame)", { group: "decode" }, () => {
  sink += decodeKvStateInternalRequest(oneInternalBody).serializedKeyAndNamespace.length;
});

Deno.bench("DecoderState.push: one chunk of ×128 response frames", { group: "decode" }, () => {
  const d = new DecoderState(64 * 1024 * 1024);
  const out: Uint8Array[] = [];
  d.push(responseChunk, out);
  sink += out.length;
});

// ---- encode ----

Deno.bench("encodeKvStateRequest (1 frame)", { group: "encode", baseline: true }, () => {
  sink += encodeKvStateRequest(5n, {
    jobId: BENCH_JOB_ID,
    stateName: "word-counts",
    keyHashCode: 12345,
    serializedKeyAndNamespace: kn,
  }).length;
});

Deno.bench("encodeKvStateInternalRequest (1 frame)", { group: "encode" }, () => {
  sink += encodeKvStateInternalRequest(5n, { kvStateId, serializedKeyAndNamespace: kn }).length;
});

Deno.bench("encodeKvStateResponse, 8-byte content (1 frame)", { group: "encode" }, () => {
  sink += encodeKvStateResponse(5n, content).length;
});

Deno.bench("encodeRequestFailure, cached throwable bytes (1 frame)", { group: "encode" }, () => {
  sink += encodeRequestFailure(5n, unknownKeyBytes).length;
});

Deno.bench("coalesce ×128 response frames into one write", { group: "encode" }, () => {
  sink += coalesce(responseFrames).length;
});

// ---- java serialization ----

Deno.bench("writeJavaThrowable(UnknownKeyOrNamespaceException)", {
  group: "java",
  baseline: true,
}, () => {
  sink += writeJavaThrowable(unknownKeyJava).length;
});

Deno.bench("readJavaThrowable(UnknownKeyOrNamespaceException)", { group: "java" }, () => {
  sink += readJavaThrowable(unknownKeyBytes).stackTrace.length;
});

Deno.bench("requestFailureFrame(non-bad-request error): wrap + write", { group: "java" }, () => {
  sink += requestFailureFrame(5n, new Error("boom")).length;
});

// ---- routing and keys ----

const hashes = Int32Array.from({ length: 1024 }, (_, i) => Math.imul(i, 0x9e3779b1));
let hi = 0;

Deno.bench("murmurHash (1 hash)", { group: "routing", baseline: true }, () => {
  sink += murmurHash(hashes[hi++ & 1023]);
});

Deno.bench("keyGroupForKeyHash (1 hash)", { group: "routing" }, () => {
  sink += keyGroupForKeyHash(hashes[hi++ & 1023], BENCH_NUM_KEY_GROUPS);
});

Deno.bench('stringHashCode("word-123")', { group: "routing" }, () => {
  sink += stringHashCode("word-123");
});

Deno.bench('serializeKeyAndNamespace("word-123", StringValue)', { group: "routing" }, () => {
  sink += serializeKeyAndNamespace("word-123", TYPE_SERIALIZERS.string).length;
});

// ---- stages (in memory) ----

const serverForStage = new KvStateServer();
for (const s of states) {
  serverForStage.registry.register(s.state, s.kvStateIds[0]);
  serverForStage.registry.register(s.state, s.kvStateIds[1]);
}
const directBatch = directMix.slice(0, BATCH).map((r) => r.frame.subarray(4));

Deno.bench("KvStateServer.requestStream: 16 batches × 128 requests (×2048)", {
  group: "stage",
  baseline: true,
}, async () => {
  const input = ReadableStream.from(Array.from({ length: 16 }, () => directBatch));
  let n = 0;
  for await (const out of input.pipeThrough(serverForStage.requestStream())) n += out.length;
  sink += n;
});

// A whole in-memory state plane for the forward bench.
const transport = new MemoryTransport({ highWaterMark: 1 << 20 });
const server = new KvStateServer({ transport });
for (const s of states) {
  server.registry.register(s.state, s.kvStateIds[0]);
  server.registry.register(s.state, s.kvStateIds[1]);
}
const serverAddress = await server.start();
const registry = new InMemoryLocationRegistry();
for (const s of states) {
  const jobVertexId = JobVertexId.random();
  for (const [range, [start, end]] of [[0, [0, 63]], [1, [64, 127]]] as const) {
    registry.notifyKvStateRegistered({
      jobId: BENCH_JOB_ID,
      jobVertexId,
      registrationName: s.name,
      numKeyGroups: BENCH_NUM_KEY_GROUPS,
      start,
      end,
      kvStateId: s.kvStateIds[range],
      address: serverAddress,
    });
  }
}
const proxy = new KvStateClientProxy({ transport });
proxy.updateKvStateLocationOracle(BENCH_JOB_ID, registry);
const proxyAddress = await proxy.start();

async function roundTrip(address: typeof proxyAddress, chunk: Uint8Array): Promise<void> {
  const conn = await transport.connect(address);
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  const d = new DecoderState(1 << 20);
  const frames: Uint8Array[] = [];
  for (let round = 0; round < 8; round++) {
    await writer.write(chunk);
    let got = 0;
    while (got < BATCH) {
      const { value, done } = await reader.read();
      if (done) throw new Error("closed");
      d.push(value, frames);
      got += frames.length;
      frames.length = 0;
    }
  }
  await conn.close();
}

const directChunk = concat(directMix.slice(0, BATCH).map((r) => r.frame));

Deno.bench("forward over MemoryTransport: client → proxy → server, 8 × 128 (×1024)", {
  group: "forward",
  baseline: true,
}, async () => {
  await roundTrip(proxyAddress, requestChunk);
});

Deno.bench("direct over MemoryTransport: client → server, 8 × 128 (×1024)", {
  group: "forward",
}, async () => {
  await roundTrip(serverAddress, directChunk);
});

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
