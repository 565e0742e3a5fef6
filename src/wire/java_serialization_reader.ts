/**
 * The reader of Java-serialized `Throwable`s (PROTOCOL §3): parses any
 * serialization stream holding a `Throwable` into a
 * {@linkcode JavaThrowable}. It parses, it never executes: nothing in the
 * stream is looked up, instantiated or called. It enforces
 * {@linkcode JavaSerializationLimits} and reports every problem
 * (malformed, truncated, over a limit, not a Throwable) as a
 * {@linkcode JavaSerializationError}.
 *
 * @module
 */

import { ByteReader } from "./bytes.ts";
import { JavaSerializationError, ProtocolError } from "./errors.ts";
import type { JavaStackFrame, JavaThrowable } from "./java_throwable.ts";
import {
  BASE_WIRE_HANDLE,
  CODE_ARRAY,
  CODE_OBJECT,
  PRIMITIVE_SIZE,
  SC_BLOCK_DATA,
  SC_EXTERNALIZABLE,
  SC_SERIALIZABLE,
  SC_WRITE_METHOD,
  STACK_TRACE_ELEMENT,
  STREAM_MAGIC,
  STREAM_VERSION,
  TC_ARRAY,
  TC_BLOCKDATA,
  TC_BLOCKDATALONG,
  TC_CLASS,
  TC_CLASSDESC,
  TC_ENDBLOCKDATA,
  TC_ENUM,
  TC_EXCEPTION,
  TC_LONGSTRING,
  TC_NULL,
  TC_OBJECT,
  TC_PROXYCLASSDESC,
  TC_REFERENCE,
  TC_RESET,
  TC_STRING,
  THROWABLE,
} from "./java_stream_constants.ts";

// ---------------------------------------------------------------------------
// Reader

/**
 * Bounds the {@linkcode readJavaThrowable} parser enforces, so that a hostile
 * or broken peer cannot make it use unbounded memory, time or stack.
 *
 * @example Tighter limits for one call
 * ```ts
 * import {
 *   type JavaSerializationLimits,
 *   DEFAULT_JAVA_SERIALIZATION_LIMITS,
 * } from "@kvstate/queryable-state/wire";
 *
 * const limits: JavaSerializationLimits = { ...DEFAULT_JAVA_SERIALIZATION_LIMITS, maxBytes: 65536 };
 * limits.maxDepth; // => 64
 * ```
 */
export interface JavaSerializationLimits {
  /** Largest stream accepted, in bytes. */
  readonly maxBytes: number;
  /**
   * Deepest nesting of contents (objects, arrays, class descriptors inside
   * one another), longest class hierarchy, and longest cause chain.
   */
  readonly maxDepth: number;
  /** Most handles (objects, strings, class descriptors, arrays…) one stream may create. */
  readonly maxHandles: number;
  /** Longest string, in encoded (modified UTF-8) bytes. */
  readonly maxStringLength: number;
  /** Most elements in one array. */
  readonly maxArrayLength: number;
}

/**
 * The limits {@linkcode readJavaThrowable} uses by default: 16 MiB, nesting
 * 64, 100 000 handles, 1 MiB strings, 100 000 array elements. Real Flink
 * failures (a few kilobytes, a dozen causes, a few hundred stack frames) are
 * far below them.
 *
 * @example
 * ```ts
 * import { DEFAULT_JAVA_SERIALIZATION_LIMITS } from "@kvstate/queryable-state/wire";
 *
 * DEFAULT_JAVA_SERIALIZATION_LIMITS.maxBytes; // => 16777216
 * ```
 */
export const DEFAULT_JAVA_SERIALIZATION_LIMITS: Readonly<JavaSerializationLimits> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxHandles: 100_000,
  maxStringLength: 1024 * 1024,
  maxArrayLength: 100_000,
});

/** A class descriptor read from the stream. */
interface Desc {
  readonly kind: "desc";
  name: string;
  flags: number;
  readonly fields: Field[];
  superDesc: Desc | null;
  /** Set once the superclass is known; only complete descriptors can be used. */
  complete: boolean;
  /** Number of classes from this one up to the top of its hierarchy. */
  chainLength: number;
  /** The hierarchy top-down, computed on first use. */
  topDown: Desc[] | null;
}

