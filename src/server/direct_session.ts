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
import { AnswerBuffer } from "./answer_buffer.ts";
import { CurrentChunk, type InputHold, type InputSource } from "./input_hold.ts";
import type { SessionProbe } from "./served_connection.ts";

/**
 * What a {@linkcode DirectFrameHandler} returns for an answer that it will
 * give later through {@linkcode DirectSession.settle}.
 */
export const PENDING: unique symbol = Symbol("pending");

/**
 * Answers one frame, `bytes[start, end)` (without its length prefix; the
 * bytes stay as they are while the request is in progress, see
 * `retainInput`): the response frame now, either as a `Uint8Array` or
 * written into `out` (then it returns `null`, as for no answer), a promise
 * of either, or {@linkcode PENDING} when the answer comes later through
 * `settle`. It must not throw (if it does, the connection is failed).
 */
export type DirectFrameHandler = (
  bytes: Uint8Array,
  start: number,
  end: number,
  out: AnswerBuffer,
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
  /**
   * The budget of request bytes shared by the server's connections: the
   * incomplete frames, and the chunks read whose frames are not started or
   * still in progress.
   */
  readonly budget: FrameBudget;
  /** The bounds shared by the server's connections (requests in progress, answers held, the budget). */
  readonly limit: SharedFlowLimit;
  /** Counts an exception caught by the session's guards (must not throw). */
  readonly internalError: (err: unknown) => void;
  /**
   * After a framing error: how long the requests in progress may take to
   * finish before the failure frame is sent anyway (their answers are then
   * dropped), in ms.
   */
  readonly failureGraceMs: number;
  /** After the failure frame and FIN: how long to read and discard before closing, in ms. */
  readonly lingerMs: number;
  /** After a framing error: how many bytes to read and discard at most. */
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
 * stops reading (mid-chunk too: the frames not yet started wait, as the
 * chunk they are in, not decoded) until there is room. Each chunk read is
 * counted in the shared budget until its last frame is started and every
 * request started from it is finished (see `retainInput`). When the peer
 * ends its side, the requests in progress finish, their answers are
 * written, and the connection is half-closed and closed. A framing error (a
 * bad length prefix, a frame over the shared budget, or `fail`) answers the
 * frames before it: the requests in progress may finish (for up to
 * `failureGraceMs`) and their answers are written, then the failure frame,
 * then FIN; meanwhile and afterwards what the peer still sends is read and
 * discarded (up to `lingerBytes`, and for up to `lingerMs` after FIN) so
 * that closing does not reset the connection before the peer has read why.
 *
 * Every callback the adapter or a handler calls (`data`, `end`, `drain`,
 * `settle`) is guarded: an exception in it fails this connection only and
 * is counted through `internalError`.
 */
export class DirectSession implements DirectHandler, SessionProbe, InputSource {
  readonly #conn: Connection;
  readonly #handler: DirectFrameHandler;
  readonly #options: DirectSessionOptions;
  readonly #limit: SharedFlowLimit;
  readonly #decoder: DecoderState;
  #io!: DirectChannel;
  /** A frame taken from the decoder and not started yet (there was no room): its bytes, start and end. */
  #peeked: Uint8Array | null = null;
  #peekedStart = 0;
  #peekedEnd = 0;
  /** The chunk being started, held in the budget. */
  readonly #chunk: CurrentChunk;
  #inFlight = 0;
  /** Answers ready, not yet written (their bytes: `#out.length`). */
  readonly #out = new AnswerBuffer();
  /**
   * The bytes of `#out` counted in the shared `heldBytes` (see `#countReady`):
   * answers arrive appended, written in place by a handler, or settled, even
   * from inside another frame's handler, and each byte is counted once.
   */
  #counted = 0;
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
  /** After a framing error: the error; the requests in progress finish, input is discarded. */
  #failure: Error | null = null;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #finished = false;
  /** After the failure frame: reading and discarding until the peer closes. */
  #lingering = false;
  /** Bytes read and discarded since the framing error. */
  #discarded = 0;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
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
    this.#chunk = new CurrentChunk(options.budget, options.limit);
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

  /**
   * One more holder of the bytes of the chunk whose frame is being started:
   * for a request that goes on asynchronously, which keeps its frame (a
   * view into the chunk). Call only from the handler, while it starts a frame.
   *
   * @returns The hold; `release` it when the request is finished.
   */
  retainInput(): InputHold {
    return this.#chunk.retain();
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
   * Fails the connection as a framing error does: the frames read and not
   * started are dropped, the requests in progress may finish, then the
   * failure frame for `err`, FIN, a short linger, the end.
   *
   * @param err Why.
   */
  fail(err: Error): void {
    if (this.#finished) return;
    try {
      this.#startFailure(err);
    } catch (e) {
      this.#guard(e);
    }
  }

  /** @inheritdoc */
  data(chunk: Uint8Array): void {
    if (this.#failure !== null) {
      this.#discard(chunk.length);
      return;
    }
    if (this.#inputEnded || this.#finished) return;
    this.activity++;
    try {
      const bytes = this.#decoder.feed(chunk);
      this.#chunk.take(bytes);
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
    if (this.#failure !== null) return; // the answers in progress still go out
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
    const ready = this.#out.length;
    return n >= this.#options.maxInFlight ||
      ready >= this.#options.maxBufferedBytes ||
      this.#limit.blocks(n, ready + this.#unacked);
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
      if (this.#out.length > 0 && this.#writable) {
        this.#flush();
        // The write made room: start what waits, or read on.
        if (
          (this.#peeked !== null || this.#chunk.held || this.#paused) &&
          !this.#finished && !this.#full()
        ) continue;
      }
      break;
    }
    this.#maybeFinish();
  }

  /** Starts the frames of the chunk while there is room; pauses reading when there is none. */
  #run(): void {
    const decoder = this.#decoder;
    const handler = this.#handler;
    const out = this.#out;
    for (;;) {
      let bytes = this.#peeked;
      let start: number;
      let end: number;
      if (bytes === null) {
        if (!this.#chunk.held) break;
        start = decoder.nextAt();
        if (start < 0) {
          // Every frame of the chunk is started: the session lets go of it
          // (before its partial frame is carried over, which the budget counts).
          this.#chunk.drop();
          const failure = decoder.endChunk();
          if (failure !== null) {
            this.#startFailure(failure);
            return;
          }
          break;
        }
        bytes = decoder.frameBytes;
        end = decoder.frameEnd;
      } else {
        start = this.#peekedStart;
        end = this.#peekedEnd;
      }
      if (this.#full()) {
        this.#peeked = bytes;
        this.#peekedStart = start;
        this.#peekedEnd = end;
        this.#waitForRoom();
        return;
      }
      this.#peeked = null;
      let r: ReturnType<DirectFrameHandler>;
      try {
        r = handler(bytes, start, end, out);
      } catch (err) {
        // A handler must not throw; if it does, this connection fails, as
        // the stream pipeline's would, and nothing escapes into the adapter.
        this.#options.internalError(err);
        this.#finish({ error: err });
        return;
      }
      if (r === null) {
        // Answered in place (or not at all).
        this.#countReady();
        continue;
      }
      if (r instanceof Uint8Array) {
        out.append(r);
        this.#countReady();
      } else if (r === PENDING) {
        this.#inFlight++;
        this.#limit.inFlight++;
      } else {
        this.#inFlight++;
        this.#limit.inFlight++;
        r.then(this.settle, this.#fail);
      }
    }
    // Every frame read is started: read on only if another could start too,
    // so that a connection holds at most one chunk it cannot start yet.
    if (this.#full()) {
      this.#waitForRoom();
      return;
    }
    if (this.#paused && !this.#inputEnded) {
      this.#paused = false;
      this.#io.resume();
    }
  }

  /** No room to start a frame: stop reading, and ask the shared bounds for a wake-up. */
  #waitForRoom(): void {
    if (!this.#paused && !this.#inputEnded) {
      this.#paused = true;
      this.#io.pause();
    }
    if (
      !this.#waitingShared &&
      this.#limit.blocks(this.#inFlight, this.#out.length + this.#unacked)
    ) {
      this.#waitingShared = true;
      this.#limit.wait(this.#wakeShared);
    }
  }

  /** The chunk's frames are all started (or dropped): the session lets go of its bytes. */
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
      this.#out.append(response);
      this.#countReady();
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

  /** Counts the answer bytes added to `#out` since last counted in the shared `heldBytes`. */
  #countReady(): void {
    const n = this.#out.length;
    this.#limit.heldBytes += n - this.#counted;
    this.#counted = n;
  }

  /** Writes every answer ready, in one write. */
  #flush(): void {
    const bytes = this.#out.take();
    this.#counted = 0;
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
    if (this.#finished) return;
    if (this.#failure !== null) {
      if (this.#inFlight === 0) this.#sendFailure();
      return;
    }
    if (
      !this.#inputEnded || this.#inFlight > 0 || this.#peeked !== null || this.#chunk.held
    ) return;
    if (this.#out.length > 0) {
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
   * The framing is lost: nothing more is started; what the peer sends from
   * now on is read and discarded (so that its writes do not block its reads);
   * the requests in progress may finish for up to `failureGraceMs`, their
   * answers going out as usual; then the failure frame (see `#sendFailure`).
   */
  #startFailure(err: Error): void {
    if (this.#finished || this.#failure !== null) return;
    this.#failure = err;
    this.#inputEnded = true;
    this.#peeked = null;
    this.#chunk.drop();
    this.#decoder.clear();
    if (this.#paused) {
      this.#paused = false;
      this.#io.resume();
    }
    if (this.#inFlight === 0) {
      this.#sendFailure();
      return;
    }
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      try {
        this.#sendFailure();
      } catch (e) {
        this.#guard(e);
      }
    }, this.#options.failureGraceMs);
  }

  /**
   * After a framing error, once the requests in progress are finished (or
   * their grace is over): the answers ready, the failure frame, FIN, and a
   * bounded linger until the peer closes too.
   */
  #sendFailure(): void {
    if (this.#finished || this.#failure === null) return;
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    const failure = this.#options.framingFailure(this.#failure);
    this.#out.append(failure);
    this.#countReady();
    this.#writable = true; // best effort: nothing is written after this
    this.#flush(); // takes everything ready, the failure frame last
    if (this.#finished) return;
    this.#finished = true;
    this.#dispose();
    this.#lingering = true;
    // From now on, for at most `lingerMs`: what the peer sends is read and
    // discarded (so that the close finds nothing unread) while the failure
    // frame and FIN go out; the session ends when the peer has closed too.
    this.#lingerTimer = setTimeout(() => this.#endLinger(), this.#options.lingerMs);
    this.#io.closeWrite().then(
      () => {
        this.#finSent = true;
        if (this.#peerEnded) this.#endLinger();
      },
      () => this.#endLinger(),
    );
  }

  #discard(n: number): void {
    this.#discarded += n;
    if (this.#discarded <= this.#options.lingerBytes) return;
    // Enough: stop reading (TCP holds the peer back); the linger timer ends it.
    if (this.#lingering) this.#endLinger();
    else this.#io.pause();
  }

  #endLinger(): void {
    if (!this.#lingering) return;
    this.#lingering = false;
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    this.#end({ error: this.#failure! });
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

  /** Gives back the shared budgets held by this session, and its timer. */
  #dispose(): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#peeked = null;
    this.#chunk.drop();
    this.#decoder.clear();
    const held = this.#counted + this.#unacked;
    this.#out.clear();
    this.#counted = 0;
    this.#unacked = 0;
    if (held !== 0) {
      this.#limit.heldBytes -= held;
      this.#limit.wake();
    }
  }

  #end(end: DirectSessionEnd): void {
    this.#resolveDone(end);
  }
}
