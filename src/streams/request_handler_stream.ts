/**
 * The concurrent request stage between the frame decoder and encoder.
 *
 * @module
 */

import { concatBytes } from "../wire/bytes.ts";
import type { SharedFlowLimit } from "./shared_flow_limit.ts";

/**
 * Answers one request frame: returns the encoded response frame (length
 * prefix included), `null` for no response, or a promise of either. It must
 * not throw for bad input: protocol errors are answered with failure frames.
 */
export type FrameHandler = (
  frame: Uint8Array,
) => Uint8Array | null | Promise<Uint8Array | null>;

/** Options of {@linkcode RequestHandlerStream}. */
export interface RequestHandlerStreamOptions {
  /**
   * The most requests of this stream (one connection) in progress at once.
   * When reached, the stage stops taking input until one finishes, so the
   * connection is no longer read: backpressure, not an error. Default 1024.
   */
  readonly maxInFlight?: number;
  /**
   * The most bytes of responses held for a consumer that does not keep up.
   * When reached, the stage stops taking input until the consumer reads.
   * Default 1 MiB.
   */
  readonly maxBufferedBytes?: number;
  /**
   * Bounds shared with the stages of other connections (requests in
   * progress, answer bytes held); this stage counts itself in them and
   * waits for room as it does for its own bounds. Default: none.
   */
  readonly limit?: SharedFlowLimit;
  /**
   * Told of an exception the stage caught: one its handler threw (the stage
   * then errors both sides) or one in its own callbacks. Must not throw.
   */
  readonly onError?: (err: unknown) => void;
  /**
   * Emit each batch of several responses joined into one buffer (a batch
   * of one element holding them all, back to back), so that responses
   * waiting for a slow consumer are one buffer each batch rather than one
   * view each (a view may keep the whole buffer it was read in alive).
   * Default `false`: one element per response.
   */
  readonly joinBatches?: boolean;
}

/** The default of {@linkcode RequestHandlerStreamOptions.maxBufferedBytes}: 1 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES: number = 1024 * 1024;

function batchBytes(batch: readonly Uint8Array[]): number {
  let n = 0;
  for (let i = 0; i < batch.length; i++) n += batch[i].length;
  return n;
}

/**
 * Runs a {@linkcode FrameHandler} on every frame of every input batch,
 * concurrently, and emits the responses in batches as they finish, in any
 * order (responses carry their request id). Responses that are ready at once
 * leave in the batch of their request; asynchronous ones that finish in the
 * same tick leave together.
 *
 * Memory is bounded both ways: at most `maxInFlight` requests run at once,
 * and at most about `maxBufferedBytes` of responses wait for a slow consumer;
 * past either bound the stage stops taking input (so its connection is not
 * read) until there is room again, even in the middle of a batch.
 *
 * When the input ends, the stage waits for the requests in progress and then
 * ends its output. If the handler throws, both sides of the stage error. It is a
 * readable/writable pair, so it composes with `pipeThrough` like a
 * `TransformStream`.
 *
 * @example An echo stage
 * ```ts
 * import { RequestHandlerStream } from "@kvstate/queryable-state/streams";
 *
 * const stage = new RequestHandlerStream(async (frame) => frame);
 * const out = await Array.fromAsync(
 *   ReadableStream.from([[new Uint8Array([1]), new Uint8Array([2])]]).pipeThrough(stage),
 * );
 * out.flat().length; // => 2
 * ```
 */
export class RequestHandlerStream {
  // A ReadableWritablePair by shape; not `implements` it: that name is in the
  // DOM lib only, and Node TypeScript users without it would fail on it.
  /** Response batches. */
  readonly readable: ReadableStream<Uint8Array[]>;
  /** Request batches (frames without their length prefix). */
  readonly writable: WritableStream<Uint8Array[]>;
  readonly #inFlight: () => number;
  readonly #endOutput: () => void;
  readonly #full: () => boolean;
  readonly #room: () => Promise<void>;
  readonly #writing: (bytes: number) => void;

