/**
 * The in-memory model of a Java `Throwable` as it crosses the wire, the table
 * of exception classes this module may emit, and Java's `printStackTrace`
 * text form.
 *
 * @module
 */

/** One frame of a Java stack trace, as `java.lang.StackTraceElement` holds it. */
export interface JavaStackFrame {
  /** The fully qualified class name, e.g. `org.apache.flink.Foo`. */
  readonly declaringClass: string;
  /** The method name. */
  readonly methodName: string;
  /** The source file name, or `null` when unknown. */
  readonly fileName: string | null;
  /** The line number; negative when unknown (`-2` marks a native method). */
  readonly lineNumber: number;
  /** The module name (Java 9+), or `null`. */
  readonly moduleName?: string | null;
  /** The module version (Java 9+), or `null`. */
  readonly moduleVersion?: string | null;
  /** The class loader name (Java 9+), or `null`. */
  readonly classLoaderName?: string | null;
}

/**
 * A Java `Throwable` as read from, or written to, a Java serialization
 * stream: class name, message, cause chain and stack trace. It carries data
 * only; nothing in it is ever executed.
 */
export interface JavaThrowable {
  /** The binary class name, e.g. `java.lang.RuntimeException`. */
  readonly className: string;
  /** `getMessage()`: the detail message, or `null`. */
  readonly message: string | null;
  /** `getCause()`: the cause, or `null` when there is none. */
  readonly cause: JavaThrowable | null;
  /** The stack trace, outermost call last; empty when not sent. */
  readonly stackTrace: readonly JavaStackFrame[];
  /**
   * The class and its superclasses, most derived first, as named in the
   * stream (ends with `java.lang.Throwable` for a well-formed throwable).
   * Empty when unknown.
   */
  readonly classHierarchy: readonly string[];
}

/** A Java class that the Throwable writer can emit, with its serialization identity. */
export interface JavaExceptionClass {
  /** The binary class name. */
  readonly name: string;
  /** The `serialVersionUID` the JVM checks when it reads the class. */
  readonly serialVersionUID: bigint;
  /** The superclass name, or `null` for `java.lang.Throwable`. */
  readonly superclass: string | null;
}

const CLASSES: readonly JavaExceptionClass[] = [
  { name: "java.lang.Throwable", serialVersionUID: -3042686055658047285n, superclass: null },
  {
    name: "java.lang.Exception",
    serialVersionUID: -3387516993124229948n,
    superclass: "java.lang.Throwable",
  },
  {
    name: "java.lang.RuntimeException",
    serialVersionUID: -7034897190745766939n,
    superclass: "java.lang.Exception",
  },
  {
    name: "java.lang.IllegalArgumentException",
    serialVersionUID: -5365630128856068164n,
    superclass: "java.lang.RuntimeException",
  },
  {
    name: "java.lang.IllegalStateException",
    serialVersionUID: -1848914673093119416n,
    superclass: "java.lang.RuntimeException",
  },
  {
    name: "org.apache.flink.queryablestate.network.BadRequestException",
    serialVersionUID: 3458743952407632903n,
    superclass: "java.lang.Exception",
  },
  {
    name: "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
    serialVersionUID: 1n,
    superclass: "org.apache.flink.queryablestate.network.BadRequestException",
  },
  {
    name: "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException",
    serialVersionUID: 1n,
    superclass: "org.apache.flink.queryablestate.network.BadRequestException",
  },
  {
    name: "org.apache.flink.queryablestate.exceptions.UnknownKvStateKeyGroupLocationException",
    serialVersionUID: 1n,
    superclass: "org.apache.flink.queryablestate.network.BadRequestException",
  },
  {
    name: "org.apache.flink.util.FlinkException",
    serialVersionUID: 450688772469004724n,
    superclass: "java.lang.Exception",
  },
  {
    name: "org.apache.flink.queryablestate.exceptions.UnknownLocationException",
    serialVersionUID: 9092442511708951209n,
    superclass: "org.apache.flink.util.FlinkException",
  },
];

/**
 * The exception classes Flink's server and proxy send, keyed by binary name.
 * Only these may be emitted on the wire: a Java client that meets any other
 * class (or another `serialVersionUID`) fails its whole connection.
 */
export const JAVA_EXCEPTION_CLASSES: ReadonlyMap<string, JavaExceptionClass> = new Map(
  CLASSES.map((c) => [c.name, c]),
);

