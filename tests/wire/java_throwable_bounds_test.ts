/**
 * Bounds on the text rendered from a Java Throwable (`stringifyJavaThrowable`,
 * `stringifyError`): a throwable received from a peer, however large, renders
 * to at most `maxLength` characters, in time that follows the text produced,
 * with what was cut marked; below the limits the text is exactly Java's.
 */

import { readJavaThrowable } from "../../src/wire/java_serialization.ts";
import {
  DEFAULT_THROWABLE_TEXT_LIMITS,
  type JavaStackFrame,
  type JavaThrowable,
  javaThrowable,
  stringifyJavaThrowable,
  truncateText,
} from "../../src/wire/java_throwable.ts";
import { RemoteError, stringifyError, UnknownLocationError } from "../../src/wire/errors.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { type FrameSpec, largestTraceStream, throwableStream } from "./_java_streams.ts";

const frame = (
  declaringClass: string,
  methodName: string,
  fileName: string | null = null,
  lineNumber = -1,
): JavaStackFrame => ({ declaringClass, methodName, fileName, lineNumber });

const withTrace = (
  className: string,
  message: string | null,
  stackTrace: readonly JavaStackFrame[],
  cause: JavaThrowable | null = null,
): JavaThrowable => ({ ...javaThrowable(className, message, cause), stackTrace });

/** Java's printStackTrace text, unbounded: the reference the bounded renderer must match. */
function reference(t: JavaThrowable): string {
  const text = (f: JavaStackFrame): string => {
    let p = "";
    if (f.classLoaderName) p += f.classLoaderName + "/";
    if (f.moduleName) p += f.moduleName + (f.moduleVersion ? "@" + f.moduleVersion : "") + "/";
    const where = f.lineNumber === -2
      ? "Native Method"
      : f.fileName === null
      ? "Unknown Source"
      : f.lineNumber >= 0
      ? `${f.fileName}:${f.lineNumber}`
      : f.fileName;
    return `${p}${f.declaringClass}.${f.methodName}(${where})`;
  };
  const same = (a: JavaStackFrame, b: JavaStackFrame) =>
    a.declaringClass === b.declaringClass && a.methodName === b.methodName &&
    a.fileName === b.fileName && a.lineNumber === b.lineNumber;
  let out = "";
  let enclosing: readonly JavaStackFrame[] = [];
  let prefix = "";
  const seen = new Set<JavaThrowable>();
  for (let c: JavaThrowable | null = t; c !== null && !seen.has(c); c = c.cause) {
    seen.add(c);
    out += prefix + c.className + (c.message !== null ? ": " + c.message : "") + "\n";
    let m = c.stackTrace.length - 1;
    let n = enclosing.length - 1;
    while (m >= 0 && n >= 0 && same(c.stackTrace[m], enclosing[n])) {
      m--;
      n--;
    }
    for (let i = 0; i <= m; i++) out += "\tat " + text(c.stackTrace[i]) + "\n";
    if (m < c.stackTrace.length - 1) out += `\t... ${c.stackTrace.length - 1 - m} more\n`;
    enclosing = c.stackTrace;
    prefix = "Caused by: ";
  }
  return out;
}

Deno.test("text limits: the defaults", () => {
  assertEquals(DEFAULT_THROWABLE_TEXT_LIMITS, {
    maxLength: 65536,
    maxMessageLength: 65536,
    maxFrameLength: 1024,
    maxFrames: 1024,
    maxCauseDepth: 128,
  });
  assert(Object.isFrozen(DEFAULT_THROWABLE_TEXT_LIMITS));
  const t = javaThrowable("java.lang.RuntimeException", "x");
  assertThrows(() => stringifyJavaThrowable(t, { maxLength: -1 }), RangeError, "maxLength");
  assertThrows(() => stringifyJavaThrowable(t, { maxFrames: NaN }), RangeError, "maxFrames");
});