interface Field {
  readonly code: number;
  readonly name: string;
}

type FieldValue = Value | number | bigint | boolean;

interface Slot {
  readonly desc: Desc;
  readonly values: Map<string, FieldValue>;
}

interface Obj {
  readonly kind: "object";
  readonly desc: Desc;
  readonly slots: Slot[];
}

interface Arr {
  readonly kind: "array";
  readonly desc: Desc;
  /** The elements of an object array; `null` for a primitive array (skipped). */
  elements: Value[] | null;
}

interface EnumConst {
  readonly kind: "enum";
  readonly desc: Desc;
  name: string;
}

interface ClassObj {
  readonly kind: "class";
  readonly desc: Desc;
}

type Value = null | string | Obj | Arr | EnumConst | ClassObj | Desc;

/** Describes a value for an error message, with its article: "a string", "an object of X"… */
function kindOf(v: FieldValue | undefined): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return "a string";
  if (typeof v !== "object") return `a ${typeof v}`;
  switch (v.kind) {
    case "object":
      return `an object of ${v.desc.name}`;
    case "array":
      return `an array of ${v.desc.name}`;
    case "enum":
      return `an enum constant of ${v.desc.name}`;
    case "class":
      return "a class";
    default:
      return "a class descriptor";
  }
}

function hex2(b: number): string {
  return "0x" + b.toString(16).padStart(2, "0");
}

/** The stream parser: one instance per stream. */
class Parser {
  readonly #r: ByteReader;
  readonly #limits: JavaSerializationLimits;
  #handles: (Exclude<Value, null>)[] = [];
  #handleCount = 0;
  #depth = 0;
  #chars: Uint16Array = new Uint16Array(256);

  constructor(bytes: Uint8Array, limits: JavaSerializationLimits) {
    this.#r = new ByteReader(bytes);
    this.#limits = limits;
  }

