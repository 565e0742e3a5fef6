/**
 * The JSON form of typed values: how the HTTP gateway answers state values
 * and reads keys, how the CLI prints composite values and how fixture files
 * hold them. It is a public contract: the gateway's answers keep it.
 *
 * | kind                                          | JSON value                                                        |
 * |-----------------------------------------------|-------------------------------------------------------------------|
 * | `long`                                        | a decimal string, exact (`"9007199254740993"`); read: also a safe-integer number |
 * | `int`, `short`, `byte`                        | a number; read: also its decimal string                           |
 * | `double`, `float`                             | a number; `"NaN"`, `"Infinity"`, `"-Infinity"` as strings; read: also its text |
 * | `boolean`                                     | `true` / `false`                                                  |
 * | `string`, `char`                              | a string (`string` may be `null`)                                 |
 * | `bytes` (`byte[]`)                            | base64 (RFC 4648, with padding); read: also base64url, padding optional |
 * | `tuple<A,B,…>`                                | an array of the fields (`["acme", "42"]`)                         |
 * | `pojo<…>`                                     | an object, keys in serialization order, or `null`; read: every field named, no others |
 * | `row<…>`                                      | `{"kind": "+I", "fields": [ … ]}` (fields may be `null`); read: also a plain array (`+I`) |
 * | `nullable<T>`                                 | the value of `T` or `null`                                        |
 * | `enum<…>`                                     | the constant's name (`"RED"`)                                     |
 * | `array<T>`, `list<T>`                         | an array                                                          |
 * | `map<K,V>`                                    | an array of `[key, value]` pairs in serialized order              |
 * | `either<L,R>`                                 | `{"left": …}` or `{"right": …}`                                   |
 * | `decimal`                                     | a string, as Java's `BigDecimal.toString()` (`"1E+3"`, `"0.00"`); read: at most the significant digits `maxBytes` allows (9,864 by default) |
 * | `biginteger`                                  | a decimal string; read: also a safe-integer number; at most the digits `maxBytes` allows (9,864 by default) |
 * | `date`, `timestamp`, `instant`                | an ISO-8601 UTC string (`"2024-03-28T12:00:00.123Z"`)             |
 * | `localdate`, `localtime`, `localdatetime`     | Java's `toString()` (`"2024-03-28"`, `"12:34:56.789"`)            |
 * | Java `null`                                   | `null`                                                            |
 *
 * Reading ({@linkcode fromJsonValue}) gives the JS value the descriptor
 * serializes (`bigint` for `long`, `Uint8Array` for `bytes`, …) and throws
 * {@linkcode TypeValueError} naming the path (`key[1]`,
 * `value.customer.age`) at the first value that does not fit.
 *
 * @module
 */

import { ByteWriter } from "../wire/bytes.ts";
import { isTypeName, type TypeName, type TypeSerializer } from "../wire/type_serializers.ts";
import { BASIC_TYPES } from "./basic_types.ts";
import { DEFAULT_BIG_NUMBER_MAX_BYTES, maxDigitsOf } from "./big_integer_type.ts";
import { setOwn } from "./composite_helpers.ts";
import type { DescriptorParts, TypeDescriptor } from "./type_descriptor.ts";
import {
  base64ToBytes,
  bytesToBase64,
  decimalBigInt,
  decimalNumber,
  floatingNumber,
  inLongRange,
  INT_RANGES,
  isDecimalInteger,
  showValue as show,
} from "./json_scalars.ts";
import { errorAtRoot, TypeValueError } from "./type_errors.ts";

