/**
 * Frames to bytes.
 *
 * @module
 */

import { concatBytes } from "../wire/bytes.ts";

/**
 * Turns batches of encoded frames (each a complete frame, length prefix
 * included, as the `encode*` functions return them) into one byte chunk per
 * batch, so that a batch costs one socket write. A single frame passes
 * through without a copy.
 *
 * @example
 * ```ts
 * import { encodeKvStateResponse } from "@kvstate/queryable-state/wire";
 * import { FrameEncoderStream } from "@kvstate/queryable-state/streams";
 *
 * const batches = ReadableStream.from([[
 *   encodeKvStateResponse(1n, new Uint8Array([1])),
 *   encodeKvStateResponse(2n, new Uint8Array([2])),
 * ]]);
 * const chunks = await Array.fromAsync(batches.pipeThrough(new FrameEncoderStream()));
 * chunks.length; // => 1
 * chunks[0].length; // => 50
 * ```
 */
export class FrameEncoderStream extends TransformStream<readonly Uint8Array[], Uint8Array> {
  constructor() {
    super({
      transform(batch, controller) {
        if (batch.length === 1) {
          controller.enqueue(batch[0]);
        } else if (batch.length > 1) {
          controller.enqueue(coalesce(batch));
        }
      },
    });
  }
}

/**
 * Joins frames into one buffer.
 *
 * @param frames Encoded frames.
 * @returns One array holding all of them, in order.
 */
export function coalesce(frames: readonly Uint8Array[]): Uint8Array {
  return concatBytes(frames);
}
