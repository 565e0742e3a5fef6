/**
 * Failure bodies into typed errors, each distinct body parsed once: a state
 * server answers every miss with the very same bytes, so a repeated failure
 * costs a byte comparison and the allocation of a fresh error.
 *
 * @module
 */

import {
  errorFromJavaThrowable,
  type QueryableStateError,
  withSerializedThrowable,
} from "./errors.ts";
import { FailureMemo } from "./failure_memo.ts";
import { type JavaSerializationLimits, readJavaThrowable } from "./java_serialization.ts";
import type { JavaStackFrame, JavaThrowable } from "./java_throwable.ts";

/** The default of {@linkcode FailureDecoderOptions.memoCapacity}: 8 bodies. */
export const DEFAULT_FAILURE_DECODER_MEMO_CAPACITY = 8;
/** The default of {@linkcode FailureDecoderOptions.memoMaxBodyLength}: 16 KiB. */
export const DEFAULT_FAILURE_DECODER_MEMO_MAX_BODY_LENGTH = 16 * 1024;

/** Options of {@linkcode FailureDecoder}. */
export interface FailureDecoderOptions {
  /** Limits of the Java serialization reader (defaults: `DEFAULT_JAVA_SERIALIZATION_LIMITS`). */
  readonly javaSerializationLimits?: Partial<JavaSerializationLimits>;
  /** The most distinct failure bodies remembered with their parse. Default 8; 0: none. */
  readonly memoCapacity?: number;
  /**
   * The longest failure body remembered, in bytes (a longer one is parsed
   * every time). Default 16 KiB; so the memo holds at most
   * `memoCapacity × memoMaxBodyLength` bytes of bodies (128 KiB by default),
   * plus their parsed throwables.
   */
  readonly memoMaxBodyLength?: number;
}

/**
 * Decodes the bodies of REQUEST_FAILURE messages (a Java-serialized
 * Throwable) into the module's typed errors, as
 * `errorFromJavaThrowable(readJavaThrowable(body, limits))` with the body
 * attached (`withSerializedThrowable`; so a wrapper's typed cause is
 * surfaced too, the scan for it also done once per remembered body), but
 * parses each distinct body once:
 * the throwable read from it is kept, frozen, in a bounded memo (by default
 * 8 bodies of at most 16 KiB each, the oldest replaced first), and the same
 * bytes again are recognised by comparing them. Every call returns a fresh
 * error object (with fresh causes); errors from the same bytes share their
 * frozen `JavaThrowable`. A body that does not parse throws, as
 * `readJavaThrowable` does, and is not remembered. Internal (not exported
 * from the package).
 *
 * @example A repeated failure is parsed once
 * ```ts
 * import { FailureDecoder } from "./failure_decoder.ts";
 * import { writeJavaThrowable } from "./java_serialization.ts";
 * import { javaThrowable } from "./java_throwable.ts";
 * import { UnknownKeyOrNamespaceError } from "./errors.ts";
 *
 * const body = writeJavaThrowable(javaThrowable(
 *   "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
 *   "Queryable State Server : No state for the specified key/namespace.",
 * ));
 * const decoder = new FailureDecoder();
 * const a = decoder.decode(body);
 * const b = decoder.decode(body.slice());
 * a instanceof UnknownKeyOrNamespaceError && b instanceof UnknownKeyOrNamespaceError; // => true
 * a === b; // => false
 * decoder.parsed; // => 1
 * decoder.reused; // => 1
 * ```
 *
 * @example A miss, told without building an error
 * ```ts
 * import { FailureDecoder } from "./failure_decoder.ts";
 * import { writeJavaThrowable } from "./java_serialization.ts";
 * import { javaThrowable } from "./java_throwable.ts";
 *
 * const miss = writeJavaThrowable(javaThrowable(
 *   "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
 *   "Queryable State Server : No state for the specified key/namespace.",
 * ));
 * const other = writeJavaThrowable(javaThrowable("java.lang.RuntimeException", "boom"));
 * const decoder = new FailureDecoder();
 * decoder.decodeUnlessAbsent(miss, 0); // => null
 * decoder.decodeUnlessAbsent(miss, 0); // => null
 * decoder.decodeUnlessAbsent(other, 0)?.message; // => "boom"
 * [decoder.parsed, decoder.reused, decoder.absent, decoder.built]; // => [2, 1, 2, 1]
 * ```
 */
export class FailureDecoder {
  readonly #limits: Partial<JavaSerializationLimits> | undefined;
  readonly #memo: FailureMemo<JavaThrowable>;
  #parsed = 0;
  #reused = 0;
  #absent = 0;
  #built = 0;