  #fail(message: string, at = this.#r.offset): never {
    throw new JavaSerializationError(
      `Invalid Java serialization stream at offset ${at}: ${message}`,
    );
  }

  /** Reads the header and the first object; checks it is a Throwable. */
  readTopObject(): Obj {
    const r = this.#r;
    const magic = r.readUint16();
    if (magic !== STREAM_MAGIC) {
      this.#fail(`bad stream magic 0x${magic.toString(16).padStart(4, "0")}, expected 0xaced`, 0);
    }
    const version = r.readUint16();
    if (version !== STREAM_VERSION) this.#fail(`unsupported stream version ${version}`, 2);
    let tc = r.readUint8();
    while (tc === TC_RESET) {
      this.#handles = [];
      tc = r.readUint8();
    }
    const start = r.offset - 1;
    this.#enter();
    const top = this.#dispatch(tc);
    this.#depth--;
    if (top === null || typeof top === "string" || top.kind !== "object") {
      this.#fail(`the stream holds ${kindOf(top)}, not a java.lang.Throwable`, start);
    }
    if (!isThrowableClass(top.desc)) {
      this.#fail(`${top.desc.name} is not a java.lang.Throwable`, start);
    }
    return top;
  }

  #enter(): void {
    if (++this.#depth > this.#limits.maxDepth) {
      this.#fail(`nesting deeper than maxDepth (${this.#limits.maxDepth})`);
    }
  }

  #assign(v: Exclude<Value, null>): void {
    if (++this.#handleCount > this.#limits.maxHandles) {
      this.#fail(`more than maxHandles (${this.#limits.maxHandles}) objects`);
    }
    this.#handles.push(v);
  }

  #reference(): Exclude<Value, null> {
    const at = this.#r.offset - 1;
    const raw = this.#r.readInt32();
    const i = raw - BASE_WIRE_HANDLE;
    if (i < 0 || i >= this.#handles.length) {
      this.#fail(`reference to unknown handle 0x${(raw >>> 0).toString(16)}`, at);
    }
    return this.#handles[i];
  }

  /** One content item (a field value, array element or annotation item). */
  #content(): Value {
    this.#enter();
    const v = this.#dispatch(this.#r.readUint8());
    this.#depth--;
    return v;
  }

  #dispatch(tc: number): Value {
    switch (tc) {
      case TC_NULL:
        return null;
      case TC_REFERENCE:
        return this.#reference();
      case TC_OBJECT:
        return this.#newObject();
      case TC_STRING:
        return this.#newString(this.#r.readUint16());
      case TC_LONGSTRING:
        return this.#newString(this.#longLength());
      case TC_ARRAY:
        return this.#newArray();
      case TC_ENUM:
        return this.#newEnum();
      case TC_CLASS: {
        const c: ClassObj = { kind: "class", desc: this.#usableDesc() };
        this.#assign(c);
        return c;
      }
      case TC_CLASSDESC:
        return this.#newClassDesc();
      case TC_PROXYCLASSDESC:
        return this.#newProxyDesc();
      case TC_RESET:
        return this.#fail("TC_RESET inside an object", this.#r.offset - 1);
      case TC_EXCEPTION:
        return this.#fail("TC_EXCEPTION: the writer aborted the stream", this.#r.offset - 1);
      case TC_BLOCKDATA:
      case TC_BLOCKDATALONG:
      case TC_ENDBLOCKDATA:
        return this.#fail(`unexpected block data marker ${hex2(tc)}`, this.#r.offset - 1);
      default:
        return this.#fail(`invalid type code ${hex2(tc)}`, this.#r.offset - 1);
    }
  }

  #longLength(): number {
    const at = this.#r.offset;
    const n = this.#r.readInt64();
    if (n < 0n || Number(n) > this.#limits.maxStringLength) {
      this.#fail(
        `long string length ${n} out of range (maxStringLength ${this.#limits.maxStringLength})`,
        at,
      );
    }
    return Number(n);
  }

  #newString(len: number): string {
    const s = this.#utfBody(len);
    this.#assign(s);
    return s;
  }

  /** A u16-length-prefixed modified UTF-8 string (class and field names). */
  #utf(): string {
    return this.#utfBody(this.#r.readUint16());
  }

  /** Decodes `len` bytes of modified UTF-8, as Java's readUTF accepts it. */
  #utfBody(len: number): string {
    const r = this.#r;
    const start = r.offset;
    if (len > this.#limits.maxStringLength) {
      this.#fail(
        `string of ${len} bytes exceeds maxStringLength (${this.#limits.maxStringLength})`,
      );
    }
    const b = r.readBytes(len);
    if (this.#chars.length < len) this.#chars = new Uint16Array(len);
    const chars = this.#chars;
    let n = 0;
    for (let i = 0; i < len;) {
      const b1 = b[i];
      if (b1 < 0x80) {
        chars[n++] = b1;
        i++;
      } else if ((b1 & 0xe0) === 0xc0) {
        if (i + 1 >= len || (b[i + 1] & 0xc0) !== 0x80) {
          this.#fail("malformed modified UTF-8", start + i);
        }
        chars[n++] = ((b1 & 0x1f) << 6) | (b[i + 1] & 0x3f);
        i += 2;
      } else if ((b1 & 0xf0) === 0xe0) {
        if (i + 2 >= len || (b[i + 1] & 0xc0) !== 0x80 || (b[i + 2] & 0xc0) !== 0x80) {
          this.#fail("malformed modified UTF-8", start + i);
        }
        chars[n++] = ((b1 & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
        i += 3;
      } else {
        this.#fail("malformed modified UTF-8", start + i);
      }
    }
    let s = "";
    for (let i = 0; i < n; i += 8192) {
      s += String.fromCharCode.apply(
        null,
        chars.subarray(i, Math.min(n, i + 8192)) as unknown as number[],
      );
    }
    return s;
  }

  /** A string where the grammar requires one: new, or a reference to one. */
  #stringObject(what: string): string {
    const at = this.#r.offset;
    const tc = this.#r.readUint8();
    if (tc === TC_STRING) return this.#newString(this.#r.readUint16());
    if (tc === TC_LONGSTRING) return this.#newString(this.#longLength());
    if (tc === TC_REFERENCE) {
      const v = this.#reference();
      if (typeof v === "string") return v;
      return this.#fail(`${what}: reference to ${kindOf(v)}, expected a string`, at);
    }
    return this.#fail(`${what}: expected a string, found ${hex2(tc)}`, at);
  }

  /** A class descriptor position: new, proxy, null or reference. */
  #classDesc(): Desc | null {
    const at = this.#r.offset;
    const tc = this.#r.readUint8();
    switch (tc) {
      case TC_NULL:
        return null;
      case TC_CLASSDESC:
        return this.#newClassDesc();
      case TC_PROXYCLASSDESC:
        return this.#newProxyDesc();
      case TC_REFERENCE: {
        const v = this.#reference();
        if (typeof v === "object" && v.kind === "desc") return v;
        return this.#fail(`reference to ${kindOf(v)} where a class descriptor belongs`, at);
      }
      default:
        return this.#fail(`expected a class descriptor, found ${hex2(tc)}`, at);
    }
  }

  /** A non-null, complete class descriptor (for an object, array, enum or class). */
  #usableDesc(): Desc {
    const at = this.#r.offset;
    const d = this.#classDesc();
    if (d === null) this.#fail("null class descriptor", at);
    if (!d.complete) this.#fail(`class descriptor ${d.name} used before it is complete`, at);
    return d;
  }

  #newClassDesc(): Desc {
    this.#enter();
    const r = this.#r;
    const name = this.#utf();
    r.skip(8); // serialVersionUID
    const desc: Desc = {
      kind: "desc",
      name,
      flags: 0,
      fields: [],
      superDesc: null,
      complete: false,
      chainLength: 0,
      topDown: null,
    };
    this.#assign(desc);
    const flags = desc.flags = r.readUint8();
    if ((flags & SC_SERIALIZABLE) !== 0 && (flags & SC_EXTERNALIZABLE) !== 0) {
      this.#fail(`class ${name}: serializable and externalizable flags conflict`, r.offset - 1);
    }
    const count = r.readUint16();
    for (let i = 0; i < count; i++) {
      const at = r.offset;
      const code = r.readUint8();
      const fieldName = this.#utf();
      if (code === CODE_OBJECT || code === CODE_ARRAY) {
        const type = this.#stringObject(`field ${name}.${fieldName}`);
        const t0 = type.charCodeAt(0);
        if (t0 !== CODE_OBJECT && t0 !== CODE_ARRAY) {
          this.#fail(`field ${name}.${fieldName} has an invalid type ${JSON.stringify(type)}`, at);
        }
      } else if (code >= 128 || PRIMITIVE_SIZE[code] === 0) {
        this.#fail(`field ${name}.${fieldName} has an invalid type code ${hex2(code)}`, at);
      }
      desc.fields.push({ code, name: fieldName });
    }
    this.#annotation();
    this.#linkSuper(desc);
    this.#depth--;
    return desc;
  }

  #newProxyDesc(): Desc {
    this.#enter();
    const r = this.#r;
    const desc: Desc = {
      kind: "desc",
      name: "",
      flags: SC_SERIALIZABLE,
      fields: [],
      superDesc: null,
      complete: false,
      chainLength: 0,
      topDown: null,
    };
    this.#assign(desc);
    const at = r.offset;
    const count = r.readInt32();
    if (count < 0 || count > 65535) this.#fail(`proxy class with ${count} interfaces`, at);
    const names: string[] = [];
    for (let i = 0; i < count; i++) names.push(this.#utf());
    desc.name = `$Proxy(${names.join(", ")})`;
    this.#annotation();
    this.#linkSuper(desc);
    this.#depth--;
    return desc;
  }

  #linkSuper(desc: Desc): void {
    const at = this.#r.offset;
    const sup = this.#classDesc();
    if (sup !== null && !sup.complete) {
      this.#fail(`class ${desc.name}: superclass ${sup.name} is not complete (cycle)`, at);
    }
    desc.superDesc = sup;
    desc.chainLength = 1 + (sup === null ? 0 : sup.chainLength);
    if (desc.chainLength > this.#limits.maxDepth) {
      this.#fail(
        `class ${desc.name}: hierarchy deeper than maxDepth (${this.#limits.maxDepth})`,
        at,
      );
    }
    desc.complete = true;
  }

  /** Skips an annotation: contents and block data up to TC_ENDBLOCKDATA. */
  #annotation(): void {
    const r = this.#r;
    for (;;) {
      const tc = r.readUint8();
      if (tc === TC_ENDBLOCKDATA) return;
      if (tc === TC_BLOCKDATA) {
        r.skip(r.readUint8());
      } else if (tc === TC_BLOCKDATALONG) {
        const at = r.offset;
        const n = r.readInt32();
        if (n < 0) this.#fail(`negative block data length ${n}`, at);
        r.skip(n);
      } else {
        this.#enter();
        this.#dispatch(tc);
        this.#depth--;
      }
    }
  }

  #newObject(): Obj {
    const at = this.#r.offset - 1;
    const desc = this.#usableDesc();
    const obj: Obj = { kind: "object", desc, slots: [] };
    this.#assign(obj);
    if ((desc.flags & SC_EXTERNALIZABLE) !== 0) {
      if ((desc.flags & SC_BLOCK_DATA) === 0) {
        this.#fail(`externalizable ${desc.name} without block data cannot be parsed`, at);
      }
      this.#annotation();
      return obj;
    }
    for (const d of topDown(desc)) {
      const values = new Map<string, FieldValue>();
      obj.slots.push({ desc: d, values });
      for (const f of d.fields) values.set(f.name, this.#fieldValue(f.code));
      if ((d.flags & SC_WRITE_METHOD) !== 0) this.#annotation();
    }
    return obj;
  }

  #fieldValue(code: number): FieldValue {
    const r = this.#r;
    switch (code) {
      case 0x42:
        return r.readInt8();
      case 0x43:
        return r.readUint16();
      case 0x44:
        return r.readFloat64();
      case 0x46:
        return r.readFloat32();
      case 0x49:
        return r.readInt32();
      case 0x4a:
        return r.readInt64();
      case 0x53:
        return r.readInt16();
      case 0x5a:
        return r.readUint8() !== 0;
      default:
        return this.#content();
    }
  }

  #newArray(): Arr {
    const r = this.#r;
    const desc = this.#usableDesc();
    const name = desc.name;
    const code = name.charCodeAt(1);
    if (name.charCodeAt(0) !== CODE_ARRAY || !(code < 128)) {
      this.#fail(`array of class ${JSON.stringify(name)}, which is not an array class`);
    }
    const arr: Arr = { kind: "array", desc, elements: null };
    this.#assign(arr);
    const at = r.offset;
    const size = r.readInt32();
    if (size < 0) this.#fail(`negative array size ${size}`, at);
    if (size > this.#limits.maxArrayLength) {
      this.#fail(
        `array of ${size} elements exceeds maxArrayLength (${this.#limits.maxArrayLength})`,
        at,
      );
    }
    const elementSize = PRIMITIVE_SIZE[code];
    if (elementSize !== 0) {
      r.skip(size * elementSize);
    } else if (code === CODE_OBJECT || code === CODE_ARRAY) {
      r.require(size); // every element takes at least one byte
      const elements: Value[] = new Array(size);
      for (let i = 0; i < size; i++) elements[i] = this.#content();
      arr.elements = elements;
    } else {
      this.#fail(`array class ${JSON.stringify(name)} has an invalid element type`, at);
    }
    return arr;
  }

  #newEnum(): EnumConst {
    const e: EnumConst = { kind: "enum", desc: this.#usableDesc(), name: "" };
    this.#assign(e);
    e.name = this.#stringObject("enum constant name");
    return e;
  }
}

