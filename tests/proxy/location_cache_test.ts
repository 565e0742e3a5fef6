import {
  estimateEntryBytes,
  JobId,
  JobVertexId,
  KvStateLocation,
  LocationCache,
} from "../../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { delay } from "../_harness.ts";

const JOB_A = "0102030405060708a1a2a3a4a5a6a7a8";
const JOB_B = "1112131415161718b1b2b3b4b5b6b7b8";

function location(name: string, groups = 128): KvStateLocation {
  return new KvStateLocation(JobId.fromHex(JOB_A), JobVertexId.random(), groups, name);
}

/** Starts a lookup that resolves now, and waits until the cache has recorded it. */
async function resolved(cache: LocationCache, job: string, name: string, groups = 128) {
  const loc = location(name, groups);
  await cache.start(job, name, Promise.resolve(loc));
  return loc;
}

async function failed(cache: LocationCache, job: string, name: string, err = new Error(name)) {
  await cache.start(job, name, Promise.reject(err)).catch(() => {});
}

Deno.test("location cache: a hit returns the location and marks it most recent; misses are undefined", async () => {
  const cache = new LocationCache();
  const a = await resolved(cache, JOB_A, "a");
  const b = await resolved(cache, JOB_A, "b");
  assert(cache.locationOf(JOB_A, "a") === a);
  assert(cache.locationOf(JOB_A, "b") === b);
  assertEquals(cache.locationOf(JOB_B, "a"), undefined);
  assertEquals(cache.locationOf(JOB_A, "c"), undefined);
  cache.locationOf(JOB_A, "a");
  assertEquals(cache.keys(), [[JOB_A, "b"], [JOB_A, "a"]]);
  assertEquals(cache.size.entries, 2);
});

Deno.test("location cache: LRU eviction by entries, in least-recently-used order", async () => {
  const cache = new LocationCache({ maxEntries: 3 });
  await resolved(cache, JOB_A, "a");
  await resolved(cache, JOB_A, "b");
  await resolved(cache, JOB_B, "c");
  // Use a, then b: c is now the least recently used.
  cache.locationOf(JOB_A, "a");
  cache.locationOf(JOB_A, "b");
  await resolved(cache, JOB_B, "d");
  assertEquals(cache.keys(), [[JOB_A, "a"], [JOB_A, "b"], [JOB_B, "d"]]);
  assertEquals(cache.locationOf(JOB_B, "c"), undefined, "c was evicted");
  // A reuse through reusable() also counts as a use.
  await cache.reusable(JOB_A, "a", false);
  await resolved(cache, JOB_A, "e");
  assertEquals(cache.keys(), [[JOB_B, "d"], [JOB_A, "a"], [JOB_A, "e"]]);
  assertEquals(cache.size.entries, 3);
});

Deno.test("location cache: the byte bound evicts too, and counts names and locations", async () => {
  const one = estimateEntryBytes("x".repeat(1000), undefined, false);
  assertEquals(one, 256 + 2000);
  assertEquals(estimateEntryBytes("x".repeat(1000), undefined, true), 256 + 4000);
  assertEquals(estimateEntryBytes("ab", location("ab", 128), false), 256 + 4 + 16 * 128 + 4);
  const cache = new LocationCache({ maxBytes: 10_000 });
  for (let i = 0; i < 20; i++) await failed(cache, JOB_A, `${i}`.padStart(1000, "n"));
  const size = cache.size;
  assert(size.bytes <= 10_000, `bytes ${size.bytes}`);
  assertEquals(size.entries, 2, "two failures of 4,256 bytes fit in 10,000");
  assertEquals(cache.keys().map(([, n]) => Number(n.replace(/^n+/, ""))), [18, 19]);
  // A resolved location grows its entry: the oldest make room.
  await resolved(cache, JOB_A, "big", 400);
  assert(cache.size.bytes <= 10_000);
  assert(cache.locationOf(JOB_A, "big") !== undefined);
  // An entry larger than the whole bound is not kept at all.
  await resolved(cache, JOB_B, "huge", 32768);
  assertEquals(cache.locationOf(JOB_B, "huge"), undefined);
  assert(cache.size.bytes <= 10_000);
});