  /**
   * Creates a decoder.
   *
   * @param options Reader limits and the memo's bounds.
   * @throws {RangeError} When `memoCapacity` is not a non-negative integer or
   * `memoMaxBodyLength` is negative.
   */
  constructor(options: FailureDecoderOptions = {}) {
    this.#limits = options.javaSerializationLimits;
    this.#memo = new FailureMemo<JavaThrowable>(
      options.memoCapacity ?? DEFAULT_FAILURE_DECODER_MEMO_CAPACITY,
      options.memoMaxBodyLength ?? DEFAULT_FAILURE_DECODER_MEMO_MAX_BODY_LENGTH,
    );
  }

  /** How many bodies were parsed (not found in the memo). */
  get parsed(): number {
    return this.#parsed;
  }

  /** How many bodies were found in the memo (not parsed). */
  get reused(): number {
    return this.#reused;
  }

  /**
   * How many bodies {@linkcode FailureDecoder.decodeUnlessAbsent} found to
   * be a miss (no error built for them).
   */
  get absent(): number {
    return this.#absent;
  }

  /** How many errors were built (one per `decode`, one per `decodeUnlessAbsent` not a miss). */
  get built(): number {
    return this.#built;
  }

  /** The number of bodies the memo holds (at most `memoCapacity`). */
  get memoSize(): number {
    return this.#memo.size;
  }

  /** The bytes of the bodies the memo holds (at most `memoCapacity × memoMaxBodyLength`). */
  get memoBytes(): number {
    return this.#memo.bytes;
  }

  /**
   * The typed error a failure body stands for, with the body attached.
   *
   * @param body The body: one Java serialization stream of a Throwable (a
   * view into the frame is fine; it is attached as is, and copied only when
   * remembered).
   * @returns A fresh error.
   * @throws {JavaSerializationError} When the body does not parse.
   */
  decode(body: Uint8Array): QueryableStateError {
    this.#built++;
    return withSerializedThrowable(errorFromJavaThrowable(this.#throwable(body, 0)), body);
  }

  /**
   * For a request whose miss is a normal outcome: `null` when the body is a
   * miss, that is an `UnknownKeyOrNamespaceException` without a cause (what
   * {@linkcode FailureDecoder.decode} makes an `UnknownKeyOrNamespaceError`
   * of), told from the memo (the body parsed once) without building any
   * error; otherwise the same fresh error as `decode(frame.subarray(from))`
   * (a wrapper whose text or cause names the miss is not a miss: `decode`
   * gives an `UnknownKeyOrNamespaceError` with the wrapper as its `cause`).
   * A remembered miss costs one byte comparison and no allocation but a
   * `DataView` of the frame.
   *
   * @param frame The frame (or the body itself, with `from` 0).
   * @param from Where the body starts in it.
   * @returns `null` for a miss, else a fresh error with the body attached.
   * @throws {JavaSerializationError} When the body does not parse.
   */
  decodeUnlessAbsent(frame: Uint8Array, from: number): QueryableStateError | null {
    const t = this.#throwable(frame, from);
    if (t.cause === null && t.className === UNKNOWN_KEY_OR_NAMESPACE) {
      this.#absent++;
      return null;
    }
    this.#built++;
    const body = from === 0 ? frame : frame.subarray(from);
    return withSerializedThrowable(errorFromJavaThrowable(t), body);
  }

  /** The (frozen) throwable of the body `frame[from..]`: remembered, or parsed and remembered. */
  #throwable(frame: Uint8Array, from: number): JavaThrowable {
    let t = this.#memo.get(frame, from);
    if (t === undefined) {
      const body = from === 0 ? frame : frame.subarray(from);
      t = freezeThrowable(readJavaThrowable(body, this.#limits));
      this.#parsed++;
      this.#memo.add(body, t);
    } else {
      this.#reused++;
    }
    return t;
  }
}

/** The Java class of a miss: the state holds no value for the key and namespace. */
const UNKNOWN_KEY_OR_NAMESPACE =
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";

/**
 * Freezes a throwable read from the wire, its frames, class names and
 * causes, so that the errors sharing it cannot change it for one another.
 * The chain is finite (the reader cuts loops) and bounded by its depth limit.
 */
function freezeThrowable(t: JavaThrowable): JavaThrowable {
  for (let cur: JavaThrowable | null = t; cur !== null; cur = cur.cause) {
    if (Object.isFrozen(cur)) break;
    const trace = cur.stackTrace as readonly JavaStackFrame[];
    for (let i = 0; i < trace.length; i++) Object.freeze(trace[i]);
    Object.freeze(trace);
    Object.freeze(cur.classHierarchy);
    Object.freeze(cur);
  }
  return t;
}
