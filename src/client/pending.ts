/**
 * A request waiting for its answer, and how it is answered.
 *
 * @module
 */

import { decodeKvStateResponse } from "../wire/messages.ts";
import type { OutboxEntry } from "./outbox.ts";

/** @internal Where the exceptions of code outside the client go (never throws). */
export interface InternalErrorSink {
  /** Counts an exception caught on its way to the runtime. */
  reportInternalError(error: unknown): void;
}

/**
 * @internal One request from the moment it is made until it is answered:
 * either a promise's functions or a raw handler with its context, its
 * deadline, its id on its connection, and where its frame waits to be
 * written ({@linkcode OutboxEntry}).
 */
export interface Pending extends OutboxEntry {
  readonly resolve: ((content: Uint8Array) => void) | undefined;
  readonly reject: ((err: unknown) => void) | undefined;
  /** A `RawResponseHandler`. */
  readonly raw: ((frame: Uint8Array | null, error: unknown, context: unknown) => void) | undefined;
  /** What `raw` gets as its third argument. */
  readonly context: unknown;
  readonly sentAt: number;
  readonly deadline: number;
  cleanup: (() => void) | undefined;
  /** The id on its connection, once it has one; else -1. */
  id: number;
  /** The connection it was given to. */
  connection: { forget(pending: Pending): void } | undefined;
}

/**
 * @internal Settles with a response frame (length prefix included) or its
 * content. An exception of a raw handler is caught and counted, never
 * thrown.
 *
 * @param sink Counts a handler's exception.
 * @param p The request.
 * @param frame The response frame.
 * @param content The response content, when already decoded.
 */
export function settleOk(
  sink: InternalErrorSink,
  p: Pending,
  frame: Uint8Array,
  content: Uint8Array | null,
): void {
  try {
    p.cleanup?.();
    if (p.raw !== undefined) p.raw(frame, undefined, p.context);
    else p.resolve!(content ?? decodeKvStateResponse(frame.subarray(20)));
  } catch (e) {
    sink.reportInternalError(e);
  }
}

/**
 * @internal Settles with an error; like {@linkcode settleOk}, never throws.
 *
 * @param sink Counts a handler's exception.
 * @param p The request.
 * @param err The error.
 */
export function settleErr(sink: InternalErrorSink, p: Pending, err: unknown): void {
  try {
    p.cleanup?.();
    if (p.raw !== undefined) p.raw(null, err, p.context);
    else p.reject!(err);
  } catch (e) {
    sink.reportInternalError(e);
  }
}
