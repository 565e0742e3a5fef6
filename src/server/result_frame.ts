/**
 * The two frame helpers every server answer needs: the request id of a
 * frame, and a REQUEST_RESULT frame for a request (the id copied, not
 * decoded).
 *
 * @module
 */

import { MessageType, VERSION } from "../wire/messages.ts";

/**
 * The request id of a request frame (without length prefix), as Java's
 * signed long.
 *
 * @example
 * ```ts
 * import { encodeKvStateResponse, requestIdOf } from "@kvstate/queryable-state";
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
 * import { encodeKvStateInternalRequest, KvStateId, resultFrameFor, toHex } from "@kvstate/queryable-state";
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
