/**
 * Typed errors. Every failure a user can meet is one of these classes; each
 * names the Java exception it maps to, so a TypeScript caller can branch on
 * the class and a Java peer receives the class it expects.
 *
 * @module
 */

import {
  isBadRequest,
  type JavaThrowable,
  javaThrowable,
  stringifyJavaThrowable,
  type ThrowableTextLimits,
} from "./java_throwable.ts";

/** Options common to the error constructors. */
export interface QueryableStateErrorOptions {
  /** The underlying cause. */
  cause?: unknown;
}

/**
 * Base class of every error this module throws or rejects with.
 *
 * @example Branch on the Java class
 * ```ts
 * import { QueryableStateError, UnknownKeyOrNamespaceError } from "@kvstate/queryable-state";
 *
 * const err: unknown = new UnknownKeyOrNamespaceError("Queryable State Server : No state for the specified key/namespace.");
 * if (err instanceof QueryableStateError) {
 *   err.javaClassName; // => "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException"
 * }
 * ```
 */
export class QueryableStateError extends Error {
  /** The binary name of the Java exception class this error corresponds to. */
  readonly javaClassName: string;

  /**
   * Creates an error.
   *
   * @param message The message (Java's `getMessage()`).
   * @param javaClassName The Java class it maps to.
   * @param options The cause.
   */
  constructor(message: string, javaClassName: string, options?: QueryableStateErrorOptions) {
    super(message, options);
    this.javaClassName = javaClassName;
  }

  /** The class name, as `Error.prototype.name` reports it. */
  override get name(): string {
    return this.constructor.name;
  }

  /**
   * The error as a Java throwable (class, message, and the cause chain where
   * the causes are themselves mappable).
   *
   * @returns The throwable model.
   */
  toJavaThrowable(): JavaThrowable {
    return javaThrowable(this.javaClassName, this.message, causeThrowable(this.cause));
  }
}

function causeThrowable(cause: unknown): JavaThrowable | null {
  if (cause instanceof QueryableStateError) return cause.toJavaThrowable();
  return null;
}

/**
 * Flink's `BadRequestException`: the family of failures that a server sends as
 * is and a proxy relays unchanged.
 *
 * @example
 * ```ts
 * import { BadRequestError } from "@kvstate/queryable-state";
 *
 * const e = BadRequestError.fromServer("Queryable State Server", "NULL returned for request with ID 7.");
 * e.message; // => "Queryable State Server : NULL returned for request with ID 7."
 * ```
 */
export class BadRequestError extends QueryableStateError {
  /**
   * Creates an error.
   *
   * @param message The complete message, `<serverName> : <text>`.
   * @param javaClassName The Java class, a `BadRequestException` subclass.
   * @param options The cause (e.g. the remote error it was read out of, see
   * {@linkcode errorFromJavaThrowable}).
   */
  constructor(
    message: string,
    javaClassName = "org.apache.flink.queryablestate.network.BadRequestException",
    options?: QueryableStateErrorOptions,
  ) {
    super(message, javaClassName, options);
  }

  /**
   * Builds the message the way Flink does: `<serverName> : <message>`.
   *
   * @param serverName The server's name, e.g. `Queryable State Server`.
   * @param message The text.
   * @returns The error.
   */
  static fromServer(serverName: string, message: string): BadRequestError {
    return new BadRequestError(`${serverName} : ${message}`);
  }
}

/**
 * `UnknownKvStateIdException`: the state server has no state registered under
 * the requested `KvStateID` (the proxy looks the location up again).
 *
 * @example
 * ```ts
 * import { UnknownKvStateIdError } from "@kvstate/queryable-state";
 *
 * const e = new UnknownKvStateIdError("Queryable State Server : No registered state with ID 00.");
 * e.javaClassName; // => "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException"
 * ```
 */
export class UnknownKvStateIdError extends BadRequestError {
  /**
   * Creates the error.
   *
   * @param message The complete message.
   * @param options The cause (e.g. the remote error it was read out of, see
   * {@linkcode errorFromJavaThrowable}).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException", options);
  }
}

/**
 * `UnknownKeyOrNamespaceException`: the state holds no value for the key.
 *
 * @example
 * ```ts
 * import { UnknownKeyOrNamespaceError } from "@kvstate/queryable-state";
 *
 * new UnknownKeyOrNamespaceError("x") instanceof Error; // => true
 * ```
 */
export class UnknownKeyOrNamespaceError extends BadRequestError {
  /**
   * Creates the error.
   *
   * @param message The complete message.
   * @param options The cause (e.g. the remote error it was read out of, see
   * {@linkcode errorFromJavaThrowable}).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(
      message,
      "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
      options,
    );
  }
}

/**
 * `UnknownKvStateKeyGroupLocationException`: no server is known for the key
 * group that owns the key (the proxy looks the location up again).
 *
 * @example
 * ```ts
 * import { UnknownKvStateKeyGroupLocationError } from "@kvstate/queryable-state";
 *
 * const e = new UnknownKvStateKeyGroupLocationError("Queryable State Proxy Server : Unknown key-group location.");
 * e.message; // => "Queryable State Proxy Server : Unknown key-group location."
 * ```
 */
export class UnknownKvStateKeyGroupLocationError extends BadRequestError {
  /**
   * Creates the error.
   *
   * @param message The complete message.
   * @param options The cause (e.g. the remote error it was read out of, see
   * {@linkcode errorFromJavaThrowable}).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(
      message,
      "org.apache.flink.queryablestate.exceptions.UnknownKvStateKeyGroupLocationException",
      options,
    );
  }
}

/**
 * `UnknownLocationException`: the proxy has no location oracle for the job.
 *
 * @example
 * ```ts
 * import { UnknownLocationError } from "@kvstate/queryable-state";
 *
 * const e = UnknownLocationError.forState("word-counts", "01020304050607081112131415161718");
 * e.message.startsWith("Could not retrieve location of state=word-counts of job=0102"); // => true
 * ```
 */
export class UnknownLocationError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message The complete message.
   * @param options The cause (e.g. the remote error it was read out of, see
   * {@linkcode errorFromJavaThrowable}).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "org.apache.flink.queryablestate.exceptions.UnknownLocationException", options);
  }