Deno.test("location cache: a failed lookup is reused within the negative TTL, then gone", async () => {
  const cache = new LocationCache({ negativeTtlMs: 40 });
  const err = new Error("no such state");
  await failed(cache, JOB_A, "gone", err);
  assertEquals(cache.size.entries, 1);
  const reused = cache.reusable(JOB_A, "gone", false);
  assert(reused !== undefined, "answered from the cache within the TTL");
  assert((await assertRejects(() => reused)) === err, "the same failure");
  assertEquals(cache.locationOf(JOB_A, "gone"), undefined, "never a location for the fast path");
  await delay(60);
  assertEquals(cache.size, { entries: 0, bytes: 0 }, "expired failures are dropped");
  assertEquals(cache.reusable(JOB_A, "gone", false), undefined, "the oracle is asked again");
  // Expired failures are also dropped by the next lookup started, read or not.
  await failed(cache, JOB_A, "x1");
  await failed(cache, JOB_A, "x2");
  await delay(60);
  await resolved(cache, JOB_B, "fresh");
  assertEquals(cache.keys(), [[JOB_B, "fresh"]]);
});

Deno.test("location cache: negativeTtlMs 0 remembers no failure", async () => {
  const cache = new LocationCache({ negativeTtlMs: 0 });
  await failed(cache, JOB_A, "gone");
  assertEquals(cache.size, { entries: 0, bytes: 0 });
  assertEquals(cache.reusable(JOB_A, "gone", false), undefined);
});

Deno.test("location cache: lookups in flight are shared; forced re-lookups are rate-limited", async () => {
  const cache = new LocationCache({ minRelookupIntervalMs: 30 });
  let release!: (l: KvStateLocation) => void;
  const pending = new Promise<KvStateLocation>((r) => (release = r));
  cache.start(JOB_A, "s", pending);
  assert(cache.reusable(JOB_A, "s", false) === pending, "shared while in flight");
  assert(cache.reusable(JOB_A, "s", true) === pending, "a forced re-lookup shares it too");
  assertEquals(cache.locationOf(JOB_A, "s"), undefined, "pending: not on the fast path");
  release(location("s"));
  await pending;
  assert(cache.locationOf(JOB_A, "s") !== undefined);
  assert(cache.reusable(JOB_A, "s", true) === pending, "younger than the interval: shared");
  await delay(40);
  assertEquals(cache.reusable(JOB_A, "s", true), undefined, "older: the oracle is asked");
  assert(cache.reusable(JOB_A, "s", false) === pending, "a plain lookup still reuses it");
  // A failure younger than the interval is shared by forced re-lookups as well.
  await failed(cache, JOB_A, "f");
  assert(cache.reusable(JOB_A, "f", true) !== undefined);
});

Deno.test("location cache: invalidation, replacement, and entries dropped while pending", async () => {
  const cache = new LocationCache({ maxEntries: 2 });
  await resolved(cache, JOB_A, "a");
  await resolved(cache, JOB_B, "b");
  cache.invalidateJob(JOB_A);
  assertEquals(cache.keys(), [[JOB_B, "b"]]);
  cache.invalidateJob(JOB_A); // nothing left: no-op
  // A replaced entry's late result does not touch its successor.
  let lateRelease!: (l: KvStateLocation) => void;
  const late = new Promise<KvStateLocation>((r) => (lateRelease = r));
  cache.start(JOB_B, "b", late);
  const fresh = await resolved(cache, JOB_B, "b");
  lateRelease(location("b"));
  await late;
  assert(cache.locationOf(JOB_B, "b") === fresh);
  // A pending entry evicted by the bound still answers its waiters, and does not count when it settles.
  let release!: (l: KvStateLocation) => void;
  const pending = new Promise<KvStateLocation>((r) => (release = r));
  const waiter = cache.start(JOB_A, "p", pending);
  await resolved(cache, JOB_A, "q");
  await resolved(cache, JOB_A, "r");
  assertEquals(cache.keys(), [[JOB_A, "q"], [JOB_A, "r"]]);
  const before = cache.size;
  release(location("p"));
  assertEquals((await waiter).registrationName, "p");
  assertEquals(cache.size, before);
  cache.clear();
  assertEquals(cache.size, { entries: 0, bytes: 0 });
  assertEquals(cache.keys(), []);
});

Deno.test("location cache: bounds are validated", () => {
  assertThrows(() => new LocationCache({ maxEntries: 0 }), RangeError);
  assertThrows(() => new LocationCache({ maxEntries: 1.5 }), RangeError);
  assertThrows(() => new LocationCache({ maxBytes: -1 }), RangeError);
  assertThrows(() => new LocationCache({ negativeTtlMs: NaN }), RangeError);
  assertThrows(() => new LocationCache({ minRelookupIntervalMs: -5 }), RangeError);
});
