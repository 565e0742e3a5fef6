/**
 * Bytes to frames.
 *
 * @module
 */

import { FrameLengthError } from "../wire/errors.ts";
import { type FrameBudget, FrameBudgetError } from "./frame_budget.ts";

/** The default maximum frame length: 64 MiB. */
export const DEFAULT_MAX_FRAME_LENGTH: number = 64 * 1024 * 1024;

/** The largest length field Flink's decoder accepts (2^31 - 1 - 4). */
export const MAX_FRAME_LENGTH_LIMIT = 2147483643;

/**
 * Chunks at least this large whose whole frames take less than half of them
 * have those frames copied out (see {@linkcode DecoderState.push}).
 */
const COMPACT_MIN_CHUNK = 4096;

/** `#completeCarry`: the chunk was taken whole, the frame is still incomplete. */
const INCOMPLETE = -1;
/** `#completeCarry`: the framing is broken (see `#takeError`). */
const BROKEN = -2;

const NO_BYTES = new Uint8Array(0);

/** Options of {@linkcode FrameDecoderStream}. */
export interface FrameDecoderOptions {
  /**
   * The largest frame accepted, counted as the length field counts it (the
   * bytes after the 4-byte prefix). Checked on the prefix alone, before any
   * of the body is buffered. Default {@linkcode DEFAULT_MAX_FRAME_LENGTH}.
   */
  readonly maxFrameLength?: number;
  /**
   * A budget shared with other decoders for the bytes of incomplete frames;
   * a frame that does not fit errors the stream with
   * {@linkcode FrameBudgetError}. Default: none (only `maxFrameLength`
   * bounds the carry-over).
   */
  readonly budget?: FrameBudget;
}

/**
 * Splits a byte stream into protocol frames by their 4-byte big-endian length
 * prefix, like Netty's `LengthFieldBasedFrameDecoder(…, 0, 4, 0, 4)`.
 *
 * Each output chunk is a **batch**: every whole frame found in one input
 * chunk, in order, each without its length prefix. Frames that lie wholly in
 * an input chunk are views into it (no copy); a frame split across chunks is
 * gathered in one carry-over buffer. A negative length, or one above
 * `maxFrameLength`, errors the stream with {@linkcode FrameLengthError} right
 * after the prefix is read (the frames before it in the same chunk are
 * emitted first), since the framing of the connection is then lost. With a
 * shared `budget`, a carry-over that does not fit errors the stream with
 * {@linkcode FrameBudgetError} the same way; the budget is given back when
 * the stream ends, errors or is cancelled.
 *
 * @example Two frames in one chunk, one split across chunks
 * ```ts
 * import { FrameDecoderStream } from "@kvstate/queryable-state/streams";
 *
 * const input = ReadableStream.from([
 *   new Uint8Array([0, 0, 0, 1, 0xaa, 0, 0, 0, 2, 0xbb]),
 *   new Uint8Array([0xcc]),
 * ]);
 * const batches = await Array.fromAsync(input.pipeThrough(new FrameDecoderStream()));
 * batches.map((b) => b.map((f) => Array.from(f)));
 * // => [ [ [ 0xaa ] ], [ [ 0xbb, 0xcc ] ] ]
 * ```
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, Uint8Array[]> {
  /**
   * Creates a FrameDecoderStream.
   *
   * @param options The maximum frame length.
   * @throws {RangeError} When `maxFrameLength` is not an integer in 0..2^31-5.
   */
  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    if (!Number.isInteger(max) || max < 0 || max > MAX_FRAME_LENGTH_LIMIT) {
      throw new RangeError(`maxFrameLength must be an integer in 0..${MAX_FRAME_LENGTH_LIMIT}`);
    }
    const state = new DecoderState(max, options.budget);
    super({
      transform(chunk, controller) {
        const frames: Uint8Array[] = [];
        const err = state.push(chunk, frames);
        if (frames.length > 0) controller.enqueue(frames);
        if (err !== null) controller.error(err);
      },
      flush(controller) {
        // A partial frame at end of stream is dropped, as Netty drops it.
        state.reset();
        controller.terminate();
      },
      cancel() {
        state.reset();
      },
    } as Transformer<Uint8Array, Uint8Array[]>);
  }
}

/**
 * The decoder's state machine, separate from the stream so that the batch
 * parsing can be reused by code that reads sockets directly.
 */
