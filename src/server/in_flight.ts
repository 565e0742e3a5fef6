/**
 * A request in progress on a server's regular path: its frame, its start,
 * its abort signal (made on first use), and the way it is finished once.
 *
 * @module
 */

import { requestIdOf } from "./result_frame.ts";

/** What a request handler gets besides the request. */
export interface RequestContext {
  /** The request id as the peer sent it. */
  readonly requestId: bigint;
  /** Aborted when the request's deadline passes or the server closes. */
  readonly signal: AbortSignal;
}

/** @internal An asynchronous request tracked for its deadline and for `close()`. */
export class InFlight implements RequestContext {
  readonly frame: Uint8Array;
  readonly startedAt: number;
  settled = false;
  finish!: (frame: Uint8Array) => void;
  #controller: AbortController | undefined;
  #aborted: unknown = undefined;

  constructor(frame: Uint8Array, startedAt: number) {
    this.frame = frame;
    this.startedAt = startedAt;
  }

  get requestId(): bigint {
    return requestIdOf(this.frame);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted !== undefined) this.#controller.abort(this.#aborted);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    this.#aborted = reason;
    this.#controller?.abort(reason);
  }
}
