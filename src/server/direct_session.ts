/**
 * One served connection on the direct path of its transport
 * ({@linkcode Connection.direct}): the same stages as the stream pipeline
 * (`FrameDecoderStream` → `RequestHandlerStream` → `FrameEncoderStream`),
 * with the same bounds, run as plain calls on each chunk instead of stream
 * hops. Internal to the server base.
 *
 * @module
 */

import { DecoderState } from "../streams/frame_decoder_stream.ts";
import type { Connection, DirectChannel, DirectHandler } from "../transport/types.ts";
import { concatBytes } from "../wire/bytes.ts";

/**
 * What a {@linkcode DirectFrameHandler} returns for an answer that it will
 * give later through {@linkcode DirectSession.settle}.
 */
export const PENDING: unique symbol = Symbol("pending");

/**
 * Answers one frame: the response frame now, `null` for none, a promise of
 * either, or {@linkcode PENDING} when the answer comes later through
 * `settle`. It must not throw.
 */
export type DirectFrameHandler = (
  frame: Uint8Array,
) => Uint8Array | null | Promise<Uint8Array | null> | typeof PENDING;

/** Bounds of a {@linkcode DirectSession}. */
export interface DirectSessionOptions {
  /** The largest frame accepted (after the length prefix). */
  readonly maxFrameLength: number;
  /** The most requests in progress at once; past it the connection is not read. */
  readonly maxInFlight: number;
  /** The most bytes of responses held for a peer that does not read; past it the connection is not read. */
  readonly maxBufferedBytes: number;
  /** The frame telling the peer why the connection is closed after a framing error. */
  readonly framingFailure: (err: Error) => Uint8Array;
}

/** How a session ended. */
export interface DirectSessionEnd {
  /** The framing error, the connection error or the handler's error; `undefined` for an orderly end. */
  readonly error?: unknown;
}

/**
 * Reads frames from a connection, answers each through a
 * {@linkcode DirectFrameHandler} (concurrently, answers in completion order) and
 * writes the answers in batches: the answers ready after one chunk, or after
 * one turn of asynchronous completions, leave in one write.
 *
 * Bounds: at most `maxInFlight` requests run at once and at most about
 * `maxBufferedBytes` of answers wait for a peer that does not read; past
 * either the session stops reading (mid-chunk too: the frames not yet
 * started wait) until there is room. When the peer ends its side, the
 * requests in progress finish, their answers are written, and the
 * connection is half-closed and closed. A framing error (a bad length
 * prefix) answers the frames before it, sends the failure frame and closes.
 */
export class DirectSession implements DirectHandler {
  readonly #conn: Connection;
  readonly #handler: DirectFrameHandler;
  readonly #options: DirectSessionOptions;
  readonly #decoder: DecoderState;
  #io!: DirectChannel;
  /** Frames read, not yet started. */
  #backlog: Uint8Array[] = [];
  #next = 0;
  #inFlight = 0;
  /** Answers ready, not yet written. */
  #ready: Uint8Array[] = [];
  #readyBytes = 0;
  #pumpScheduled = false;
  /** The adapter takes writes (no `drain` awaited). */
  #writable = true;
  #paused = false;
  /** No more input: the peer ended its side, or `stopReading`. */
  #inputEnded = false;
  /** A framing error seen in the input, handled once the frames before it are started. */
  #framingError: Error | null = null;
  #finished = false;
  readonly #done: Promise<DirectSessionEnd>;
  #resolveDone!: (end: DirectSessionEnd) => void;

