/**
 * Builds Java serialization streams of throwables WITH stack traces by hand
 * (our writer writes empty traces), as large as `readJavaThrowable`'s limits
 * allow: shared frame objects and shared strings are written once and
 * referenced after, as Java's ObjectOutputStream does.
 */

import { JAVA_EXCEPTION_CLASSES, type JavaExceptionClass } from "../../src/wire/mod.ts";

const enc = new TextEncoder();

/** One stack frame to write. Frames with the same `id` are one object (written once). */
export interface FrameSpec {
  readonly id: number;
  readonly declaringClass: string;
  readonly methodName: string;
  readonly fileName: string | null;
  readonly lineNumber: number;
}

/** One throwable of the chain (outermost first). */
export interface ThrowableSpec {
  /** A class name; `java.lang.RuntimeException` or a `BadRequestException` subclass. */
  readonly className: string;
  readonly message: string | null;
  /** The stack trace, as frame specs (the same spec object may appear many times). */
  readonly trace: readonly FrameSpec[];
}

const TC_NULL = 0x70;
const TC_REFERENCE = 0x71;
const TC_CLASSDESC = 0x72;
const TC_OBJECT = 0x73;
const TC_STRING = 0x74;
const TC_ARRAY = 0x75;
const TC_ENDBLOCKDATA = 0x78;
const TC_LONGSTRING = 0x7c;
const BASE = 0x7e0000;

class Out {
  parts: Uint8Array[] = [];
  length = 0;
  handle = 0;
  readonly #strings = new Map<string, number>();

