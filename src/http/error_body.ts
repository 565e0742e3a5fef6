/**
 * How the gateway answers a failure: the HTTP status of each error, and the
 * JSON error body `{"type", "javaClass", "message"}` with bounded text.
 *
 * | status | errors                                                                                   |
 * |--------|------------------------------------------------------------------------------------------|
 * | 400    | `BadParameterError` (the body names the `parameter`)                                     |
 * | 404    | unknown key (`UnknownKeyOrNamespaceError`), unknown state or job (`UnknownKvStateLocationError`, `UnknownLocationError`, `FlinkJobNotFoundError`, `UnknownKvStateIdError`), also when one of them is a cause of the error |
 * | 502    | every other failure from upstream (`RemoteError`, `ConnectError`, `ProtocolError`, ...)  |
 * | 503    | a bound refused the request (`RequestQueueFullError`), the client is closed (`ClosedError`), or the proxy knows no JobManager (`UnknownJobManagerError`, also as a cause): retry later |
 * | 504    | `DeadlineExceededError`                                                                  |
 * | 500    | anything else (a bug); the message is not shown                                          |
 *
 * A {@linkcode GatewayError} answers with its own status.
 *
 * `UnknownJobManagerError` (Flink 1.4's proxy had no JobManager to ask: none
 * registered yet, or leadership lost) is 503, not 502: nothing is wrong with
 * the request or the answer, the cluster is not ready to look a location up
 * and the same request may succeed later (as a `503` from `GET /readyz`
 * means). Behind a newer Flink the same situation is an
 * `UnknownLocationError`, which is 404 like every unknown job.
 *
 * @module
 */

import {
  ClosedError,
  DeadlineExceededError,
  QueryableStateError,
  RequestQueueFullError,
} from "../wire/errors.ts";
import { BadParameterError, GatewayError } from "./gateway_errors.ts";
import type { JsonValue } from "./json_values.ts";

/**
 * The default bound on the characters of an error's `message` (and
 * `javaClass`) in an answer: 1,024. Longer text is cut and ends with `…`.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_ERROR_TEXT } from "@kvstate/queryable-state/http";
 *
 * DEFAULT_MAX_ERROR_TEXT; // => 1024
 * ```
 */
export const DEFAULT_MAX_ERROR_TEXT = 1024;

/** Java classes that mean "no such key, state or job": HTTP 404. */
const NOT_FOUND: ReadonlySet<string> = new Set([
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
  "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException",
  "org.apache.flink.queryablestate.exceptions.UnknownLocationException",
  "org.apache.flink.runtime.query.UnknownKvStateLocation",
  "org.apache.flink.runtime.messages.FlinkJobNotFoundException",
]);
/** Java classes that mean "the cluster cannot answer now, retry later": HTTP 503. */
const UNAVAILABLE: ReadonlySet<string> = new Set([
  "org.apache.flink.queryablestate.exceptions.UnknownJobManagerException",
]);
/** How deep the cause chain is searched for a known class. */
const MAX_CAUSE_DEPTH = 16;

/**
 * An error as the gateway answers it: the HTTP status and the JSON of
 * `error` (`type`, `javaClass` (`null` for the gateway's own errors),
 * `message`, and `parameter` for a bad parameter).
 *
 * @example
 * ```ts
 * import type { ErrorAnswer } from "@kvstate/queryable-state/http";
 *
 * const a: ErrorAnswer = {
 *   status: 404,
 *   error: { type: "RouteNotFoundError", javaClass: null, message: "No route GET /x" },
 * };
 * a.status; // => 404
 * ```
 */
export interface ErrorAnswer {
  /** The HTTP status. */
  readonly status: number;
  /** The `error` member of the JSON body. */
  readonly error: {
    readonly type: string;
    readonly javaClass: string | null;
    readonly message: string;
    readonly parameter?: string;
  };
}

/**
 * The answer for an error (see the module table). For an error whose cause
 * chain holds an unknown key, state or job (404), or else an unknown
 * JobManager (503), the answer describes that cause.
 *
 * @example
 * ```ts
 * import { UnknownJobManagerError, UnknownKeyOrNamespaceError } from "@kvstate/queryable-state";
 * import { errorAnswer } from "@kvstate/queryable-state/http";
 *
 * const a = errorAnswer(new UnknownKeyOrNamespaceError("No state for the key."));
 * a.status; // => 404
 * a.error.type; // => "UnknownKeyOrNamespaceError"
 * a.error.javaClass; // => "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException"
 * errorAnswer(new UnknownJobManagerError("Unknown JobManager.")).status; // => 503
 * errorAnswer(new Error("a bug")).error.message; // => "Internal error"
 * ```
 *
 * @param err The error.
 * @param maxText The longest `message` and `javaClass` shown (default
 *   {@linkcode DEFAULT_MAX_ERROR_TEXT}).
 * @returns The status and the error JSON.
 */
export function errorAnswer(err: unknown, maxText: number = DEFAULT_MAX_ERROR_TEXT): ErrorAnswer {
  if (err instanceof BadParameterError) {
    return {
      status: err.status,
      error: {
        type: err.type,
        javaClass: null,
        message: cutText(err.message, maxText),
        parameter: err.parameter,
      },
    };
  }
  if (err instanceof GatewayError) {
    return {
      status: err.status,
      error: { type: err.type, javaClass: null, message: cutText(err.message, maxText) },
    };
  }
  if (err instanceof QueryableStateError) {
    const notFound = causeIn(err, NOT_FOUND);
    const unavailable = notFound === undefined ? causeIn(err, UNAVAILABLE) : undefined;
    const shown = notFound ?? unavailable ?? err;
    return {
      status: notFound !== undefined ? 404 : unavailable !== undefined ? 503 : statusOf(err),
      error: {
        type: shown.name,
        javaClass: cutText(shown.javaClassName, maxText),
        message: cutText(shown.message, maxText),
      },
    };
  }
  return {
    status: 500,
    error: { type: "InternalError", javaClass: null, message: "Internal error" },
  };
}

/**
 * The JSON body `{"error": {...}}` of an answer.
 *
 * @example
 * ```ts
 * import { errorJson } from "@kvstate/queryable-state/http";
 *
 * errorJson({ status: 504, error: { type: "DeadlineExceededError", javaClass: null, message: "late" } });
 * // => { error: { type: "DeadlineExceededError", javaClass: null, message: "late" } }
 * ```
 *
 * @param answer The answer.
 * @returns The body.
 */
export function errorJson(answer: ErrorAnswer): { error: JsonValue } {
  return { error: answer.error as JsonValue };
}

function statusOf(err: QueryableStateError): number {
  if (err instanceof DeadlineExceededError) return 504;
  if (err instanceof RequestQueueFullError || err instanceof ClosedError) return 503;
  return 502;
}

/** The error itself or the first of its causes whose Java class is in `classes`. */
function causeIn(
  err: QueryableStateError,
  classes: ReadonlySet<string>,
): QueryableStateError | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && e instanceof QueryableStateError; depth++) {
    if (classes.has(e.javaClassName)) return e;
    e = e.cause;
  }
  return undefined;
}

/**
 * @internal `text` cut to `max` characters, the cut marked with `…`.
 *
 * @param text The text.
 * @param max The most characters kept (the mark included).
 * @returns The text, whole or cut.
 */
export function cutText(text: string, max: number): string {
  return text.length > max ? text.slice(0, Math.max(0, max - 1)) + "…" : text;
}
