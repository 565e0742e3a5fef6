/**
 * The text syntax of type descriptors, one syntax for the CLI
 * (`--key-type`, `--value-type`), fixture files and the HTTP gateway's
 * parameters: {@linkcode parseType} reads it, a descriptor's `text`
 * ({@linkcode formatType}) writes it, and `parseType(d.text).text ===
 * d.text` for every descriptor.
 *
 * ```text
 * type   := leaf
 *         | "tuple<" [type ("," type)*] ">"        0..25 fields (Tuple0..Tuple25)
 *         | "row<" [type ("," type)*] ">"          Row, 1.19 format (with its kind)
 *         | "rowlegacy<" [type ("," type)*] ">"    Row, legacy format (no kind)
 *         | "pojo<" name ":" type ("," name ":" type)* ">"   fields as declared; sorted as Flink does
 *         | "nullable<" type ["," "padded"] ">"
 *         | "enum<" name ("," name)* ">"           the constants in ordinal order
 *         | "array<" type ">" | "list<" type ">"
 *         | "map<" type "," type ">" | "either<" type "," type ">"
 * leaf   := string | int | long | double | float | boolean | short | byte | char | bytes
 *         | decimal | biginteger | date | timestamp | instant
 *         | localdate | localtime | localdatetime
 * name   := a Java identifier (POJO field names, enum constants)
 * ```
 *
 * Names are case-sensitive (`string`, not `String`); whitespace is allowed
 * around every token. `array<long>` is `long[]`, `array<nullable<int>>` is
 * `Integer[]`, `array<string>` is `String[]`, `bytes` is `byte[]`.
 *
 * Errors are {@linkcode TypeSyntaxError}s naming the position
 * (`at 17: expected "," or ">" after "long", found the end of the text`).
 * Bounds, each with a default ({@linkcode TYPE_TEXT_LIMITS}) and an error
 * naming it: the text's length, the nesting depth, the fields of a row or
 * POJO, the constants of an enum (a tuple has at most 25 fields, as Flink's).
 *
 * @module
 */

import type { TypeDescriptor } from "./type_descriptor.ts";
import { MAX_TUPLE_ARITY } from "./tuple_type.ts";
import { types } from "./types.ts";

/**
 * A type text that does not parse: `position` is where (a 0-based index
 * into the text, in UTF-16 code units), `problem` what is wrong; the
 * message is `at <position>: <problem>`. A `TypeError`, as any bad argument.
 *
 * @example
 * ```ts
 * import { parseType, TypeSyntaxError } from "@kvstate/queryable-state";
 *
 * try {
 *   parseType("tuple<string,long");
 * } catch (e) {
 *   (e as TypeSyntaxError).position; // => 17
 *   (e as TypeSyntaxError).message; // => 'at 17: expected "," or ">" after "long", found the end of the text'
 * }
 * ```
 */
export class TypeSyntaxError extends TypeError {
  /** Where: a 0-based index into the text. */
  readonly position: number;
  /** What is wrong, without the position. */
  readonly problem: string;

  /**
   * Creates the error.
   *
   * @param problem What is wrong.
   * @param position Where, a 0-based index into the text.
   */
  constructor(problem: string, position: number) {
    super(`at ${position}: ${problem}`);
    this.position = position;
    this.problem = problem;
  }

  /** `"TypeSyntaxError"`. */
  override get name(): string {
    return "TypeSyntaxError";
  }
}

/**
 * Bounds of {@linkcode parseType}; each defaults to {@linkcode TYPE_TEXT_LIMITS}.
 *
 * @example
 * ```ts
 * import { parseType, type ParseTypeOptions } from "@kvstate/queryable-state";
 *
 * const options: ParseTypeOptions = { maxDepth: 4 };
 * parseType("list<list<long>>", options).text; // => "list<list<long>>"
 * ```
 */
export interface ParseTypeOptions {
  /** Longest text, in UTF-16 code units (default 4096). */
  readonly maxLength?: number;
  /**
   * Deepest nesting of types: `long` is 1, `list<long>` 2 (default 32; at
   * most 1000, as deeper types would overflow the
   * stack when parsed, written or read).
   */
  readonly maxDepth?: number;
  /** Most fields of one `row<…>` or `pojo<…>` (default 256; a tuple has at most 25). */
  readonly maxFields?: number;
  /** Most constants of one `enum<…>` (default 1024). */
  readonly maxEnumConstants?: number;
}

