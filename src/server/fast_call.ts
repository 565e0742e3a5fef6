/**
 * One request on a server's fast path (`AbstractServer.respondFast`):
 * the request, its frame, and the way to answer it once, without a promise
 * or a closure per request.
 *
 * @module
 */

import type { FrameBudget } from "../streams/frame_budget.ts";
import { type DirectSession, PENDING } from "./direct_session.ts";
import type { InputHold, InputSource } from "./input_hold.ts";

/**
 * @internal What a {@linkcode FastCall} reports to: the server's statistics,
 * failure frames and request-bytes budget. The two functions never throw:
 * whatever goes wrong inside becomes a failure frame for the request.
 */
export interface FastCallHooks {
  finished(response: Uint8Array, frame: Uint8Array, startedAt: number): Uint8Array;
  failure(frame: Uint8Array, err: unknown): Uint8Array;
  readonly budget: FrameBudget;
}

/**
 * A request on a server's fast path (`AbstractServer.respondFast`):
 * the request, its frame, and the way to answer it, once.
 *
 * @example A subclass answering every request at once
 * ```ts
 * import {
 *   AbstractServer,
 *   decodeKvStateInternalRequest,
 *   type FastCall,
 *   type KvStateInternalRequest,
 *   MemoryTransport,
 *   resultFrameFor,
 * } from "@kvstate/queryable-state";
 *
 * class Fixed extends AbstractServer<KvStateInternalRequest> {
 *   protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
 *     return decodeKvStateInternalRequest(body);
 *   }
 *   protected handleRequest(): Uint8Array {
 *     throw new Error("not used");
 *   }
 *   protected override respondFast(call: FastCall<KvStateInternalRequest>): boolean {
 *     call.send(resultFrameFor(call.frame, new Uint8Array([42])));
 *     return true;
 *   }
 * }
 * await using server = new Fixed("Fixed", { transport: new MemoryTransport() });
 * (await server.start()).port > 0; // => true
 * ```
 */
export class FastCall<Req> {
  /** The request frame, without its length prefix (the request id is at bytes 8 to 16). */
  readonly frame: Uint8Array;
  /** The decoded request. */
  readonly request: Req;
  readonly #startedAt: number;
  readonly #hooks: FastCallHooks;
  readonly #session: DirectSession | undefined;
  readonly #input: InputSource | undefined;
  /** While the answer is awaited: the bytes the frame was read with, held in the budget. */
  #hold: InputHold | undefined;
  /** Still inside `respondFast`: an answer now is returned, not delivered. */
  #sync = true;
  #answer: Uint8Array | undefined;
  #deliver: ((response: Uint8Array) => void) | undefined;
  #answered = false;

  /** @internal Made by the server for each request. */
  constructor(
    frame: Uint8Array,
    request: Req,
    startedAt: number,
    hooks: FastCallHooks,
    session: DirectSession | undefined,
    input?: InputSource,
  ) {
    this.frame = frame;
    this.request = request;
    this.#startedAt = startedAt;
    this.#hooks = hooks;
    this.#session = session;
    this.#input = input;
  }

  /**
   * Answers with a complete response frame (length prefix included). Later
   * answers are ignored. Anything that is not a frame (not a `Uint8Array`
   * of at least 16 bytes) answers the request with a failure instead, and
   * is counted as an internal error. Never throws.
   *
   * @param response The frame.
   */
  send(response: Uint8Array): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#answerWith(this.#hooks.finished(response, this.frame, this.#startedAt));
  }

  /**
   * Answers with a failure, as a rejection of `handleRequest` is answered.
   * Later answers are ignored. Never throws, whatever `error` is.
   *
   * @param error The failure.
   */
  fail(error: unknown): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#answerWith(this.#hooks.failure(this.frame, error));
  }

  #answerWith(frame: Uint8Array): void {
    if (this.#sync) {
      this.#answer = frame;
      return;
    }
    const hold = this.#hold;
    if (hold !== undefined) hold.release();
    else this.#hooks.budget.release(this.frame.length);
    if (this.#session !== undefined) this.#session.settle(frame);
    else this.#deliver!(frame);
  }

  /** @internal `respondFast` returned `true`: the answer now, or a way to wait for it. */
  taken(): Uint8Array | Promise<Uint8Array> | typeof PENDING {
    this.#sync = false;
    if (this.#answer !== undefined) return this.#answer;
    // The frame stays in memory until the answer: it counts in the budget,
    // with the whole chunk it was read in when the session says which.
    const input = this.#input;
    if (input !== undefined) this.#hold = input.retainInput();
    else this.#hooks.budget.hold(this.frame.length);
    if (this.#session !== undefined) return PENDING;
    return new Promise<Uint8Array>((resolve) => (this.#deliver = resolve));
  }
}