  /**
   * Flink's message for a state whose job has no oracle.
   *
   * @param stateName The queryable state name.
   * @param jobIdHex The job id as 32 hex characters.
   * @returns The error.
   */
  static forState(stateName: string, jobIdHex: string): UnknownLocationError {
    return new UnknownLocationError(
      `Could not retrieve location of state=${stateName} of job=${jobIdHex}. ` +
        "Potential reasons are: i) the state is not ready, or ii) the job does not exist.",
    );
  }
}

/**
 * `UnknownKvStateLocation` (Flink runtime): the oracle knows the job but no
 * state registered under that name. Never sent as is: the proxy wraps it.
 *
 * @example
 * ```ts
 * import { UnknownKvStateLocationError } from "@kvstate/queryable-state";
 *
 * UnknownKvStateLocationError.forName("x").message;
 * // => "No KvStateLocation found for KvState instance with name 'x'."
 * ```
 */
export class UnknownKvStateLocationError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message The complete message.
   * @param options The cause (e.g. the remote error it was read out of, see
   * {@linkcode errorFromJavaThrowable}).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "org.apache.flink.runtime.query.UnknownKvStateLocation", options);
  }

  /**
   * Flink's message for an unknown registration name.
   *
   * @param stateName The queryable state name.
   * @returns The error.
   */
  static forName(stateName: string): UnknownKvStateLocationError {
    return new UnknownKvStateLocationError(
      `No KvStateLocation found for KvState instance with name '${stateName}'.`,
    );
  }
}

/**
 * `FlinkJobNotFoundException` (Flink runtime): the oracle does not know the
 * job. The proxy drops its cached location and wraps it for the client.
 *
 * @example
 * ```ts
 * import { FlinkJobNotFoundError } from "@kvstate/queryable-state";
 *
 * FlinkJobNotFoundError.forJob("00".repeat(16)).message;
 * // => "Could not find Flink job (00000000000000000000000000000000)"
 * ```
 */
export class FlinkJobNotFoundError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message The complete message.
   * @param options The cause (e.g. the remote error it was read out of, see
   * {@linkcode errorFromJavaThrowable}).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "org.apache.flink.runtime.messages.FlinkJobNotFoundException", options);
  }

  /**
   * Flink's message for an unknown job.
   *
   * @param jobIdHex The job id as 32 hex characters.
   * @returns The error.
   */
  static forJob(jobIdHex: string): FlinkJobNotFoundError {
    return new FlinkJobNotFoundError(`Could not find Flink job (${jobIdHex})`);
  }
}

/**
 * `UnknownJobManagerException` (Flink 1.4's proxy): no JobManager was known
 * to look a location up with (none registered yet, or leadership lost).
 * Later Flink versions send {@linkcode UnknownLocationError} instead; a
 * client of an old cluster meets this one, directly or as the cause in the
 * text of a wrapping `RuntimeException`.
 *
 * @example
 * ```ts
 * import { UnknownJobManagerError } from "@kvstate/queryable-state";
 *
 * new UnknownJobManagerError("Unknown JobManager.").javaClassName;
 * // => "org.apache.flink.queryablestate.exceptions.UnknownJobManagerException"
 * ```
 */
export class UnknownJobManagerError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message The complete message.
   * @param options The cause (e.g. the remote error it was read out of, see
   * {@linkcode errorFromJavaThrowable}).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(
      message,
      "org.apache.flink.queryablestate.exceptions.UnknownJobManagerException",
      options,
    );
  }
}

/**
 * Bytes from the network that break the protocol: a wrong version, an unknown
 * message type, a negative length, a truncated body. `javaClassName` is the
 * exception Flink's decoder raises for the same input.
 *
 * @example
 * ```ts
 * import { decodeMessage, ProtocolError } from "@kvstate/queryable-state/wire";
 *
 * try {
 *   decodeMessage(new Uint8Array(16));
 * } catch (e) {
 *   e instanceof ProtocolError; // => true
 *   (e as ProtocolError).message; // => "Version Mismatch:  Found 0, Expected: 2040641296."
 * }
 * ```
 */
export class ProtocolError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message The message.
   * @param javaClassName The Java exception Flink raises for the same input.
   * @param options The cause.
   */
  constructor(
    message: string,
    javaClassName = "java.lang.IllegalStateException",
    options?: QueryableStateErrorOptions,
  ) {
    super(message, javaClassName, options);
  }
}