/**
 * A JSON value, as `JSON.parse` gives and `JSON.stringify` takes.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "@kvstate/queryable-state";
 *
 * const v: JsonValue = { value: ["9007199254740993", null] };
 * JSON.stringify(v); // => '{"value":["9007199254740993",null]}'
 * ```
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

const ROW_KINDS: readonly string[] = ["+I", "-U", "+U", "-D"];

/** The descriptor of a type, or an error naming it. */
function descriptorOf(type: TypeName | TypeSerializer<unknown>): DescriptorParts {
  if (typeof type === "string") {
    if (isTypeName(type)) return BASIC_TYPES[type] as DescriptorParts;
  } else if (typeof type === "object" && type !== null) {
    const k = (type as Partial<TypeDescriptor<unknown>>).kind;
    if (typeof k === "string") return type as DescriptorParts;
    if (isTypeName(type.name)) return BASIC_TYPES[type.name] as DescriptorParts;
  }
  throw new TypeError(
    `No JSON form for the type ${show(typeof type === "string" ? type : type?.name)}: ` +
      "give a type name or a type descriptor",
  );
}

/**
 * The JSON form of a value of a type (see the module table). `null` gives
 * `null` at every level.
 *
 * @example
 * ```ts
 * import { toJsonValue, types } from "@kvstate/queryable-state";
 *
 * toJsonValue("long", 9007199254740993n); // => "9007199254740993"
 * toJsonValue("double", NaN); // => "NaN"
 * toJsonValue("bytes", new Uint8Array([1, 2, 255])); // => "AQL/"
 * toJsonValue(types.tuple(types.string, types.long), ["acme", 42n]); // => ["acme", "42"]
 * ```
 *
 * @param type A basic type name or a type descriptor.
 * @param value The value as the client decodes it.
 * @returns The JSON value.
 * @throws {TypeValueError} When the value does not have the descriptor's
 *   shape (naming the path under `value`).
 */
export function toJsonValue(
  type: TypeName | TypeSerializer<unknown>,
  value: unknown,
): JsonValue {
  const d = descriptorOf(type);
  try {
    return toJson(d, value);
  } catch (e) {
    if (e instanceof ToJsonFailure) {
      throw new TypeValueError(e.problem, "value" + e.segments.reverse().join(""));
    }
    throw e;
  }
}

/**
 * What {@linkcode toJson} throws: the problem, and the path's segments from
 * the value that failed up to the root, added as the failure passes through
 * each level ({@linkcode under}). So the success path builds no path
 * strings; {@linkcode toJsonValue} makes the `TypeValueError` of the whole
 * path.
 */
class ToJsonFailure {
  /** The segments (`[1]`, `.name`), innermost first. */
  readonly segments: string[] = [];
  constructor(readonly problem: string) {}
}

/** `e` seen one level up: a {@linkcode ToJsonFailure} gets `segment`. */
function under(e: unknown, segment: string): unknown {
  if (e instanceof ToJsonFailure) e.segments.push(segment);
  return e;
}

