/**
 * What a proxy pool does after one attempt of a request failed: return the
 * failure, or send the request again to another member (and whether the
 * member is taken out).
 *
 * @module
 */

import {
  ConnectError,
  ConnectionClosedError,
  DeadlineExceededError,
  FrameLengthError,
  ProtocolError,
  RequestQueueFullError,
  serializedThrowableOf,
} from "../wire/errors.ts";
import { isServerFailure } from "../client/server_failure.ts";

/**
 * @internal The verdict on a failed attempt: `answer`, the member answered
 * (a failure it sent), returned as is, the member is alive; `final`,
 * returned as is (the request's own deadline or abort, a closed pool, a
 * bug); `down`, no answer and the member's fault: it is taken out, and the
 * request goes elsewhere; `elsewhere`, no answer but not the member's
 * health (its queue bound): the request goes elsewhere.
 */
export type Verdict = "answer" | "final" | "down" | "elsewhere";

/**
 * @internal The verdict on an attempt that failed with `err`. A failure the
 * member sent for the request (a REQUEST_FAILURE, which carries its
 * serialized bytes) is an answer, whatever its class: never sent again. No
 * answer: a SERVER_FAILURE (the member failing the whole connection, every
 * request pending on it, as Flink's server handler does before it closes
 * the channel), a failed connect, a connection closed or broken under the request
 * (bytes that are not the protocol), or the attempt's own timeout
 * (`attemptCut`: shorter than what was left of the request's deadline) take
 * the member out. A full queue, and a frame over the length bound, send the
 * request elsewhere only: the oversized frame ends the connection and every
 * request pending on it, though it answered one of them at most (which
 * cannot be told: the length comes before the id), so each goes elsewhere,
 * the oversized one failing again there until its attempts run out.
 *
 * @param err The attempt's error.
 * @param attemptCut Whether the attempt had a deadline of its own, shorter
 *   than the request's.
 * @returns The verdict.
 */
export function verdictOf(err: unknown, attemptCut: boolean): Verdict {
  // A SERVER_FAILURE carries a Throwable too, but answers no request: the connection failed.
  if (isServerFailure(err)) return "down";
  if (serializedThrowableOf(err) !== undefined) return "answer";
  if (err instanceof ConnectError || err instanceof ConnectionClosedError) return "down";
  if (err instanceof FrameLengthError || err instanceof RequestQueueFullError) return "elsewhere";
  if (err instanceof ProtocolError) return "down";
  if (err instanceof DeadlineExceededError) return attemptCut ? "down" : "final";
  return "final";
}