/** The hierarchy of a complete descriptor, top-most superclass first. */
function topDown(desc: Desc): Desc[] {
  if (desc.topDown === null) {
    const list: Desc[] = [];
    for (let d: Desc | null = desc; d !== null; d = d.superDesc) list.push(d);
    desc.topDown = list.reverse();
  }
  return desc.topDown;
}

function isThrowableClass(desc: Desc): boolean {
  for (let d: Desc | null = desc; d !== null; d = d.superDesc) {
    if (d.name === THROWABLE) return true;
  }
  return false;
}

function isThrowable(v: FieldValue | undefined): v is Obj {
  return typeof v === "object" && v !== null && v.kind === "object" && isThrowableClass(v.desc);
}

/**
 * JDK classes that keep their cause in a field of their own, set `Throwable.cause`
 * to null and override `getCause()` to return that field.
 */
const LEGACY_CAUSE_FIELDS: ReadonlyMap<string, string> = new Map([
  ["java.lang.reflect.InvocationTargetException", "target"],
  ["java.rmi.RemoteException", "detail"],
  ["java.io.WriteAbortedException", "detail"],
]);

/** What Java's `getCause()` would return, before the "itself means none" rule. */
function causeOf(obj: Obj): FieldValue | undefined {
  const cause = slotOf(obj, THROWABLE)?.get("cause");
  if (cause !== null) return cause;
  for (const s of obj.slots) {
    const field = LEGACY_CAUSE_FIELDS.get(s.desc.name);
    if (field !== undefined) return s.values.get(field) ?? null;
  }
  return null;
}