  raw(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u8(...b: number[]): void {
    this.raw(Uint8Array.from(b));
  }
  i32(n: number): void {
    this.u8(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  i64(n: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, n);
    this.raw(b);
  }
  utf(s: string): void {
    const b = enc.encode(s);
    this.u8(b.length >>> 8, b.length & 0xff);
    this.raw(b);
  }
  ref(h: number): void {
    this.u8(TC_REFERENCE);
    this.i32(BASE + h);
  }
  /** The start of a new class descriptor (TC_CLASSDESC, name, serialVersionUID); returns its handle. */
  newClassDesc(name: string, suid: bigint): number {
    this.u8(TC_CLASSDESC);
    this.utf(name);
    this.i64(suid);
    return this.handle++;
  }
  /** A string object (ASCII only), shared by value: written once, referenced after. */
  string(s: string | null): void {
    if (s === null) return this.u8(TC_NULL);
    const h = this.#strings.get(s);
    if (h !== undefined) return this.ref(h);
    const b = enc.encode(s);
    if (b.length > 0xffff) {
      this.u8(TC_LONGSTRING);
      this.i64(BigInt(b.length));
    } else {
      this.u8(TC_STRING, b.length >>> 8, b.length & 0xff);
    }
    this.raw(b);
    this.#strings.set(s, this.handle++);
  }
  /** A string object written fresh (a new handle even if equal to an earlier one). */
  freshString(s: string): void {
    const b = enc.encode(s);
    this.u8(TC_LONGSTRING);
    this.i64(BigInt(b.length));
    this.raw(b);
    this.handle++;
  }
  result(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** The class of `name` Flink sends (its serialVersionUID and superclass). */
function knownClass(name: string): JavaExceptionClass {
  const c = JAVA_EXCEPTION_CLASSES.get(name);
  if (c === undefined) throw new TypeError(`not a class Flink sends: ${name}`);
  return c;
}

/**
 * The stream of a chain of throwables with stack traces. With
 * `freshStrings`, every frame object writes its strings anew (equal contents,
 * distinct objects), as two JVMs' frames would be.
 */
export function throwableStream(
  chain: readonly ThrowableSpec[],
  opts: { freshStrings?: boolean } = {},
): Uint8Array {
  const out = new Out();
  out.u8(0xac, 0xed, 0x00, 0x05);
  const descs = new Map<string, number>();
  const typeStrings = new Map<string, number>();
  const frames = new Map<number, number>();
  let arrayDesc = -1;
  let steDesc = -1;

  const typeString = (s: string): void => {
    const h = typeStrings.get(s);
    if (h !== undefined) return out.ref(h);
    out.u8(TC_STRING);
    out.utf(s);
    typeStrings.set(s, out.handle++);
  };

  const classDesc = (name: string | null): void => {
    if (name === null) return out.u8(TC_NULL);
    const h = descs.get(name);
    if (h !== undefined) return out.ref(h);
    const c = knownClass(name);
    descs.set(name, out.newClassDesc(name, c.serialVersionUID));
    if (name === "java.lang.Throwable") {
      out.u8(0x03);
      out.u8(0, 4);
      out.u8(0x4c), out.utf("cause"), typeString("Ljava/lang/Throwable;");
      out.u8(0x4c), out.utf("detailMessage"), typeString("Ljava/lang/String;");
      out.u8(0x5b), out.utf("stackTrace"), typeString("[Ljava/lang/StackTraceElement;");
      out.u8(0x4c), out.utf("suppressedExceptions"), typeString("Ljava/util/List;");
    } else {
      out.u8(0x02, 0, 0);
    }
    out.u8(TC_ENDBLOCKDATA);
    classDesc(c.superclass);
  };

  const frame = (f: FrameSpec): void => {
    const h = frames.get(f.id);
    if (h !== undefined) return out.ref(h);
    out.u8(TC_OBJECT);
    if (steDesc >= 0) out.ref(steDesc);
    else {
      steDesc = out.newClassDesc("java.lang.StackTraceElement", 0x6109c59a2636dd85n);
      out.u8(0x02, 0, 4);
      out.u8(0x49), out.utf("lineNumber");
      out.u8(0x4c), out.utf("declaringClass"), typeString("Ljava/lang/String;");
      out.u8(0x4c), out.utf("fileName"), typeString("Ljava/lang/String;");
      out.u8(0x4c), out.utf("methodName"), typeString("Ljava/lang/String;");
      out.u8(TC_ENDBLOCKDATA, TC_NULL);
    }
    frames.set(f.id, out.handle++);
    out.i32(f.lineNumber);
    const s = (v: string | null) =>
      v !== null && opts.freshStrings ? out.freshString(v) : out.string(v);
    s(f.declaringClass);
    s(f.fileName);
    s(f.methodName);
  };

  const throwable = (i: number): void => {
    const t = chain[i];
    out.u8(TC_OBJECT);
    classDesc(t.className);
    out.handle++; // the object
    if (i + 1 < chain.length) throwable(i + 1);
    else out.u8(TC_NULL);
    out.string(t.message);
    out.u8(TC_ARRAY);
    if (arrayDesc >= 0) out.ref(arrayDesc);
    else {
      arrayDesc = out.newClassDesc("[Ljava.lang.StackTraceElement;", 0x02462a3c3cfd2239n);
      out.u8(0x02, 0, 0, TC_ENDBLOCKDATA, TC_NULL);
    }
    out.handle++; // the array
    out.i32(t.trace.length);
    for (const f of t.trace) frame(f);
    out.u8(TC_NULL); // suppressedExceptions
    out.u8(TC_ENDBLOCKDATA);
  };
  throwable(0);
  return out.result();
}

/**
 * The largest stack trace `readJavaThrowable` accepts with its default limits:
 * 100 000 elements (maxArrayLength), all one frame whose class, method and
 * file names are 1 MiB strings (maxStringLength), about 4.7 MB in all (4,694,778 bytes). Its
 * `printStackTrace()` text would be about 300 GB.
 */
export function largestTraceStream(className = "java.lang.RuntimeException"): Uint8Array {
  const mib = 1 << 20;
  const f: FrameSpec = {
    id: 0,
    declaringClass: "C".repeat(mib),
    methodName: "m".repeat(mib),
    fileName: "F".repeat(mib - 5) + ".java",
    lineNumber: 42,
  };
  return throwableStream([{ className, message: "M".repeat(mib), trace: Array(100_000).fill(f) }]);
}
