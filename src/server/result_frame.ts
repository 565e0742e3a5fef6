/**
 * The two frame helpers every server answer needs: the request id of a
 * frame, and a REQUEST_RESULT frame for a request (the id copied, not
 * decoded).
 *
 * @module
 */

import { MessageType, VERSION } from "../wire/messages.ts";
import type { AnswerBuffer } from "./answer_buffer.ts";

/**
 * The request id of a request frame (without length prefix), as Java's
 * signed long.
 *
 * @example
 * ```ts
 * import { requestIdOf } from "@kvstate/queryable-state";
 * import { encodeKvStateResponse } from "@kvstate/queryable-state/wire";
 *
 * requestIdOf(encodeKvStateResponse(-7n, new Uint8Array(0)).subarray(4)); // => -7n
 * ```
 *
 * @param frame A frame with a request id, without its length prefix.
 * @returns The id.
 */
export function requestIdOf(frame: Uint8Array): bigint {
  return new DataView(frame.buffer, frame.byteOffset + 8, 8).getBigInt64(0);
}

/**
 * A REQUEST_RESULT frame answering `request` (a request frame without its
 * length prefix): the request id bytes are copied, not decoded.
 *
 * @example
 * ```ts
 * import { KvStateId, resultFrameFor } from "@kvstate/queryable-state";
 * import { encodeKvStateInternalRequest, toHex } from "@kvstate/queryable-state/wire";
 *
 * const request = encodeKvStateInternalRequest(9n, { kvStateId: KvStateId.random(), serializedKeyAndNamespace: new Uint8Array(0) });
 * toHex(resultFrameFor(request.subarray(4), new Uint8Array([1])));
 * // => "0000001579a1b710000000010000000000000009" + "0000000101"
 * ```
 *
 * @param request The request frame, without its length prefix.
 * @param content The response content.
 * @returns The complete response frame.
 */
export function resultFrameFor(request: Uint8Array, content: Uint8Array): Uint8Array {
  const size = 24 + content.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setInt32(0, size - 4);
  v.setInt32(4, VERSION);
  v.setInt32(8, MessageType.REQUEST_RESULT);
  out.set(request.subarray(8, 16), 12);
  v.setInt32(20, content.length);
  out.set(content, 24);
  return out;
}

/**
 * Writes the REQUEST_RESULT frame answering a request into a batch of
 * answers: {@linkcode resultFrameFor} without a buffer of its own.
 *
 * @example
 * ```ts
 * import { AnswerBuffer } from "./answer_buffer.ts";
 * import { writeResultFrame } from "./result_frame.ts";
 * import { encodeKvStateInternalRequest, KvStateId, toHex } from "../wire/mod.ts";
 *
 * const request = encodeKvStateInternalRequest(9n, { kvStateId: KvStateId.random(), serializedKeyAndNamespace: new Uint8Array(0) });
 * const out = new AnswerBuffer();
 * writeResultFrame(out, request, 4, new Uint8Array([1]));
 * toHex(out.take());
 * // => "0000001579a1b710000000010000000000000009" + "0000000101"
 * ```
 *
 * @param out The batch.
 * @param bytes The buffer holding the request frame.
 * @param start Where the request frame starts, after its length prefix.
 * @param content The response content.
 */
export function writeResultFrame(
  out: AnswerBuffer,
  bytes: Uint8Array,
  start: number,
  content: Uint8Array,
): void {
  const n = content.length;
  const b = out.reserve(24 + n);
  let o = out.length;
  const len = 20 + n;
  b[o] = len >>> 24;
  b[o + 1] = len >>> 16;
  b[o + 2] = len >>> 8;
  b[o + 3] = len;
  b[o + 4] = VERSION >>> 24;
  b[o + 5] = (VERSION >>> 16) & 0xff;
  b[o + 6] = (VERSION >>> 8) & 0xff;
  b[o + 7] = VERSION & 0xff;
  b[o + 8] = 0;
  b[o + 9] = 0;
  b[o + 10] = 0;
  b[o + 11] = MessageType.REQUEST_RESULT;
  const id = start + 8;
  for (let i = 0; i < 8; i++) b[o + 12 + i] = bytes[id + i];
  b[o + 20] = n >>> 24;
  b[o + 21] = n >>> 16;
  b[o + 22] = n >>> 8;
  b[o + 23] = n;
  o += 24;
  if (n <= 32) { for (let i = 0; i < n; i++) b[o + i] = content[i]; }
  else b.set(content, o);
  out.length = o + n;
}