/** The field values of the class named `className` in an object's hierarchy. */
function slotOf(obj: Obj, className: string): Map<string, FieldValue> | undefined {
  for (const s of obj.slots) if (s.desc.name === className) return s.values;
  return undefined;
}

/** Turns parsed objects into the {@linkcode JavaThrowable} model, Java's way. */
class Converter {
  readonly #maxDepth: number;
  readonly #traces = new Map<Arr, readonly JavaStackFrame[]>();
  readonly #frames = new Map<Obj, JavaStackFrame>();

  constructor(maxDepth: number) {
    this.#maxDepth = maxDepth;
  }

  throwable(top: Obj): JavaThrowable {
    // The cause chain, outermost first; iterative, so a long chain cannot overflow the stack.
    const chain: Obj[] = [];
    const seen = new Set<Obj>();
    for (let cur: Obj | null = top; cur !== null;) {
      if (chain.length >= this.#maxDepth) {
        this.#fail(`cause chain longer than maxDepth (${this.#maxDepth})`);
      }
      chain.push(cur);
      seen.add(cur);
      const cause = causeOf(cur);
      if (cause === undefined || cause === null || cause === cur) {
        cur = null; // null or itself: no cause
      } else if (isThrowable(cause)) {
        cur = seen.has(cause) ? null : cause; // a loop back into the chain is cut here
      } else {
        this.#fail(`${cur.desc.name}.cause holds ${kindOf(cause)}, not a Throwable`);
      }
    }
    let result: JavaThrowable | null = null;
    for (let i = chain.length - 1; i >= 0; i--) {
      const obj = chain[i];
      const fields = slotOf(obj, THROWABLE);
      const message = fields?.get("detailMessage") ?? null;
      if (message !== null && typeof message !== "string") {
        this.#fail(`${obj.desc.name}.detailMessage holds ${kindOf(message)}, not a String`);
      }
      const classHierarchy: string[] = [];
      for (let d: Desc | null = obj.desc; d !== null; d = d.superDesc) classHierarchy.push(d.name);
      result = {
        className: obj.desc.name,
        message,
        cause: result,
        stackTrace: this.#stackTrace(obj, fields?.get("stackTrace")),
        classHierarchy,
      };
    }
    return result!;
  }

