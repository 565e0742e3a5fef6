import { halfSipHash, randomHalfSipHashKey } from "../../src/wire/half_siphash.ts";
import { assert, assertEquals, assertNotEquals } from "../_assert.ts";
import { Prng } from "../_prng.ts";

// The reference HalfSipHash-2-4 32-bit vectors: key bytes 00..07, message
// bytes 00..(n-1) for n = 0, 1, 2, … (published with the SipHash paper's
// reference implementation).
const KEY = [0x03020100, 0x07060504] as const;
const VECTORS_2_4 = [
  0x5b9f35a9,
  0xb85a4727,
  0x03a662fa,
  0x04e7fe8a,
  0x89466e2a,
  0x69b6fac5,
  0x23fc6358,
  0xc563cf8b,
  0x8f84b8d0,
  0x79e706f8,
  0x3479b094,
  0x50300808,
  0x2f87f057,
  0xff63e677,
  0x7cf8ffd6,
  0x972bfe74,
  0x84acb5d9,
  0x5b6474c4,
  0x9b8d5b46,
  0x87e3ef7b,
  0x45104de3,
  0xb3623f61,
  0xfe67f370,
];

Deno.test("halfSipHash: with 2 and 4 rounds it is the reference HalfSipHash-2-4 (lengths 0..22)", () => {
  const message = Uint8Array.from({ length: 64 }, (_, i) => i);
  for (let n = 0; n < VECTORS_2_4.length; n++) {
    assertEquals(halfSipHash(KEY, message, 0, n, 2, 4), VECTORS_2_4[n], `length ${n}`);
    assertEquals(halfSipHash(KEY, message.slice(0, n), undefined, undefined, 2, 4), VECTORS_2_4[n]);
  }
});

Deno.test("halfSipHash: a range hashes as the same bytes copied out; unsigned 32-bit output", () => {
  const prng = new Prng(7);
  const big = prng.bytes(300);
  for (let i = 0; i < 200; i++) {
    const start = prng.int(150);
    const end = start + prng.int(150);
    const h = halfSipHash(KEY, big, start, end);
    assertEquals(h, halfSipHash(KEY, big.slice(start, end)));
    assert(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, String(h));
  }
  // The 1-3 variant is not the 2-4 one.
  const message = Uint8Array.from({ length: 8 }, (_, i) => i);
  assertNotEquals(halfSipHash(KEY, message), VECTORS_2_4[8]);
});

Deno.test("halfSipHash: the length is hashed (trailing zero bytes change the hash)", () => {
  const zeros = new Uint8Array(9);
  const seen = new Set<number>();
  for (let n = 0; n <= 9; n++) seen.add(halfSipHash(KEY, zeros, 0, n));
  assertEquals(seen.size, 10);
});

Deno.test("randomHalfSipHashKey: random 32-bit words, different each time", () => {
  const a = randomHalfSipHashKey();
  const b = randomHalfSipHashKey();
  assertEquals(a.length, 2);
  for (const w of [...a, ...b]) assert(Number.isInteger(w) && w >= 0 && w <= 0xffffffff);
  assertNotEquals([...a], [...b]);
});