function toJson(d: DescriptorParts, v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  switch (d.kind) {
    case "long":
    case "biginteger":
      return String(v);
    case "double":
    case "float": {
      const n = v as number;
      return Number.isFinite(n) ? n : String(n);
    }
    case "bytes":
      if (!(v instanceof Uint8Array)) throw new ToJsonFailure("expected a Uint8Array");
      return bytesToBase64(v);
    case "int":
    case "short":
    case "byte":
    case "boolean":
    case "string":
    case "char":
    case "decimal":
    case "date":
    case "timestamp":
    case "instant":
    case "localdate":
    case "localtime":
    case "localdatetime":
    case "enum":
      return v as JsonValue;
    case "nullable":
      return toJson(d.inner as DescriptorParts, v);
    case "tuple":
      return fieldsToJson(d.fields, arrayOf(v));
    case "row": {
      const a = arrayOf(v);
      return {
        kind: (v as { kind?: string }).kind ?? "+I",
        fields: fieldsToJson(d.fields, a),
      };
    }
    case "pojo": {
      if (typeof v !== "object") throw new ToJsonFailure("expected an object");
      const o = v as Record<string, unknown>;
      const out: { [key: string]: JsonValue } = {};
      const fields = d.fields;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i];
        let x: JsonValue;
        try {
          x = toJson(f.type as DescriptorParts, o[f.name]);
        } catch (e) {
          throw under(e, `.${f.name}`);
        }
        setOwn(out, f.name, x);
      }
      return out;
    }
    case "array":
    case "list": {
      const element = d.element as DescriptorParts;
      const out: JsonValue[] = [];
      let i = 0;
      for (const x of iterableOf(v)) {
        try {
          out.push(toJson(element, x));
        } catch (e) {
          throw under(e, `[${i}]`);
        }
        i++;
      }
      return out;
    }
    case "map": {
      const key = d.key as DescriptorParts;
      const value = d.value as DescriptorParts;
      const out: JsonValue[] = [];
      let i = 0;
      for (const entry of iterableOf(v)) {
        try {
          out.push(entryToJson(key, value, entry));
        } catch (e) {
          throw under(e, `[${i}]`);
        }
        i++;
      }
      return out;
    }
    case "either": {
      const o = v as { left?: unknown; right?: unknown };
      if (typeof o !== "object") throw new ToJsonFailure("expected { left } or { right }");
      if ("left" in o) {
        try {
          return { left: toJson(d.left as DescriptorParts, o.left) };
        } catch (e) {
          throw under(e, ".left");
        }
      }
      try {
        return { right: toJson(d.right as DescriptorParts, o.right) };
      } catch (e) {
        throw under(e, ".right");
      }
    }
  }
}

/** A tuple's or a row's fields, in order. */
function fieldsToJson(
  fields: readonly TypeDescriptor<unknown>[],
  a: readonly unknown[],
): JsonValue {
  const out = new Array<JsonValue>(fields.length);
  for (let i = 0; i < fields.length; i++) {
    try {
      out[i] = toJson(fields[i] as DescriptorParts, a[i]);
    } catch (e) {
      throw under(e, `[${i}]`);
    }
  }
  return out;
}

/** A map entry as its `[key, value]` pair. */
function entryToJson(key: DescriptorParts, value: DescriptorParts, entry: unknown): JsonValue {
  const [k, x] = arrayOf(entry);
  let kj: JsonValue;
  try {
    kj = toJson(key, k);
  } catch (e) {
    throw under(e, ".key");
  }
  try {
    return [kj, toJson(value, x)];
  } catch (e) {
    throw under(e, ".value");
  }
}

/**
 * The JS value of a JSON value of a type (see the module table): what the
 * descriptor serializes. Every value is checked; the first that does not fit
 * throws {@linkcode TypeValueError} naming its path under `path`.
 *
 * @example
 * ```ts
 * import { fromJsonValue, types, TypeValueError } from "@kvstate/queryable-state";
 *
 * const key = types.tuple(types.string, types.long);
 * fromJsonValue(key, ["acme", 42], "key"); // => ["acme", 42n]
 * fromJsonValue("bytes", "AQL_"); // => new Uint8Array([1, 2, 255])
 * try {
 *   fromJsonValue(key, ["acme", "forty-two"], "key");
 * } catch (e) {
 *   (e as TypeValueError).path; // => "key[1]"
 * }
 * ```
 *
 * @param type A basic type name or a type descriptor.
 * @param json The JSON value (as `JSON.parse` gives it).
 * @param path The root of the paths in errors (default `"value"`).
 * @returns The JS value.
 * @throws {TypeValueError} At the first value that does not fit.
 */
export function fromJsonValue(
  type: TypeName | TypeSerializer<unknown>,
  json: unknown,
  path = "value",
): unknown {
  return fromJson(descriptorOf(type), json, path);
}

