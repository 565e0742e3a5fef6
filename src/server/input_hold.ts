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