/** Binary name of Flink's `BadRequestException`, the base of the "bad request" family. */
export const BAD_REQUEST_EXCEPTION = "org.apache.flink.queryablestate.network.BadRequestException";

/**
 * Returns the class chain of a known exception class, most derived first,
 * ending with `java.lang.Throwable`.
 *
 * @example The chain of UnknownKvStateIdException
 * ```ts
 * import { javaClassChain } from "@kvstate/queryable-state/wire";
 *
 * const chain = javaClassChain("org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException");
 * chain.map((c) => c.name.split(".").pop());
 * // => ["UnknownKvStateIdException", "BadRequestException", "Exception", "Throwable"]
 * ```
 *
 * @param className The binary class name.
 * @returns The chain.
 * @throws {TypeError} When the class is not in {@linkcode JAVA_EXCEPTION_CLASSES}.
 */
export function javaClassChain(className: string): JavaExceptionClass[] {
  const chain: JavaExceptionClass[] = [];
  let name: string | null = className;
  while (name !== null) {
    const c = JAVA_EXCEPTION_CLASSES.get(name);
    if (c === undefined) {
      throw new TypeError(
        `Cannot emit Java class ${name}: only Flink's queryable-state exception classes can cross the wire`,
      );
    }
    chain.push(c);
    name = c.superclass;
  }
  return chain;
}

/**
 * Returns whether a throwable is Flink's `BadRequestException` or a subclass,
 * judged by its class hierarchy as sent (or, when the hierarchy is unknown,
 * by the known class table).
 *
 * @example
 * ```ts
 * import { isBadRequest, javaThrowable } from "@kvstate/queryable-state/wire";
 *
 * isBadRequest(javaThrowable(
 *   "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException", "x")); // => true
 * ```
 *
 * @param t The throwable.
 * @returns `true` for the bad-request family.
 */
export function isBadRequest(t: JavaThrowable): boolean {
  if (t.classHierarchy.length > 0) return t.classHierarchy.includes(BAD_REQUEST_EXCEPTION);
  let name: string | null = t.className;
  while (name !== null) {
    if (name === BAD_REQUEST_EXCEPTION) return true;
    name = JAVA_EXCEPTION_CLASSES.get(name)?.superclass ?? null;
  }
  return false;
}

/**
 * Builds a {@linkcode JavaThrowable} with no stack trace; the class hierarchy
 * is filled from the known class table when the class is in it.
 *
 * @example
 * ```ts
 * import { javaThrowable } from "@kvstate/queryable-state/wire";
 *
 * const t = javaThrowable("java.lang.RuntimeException", "boom");
 * t.classHierarchy; // => ["java.lang.RuntimeException", "java.lang.Exception", "java.lang.Throwable"]
 * ```
 *
 * @param className The binary class name.
 * @param message The message, or `null`.
 * @param cause The cause, or `null`.
 * @returns The throwable.
 */
export function javaThrowable(
  className: string,
  message: string | null,
  cause: JavaThrowable | null = null,
): JavaThrowable {
  const hierarchy: string[] = [];
  let name: string | null = className;
  while (name !== null && JAVA_EXCEPTION_CLASSES.has(name)) {
    hierarchy.push(name);
    name = JAVA_EXCEPTION_CLASSES.get(name)!.superclass;
  }
  return {
    className,
    message,
    cause,
    stackTrace: [],
    classHierarchy: name === null ? hierarchy : [],
  };
}

/**
 * Bounds on the text {@linkcode stringifyJavaThrowable} renders, so that a
 * throwable received from a peer (long messages, a long stack trace of long
 * frames, a long cause chain) can never grow into a string of unbounded size,
 * nor take time out of proportion with the text produced. Every length is in
 * UTF-16 code units (JavaScript string length). What a bound cuts off is
 * marked in the text: `... [N characters truncated]` for cut text,
 * `\t... N more` for stack frames left out (as Java marks the frames a cause
 * shares with its enclosing trace), `... [N more causes]` for causes left out.
 *
 * @example Tighter limits for one call
 * ```ts
 * import {
 *   DEFAULT_THROWABLE_TEXT_LIMITS,
 *   type ThrowableTextLimits,
 * } from "@kvstate/queryable-state/wire";
 *
 * const limits: ThrowableTextLimits = { ...DEFAULT_THROWABLE_TEXT_LIMITS, maxLength: 4096 };
 * limits.maxFrames; // => 1024
 * ```
 */
