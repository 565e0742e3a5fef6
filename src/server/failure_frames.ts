/**
 * The failure frames a server sends, chosen the way Flink's
 * `AbstractServerHandler` chooses them (PROTOCOL §1.4, §3.1), each bounded
 * in size ({@linkcode MAX_FAILURE_FRAME_LENGTH}) whatever the failure holds,
 * and never throwing.
 *
 * @module
 */

import {
  BadRequestError,
  RemoteError,
  serializedThrowableOf,
  stringifyError,
  surfacedFrom,
  toJavaThrowable,
} from "../wire/errors.ts";
import { writeJavaThrowable } from "../wire/java_serialization.ts";
import {
  BAD_REQUEST_EXCEPTION,
  DEFAULT_THROWABLE_TEXT_LIMITS,
  isBadRequest,
  JAVA_EXCEPTION_CLASSES,
  type JavaThrowable,
  javaThrowable,
  truncateText,
} from "../wire/java_throwable.ts";
import { encodeRequestFailure, encodeServerFailure } from "../wire/messages.ts";

/** Java's line separator on the platforms Flink runs on. */
const LS = "\n";

/**
 * The largest failure frame this module emits, in bytes, length prefix
 * included: 256 KiB (262144). {@linkcode requestFailureFrame},
 * {@linkcode serverFailureFrame}, {@linkcode failedIncomingMessageFrame} and
 * {@linkcode pipelineFailureFrame} never return a longer frame: a failure
 * whose Java serialization would not fit is sent trimmed (see
 * {@linkcode requestFailureFrame}). A proxy may relay a failure frame it
 * received as is when the frame is no longer than this; a longer one should
 * be read and re-encoded through {@linkcode requestFailureFrame}.
 *
 * The bound leaves room for the longest text the module renders itself (64 Ki
 * characters of {@linkcode DEFAULT_THROWABLE_TEXT_LIMITS}, at most 3 bytes
 * each in modified UTF-8) and the class descriptors around it.
 *
 * @example
 * ```ts
 * import { MAX_FAILURE_FRAME_LENGTH, requestFailureFrame } from "./failure_frames.ts";
 *
 * MAX_FAILURE_FRAME_LENGTH; // => 262144
 * requestFailureFrame(1n, new Error("x".repeat(10_000_000))).length <= MAX_FAILURE_FRAME_LENGTH; // => true
 * ```
 */
export const MAX_FAILURE_FRAME_LENGTH = 256 * 1024;

/** Longest Java serialization stream in a REQUEST_FAILURE frame (20 header bytes). */
const MAX_REQUEST_FAILURE_STREAM = MAX_FAILURE_FRAME_LENGTH - 20;
/** Longest Java serialization stream in a SERVER_FAILURE frame (12 header bytes). */
const MAX_SERVER_FAILURE_STREAM = MAX_FAILURE_FRAME_LENGTH - 12;

/**
 * Whether an error belongs to the bad-request family that a server sends as
 * is (Flink's `BadRequestException` and subclasses, local or received),
 * judged for a typed cause read out of a received wrapper (see
 * `surfacedFrom`) by the class received: Flink's proxy wraps a received
 * `RuntimeException` whatever its text names.
 *
 * @example
 * ```ts
 * import { isBadRequestError } from "./failure_frames.ts";
 * import { UnknownKeyOrNamespaceError } from "../wire/errors.ts";
 *
 * isBadRequestError(new UnknownKeyOrNamespaceError("x")); // => true
 * isBadRequestError(new Error("x")); // => false
 * ```
 *
 * @param err Any thrown value.
 * @returns `true` for the family.
 */
export function isBadRequestError(err: unknown): boolean {
  const remote = err instanceof RemoteError ? err : surfacedFrom(err);
  return remote !== undefined ? remote.isBadRequest : err instanceof BadRequestError;
}

/**
 * The throwable a server sends for a failed request: a bad-request error as
 * is; anything else wrapped as Flink wraps it,
 * `RuntimeException("Failed request <id>." + LS + " Caused by: " + stringified)`,
 * the stringified error bounded by {@linkcode DEFAULT_THROWABLE_TEXT_LIMITS}.
 * A bad-request error too large for a {@linkcode MAX_FAILURE_FRAME_LENGTH}
 * frame is trimmed as {@linkcode requestFailureFrame} describes.
 *
 * @example
 * ```ts
 * import { requestFailureThrowable } from "./failure_frames.ts";
 *
 * requestFailureThrowable(7n, new Error("boom")).message;
 * // => "Failed request 7.\n Caused by: java.lang.RuntimeException: boom\n"
 * ```
 *
 * @param requestId The id of the failed request.
 * @param err The failure.
 * @returns The throwable to send.
 */
export function requestFailureThrowable(requestId: bigint, err: unknown): JavaThrowable {
  const t = unboundedRequestFailureThrowable(requestId, err);
  return serializedLengthBound(t, MAX_REQUEST_FAILURE_STREAM) <= MAX_REQUEST_FAILURE_STREAM
    ? t
    : trimmedThrowable(t, MAX_REQUEST_FAILURE_STREAM);
}

