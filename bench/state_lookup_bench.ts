/**
 * The state server's two lookups per request, old style against new:
 *
 *   deno bench --allow-read bench/state_lookup_bench.ts
 *
 * - `registry`: finding the state from the 16 id bytes of a frame. Old: a
 *   `KvStateId` built from the bytes and its hex string looked up in a
 *   `Map<string, …>` (what decoding the request and `KvStateRegistry.get`
 *   did). New: `KvStateRegistry.stateAt(frame, offset)`.
 * - `key`: `InMemoryValueState.getSerializedValue` on a request's
 *   key-and-namespace bytes. Old: deserialize the key, then the hex of the
 *   key bytes in a `Map<string, …>` (the code before lookups by bytes, kept
 *   here as `HexKeyedState`). New: the state as it is.
 *
 * Every iteration does 1,000 lookups (over 1,000 different ids or keys), so
 * ns per lookup = `time/iter` / 1,000. Keys: a short string (`user-123`)
 * and a long one (a 200-character string); hits and misses (well-formed
 * keys that are absent).
 *
 * @module
 */

import {
  InMemoryValueState,
  KvStateId,
  KvStateRegistry,
  type QueryableState,
  TYPE_SERIALIZERS as S,
  type TypeSerializer,
} from "../mod.ts";
import {
  deserializeKeyAndNamespace,
  serializeKeyAndNamespace,
  serializeValue,
  toHex,
} from "../src/wire/mod.ts";

const N = 1000;

/** The in-memory state's lookup before lookups by bytes. */
class HexKeyedState<K> {
  readonly #entries = new Map<string, { key: K; content: Uint8Array }>();
  readonly #keySerializer: TypeSerializer<K>;
  constructor(keySerializer: TypeSerializer<K>) {
    this.#keySerializer = keySerializer;
  }
  set(key: K, content: Uint8Array): void {
    this.#entries.set(toHex(serializeValue(this.#keySerializer, key)), { key, content });
  }
  getSerializedValue(serializedKeyAndNamespace: Uint8Array): Uint8Array | null {
    deserializeKeyAndNamespace(serializedKeyAndNamespace, this.#keySerializer);
    const keyBytes = serializedKeyAndNamespace.subarray(0, serializedKeyAndNamespace.length - 2);
    return this.#entries.get(toHex(keyBytes))?.content ?? null;
  }
}

// --- registry -------------------------------------------------------------

const registry = new KvStateRegistry();
const oldRegistry = new Map<string, { state: QueryableState }>();
const frames: Uint8Array[] = [];
const missFrames: Uint8Array[] = [];
for (let i = 0; i < N; i++) {
  const state: QueryableState = { getSerializedValue: () => null };
  const id = registry.register(state);
  oldRegistry.set(id.toString(), { state });
  // A request body: request id (8), then the KvStateID (16), then the key.
  const frame = new Uint8Array(8 + 16 + 12);
  id.writeTo(frame, 8);
  frames.push(frame);
  const miss = frame.slice();
  miss[8 + 15] ^= 0xff;
  missFrames.push(miss);
}

let sink = 0;

function oldStateAt(frame: Uint8Array): QueryableState | undefined {
  const id = new KvStateId(frame.subarray(8, 24));
  return oldRegistry.get(id.toString())?.state;
}

for (const [name, set] of [["hit", frames], ["miss", missFrames]] as const) {
  Deno.bench({
    name: `registry ${name}: old (KvStateId + hex string Map) ×${N}`,
    group: `registry ${name}`,
    baseline: true,
    fn() {
      for (let i = 0; i < N; i++) if (oldStateAt(set[i]) !== undefined) sink++;
    },
  });
  Deno.bench({
    name: `registry ${name}: new (stateAt) ×${N}`,
    group: `registry ${name}`,
    fn() {
      for (let i = 0; i < N; i++) if (registry.stateAt(set[i], 8) !== undefined) sink++;
    },
  });
}

// --- keys -----------------------------------------------------------------

const LONG_PAD = "x".repeat(190);
const shapes = [
  ["short string", (i: number) => `user-${i}`],
  ["200-char string", (i: number) => `${LONG_PAD}${String(i).padStart(10, "0")}`],
] as const;

for (const [shape, keyOf] of shapes) {
  const fresh = new InMemoryValueState(S.string, S.long);
  const old = new HexKeyedState(S.string);
  const hits: Uint8Array[] = [];
  const misses: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    fresh.set(keyOf(i), BigInt(i));
    old.set(keyOf(i), fresh.getSerializedValue(serializeKeyAndNamespace(keyOf(i), S.string))!);
    hits.push(serializeKeyAndNamespace(keyOf(i), S.string));
    misses.push(serializeKeyAndNamespace(keyOf(N + i), S.string));
  }
  for (const [name, set] of [["hit", hits], ["miss", misses]] as const) {
    const group = `key ${shape} ${name}`;
    Deno.bench({
      name: `${group}: old (deserialize + hex string Map) ×${N}`,
      group,
      baseline: true,
      fn() {
        for (let i = 0; i < N; i++) if (old.getSerializedValue(set[i]) !== null) sink++;
      },
    });
    Deno.bench({
      name: `${group}: new (bytes) ×${N}`,
      group,
      fn() {
        for (let i = 0; i < N; i++) if (fresh.getSerializedValue(set[i]) !== null) sink++;
      },
    });
  }
}

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