Deno.test("text limits: below the limits the text is exactly Java's (random throwables)", () => {
  const rng = new Prng(20240909);
  const names = ["a.B", "org.apache.flink.X$1", "k.L", "ü.Ж"];
  const pool: JavaStackFrame[] = [];
  for (let i = 0; i < 40; i++) {
    const f = {
      ...frame(rng.pick(names), "m" + rng.int(5), rng.int(3) ? "F.java" : null, rng.int(8) - 2),
      moduleName: rng.int(4) === 0 ? "java.base" : null,
      moduleVersion: rng.int(2) ? "17" : null,
      classLoaderName: rng.int(5) === 0 ? "app" : null,
    };
    pool.push(f);
  }
  for (let iter = 0; iter < 300; iter++) {
    const depth = 1 + rng.int(6);
    const shared = Array.from({ length: rng.int(30) }, () => rng.pick(pool));
    let t: JavaThrowable | null = null;
    for (let d = 0; d < depth; d++) {
      const own = Array.from({ length: rng.int(12) }, () => rng.pick(pool));
      const message = rng.int(4) === 0 ? null : "msg " + "é😀\u0000".repeat(rng.int(5));
      t = withTrace(rng.pick(["java.lang.RuntimeException", "x.Y"]), message, [
        ...own,
        ...(rng.int(3) ? shared : []),
      ], t);
    }
    assertEquals(stringifyJavaThrowable(t!), reference(t!));
  }
  // A full default-size trace of 1024 frames and a 128-deep chain are not cut either.
  const deep = Array.from({ length: 1024 }, (_, i) => frame("a.B", "m", "B.java", i));
  let chain: JavaThrowable = withTrace("java.lang.RuntimeException", "root", deep);
  for (let i = 0; i < 128; i++) {
    chain = withTrace("java.lang.RuntimeException", "level " + i, deep.slice(i), chain);
  }
  const text = stringifyJavaThrowable(chain, { maxLength: 1 << 20 });
  assertEquals(text, reference(chain));
});

Deno.test("text limits: a long message is cut and marked, surrogate pairs kept whole", () => {
  const t = javaThrowable("java.lang.RuntimeException", "x".repeat(1000));
  assertEquals(
    stringifyJavaThrowable(t, { maxMessageLength: 40 }),
    "java.lang.RuntimeException: xxxxxxxxx... [991 characters truncated]\n",
  );
  assertEquals(truncateText("x".repeat(100), 40), "xxxxxxxxxx... [90 characters truncated]");
  assertEquals(truncateText("x".repeat(40), 40), "x".repeat(40));
  // The cut would fall inside a surrogate pair: the pair goes whole.
  const cut = truncateText("123456789😀" + "y".repeat(100), 40);
  assertEquals(cut, "123456789... [102 characters truncated]");
  assert(cut.isWellFormed());
  // A limit below the marker's own length cuts without it.
  assertEquals(truncateText("abcdefgh", 3), "abc");
  assertEquals(truncateText("abcdefgh", 0), "");
});

Deno.test("text limits: a long frame is cut and marked; long frames still fold", () => {
  const long = frame("c".repeat(5000), "run", "Long.java", 7);
  const t = withTrace("java.lang.RuntimeException", "top", [frame("a.B", "m"), long]);
  const text = stringifyJavaThrowable(t);
  const lines = text.split("\n");
  assertEquals(lines[1], "\tat a.B.m(Unknown Source)");
  // 5017 characters: 993 kept, and the marker.
  assertEquals(lines[2], "\tat " + "c".repeat(993) + "... [4024 characters truncated]");
  // A cause sharing the long frame (an equal copy, not the same object) folds it.
  const copy = { ...long, declaringClass: "c".repeat(4999) + "c" };
  const chain = withTrace("java.lang.RuntimeException", "top", [frame("a.B", "m"), long], {
    ...withTrace("java.lang.IllegalStateException", "inner", [frame("x.Y", "z"), copy]),
  });
  assert(stringifyJavaThrowable(chain).endsWith("\tat x.Y.z(Unknown Source)\n\t... 1 more\n"));
});

Deno.test("text limits: frames beyond maxFrames are counted in one '... N more' line", () => {
  const trace = Array.from({ length: 10 }, (_, i) => frame("a.B", "m" + i));
  const t = withTrace("java.lang.RuntimeException", "top", trace);
  assertEquals(
    stringifyJavaThrowable(t, { maxFrames: 3 }),
    "java.lang.RuntimeException: top\n\tat a.B.m0(Unknown Source)\n\tat a.B.m1(Unknown Source)\n" +
      "\tat a.B.m2(Unknown Source)\n\t... 7 more\n",
  );
  // A cause: its own frames cut at maxFrames, the rest (shared or not) counted together.
  const cause = withTrace("x.C", null, [frame("x.Y", "a"), frame("x.Y", "b"), ...trace.slice(5)]);
  const chain = withTrace("java.lang.RuntimeException", "top", trace, cause);
  assertEquals(
    stringifyJavaThrowable(chain, { maxFrames: 1 }),
    "java.lang.RuntimeException: top\n\tat a.B.m0(Unknown Source)\n\t... 9 more\n" +
      "Caused by: x.C\n\tat x.Y.a(Unknown Source)\n\t... 6 more\n",
  );
});