/**
 * The default bounds of {@linkcode parseType}.
 *
 * @example
 * ```ts
 * import { TYPE_TEXT_LIMITS } from "@kvstate/queryable-state";
 *
 * TYPE_TEXT_LIMITS.maxDepth; // => 32
 * ```
 */
export const TYPE_TEXT_LIMITS: Readonly<Required<ParseTypeOptions>> = Object.freeze({
  maxLength: 4096,
  maxDepth: 32,
  maxFields: 256,
  maxEnumConstants: 1024,
});

/** The most a caller may raise `maxDepth` to (deeper types overflow the stack). */
const MAX_TYPE_DEPTH = 1000;

type AnyDescriptor = TypeDescriptor<unknown>;

const LEAVES: ReadonlyMap<string, AnyDescriptor> = new Map<string, AnyDescriptor>([
  ["string", types.string],
  ["int", types.int],
  ["long", types.long],
  ["double", types.double],
  ["float", types.float],
  ["boolean", types.boolean],
  ["short", types.short],
  ["byte", types.byte],
  ["char", types.char],
  ["bytes", types.bytes],
  ["decimal", types.decimal],
  ["biginteger", types.biginteger],
  ["date", types.date],
  ["timestamp", types.timestamp],
  ["instant", types.instant],
  ["localdate", types.localdate],
  ["localtime", types.localtime],
  ["localdatetime", types.localdatetime],
]);

const COMPOSITES: ReadonlySet<string> = new Set([
  "tuple",
  "row",
  "rowlegacy",
  "pojo",
  "nullable",
  "enum",
  "array",
  "list",
  "map",
  "either",
]);

/** What a Java identifier may contain (and start with, `IDENTIFIER_START`). */
const WORD = /[\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}_$]+/uy;
const IDENTIFIER_START = /^[\p{L}\p{Nl}_$]/u;
const SHORT = 30;

function quote(s: string): string {
  return JSON.stringify(s.length > SHORT ? s.slice(0, SHORT) + "…" : s);
}

function checkLimit(name: keyof ParseTypeOptions, v: number | undefined): number {
  if (v === undefined) return TYPE_TEXT_LIMITS[name];
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`parseType: ${name} must be a positive integer, got ${String(v)}`);
  }
  if (name === "maxDepth" && v > MAX_TYPE_DEPTH) {
    throw new RangeError(
      `parseType: maxDepth must be at most ${MAX_TYPE_DEPTH} (deeper types overflow the stack), ` +
        `got ${v}`,
    );
  }
  return v;
}

class Parser {
  readonly text: string;
  pos = 0;
  readonly maxDepth: number;
  readonly maxFields: number;
  readonly maxEnumConstants: number;

  constructor(text: string, limits: Required<ParseTypeOptions>) {
    this.text = text;
    this.maxDepth = limits.maxDepth;
    this.maxFields = limits.maxFields;
    this.maxEnumConstants = limits.maxEnumConstants;
  }

