/**
 * The request frames of one connection that no write has taken yet.
 *
 * @module
 */

import type { KvStateId } from "../wire/ids.ts";
import { MessageType, VERSION } from "../wire/messages.ts";

/** The size of an outbox's first buffer (allocated at its first append), in bytes. */
const INITIAL_OUTBOX = 4096;
/** The smallest buffer a batch after a write starts with. */
const MIN_OUTBOX = 128;
const NO_BYTES = new Uint8Array(0);
const NO_VIEW = new DataView(NO_BYTES.buffer);

/** @internal A request whose frame an {@linkcode Outbox} may hold. */
export interface OutboxEntry {
  /** Where the request's frame starts in the outbox, while no write has taken it; else -1. */
  outAt: number;
  /** The outbox generation `outAt` refers to (a write takes a generation whole). */
  outGen: number;
}

/** Copies `out[from, to)` to `target[at..]` (`target` may be `out` itself, with `at <= from`). */
function moveBytes(
  out: Uint8Array,
  from: number,
  to: number,
  target: Uint8Array,
  at: number,
): void {
  if (from === to || (target === out && from === at)) return;
  if (target === out) out.copyWithin(at, from, to);
  else target.set(out.subarray(from, to), at);
}

/**
 * @internal Request frames encoded in place, one after the other, until a
 * write takes them all at once ({@linkcode Outbox.take}); a fresh buffer then
 * collects what comes meanwhile (the transport may hold on to the bytes
 * taken). Each take starts a new generation.
 *
 * A request remembers where its frame starts and in which generation
 * ({@linkcode OutboxEntry}), so that the frame of a request abandoned before
 * a write took it can be cut out ({@linkcode Outbox.cutOut}, then
 * {@linkcode Outbox.compact}).
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 *
 * const out = new Outbox();
 * const a = { outAt: -1, outGen: -1 };
 * const b = { outAt: -1, outGen: -1 };
 * out.mark(a, out.length);
 * out.append(new Uint8Array([0, 0, 0, 2, 1, 1]));
 * out.mark(b, out.length);
 * out.append(new Uint8Array([0, 0, 0, 1, 2]));
 * out.cutOut(a); // a is abandoned: its 6 bytes become a hole
 * out.queuedBytes; // => 5
 * out.compact([b]);
 * b.outAt; // => 0
 * out.take(); // => new Uint8Array([0, 0, 0, 1, 2])
 * out.length; // => 0
 * ```
 */
export class Outbox {
  #buf: Uint8Array = NO_BYTES;
  #view: DataView = NO_VIEW;
  #len = 0;
  /** How large the buffer after a `take` starts (allocated at the next append). */
  #next = INITIAL_OUTBOX;
  /** Counts the buffers taken by writes (see `OutboxEntry.outGen`). */
  #gen = 0;
  /** Frames of abandoned requests still in the buffer: [start, length] pairs, in any order. */
  #holes: number[] | undefined;
  #holeBytes = 0;

  /** The bytes held, abandoned frames included. */
  get length(): number {
    return this.#len;
  }

  /** The bytes of the abandoned frames still held. */
  get holeBytes(): number {
    return this.#holeBytes;
  }

  /** The bytes held, not counting abandoned frames. */
  get queuedBytes(): number {
    return this.#len - this.#holeBytes;
  }

  /**
   * Records that `entry`'s frame starts at `at` in the current generation.
   *
   * @param entry The request.
   * @param at Where its frame starts.
   */
  mark(entry: OutboxEntry, at: number): void {
    entry.outAt = at;
    entry.outGen = this.#gen;
  }

  /**
   * Drops the bytes from `at` on (what a failed append wrote).
   *
   * @param at A length held before.
   */
  truncate(at: number): void {
    this.#len = at;
  }

  /**
   * @param at Where a frame starts.
   * @returns The frame's length prefix.
   */
  lengthPrefixAt(at: number): number {
    return this.#view.getInt32(at);
  }