  #fail(message: string): never {
    throw new JavaSerializationError(`Invalid Java serialization stream: ${message}`);
  }

  #stackTrace(owner: Obj, v: FieldValue | undefined): readonly JavaStackFrame[] {
    if (v === undefined || v === null) return [];
    if (typeof v !== "object" || v.kind !== "array" || v.elements === null) {
      return this.#fail(`${owner.desc.name}.stackTrace holds ${kindOf(v)}`);
    }
    let trace = this.#traces.get(v);
    if (trace === undefined) {
      const elements = v.elements;
      // Java's sentinel for "no stack trace": one null element.
      if (elements.length === 1 && elements[0] === null) {
        trace = [];
      } else {
        trace = elements.map((e) => this.#frame(owner, e));
      }
      this.#traces.set(v, trace);
    }
    return trace;
  }

  #frame(owner: Obj, e: Value): JavaStackFrame {
    if (e === null || typeof e !== "object" || e.kind !== "object") {
      return this.#fail(`${owner.desc.name}.stackTrace holds ${kindOf(e)}`);
    }
    let frame = this.#frames.get(e);
    if (frame === undefined) {
      const f = slotOf(e, STACK_TRACE_ELEMENT);
      if (f === undefined) {
        return this.#fail(`${owner.desc.name}.stackTrace holds a ${e.desc.name}`);
      }
      const str = (name: string): string | null => {
        const s = f.get(name) ?? null;
        if (s !== null && typeof s !== "string") {
          this.#fail(`StackTraceElement.${name} holds ${kindOf(s)}, not a String`);
        }
        return s;
      };
      const line = f.get("lineNumber");
      const format = f.get("format");
      const bits = typeof format === "number" ? format : 0;
      frame = {
        declaringClass: str("declaringClass") ?? "",
        methodName: str("methodName") ?? "",
        fileName: str("fileName"),
        lineNumber: typeof line === "number" ? line : 0,
        // Java 9+ `format` bits: 1 = built-in class loader (not printed), 2 = JDK module (version not printed).
        classLoaderName: (bits & 1) !== 0 ? null : str("classLoaderName"),
        moduleName: str("moduleName"),
        moduleVersion: (bits & 2) !== 0 ? null : str("moduleVersion"),
      };
      this.#frames.set(e, frame);
    }
    return frame;
  }
}