  /**
   * Creates the stage.
   *
   * @param handler Answers one frame.
   * @param options The bounds.
   */
  constructor(handler: FrameHandler, options: RequestHandlerStreamOptions = {}) {
    const maxInFlight = options.maxInFlight ?? 1024;
    const maxBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError("maxInFlight must be a positive integer");
    }
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError("maxBufferedBytes must be a positive integer");
    }
    const limit = options.limit;
    const onError = options.onError;
    const join = options.joinBatches === true;
    let out!: ReadableStreamDefaultController<Uint8Array[]>;
    let input!: WritableStreamDefaultController;
    let inFlight = 0;
    let ready: Uint8Array[] = [];
    let readyBytes = 0;
    let scheduled = false;
    let done = false; // output closed, errored or cancelled
    let failure: unknown = undefined;
    /** The answer bytes this stage counts in `limit.heldBytes` now. */
    let reported = 0;
    /** Woken when there may be room again (a request finished, the consumer read). */
    let wake: (() => void) | null = null;
    this.#inFlight = () => inFlight;
    this.#endOutput = () => {
      if (done) return;
      emit();
      done = true;
      failure = new Error("The request stage was ended");
      try {
        out.close();
        input.error(failure);
      } catch (err) {
        caught(err);
      }
      report();
      notify();
    };

    const caught = (err: unknown): void => {
      try {
        onError?.(err);
      } catch {
        // The hook must not throw; nothing more to do.
      }
    };
    const notify = (): void => {
      if (wake !== null) {
        const w = wake;
        wake = null;
        w();
      }
    };
    /** The answer bytes held: not yet emitted, or emitted and not yet read. */
    /** Answer bytes taken from the readable and not yet written by its consumer. */
    let writing = 0;
    const held = (): number => readyBytes + (maxBytes - (out.desiredSize ?? maxBytes)) + writing;
    /** Brings this stage's share of `limit.heldBytes` up to date. */
    const report = (): void => {
      if (limit === undefined) return;
      const now = done ? 0 : held();
      if (now !== reported) {
        limit.heldBytes += now - reported;
        const lower = now < reported;
        reported = now;
        if (lower) limit.wake();
      }
    };
    const emit = (): void => {
      scheduled = false;
      try {
        if (ready.length === 0 || done) {
          ready = [];
          readyBytes = 0;
          report();
          return;
        }
        const batch = ready;
        ready = [];
        readyBytes = 0;
        out.enqueue(join && batch.length > 1 ? [concatBytes(batch)] : batch);
      } catch (err) {
        caught(err);
        stop(err);
      }
    };
    const push = (frame: Uint8Array): void => {
      ready.push(frame);
      readyBytes += frame.length;
      if (limit !== undefined) {
        limit.heldBytes += frame.length;
        reported += frame.length;
      }
    };
    /** Ends the stage with `err` (both sides), once. */
    const stop = (err: unknown): void => {
      if (done) return;
      done = true;
      failure = err;
      try {
        out.error(err);
        input.error(err);
      } catch (e) {
        caught(e);
      }
      report();
    };
    const finished = (): void => {
      inFlight--;
      if (limit !== undefined) {
        limit.inFlight--;
        limit.wake();
      }
    };
    const settle = (response: Uint8Array | null): void => {
      try {
        finished();
        if (response !== null && !done) {
          push(response);
          if (!scheduled) {
            scheduled = true;
            queueMicrotask(emit);
          }
        }
      } catch (err) {
        caught(err);
        stop(err);
      }
      notify();
    };
    const fail = (err: unknown): void => {
      try {
        finished();
      } catch (e) {
        caught(e);
      }
      stop(err);
      notify();
    };
    const full = (): boolean => {
      const bytes = held();
      return inFlight >= maxInFlight || bytes >= maxBytes ||
        (limit !== undefined && limit.blocks(inFlight, bytes));
    };
    const room = async (): Promise<void> => {
      while (!done && full()) {
        if (readyBytes > 0) emit();
        if (!full()) return;
        const waiting = new Promise<void>((resolve) => (wake = resolve));
        if (limit !== undefined && limit.blocks(inFlight, held())) limit.wait(notify);
        await waiting;
      }
    };

    this.#full = () => !done && full();
    this.#room = room;
    this.#writing = (bytes) => {
      writing += bytes;
      try {
        report();
      } catch (err) {
        caught(err);
      }
      if (bytes < 0) notify();
    };

    this.readable = new ReadableStream<Uint8Array[]>({
      start(c) {
        out = c;
      },
      pull() {
        report();
        notify();
      },
      cancel(reason) {
        done = true;
        failure = reason ?? new Error("The response stream was cancelled");
        report();
        notify();
      },
    }, { highWaterMark: maxBytes, size: batchBytes });

    this.writable = new WritableStream<Uint8Array[]>({
      start(c) {
        input = c;
      },
      async write(batch) {
        for (let i = 0; i < batch.length; i++) {
          if (full()) await room();
          if (done) throw failure;
          let r: ReturnType<FrameHandler>;
          try {
            r = handler(batch[i]);
          } catch (err) {
            // A handler must not throw; if it does, both sides of the stage
            // fail, so that whoever pipes through it learns.
            caught(err);
            done = true;
            failure = err;
            out.error(err);
            report();
            throw err;
          }
          if (r === null) continue;
          if (r instanceof Uint8Array) {
            push(r);
          } else {
            inFlight++;
            if (limit !== undefined) limit.inFlight++;
            r.then(settle, fail);
          }
        }
        if (readyBytes > 0 && !scheduled) emit();
      },
      async close() {
        while (inFlight > 0 && !done) await new Promise<void>((resolve) => (wake = resolve));
        if (done) return;
        emit();
        done = true;
        out.close();
        report();
      },
      abort(reason) {
        if (!done) {
          done = true;
          out.error(reason);
        }
        report();
        notify();
      },
    });
  }

  /**
   * Ends the output now: the answers ready are emitted and the readable
   * closes after them; answers of requests still in progress are dropped,
   * and the writable errors. For a connection whose input cannot go on
   * (its framing is lost) but whose answers so far should still leave.
   */
  endOutput(): void {
    this.#endOutput();
  }

  /** Requests of this stage in progress now. */
  get inFlight(): number {
    return this.#inFlight();
  }

  /**
   * Counts answer bytes that the consumer has read from `readable` and not
   * yet written out (positive when it takes a batch, negative once written):
   * they stay in this stage's bound of answer bytes held, and in the shared
   * one, until then. For a consumer that writes the batches itself.
   *
   * @example
   * ```ts
   * import { RequestHandlerStream, SharedFlowLimit } from "@kvstate/queryable-state/streams";
   *
   * const limit = new SharedFlowLimit(10, 1024);
   * const stage = new RequestHandlerStream((f) => f, { limit });
   * stage.countWriting(100);
   * limit.heldBytes; // => 100
   * stage.countWriting(-100);
   * limit.heldBytes; // => 0
   * ```
   *
   * @param bytes The change.
   */
  countWriting(bytes: number): void {
    this.#writing(bytes);
  }

  /**
   * Resolves once the stage has room to start a request (at once when it
   * has), or has ended: for a writer that would rather not read more input
   * while the stage cannot take any. Call it only between writes (while no
   * write is in progress).
   *
   * @example
   * ```ts
   * import { RequestHandlerStream } from "@kvstate/queryable-state/streams";
   *
   * const stage = new RequestHandlerStream(() => new Promise(() => {}), { maxInFlight: 1 });
   * const writer = stage.writable.getWriter();
   * await writer.write([new Uint8Array([1])]); // one request in progress: no room
   * let room = false;
   * stage.waitForRoom().then(() => (room = true));
   * await new Promise((r) => setTimeout(r, 10));
   * room; // => false
   * await writer.abort();
   * await stage.waitForRoom(); // the stage has ended
   * ```
   *
   * @returns Resolves when there is room.
   */
  waitForRoom(): Promise<void> {
    return this.#full() ? this.#room() : Promise.resolve();
  }
}
