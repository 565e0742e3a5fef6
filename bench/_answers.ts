/**
 * The pre-encoded answers of the bench data set, as our `KvStateServer`
 * sends them, byte for byte: for every state id and present key, the
 * RESPONSE frame; and the two REQUEST_FAILURE frames (unknown key or
 * namespace, unknown kvStateId). Each answer is split around its request id
 * (`head` = [len][version][type], then 8 id bytes, then `tail` = the body), so
 * that a hand-written upstream only patches the id in.
 *
 * Shared by `fast_state_server.ts` (Deno) and `native/write_table.ts` (the
 * table file of the native upstream), so that both answer the same bytes.
 * Runtime-neutral.
 *
 * @module
 */

import {
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
  VERSION,
  writeJavaThrowable,
} from "../src/wire/mod.ts";
import { type BenchState, buildBenchStates } from "./_dataset.ts";
import type { OutBuffer } from "./_forwarder_core.ts";

/** One answer frame without its request id. */
export interface SplitAnswer {
  /** [frame length][version][message type], 12 bytes. */
  readonly head: Uint8Array;
  /** The body after the request id. */
  readonly tail: Uint8Array;
}

/** The answer to one present key of one state id. */
export interface AnswerEntry extends SplitAnswer {
  /** kvStateId (16 bytes) followed by the serialized key and namespace. */
  readonly key: Uint8Array;
}

/** Every answer of the bench data set. */
export interface BenchAnswers {
  /** The states they come from. */
  readonly states: BenchState[];
  /** One entry per (kvStateId, present key). */
  readonly entries: AnswerEntry[];
  /** The answer to a known id with an absent key. */
  readonly missing: SplitAnswer;
  /** The answer to an id no state has. */
  readonly unknownId: SplitAnswer;
  /** The ids of the states (16 bytes each). */
  readonly knownIds: Uint8Array[];
}

/**
 * Splits one answer: the 12-byte head for a body of `body.length` bytes.
 *
 * @param type 1 (REQUEST_RESULT) or 2 (REQUEST_FAILURE).
 * @param body The body after the request id.
 * @returns The head and the body.
 */
export function splitAnswer(type: 1 | 2, body: Uint8Array): SplitAnswer {
  const head = new Uint8Array(12);
  const v = new DataView(head.buffer);
  v.setInt32(0, 16 + body.length);
  v.setInt32(4, VERSION);
  v.setInt32(8, type);
  return { head, tail: body };
}

/**
 * Builds every answer of the bench data set.
 *
 * @param keys Keys per state.
 * @returns The answers.
 */
export function buildBenchAnswers(keys: number): BenchAnswers {
  const states = buildBenchStates(keys);
  const entries: AnswerEntry[] = [];
  const knownIds: Uint8Array[] = [];
  const context = { requestId: 0n, signal: new AbortController().signal };
  for (const s of states) {
    for (const id of s.kvStateIds) {
      const idBytes = new Uint8Array(16);
      id.writeTo(idBytes, 0);
      knownIds.push(idBytes);
      for (let i = 0; i < keys; i++) {
        const kn = s.presentKey(i).kn;
        const content = s.state.getSerializedValue(kn, context) as Uint8Array;
        const key = new Uint8Array(16 + kn.length);
        key.set(idBytes, 0);
        key.set(kn, 16);
        const body = new Uint8Array(4 + content.length);
        new DataView(body.buffer).setInt32(0, content.length);
        body.set(content, 4);
        entries.push({ key, ...splitAnswer(1, body) });
      }
    }
  }
  // The same failure bytes KvStateServer sends.
  const missing = splitAnswer(
    2,
    writeJavaThrowable(
      new UnknownKeyOrNamespaceError(
        "Queryable State Server : No state for the specified key/namespace.",
      ).toJavaThrowable(),
    ),
  );
  const unknownId = splitAnswer(
    2,
    writeJavaThrowable(
      new UnknownKvStateIdError("Queryable State Server : No registered state with this ID.")
        .toJavaThrowable(),
    ),
  );
  return { states, entries, missing, unknownId, knownIds };
}

/**
 * FNV-1a over `b[start, end)`: the hash the hand-written bench servers key
 * their answer tables with.
 *
 * @param b The bytes.
 * @param start Where to start.
 * @param end Where to stop.
 * @returns The 32-bit hash.
 */
export function fnv(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

/**
 * Appends `answer` to `out` with the request id of the request frame at
 * `b[p..]` (length prefix included) patched in.
 *
 * @param out The output buffer.
 * @param answer The answer.
 * @param b The bytes holding the request frame.
 * @param p Where the frame (its length prefix) starts.
 */
export function appendAnswer(out: OutBuffer, answer: SplitAnswer, b: Uint8Array, p: number): void {
  const n = answer.head.length + 8 + answer.tail.length;
  const w = out.reserve(n);
  const o = out.len;
  w.set(answer.head, o);
  for (let i = 0; i < 8; i++) w[o + 12 + i] = b[p + 12 + i];
  w.set(answer.tail, o + 20);
  out.len = o + n;
}
