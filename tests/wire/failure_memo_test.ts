import {
  DEFAULT_FAILURE_MEMO_CAPACITY,
  DEFAULT_FAILURE_MEMO_MAX_BODY_LENGTH,
  FailureMemo,
} from "../../src/wire/failure_memo.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

Deno.test("FailureMemo: a value per body, found by its bytes at an offset of a frame", () => {
  const memo = new FailureMemo<string>();
  assertEquals([memo.capacity, memo.maxBodyLength], [8, 64 * 1024]);
  assertEquals(
    [DEFAULT_FAILURE_MEMO_CAPACITY, DEFAULT_FAILURE_MEMO_MAX_BODY_LENGTH],
    [8, 65536],
  );
  const body = bytes(0xac, 0xed, 0, 5, 1);
  memo.add(body, "one");
  body[4] = 2; // the memo holds a copy
  assertEquals(memo.get(bytes(9, 9, 0xac, 0xed, 0, 5, 1), 2), "one");
  assertEquals(memo.get(bytes(0xac, 0xed, 0, 5, 2), 0), undefined, "one byte differs");
  assertEquals(memo.get(bytes(0xac, 0xed, 0, 5), 0), undefined, "a prefix");
  assertEquals(memo.get(bytes(0xac, 0xed, 0, 5, 1, 0), 0), undefined, "longer");
  assertEquals(memo.has(bytes(0xac, 0xed, 0, 5, 1), 0), true);
  assertEquals([memo.size, memo.bytes], [1, 5]);
});

Deno.test("FailureMemo: at most `capacity` bodies of at most `maxBodyLength` bytes, oldest replaced first", () => {
  const memo = new FailureMemo<number>(3, 4);
  for (let i = 0; i < 10; i++) {
    memo.add(new Uint8Array(1 + (i % 4)).fill(i), i);
    assertEquals(memo.size, Math.min(i + 1, 3));
    assert(memo.bytes <= 3 * 4);
  }
  // Bodies 7, 8, 9 remain (lengths 4, 1, 2): 7 bytes.
  assertEquals(memo.bytes, 4 + 1 + 2);
  for (let i = 0; i < 10; i++) {
    const b = new Uint8Array(1 + (i % 4)).fill(i);
    assertEquals(memo.get(b, 0), i >= 7 ? i : undefined, `body ${i}`);
  }
  memo.add(new Uint8Array(5), 99);
  assertEquals(memo.get(new Uint8Array(5), 0), undefined, "longer than maxBodyLength");
  assertEquals(memo.size, 3);
  memo.clear();
  assertEquals([memo.size, memo.bytes, memo.get(new Uint8Array(4).fill(7), 0)], [0, 0, undefined]);
});

Deno.test("FailureMemo: capacity 0 remembers nothing; bad bounds are RangeErrors", () => {
  const memo = new FailureMemo<number>(0);
  memo.add(bytes(1), 1);
  assertEquals([memo.has(bytes(1), 0), memo.size, memo.bytes], [false, 0, 0]);
  assertThrows(() => new FailureMemo(-1), RangeError, "capacity");
  assertThrows(() => new FailureMemo(1.5), RangeError, "capacity");
  assertThrows(() => new FailureMemo(1, -1), RangeError, "maxBodyLength");
  assertThrows(() => new FailureMemo(1, NaN), RangeError, "maxBodyLength");
});

Deno.test("FailureMemo: get and has see every differing byte, at any offset and length", () => {
  for (let n = 0; n <= 13; n++) {
    const body = Uint8Array.from({ length: n }, (_, i) => 0x41 + i);
    const memo = new FailureMemo<number>();
    memo.add(body, n);
    for (let from = 0; from < 4; from++) {
      const frame = new Uint8Array(from + n);
      frame.set(body, from);
      assertEquals(memo.get(frame, from), n, `n ${n}, from ${from}`);
      assertEquals(memo.has(frame, from), true);
      for (let k = 0; k < n; k++) {
        const other = frame.slice();
        other[from + k] ^= 0x80;
        assertEquals(memo.get(other, from), undefined, `n ${n}, from ${from}, byte ${k}`);
        assertEquals(memo.has(other, from), false, `n ${n}, from ${from}, byte ${k}`);
      }
    }
  }
});
