/**
 * One request on a server's fast path (`AbstractServer.respondFast`):
 * the request, its frame, and the way to answer it once, without a promise
 * or a closure per request.
 *
 * @module
 */

import type { FrameBudget } from "../streams/frame_budget.ts";
import type { RequestFailureOutcome } from "./request_outcome.ts";
import { type DirectSession, PENDING } from "./direct_session.ts";
import type { InputHold, InputSource } from "./input_hold.ts";

/**
 * @internal What a {@linkcode FastCall} reports to: the server's statistics,
 * failure frames, request decoding and request-bytes budget, and where a
 * reusable call goes back once answered. `finished` and `failure` never
 * throw: whatever goes wrong inside becomes a failure frame for the request.
 */
export interface FastCallHooks<Req> {
  finished(
    response: Uint8Array,
    call: FastCall<Req>,
    startedAt: number,
    outcome: RequestFailureOutcome | undefined,
  ): Uint8Array;
  failure(frame: Uint8Array, err: unknown): Uint8Array;
  decode(body: Uint8Array): Req;
  readonly budget: FrameBudget;
  /** Takes back a reusable call (see `AbstractServer.reuseFastCalls`) once it is answered and delivered. */
  recycle(call: FastCall<Req>): void;
}

const NO_BYTES = new Uint8Array(0);

/**
 * A request on a server's fast path (`AbstractServer.respondFast`):
 * the request, its frame, and the way to answer it, once.
 *
 * The call refers to the frame where it was read (the chunk stays counted
 * in the server's request-bytes budget until the answer), and lets go of the
 * decoded request once `respondFast` returns (`request` decodes it again if
 * asked later); with `AbstractServer.reuseFastCalls`, the call object
 * itself is reused for a later request once answered. So a request in
 * progress costs no object of its own.
 *
 * @example A subclass answering every request at once
 * ```ts
 * import {
 *   AbstractServer,
 *   type FastCall,
 *   MemoryTransport,
 *   resultFrameFor,
 * } from "@kvstate/queryable-state";
 * import {
 *   decodeKvStateInternalRequest,
 *   type KvStateInternalRequest,
 * } from "@kvstate/queryable-state/wire";
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
  /** The request frame: `#bytes[#start, #end)` (bytes that are never modified). */
  #bytes: Uint8Array = NO_BYTES;
  #start = 0;
  #end = 0;
  #frame: Uint8Array | undefined;
  #request: Req | undefined;
  #startedAt = 0;
  readonly #hooks: FastCallHooks<Req>;
  #session: DirectSession | undefined;
  #input: InputSource | undefined;
  /** While the answer is awaited: the chunk the frame was read in, held in the budget. */
  #hold: InputHold | undefined;
  /** Reused once answered (see `AbstractServer.reuseFastCalls`). */
  readonly #reusable: boolean;
  /** Still inside `respondFast`: an answer now is returned, not delivered. */
  #sync = true;
  #answer: Uint8Array | undefined;
  #deliver: ((response: Uint8Array) => void) | undefined;
  #answered = false;
  /** `respondFast` threw: the subclass may still refer to the call, so it is not reused. */
  #threw = false;

  /** @internal Made by the server; {@linkcode FastCall.start} gives it a request. */
  constructor(hooks: FastCallHooks<Req>, reusable: boolean) {
    this.#hooks = hooks;
    this.#reusable = reusable;
  }

  /**
   * @internal Takes a request: its frame, `bytes[start, end)` (without the
   * length prefix), and the decoded request for `respondFast`. `input` is
   * what read the frame, asked to keep its chunk counted while the answer
   * is awaited (without it, the frame's own length is counted).
   */
  start(
    bytes: Uint8Array,
    start: number,
    end: number,
    request: Req,
    startedAt: number,
    session: DirectSession | undefined,
    input: InputSource | undefined,
  ): this {
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
    this.#request = request;
    this.#startedAt = startedAt;
    this.#session = session;
    this.#input = input;
    this.#sync = true;
    this.#answer = undefined;
    this.#deliver = undefined;
    this.#answered = false;
    this.#threw = false;
    return this;
  }

  /**
   * The request frame, without its length prefix (the request id is at
   * bytes 8 to 16).
   */
  get frame(): Uint8Array {
    return this.#frame ??= this.#bytes.subarray(this.#start, this.#end);
  }

  /** The decoded request (decoded again from the frame when asked after `respondFast`). */
  get request(): Req {
    return this.#request ??= this.#hooks.decode(this.frame.subarray(16));
  }

  /**
   * Copies the request id (the frame's bytes 8 to 16) into `target` at
   * `offset`: the way to answer with a frame built elsewhere.
   *
   * @param target The response frame being built.
   * @param offset Where the id goes (12 in a response frame with its length prefix).
   */
  copyRequestId(target: Uint8Array, offset: number): void {
    const bytes = this.#bytes;
    const id = this.#start + 8;
    for (let i = 0; i < 8; i++) target[offset + i] = bytes[id + i];
  }

  /**
   * Answers with a complete response frame (length prefix included). Later
   * answers are ignored. Anything that is not a frame (not a `Uint8Array`
   * of at least 16 bytes) answers the request with a failure instead, and
   * is counted as an internal error. Never throws.
   *
   * @param response The frame.
   * @param outcome For a failure frame: why, as the statistics count it
   *   (`reportFailedRequest(outcome)`). Default `failure`. Ignored for a result.
   */
  send(response: Uint8Array, outcome?: RequestFailureOutcome): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#answerWith(this.#hooks.finished(response, this, this.#startedAt, outcome));
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

  /**
   * @internal `respondFast` threw `error`: answers with it (unless already
   * answered), and the call is never reused, since the subclass may still
   * refer to it and answer it late (that answer is then ignored).
   */
  failThrown(error: unknown): void {
    this.#threw = true;
    this.fail(error);
  }

  #answerWith(frame: Uint8Array): void {
    if (this.#sync) {
      this.#answer = frame;
      return;
    }
    const hold = this.#hold;
    if (hold !== undefined) hold.release();
    else this.#hooks.budget.release(this.#end - this.#start);
    const session = this.#session;
    const deliver = this.#deliver;
    this.#done();
    if (session !== undefined) session.settle(frame);
    else deliver!(frame);
  }

  /** @internal `respondFast` returned `true`: the answer now, or a way to wait for it. */
  taken(): Uint8Array | Promise<Uint8Array> | typeof PENDING {
    this.#sync = false;
    const answer = this.#answer;
    if (answer !== undefined) {
      this.#done();
      return answer;
    }
    // The frame stays in memory until the answer: it counts in the budget,
    // with the whole chunk it was read in when the session says which.
    const input = this.#input;
    if (input !== undefined) this.#hold = input.retainInput();
    else this.#hooks.budget.hold(this.#end - this.#start);
    // Decoded again if needed: the decoded request would outlive the turn.
    this.#request = undefined;
    this.#frame = undefined;
    if (this.#session !== undefined) return PENDING;
    return new Promise<Uint8Array>((resolve) => (this.#deliver = resolve));
  }

  /** @internal `respondFast` returned `false`: lets go of the request. */
  clear(): this {
    this.#bytes = NO_BYTES;
    this.#request = undefined;
    this.#frame = undefined;
    this.#session = undefined;
    this.#input = undefined;
    return this;
  }

  /** Answered and delivered: lets go of the request, and goes back for reuse. */
  #done(): void {
    this.#hold = undefined;
    this.#answer = undefined;
    this.#deliver = undefined;
    if (!this.#reusable || this.#threw) return;
    this.clear();
    this.#hooks.recycle(this);
  }
}
