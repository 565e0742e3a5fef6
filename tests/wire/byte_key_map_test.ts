import { ByteKeyMap } from "../../src/wire/byte_key_map.ts";
import { halfSipHash, type HalfSipHashKey } from "../../src/wire/half_siphash.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";

const FIXED: HalfSipHashKey = [0x12345678, 0x9abcdef0];

function u8(...bytes: number[]): Uint8Array {
  return new Uint8Array(bytes);
}

function int32(i: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

/** Two different 4-byte keys whose 32-bit hashes under `key` are equal (birthday search, bounded). */
function fullCollision(key: HalfSipHashKey): [Uint8Array, Uint8Array] {
  const seen = new Map<number, number>();
  for (let i = 0; i < 1 << 20; i++) {
    const h = halfSipHash(key, int32(i));
    const j = seen.get(h);
    if (j !== undefined) return [int32(j), int32(i)];
    seen.set(h, i);
  }
  throw new Error("no collision within 2^20 keys");
}

Deno.test("ByteKeyMap: get/has/delete take a range of any array; set copies the key", () => {
  const map = new ByteKeyMap<string>();
  const key = u8(1, 2, 3);
  map.set(key, "a");
  key[0] = 99; // our copy is unaffected
  assertEquals(map.get(u8(1, 2, 3)), "a");
  assertEquals(map.get(u8(99, 2, 3)), undefined);
  const frame = u8(7, 7, 1, 2, 3, 7);
  assertEquals(map.get(frame, 2, 5), "a");
  assertEquals(map.has(frame, 2, 5), true);
  assertEquals(map.get(frame, 2, 4), undefined, "a prefix is another key");
  assertEquals(map.get(frame, 2, 6), undefined, "so is a longer key");
  assertEquals(map.get(frame.subarray(2, 5)), "a", "a view, whole");
  assertEquals(map.size, 1);
  assertEquals(map.delete(frame, 2, 5), true);
  assertEquals(map.delete(frame, 2, 5), false);
  assertEquals(map.get(u8(1, 2, 3)), undefined);
  assertEquals(map.size, 0);
});

Deno.test("ByteKeyMap: a key and its prefixes, the empty key, equal bytes only", () => {
  const map = new ByteKeyMap<number>();
  const long = u8(5, 6, 7, 8, 9);
  for (let n = 0; n <= long.length; n++) map.set(long.subarray(0, n), n);
  assertEquals(map.size, 6);
  for (let n = 0; n <= long.length; n++) assertEquals(map.get(long, 0, n), n);
  assertEquals(map.get(u8()), 0);
  assertEquals(map.get(u8(5, 6, 7, 8, 9, 0)), undefined);
  assertEquals(map.get(u8(5, 6, 7, 8, 0)), undefined);
  map.delete(long, 0, 3);
  assertEquals(map.get(long, 0, 3), undefined);
  assertEquals(map.get(long, 0, 2), 2);
  assertEquals(map.get(long, 0, 4), 4);
});

Deno.test("ByteKeyMap: a range outside the array is a RangeError, not a lookup", () => {
  const map = new ByteKeyMap<number>().set(u8(0, 0), 1);
  const b = u8(0, 0);
  assertThrows(() => map.get(b, 1, 3), RangeError, "[1, 3) is not within 2 bytes");
  assertThrows(() => map.has(b, -1, 1), RangeError);
  assertThrows(() => map.delete(b, 2, 1), RangeError);
  assertThrows(() => map.get(b, Number.NaN, 1), RangeError);
  assertEquals(map.size, 1);
});

Deno.test("ByteKeyMap: keys with the same 32-bit hash are told apart by their bytes", () => {
  const [a, b] = fullCollision(FIXED);
  assertEquals(halfSipHash(FIXED, a), halfSipHash(FIXED, b));
  const map = new ByteKeyMap<string>({ hashKey: FIXED });
  map.set(a, "a");
  assertEquals(map.get(b), undefined, "same hash, other bytes: a miss");
  assertEquals(map.has(b), false);
  assertEquals(map.delete(b), false);
  map.set(b, "b");
  assertEquals([map.get(a), map.get(b), map.size], ["a", "b", 2]);
  // Delete either end of the chain, then look both up.
  assertEquals(map.delete(b), true);
  assertEquals([map.get(a), map.get(b)], ["a", undefined]);
  map.set(b, "b2");
  assertEquals(map.delete(a), true);
  assertEquals([map.get(a), map.get(b)], [undefined, "b2"]);
  // Grow past many rehashes with the pair inside.
  map.set(a, "a2");
  for (let i = 1 << 21; i < (1 << 21) + 5000; i++) map.set(int32(i), "x");
  assertEquals([map.get(a), map.get(b), map.size], ["a2", "b2", 5002]);
  assertEquals([...map.values()].slice(0, 2), ["b2", "a2"], "insertion order");
  // Another hash key scatters them: the collision belongs to FIXED only.
  const other: HalfSipHashKey = [FIXED[0] ^ 1, FIXED[1]];
  assert(halfSipHash(other, a) !== halfSipHash(other, b));
});

Deno.test("ByteKeyMap: 20,000 keys share buckets; every hit, miss and delete is right", () => {
  const prng = new Prng(42);
  const map = new ByteKeyMap<number>();
  const keys: Uint8Array[] = [];
  for (let i = 0; i < 20_000; i++) {
    const k = prng.bytes(1 + prng.int(24));
    if (map.has(k)) continue;
    keys.push(k);
    map.set(k, keys.length - 1);
  }
  assertEquals(map.size, keys.length);
  for (let i = 0; i < keys.length; i++) assertEquals(map.get(keys[i]), i);
  let misses = 0;
  for (let i = 0; i < 5_000; i++) {
    const k = prng.bytes(25 + prng.int(4)); // longer than any key: always absent
    if (map.get(k) === undefined) misses++;
  }
  assertEquals(misses, 5_000);
  assertEquals(map.size, keys.length, "lookups never insert");
  for (let i = 0; i < keys.length; i += 2) assertEquals(map.delete(keys[i]), true);
  for (let i = 0; i < keys.length; i++) {
    assertEquals(map.get(keys[i]), i % 2 === 0 ? undefined : i, `key ${i}`);
  }
  assertEquals(map.size, keys.length >> 1);
  assertEquals([...map.values()], keys.map((_, i) => i).filter((i) => i % 2 === 1));
});

Deno.test("ByteKeyMap: setting an existing key keeps its place; clear empties and the map is reusable", () => {
  const map = new ByteKeyMap<string>();
  map.set(u8(1), "a").set(u8(2), "b").set(u8(3), "c").set(u8(1), "A");
  assertEquals([...map.values()], ["A", "b", "c"]);
  assertEquals([...map.keys()], [u8(1), u8(2), u8(3)]);
  map.delete(u8(2));
  map.set(u8(2), "B");
  assertEquals([...map.values()], ["A", "c", "B"]);
  for (let i = 0; i < 100; i++) map.set(int32(i), "x");
  map.clear();
  assertEquals([map.size, [...map.values()], map.get(u8(1))], [0, [], undefined]);
  map.set(u8(1), "again");
  assertEquals([...map.values()], ["again"]);
});

Deno.test("ByteKeyMap: entries removed during an iteration are skipped", () => {
  const map = new ByteKeyMap<number>();
  for (let i = 0; i < 6; i++) map.set(u8(i), i);
  const seen: number[] = [];
  for (const v of map.values()) {
    seen.push(v);
    if (v === 1) {
      map.delete(u8(1)); // the one we stand on
      map.delete(u8(2));
      map.delete(u8(4));
    }
  }
  assertEquals(seen, [0, 1, 3, 5]);
  const cleared: number[] = [];
  for (const v of map.values()) {
    cleared.push(v);
    map.clear();
  }
  assertEquals(cleared, [0]);
});