  #reserve(n: number): void {
    const need = this.#len + n;
    if (need <= this.#buf.length) return;
    let cap = Math.max(this.#buf.length * 2, this.#next);
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /**
   * Appends a complete frame.
   *
   * @param frame The frame, length prefix included.
   */
  append(frame: Uint8Array): void {
    this.#reserve(frame.length);
    this.#buf.set(frame, this.#len);
    this.#len += frame.length;
  }

  /**
   * Appends a `KvStateInternalRequest` frame, encoded in place.
   *
   * @param id The request id.
   * @param kvStateId The state instance.
   * @param kn The key and namespace bytes.
   */
  appendInternal(id: number, kvStateId: KvStateId, kn: Uint8Array): void {
    const size = 40 + kn.length;
    const p = this.#requestHeader(id, size);
    kvStateId.writeTo(this.#buf, p + 20);
    this.#view.setInt32(p + 36, kn.length);
    this.#buf.set(kn, p + 40);
    this.#len = p + size;
  }

  /**
   * Appends a REQUEST frame whose body (the bytes after the request id, e.g.
   * an encoded `KvStateRequest`) is copied from `body`.
   *
   * @param id The request id.
   * @param body The request body.
   */
  appendRequest(id: number, body: Uint8Array): void {
    const size = 20 + body.length;
    const p = this.#requestHeader(id, size);
    this.#buf.set(body, p + 20);
    this.#len = p + size;
  }

  /**
   * Reserves room for a REQUEST frame of `size` bytes (length prefix
   * included) and writes its 20-byte header (length, version, type, id).
   *
   * @returns Where the frame starts.
   */
  #requestHeader(id: number, size: number): number {
    this.#reserve(size);
    const v = this.#view;
    const p = this.#len;
    v.setInt32(p, size - 4);
    v.setInt32(p + 4, VERSION);
    v.setInt32(p + 8, MessageType.REQUEST);
    v.setInt32(p + 12, Math.floor(id / 4294967296));
    v.setUint32(p + 16, id >>> 0);
    return p;
  }

  /**
   * Marks the frame of an abandoned request for removal (the last frame goes
   * at once); nothing if a write took it already.
   *
   * @param entry The request.
   */
  cutOut(entry: OutboxEntry): void {
    const at = entry.outAt;
    if (at < 0 || entry.outGen !== this.#gen) return;
    entry.outAt = -1;
    const len = this.#view.getInt32(at) + 4;
    if (at + len === this.#len) {
      this.#len = at;
      return;
    }
    (this.#holes ??= []).push(at, len);
    this.#holeBytes += len;
  }

  /**
   * Removes the holes, and shrinks the buffer when it is mostly empty.
   *
   * @param entries The requests that may still have a frame here (their
   * `outAt` moves left by what was removed before it).
   */
  compact(entries: Iterable<OutboxEntry>): void {
    const holes = this.#holes;
    if (holes === undefined || holes.length === 0) return;
    const n = holes.length / 2;
    const order: number[] = [];
    for (let i = 0; i < n; i++) order.push(i);
    order.sort((x, y) => holes[2 * x] - holes[2 * y]);
    const starts: number[] = [];
    /** Bytes removed before and at each hole (prefix sums). */
    const removed: number[] = [];
    let sum = 0;
    for (const i of order) {
      const start = holes[2 * i];
      const len = holes[2 * i + 1];
      // A hole past a truncated end is moot.
      if (start >= this.#len) continue;
      starts.push(start);
      sum += len;
      removed.push(sum);
    }
    const out = this.#buf;
    const live = this.#len - sum;
    const small = Math.max(INITIAL_OUTBOX, 2 * live);
    const target = out.length > 2 * small ? new Uint8Array(small) : out;
    let w = 0;
    let r = 0;
    for (let i = 0; i < starts.length; i++) {
      moveBytes(out, r, starts[i], target, w);
      w += starts[i] - r;
      r = starts[i] + (removed[i] - (i > 0 ? removed[i - 1] : 0));
    }
    moveBytes(out, r, this.#len, target, w);
    w += this.#len - r;
    const gen = this.#gen;
    for (const p of entries) {
      if (p.outGen !== gen || p.outAt < 0) continue;
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (starts[mid] < p.outAt) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) p.outAt -= removed[lo - 1];
    }
    if (target !== out) {
      this.#buf = target;
      this.#view = new DataView(target.buffer);
    }
    this.#len = w;
    this.#holes = undefined;
    this.#holeBytes = 0;
  }

  /**
   * Takes the bytes held for a write, and a new generation starts (abandoned
   * frames among the bytes taken go too). The next append starts a fresh
   * buffer, sized for a batch like this one: an idle connection holds none.
   *
   * @returns The bytes.
   */
  take(): Uint8Array {
    const n = this.#len;
    const bytes = this.#buf.subarray(0, n);
    // Sized for a batch like this one rather than for the largest so far.
    let next = MIN_OUTBOX;
    while (next < 2 * n && next < 1 << 20) next *= 2;
    this.#next = next;
    this.#buf = NO_BYTES;
    this.#view = NO_VIEW;
    this.#len = 0;
    this.#gen++;
    if (this.#holes !== undefined) {
      this.#holes = undefined;
      this.#holeBytes = 0;
    }
    return bytes;
  }

  /** Drops everything held (the connection failed). */
  clear(): void {
    this.#len = 0;
    this.#holes = undefined;
    this.#holeBytes = 0;
  }
}