export class DecoderState {
  readonly #max: number;
  readonly #budget: FrameBudget | undefined;
  /** Carry-over buffer for a frame split across chunks (prefix included). */
  #acc: Uint8Array | null = null;
  #accLen = 0;
  /** Bytes of the budget held for `#acc` (its capacity). */
  #reserved = 0;
  /** How many carry-overs have begun: tells one partial frame from the next. */
  #carries = 0;
  /** What `#completeCarry` met when it returned `BROKEN`. */
  #error: FrameLengthError | FrameBudgetError | null = null;
  /** Lazy decoding: the chunk `next` takes frames from, and where it is. */
  #rest: Uint8Array | null = null;
  #restOff = 0;
  /** Lazy decoding: a frame completed from the carry-over, handed out first. */
  #first: Uint8Array | null = null;
  /** Lazy decoding: the framing error met, returned by `endChunk`. */
  #failure: FrameLengthError | FrameBudgetError | null = null;
  /** The buffer holding the frame {@linkcode DecoderState.nextAt} found last. */
  frameBytes: Uint8Array = NO_BYTES;
  /** Where the frame {@linkcode DecoderState.nextAt} found last ends (exclusive). */
  frameEnd = 0;

  /**
   * Creates a DecoderState.
   *
   * @param maxFrameLength The maximum frame length.
   * @param budget A budget shared with other decoders for the carry-over
   * buffers (their capacity is reserved before they are allocated).
   */
  constructor(maxFrameLength: number, budget?: FrameBudget) {
    this.#max = maxFrameLength;
    this.#budget = budget;
  }

  /**
   * Drops any partial frame (and gives its bytes back to the budget). The
   * frames of a chunk given to `feed` and not handed out yet are kept: see
   * {@linkcode DecoderState.clear}.
   */
  reset(): void {
    this.#acc = null;
    this.#accLen = 0;
    if (this.#reserved !== 0) {
      this.#budget!.release(this.#reserved);
      this.#reserved = 0;
    }
  }

  /** Drops everything: the partial frame, and what `feed` left for `next`. */
  clear(): void {
    this.reset();
    this.#rest = null;
    this.#first = null;
    this.#failure = null;
    this.frameBytes = NO_BYTES;
  }

  /** The number of bytes of a partial frame held over. */
  get buffered(): number {
    return this.#accLen;
  }

  /**
   * Identifies the partial frame held over: 0 when there is none, otherwise
   * a number that stays the same until that frame completes (a watchdog
   * compares it over time to find a frame that stays incomplete).
   */
  get partialFrame(): number {
    return this.#accLen === 0 ? 0 : this.#carries;
  }

