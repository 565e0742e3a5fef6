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
 * import { javaClassChain } from "@kvstate/queryable-state";
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
 * import { isBadRequest, javaThrowable } from "@kvstate/queryable-state";
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
 * import { javaThrowable } from "@kvstate/queryable-state";
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

function frameText(f: JavaStackFrame): string {
  let prefix = "";
  if (f.classLoaderName) prefix += f.classLoaderName + "/";
  if (f.moduleName) prefix += f.moduleName + (f.moduleVersion ? "@" + f.moduleVersion : "") + "/";
  let where: string;
  if (f.lineNumber === -2) where = "Native Method";
  else if (f.fileName === null) where = "Unknown Source";
  else if (f.lineNumber >= 0) where = `${f.fileName}:${f.lineNumber}`;
  else where = f.fileName;
  return `${prefix}${f.declaringClass}.${f.methodName}(${where})`;
}

/**
 * Renders a throwable the way Java's `printStackTrace()` (and Flink's
 * `ExceptionUtils.stringifyException`) does: `Class: message`, one
 * `\tat frame` line per stack frame, then `Caused by: ...` sections, each line
 * ending with `\n`. Frames a cause shares with its enclosing trace are folded
 * into `... N more`, as the JVM prints them.
 *
 * @example No stack, one cause
 * ```ts
 * import { javaThrowable, stringifyJavaThrowable } from "@kvstate/queryable-state";
 *
 * const t = javaThrowable("java.lang.RuntimeException", "outer",
 *   javaThrowable("java.lang.IllegalStateException", "inner"));
 * stringifyJavaThrowable(t);
 * // => "java.lang.RuntimeException: outer\nCaused by: java.lang.IllegalStateException: inner\n"
 * ```
 *
 * @param t The throwable.
 * @returns The text.
 */
export function stringifyJavaThrowable(t: JavaThrowable): string {
  let out = "";
  let enclosing: readonly JavaStackFrame[] = [];
  let prefix = "";
  const seen = new Set<JavaThrowable>();
  for (let cur: JavaThrowable | null = t; cur !== null && !seen.has(cur); cur = cur.cause) {
    seen.add(cur);
    out += prefix + cur.className + (cur.message !== null ? ": " + cur.message : "") + "\n";
    const trace = cur.stackTrace;
    // Frames in common with the enclosing trace, counted from the end.
    let m = trace.length - 1;
    let n = enclosing.length - 1;
    while (m >= 0 && n >= 0 && sameFrame(trace[m], enclosing[n])) {
      m--;
      n--;
    }
    const common = trace.length - 1 - m;
    for (let i = 0; i <= m; i++) out += "\tat " + frameText(trace[i]) + "\n";
    if (common !== 0) out += `\t... ${common} more\n`;
    enclosing = trace;
    prefix = "Caused by: ";
  }
  return out;
}

function sameFrame(a: JavaStackFrame, b: JavaStackFrame): boolean {
  return a.declaringClass === b.declaringClass && a.methodName === b.methodName &&
    a.fileName === b.fileName && a.lineNumber === b.lineNumber;
}