/**
 * A frame length prefix that is negative or above the configured maximum.
 * The framing is lost, so the connection is closed.
 *
 * @example
 * ```ts
 * import { FrameLengthError } from "@kvstate/queryable-state";
 *
 * new FrameLengthError(-1, 64).length; // => -1
 * ```
 */
export class FrameLengthError extends ProtocolError {
  /** The offending length field. */
  readonly length: number;
  /** The maximum in force. */
  readonly maxFrameLength: number;

  /**
   * Creates the error.
   *
   * @param length The length field read.
   * @param maxFrameLength The maximum in force.
   */
  constructor(length: number, maxFrameLength: number) {
    super(
      length < 0
        ? `negative pre-adjustment length field: ${length}`
        : `Adjusted frame length exceeds ${maxFrameLength}: ${length} - discarded`,
      length < 0
        ? "io.netty.handler.codec.CorruptedFrameException"
        : "io.netty.handler.codec.TooLongFrameException",
    );
    this.length = length;
    this.maxFrameLength = maxFrameLength;
  }
}

/**
 * A Java serialization stream that could not be read: malformed, truncated,
 * not a Throwable, or over one of the reader's limits.
 *
 * @example
 * ```ts
 * import { JavaSerializationError } from "@kvstate/queryable-state";
 *
 * new JavaSerializationError("bad").javaClassName; // => "java.io.StreamCorruptedException"
 * ```
 */
export class JavaSerializationError extends ProtocolError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the stream.
   * @param options The cause.
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "java.io.StreamCorruptedException", options);
  }
}

/**
 * A connection closed while requests were pending on it, or a request sent
 * on a connection that is closed (Java's `ClosedChannelException`).
 *
 * @example
 * ```ts
 * import { ConnectionClosedError } from "@kvstate/queryable-state";
 *
 * new ConnectionClosedError("closed by peer").javaClassName; // => "java.nio.channels.ClosedChannelException"
 * ```
 */
export class ConnectionClosedError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message What closed the connection.
   * @param options The cause.
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "java.nio.channels.ClosedChannelException", options);
  }
}

/**
 * A connection could not be opened: refused, unreachable, or timed out
 * (Java's `ConnectException`; the proxy retries after a fresh lookup).
 *
 * @example
 * ```ts
 * import { ConnectError } from "@kvstate/queryable-state";
 *
 * new ConnectError("Connection refused: 127.0.0.1:1").javaClassName; // => "java.net.ConnectException"
 * ```
 */
export class ConnectError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options The cause.
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "java.net.ConnectException", options);
  }
}

/**
 * A server could not bind its address: every port of the configured range is
 * taken, or the address is not available (Java's `BindException`).
 *
 * @example
 * ```ts
 * import { BindError } from "@kvstate/queryable-state";
 *
 * new BindError("Address in use: 127.0.0.1:9069", true).addressInUse; // => true
 * ```
 */
export class BindError extends QueryableStateError {
  /** Whether the failure was "address already in use" (the next port may work). */
  readonly addressInUse: boolean;

  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param addressInUse Whether the address was in use.
   * @param options The cause.
   */
  constructor(message: string, addressInUse: boolean, options?: QueryableStateErrorOptions) {
    super(message, "java.net.BindException", options);
    this.addressInUse = addressInUse;
  }
}

/**
 * A request that did not complete before its deadline, or was aborted by its
 * signal. Nothing is sent on the wire: the protocol has no cancel message.
 *
 * @example
 * ```ts
 * import { DeadlineExceededError } from "@kvstate/queryable-state";
 *
 * new DeadlineExceededError("timed out").javaClassName; // => "java.util.concurrent.TimeoutException"
 * ```
 */
export class DeadlineExceededError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message What timed out.
   * @param options The cause (e.g. the abort reason).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "java.util.concurrent.TimeoutException", options);
  }
}

/**
 * An operation on a client or server that has been closed (Java's
 * `IllegalStateException("<name> is already shut down.")`).
 *
 * @example
 * ```ts
 * import { ClosedError } from "@kvstate/queryable-state";
 *
 * ClosedError.shutDown("Queryable State Client").message; // => "Queryable State Client is already shut down."
 * ```
 */
export class ClosedError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message The message.
   */
  constructor(message: string) {
    super(message, "java.lang.IllegalStateException");
  }

  /**
   * Flink's message for a component used after shutdown.
   *
   * @param name The component name.
   * @returns The error.
   */
  static shutDown(name: string): ClosedError {
    return new ClosedError(`${name} is already shut down.`);
  }
}

/**
 * A failure sent by a remote peer whose class is not one this module has a
 * dedicated error for: it carries the Java class name, the message, the
 * cause chain and the stack trace as received, and the serialized bytes so a
 * proxy can relay them unchanged.
 *
 * @example
 * ```ts
 * import { javaThrowable, RemoteError } from "@kvstate/queryable-state/wire";
 *
 * const e = new RemoteError(javaThrowable("java.lang.RuntimeException", "Failed request 3."));
 * e.javaClassName; // => "java.lang.RuntimeException"
 * e.message; // => "Failed request 3."
 * ```
 */