function resolveLimits(
  limits: Partial<JavaSerializationLimits> | undefined,
): JavaSerializationLimits {
  if (limits === undefined) return DEFAULT_JAVA_SERIALIZATION_LIMITS;
  const l = { ...DEFAULT_JAVA_SERIALIZATION_LIMITS, ...limits };
  for (const [k, v] of Object.entries(l)) {
    if (typeof v !== "number" || !(v >= 0)) {
      throw new RangeError(`JavaSerializationLimits.${k} must be a non-negative number, got ${v}`);
    }
  }
  return l;
}

/**
 * Parses a Java serialization stream (`AC ED 00 05 …`) whose first object is
 * a `Throwable`, as Flink sends in REQUEST_FAILURE and SERVER_FAILURE
 * bodies, into a {@linkcode JavaThrowable}: class name, message, cause chain,
 * stack trace and the class hierarchy as named in the stream.
 *
 * It is a generic parser of the serialization grammar (objects, class and
 * proxy descriptors, strings, arrays, enums, classes, references, resets,
 * block data, `writeObject` and `Externalizable` data), so it reads what any
 * JDK writes, stack frames and suppressed exceptions included; bytes after
 * the first object are ignored, as Java ignores them. It only parses: no
 * class is looked up and no code runs. "No cause" is a cause field that is
 * null or the object itself; a cause chain that loops back is cut where it
 * does. The few JDK classes that keep their cause in a field of their own
 * (`InvocationTargetException.target`, `RemoteException.detail`,
 * `WriteAbortedException.detail`) get it from there, as `getCause()` does. Stack frames follow Java's `StackTraceElement.toString()`: the class
 * loader name is `null` for the built-in loaders and the module version is
 * `null` for JDK modules (their `format` bits).
 *
 * @example Round trip through the writer
 * ```ts
 * import {
 *   javaThrowable,
 *   readJavaThrowable,
 *   writeJavaThrowable,
 * } from "@kvstate/queryable-state/wire";
 *
 * const t = readJavaThrowable(writeJavaThrowable(javaThrowable(
 *   "java.lang.RuntimeException", "outer",
 *   javaThrowable("java.lang.IllegalStateException", "inner"),
 * )));
 * t.className; // => "java.lang.RuntimeException"
 * t.message; // => "outer"
 * t.cause?.className; // => "java.lang.IllegalStateException"
 * t.cause?.cause; // => null
 * t.classHierarchy; // => ["java.lang.RuntimeException", "java.lang.Exception", "java.lang.Throwable"]
 * ```
 *
 * @example Garbage is a JavaSerializationError
 * ```ts
 * import { JavaSerializationError, readJavaThrowable } from "@kvstate/queryable-state/wire";
 *
 * try {
 *   readJavaThrowable(new Uint8Array([0xac, 0xed, 0x00, 0x05, 0x73]));
 * } catch (e) {
 *   e instanceof JavaSerializationError; // => true
 * }
 * ```
 *
 * @param bytes The stream; it may be a view into a larger frame.
 * @param limits Bounds to enforce; missing ones come from {@linkcode DEFAULT_JAVA_SERIALIZATION_LIMITS}.
 * @returns The throwable.
 * @throws {JavaSerializationError} When the stream is malformed, truncated, over a limit, or its first object is not a Throwable.
 * @throws {RangeError} When a limit is not a non-negative number.
 */
