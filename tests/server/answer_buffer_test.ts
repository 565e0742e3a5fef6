/** The batch of answers a direct session writes at once. */

import { AnswerBuffer } from "../../src/server/answer_buffer.ts";
import { writeResultFrame } from "../../src/server/result_frame.ts";
import { KvStateId, resultFrameFor } from "../../mod.ts";
import { encodeKvStateInternalRequest } from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";

Deno.test("AnswerBuffer: one appended answer is handed over as it is; two are joined in order", () => {
  const out = new AnswerBuffer();
  const a = new Uint8Array([1, 2, 3]);
  out.append(a);
  assertEquals(out.length, 3);
  assert(out.take() === a, "a batch of one is not copied");
  assertEquals(out.length, 0);
  const b = new Uint8Array([4, 5]);
  out.append(a);
  out.append(b);
  const joined = out.take();
  assertEquals(Array.from(joined), [1, 2, 3, 4, 5]);
  assert(joined.buffer !== a.buffer && joined.buffer !== b.buffer);
});

Deno.test("AnswerBuffer: writing in place after an appended answer keeps both, in order", () => {
  const request = encodeKvStateInternalRequest(77n, {
    kvStateId: KvStateId.fromHex("000102030405060708090a0b0c0d0e0f"),
    serializedKeyAndNamespace: new Uint8Array([9, 42, 0]),
  });
  const out = new AnswerBuffer();
  const first = new Uint8Array([0xaa, 0xbb]);
  out.append(first);
  writeResultFrame(out, request, 4, new Uint8Array(300).fill(7)); // grows past the first capacity
  out.append(new Uint8Array([0xcc]));
  const expected = [
    0xaa,
    0xbb,
    ...resultFrameFor(request.subarray(4), new Uint8Array(300).fill(7)),
    0xcc,
  ];
  assertEquals(Array.from(out.take()), expected);
});

Deno.test("AnswerBuffer: clear drops the batch; a new batch starts empty and sized after the last", () => {
  const out = new AnswerBuffer();
  out.append(new Uint8Array([1]));
  out.clear();
  assertEquals([out.length, out.take().length], [0, 0]);
  out.reserve(5000);
  out.length = 5000;
  assertEquals(out.take().length, 5000);
  // The next batch starts at the last one's size (a power of two), no larger than 64 KiB.
  assertEquals(out.reserve(1).length, 8192);
});
