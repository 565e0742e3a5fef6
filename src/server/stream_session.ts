/**
 * One served connection on its web streams:
 * `readable -> decode -> handle -> encode -> writable`, with Flink's answer
 * to a lost framing (the failure frame, then close). The direct path does
 * the same with plain calls (`direct_session.ts`).
 *
 * @module
 */

import { FrameDecoderStream } from "../streams/frame_decoder_stream.ts";
import { FrameEncoderStream } from "../streams/frame_encoder_stream.ts";
import { type FrameHandler, RequestHandlerStream } from "../streams/request_handler_stream.ts";
import type { Connection } from "../transport/types.ts";
import { FrameLengthError, ProtocolError } from "../wire/errors.ts";
import { pipelineFailureFrame } from "./failure_frames.ts";
import type { ServedConnection } from "./served_connection.ts";

/** @internal Bounds of a stream session. */
export interface StreamSessionOptions {
  readonly maxFrameLength: number | undefined;
  readonly maxInFlight: number;
}

/**
 * @internal Serves `state.conn` over its streams until it is done (the
 * connection is not closed yet). Sets `state.stopReading`.
 *
 * @param state The connection's record.
 * @param handler Answers one frame.
 * @param options The bounds.
 */
export async function serveStreams(
  state: ServedConnection,
  handler: FrameHandler,
  options: StreamSessionOptions,
): Promise<void> {
  const conn = state.conn;
  const reader = conn.readable.getReader();
  state.stopReading = () => reader.cancel().catch(() => {});
  // An idle connection costs only its pending read: the pipeline is built
  // when the first bytes arrive.
  let first: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
  } catch {
    first = { done: true, value: undefined };
  }
  if (first.done) return;
  const decoder = new FrameDecoderStream({ maxFrameLength: options.maxFrameLength });
  const output = decoder.readable
    .pipeThrough(new RequestHandlerStream(handler, { maxInFlight: options.maxInFlight }))
    .pipeThrough(new FrameEncoderStream())
    .pipeTo(conn.writable, { preventAbort: true });
  const input = pump(first.value, reader, decoder.writable);
  // When the output side ends (framing lost, peer gone), stop reading too.
  output.then(
    () => reader.cancel().catch(() => {}),
    (err) => reader.cancel(err).catch(() => {}),
  );
  const [inResult, outResult] = await Promise.allSettled([input, output]);
  // The output side carries the decoder's own error; the input side only
  // learns of it second hand.
  const err = outResult.status === "rejected"
    ? outResult.reason
    : inResult.status === "rejected"
    ? inResult.reason
    : undefined;
  if (err instanceof FrameLengthError || err instanceof ProtocolError) {
    // The framing is lost: tell the peer why, then close (as Flink does).
    await writeBestEffort(conn, pipelineFailureFrame(err));
  }
}

async function pump(
  first: Uint8Array,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  dest: WritableStream<Uint8Array>,
): Promise<void> {
  const writer = dest.getWriter();
  try {
    await writer.write(first);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    await writer.close();
  } catch (err) {
    await writer.abort(err).catch(() => {});
    reader.cancel(err).catch(() => {});
    throw err;
  }
}

async function writeBestEffort(conn: Connection, bytes: Uint8Array): Promise<void> {
  try {
    const writer = conn.writable.getWriter();
    await writer.write(bytes);
    writer.releaseLock();
  } catch {
    // The peer may be gone already.
  }
}
