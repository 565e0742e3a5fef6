/**
 * The writer of Java-serialized `Throwable`s (PROTOCOL §3): emits a
 * failure the way JDK 17's `ObjectOutputStream` does, from cached byte
 * templates per class.
 *
 * @module
 */

import { ByteWriter, concatBytes } from "./bytes.ts";
import { javaClassChain, type JavaThrowable } from "./java_throwable.ts";
import {
  BASE_WIRE_HANDLE,
  SC_SERIALIZABLE,
  STREAM_HEADER,
  TC_ARRAY,
  TC_CLASSDESC,
  TC_ENDBLOCKDATA,
  TC_LONGSTRING,
  TC_NULL,
  TC_OBJECT,
  TC_REFERENCE,
  TC_STRING,
  THROWABLE,
} from "./java_stream_constants.ts";

// ---------------------------------------------------------------------------
// Modified UTF-8 (java.io.DataOutput#writeUTF)

/** Encoded length of `s` in modified UTF-8 (U+0000 takes 2 bytes, surrogates 3 each). */
function mutf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || c === 0) n += c >= 0x800 ? 2 : 1;
  }
  return n;
}

/** Writes `s` in modified UTF-8 at `off`; returns the offset after it. */
function putMutf8(out: Uint8Array, off: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0 && c < 0x80) {
      out[off++] = c;
    } else if (c < 0x800) {
      out[off++] = 0xc0 | (c >> 6);
      out[off++] = 0x80 | (c & 0x3f);
    } else {
      out[off++] = 0xe0 | (c >> 12);
      out[off++] = 0x80 | ((c >> 6) & 0x3f);
      out[off++] = 0x80 | (c & 0x3f);
    }
  }
  return off;
}

/** Writes `s` as a string object: TC_NULL, TC_STRING or TC_LONGSTRING. */
function putStringObject(out: Uint8Array, off: number, s: string | null, len: number): number {
  if (s === null) {
    out[off] = TC_NULL;
    return off + 1;
  }
  if (len <= 0xffff) {
    out[off] = TC_STRING;
    out[off + 1] = len >> 8;
    out[off + 2] = len & 0xff;
    return putMutf8(out, off + 3, s);
  }
  out[off] = TC_LONGSTRING;
  // 9-byte header: tag + i64 length (the high 32 bits are 0 below 4 GiB).
  out.fill(0, off + 1, off + 5);
  out[off + 5] = len >>> 24;
  out[off + 6] = (len >>> 16) & 0xff;
  out[off + 7] = (len >>> 8) & 0xff;
  out[off + 8] = len & 0xff;
  return putMutf8(out, off + 9, s);
}

/** Bytes a string object takes, header included. */
function stringObjectSize(s: string | null, len: number): number {
  if (s === null) return 1;
  return (len <= 0xffff ? 3 : 9) + len;
}

// ---------------------------------------------------------------------------
// Writer: cached byte templates

function utf(w: ByteWriter, s: string): void {
  const bytes = new Uint8Array(mutf8Length(s));
  putMutf8(bytes, 0, s);
  w.writeUint16(bytes.length);
  w.writeBytes(bytes);
}

/**
 * A class descriptor without its superclass marker: `72 name suid flags
 * fields 78`. Object fields get their type as a new TC_STRING.
 */
function classDescBytes(
  name: string,
  suid: bigint,
  flags: number,
  fields: readonly (readonly [code: string, name: string, type?: string])[] = [],
): Uint8Array {
  const w = new ByteWriter(128);
  w.writeUint8(TC_CLASSDESC);
  utf(w, name);
  w.writeInt64(suid);
  w.writeUint8(flags);
  w.writeUint16(fields.length);
  for (const [code, fieldName, type] of fields) {
    w.writeUint8(code.charCodeAt(0));
    utf(w, fieldName);
    if (type !== undefined) {
      w.writeUint8(TC_STRING);
      utf(w, type);
    }
  }
  w.writeUint8(TC_ENDBLOCKDATA);
  return w.toBytes().slice();
}

/** Throwable's descriptor, with its four object fields (4 handles for the type strings). */
const THROWABLE_FIELDS = [
  ["L", "cause", "Ljava/lang/Throwable;"],
  ["L", "detailMessage", "Ljava/lang/String;"],
  ["[", "stackTrace", "[Ljava/lang/StackTraceElement;"],
  ["L", "suppressedExceptions", "Ljava/util/List;"],
] as const;

