/**
 * The framing streams the roles are built on, as web `TransformStream`s:
 * bytes to frames ({@linkcode FrameDecoderStream}, with a bound on each
 * frame and an optional {@linkcode FrameBudget} shared by many decoders),
 * frames to bytes ({@linkcode FrameEncoderStream}, batching small frames
 * into one write), and the concurrent request stage between them
 * ({@linkcode RequestHandlerStream}, with per-connection bounds and an
 * optional {@linkcode SharedFlowLimit} across connections). Web-standard
 * only: they run on any `ReadableStream` of bytes, a socket's or not.
 *
 * The frame and message codecs are at `@kvstate/queryable-state/wire`; the
 * roles (client, proxy, server) at `@kvstate/queryable-state`.
 *
 * @example Frames out of a byte stream
 * ```ts
 * import { FrameDecoderStream } from "@kvstate/queryable-state/streams";
 *
 * // Any ReadableStream of bytes: a socket's readable, a file's, a fetch body.
 * const bytes = ReadableStream.from([
 *   new Uint8Array([0, 0, 0, 2, 0xaa, 0xbb, 0, 0]), // a whole frame, then half a prefix
 *   new Uint8Array([0, 1, 0xcc]), // the rest of the second frame
 * ]);
 * const frames = [];
 * for await (const batch of bytes.pipeThrough(new FrameDecoderStream({ maxFrameLength: 1024 }))) {
 *   frames.push(...batch.map((f) => Array.from(f))); // each frame without its length prefix
 * }
 * frames; // => [ [ 0xaa, 0xbb ], [ 0xcc ] ]
 * ```
 *
 * @example An echo server's pipeline: decode, answer, encode
 * ```ts
 * import {
 *   FrameDecoderStream,
 *   FrameEncoderStream,
 *   RequestHandlerStream,
 * } from "@kvstate/queryable-state/streams";
 *
 * const reply = (frame: Uint8Array) => {
 *   const out = new Uint8Array(4 + frame.length); // a frame again: length prefix, body
 *   new DataView(out.buffer).setInt32(0, frame.length);
 *   out.set(frame, 4);
 *   return out;
 * };
 * const out = ReadableStream.from([new Uint8Array([0, 0, 0, 1, 7, 0, 0, 0, 1, 8])])
 *   .pipeThrough(new FrameDecoderStream())
 *   .pipeThrough(new RequestHandlerStream(reply))
 *   .pipeThrough(new FrameEncoderStream());
 * const bytes = new Uint8Array(await new Response(out).arrayBuffer());
 * Array.from(bytes); // => [ 0, 0, 0, 1, 7, 0, 0, 0, 1, 8 ]
 * ```
 *
 * @module
 */

export * from "./frame_decoder_stream.ts";
export * from "./frame_encoder_stream.ts";
export * from "./request_handler_stream.ts";
export * from "./frame_budget.ts";
export * from "./shared_flow_limit.ts";

// The errors the streams fail with: the same classes as every other entry point's.
export {
  FrameLengthError,
  ProtocolError,
  QueryableStateError,
  type QueryableStateErrorOptions,
} from "../wire/errors.ts";
export type { JavaStackFrame, JavaThrowable } from "../wire/java_throwable.ts";