export function readJavaThrowable(
  bytes: Uint8Array,
  limits?: Partial<JavaSerializationLimits>,
): JavaThrowable {
  const l = resolveLimits(limits);
  if (bytes.length > l.maxBytes) {
    throw new JavaSerializationError(
      `Java serialization stream of ${bytes.length} bytes exceeds maxBytes (${l.maxBytes})`,
    );
  }
  try {
    const top = new Parser(bytes, l).readTopObject();
    return new Converter(l.maxDepth).throwable(top);
  } catch (e) {
    if (e instanceof JavaSerializationError) throw e;
    if (e instanceof ProtocolError) {
      throw new JavaSerializationError(`Truncated Java serialization stream: ${e.message}`, {
        cause: e,
      });
    }
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      // Only reachable with a maxDepth far above the default.
      throw new JavaSerializationError(
        `Java serialization stream nested too deeply for the call stack (maxDepth ${l.maxDepth})`,
        { cause: e },
      );
    }
    // Not expected (the parser bounds its recursion and sizes); never let it escape as another type.
    throw new JavaSerializationError(
      `Unreadable Java serialization stream (internal error): ${e}`,
      {
        cause: e,
      },
    );
  }
}

const latin1 = new TextDecoder("latin1");

/**
 * The class name of the object at the start of a Java serialization stream,
 * read from its first class descriptor without parsing the rest: enough to
 * decide what to do with a failure (relay it, retry) without the cost of
 * {@linkcode readJavaThrowable}. Returns `null` when the stream does not start
 * with `TC_OBJECT TC_CLASSDESC` and an ASCII name (then parse it fully).
 *
 * @example
 * ```ts
 * import {
 *   javaThrowable,
 *   peekJavaClassName,
 *   writeJavaThrowable,
 * } from "@kvstate/queryable-state/wire";
 *
 * peekJavaClassName(writeJavaThrowable(javaThrowable("java.lang.RuntimeException", "x")));
 * // => "java.lang.RuntimeException"
 * ```
 *
 * @param bytes A Java serialization stream.
 * @returns The class name, or `null`.
 */
export function peekJavaClassName(bytes: Uint8Array): string | null {
  if (
    bytes.length < 8 || bytes[0] !== 0xac || bytes[1] !== 0xed || bytes[2] !== 0 ||
    bytes[3] !== 5 || bytes[4] !== 0x73 || bytes[5] !== 0x72
  ) {
    return null;
  }
  const n = (bytes[6] << 8) | bytes[7];
  if (n === 0 || 8 + n > bytes.length) return null;
  for (let i = 8; i < 8 + n; i++) if (bytes[i] >= 0x80) return null;
  return latin1.decode(bytes.subarray(8, 8 + n));
}