/** The throwable to send, before the size bound: a bad request as is, anything else wrapped. */
function unboundedRequestFailureThrowable(requestId: bigint, err: unknown): JavaThrowable {
  if (isBadRequestError(err)) return toJavaThrowable(err);
  return javaThrowable(
    "java.lang.RuntimeException",
    `Failed request ${requestId}.${LS} Caused by: ${stringifyError(err)}`,
  );
}

/**
 * Encodes the REQUEST_FAILURE frame for a failed request (see
 * {@linkcode requestFailureThrowable}). A bad-request error received from a
 * peer is relayed with the bytes it arrived in when they fit.
 *
 * The frame is at most {@linkcode MAX_FAILURE_FRAME_LENGTH} bytes. A failure
 * that would not fit is sent trimmed: the first class of its hierarchy that
 * can cross the wire (so a Java client still gets the exception class it
 * expects, Flink's bad-request classes included; the original class name
 * starts the message when it differs), its message cut and marked
 * `... [N characters truncated]`, its causes left out and counted
 * (`... [N causes omitted]`); stack traces are never written. This function
 * never throws: should encoding fail anyway, the frame carries a fixed
 * `RuntimeException` saying so.
 *
 * @example
 * ```ts
 * import { requestFailureFrame } from "./failure_frames.ts";
 * import { readJavaThrowable } from "../wire/java_serialization.ts";
 * import { UnknownKvStateIdError } from "../wire/errors.ts";
 *
 * const frame = requestFailureFrame(9n, new UnknownKvStateIdError("m".repeat(1 << 20)));
 * frame.length <= 262144; // => true
 * const t = readJavaThrowable(frame.subarray(20));
 * t.className; // => "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException"
 * t.message?.endsWith("characters truncated]"); // => true
 * ```
 *
 * @param requestId The id of the failed request.
 * @param err The failure.
 * @returns The complete frame.
 */
export function requestFailureFrame(requestId: bigint, err: unknown): Uint8Array {
  try {
    if (isBadRequestError(err)) {
      const raw = serializedThrowableOf(err);
      if (raw !== undefined && raw.length <= MAX_REQUEST_FAILURE_STREAM) {
        return encodeRequestFailure(requestId, raw);
      }
    }
    const t = unboundedRequestFailureThrowable(requestId, err);
    return encodeRequestFailure(requestId, boundedStream(t, MAX_REQUEST_FAILURE_STREAM));
  } catch {
    return fallbackRequestFailure(requestId);
  }
}

/**
 * Encodes a SERVER_FAILURE frame of at most {@linkcode MAX_FAILURE_FRAME_LENGTH}
 * bytes: a throwable that would not fit, or that holds a class that cannot
 * cross the wire, is trimmed as {@linkcode requestFailureFrame} describes.
 * Never throws.
 *
 * @example
 * ```ts
 * import { serverFailureFrame } from "./failure_frames.ts";
 * import { javaThrowable } from "../wire/java_throwable.ts";
 *
 * serverFailureFrame(javaThrowable("java.lang.IllegalStateException", "x")).length; // => 439
 * ```
 *
 * @param t The throwable.
 * @returns The complete frame.
 */
export function serverFailureFrame(t: JavaThrowable): Uint8Array {
  try {
    return encodeServerFailure(boundedStream(t, MAX_SERVER_FAILURE_STREAM));
  } catch {
    return fallbackServerFailure();
  }
}

/**
 * The SERVER_FAILURE for a frame whose header or body could not be decoded:
 * `RuntimeException("Failed incoming message. Caused by: " + stringified)`,
 * bounded as {@linkcode serverFailureFrame} is. Never throws.
 *
 * @example
 * ```ts
 * import { failedIncomingMessageFrame } from "./failure_frames.ts";
 * import { readJavaThrowable } from "../wire/java_serialization.ts";
 *
 * readJavaThrowable(failedIncomingMessageFrame(new Error("bad")).subarray(12)).message;
 * // => "Failed incoming message. Caused by: java.lang.RuntimeException: bad\n"
 * ```
 *
 * @param err The decode error.
 * @returns The complete frame.
 */
export function failedIncomingMessageFrame(err: unknown): Uint8Array {
  return wrappedServerFailure("Failed incoming message. Caused by: ", err);
}

/**
 * The SERVER_FAILURE sent before a connection is closed because its framing
 * was lost: `RuntimeException("Exception in server pipeline. Caused by: " + stringified)`,
 * bounded as {@linkcode serverFailureFrame} is. Never throws.
 *
 * @example
 * ```ts
 * import { pipelineFailureFrame } from "./failure_frames.ts";
 *
 * pipelineFailureFrame(new Error("lost")).length <= 262144; // => true
 * ```
 *
 * @param err The pipeline error.
 * @returns The complete frame.
 */
export function pipelineFailureFrame(err: unknown): Uint8Array {
  return wrappedServerFailure("Exception in server pipeline. Caused by: ", err);
}

