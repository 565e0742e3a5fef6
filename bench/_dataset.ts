/**
 * The benchmark data set, shared by every bench process so that each one
 * builds the same states, ids and locations without passing data around:
 * one job with four queryable states (value, value, list, map), each split
 * into two key-group ranges with their own `KvStateID` (so key-group routing
 * matters), and a deterministic request mix drawn from a seed.
 *
 * Not run by itself; imported by `serve.ts`, `load.ts`, the baseline
 * forwarders and `connections.ts`. Runtime-neutral (no `Deno.*`, no `node:*`),
 * so the Node entry points can be bundled with it.
 *
 * @module
 */

import {
  InMemoryListState,
  InMemoryMapState,
  InMemoryValueState,
  JobId,
  KvStateId,
  type LocationsFile,
  type NetAddress,
  type QueryableState,
  TYPE_SERIALIZERS,
  type TypeSerializer,
} from "../mod.ts";
import {
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  keyGroupForKeyHash,
  serializeKeyAndNamespace,
} from "../src/wire/mod.ts";
import { Prng } from "../tests/_prng.ts";

/** The bench job. */
export const BENCH_JOB_ID: JobId = JobId.fromHex("b0b1b2b3b4b5b6b7c0c1c2c3c4c5c6c7");

/** The key groups of every bench state (Flink's default max parallelism). */
export const BENCH_NUM_KEY_GROUPS = 128;

/** The default number of keys per state. */
export const DEFAULT_KEYS_PER_STATE = 1000;

/** One state of the data set, with its typed keys. */
export interface BenchState {
  /** The registration name. */
  readonly name: string;
  /** The state as the server holds it. */
  readonly state: QueryableState;
  /** The ids of the two key-group ranges, `[0..63]` and `[64..127]`. */
  readonly kvStateIds: readonly [KvStateId, KvStateId];
  /** Serialized key and namespace of the i-th present key. */
  presentKey(i: number): { kn: Uint8Array; hash: number };
  /** Serialized key and namespace of the i-th absent key. */
  absentKey(i: number): { kn: Uint8Array; hash: number };
}

function idFor(state: number, range: number): KvStateId {
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = 0xa0 + state * 16 + range * 8 + i;
  return new KvStateId(b);
}

function keyed<K>(
  ser: TypeSerializer<K>,
  present: (i: number) => K,
  absent: (i: number) => K,
): Pick<BenchState, "presentKey" | "absentKey"> {
  return {
    presentKey: (i) => {
      const k = present(i);
      return { kn: serializeKeyAndNamespace(k, ser), hash: ser.hashCode(k) };
    },
    absentKey: (i) => {
      const k = absent(i);
      return { kn: serializeKeyAndNamespace(k, ser), hash: ser.hashCode(k) };
    },
  };
}

/**
 * Builds the bench states, filled.
 *
 * @param keys Keys per state.
 * @returns The four states.
 */
export function buildBenchStates(keys: number = DEFAULT_KEYS_PER_STATE): BenchState[] {
  const s = TYPE_SERIALIZERS;
  const wordCounts = new InMemoryValueState(s.string, s.long);
  const userNames = new InMemoryValueState(s.int, s.string);
  const recentEvents = new InMemoryListState(s.long, s.string);
  const prefs = new InMemoryMapState(s.string, s.string, s.double);
  for (let i = 0; i < keys; i++) {
    wordCounts.set(`word-${i}`, BigInt(i) * 7n);
    userNames.set(i, `user-${i}`);
    recentEvents.set(BigInt(i) * 1000n, ["login", "view", i % 2 === 0 ? "buy" : "logout"]);
    prefs.set(`user-${i}`, [["volume", i / keys], ["speed", 1.25]]);
  }
  return [
    {
      name: "word-counts",
      state: wordCounts,
      kvStateIds: [idFor(0, 0), idFor(0, 1)],
      ...keyed(s.string, (i) => `word-${i}`, (i) => `absent-${i}`),
    },
    {
      name: "user-names",
      state: userNames,
      kvStateIds: [idFor(1, 0), idFor(1, 1)],
      ...keyed(s.int, (i) => i, (i) => -1 - i),
    },
    {
      name: "recent-events",
      state: recentEvents,
      kvStateIds: [idFor(2, 0), idFor(2, 1)],
      ...keyed(s.long, (i) => BigInt(i) * 1000n, (i) => BigInt(i) * 1000n + 1n),
    },
    {
      name: "user-prefs",
      state: prefs,
      kvStateIds: [idFor(3, 0), idFor(3, 1)],
      ...keyed(s.string, (i) => `user-${i}`, (i) => `nobody-${i}`),
    },
  ];
}

