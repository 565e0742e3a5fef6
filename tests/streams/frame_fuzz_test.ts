/**
 * Fuzz: 100,000+ random and mutated frames (seeded, reproducible) through the
 * frame decoder and every message decoder. Only the module's typed errors may
 * come out, nothing may hang, and the decoder's buffer stays bounded.
 *
 * FUZZ_SEED and FUZZ_FRAMES override the defaults for longer runs.
 */
import {
  decodeKvStateInternalRequest,
  decodeKvStateRequest,
  decodeKvStateResponse,
  decodeMessage,
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  encodeKvStateResponse,
  encodeRequestFailure,
  encodeServerFailure,
  javaThrowable,
  JobId,
  KvStateId,
  QueryableStateError,
  readJavaThrowable,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { DecoderState } from "../../src/streams/mod.ts";
import { assert } from "../_assert.ts";
import { Prng } from "../_prng.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261125);
const FRAMES = Number(Deno.env.get("FUZZ_FRAMES") ?? 100_000);
const MAX_FRAME = 1 << 16;

function seeds(rng: Prng): Uint8Array[] {
  const t = writeJavaThrowable(
    javaThrowable(
      "java.lang.RuntimeException",
      "boom",
      javaThrowable("java.lang.IllegalStateException", "inner"),
    ),
  );
  return [
    encodeKvStateRequest(rng.int(1000) ? 1n : -1n, {
      jobId: JobId.random(),
      stateName: "word-counts",
      keyHashCode: 99162322,
      serializedKeyAndNamespace: new Uint8Array([6, 104, 101, 108, 108, 111, 42, 0]),
    }),
    encodeKvStateInternalRequest(5n, {
      kvStateId: KvStateId.random(),
      serializedKeyAndNamespace: rng.bytes(12),
    }),
    encodeKvStateResponse(7n, rng.bytes(20)),
    encodeRequestFailure(9n, t),
    encodeServerFailure(t),
  ];
}

function mutate(rng: Prng, frame: Uint8Array): Uint8Array {
  const f = frame.slice();
  switch (rng.int(6)) {
    case 0: // flip bytes
      for (let i = 0, n = 1 + rng.int(4); i < n; i++) f[rng.int(f.length)] ^= 1 << rng.int(8);
      return f;
    case 1: // truncate the body but keep the length field consistent
    {
      const cut = 4 + rng.int(f.length - 4);
      const g = f.slice(0, cut);
      new DataView(g.buffer).setInt32(0, cut - 4);
      return g;
    }
    case 2: // corrupt an inner length field
    {
      const at = 4 + rng.int(Math.max(1, f.length - 8));
      new DataView(f.buffer).setInt32(
        Math.min(at, f.length - 4),
        [-1, 0x7fffffff, rng.int(1 << 20), -rng.int(100)][rng.int(4)],
      );
      return f;
    }
    case 3: // random body of a random type
    {
      const body = rng.bytes(rng.int(200));
      const g = new Uint8Array(12 + body.length);
      const v = new DataView(g.buffer);
      v.setInt32(0, 8 + body.length);
      v.setInt32(4, rng.int(4) ? 0x79a1b710 : rng.int(2 ** 31));
      v.setInt32(8, rng.int(6) - 1);
      g.set(body, 12);
      return g;
    }
    case 4: // insert bytes, fix the prefix
    {
      const at = 4 + rng.int(f.length - 4);
      const ins = rng.bytes(1 + rng.int(8));
      const g = new Uint8Array(f.length + ins.length);
      g.set(f.subarray(0, at));
      g.set(ins, at);
      g.set(f.subarray(at), at + ins.length);
      new DataView(g.buffer).setInt32(0, g.length - 4);
      return g;
    }
    default:
      return f;
  }
}

/** Decodes one frame the way a server and a client would; returns what came out. */
function exercise(frame: Uint8Array): "ok" | "typed" {
  try {
    const m = decodeMessage(frame);
    switch (m.type) {
      case 0:
        try {
          decodeKvStateRequest(m.body);
        } catch (e) {
          if (!(e instanceof QueryableStateError)) throw e;
        }
        decodeKvStateInternalRequest(m.body);
        break;
      case 1:
        decodeKvStateResponse(m.body);
        break;
      default:
        readJavaThrowable(m.body);
    }
    return "ok";
  } catch (e) {
    if (e instanceof QueryableStateError) return "typed";
    throw new Error(`untyped error ${e} for frame ${Array.from(frame.subarray(0, 64))}`);
  }
}

Deno.test(`fuzz: ${FRAMES} random and mutated frames through the decoder and codecs (seed ${SEED})`, () => {
  const rng = new Prng(SEED);
  const base = seeds(rng);
  const state = new DecoderState(MAX_FRAME);
  let frames = 0;
  let typed = 0;
  let framingErrors = 0;
  let maxBuffered = 0;
  const started = performance.now();
  const out: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  while (frames < FRAMES) {
    // A stream of mutated frames, occasionally a garbage prefix, cut into random chunks.
    pending.push(mutate(rng, rng.pick(base)));
    if (pending.length < 16) continue;
    let total = 0;
    for (const p of pending) total += p.length;
    const stream = new Uint8Array(total);
    let off = 0;
    for (const p of pending) {
      stream.set(p, off);
      off += p.length;
    }
    pending = [];
    for (let pos = 0; pos < stream.length;) {
      const n = 1 + rng.int(300);
      const err = state.push(stream.subarray(pos, pos + n), out);
      pos += n;
      maxBuffered = Math.max(maxBuffered, state.buffered);
      for (const f of out) {
        frames++;
        if (exercise(f) === "typed") typed++;
      }
      out.length = 0;
      if (err !== null) {
        // The framing is lost: a server closes the connection; start afresh.
        assert(err instanceof QueryableStateError);
        framingErrors++;
        state.reset();
        break;
      }
    }
    assert(performance.now() - started < 120_000, "the fuzz run must end in bounded time");
  }
  assert(maxBuffered <= MAX_FRAME + 4, `carry-over stayed bounded (${maxBuffered})`);
  assert(
    typed > frames / 10,
    `a good share of inputs were rejected with typed errors (${typed}/${frames})`,
  );
  assert(framingErrors > 0, "framing errors were exercised");
  console.log(
    `${frames} frames: ${typed} typed errors, ${framingErrors} framing errors, max carry-over ${maxBuffered} B`,
  );
});