export class RemoteError extends QueryableStateError {
  /** The throwable as received. */
  readonly throwable: JavaThrowable;

  /**
   * Creates the error.
   *
   * @param throwable The throwable as received.
   */
  constructor(throwable: JavaThrowable) {
    super(throwable.message ?? "", throwable.className, {
      cause: throwable.cause === null ? undefined : new RemoteError(throwable.cause),
    });
    this.throwable = throwable;
  }

  /** Whether the remote class is Flink's `BadRequestException` or a subclass. */
  get isBadRequest(): boolean {
    return isBadRequest(this.throwable);
  }

  /** The remote message as Java had it (`null` when there was none). */
  get javaMessage(): string | null {
    return this.throwable.message;
  }

  /** The throwable as received, stack trace and causes included. */
  override toJavaThrowable(): JavaThrowable {
    return this.throwable;
  }
}

/**
 * Turns a throwable received from a peer into the matching typed error:
 * one of the dedicated classes above when the class is one of Flink's known
 * queryable-state exceptions, a {@linkcode RemoteError} otherwise, except
 * when a known cause lies under it (below).
 *
 * **Typed causes.** Behind a proxy, Flink reports an unknown state or job as
 * `java.lang.RuntimeException: Failed request N.` with the real failure only
 * in the message text (`<LS> Caused by: org.apache.flink.runtime.query.UnknownKvStateLocation: …`,
 * `… UnknownLocationException: …`), and a peer may send a real Java cause
 * chain too. When the throwable's Java causes, or the message text of a
 * throwable of a class with no dedicated error (a wrapper such as
 * `RuntimeException`), name one of the causes listed here, the error is of
 * the innermost one's class: {@linkcode UnknownKvStateIdError},
 * {@linkcode UnknownKeyOrNamespaceError},
 * {@linkcode UnknownKvStateKeyGroupLocationError},
 * {@linkcode UnknownLocationError}, {@linkcode UnknownKvStateLocationError},
 * {@linkcode FlinkJobNotFoundError} or {@linkcode UnknownJobManagerError}
 * (not `BadRequestException` itself, which says nothing about what is
 * missing). Its `message` is that cause's message (from a text: the rest of
 * its line, at most 16 Ki characters, cut ones end with `…`), its
 * `javaClassName` that cause's class, and its `cause` the
 * {@linkcode RemoteError} the throwable gives without this rule (so nothing
 * is lost; {@linkcode surfacedFrom} returns it too); `toJavaThrowable` and
 * {@linkcode stringifyError} give the throwable as received. The throwable's
 * own class, when it has a dedicated error, is not replaced by its text, and
 * with a cause of no known class it stays a `RemoteError` as before.
 *
 * How a text is read: only `Caused by: ` directly followed by one of the
 * class names above, ended by `:` or a line end (or the text's end), counts:
 * the exact form in which Java prints a cause. Another class (or a known
 * name as the prefix of a longer name, `…UnknownLocationExceptionX`,
 * `…UnknownKvStateLocation$1`, or a frame `at …UnknownKvStateLocation.<init>`)
 * is not a cause. The last one in the text is the innermost (Java prints
 * causes outermost first); the Java cause chain is walked from its
 * innermost throwable outward (at most 64 throwables), a throwable's text
 * counting as below its class. The scan is a backward search for a fixed
 * string, no regular expression, linear in the text, and reads at most
 * 4 Mi characters of message text per throwable chain, the end of each
 * text first (a known cause further from its end is not seen). A throwable
 * read by the `FailureDecoder` is frozen: what the scan found is remembered
 * for it, so the same failure again is not scanned again (each call still
 * builds a fresh error). The text is what the peer wrote and may quote a
 * caller's own input (e.g. a state name), so it selects a class, never
 * anything else: a caller who asks for a state named `Caused by: …` fools
 * only itself.
 *
 * The error (and each `RemoteError` of its cause chain) is built without
 * running `Error`'s constructor, so that no JavaScript stack trace is
 * captured: its frames would only show the client's read loop, and V8
 * captures them whatever `Error.stackTraceLimit` says when the runtime asks
 * for frames of its own (Deno does, for its uncaught-error reports), about
 * 5 µs per error in the client's read path, more than a whole query that
 * succeeds. It is an instance of its class (and of `Error`) with the own
 * properties its constructor gives (`message`, `cause`, `javaClassName`,
 * `throwable`), but not a native error object: `Error.isError()` is `false`
 * for it and `structuredClone` copies it as a plain object. Its `stack` is
 * `<name>: <message>` followed by the remote Java frames as Java prints
 * them, `\tat ...` lines (at most 100 frames and 16 Ki characters;
 * {@linkcode stringifyError} gives the whole trace, causes included); the
 * frames of an error of a cause found in a text are in its `cause`'s stack.
 *
 * @example
 * ```ts
 * import {
 *   errorFromJavaThrowable,
 *   javaThrowable,
 *   UnknownKvStateIdError,
 * } from "@kvstate/queryable-state/wire";
 *
 * const e = errorFromJavaThrowable(javaThrowable(
 *   "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException", "gone"));
 * e instanceof UnknownKvStateIdError; // => true
 * e.stack; // => "UnknownKvStateIdError: gone"
 * ```
 *
 * @example The remote frames are the stack
 * ```ts
 * import { errorFromJavaThrowable } from "@kvstate/queryable-state";
 *
 * const e = errorFromJavaThrowable({
 *   className: "java.lang.RuntimeException", message: "boom", cause: null, classHierarchy: [],
 *   stackTrace: [{ declaringClass: "a.B", methodName: "run", fileName: "B.java", lineNumber: 7 }],
 * });
 * e.stack; // => "RemoteError: boom\n\tat a.B.run(B.java:7)"
 * ```
 *
 * @example An unknown state behind Flink's proxy
 * ```ts
 * import {
 *   errorFromJavaThrowable,
 *   javaThrowable,
 *   RemoteError,
 *   toJavaThrowable,
 *   UnknownKvStateLocationError,
 * } from "@kvstate/queryable-state/wire";
 *
 * const t = javaThrowable("java.lang.RuntimeException", "Failed request 23.\n Caused by: " +
 *   "org.apache.flink.runtime.query.UnknownKvStateLocation: No KvStateLocation found for KvState instance with name 'x'.\n" +
 *   "\tat org.example.Oracle.answer(Oracle.java:95)\n");
 * const e = errorFromJavaThrowable(t);
 * e instanceof UnknownKvStateLocationError; // => true
 * e.message; // => "No KvStateLocation found for KvState instance with name 'x'."
 * e.cause instanceof RemoteError; // => true
 * (e.cause as RemoteError).javaClassName; // => "java.lang.RuntimeException"
 * toJavaThrowable(e) === t; // => true
 * ```
 *
 * @param t The throwable.
 * @returns The typed error.
 */
