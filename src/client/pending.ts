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
  /** Gets the content, or `undefined` for a miss of an `absentIsUndefined` request. */
  readonly resolve: ((content: Uint8Array | undefined) => void) | undefined;
  readonly reject: ((err: unknown) => void) | undefined;
  /** A `RawResponseHandler`. */
  readonly raw: ((frame: Uint8Array | null, error: unknown, context: unknown) => void) | undefined;
  /** What `raw` gets as its third argument. */
  readonly context: unknown;
  /**
   * A miss (a REQUEST_FAILURE that is an `UnknownKeyOrNamespaceException`)
   * resolves `undefined` ({@linkcode settleAbsent}) instead of rejecting.
   * Always `false` for a raw entry.
   */
  readonly absentIsUndefined: boolean;
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
    const raw = p.raw;
    if (raw !== undefined) {
      const context = p.context;
      recycleRaw(p);
      raw(frame, undefined, context);
    } else p.resolve!(content ?? decodeKvStateResponse(frame.subarray(20)));
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
    const raw = p.raw;
    if (raw !== undefined) {
      const context = p.context;
      recycleRaw(p);
      raw(null, err, context);
    } else p.reject!(err);
  } catch (e) {
    sink.reportInternalError(e);
  }
}

/**
 * @internal Settles an `absentIsUndefined` request that missed: resolves
 * `undefined`, no error built. Like {@linkcode settleOk}, never throws.
 *
 * @param sink Counts a handler's exception.
 * @param p The request (not a raw one).
 */
export function settleAbsent(sink: InternalErrorSink, p: Pending): void {
  try {
    p.cleanup?.();
    p.resolve!(undefined);
  } catch (e) {
    sink.reportInternalError(e);
  }
}

/** The most settled raw entries kept for reuse (shared by the clients of the process). */
const MAX_SPARE_RAW = 4096;
/** Settled raw entries, for {@linkcode rawPending}. */
const spareRaw: RawPending[] = [];

/** A raw request's entry: every field written by {@linkcode rawPending}. */
interface RawPending extends Pending {
  raw: NonNullable<Pending["raw"]>;
  context: unknown;
  sentAt: number;
  deadline: number;
}

/**
 * @internal The entry of a raw request (`NetworkClient.forwardInternalRequest`):
 * a settled one reused when there is one, so that a forwarded request in
 * flight adds no young object for the collector to copy. Raw entries are
 * internal to the client: nothing holds one once it is settled.
 */
export function rawPending(
  raw: NonNullable<Pending["raw"]>,
  context: unknown,
  sentAt: number,
  deadline: number,
): Pending {
  const p = spareRaw.pop();
  if (p === undefined) {
    return {
      resolve: undefined,
      reject: undefined,
      raw,
      context,
      absentIsUndefined: false,
      sentAt,
      deadline,
      cleanup: undefined,
      id: -1,
      connection: undefined,
      outAt: -1,
      outGen: -1,
    };
  }
  p.raw = raw;
  p.context = context;
  p.sentAt = sentAt;
  p.deadline = deadline;
  return p;
}

/** A raw entry is settled (its handler is about to be called): kept for reuse, emptied. */
function recycleRaw(p: Pending): void {
  const r = p as RawPending;
  r.context = undefined;
  r.cleanup = undefined;
  r.id = -1;
  r.connection = undefined;
  r.outAt = -1;
  r.outGen = -1;
  if (spareRaw.length < MAX_SPARE_RAW) spareRaw.push(r);
}