export interface ThrowableTextLimits {
  /**
   * Longest text, markers included. Default 65536 (64 Ki characters, at most
   * 192 KiB once encoded in UTF-8 or modified UTF-8).
   */
  readonly maxLength: number;
  /** Longest message of one throwable of the chain, marker included. Default 65536. */
  readonly maxMessageLength: number;
  /**
   * Longest stack frame (the text after `\tat `), marker included. Default
   * 1024. Frames longer than this are also compared on their first
   * characters only when frames shared with the enclosing trace are folded.
   */
  readonly maxFrameLength: number;
  /**
   * Most stack frames printed per throwable; the rest is folded into one
   * `\t... N more` line. Default 1024 (the JVM's default maximal stack trace
   * depth, so a real Java trace is never cut by it).
   */
  readonly maxFrames: number;
  /**
   * Most causes printed below the top throwable; the rest is summed up as
   * `... [N more causes]`. Default 128.
   */
  readonly maxCauseDepth: number;
}

/**
 * The limits {@linkcode stringifyJavaThrowable} uses by default: 64 Ki
 * characters of text, 64 Ki per message, 1024 per stack frame, 1024 frames
 * per throwable, 128 causes. Real Flink failures are far below them, so
 * their text is exactly what Java's `printStackTrace()` prints.
 *
 * @example
 * ```ts
 * import { DEFAULT_THROWABLE_TEXT_LIMITS } from "@kvstate/queryable-state/wire";
 *
 * DEFAULT_THROWABLE_TEXT_LIMITS.maxLength; // => 65536
 * ```
 */
export const DEFAULT_THROWABLE_TEXT_LIMITS: Readonly<ThrowableTextLimits> = Object.freeze({
  maxLength: 65536,
  maxMessageLength: 65536,
  maxFrameLength: 1024,
  maxFrames: 1024,
  maxCauseDepth: 128,
});

function resolveTextLimits(limits: Partial<ThrowableTextLimits> | undefined): ThrowableTextLimits {
  if (limits === undefined) return DEFAULT_THROWABLE_TEXT_LIMITS;
  const l = { ...DEFAULT_THROWABLE_TEXT_LIMITS, ...limits };
  for (const [k, v] of Object.entries(l)) {
    if (typeof v !== "number" || !(v >= 0)) {
      throw new RangeError(`ThrowableTextLimits.${k} must be a non-negative number, got ${v}`);
    }
  }
  return l;
}

const truncationMarker = (n: number): string => `... [${n} characters truncated]`;

/**
 * How many leading characters of a text of `total` characters to keep so
 * that they and the marker fit in `max`; `-1` when the marker alone does not
 * fit (then the text is cut hard, unmarked).
 */
function keptLength(total: number, max: number): number {
  // The marker for `total` removed characters is at least as long as the one needed.
  const keep = max - truncationMarker(total).length;
  return keep < 0 ? -1 : keep;
}

