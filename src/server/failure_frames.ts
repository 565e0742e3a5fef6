/**
 * The failure frames a server sends, chosen the way Flink's
 * `AbstractServerHandler` chooses them (PROTOCOL §1.4, §3.1).
 *
 * @module
 */

import {
  BadRequestError,
  RemoteError,
  serializedThrowableOf,
  stringifyError,
  toJavaThrowable,
} from "../wire/errors.ts";
import { writeJavaThrowable } from "../wire/java_serialization.ts";
import { type JavaThrowable, javaThrowable } from "../wire/java_throwable.ts";
import { encodeRequestFailure, encodeServerFailure } from "../wire/messages.ts";

/** Java's line separator on the platforms Flink runs on. */
const LS = "\n";

/**
 * Whether an error belongs to the bad-request family that a server sends as
 * is (Flink's `BadRequestException` and subclasses, local or received).
 *
 * @param err Any thrown value.
 * @returns `true` for the family.
 */
export function isBadRequestError(err: unknown): boolean {
  return err instanceof BadRequestError || (err instanceof RemoteError && err.isBadRequest);
}

/**
 * The throwable a server sends for a failed request: a bad-request error as
 * is; anything else wrapped as Flink wraps it,
 * `RuntimeException("Failed request <id>." + LS + " Caused by: " + stringified)`.
 *
 * @param requestId The id of the failed request.
 * @param err The failure.
 * @returns The throwable to send.
 */
export function requestFailureThrowable(requestId: bigint, err: unknown): JavaThrowable {
  if (isBadRequestError(err)) return toJavaThrowable(err);
  return javaThrowable(
    "java.lang.RuntimeException",
    `Failed request ${requestId}.${LS} Caused by: ${stringifyError(err)}`,
  );
}

/**
 * Encodes the REQUEST_FAILURE frame for a failed request (see
 * {@linkcode requestFailureThrowable}). A bad-request error received from a
 * peer is relayed with the bytes it arrived in.
 *
 * @param requestId The id of the failed request.
 * @param err The failure.
 * @returns The complete frame.
 */
export function requestFailureFrame(requestId: bigint, err: unknown): Uint8Array {
  if (isBadRequestError(err)) {
    const raw = serializedThrowableOf(err);
    if (raw !== undefined) return encodeRequestFailure(requestId, raw);
  }
  return encodeRequestFailure(
    requestId,
    writeJavaThrowable(requestFailureThrowable(requestId, err)),
  );
}

/**
 * Encodes a SERVER_FAILURE frame.
 *
 * @param t The throwable.
 * @returns The complete frame.
 */
export function serverFailureFrame(t: JavaThrowable): Uint8Array {
  return encodeServerFailure(writeJavaThrowable(t));
}

/**
 * The SERVER_FAILURE for a frame whose header or body could not be decoded:
 * `RuntimeException("Failed incoming message. Caused by: " + stringified)`.
 *
 * @param err The decode error.
 * @returns The complete frame.
 */
export function failedIncomingMessageFrame(err: unknown): Uint8Array {
  return serverFailureFrame(
    javaThrowable(
      "java.lang.RuntimeException",
      `Failed incoming message. Caused by: ${stringifyError(err)}`,
    ),
  );
}

/**
 * The SERVER_FAILURE sent before a connection is closed because its framing
 * was lost: `RuntimeException("Exception in server pipeline. Caused by: " + stringified)`.
 *
 * @param err The pipeline error.
 * @returns The complete frame.
 */
export function pipelineFailureFrame(err: unknown): Uint8Array {
  return serverFailureFrame(
    javaThrowable(
      "java.lang.RuntimeException",
      `Exception in server pipeline. Caused by: ${stringifyError(err)}`,
    ),
  );
}
