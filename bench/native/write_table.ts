/**
 * Writes the table file of the native upstream (`upstream.c`): the bench
 * data set's answers (`../_answers.ts`, the bytes `fast_state_server.ts`
 * sends) as complete frames with a zero request id.
 *
 *   deno run -A bench/native/write_table.ts --out table.bin [--keys 1000]
 *
 * Format (integers are u32 little-endian):
 *
 *   "QSUT" | version 1 | nIds | nIds × 16-byte kvStateId
 *   | missingLen | missing frame | unknownIdLen | unknown-id frame
 *   | nEntries | nEntries × (keyLen | kvStateId + key&ns | frameLen | frame)
 *
 * @module
 */

import type { BenchState } from "../_dataset.ts";
import { buildBenchAnswers, type SplitAnswer } from "../_answers.ts";
import { num, parseArgs, str } from "../_flags.ts";

/** The table format's version. */
export const TABLE_VERSION = 1;

function frameOf(a: SplitAnswer): Uint8Array {
  const f = new Uint8Array(a.head.length + 8 + a.tail.length);
  f.set(a.head, 0);
  f.set(a.tail, a.head.length + 8);
  return f;
}

/**
 * Encodes the table of the bench data set.
 *
 * @param keys Keys per state.
 * @returns The file's bytes and the states.
 */
export function encodeTable(keys: number): { bytes: Uint8Array; states: BenchState[] } {
  const ans = buildBenchAnswers(keys);
  const missing = frameOf(ans.missing);
  const unknownId = frameOf(ans.unknownId);
  const frames = ans.entries.map(frameOf);
  let size = 12 + 16 * ans.knownIds.length + 4 + missing.length + 4 + unknownId.length + 4;
  for (let i = 0; i < frames.length; i++) size += 8 + ans.entries[i].key.length + frames[i].length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let p = 0;
  const u32 = (x: number) => {
    v.setUint32(p, x, true);
    p += 4;
  };
  const bytes = (b: Uint8Array) => {
    out.set(b, p);
    p += b.length;
  };
  bytes(new TextEncoder().encode("QSUT"));
  u32(TABLE_VERSION);
  u32(ans.knownIds.length);
  for (const id of ans.knownIds) bytes(id);
  u32(missing.length);
  bytes(missing);
  u32(unknownId.length);
  bytes(unknownId);
  u32(frames.length);
  for (let i = 0; i < frames.length; i++) {
    u32(ans.entries[i].key.length);
    bytes(ans.entries[i].key);
    u32(frames[i].length);
    bytes(frames[i]);
  }
  if (p !== size) throw new Error(`table size ${p} != ${size}`);
  return { bytes: out, states: ans.states };
}

if (import.meta.main) {
  const a = parseArgs(Deno.args, ["out", "keys"]);
  const { bytes } = encodeTable(num(a, "keys", 1000));
  Deno.writeFileSync(str(a, "out"), bytes);
  console.log(`wrote ${bytes.length} bytes to ${str(a, "out")}`);
}