Deno.test("text limits: causes beyond maxCauseDepth are counted; a loop ends the chain", () => {
  let t: JavaThrowable | null = null;
  for (let i = 9; i >= 0; i--) t = javaThrowable("java.lang.RuntimeException", "l" + i, t);
  assertEquals(
    stringifyJavaThrowable(t!, { maxCauseDepth: 2 }),
    "java.lang.RuntimeException: l0\nCaused by: java.lang.RuntimeException: l1\n" +
      "Caused by: java.lang.RuntimeException: l2\n... [7 more causes]\n",
  );
  // A cause chain that loops back is printed once, as today.
  const a = { ...javaThrowable("x.A", "a"), cause: null as JavaThrowable | null };
  const b = javaThrowable("x.B", "b", a);
  a.cause = b;
  assertEquals(stringifyJavaThrowable(a), "x.A: a\nCaused by: x.B: b\n");
  assertEquals(stringifyJavaThrowable(a, { maxCauseDepth: 0 }), "x.A: a\n... [1 more causes]\n");
});

Deno.test("text limits: the total cap closes the text with the frames and causes left out", () => {
  const trace = Array.from({ length: 500 }, (_, i) => frame("a.B", "method" + i, "B.java", i));
  const chain = withTrace(
    "java.lang.RuntimeException",
    "top",
    trace,
    javaThrowable("java.lang.IllegalStateException", "c1", javaThrowable("x.Y", "c2")),
  );
  for (const maxLength of [0, 10, 63, 64, 100, 500, 1000, 4096]) {
    const text = stringifyJavaThrowable(chain, { maxLength });
    assert(text.length <= maxLength, `${maxLength}: ${text.length}`);
    if (maxLength >= 500) {
      assert(text.startsWith("java.lang.RuntimeException: top\n\tat a.B.method0(B.java:0)\n"));
      const shown = text.split("\n").filter((l) => l.startsWith("\tat ")).length;
      assert(text.endsWith(`\t... ${500 - shown} more\n... [2 more causes]\n`), text.slice(-80));
    }
  }
  // A header longer than what is left is cut to it, then closed.
  const big = withTrace("java.lang.RuntimeException", "m".repeat(10_000), [frame("a.B", "m")]);
  const text = stringifyJavaThrowable(big, { maxLength: 1000 });
  assert(text.length <= 1000);
  assert(text.endsWith("characters truncated]\n\t... 1 more\n"), text.slice(-80));
});