  fail(problem: string, at: number = this.pos): never {
    throw new TypeSyntaxError(problem, at);
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos++;
    }
  }

  /** The word at `pos` (identifier characters), not consumed; `""` if none. */
  peekWord(): string {
    WORD.lastIndex = this.pos;
    const m = WORD.exec(this.text);
    return m === null ? "" : m[0];
  }

  /** What is at `pos`, for messages. */
  found(): string {
    if (this.pos >= this.text.length) return "the end of the text";
    const w = this.peekWord();
    return quote(w !== "" ? w : String.fromCodePoint(this.text.codePointAt(this.pos)!));
  }

  /** Consumes `c` (after spaces) or fails saying it was expected after `after`. */
  expect(c: string, after: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== c) {
      this.fail(`expected "${c}" after ${quote(after)}, found ${this.found()}`);
    }
    this.pos++;
  }

  /** The source text from `start` to `pos`, trimmed, for "after …" in messages. */
  since(start: number): string {
    return this.text.slice(start, this.pos).trim();
  }

  /** A Java identifier (field name, enum constant), after spaces. */
  identifier(what: string, after: string): { name: string; at: number } {
    this.skipSpace();
    const at = this.pos;
    const name = this.peekWord();
    if (name === "" || !IDENTIFIER_START.test(name)) {
      this.fail(
        `expected ${what} (a Java identifier) after ${quote(after)}, found ${this.found()}`,
      );
    }
    this.pos += name.length;
    return { name, at };
  }

  /** After an element: `true` for ",", `false` for ">" (consumed), else fails. */
  more(after: string): boolean {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "," || c === ">") {
      this.pos++;
      return c === ",";
    }
    return this.fail(`expected "," or ">" after ${quote(after)}, found ${this.found()}`);
  }

  type(depth: number): AnyDescriptor {
    this.skipSpace();
    const start = this.pos;
    const word = this.peekWord();
    if (word === "") this.fail(`expected a type name, found ${this.found()}`);
    if (depth > this.maxDepth) {
      this.fail(`types nest deeper than ${this.maxDepth} levels (maxDepth)`, start);
    }
    this.pos += word.length;
    const leaf = LEAVES.get(word);
    if (leaf !== undefined) {
      const end = this.pos;
      this.skipSpace();
      if (this.text[this.pos] === "<") this.fail(`${quote(word)} takes no parameters`);
      this.pos = end;
      return leaf;
    }
    if (!COMPOSITES.has(word)) {
      const lower = word.toLowerCase();
      const hint = lower !== word && (LEAVES.has(lower) || COMPOSITES.has(lower))
        ? ` (names are lower case: ${quote(lower)})`
        : "";
      this.fail(`unknown type ${quote(word)}${hint}`, start);
    }
    this.expect("<", word);
    return this.composite(word, start, depth);
  }

  /** Calls a builder; its TypeError becomes a TypeSyntaxError at `start`. */
  build(start: number, make: () => AnyDescriptor): AnyDescriptor {
    try {
      return make();
    } catch (e) {
      if (e instanceof TypeError) {
        this.fail(`${this.since(start)}: ${e.message.replace(/^types\.\w+: /, "")}`, start);
      }
      throw e;
    }
  }

  /** A possibly empty list of types up to ">" (tuple, row). */
  typeList(word: string, max: number, bound: string, depth: number): AnyDescriptor[] {
    const out: AnyDescriptor[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ">") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (out.length === max) this.fail(`${word}<…> has more than ${max} fields${bound}`);
      const at = this.pos;
      out.push(this.type(depth + 1));
      if (!this.more(this.since(at))) return out;
    }
  }

  composite(word: string, start: number, depth: number): AnyDescriptor {
    const inner = (): AnyDescriptor => this.type(depth + 1);
    switch (word) {
      case "tuple": {
        const fields = this.typeList(
          word,
          MAX_TUPLE_ARITY,
          " (Flink's tuples end at Tuple25)",
          depth,
        );
        return this.build(start, () => types.tuple(...fields));
      }
      case "row":
      case "rowlegacy": {
        const fields = this.typeList(word, this.maxFields, " (maxFields)", depth);
        return this.build(
          start,
          () => word === "row" ? types.row(...fields) : types.rowLegacy(...fields),
        );
      }
      case "pojo": {
        const fields: Record<string, AnyDescriptor> = {};
        const seen = new Set<string>();
        let after = "pojo<";
        do {
          if (seen.size === this.maxFields) {
            this.skipSpace();
            this.fail(`pojo<…> has more than ${this.maxFields} fields (maxFields)`);
          }
          const { name, at } = this.identifier("a field name", after);
          if (seen.has(name)) this.fail(`duplicate field ${quote(name)}`, at);
          seen.add(name);
          this.expect(":", name);
          const typeAt = this.pos;
          Object.defineProperty(fields, name, {
            value: inner(),
            enumerable: true,
            configurable: true,
            writable: true,
          });
          after = this.since(typeAt);
        } while (this.more(after));
        return this.build(start, () => types.pojo(fields));
      }
      case "nullable": {
        const at = this.pos;
        const t = inner();
        this.skipSpace();
        let padded = false;
        if (this.text[this.pos] === ",") {
          this.pos++;
          this.skipSpace();
          if (this.peekWord() !== "padded") {
            this.fail(`expected "padded" after ",", found ${this.found()}`);
          }
          this.pos += "padded".length;
          padded = true;
          this.expect(">", "padded");
        } else {
          this.expect(">", this.since(at));
        }
        return this.build(start, () => types.nullable(t, { padded }));
      }
      case "enum": {
        const constants: string[] = [];
        const seen = new Set<string>();
        let after = "enum<";
        do {
          if (constants.length === this.maxEnumConstants) {
            this.skipSpace();
            this.fail(
              `enum<…> has more than ${this.maxEnumConstants} constants (maxEnumConstants)`,
            );
          }
          const { name, at } = this.identifier("a constant", after);
          if (seen.has(name)) this.fail(`duplicate constant ${quote(name)}`, at);
          seen.add(name);
          constants.push(name);
          after = name;
        } while (this.more(after));
        return this.build(start, () => types.enumOf(...constants));
      }
      case "array":
      case "list": {
        const at = this.pos;
        const element = inner();
        this.expect(">", this.since(at));
        return this.build(
          start,
          () => word === "array" ? types.array(element) : types.list(element),
        );
      }
      default: { // map, either
        const at = this.pos;
        const first = inner();
        this.expect(",", this.since(at));
        const at2 = this.pos;
        const second = inner();
        this.expect(">", this.since(at2));
        return this.build(
          start,
          () => word === "map" ? types.map(first, second) : types.either(first, second),
        );
      }
    }
  }
}