  /**
   * Creates the session; {@linkcode DirectSession.start} runs it.
   *
   * @param conn A connection that offers `direct`.
   * @param handler Answers one frame (without its length prefix).
   * @param options The bounds.
   */
  constructor(conn: Connection, handler: DirectFrameHandler, options: DirectSessionOptions) {
    this.#conn = conn;
    this.#handler = handler;
    this.#options = options;
    this.#decoder = new DecoderState(options.maxFrameLength);
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /**
   * Takes the connection's direct path and serves it.
   *
   * @returns Resolves when the session is over (the connection is not closed yet).
   */
  start(): Promise<DirectSessionEnd> {
    this.#io = this.#conn.direct!(this);
    return this.#done;
  }

  /** Stops reading: the frames read already are answered, then the session ends. */
  stopReading(): void {
    if (this.#inputEnded || this.#finished) return;
    this.#inputEnded = true;
    this.#io.pause();
    this.#pump();
  }

  /** @inheritdoc */
  data(chunk: Uint8Array): void {
    if (this.#inputEnded || this.#finished) return;
    const err = this.#decoder.push(chunk, this.#backlog);
    if (err !== null) {
      this.#framingError = err;
      this.#inputEnded = true;
      this.#io.pause();
    }
    this.#pump();
  }

  /** @inheritdoc */
  end(error?: unknown): void {
    if (error !== undefined) {
      this.#finish({ error });
      return;
    }
    this.#inputEnded = true;
    this.#pump();
  }

  /** @inheritdoc */
  drain(): void {
    this.#writable = true;
    this.#pump();
  }

  #full(): boolean {
    return this.#inFlight >= this.#options.maxInFlight ||
      this.#readyBytes >= this.#options.maxBufferedBytes;
  }

  /**
   * Makes all the progress there is room for: starts waiting frames, writes
   * the answers ready, again while a write made room; then ends the session
   * if it is over.
   */
  #pump(): void {
    while (!this.#finished) {
      this.#run();
      if (this.#finished) return;
      if (this.#readyBytes > 0 && this.#writable) {
        this.#flush();
        if (this.#next < this.#backlog.length && !this.#full()) continue;
      }
      break;
    }
    this.#maybeFinish();
  }

  /** Starts the frames of the backlog while there is room; pauses reading when there is none. */
  #run(): void {
    const backlog = this.#backlog;
    const handler = this.#handler;
    while (this.#next < backlog.length) {
      if (this.#full()) {
        if (!this.#paused && !this.#inputEnded) {
          this.#paused = true;
          this.#io.pause();
        }
        return;
      }
      const frame = backlog[this.#next++];
      let r: ReturnType<DirectFrameHandler>;
      try {
        r = handler(frame);
      } catch (err) {
        // A handler must not throw; if it does, this connection fails, as
        // the stream pipeline's would, and nothing escapes into the adapter.
        this.#finish({ error: err });
        return;
      }
      if (r === null) continue;
      if (r instanceof Uint8Array) {
        this.#ready.push(r);
        this.#readyBytes += r.length;
      } else if (r === PENDING) {
        this.#inFlight++;
      } else {
        this.#inFlight++;
        r.then(this.settle, this.#fail);
      }
    }
    if (backlog.length > 0) {
      backlog.length = 0;
      this.#next = 0;
    }
    if (this.#framingError !== null) {
      this.#failFraming(this.#framingError);
      return;
    }
    if (this.#paused && !this.#inputEnded) {
      this.#paused = false;
      this.#io.resume();
    }
  }

  /**
   * The answer of a request whose handler returned {@linkcode PENDING} (or
   * a promise): written with the others finishing in the same turn.
   *
   * @param response The response frame, or `null` for none.
   */
  settle = (response: Uint8Array | null): void => {
    this.#inFlight--;
    if (this.#finished) return;
    if (response !== null) {
      this.#ready.push(response);
      this.#readyBytes += response.length;
    }
    // The answers finishing in this turn leave together, in one write.
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(this.#scheduledPump);
    }
  };

  #fail = (err: unknown): void => {
    this.#inFlight--;
    this.#finish({ error: err });
  };

  #scheduledPump = (): void => {
    this.#pumpScheduled = false;
    this.#pump();
  };

  /** Writes every answer ready, in one write. */
  #flush(): void {
    const ready = this.#ready;
    const bytes = ready.length === 1 ? ready[0] : concatBytes(ready);
    this.#ready = [];
    this.#readyBytes = 0;
    try {
      this.#writable = this.#io.write(bytes);
    } catch (err) {
      this.#finish({ error: err });
    }
  }

  /** Ends the session once the input is over and every answer is out. */
  #maybeFinish(): void {
    if (
      this.#finished || !this.#inputEnded || this.#inFlight > 0 ||
      this.#next < this.#backlog.length || this.#framingError !== null
    ) return;
    if (this.#readyBytes > 0) {
      if (!this.#writable) return; // drain() comes back here
      this.#flush();
      if (this.#finished) return;
    }
    this.#finished = true;
    this.#io.closeWrite().then(
      () => this.#resolveDone({}),
      (error) => this.#resolveDone({ error }),
    );
  }

  /** The framing is lost: answer what was read before, say why, half-close, and end. */
  #failFraming(err: Error): void {
    if (this.#finished) return;
    this.#ready.push(this.#options.framingFailure(err));
    this.#writable = true; // best effort: nothing is written after this
    this.#flush(); // takes everything ready, the failure frame last
    if (this.#finished) return;
    this.#finished = true;
    const done = () => this.#resolveDone({ error: err });
    this.#io.closeWrite().then(done, done);
  }

  #finish(end: DirectSessionEnd): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#ready = [];
    this.#readyBytes = 0;
    this.#resolveDone(end);
  }
}