/** `s.slice(0, n)`, one shorter if that would split a surrogate pair. */
function head(s: string, n: number): string {
  if (n <= 0) return "";
  if (n >= s.length) return s;
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

/**
 * The concatenation of `parts`, or when longer than `max`, its first
 * characters and a `... [N characters truncated]` marker, `max` characters
 * at most. Only the characters kept are copied.
 */
function cutParts(parts: readonly string[], max: number): string {
  let total = 0;
  for (const p of parts) total += p.length;
  if (total <= max) return parts.join("");
  let keep = keptLength(total, max);
  const hard = keep < 0;
  if (hard) keep = Math.max(0, Math.floor(max));
  let out = "";
  let kept = 0;
  for (const p of parts) {
    if (kept + p.length <= keep) {
      out += p;
      kept += p.length;
    } else {
      const h = head(p, keep - kept);
      out += h;
      kept += h.length;
      break;
    }
  }
  return hard ? out : out + truncationMarker(total - kept);
}

/**
 * Cuts a text to at most `maxLength` characters: a longer text keeps its
 * first characters and ends with a `... [N characters truncated]` marker
 * (N = characters removed), the marker counted in `maxLength` (a limit too
 * small for the marker cuts without it). A surrogate pair is never split.
 * Only the characters kept are copied.
 *
 * @example
 * ```ts
 * import { truncateText } from "@kvstate/queryable-state/wire";
 *
 * truncateText("abc", 10); // => "abc"
 * truncateText("x".repeat(100), 40); // => "xxxxxxxxxx... [90 characters truncated]"
 * ```
 *
 * @param text The text.
 * @param maxLength The most characters to return.
 * @returns The text, whole or cut.
 */
export function truncateText(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : cutParts([text], maxLength);
}

/** A string field as a string, whatever a model built in code holds in it. */
function text(s: unknown): string {
  return typeof s === "string" ? s : String(s);
}

/** The text of a frame, as `StackTraceElement.toString()` has it, cut to `max` characters. */
function frameText(f: JavaStackFrame, max: number): string {
  const cl = f.classLoaderName ? text(f.classLoaderName) : null;
  const mod = f.moduleName ? text(f.moduleName) : null;
  const ver = mod && f.moduleVersion ? text(f.moduleVersion) : null;
  const file = f.fileName === null ? null : text(f.fileName);
  const line = f.lineNumber;
  const declaringClass = text(f.declaringClass);
  const methodName = text(f.methodName);
  const where = line === -2
    ? "Native Method"
    : file === null
    ? "Unknown Source"
    : line >= 0
    ? file + ":" + line
    : file;
  const length = (cl ? cl.length + 1 : 0) + (mod ? mod.length + 1 : 0) +
    (ver ? ver.length + 1 : 0) +
    declaringClass.length + methodName.length + where.length + 3;
  if (length <= max) {
    let prefix = "";
    if (cl) prefix += cl + "/";
    if (mod) prefix += mod + (ver ? "@" + ver : "") + "/";
    return prefix + declaringClass + "." + methodName + "(" + where + ")";
  }
  const parts: string[] = [];
  if (cl) parts.push(cl, "/");
  if (mod) {
    parts.push(mod);
    if (ver) parts.push("@", ver);
    parts.push("/");
  }
  parts.push(declaringClass, ".", methodName, "(");
  // The file name apart from its line number: a long one is cut without being copied whole.
  if (file !== null && line >= 0) parts.push(file, ":" + line);
  else parts.push(where);
  parts.push(")");
  return cutParts(parts, max);
}

/** Room kept at the end of the text for the closing markers (two short lines). */
const MARKER_RESERVE = 64;
/** Most causes counted for a `... [N more causes]` marker. */
const MAX_CAUSES_COUNTED = 10_000;

/** `... [N more causes]` for the causes from `from` on that are not printed. */
function causesMarker(from: JavaThrowable | null, seen: Set<JavaThrowable>): string {
  let n = 0;
  for (let c = from; c !== null && !seen.has(c) && n <= MAX_CAUSES_COUNTED; c = c.cause) {
    seen.add(c);
    n++;
  }
  if (n === 0) return "";
  return `... [${n > MAX_CAUSES_COUNTED ? `more than ${MAX_CAUSES_COUNTED}` : n} more causes]\n`;
}

/**
 * Renders a throwable the way Java's `printStackTrace()` (and Flink's
 * `ExceptionUtils.stringifyException`) does: `Class: message`, one
 * `\tat frame` line per stack frame, then `Caused by: ...` sections, each line
 * ending with `\n`. Frames a cause shares with its enclosing trace are folded
 * into `... N more`, as the JVM prints them.
 *
 * The text is bounded by `limits` (see {@linkcode ThrowableTextLimits}; by
 * default {@linkcode DEFAULT_THROWABLE_TEXT_LIMITS}: 64 Ki characters in
 * all), whatever the throwable holds: a cut message or frame ends with
 * `... [N characters truncated]`, frames left out are counted in a
 * `\t... N more` line, causes left out in `... [N more causes]`. Rendering
 * stops as soon as the text is full, so its cost follows the text produced,
 * not the size of the throwable. Below the limits, the text is exactly
 * Java's.
 *
 * @example No stack, one cause
 * ```ts
 * import { javaThrowable, stringifyJavaThrowable } from "@kvstate/queryable-state/wire";
 *
 * const t = javaThrowable("java.lang.RuntimeException", "outer",
 *   javaThrowable("java.lang.IllegalStateException", "inner"));
 * stringifyJavaThrowable(t);
 * // => "java.lang.RuntimeException: outer\nCaused by: java.lang.IllegalStateException: inner\n"
 * ```
 *
 * @example A huge message is cut and marked
 * ```ts
 * import { javaThrowable, stringifyJavaThrowable } from "@kvstate/queryable-state/wire";
 *
 * const t = javaThrowable("java.lang.RuntimeException", "x".repeat(1_000_000));
 * const text = stringifyJavaThrowable(t, { maxMessageLength: 40 });
 * text; // => "java.lang.RuntimeException: xxxxxx... [999994 characters truncated]\n"
 * stringifyJavaThrowable(t).length <= 65536; // => true
 * ```
 *
 * @param t The throwable.
 * @param limits Bounds on the text; missing ones come from {@linkcode DEFAULT_THROWABLE_TEXT_LIMITS}.
 * @returns The text, at most `limits.maxLength` characters.
 * @throws {RangeError} When a limit is not a non-negative number.
 */
export function stringifyJavaThrowable(
  t: JavaThrowable,
  limits?: Partial<ThrowableTextLimits>,
): string {
  const l = resolveTextLimits(limits);
  const maxFrames = l.maxFrames;
  const maxFrameLength = l.maxFrameLength;
  // Characters that may still be written before the closing markers.
  let room = l.maxLength - MARKER_RESERVE;
  let out = "";
  let tail = "";
  let enclosing: readonly JavaStackFrame[] = [];
  let prefix = "";
  const seen = new Set<JavaThrowable>();
  let depth = 0;
  let cur: JavaThrowable | null = t;
  chain: for (; cur !== null && !seen.has(cur); cur = cur.cause, depth++) {
    if (depth > l.maxCauseDepth) {
      tail = causesMarker(cur, seen);
      break;
    }
    seen.add(cur);
    const trace = cur.stackTrace;
    const className = text(cur.className);
    const message = cur.message === null ? null : text(cur.message);
    const headerLength = prefix.length + className.length +
      (message === null ? 0 : 2 + Math.min(message.length, l.maxMessageLength)) + 1;
    if (headerLength > room) {
      // Cut the header line to what is left, then close.
      const parts = message === null ? [prefix, className] : [prefix, className, ": ", message];
      if (room > 1) out += cutParts(parts, room - 1) + "\n";
      tail = (trace.length !== 0 ? `\t... ${trace.length} more\n` : "") +
        causesMarker(cur.cause, seen);
      break;
    }
    out += prefix + className +
      (message !== null ? ": " + truncateText(message, l.maxMessageLength) : "") + "\n";
    room -= headerLength;
    // Frames in common with the enclosing trace, counted from the end; at most
    // maxFrames comparisons (beyond, the frames are left out anyway).
    let m = trace.length - 1;
    let n = enclosing.length - 1;
    for (let budget = maxFrames; m >= 0 && n >= 0 && budget > 0; budget--) {
      if (!sameFrame(trace[m], enclosing[n], maxFrameLength)) break;
      m--;
      n--;
    }
    const shown = Math.min(m + 1, maxFrames);
    for (let i = 0; i < shown; i++) {
      const line = "\tat " + frameText(trace[i], maxFrameLength) + "\n";
      if (line.length > room) {
        tail = `\t... ${trace.length - i} more\n` + causesMarker(cur.cause, seen);
        break chain;
      }
      out += line;
      room -= line.length;
    }
    const more = trace.length - shown;
    if (more !== 0) {
      const line = `\t... ${more} more\n`;
      if (line.length > room) {
        tail = line + causesMarker(cur.cause, seen);
        break;
      }
      out += line;
      room -= line.length;
    }
    enclosing = trace;
    prefix = "Caused by: ";
  }
  out += tail;
  // Only reachable with a maxLength below the markers' reserve.
  return out.length <= l.maxLength ? out : out.slice(0, Math.max(0, Math.floor(l.maxLength)));
}

/**
 * Whether two frames are the same, as Java compares them for folding. A
 * field longer than `max` (cut when printed) is compared on its length and
 * its first 256 characters, so comparing costs little whatever it holds.
 */
function sameFrame(a: JavaStackFrame, b: JavaStackFrame, max: number): boolean {
  return a === b ||
    (a.lineNumber === b.lineNumber && sameText(a.declaringClass, b.declaringClass, max) &&
      sameText(a.methodName, b.methodName, max) && sameText(a.fileName, b.fileName, max));
}

const COMPARED_PREFIX = 256;

function sameText(a: string | null, b: string | null, max: number): boolean {
  if (a === null || b === null || a.length <= max || a.length !== b.length) return a === b;
  return a.slice(0, COMPARED_PREFIX) === b.slice(0, COMPARED_PREFIX);
}
