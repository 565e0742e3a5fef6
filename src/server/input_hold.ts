/**
 * The bytes of one chunk read from a connection, counted in the server's
 * request budget for as long as anything may keep them alive: frames of the
 * chunk not started yet, and requests in progress whose frames are views
 * into it. Internal to the server base and its sessions.
 *
 * @module
 */

import type { FrameBudget } from "../streams/frame_budget.ts";
import type { SharedFlowLimit } from "../streams/shared_flow_limit.ts";

/**
 * @internal A chunk's bytes in the budget, given back when the last of its
 * holders lets go. The session that read the chunk is the first holder;
 * each request started from it that goes on asynchronously is another.
 */
export class InputHold {
  readonly #budget: FrameBudget;
  readonly #limit: SharedFlowLimit;
  /** The bytes held in the budget. */
  readonly bytes: number;
  #refs = 1;

  /**
   * Takes over `bytes` already held in `budget`, for one holder.
   *
   * @param budget The budget the bytes are held in.
   * @param limit Woken when the bytes are given back (stages may wait for the budget).
   * @param bytes The bytes.
   */
  constructor(budget: FrameBudget, limit: SharedFlowLimit, bytes: number) {
    this.#budget = budget;
    this.#limit = limit;
    this.bytes = bytes;
  }

  /**
   * One more holder.
   *
   * @returns This hold.
   */
  retain(): InputHold {
    this.#refs++;
    return this;
  }

  /** One holder lets go; the last gives the bytes back. */
  release(): void {
    if (--this.#refs === 0) {
      this.#budget.release(this.bytes);
      this.#limit.wake();
    }
  }
}

/**
 * @internal What a session offers the requests it starts: the hold of the
 * chunk the current frame was read from. Called only while the session
 * starts that frame (synchronously, from its handler).
 */
export interface InputSource {
  /** One more holder of the current chunk's bytes. */
  retainInput(): InputHold;
}

/**
 * @internal The chunk a session is starting frames from: its bytes held in
 * the budget until its frames are all started, and then for as long as a
 * request started from it holds them ({@linkcode InputHold}).
 */
export class CurrentChunk {
  readonly #budget: FrameBudget;
  readonly #limit: SharedFlowLimit;
  /** The chunk's bytes, held in the budget (0: no chunk). */
  #bytes = 0;
  /** Their hold, once a request started from the chunk goes on asynchronously. */
  #hold: InputHold | null = null;

  /**
   * @param budget The budget the chunks are held in.
   * @param limit Woken when bytes are given back.
   */
  constructor(budget: FrameBudget, limit: SharedFlowLimit) {
    this.#budget = budget;
    this.#limit = limit;
  }

  /** Whether a chunk is held (its frames are not all started). */
  get held(): boolean {
    return this.#bytes !== 0;
  }

  /**
   * The next chunk: the previous one is dropped, `bytes` are held in the budget.
   *
   * @param bytes The bytes of the chunk to count.
   */
  take(bytes: number): void {
    this.drop();
    this.#budget.hold(bytes);
    this.#bytes = bytes;
  }

  /**
   * One more holder of the chunk's bytes.
   *
   * @returns The hold; `release` it when the request is finished.
   */
  retain(): InputHold {
    let hold = this.#hold;
    if (hold === null) hold = this.#hold = new InputHold(this.#budget, this.#limit, this.#bytes);
    return hold.retain();
  }

  /** The chunk's frames are all started (or dropped): the session lets go of its bytes. */
  drop(): void {
    const hold = this.#hold;
    if (hold !== null) {
      this.#hold = null;
      this.#bytes = 0;
      hold.release();
    } else if (this.#bytes !== 0) {
      this.#budget.release(this.#bytes);
      this.#bytes = 0;
      this.#limit.wake();
    }
  }
}
