/**
 * Checks that the native upstream (`upstream.c`) answers byte for byte what
 * `fast_state_server.ts` answers: it compiles the upstream, starts both, sends
 * each the same pipelined requests over one connection (the bench mix in
 * `direct` mode, hits and misses, plus an unknown kvStateId, a frame too
 * short to hold a key, and a key length past the frame's end) and compares
 * the two answer streams.
 *
 *   deno run -A bench/native/verify.ts [--requests 2000] [--keys 1000]
 *
 * Exits 0 when every answer is equal, 1 otherwise. `run_proxy_bench.ts
 * --server native --verify` runs the same check before measuring.
 *
 * @module
 */

import { encodeKvStateInternalRequest, KvStateId } from "../../src/wire/mod.ts";
import { buildBenchStates, buildRequestMix } from "../_dataset.ts";
import { num, parseArgs } from "../_flags.ts";
import { BENCH_DIR, DENO, ProcessGroup } from "../_procs.ts";
import { buildNativeUpstream, type NativeBuild, NativeBuildError } from "./_build.ts";

/** The outcome of a comparison. */
export interface VerifyResult {
  /** Requests sent to each. */
  readonly requests: number;
  /** Answers that differ (or are missing on one side). */
  readonly mismatches: number;
  /** The first differences, described. */
  readonly firstDifferences: string[];
  /** Answers by message type (1 result, 2 failure), from the reference. */
  readonly byType: Record<string, number>;
}

/**
 * The requests of the check, each with its request id (its index) patched in.
 *
 * @param count How many requests of the bench mix.
 * @param keys Keys per state.
 * @returns The frames.
 */
export function verificationFrames(count: number, keys: number): Uint8Array[] {
  const states = buildBenchStates(keys);
  const frames = buildRequestMix(states, {
    seed: 7,
    size: count,
    hitRatio: 0.7,
    keys,
    mode: "direct",
  }).map((r): Uint8Array => r.frame.slice());
  // An id no state has.
  frames.push(encodeKvStateInternalRequest(0n, {
    kvStateId: new KvStateId(new Uint8Array(16).fill(0x11)),
    serializedKeyAndNamespace: new Uint8Array([1, 2, 3]),
  }));
  // A frame with only [version][type][id]: no kvStateId nor key.
  const short = new Uint8Array(20);
  new DataView(short.buffer).setInt32(0, 16);
  new DataView(short.buffer).setInt32(4, 0x79a1);
  frames.push(short);
  // A key length past the frame's end.
  const past = encodeKvStateInternalRequest(0n, {
    kvStateId: states[0].kvStateIds[0],
    serializedKeyAndNamespace: new Uint8Array([9, 9]),
  });
  new DataView(past.buffer, past.byteOffset).setInt32(36, 1000);
  frames.push(past);
  frames.forEach((f, i) => new DataView(f.buffer, f.byteOffset).setBigInt64(12, BigInt(i)));
  return frames;
}

/** Sends every frame over one connection and returns the answers, split. */
async function exchange(address: string, frames: Uint8Array[]): Promise<Uint8Array[]> {
  const i = address.lastIndexOf(":");
  const conn = await Deno.connect({
    hostname: address.slice(0, i),
    port: Number(address.slice(i + 1)),
  });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  // Bounded in time even when a server stops answering: closed at the deadline.
  const timer = setTimeout(close, 10_000);
  try {
    conn.setNoDelay(true);
    const total = frames.reduce((s, f) => s + f.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const f of frames) {
      all.set(f, o);
      o += f.length;
    }
    const writing = (async () => {
      for (let w = 0; w < all.length;) w += await conn.write(all.subarray(w));
    })();
    writing.catch(() => {}); // cut by a close: the reading side reports
    const answers: Uint8Array[] = [];
    let buf = new Uint8Array(1 << 16);
    let len = 0;
    const deadline = Date.now() + 10_000;
    while (answers.length < frames.length) {
      if (Date.now() > deadline) throw new Error(`${address}: answers too slow`);
      if (buf.length - len < 4096) {
        const b = new Uint8Array(buf.length * 2);
        b.set(buf.subarray(0, len));
        buf = b;
      }
      const n = await conn.read(buf.subarray(len)).catch((e) => {
        throw closed ? new Error(`${address}: answers too slow`) : e;
      });
      if (n === null) throw new Error(`${address} closed after ${answers.length} answers`);
      len += n;
      let p = 0;
      while (len - p >= 4) {
        const flen = new DataView(buf.buffer, p).getInt32(0);
        if (flen < 0) throw new Error(`${address}: a frame length of ${flen}`);
        if (len - p < 4 + flen) break;
        answers.push(buf.slice(p, p + 4 + flen));
        p += 4 + flen;
      }
      buf.copyWithin(0, p, len);
      len -= p;
    }
    await writing;
    return answers;
  } finally {
    clearTimeout(timer);
    close();
  }
}