export function errorFromJavaThrowable(t: JavaThrowable): QueryableStateError {
  const message = t.message ?? "";
  // Dedicated classes only when nothing would be lost (no cause, no stack worth keeping).
  if (t.cause === null) {
    const proto = DEDICATED.get(t.className);
    if (proto !== undefined) {
      return withThrowable(
        remoteInstance(proto, t.className, remoteFrames(t), message, false, undefined),
        t,
      );
    }
  }
  const found = knownCause(t);
  const remote = remoteError(t, message);
  if (found === null) return remote;
  const e = remoteInstance(
    found.proto,
    found.className,
    found.frames === null ? "" : remoteFrames(found.frames),
    found.message,
    true,
    remote,
  );
  (e as unknown as Record<symbol, RemoteError>)[SURFACED] = remote;
  return withThrowable(e, t);
}

const SURFACED: unique symbol = Symbol("surfacedFrom");

/**
 * The {@linkcode RemoteError} that {@linkcode errorFromJavaThrowable} read a
 * typed cause out of (also the error's `cause`): for an error of a known
 * class found under a wrapper, the wrapper as received. `undefined` for any
 * other value, including an error of the class the peer actually sent. A
 * relay decides by it what the peer sent: Flink's proxy retries and relays
 * unchanged by the class received, not by the class of a cause.
 *
 * @example
 * ```ts
 * import {
 *   errorFromJavaThrowable,
 *   javaThrowable,
 *   surfacedFrom,
 *   UnknownLocationError,
 * } from "@kvstate/queryable-state/wire";
 *
 * const e = errorFromJavaThrowable(javaThrowable("java.lang.RuntimeException", "Failed request 1.\n Caused by: " +
 *   "org.apache.flink.queryablestate.exceptions.UnknownLocationException: no oracle"));
 * e instanceof UnknownLocationError; // => true
 * surfacedFrom(e)?.javaClassName; // => "java.lang.RuntimeException"
 * surfacedFrom(new UnknownLocationError("local")); // => undefined
 * ```
 *
 * @param err Any value.
 * @returns The remote error it was surfaced from, or `undefined`.
 */
export function surfacedFrom(err: unknown): RemoteError | undefined {
  if (!(err instanceof QueryableStateError)) return undefined;
  return (err as unknown as Record<symbol, RemoteError | undefined>)[SURFACED];
}

/**
 * A {@linkcode RemoteError} of `t`, as `new RemoteError(t)` builds it: each
 * cause of the chain a `RemoteError` too (whatever its class).
 */
function remoteError(t: JavaThrowable, message: string): RemoteError {
  const cause = t.cause === null ? undefined : remoteError(t.cause, t.cause.message ?? "");
  const e = remoteInstance(
    RemoteError.prototype,
    t.className,
    remoteFrames(t),
    message,
    true,
    cause,
  );
  (e as { throwable: JavaThrowable }).throwable = t;
  return e;
}

/** Java class names of Flink's exceptions with a dedicated error class. */
const UNKNOWN_KV_STATE_ID = "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException";
const UNKNOWN_KEY_OR_NAMESPACE =
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";
const UNKNOWN_KEY_GROUP_LOCATION =
  "org.apache.flink.queryablestate.exceptions.UnknownKvStateKeyGroupLocationException";
const UNKNOWN_LOCATION = "org.apache.flink.queryablestate.exceptions.UnknownLocationException";
const UNKNOWN_KV_STATE_LOCATION = "org.apache.flink.runtime.query.UnknownKvStateLocation";
const FLINK_JOB_NOT_FOUND = "org.apache.flink.runtime.messages.FlinkJobNotFoundException";
const UNKNOWN_JOB_MANAGER = "org.apache.flink.queryablestate.exceptions.UnknownJobManagerException";