/** The range (0 or 1) that owns a key group. */
export function rangeOfKeyGroup(keyGroup: number): 0 | 1 {
  return keyGroup < BENCH_NUM_KEY_GROUPS / 2 ? 0 : 1;
}

/**
 * The locations document (see `StaticLocationOracle`) of the bench states
 * served by one state server.
 *
 * @param states The states.
 * @param address The state server.
 * @returns The document.
 */
export function benchLocations(states: readonly BenchState[], address: NetAddress): LocationsFile {
  const addr = address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
  const half = BENCH_NUM_KEY_GROUPS / 2;
  return {
    jobs: [{
      jobId: BENCH_JOB_ID.toString(),
      states: states.map((s) => ({
        name: s.name,
        numKeyGroups: BENCH_NUM_KEY_GROUPS,
        keyGroups: [
          { start: 0, end: half - 1, kvStateId: s.kvStateIds[0].toString(), address: addr },
          {
            start: half,
            end: BENCH_NUM_KEY_GROUPS - 1,
            kvStateId: s.kvStateIds[1].toString(),
            address: addr,
          },
        ],
      })),
    }],
  };
}

/** The seeded PRNG (mulberry32) the tests use too. */
export { Prng };

/** One pre-encoded request of the mix. */
export interface MixRequest {
  /** The complete frame with request id 0 (patched at bytes 12..19 when sent). */
  readonly frame: Uint8Array;
  /** The content a correct answer carries, or `null` when the key is absent. */
  readonly expected: Uint8Array | null;
  /** The state's index. */
  readonly state: number;
}

/** Options of {@linkcode buildRequestMix}. */
export interface MixOptions {
  /** The seed. */
  readonly seed: number;
  /** How many distinct requests (the mix cycles through them). */
  readonly size: number;
  /** The fraction of requests for present keys. */
  readonly hitRatio: number;
  /** Keys per state, as the server was built with. */
  readonly keys: number;
  /** `proxy`: `KvStateRequest` frames; `direct`: `KvStateInternalRequest` frames. */
  readonly mode: "proxy" | "direct";
  /**
   * For `direct`: the kvStateId that owns a key group of a state (from the
   * locations the harness passes); default the data set's own ids.
   */
  readonly kvStateIdFor?: (stateName: string, keyGroup: number) => KvStateId | null;
}

/**
 * Draws the request mix: uniformly over the states, a hit with probability
 * `hitRatio` (a uniformly drawn present key) else a miss (an absent key).
 * Deterministic given the options.
 *
 * @param states The states (with the same `keys` as the server's).
 * @param options Seed, size, hit ratio, mode.
 * @returns The requests.
 */
export function buildRequestMix(states: readonly BenchState[], options: MixOptions): MixRequest[] {
  const rnd = new Prng(options.seed);
  const out: MixRequest[] = [];
  const context = { requestId: 0n, signal: new AbortController().signal };
  for (let i = 0; i < options.size; i++) {
    const si = rnd.int(states.length);
    const s = states[si];
    const hit = rnd.next() < options.hitRatio;
    const { kn, hash } = hit
      ? s.presentKey(rnd.int(options.keys))
      : s.absentKey(rnd.int(options.keys));
    const expected = s.state.getSerializedValue(kn, context) as Uint8Array | null;
    let frame: Uint8Array;
    if (options.mode === "proxy") {
      frame = encodeKvStateRequest(0n, {
        jobId: BENCH_JOB_ID,
        stateName: s.name,
        keyHashCode: hash,
        serializedKeyAndNamespace: kn,
      });
    } else {
      const kg = keyGroupForKeyHash(hash, BENCH_NUM_KEY_GROUPS);
      const kvStateId = options.kvStateIdFor?.(s.name, kg) ?? s.kvStateIds[rangeOfKeyGroup(kg)];
      frame = encodeKvStateInternalRequest(0n, {
        kvStateId,
        serializedKeyAndNamespace: kn,
      });
    }
    out.push({ frame, expected: expected ?? null, state: si });
  }
  return out;
}