/** `[Ljava.lang.StackTraceElement;` descriptor + TC_NULL super (JDK 17 SUID). */
const STACK_TRACE_ARRAY_DESC = concatBytes([
  classDescBytes("[Ljava.lang.StackTraceElement;", 0x02462a3c3cfd2239n, SC_SERIALIZABLE),
  Uint8Array.of(TC_NULL),
]);
/** `java.util.Collections$EmptyList` descriptor + TC_NULL super (JDK 17 SUID). */
const EMPTY_LIST_DESC = concatBytes([
  classDescBytes("java.util.Collections$EmptyList", 0x7ab817b43ca79eden, SC_SERIALIZABLE),
  Uint8Array.of(TC_NULL),
]);
/**
 * What follows the message of the first (innermost) throwable in a stream:
 * a new empty `StackTraceElement[]`, a new `Collections.EMPTY_LIST`, and the
 * end of Throwable's `writeObject` data.
 */
const FIRST_TAIL = concatBytes([
  Uint8Array.of(TC_ARRAY),
  STACK_TRACE_ARRAY_DESC,
  Uint8Array.of(0, 0, 0, 0, TC_OBJECT),
  EMPTY_LIST_DESC,
  Uint8Array.of(TC_ENDBLOCKDATA),
]);

/** One class of a chain, as the writer emits it. */
interface DescTemplate {
  readonly name: string;
  /** `72 … 78` without the superclass marker. */
  readonly bytes: Uint8Array;
  /** Handles it takes: 1, or 5 for Throwable (its four field type strings). */
  readonly handles: number;
}

/** Everything the writer needs for one class, computed once. */
interface ClassPlan {
  readonly chain: readonly DescTemplate[];
  /**
   * The start of a stream whose first object is of this class, up to and
   * including the "no cause" self-reference: `aced0005 73 <descs> 70 71 <h>`.
   */
  readonly fresh: Uint8Array;
}

const DESC_TEMPLATES = new Map<string, DescTemplate>();
const PLANS = new Map<string, ClassPlan>();

function descTemplate(name: string, suid: bigint): DescTemplate {
  let t = DESC_TEMPLATES.get(name);
  if (t === undefined) {
    t = name === THROWABLE
      ? { name, bytes: classDescBytes(name, suid, 0x03, THROWABLE_FIELDS), handles: 5 }
      : { name, bytes: classDescBytes(name, suid, SC_SERIALIZABLE), handles: 1 };
    DESC_TEMPLATES.set(name, t);
  }
  return t;
}

/** The plan of a class; throws TypeError for a class not in JAVA_EXCEPTION_CLASSES. */
function planFor(className: string): ClassPlan {
  let plan = PLANS.get(className);
  if (plan === undefined) {
    const chain = javaClassChain(className).map((c) => descTemplate(c.name, c.serialVersionUID));
    let handles = 0;
    for (const d of chain) handles += d.handles;
    const self = BASE_WIRE_HANDLE + handles;
    plan = {
      chain,
      fresh: concatBytes([
        STREAM_HEADER,
        Uint8Array.of(TC_OBJECT),
        ...chain.map((d) => d.bytes),
        Uint8Array.of(
          TC_NULL,
          TC_REFERENCE,
          self >>> 24,
          (self >>> 16) & 0xff,
          (self >>> 8) & 0xff,
          self & 0xff,
        ),
      ]),
    };
    PLANS.set(className, plan);
  }
  return plan;
}

/** A growable output buffer for the general (cause chain) path. */
class Out {
  buf: Uint8Array;
  len = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  byte(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }

  int32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.len++] = v >>> 24;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = v & 0xff;
  }

  reference(handle: number): void {
    this.byte(TC_REFERENCE);
    this.int32(BASE_WIRE_HANDLE + handle);
  }

  string(s: string | null): void {
    const len = s === null ? 0 : mutf8Length(s);
    this.ensure(stringObjectSize(s, len));
    this.len = putStringObject(this.buf, this.len, s, len);
  }

  result(): Uint8Array {
    return this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
  }
}