/**
 * The prototypes of the classes a cause is surfaced as, by Java class (each
 * class's own `javaClassName`). Every name starts with {@linkcode FLINK_PACKAGE}.
 */
const CAUSES: ReadonlyMap<string, QueryableStateError> = new Map<string, QueryableStateError>([
  [UNKNOWN_KV_STATE_ID, UnknownKvStateIdError.prototype],
  [UNKNOWN_KEY_OR_NAMESPACE, UnknownKeyOrNamespaceError.prototype],
  [UNKNOWN_KEY_GROUP_LOCATION, UnknownKvStateKeyGroupLocationError.prototype],
  [UNKNOWN_LOCATION, UnknownLocationError.prototype],
  [UNKNOWN_KV_STATE_LOCATION, UnknownKvStateLocationError.prototype],
  [FLINK_JOB_NOT_FOUND, FlinkJobNotFoundError.prototype],
  [UNKNOWN_JOB_MANAGER, UnknownJobManagerError.prototype],
]);

/** The prototypes of the dedicated classes, by Java class (each class's own `javaClassName`). */
const DEDICATED: ReadonlyMap<string, QueryableStateError> = new Map<string, QueryableStateError>([
  ...CAUSES,
  ["org.apache.flink.queryablestate.network.BadRequestException", BadRequestError.prototype],
]);

/** What {@linkcode knownCause} found: the class, its message, and whose frames the stack shows. */
interface KnownCause {
  readonly proto: QueryableStateError;
  readonly className: string;
  readonly message: string;
  /** The cause's own throwable when it is one of the Java chain; `null` for a cause in a text. */
  readonly frames: JavaThrowable | null;
}

/** The prefix that every class name of {@linkcode CAUSES} starts with. */
const FLINK_PACKAGE = "org.apache.flink.";
/** How Java introduces a cause in `printStackTrace()` text. */
const CAUSED_BY = "Caused by: ";
/** The string the text scan searches for. */
const ANCHOR = CAUSED_BY + FLINK_PACKAGE;
/** The longest class name of {@linkcode CAUSES}. */
const MAX_CAUSE_NAME = Math.max(...[...CAUSES.keys()].map((n) => n.length));
/** The lengths of the class names of {@linkcode CAUSES}. */
const CAUSE_NAME_LENGTHS: ReadonlySet<number> = new Set([...CAUSES.keys()].map((n) => n.length));
/** The most throwables of a Java cause chain walked: 64. */
const MAX_CAUSE_CHAIN = 64;
/** The most message text scanned per chain: 4 Mi characters. */
const MAX_CAUSE_TEXT_SCAN = 4 * 1024 * 1024;
/** The longest message of a cause read from a text: 16 Ki characters. */
const MAX_CAUSE_MESSAGE = 16 * 1024;
/** What the scan found for each frozen throwable met (`null`: nothing). */
const FOUND = new WeakMap<JavaThrowable, KnownCause | null>();

/**
 * The innermost known cause under `t` (its causes, or its text when its
 * class has no dedicated error), or `null`. Remembered for a frozen
 * throwable (the `FailureDecoder` freezes what it parses, and shares it).
 */
function knownCause(t: JavaThrowable): KnownCause | null {
  const frozen = Object.isFrozen(t);
  if (frozen) {
    const memo = FOUND.get(t);
    if (memo !== undefined) return memo;
  }
  const found = findKnownCause(t);
  if (frozen) FOUND.set(t, found);
  return found;
}

function findKnownCause(t: JavaThrowable): KnownCause | null {
  const chain: JavaThrowable[] = [];
  for (let c: JavaThrowable | null = t; c !== null && chain.length < MAX_CAUSE_CHAIN; c = c.cause) {
    chain.push(c);
  }
  let budget = MAX_CAUSE_TEXT_SCAN;
  // Innermost first: the first one found is the innermost.
  for (let i = chain.length - 1; i >= 0; i--) {
    const c = chain[i];
    const className = c.className;
    if (DEDICATED.has(className)) {
      const proto = CAUSES.get(className);
      if (i > 0 && proto !== undefined) {
        return { proto, className, message: c.message ?? "", frames: c };
      }
      continue; // its own class, or BadRequestException: its text is not read
    }
    const text = c.message;
    if (text === null || budget <= 0 || typeof text !== "string") continue;
    const found = causeInText(text.length > budget ? text.slice(text.length - budget) : text);
    budget -= text.length;
    if (found !== null) return found;
  }
  return null;
}

/** The last `Caused by: <known class>` of a text, or `null`; linear in the text. */
function causeInText(text: string): KnownCause | null {
  let from = text.length - ANCHOR.length;
  while (from >= 0) {
    const at = text.lastIndexOf(ANCHOR, from);
    if (at < 0) return null;
    const found = causeAt(text, at + CAUSED_BY.length);
    if (found !== null) return found;
    from = at - 1;
  }
  return null;
}

/**
 * The known cause whose class name starts at `start` (ended by `:`, a line
 * end or the text's end), or `null`. The name is checked before the message
 * is read, so an unknown one costs at most the longest known name.
 */