function equal(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Compares the answers of two servers to the same requests.
 *
 * @param reference The reference server (`fast_state_server.ts`).
 * @param candidate The server checked.
 * @param frames The requests.
 * @returns The comparison.
 */
export async function compareServers(
  reference: string,
  candidate: string,
  frames: Uint8Array[],
): Promise<VerifyResult> {
  const [ra, ca] = await Promise.all([exchange(reference, frames), exchange(candidate, frames)]);
  const diffs: string[] = [];
  let mismatches = 0;
  const byType: Record<string, number> = {};
  for (let i = 0; i < frames.length; i++) {
    const t = ra[i] ? String(new DataView(ra[i].buffer).getInt32(8)) : "none";
    byType[t] = (byType[t] ?? 0) + 1;
    if (!equal(ra[i], ca[i])) {
      mismatches++;
      if (diffs.length < 5) {
        diffs.push(
          `request ${i}: reference ${ra[i]?.length ?? "-"} bytes, candidate ` +
            `${ca[i]?.length ?? "-"} bytes`,
        );
      }
    }
  }
  return { requests: frames.length, mismatches, firstDifferences: diffs, byType };
}

/**
 * Starts `fast_state_server.ts` and the native upstream, compares them, and
 * stops both.
 *
 * @param build The compiled upstream.
 * @param requests Requests of the bench mix.
 * @param keys Keys per state.
 * @returns The comparison.
 */
export async function verifyNative(
  build: NativeBuild,
  requests: number,
  keys: number,
): Promise<VerifyResult> {
  const group = new ProcessGroup();
  try {
    const [ref, cand] = await Promise.all([
      group.spawnListening("fast", DENO, [
        "run",
        "-A",
        `${BENCH_DIR}fast_state_server.ts`,
        "--keys",
        String(keys),
      ], "fast_state_server.ts"),
      group.spawnListening("native", build.binary, ["--table", build.table], "upstream.c"),
    ]);
    return await compareServers(ref.address, cand.address, verificationFrames(requests, keys));
  } finally {
    await group.stopAll();
  }
}

/**
 * Prints a comparison.
 *
 * @param r The comparison.
 */
export function printVerify(r: VerifyResult): void {
  console.log(
    `native upstream vs fast_state_server.ts: ${r.requests} requests, ` +
      `answers by type ${JSON.stringify(r.byType)}, ${r.mismatches} differ` +
      (r.mismatches === 0 ? " (byte for byte equal)" : ""),
  );
  for (const d of r.firstDifferences) console.log(`  ${d}`);
}

if (import.meta.main) {
  const a = parseArgs(Deno.args, ["requests", "keys"]);
  const keys = num(a, "keys", 1000);
  const dir = await Deno.makeTempDir({ prefix: "qs-native-" });
  let code = 1;
  try {
    const build = await buildNativeUpstream(dir, keys);
    const r = await verifyNative(build, num(a, "requests", 2000), keys);
    printVerify(r);
    code = r.mismatches === 0 ? 0 : 1;
  } catch (e) {
    if (!(e instanceof NativeBuildError)) throw e;
    console.error(e.message);
    code = 2;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  Deno.exit(code);
}