/**
 * Serializes a throwable and its cause chain into one Java serialization
 * stream (`AC ED 00 05 …`), byte for byte as JDK 17's `ObjectOutputStream`
 * writes it for an exception whose stack trace is empty: class descriptors
 * most derived first, "no cause" as a reference to the object itself, the
 * message in modified UTF-8 (`TC_LONGSTRING` above 65535 bytes), an empty
 * `StackTraceElement[]`, and `Collections.EMPTY_LIST` as the suppressed
 * exceptions. Descriptors and the empty list already in the stream are
 * written as references, as Java does for nested causes.
 *
 * Only the classes of {@linkcode JAVA_EXCEPTION_CLASSES} can be written (a
 * Java peer fails its whole connection on any other); `stackTrace` and
 * `classHierarchy` of the input are ignored. A cause chain that loops back
 * is written with a back-reference, as Java writes it.
 *
 * @example Flink's "no state for this key" failure
 * ```ts
 * import { javaThrowable, toHex, writeJavaThrowable } from "@kvstate/queryable-state/wire";
 *
 * const bytes = writeJavaThrowable(javaThrowable(
 *   "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
 *   "Queryable State Server : No state for the specified key/namespace.",
 * ));
 * toHex(bytes.subarray(0, 5)); // => "aced000573"
 * bytes.length; // => 567
 * ```
 *
 * @param t The throwable; its class and every cause's class must be in the table.
 * @returns A new array holding the stream.
 * @throws {TypeError} When a class of the chain is not in {@linkcode JAVA_EXCEPTION_CLASSES}.
 */
export function writeJavaThrowable(t: JavaThrowable): Uint8Array {
  const plan = planFor(t.className);
  const cause = t.cause;
  if (cause !== null && cause !== t) return writeChain(t);
  // Common case: one throwable, everything in it new to the stream.
  const msg = t.message ?? null;
  const len = msg === null ? 0 : mutf8Length(msg);
  const fresh = plan.fresh;
  const out = new Uint8Array(fresh.length + stringObjectSize(msg, len) + FIRST_TAIL.length);
  out.set(fresh, 0);
  out.set(FIRST_TAIL, putStringObject(out, fresh.length, msg, len));
  return out;
}

function writeChain(top: JavaThrowable): Uint8Array {
  // Walk the cause chain (no recursion: a chain may be long).
  const chain: JavaThrowable[] = [];
  const plans: ClassPlan[] = [];
  const index = new Map<JavaThrowable, number>();
  let last = -1; // index of the throwable the innermost cause field refers to; -1 = itself
  let capacity = 16;
  for (let cur: JavaThrowable = top;;) {
    index.set(cur, chain.length);
    chain.push(cur);
    const plan = planFor(cur.className);
    plans.push(plan);
    const msg = cur.message ?? null;
    capacity += plan.fresh.length + FIRST_TAIL.length + (msg === null ? 1 : 9 + 3 * msg.length);
    const next = cur.cause;
    if (next === null || next === cur) break;
    const seen = index.get(next);
    if (seen !== undefined) {
      last = seen;
      break;
    }
    cur = next;
  }

  const out = new Out(capacity);
  out.bytes(STREAM_HEADER);
  let handle = 0;
  const descHandles = new Map<string, number>();
  const objHandles: number[] = [];
  // Object headers, outermost first: each object's first field is its cause.
  for (const plan of plans) {
    out.byte(TC_OBJECT);
    let linked = false;
    for (const d of plan.chain) {
      const h = descHandles.get(d.name);
      if (h !== undefined) {
        out.reference(h);
        linked = true;
        break;
      }
      out.bytes(d.bytes);
      descHandles.set(d.name, handle);
      handle += d.handles;
    }
    if (!linked) out.byte(TC_NULL);
    objHandles.push(handle++);
  }
  out.reference(objHandles[last < 0 ? chain.length - 1 : last]);
  // The rest of each object, innermost first.
  let arrayDesc = -1;
  let emptyList = -1;
  for (let i = chain.length - 1; i >= 0; i--) {
    const msg = chain[i].message ?? null;
    out.string(msg);
    if (msg !== null) handle++;
    out.byte(TC_ARRAY);
    if (arrayDesc < 0) {
      out.bytes(STACK_TRACE_ARRAY_DESC);
      arrayDesc = handle++;
    } else {
      out.reference(arrayDesc);
    }
    handle++; // the array
    out.int32(0);
    if (emptyList < 0) {
      out.byte(TC_OBJECT);
      out.bytes(EMPTY_LIST_DESC);
      emptyList = handle + 1;
      handle += 2;
    } else {
      out.reference(emptyList);
    }
    out.byte(TC_ENDBLOCKDATA);
  }
  return out.result();
}
