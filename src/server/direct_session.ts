/**
 * One served connection on the direct path of its transport
 * ({@linkcode Connection.direct}): the same stages as the stream pipeline
 * (`FrameDecoderStream` → `RequestHandlerStream` → `FrameEncoderStream`),
 * with the same bounds, run as plain calls on each chunk instead of stream
 * hops. Internal to the server base.
 *
 * @module
 */

import type { FrameBudget } from "../streams/frame_budget.ts";
import { DecoderState } from "../streams/frame_decoder_stream.ts";
import type { SharedFlowLimit } from "../streams/shared_flow_limit.ts";
import type { Connection, DirectChannel, DirectHandler } from "../transport/types.ts";
import { concatBytes } from "../wire/bytes.ts";
import type { SessionProbe } from "./served_connection.ts";

/**
 * What a {@linkcode DirectFrameHandler} returns for an answer that it will
 * give later through {@linkcode DirectSession.settle}.
 */
export const PENDING: unique symbol = Symbol("pending");

/**
 * Answers one frame: the response frame now, `null` for none, a promise of
 * either, or {@linkcode PENDING} when the answer comes later through
 * `settle`. It must not throw (if it does, the connection is failed).
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
  /** The budget of bytes for incomplete frames, shared by the server's connections. */
  readonly budget: FrameBudget;
  /** The bounds shared by the server's connections (requests in progress, answers held). */
  readonly limit: SharedFlowLimit;
  /** Counts an exception caught by the session's guards (must not throw). */
  readonly internalError: (err: unknown) => void;
  /** After the failure frame and FIN: how long to read and discard before closing, in ms. */
  readonly lingerMs: number;
  /** After the failure frame and FIN: how many bytes to read and discard at most. */
  readonly lingerBytes: number;
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
 * either (or past the shared bounds, see `SharedFlowLimit`) the session
 * stops reading (mid-chunk too: the frames not yet started wait) until
 * there is room. When the peer ends its side, the requests in progress
 * finish, their answers are written, and the connection is half-closed and
 * closed. A framing error (a bad length prefix, a frame over the shared
 * budget, or one that stays incomplete too long) answers the frames before
 * it, sends the failure frame, half-closes, and reads and discards what the
 * peer still sends (up to `lingerMs` / `lingerBytes`) so that closing does
 * not reset the connection before the peer has read why.
 *
 * Every callback the adapter or a handler calls (`data`, `end`, `drain`,
 * `settle`) is guarded: an exception in it fails this connection only and
 * is counted through `internalError`.
 */
export class DirectSession implements DirectHandler, SessionProbe {
  readonly #conn: Connection;
  readonly #handler: DirectFrameHandler;
  readonly #options: DirectSessionOptions;
  readonly #limit: SharedFlowLimit;
  readonly #decoder: DecoderState;
  #io!: DirectChannel;
  /** Frames read, not yet started. */
  #backlog: Uint8Array[] = [];
  #next = 0;
  #inFlight = 0;
  /** Answers ready, not yet written. */
  #ready: Uint8Array[] = [];
  #readyBytes = 0;
  /** Answer bytes handed to the adapter, not yet taken by it (until `drain`). */
  #unacked = 0;
  #pumpScheduled = false;
  /** The adapter takes writes (no `drain` awaited). */
  #writable = true;
  #paused = false;
  /** Registered with the shared limit for a wake-up. */
  #waitingShared = false;
  /** No more input: the peer ended its side, or `stopReading`. */
  #inputEnded = false;
  /** The adapter called `end`. */
  #peerEnded = false;
  /** A framing error seen in the input, handled once the frames before it are started. */
  #framingError: Error | null = null;
  #finished = false;
  /** After a framing failure: reading and discarding until the peer closes. */
  #lingering = false;
  #lingerBytes = 0;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #lingerError: unknown = undefined;
  /** After a framing failure: the failure frame and FIN are handed to the adapter. */
  #finSent = false;
  readonly #done: Promise<DirectSessionEnd>;
  #resolveDone!: (end: DirectSessionEnd) => void;
  /** Chunks read and writes completed (see {@linkcode SessionProbe.activity}). */
  activity = 0;

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
    this.#limit = options.limit;
    this.#decoder = new DecoderState(options.maxFrameLength, options.budget);
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /**
   * Takes the connection's direct path and serves it.
   *
   * @returns Resolves when the session is over (the connection is not closed yet).
   */
  start(): Promise<DirectSessionEnd> {
    try {
      this.#io = this.#conn.direct!(this);
    } catch (err) {
      this.#options.internalError(err);
      this.#finished = true;
      this.#end({ error: err });
    }
    return this.#done;
  }

  /** Requests in progress. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The partial frame held over (see `DecoderState.partialFrame`). */
  get partialFrame(): number {
    return this.#decoder.partialFrame;
  }

