/**
 * One served connection on its web streams: its bytes are decoded into
 * batches of frames, which run through the request stage
 * (`RequestHandlerStream`) and the encoder to the writable. The direct path
 * does the same with plain calls (`direct_session.ts`), with the same
 * bounds and the same answers.
 *
 * @module
 */

import type { FrameBudget } from "../streams/frame_budget.ts";
import { DecoderState } from "../streams/frame_decoder_stream.ts";
import { FrameEncoderStream } from "../streams/frame_encoder_stream.ts";
import { type FrameHandler, RequestHandlerStream } from "../streams/request_handler_stream.ts";
import type { SharedFlowLimit } from "../streams/shared_flow_limit.ts";
import type { Connection } from "../transport/types.ts";
import { pipelineFailureFrame } from "./failure_frames.ts";
import type { SessionProbe } from "./served_connection.ts";

/** @internal Bounds of a stream session (as for a direct session). */
export interface StreamSessionOptions {
  readonly maxFrameLength: number;
  readonly maxInFlight: number;
  readonly maxBufferedBytes: number;
  readonly budget: FrameBudget;
  readonly limit: SharedFlowLimit;
  readonly internalError: (err: unknown) => void;
  readonly lingerMs: number;
  readonly lingerBytes: number;
}

/**
 * @internal Serves a connection over its streams. A framing error (a bad
 * length, a frame over the shared budget, or {@linkcode StreamSession.fail})
 * sends Flink's pipeline failure, half-closes, and reads and discards what
 * the peer still sends (bounded) so that the close does not reset the
 * connection before the peer has read why.
 */
export class StreamSession implements SessionProbe {
  readonly #conn: Connection;
  readonly #handler: FrameHandler;
  readonly #options: StreamSessionOptions;
  readonly #decoder: DecoderState;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #stage: RequestHandlerStream | undefined;
  /** Set by `fail`: the error to end with. */
  #failure: Error | undefined;
  /** A framing failure is being handled: the reader is kept for the linger. */
  #failing = false;
  #stopped = false;
  /** Chunks read and writes completed. */
  activity = 0;

  /**
   * @param conn The connection.
   * @param handler Answers one frame.
   * @param options The bounds.
   */
  constructor(conn: Connection, handler: FrameHandler, options: StreamSessionOptions) {
    this.#conn = conn;
    this.#handler = handler;
    this.#options = options;
    this.#decoder = new DecoderState(options.maxFrameLength, options.budget);
  }

  /** Requests in progress. */
  get inFlight(): number {
    return this.#stage?.inFlight ?? 0;
  }

  /** The partial frame held over. */
  get partialFrame(): number {
    return this.#decoder.partialFrame;
  }

  /** Stops reading: the requests read already are answered, then the session ends. */
  stopReading(): void {
    this.#stopped = true;
    if (!this.#failing) this.#reader?.cancel().catch(() => {});
  }

  /**
   * Fails the connection as a framing error does.
   *
   * @param err Why.
   */
  fail(err: Error): void {
    if (this.#failure !== undefined || this.#failing) return;
    this.#failure = err;
    // Ends the pending read (it rejects) and keeps the stream for the linger.
    try {
      this.#reader?.releaseLock();
      this.#reader = undefined;
    } catch (e) {
      this.#options.internalError(e);
    }
  }

  /**
   * Serves until the connection is done (it is not closed yet).
   *
   * @returns Resolves when done; never rejects.
   */
  async run(): Promise<void> {
    try {
      await this.#run();
    } catch (err) {
      this.#options.internalError(err);
    } finally {
      this.#decoder.reset();
    }
  }

  async #run(): Promise<void> {
    const conn = this.#conn;
    this.#reader = conn.readable.getReader();
    // An idle connection costs only its pending read: the pipeline is built
    // when the first bytes arrive.
    let first = await this.#read();
    if (first === null) {
      if (this.#failure !== undefined) await this.#failFraming(this.#failure, undefined);
      return;
    }
    const stage = this.#stage = new RequestHandlerStream(this.#handler, {
      maxInFlight: this.#options.maxInFlight,
      maxBufferedBytes: this.#options.maxBufferedBytes,
      limit: this.#options.limit,
      onError: this.#options.internalError,
    });
    const output = stage.readable
      .pipeThrough(new FrameEncoderStream())
      .pipeTo(conn.writable, { preventAbort: true, preventClose: true });
    // When the output side fails (peer gone), stop reading too.
    output.catch((err) => {
      if (!this.#failing) this.#reader?.cancel(err).catch(() => {});
    });
    const writer = stage.writable.getWriter();
    let framingError: Error | undefined;
    try {
      for (;;) {
        this.activity++;
        const frames: Uint8Array[] = [];
        const err = this.#decoder.push(first, frames);
        if (frames.length > 0) await writer.write(frames);
        if (err !== null) {
          framingError = err;
          break;
        }
        const next = await this.#read();
        if (next === null) {
          framingError = this.#failure;
          break;
        }
        first = next;
      }
    } catch {
      // The stage failed (the peer is gone, or the handler threw): done.
      writer.abort().catch(() => {});
      await output.catch(() => {});
      return;
    }
    if (framingError !== undefined) {
      this.#failing = true;
      // The answers ready leave first, then the failure frame.
      stage.endOutput();
      writer.releaseLock();
      await this.#failFraming(framingError, output);
      return;
    }
    // The input is over: the requests in progress finish, then FIN.
    await writer.close().catch(() => {});
    try {
      await output;
      this.activity++;
      await conn.writable.close();
    } catch {
      // The peer is gone.
    }
  }

  /** The next chunk, or `null` at the end (or on `fail`, or a read error). */
  async #read(): Promise<Uint8Array | null> {
    const reader = this.#reader;
    if (reader === undefined || this.#failure !== undefined) return null;
    try {
      const { value, done } = await reader.read();
      return done ? null : value;
    } catch {
      return null;
    }
  }

  /**
   * The framing is lost: send why, half-close, then read and discard what
   * the peer still sends until it closes, `lingerMs` pass or `lingerBytes`
   * arrive. Bounded in time as a whole: past `lingerMs` the connection is
   * closed, which ends a write the peer does not take too.
   */
  async #failFraming(err: Error, output: Promise<void> | undefined): Promise<void> {
    this.#failing = true;
    const conn = this.#conn;
    const timer = setTimeout(() => {
      conn.close().catch(() => {});
    }, this.#options.lingerMs);
    // Meanwhile, what the peer sends is read and discarded, so that its
    // writes do not block its reads and the close finds nothing unread.
    const draining = this.#discard();
    try {
      // The pipe to the writable lets go of it once the stage has ended.
      await output?.catch(() => {});
      const writer = conn.writable.getWriter();
      try {
        await writer.write(pipelineFailureFrame(err));
        await writer.close();
      } finally {
        writer.releaseLock();
      }
      await draining;
    } catch {
      // The peer is gone, or the linger ran out.
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads and discards until the peer closes or `lingerBytes` arrive. */
  async #discard(): Promise<void> {
    try {
      const reader = this.#reader ?? this.#conn.readable.getReader();
      this.#reader = reader;
      let bytes = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        bytes += value.length;
        if (bytes > this.#options.lingerBytes) return;
      }
    } catch {
      // The connection is closed.
    }
  }
}