function causeAt(text: string, start: number): KnownCause | null {
  // The whole name: letters, digits, `_`, `$` and `.` (bounded by the longest known name).
  const limit = Math.min(text.length, start + MAX_CAUSE_NAME + 1);
  let end = start;
  while (end < limit && isNameChar(text.charCodeAt(end))) end++;
  if (!CAUSE_NAME_LENGTHS.has(end - start)) return null;
  const ended = end === text.length || isLineEnd(text.charCodeAt(end));
  if (!ended && text.charCodeAt(end) !== 0x3a /* : */) return null;
  const className = text.slice(start, end);
  const proto = CAUSES.get(className);
  if (proto === undefined) return null;
  // Java prints a null message as the class name alone.
  return { proto, className, message: ended ? "" : lineAfter(text, end + 1), frames: null };
}

/** The rest of the line from `from` (one leading space skipped), at most {@linkcode MAX_CAUSE_MESSAGE} characters. */
function lineAfter(text: string, from: number): string {
  if (text.charCodeAt(from) === 0x20) from++;
  const cap = Math.min(text.length, from + MAX_CAUSE_MESSAGE);
  let to = from;
  while (to < cap && !isLineEnd(text.charCodeAt(to))) to++;
  if (to < cap || to === text.length || isLineEnd(text.charCodeAt(to))) return text.slice(from, to);
  // Cut (not inside a surrogate pair), and marked.
  const last = text.charCodeAt(to - 1);
  if (last >= 0xd800 && last <= 0xdbff) to--;
  return text.slice(from, to) + "…";
}

function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2e || c === 0x5f || c === 0x24;
}

function isLineEnd(c: number): boolean {
  return c === 0x0a || c === 0x0d;
}

/**
 * An instance of the class of `proto` with the own properties, in the
 * order, that its constructor gives it (`stack`, `message`, `cause` when
 * given, `javaClassName`), without running `Error`'s constructor. `stack` is
 * a data property: the name, the message and `frames` (remote Java frames).
 */
