/**
 * One served connection on its web streams: its bytes are decoded into
 * batches of frames, which run through the request stage
 * (`RequestHandlerStream`) and the encoder to the writable. The direct path
 * does the same with plain calls (`direct_session.ts`), with the same
 * bounds and the same answers.
 *
 * @module
 */

import { DecoderState } from "../streams/frame_decoder_stream.ts";
import { type FrameHandler, RequestHandlerStream } from "../streams/request_handler_stream.ts";
import type { Connection } from "../transport/types.ts";
import { concatBytes } from "../wire/bytes.ts";
import type { DirectSessionOptions } from "./direct_session.ts";
import { pipelineFailureFrame } from "./failure_frames.ts";
import { CurrentChunk, type InputHold, type InputSource } from "./input_hold.ts";
import type { SessionProbe } from "./served_connection.ts";

/**
 * @internal Bounds of a stream session: those of a direct session (its
 * failure frame is the pipeline's own unless given).
 */
export type StreamSessionOptions = Omit<DirectSessionOptions, "framingFailure"> & {
  /** The frame telling the peer why after a framing error. Default: Flink's pipeline failure. */
  readonly framingFailure?: (err: Error) => Uint8Array;
};

/**
 * The most frames handed to the request stage at once: the frames of a
 * chunk wait as the chunk, not as one view each, while the stage has no room.
 */
const MAX_BATCH = 128;

/**
 * @internal Serves a connection over its streams. Each chunk read is
 * counted in the shared budget until its frames are all started and the
 * requests started from it are finished (see `retainInput`). A framing error
 * (a bad length, a frame over the shared budget, or
 * {@linkcode StreamSession.fail}) answers the frames before it (the requests
 * in progress may finish for up to `failureGraceMs`), then sends Flink's
 * pipeline failure and half-closes; from the error on, what the peer still
 * sends is read and discarded (bounded) so that the close does not reset
 * the connection before the peer has read why.
 */
export class StreamSession implements SessionProbe, InputSource {
  readonly #conn: Connection;
  readonly #handler: FrameHandler;
  readonly #options: StreamSessionOptions;
  readonly #decoder: DecoderState;
  /** The chunk being started, held in the budget. */
  readonly #chunk: CurrentChunk;
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
    this.#chunk = new CurrentChunk(options.budget, options.limit);
  }

  /** Requests in progress. */
  get inFlight(): number {
    return this.#stage?.inFlight ?? 0;
  }

  /** The partial frame held over. */
  get partialFrame(): number {
    return this.#decoder.partialFrame;
  }

  /**
   * One more holder of the bytes of the chunk whose frame is being started
   * (see `DirectSession.retainInput`).
   *
   * @returns The hold; `release` it when the request is finished.
   */
  retainInput(): InputHold {
    return this.#chunk.retain();
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
      this.#chunk.drop();
      this.#decoder.clear();
    }
  }

  async #run(): Promise<void> {
    const conn = this.#conn;
    this.#reader = conn.readable.getReader();
    // An idle connection costs only its pending read: the pipeline is built
    // when the first bytes arrive.
    let first = await this.#read();
    if (first === null) {
      if (this.#failure !== undefined) {
        this.#failing = true;
        await this.#failFraming(this.#failure, undefined, this.#discard());
      }
      return;
    }
    const stage = this.#stage = new RequestHandlerStream(this.#handler, {
      maxInFlight: this.#options.maxInFlight,
      maxBufferedBytes: this.#options.maxBufferedBytes,
      limit: this.#options.limit,
      onError: this.#options.internalError,
      // Answers wait for the writer as one buffer per batch, not as views
      // (the proxy's are views into what it read from a state server).
      joinBatches: true,
    });
    const output = this.#output(stage, conn.writable);
    // When the output side fails (peer gone), stop reading too.
    output.catch((err) => {
      if (!this.#failing) this.#reader?.cancel(err).catch(() => {});
    });
    const writer = stage.writable.getWriter();
    const decoder = this.#decoder;
    let framingError: Error | undefined;
    try {
      for (;;) {
        this.activity++;
        const bytes = decoder.feed(first);
        this.#chunk.take(bytes);
        // The chunk's frames, in batches: the stage takes a batch when it
        // has room for its first frame.
        for (let more = true; more;) {
          const frames: Uint8Array[] = [];
          for (;;) {
            const f = decoder.next();
            if (f === null) {
              more = false;
              break;
            }
            if (frames.push(f) === MAX_BATCH) break;
          }
          if (frames.length > 0) await writer.write(frames);
        }
        // The session lets go of the chunk before its partial frame is
        // carried over (which the budget counts).
        this.#chunk.drop();
        const err = decoder.endChunk();
        if (err !== null) {
          framingError = err;
          break;
        }
        // Read on only once a request could start: a connection holds at
        // most one chunk it cannot start yet.
        await stage.waitForRoom();
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
      this.#decoder.clear();
      // From now on what the peer sends is read and discarded, while the
      // requests in progress finish (for up to the grace) and their answers
      // leave; then the failure frame.
      const draining = this.#discard();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceOver = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#options.failureGraceMs);
      });
      const finished = writer.close().then(() => false, () => false);
      if (await Promise.race([finished, graceOver])) stage.endOutput();
      clearTimeout(timer);
      writer.releaseLock();
      await this.#failFraming(framingError, output, draining);
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

  /**
   * Writes the stage's answers: each batch in one write (its frames joined),
   * the next one read from the stage once that write is done. The bytes of
   * the batch being written count as held by the stage until then (in its
   * own bound and the shared one), as the direct path counts the bytes
   * handed to its adapter. Rejects when a
   * write fails (the stage is cancelled then); lets go of the writable at
   * the end.
   */
  async #output(stage: RequestHandlerStream, writable: WritableStream<Uint8Array>): Promise<void> {
    const reader = stage.readable.getReader();
    const writer = writable.getWriter();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        if (value.length === 0) continue;
        const bytes = value.length === 1 ? value[0] : concatBytes(value);
        stage.countWriting(bytes.length);
        try {
          await writer.write(bytes);
        } finally {
          stage.countWriting(-bytes.length);
        }
        this.activity++;
      }
    } catch (err) {
      reader.cancel(err).catch(() => {});
      throw err;
    } finally {
      reader.releaseLock();
      writer.releaseLock();
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
   * The framing is lost and the answers before it are out (or given up):
   * send why, half-close, then wait until `draining` (reading and
   * discarding what the peer still sends) ends: the peer closes, or
   * `lingerBytes` arrive. Bounded in time as a whole: past `lingerMs` the
   * connection is closed, which ends a write the peer does not take too.
   */
  async #failFraming(
    err: Error,
    output: Promise<void> | undefined,
    draining: Promise<void>,
  ): Promise<void> {
    const conn = this.#conn;
    const timer = setTimeout(() => {
      conn.close().catch(() => {});
    }, this.#options.lingerMs);
    try {
      // The pipe to the writable lets go of it once the stage has ended.
      await output?.catch(() => {});
      const writer = conn.writable.getWriter();
      try {
        await writer.write((this.#options.framingFailure ?? pipelineFailureFrame)(err));
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