/** A stack trace of `n` frames (each made on demand) that counts the frames read. */
function countingTrace(n: number, make: (i: number) => JavaStackFrame) {
  const counter = { reads: 0 };
  const trace = new Proxy([] as JavaStackFrame[], {
    get(target, key, receiver) {
      if (key === "length") return n;
      if (typeof key === "string" && /^\d+$/.test(key)) {
        counter.reads++;
        return make(Number(key));
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { trace, counter };
}

Deno.test("text limits: 100 000 frames of 1000-character names render to 64 KiB, reading only what fits", () => {
  const name = (i: number) => `${i}.`.padEnd(1000, "n");
  const { trace, counter } = countingTrace(100_000, (i) => frame(name(i), "run", "X.java", i));
  const t = withTrace("java.lang.RuntimeException", "boom", trace);
  const started = performance.now();
  const text = stringifyJavaThrowable(t);
  const ms = performance.now() - started;
  assert(text.length <= 65536, `${text.length}`);
  const shown = text.split("\n").filter((l) => l.startsWith("\tat ")).length;
  assert(shown >= 60 && shown <= 66, `${shown}`);
  assert(text.endsWith(`\t... ${100_000 - shown} more\n`));
  // Rendering stopped at the cap: it read the frames it printed and one more.
  assert(counter.reads <= shown + 1, `${counter.reads} frames read`);
  assert(ms < 1000, `${ms} ms`);

  // A cause whose 100 000 frames all equal its enclosing trace's: folding compares at most
  // maxFrames of them, and the frames it cannot vouch for are counted, not printed.
  const short = (i: number) => frame("a.B", "m", "B.java", i);
  const outer = countingTrace(100_000, short);
  const inner = countingTrace(100_000, short);
  const chain = withTrace("java.lang.RuntimeException", "top", outer.trace, {
    ...withTrace("java.lang.IllegalStateException", "inner", inner.trace),
  });
  const text2 = stringifyJavaThrowable(chain, { maxFrames: 100 });
  assert(text2.length <= 65536);
  assert(inner.counter.reads <= 100 + 100, `${inner.counter.reads} frames read`);
  assert(outer.counter.reads <= 100 + 100, `${outer.counter.reads} frames read`);
  assert(text2.includes("Caused by: java.lang.IllegalStateException: inner\n"));
  assert(text2.endsWith(" more\n"));
});

Deno.test("text limits: the largest trace readJavaThrowable accepts renders bounded (was a RangeError)", () => {
  // 100 000 frames (maxArrayLength) of one frame whose names are 1 MiB strings (maxStringLength)
  // and a 1 MiB message: its full text would be ~300 GB, past V8's longest string.
  const bytes = largestTraceStream();
  assert(bytes.length < 16 << 20);
  const t = readJavaThrowable(bytes);
  assertEquals(t.stackTrace.length, 100_000);
  const started = performance.now();
  const text = stringifyJavaThrowable(t);
  const err = stringifyError(new RemoteError(t));
  const ms = performance.now() - started;
  assertEquals(err, text);
  assert(text.length <= 65536, `${text.length}`);
  assert(text.startsWith("java.lang.RuntimeException: MMMM"));
  assert(text.includes("... [983167 characters truncated]\n"), text.slice(-300));
  assert(text.endsWith("\t... 100000 more\n"), text.slice(-100));
  assert(ms < 1000, `${ms} ms`);
});

Deno.test("text limits: a chain of long traces sharing 1 MiB names folds in bounded time", () => {
  // Two frame objects with equal 1 MiB names written separately (distinct strings), the causes'
  // traces alternating between them: every fold compares long equal strings.
  const mib = 1 << 20;
  const mk = (id: number): FrameSpec => ({
    id,
    declaringClass: "C".repeat(mib),
    methodName: "m".repeat(mib),
    fileName: "F".repeat(mib),
    lineNumber: 1,
  });
  const [a, b] = [mk(0), mk(1)];
  const chain = Array.from({ length: 40 }, (_, i) => ({
    className: "java.lang.RuntimeException",
    message: i === 0 ? "top" : null,
    trace: i === 0 ? [a] : Array<FrameSpec>(1025).fill(i % 2 ? b : a),
  }));
  const t = readJavaThrowable(throwableStream(chain, { freshStrings: true }));
  const started = performance.now();
  const text = stringifyJavaThrowable(t);
  const ms = performance.now() - started;
  assert(text.length <= 65536);
  assert(ms < 1000, `${ms} ms`);
});

Deno.test("text limits: stringifyError bounds local messages that embed remote text", () => {
  // A state name of 16 MiB in an UnknownLocationError message.
  const e = UnknownLocationError.forState("s".repeat(16 << 20), "00".repeat(16));
  const text = stringifyError(e);
  assert(text.length <= 65536);
  assert(text.startsWith("org.apache.flink.queryablestate.exceptions.UnknownLocationException: "));
  assert(text.endsWith(" characters truncated]\n"));
  const small = stringifyError(e, { maxLength: 300, maxMessageLength: 100 });
  assertEquals(
    small,
    "org.apache.flink.queryablestate.exceptions.UnknownLocationException: Could not retrieve location of state=ssssssssssssssssssssssssssss... [16777310 characters truncated]\n",
  );
  assertEquals(stringifyError(new Error("x")), "java.lang.RuntimeException: x\n");
});

Deno.test("text limits: a model built in code with non-string fields is still bounded", () => {
  const long = { toString: () => "z".repeat(1_000_000) };
  const odd = {
    className: long,
    message: long,
    cause: null,
    stackTrace: Array(10_000).fill({ declaringClass: long, methodName: 7, fileName: undefined }),
    classHierarchy: [],
  } as unknown as JavaThrowable;
  const text = stringifyJavaThrowable(odd);
  assert(text.length <= 65536, `${text.length}`);
  assert(text.startsWith("zzz"));
  assert(text.endsWith(" more\n"));
});