function remoteInstance<E extends QueryableStateError>(
  proto: E,
  javaClassName: string,
  frames: string,
  message: string,
  hasCause: boolean,
  cause: unknown,
): E {
  const e = Object.create(proto) as E;
  const name = e.name;
  Object.defineProperty(e, "stack", {
    value: (message === "" ? name : name + ": " + message) + frames,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(e, "message", {
    value: message,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  if (hasCause) {
    Object.defineProperty(e, "cause", {
      value: cause,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  (e as { javaClassName: string }).javaClassName = javaClassName;
  return e;
}

/**
 * The most remote Java frames the `stack` of an error built by
 * {@linkcode errorFromJavaThrowable} lists: 100 (the rest is counted in one
 * `\t... N more` line; the whole text is at most 16 Ki characters).
 */
const REMOTE_STACK_FRAMES = 100;
/** The text bounds of a remote error's `stack` frames. */
const REMOTE_STACK_LIMITS: Partial<ThrowableTextLimits> = Object.freeze({
  maxLength: 16 * 1024,
  maxFrames: REMOTE_STACK_FRAMES,
});
/** The frames text of each throwable met, computed once per throwable (memoized ones are shared). */
const FRAMES_TEXT = new WeakMap<JavaThrowable, string>();

/** `\n\tat ...` lines of the throwable's own frames (no cause), or `""` when it has none. */
function remoteFrames(t: JavaThrowable): string {
  const trace = t.stackTrace;
  if (trace.length === 0) return "";
  let text = FRAMES_TEXT.get(t);
  if (text === undefined) {
    // Rendered as a throwable with an empty name: "\n" then one "\tat ...\n" line per frame.
    const frames: JavaThrowable = {
      className: "",
      message: null,
      cause: null,
      stackTrace: trace,
      classHierarchy: [],
    };
    const rendered = stringifyJavaThrowable(frames, REMOTE_STACK_LIMITS);
    text = rendered.endsWith("\n") ? rendered.slice(0, -1) : rendered;
    FRAMES_TEXT.set(t, text);
  }
  return text;
}

const REMOTE_THROWABLE: unique symbol = Symbol("remoteThrowable");
const SERIALIZED: unique symbol = Symbol("serializedThrowable");

function withThrowable<E extends QueryableStateError>(e: E, t: JavaThrowable): E {
  (e as unknown as Record<symbol, JavaThrowable>)[REMOTE_THROWABLE] = t;
  return e;
}

/**
 * Attaches the Java serialization bytes that stand for an error: the bytes
 * it was read from (so a proxy can relay a failure unchanged, as Flink's
 * proxy relays the same object), or a cached encoding of a constant error.
 *
 * @example
 * ```ts
 * import { serializedThrowableOf, UnknownKeyOrNamespaceError, withSerializedThrowable } from "@kvstate/queryable-state";
 *
 * const e = withSerializedThrowable(new UnknownKeyOrNamespaceError("x"), new Uint8Array([0xac, 0xed, 0, 5]));
 * serializedThrowableOf(e)?.length; // => 4
 * ```
 *
 * @param err The error.
 * @param bytes One Java serialization stream of the error's throwable.
 * @returns `err`.
 */
export function withSerializedThrowable<E extends QueryableStateError>(
  err: E,
  bytes: Uint8Array,
): E {
  (err as unknown as Record<symbol, Uint8Array>)[SERIALIZED] = bytes;
  return err;
}

/**
 * The Java serialization bytes attached with {@linkcode withSerializedThrowable}.
 *
 * @example
 * ```ts
 * import { serializedThrowableOf } from "@kvstate/queryable-state";
 *
 * serializedThrowableOf(new Error("x")); // => undefined
 * ```
 *
 * @param err Any thrown value.
 * @returns The bytes, or `undefined`.
 */
export function serializedThrowableOf(err: unknown): Uint8Array | undefined {
  if (!(err instanceof QueryableStateError)) return undefined;
  return (err as unknown as Record<symbol, Uint8Array | undefined>)[SERIALIZED];
}

/**
 * The Java throwable that a typed error stands for: the throwable as received
 * for a remote failure (stack trace included), the error's own mapping
 * otherwise. Errors that are not {@linkcode QueryableStateError}s map to
 * `java.lang.RuntimeException` with their message.
 *
 * @example
 * ```ts
 * import { toJavaThrowable } from "@kvstate/queryable-state";
 *
 * toJavaThrowable(new Error("x")).className; // => "java.lang.RuntimeException"
 * ```
 *
 * @param err Any thrown value.
 * @returns The throwable.
 */
export function toJavaThrowable(err: unknown): JavaThrowable {
  if (err instanceof QueryableStateError) {
    const remote = (err as unknown as Record<symbol, JavaThrowable | undefined>)[REMOTE_THROWABLE];
    return remote ?? err.toJavaThrowable();
  }
  if (err instanceof Error) return javaThrowable("java.lang.RuntimeException", err.message);
  return javaThrowable("java.lang.RuntimeException", String(err));
}

/**
 * Java's `printStackTrace()` text of any error, via {@linkcode toJavaThrowable},
 * bounded as {@linkcode stringifyJavaThrowable} bounds it (by default 64 Ki
 * characters, whatever the error or a remote throwable in it holds).
 *
 * @example
 * ```ts
 * import { stringifyError, UnknownLocationError } from "@kvstate/queryable-state";
 *
 * stringifyError(new UnknownLocationError("m"));
 * // => "org.apache.flink.queryablestate.exceptions.UnknownLocationException: m\n"
 * ```
 *
 * @example A message embedding a huge remote name stays bounded
 * ```ts
 * import { stringifyError, UnknownLocationError } from "@kvstate/queryable-state";
 *
 * const e = UnknownLocationError.forState("s".repeat(16 << 20), "00".repeat(16));
 * stringifyError(e).length <= 65536; // => true
 * stringifyError(e, { maxLength: 200 }).endsWith("characters truncated]\n"); // => true
 * ```
 *
 * @param err Any thrown value.
 * @param limits Bounds on the text; missing ones come from {@linkcode DEFAULT_THROWABLE_TEXT_LIMITS}.
 * @returns The text, at most `limits.maxLength` characters.
 * @throws {RangeError} When a limit is not a non-negative number.
 */
export function stringifyError(err: unknown, limits?: Partial<ThrowableTextLimits>): string {
  return stringifyJavaThrowable(toJavaThrowable(err), limits);
}

/**
 * A request refused at once because the bytes its connection holds unwritten
 * (the peer reads too slowly or not at all, or the connection is still
 * opening) reached the client's bound, `maxQueuedBytesPerConnection`
 * (Java's `RejectedExecutionException`: work refused by a full queue).
 *
 * @example
 * ```ts
 * import { RequestQueueFullError } from "@kvstate/queryable-state";
 *
 * new RequestQueueFullError("Request queue to 127.0.0.1:9067 is full").javaClassName;
 * // => "java.util.concurrent.RejectedExecutionException"
 * ```
 */
export class RequestQueueFullError extends QueryableStateError {
  /**
   * Creates the error.
   *
   * @param message Which queue, and how full.
   * @param options The cause.
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, "java.util.concurrent.RejectedExecutionException", options);
  }
}

/**
 * A TLS handshake failed, or TLS ended a connection: the peer's certificate
 * is not trusted (unknown issuer, expired, a name that does not match), the
 * peer refused ours (e.g. no client certificate under mutual TLS: with TLS
 * 1.3 the client learns it from its first read, so the request in flight
 * fails with this error), the handshake timed out, or the peer does not
 * speak TLS. A {@linkcode ConnectError}, so code that handles connect
 * failures handles it too; its Java class is `javax.net.ssl.SSLHandshakeException`.
 * The runtime's own error is the `cause`.
 *
 * @example
 * ```ts
 * import { ConnectError, TlsError } from "@kvstate/queryable-state";
 *
 * const e = new TlsError("TLS handshake with 127.0.0.1:9069 failed: certificate expired");
 * e instanceof ConnectError; // => true
 * e.javaClassName; // => "javax.net.ssl.SSLHandshakeException"
 * ```
 */
export class TlsError extends ConnectError {
  /** Always `javax.net.ssl.SSLHandshakeException`. */
  override readonly javaClassName: string = "javax.net.ssl.SSLHandshakeException";

  /**
   * Creates the error.
   *
   * @param message What failed, and with which peer.
   * @param options The cause (the runtime's error).
   */
  constructor(message: string, options?: QueryableStateErrorOptions) {
    super(message, options);
  }
}