const CACHE_SIZE = 256;
const cache = new Map<string, AnyDescriptor>();

/**
 * Parses a type text into its descriptor (see the module doc for the
 * syntax). Descriptors are immutable, so the last 256 texts parsed with the
 * default bounds are kept and returned again.
 *
 * @example
 * ```ts
 * import { parseType } from "@kvstate/queryable-state";
 * import { serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const key = parseType("tuple<string, long>");
 * key.text; // => "tuple<string,long>"
 * toHex(serializeValue(key, ["a", 1n])); // => "02610000000000000001"
 * parseType("pojo<name:string,id:long>").text; // => "pojo<id:long,name:string>"
 * parseType("array<nullable<int>>").kind; // => "array"
 * ```
 *
 * @param text The type text.
 * @param options Bounds (defaults: {@linkcode TYPE_TEXT_LIMITS}).
 * @returns The descriptor.
 * @throws {TypeSyntaxError} When the text does not parse, names a type
 *   Flink has no serializer for (`array<tuple<…>>`: use
 *   `array<nullable<tuple<…>>>`), or passes a bound.
 * @throws {RangeError} When an option is not a positive integer.
 */
export function parseType(text: string, options: ParseTypeOptions = {}): TypeDescriptor<unknown> {
  const defaults = options.maxLength === undefined && options.maxDepth === undefined &&
    options.maxFields === undefined && options.maxEnumConstants === undefined;
  if (defaults && typeof text === "string") {
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
  }
  const limits: Required<ParseTypeOptions> = {
    maxLength: checkLimit("maxLength", options.maxLength),
    maxDepth: checkLimit("maxDepth", options.maxDepth),
    maxFields: checkLimit("maxFields", options.maxFields),
    maxEnumConstants: checkLimit("maxEnumConstants", options.maxEnumConstants),
  };
  if (typeof text !== "string") {
    throw new TypeSyntaxError(`expected a type text (a string), got ${typeof text}`, 0);
  }
  if (text.length > limits.maxLength) {
    throw new TypeSyntaxError(
      `the text is longer than ${limits.maxLength} characters (maxLength)`,
      limits.maxLength,
    );
  }
  const p = new Parser(text, limits);
  const d = p.type(1);
  p.skipSpace();
  if (p.pos < text.length) p.fail(`unexpected ${p.found()} after the type ${quote(p.since(0))}`);
  if (defaults) {
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(text, d);
  }
  return d;
}

/**
 * A descriptor's text (its `text`), which {@linkcode parseType} reads back
 * to an equivalent descriptor.
 *
 * @example
 * ```ts
 * import { formatType, parseType, types } from "@kvstate/queryable-state";
 *
 * formatType(types.map(types.string, types.nullable(types.long))); // => "map<string,nullable<long>>"
 * parseType(formatType(types.decimal)) === types.decimal; // => true
 * ```
 *
 * @param descriptor The descriptor.
 * @returns Its text.
 * @throws {TypeError} When `descriptor` has no text.
 */
export function formatType(descriptor: TypeDescriptor<unknown>): string {
  const text = (descriptor as Partial<TypeDescriptor<unknown>> | null)?.text;
  if (typeof text !== "string") {
    throw new TypeError("formatType: expected a type descriptor (types.* or parseType(...))");
  }
  return text;
}