function wrappedServerFailure(prefix: string, err: unknown): Uint8Array {
  try {
    return serverFailureFrame(
      javaThrowable("java.lang.RuntimeException", prefix + stringifyError(err)),
    );
  } catch {
    return fallbackServerFailure();
  }
}

// ---------------------------------------------------------------------------
// Bounding

/** Serialized size of each writable class with a null message, measured once. */
const classOverheads = new Map<string, number>();

function classOverhead(className: string): number | undefined {
  let n = classOverheads.get(className);
  if (n === undefined && JAVA_EXCEPTION_CLASSES.has(className)) {
    n = writeJavaThrowable(javaThrowable(className, null)).length;
    classOverheads.set(className, n);
  }
  return n;
}

/**
 * An upper bound of `writeJavaThrowable(t).length`, or `Infinity` when it is
 * above `max` or a class of the chain cannot be written. Walks at most as
 * many causes as could fit in `max` (a chain that loops back counts as too
 * long, and is trimmed).
 */
function serializedLengthBound(t: JavaThrowable, max: number): number {
  let total = 0;
  for (let cur: JavaThrowable | null = t; cur !== null;) {
    const overhead = classOverhead(cur.className);
    if (overhead === undefined) return Infinity;
    const message = cur.message;
    if (message !== null && typeof message !== "string") return Infinity;
    // A string costs its tag and length (9 bytes at most) and 3 bytes per UTF-16 unit at most.
    total += overhead + (message === null ? 0 : 9 + 3 * message.length);
    if (total > max) return Infinity;
    const next: JavaThrowable | null = cur.cause;
    cur = next === cur ? null : next; // a cause that is the throwable itself means none
  }
  return total;
}

/** The first class of the throwable's hierarchy that the writer can emit. */
function writableClass(t: JavaThrowable): string {
  if (JAVA_EXCEPTION_CLASSES.has(t.className)) return t.className;
  for (const name of t.classHierarchy) if (JAVA_EXCEPTION_CLASSES.has(name)) return name;
  return isBadRequest(t) ? BAD_REQUEST_EXCEPTION : "java.lang.RuntimeException";
}

/** Most causes counted for the `... [N causes omitted]` marker. */
const MAX_CAUSES_COUNTED = 10_000;

/**
 * A stand-in for `t` that always fits in `max` bytes: a writable class of
 * its hierarchy, the message cut, no cause.
 */
function trimmedThrowable(t: JavaThrowable, max: number): JavaThrowable {
  const className = writableClass(t);
  let causes = 0;
  const seen = new Set<JavaThrowable>([t]);
  for (let c = t.cause; c !== null && !seen.has(c) && causes <= MAX_CAUSES_COUNTED; c = c.cause) {
    seen.add(c);
    causes++;
  }
  const note = causes === 0
    ? ""
    : `${LS}... [${
      causes > MAX_CAUSES_COUNTED ? `more than ${MAX_CAUSES_COUNTED}` : causes
    } causes omitted]`;
  const original = typeof t.message === "string" ? t.message : null;
  const renamed = className === t.className ? "" : `${truncateText(String(t.className), 1024)}: `;
  // Room for the message in UTF-16 units, at most 3 bytes each.
  const room = Math.min(
    DEFAULT_THROWABLE_TEXT_LIMITS.maxMessageLength,
    Math.floor((max - classOverhead(className)! - 9) / 3),
  );
  let message: string | null;
  if (original === null && renamed === "" && note === "") message = null;
  else {
    const text = renamed + (original ?? "null");
    message = truncateText(text, Math.max(0, room - note.length)) + note;
  }
  return javaThrowable(className, message);
}

/** The Java serialization of `t`, or of its trimmed stand-in when it would exceed `max` bytes. */
function boundedStream(t: JavaThrowable, max: number): Uint8Array {
  try {
    if (serializedLengthBound(t, max) <= max) {
      const bytes = writeJavaThrowable(t);
      if (bytes.length <= max) return bytes;
    }
  } catch {
    // Not writable as is (a malformed model): trimmed below.
  }
  const bytes = writeJavaThrowable(trimmedThrowable(t, max));
  if (bytes.length > max) throw new RangeError("trimmed failure still too long");
  return bytes;
}

// ---------------------------------------------------------------------------
// Last resort

const INTERNAL_ERROR = "Internal error: the server could not encode the failure.";
let fallbackStream: Uint8Array | undefined;

function fallbackThrowable(): Uint8Array {
  return fallbackStream ??= writeJavaThrowable(
    javaThrowable("java.lang.RuntimeException", INTERNAL_ERROR),
  );
}

function fallbackRequestFailure(requestId: bigint): Uint8Array {
  try {
    return encodeRequestFailure(requestId, fallbackThrowable());
  } catch {
    // Not a valid request id (only from a caller outside the type system).
    return encodeRequestFailure(0n, fallbackThrowable());
  }
}

function fallbackServerFailure(): Uint8Array {
  return encodeServerFailure(fallbackThrowable());
}