function fromJson(d: DescriptorParts, j: unknown, path: string): unknown {
  const bad = (what: string): TypeValueError =>
    new TypeValueError(`expected ${what} for ${d.text}, got ${show(j)}`, path);
  if (j === undefined) throw new TypeValueError(`missing (expected a value for ${d.text})`, path);
  if (j === null) {
    switch (d.kind) {
      case "string":
      case "pojo":
      case "nullable":
      case "biginteger":
      case "decimal":
      case "date":
      case "timestamp":
      case "instant":
      case "localdate":
      case "localtime":
      case "localdatetime":
        return checked(d, null, path);
      default:
        throw new TypeValueError(`${d.text} has no null`, path);
    }
  }
  switch (d.kind) {
    case "string":
      if (typeof j !== "string") throw bad("a string");
      return j;
    case "char":
      if (typeof j !== "string" || j.length !== 1) throw bad("one UTF-16 unit");
      return j;
    case "boolean":
      if (typeof j !== "boolean") throw bad("true or false");
      return j;
    case "long":
    case "biginteger": {
      if (typeof j === "number") {
        if (!Number.isSafeInteger(j)) {
          throw bad("a safe integer (give larger ones as a decimal string)");
        }
        return BigInt(j);
      }
      if (d.kind === "long") {
        const n = typeof j === "string" ? decimalBigInt(j, 10_000) : undefined;
        if (n === undefined) throw bad("a decimal string");
        if (!inLongRange(n)) throw new TypeValueError(`${show(j)} is out of the long range`, path);
        return n;
      }
      // The text is bounded by the digits a value of maxBytes bytes has, before
      // BigInt() (whose cost grows faster than the text); then the bytes, exactly.
      if (typeof j !== "string") throw bad("a decimal string");
      const maxBytes = (d as { maxBytes?: number }).maxBytes ?? DEFAULT_BIG_NUMBER_MAX_BYTES;
      const maxDigits = maxDigitsOf(maxBytes);
      if (!isDecimalInteger(j)) throw bad("a decimal string");
      const digits = j.length - (j.startsWith("-") ? 1 : 0);
      if (digits > maxDigits) {
        throw new TypeValueError(
          `a decimal string of ${digits} digits is over the bound of ${maxDigits} ` +
            `(${maxBytes} bytes, maxBytes)`,
          path,
        );
      }
      return checked(d, BigInt(j), path);
    }
    case "int":
    case "short":
    case "byte": {
      const [min, max] = INT_RANGES[d.kind];
      const n = typeof j === "string" ? decimalNumber(j) ?? j : j;
      if (typeof n !== "number" || !Number.isInteger(n)) throw bad("an integer");
      if (n < min || n > max) {
        throw new TypeValueError(`${show(j)} is out of the ${d.kind} range`, path);
      }
      return n;
    }
    case "double":
    case "float": {
      if (typeof j === "number") return j;
      const n = typeof j === "string" ? floatingNumber(j) : undefined;
      if (n !== undefined) return n;
      throw bad('a number (or "NaN", "Infinity", "-Infinity")');
    }
    case "bytes": {
      if (typeof j !== "string") throw bad("a base64 string");
      const bytes = base64ToBytes(j);
      if (bytes === undefined) throw new TypeValueError(`expected base64, got ${show(j)}`, path);
      return bytes;
    }
    case "decimal":
    case "date":
    case "timestamp":
    case "instant":
    case "localdate":
    case "localtime":
    case "localdatetime":
      if (typeof j !== "string") throw bad("a string");
      return checked(d, j, path);
    case "enum":
      if (typeof j !== "string" || !d.constants.includes(j)) {
        throw bad(`one of ${d.constants.join(", ")}`);
      }
      return j;
    case "nullable":
      return fromJson(d.inner as DescriptorParts, j, path);
    case "tuple": {
      if (!Array.isArray(j) || j.length !== d.fields.length) {
        throw bad(`an array of ${d.fields.length}`);
      }
      return d.fields.map((f, i) => fromJson(f as DescriptorParts, j[i], `${path}[${i}]`));
    }
    case "row": {
      let fields: unknown = j;
      let kind = "+I";
      if (!Array.isArray(j)) {
        if (typeof j !== "object") throw bad('{"kind", "fields"} or an array');
        const o = j as Record<string, unknown>;
        for (const k of Object.keys(o)) {
          if (k !== "kind" && k !== "fields") {
            throw new TypeValueError(`unknown member (a row has kind and fields)`, `${path}.${k}`);
          }
        }
        if (o.kind !== undefined) {
          if (typeof o.kind !== "string" || !ROW_KINDS.includes(o.kind)) {
            throw new TypeValueError(
              `expected one of ${ROW_KINDS.join(", ")}, got ${show(o.kind)}`,
              `${path}.kind`,
            );
          }
          kind = o.kind;
        }
        fields = o.fields;
      }
      if (!Array.isArray(fields) || fields.length !== d.fields.length) {
        throw bad(`fields: an array of ${d.fields.length}`);
      }
      const out = d.fields.map((f, i) =>
        fields[i] === null ? null : fromJson(f as DescriptorParts, fields[i], `${path}[${i}]`)
      );
      return Object.assign(out, { kind });
    }
    case "pojo": {
      if (typeof j !== "object" || Array.isArray(j)) throw bad("an object or null");
      const o = j as Record<string, unknown>;
      const names = new Set(d.fields.map((f) => f.name));
      for (const k of Object.keys(o)) {
        if (!names.has(k)) {
          throw new TypeValueError(
            `unknown field (${d.text} has ${[...names].join(", ")})`,
            `${path}.${k}`,
          );
        }
      }
      const out: Record<string, unknown> = {};
      for (const f of d.fields) {
        if (!Object.hasOwn(o, f.name)) {
          throw new TypeValueError(`missing field (give null for a null)`, `${path}.${f.name}`);
        }
        const x = o[f.name];
        setOwn(
          out,
          f.name,
          x === null ? null : fromJson(f.type as DescriptorParts, x, `${path}.${f.name}`),
        );
      }
      return out;
    }
    case "array":
    case "list": {
      if (!Array.isArray(j)) throw bad("an array");
      return j.map((x, i) => fromJson(d.element as DescriptorParts, x, `${path}[${i}]`));
    }
    case "map": {
      if (!Array.isArray(j)) throw bad("an array of [key, value] pairs");
      return j.map((e, i): [unknown, unknown] => {
        if (!Array.isArray(e) || e.length !== 2) {
          throw new TypeValueError(`expected a [key, value] pair, got ${show(e)}`, `${path}[${i}]`);
        }
        return [
          fromJson(d.key as DescriptorParts, e[0], `${path}[${i}].key`),
          e[1] === null ? null : fromJson(d.value as DescriptorParts, e[1], `${path}[${i}].value`),
        ];
      });
    }
    case "either": {
      if (typeof j !== "object" || Array.isArray(j)) throw bad('{"left": …} or {"right": …}');
      const keys = Object.keys(j as object);
      const o = j as { left?: unknown; right?: unknown };
      if (keys.length === 1 && keys[0] === "left") {
        return { left: fromJson(d.left as DescriptorParts, o.left, `${path}.left`) };
      }
      if (keys.length === 1 && keys[0] === "right") {
        return { right: fromJson(d.right as DescriptorParts, o.right, `${path}.right`) };
      }
      throw bad('{"left": …} or {"right": …}');
    }
  }
}

/** A value of a leaf kind checked by writing it once (its own checks, with the path). */
function checked(d: DescriptorParts, v: unknown, path: string): unknown {
  try {
    d.serialize(v, new ByteWriter(16));
  } catch (e) {
    throw errorAtRoot(e, path);
  }
  return v;
}

function arrayOf(v: unknown): readonly unknown[] {
  if (!Array.isArray(v)) throw new ToJsonFailure(`expected an array, got ${show(v)}`);
  return v;
}

function iterableOf(v: unknown): Iterable<unknown> {
  if (
    typeof v !== "object" || v === null ||
    typeof (v as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new ToJsonFailure(`expected an array, got ${show(v)}`);
  }
  return v as Iterable<unknown>;
}