  /** Stops reading: the frames read already are answered, then the session ends. */
  stopReading(): void {
    if (this.#inputEnded || this.#finished) return;
    this.#inputEnded = true;
    try {
      this.#io.pause();
      this.#pump();
    } catch (err) {
      this.#guard(err);
    }
  }

  /**
   * Fails the connection as a framing error does: the answers ready, the
   * failure frame for `err`, FIN, a short linger, the end.
   *
   * @param err Why.
   */
  fail(err: Error): void {
    if (this.#finished) return;
    try {
      this.#failFraming(err);
    } catch (e) {
      this.#guard(e);
    }
  }

  /** @inheritdoc */
  data(chunk: Uint8Array): void {
    if (this.#lingering) {
      this.#discard(chunk.length);
      return;
    }
    if (this.#inputEnded || this.#finished) return;
    this.activity++;
    try {
      const err = this.#decoder.push(chunk, this.#backlog);
      if (err !== null) {
        this.#framingError = err;
        this.#inputEnded = true;
        this.#io.pause();
      }
      this.#pump();
    } catch (err) {
      this.#guard(err);
    }
  }

  /** @inheritdoc */
  end(error?: unknown): void {
    this.#peerEnded = true;
    if (this.#lingering) {
      // The peer is done: once the failure frame and FIN are out, so are we.
      if (this.#finSent || error !== undefined) this.#endLinger();
      return;
    }
    if (error !== undefined) {
      this.#finish({ error });
      return;
    }
    this.#inputEnded = true;
    try {
      this.#pump();
    } catch (err) {
      this.#guard(err);
    }
  }

  /** @inheritdoc */
  drain(): void {
    this.activity++;
    this.#writable = true;
    if (this.#unacked !== 0) {
      this.#limit.heldBytes -= this.#unacked;
      this.#unacked = 0;
      this.#limit.wake();
    }
    try {
      this.#pump();
    } catch (err) {
      this.#guard(err);
    }
  }

  #full(): boolean {
    const n = this.#inFlight;
    return n >= this.#options.maxInFlight ||
      this.#readyBytes >= this.#options.maxBufferedBytes ||
      this.#limit.blocks(n, this.#readyBytes + this.#unacked);
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
        if (
          !this.#waitingShared &&
          this.#limit.blocks(this.#inFlight, this.#readyBytes + this.#unacked)
        ) {
          this.#waitingShared = true;
          this.#limit.wait(this.#wakeShared);
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
        this.#options.internalError(err);
        this.#finish({ error: err });
        return;
      }
      if (r === null) continue;
      if (r instanceof Uint8Array) {
        this.#ready.push(r);
        this.#readyBytes += r.length;
        this.#limit.heldBytes += r.length;
      } else if (r === PENDING) {
        this.#inFlight++;
        this.#limit.inFlight++;
      } else {
        this.#inFlight++;
        this.#limit.inFlight++;
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

  #wakeShared = (): void => {
    this.#waitingShared = false;
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(this.#scheduledPump);
    }
  };

  /**
   * The answer of a request whose handler returned {@linkcode PENDING} (or
   * a promise): written with the others finishing in the same turn.
   *
   * @param response The response frame, or `null` for none.
   */
  settle = (response: Uint8Array | null): void => {
    this.#inFlight--;
    this.#limit.inFlight--;
    this.#limit.wake();
    if (this.#finished) return;
    if (response !== null) {
      this.#ready.push(response);
      this.#readyBytes += response.length;
      this.#limit.heldBytes += response.length;
    }
    // The answers finishing in this turn leave together, in one write.
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(this.#scheduledPump);
    }
  };

  #fail = (err: unknown): void => {
    this.#inFlight--;
    this.#limit.inFlight--;
    this.#limit.wake();
    this.#options.internalError(err);
    this.#finish({ error: err });
  };

  #scheduledPump = (): void => {
    this.#pumpScheduled = false;
    try {
      this.#pump();
    } catch (err) {
      this.#guard(err);
    }
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
      this.#limit.heldBytes -= bytes.length;
      this.#finish({ error: err });
      return;
    }
    if (this.#writable) {
      this.activity++;
      this.#limit.heldBytes -= bytes.length;
      this.#limit.wake();
    } else {
      this.#unacked += bytes.length;
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
    this.#dispose();
    this.#io.closeWrite().then(
      () => this.#end({}),
      (error) => this.#end({ error }),
    );
  }

  /**
   * The framing is lost: answer what was read before, say why, half-close,
   * read and discard what still comes (bounded), and end.
   */
  #failFraming(err: Error): void {
    if (this.#finished) return;
    this.#ready.push(this.#options.framingFailure(err));
    this.#writable = true; // best effort: nothing is written after this
    this.#flush(); // takes everything ready, the failure frame last
    if (this.#finished) return;
    this.#finished = true;
    this.#inputEnded = true;
    this.#dispose();
    this.#lingerError = err;
    this.#lingering = true;
    // From now on, for at most `lingerMs`: what the peer sends is read and
    // discarded (so that its writes do not block its reads, and the close
    // finds nothing unread), while the answers, the failure frame and FIN
    // go out; the session ends when the peer has closed too.
    this.#lingerTimer = setTimeout(() => this.#endLinger(), this.#options.lingerMs);
    this.#io.resume();
    this.#io.closeWrite().then(
      () => {
        this.#finSent = true;
        if (this.#peerEnded) this.#endLinger();
      },
      () => this.#endLinger(),
    );
  }

  #discard(n: number): void {
    this.#lingerBytes += n;
    if (this.#lingerBytes > this.#options.lingerBytes) this.#endLinger();
  }

  #endLinger(): void {
    if (!this.#lingering) return;
    this.#lingering = false;
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    this.#end({ error: this.#lingerError });
  }

  /** An exception in the session's own machinery: count it, fail this connection. */
  #guard(err: unknown): void {
    this.#options.internalError(err);
    this.#finish({ error: err });
  }

  #finish(end: DirectSessionEnd): void {
    if (this.#lingering) {
      this.#endLinger();
      return;
    }
    if (this.#finished) return;
    this.#finished = true;
    this.#dispose();
    this.#end(end);
  }

  /** Gives back the shared budgets held by this session. */
  #dispose(): void {
    this.#decoder.reset();
    const held = this.#readyBytes + this.#unacked;
    this.#ready = [];
    this.#readyBytes = 0;
    this.#unacked = 0;
    this.#backlog = [];
    this.#next = 0;
    if (held !== 0) {
      this.#limit.heldBytes -= held;
      this.#limit.wake();
    }
  }

  #end(end: DirectSessionEnd): void {
    this.#resolveDone(end);
  }
}