  /**
   * Consumes one chunk, pushing every whole frame onto `out`. Frames that
   * lie wholly in the chunk are views into it, except when they take less
   * than half of a chunk of 4 KiB or more (the rest being parts of frames
   * carried over): then they are copied out together, so that keeping one
   * small frame does not keep a large chunk alive.
   *
   * @param chunk The bytes read.
   * @param out Receives the frames (views; without the length prefix unless
   * `prefixed`).
   * @param prefixed Hand each frame over with its 4-byte length prefix.
   * @returns A framing error (a bad length, or a carry-over that does not
   * fit the budget; the partial frame is dropped then), or `null`.
   */
  push(
    chunk: Uint8Array,
    out: Uint8Array[],
    prefixed = false,
  ): FrameLengthError | FrameBudgetError | null {
    const skip = prefixed ? 0 : 4;
    let off = 0;
    const n = chunk.length;
    if (this.#accLen > 0) {
      off = this.#completeCarry(chunk);
      if (off < 0) return off === INCOMPLETE ? null : this.#takeError();
      out.push(this.#acc!.subarray(skip, this.#accLen));
      this.reset();
    }
    // Whole frames inside the chunk: views, no copies.
    const start = off;
    const first = out.length;
    while (n - off >= 4) {
      const len = (chunk[off] << 24) | (chunk[off + 1] << 16) | (chunk[off + 2] << 8) |
        chunk[off + 3];
      if (len < 0 || len > this.#max) return new FrameLengthError(len, this.#max);
      const end = off + 4 + len;
      if (end > n) break;
      out.push(chunk.subarray(off + skip, end));
      off = end;
    }
    if (off - start < n >> 1 && n >= COMPACT_MIN_CHUNK && out.length > first) {
      // The views cover less than half of a large chunk (the rest belongs to
      // frames carried over): copy them out, so that a frame kept by a
      // request in progress does not keep the whole chunk in memory.
      const copy = chunk.slice(start, off);
      const base = chunk.byteOffset + start;
      for (let i = first; i < out.length; i++) {
        const v = out[i];
        const at = v.byteOffset - base;
        out[i] = copy.subarray(at, at + v.length);
      }
    }
    return off < n ? this.#carry(chunk, off) : null;
  }

  /**
   * Takes one chunk for lazy decoding: {@linkcode DecoderState.next} then
   * hands out its frames one at a time (views into the chunk, without their
   * length prefix), so that a reader that cannot start them all at once
   * keeps one chunk, not one view per frame; once `next` returns `null`,
   * {@linkcode DecoderState.endChunk} carries the partial frame at the
   * chunk's end over (gathered in the carry-over buffer as with `push`) or
   * reports a framing error. Call `feed` again only after `endChunk`.
   *
   * @example Frames handed out one at a time
   * ```ts
   * import { DecoderState } from "@kvstate/queryable-state/streams";
   *
   * const d = new DecoderState(1024);
   * d.feed(new Uint8Array([0, 0, 0, 1, 0xaa, 0, 0, 0, 2, 0xbb])); // => 10
   * Array.from(d.next()!); // => [ 0xaa ]
   * d.next(); // => null
   * d.endChunk(); // => null
   * d.buffered; // => 5
   * d.feed(new Uint8Array([0xcc])); // => 7
   * Array.from(d.next()!); // => [ 0xbb, 0xcc ]
   * ```
   *
   * @param chunk The bytes read.
   * @returns The bytes the frames of this chunk may keep alive: the chunk,
   * plus the carry-over buffer when the chunk completes a carried frame.
   */
  feed(chunk: Uint8Array): number {
    if (this.#rest !== null) {
      // `endChunk` was not called: keep what is left ahead of the new bytes.
      const left = this.#rest.subarray(this.#restOff);
      const joined = new Uint8Array(left.length + chunk.length);
      joined.set(left);
      joined.set(chunk, left.length);
      this.#rest = joined;
      this.#restOff = 0;
      return joined.length;
    }
    let off = 0;
    let bytes = chunk.length;
    if (this.#accLen > 0) {
      off = this.#completeCarry(chunk);
      if (off < 0) {
        if (off !== INCOMPLETE) this.#failure = this.#takeError();
        return bytes;
      }
      // The carry-over buffer is the frame's now (its budget is given back).
      bytes += this.#acc!.length;
      this.#first = this.#acc!.subarray(4, this.#accLen);
      this.reset();
    }
    if (off < chunk.length) {
      this.#rest = chunk;
      this.#restOff = off;
    }
    return bytes;
  }

  /**
   * The next whole frame of the chunk given to {@linkcode DecoderState.feed}
   * (a view, without its length prefix), or `null` when there is none left
   * (or the framing is broken there: see `endChunk`).
   *
   * @returns The frame, or `null`.
   */
  next(): Uint8Array | null {
    const start = this.nextAt();
    return start < 0 ? null : this.frameBytes.subarray(start, this.frameEnd);
  }

  /**
   * {@linkcode DecoderState.next} without a view: finds the next whole frame
   * and returns where it starts (after its length prefix) in
   * {@linkcode DecoderState.frameBytes}, where it ends at
   * {@linkcode DecoderState.frameEnd}; or -1 when there is none left (or the
   * framing is broken there: see `endChunk`). The decoder never writes the
   * frame's bytes again, after `endChunk` or `clear` too (a frame completed
   * from a carry-over has that buffer to itself), so a request may keep
   * referring to them; `frameBytes` and `frameEnd` are overwritten by the
   * next call, and let go of by `endChunk` and `clear`.
   *
   * @example
   * ```ts
   * import { DecoderState } from "@kvstate/queryable-state/streams";
   *
   * const d = new DecoderState(1024);
   * d.feed(new Uint8Array([0, 0, 0, 2, 0xaa, 0xbb]));
   * const start = d.nextAt(); // => 4
   * d.frameEnd; // => 6
   * d.frameBytes[start]; // => 0xaa
   * d.nextAt(); // => -1
   * ```
   *
   * @returns The frame's start, or -1.
   */
  nextAt(): number {
    const first = this.#first;
    if (first !== null) {
      this.#first = null;
      this.frameBytes = first;
      this.frameEnd = first.length;
      return 0;
    }
    const chunk = this.#rest;
    if (chunk === null || this.#failure !== null) return -1;
    const off = this.#restOff;
    const n = chunk.length;
    if (n - off < 4) return -1;
    const len = (chunk[off] << 24) | (chunk[off + 1] << 16) | (chunk[off + 2] << 8) |
      chunk[off + 3];
    if (len < 0 || len > this.#max) {
      this.#failure = new FrameLengthError(len, this.#max);
      return -1;
    }
    const end = off + 4 + len;
    if (end > n) return -1;
    this.#restOff = end;
    this.frameBytes = chunk;
    this.frameEnd = end;
    return off + 4;
  }

  /**
   * After `next` returned `null`: lets go of the chunk given to `feed`,
   * carrying its partial frame over, and returns the framing error met in
   * it (a bad length, or a carry-over that does not fit the budget), or
   * `null`.
   *
   * @returns The error, or `null`.
   */
  endChunk(): FrameLengthError | FrameBudgetError | null {
    const failure = this.#failure;
    const chunk = this.#rest;
    this.#rest = null;
    this.#first = null;
    this.frameBytes = NO_BYTES;
    if (failure !== null) {
      this.#failure = null;
      return failure;
    }
    if (chunk === null || this.#restOff >= chunk.length) return null;
    return this.#carry(chunk, this.#restOff);
  }

  /**
   * Completes the carried-over frame with the head of `chunk`. Returns the
   * offset after it (the frame is then `#acc[0, #accLen)`), `INCOMPLETE`
   * when `chunk` was taken whole and the frame is still incomplete, or
   * `BROKEN` (see `#takeError`).
   */
  #completeCarry(chunk: Uint8Array): number {
    const n = chunk.length;
    let off = 0;
    let acc = this.#acc!;
    if (this.#accLen < 4) {
      const take = Math.min(4 - this.#accLen, n);
      acc.set(chunk.subarray(0, take), this.#accLen);
      this.#accLen += take;
      off = take;
      if (this.#accLen < 4) return INCOMPLETE;
    }
    const len = (acc[0] << 24) | (acc[1] << 16) | (acc[2] << 8) | acc[3];
    if (len < 0 || len > this.#max) {
      this.reset();
      this.#error = new FrameLengthError(len, this.#max);
      return BROKEN;
    }
    const total = 4 + len;
    const take = Math.min(total - this.#accLen, n - off);
    const need = this.#accLen + take;
    if (acc.length < need) {
      // Grow geometrically, never past the frame: a peer that announces a
      // large frame and trickles it costs memory only as bytes arrive.
      const size = Math.min(total, Math.max(need, acc.length * 2));
      if (this.#budget !== undefined) {
        if (!this.#budget.reserve(size - this.#reserved)) {
          const max = this.#budget.max;
          this.reset();
          this.#error = new FrameBudgetError(total, max);
          return BROKEN;
        }
        this.#reserved = size;
      }
      const grown = new Uint8Array(size);
      grown.set(acc.subarray(0, this.#accLen));
      acc = this.#acc = grown;
    }
    acc.set(chunk.subarray(off, off + take), this.#accLen);
    this.#accLen += take;
    off += take;
    return this.#accLen < total ? INCOMPLETE : off;
  }

  /** The error `#completeCarry` met (it returned `BROKEN`), once. */
  #takeError(): FrameLengthError | FrameBudgetError {
    const err = this.#error!;
    this.#error = null;
    return err;
  }

  /**
   * Carries the partial frame at `chunk[off..]` over. When its length is
   * known (validated before), the buffer is sized for the whole frame up to
   * 64 KiB; larger frames grow as their bytes arrive.
   */
  #carry(chunk: Uint8Array, off: number): FrameBudgetError | null {
    const rest = chunk.length - off;
    let cap = 4;
    if (rest >= 4) {
      cap = 4 + ((chunk[off] << 24) | (chunk[off + 1] << 16) | (chunk[off + 2] << 8) |
        chunk[off + 3]);
    }
    const size = Math.max(rest, Math.min(cap, 65536));
    if (this.#budget !== undefined) {
      if (!this.#budget.reserve(size)) return new FrameBudgetError(cap, this.#budget.max);
      this.#reserved = size;
    }
    const acc = new Uint8Array(size);
    acc.set(chunk.subarray(off));
    this.#acc = acc;
    this.#accLen = rest;
    this.#carries++;
    return null;
  }
}
