/**
 * The gateway's JSON encoding of state values, and the parsing of keys
 * from query parameters and JSON bodies, per type name:
 *
 * | type                         | JSON value                                                      |
 * |------------------------------|-----------------------------------------------------------------|
 * | `long`                       | a decimal string, exact (`"9007199254740993"`)                 |
 * | `int`, `short`, `byte`       | a number                                                        |
 * | `double`, `float`            | a number; `"NaN"`, `"Infinity"`, `"-Infinity"` as strings      |
 * | `boolean`                    | `true` / `false`                                                |
 * | `string`, `char`             | a string                                                        |
 * | `bytes`                      | base64 (RFC 4648, with padding)                                 |
 * | Java `null`                  | `null`                                                          |
 * | list state                   | an array of the elements                                        |
 * | map state                    | an array of `[key, value]` pairs                                |
 *
 * Keys are read back the same way: from a query parameter, the text
 * (`long` and the integer types in decimal, `double`/`float` any JavaScript
 * number literal or `NaN`/`Infinity`/`-Infinity`, `boolean` `true`/`false`,
 * `bytes` base64 or base64url); from JSON, the value above, where a number
 * type also takes its text as a string and `long` also a safe-integer
 * number. A bad key throws {@linkcode BadParameterError} naming the
 * parameter.
 *
 * @module
 */

import type { StateKind } from "../client/queryable_state_client.ts";
import { isTypeName, TYPE_NAMES, type TypeName } from "../wire/type_serializers.ts";
import { BadParameterError } from "./gateway_errors.ts";

/**
 * A JSON value, as `JSON.parse` gives and `JSON.stringify` takes.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "@kvstate/queryable-state/http";
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

const INT_RANGES: Readonly<Record<"int" | "short" | "byte", readonly [number, number]>> = {
  int: [-2147483648, 2147483647],
  short: [-32768, 32767],
  byte: [-128, 127],
};
const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;
const DECIMAL = /^-?[0-9]+$/;
/** Base64 or base64url, padding optional. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
/** The longest text shown of a bad value in an error message. */
const SHOWN = 64;

/**
 * The JSON form of one value of a basic type (see the module table).
 *
 * @example
 * ```ts
 * import { toJsonValue } from "@kvstate/queryable-state/http";
 *
 * toJsonValue("long", 9007199254740993n); // => "9007199254740993"
 * toJsonValue("double", NaN); // => "NaN"
 * toJsonValue("bytes", new Uint8Array([1, 2, 255])); // => "AQL/"
 * toJsonValue("string", null); // => null
 * ```
 *
 * @param type The type name.
 * @param value The value as the client decodes it (`bigint` for `long`,
 *   `Uint8Array` for `bytes`, ...), or `null`.
 * @returns The JSON value.
 */
export function toJsonValue(type: TypeName, value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "long":
      return String(value);
    case "double":
    case "float": {
      const n = value as number;
      return Number.isFinite(n) ? n : String(n);
    }
    case "bytes":
      return bytesToBase64(value as Uint8Array);
    default:
      return value as JsonValue;
  }
}

/**
 * The JSON form of a whole state value: the value itself for value state,
 * an array for list state, an array of `[key, value]` pairs for map state.
 *
 * @example
 * ```ts
 * import { stateToJson } from "@kvstate/queryable-state/http";
 *
 * stateToJson("value", "long", 42n); // => "42"
 * stateToJson("list", "double", [1.5, Infinity]); // => [1.5, "Infinity"]
 * stateToJson("map", "long", [["a", 1n], ["b", null]], "string"); // => [["a", "1"], ["b", null]]
 * ```
 *
 * @param kind The state kind.
 * @param valueType The value type (the element type of a list, the value type of a map).
 * @param value The decoded state as the client gives it.
 * @param mapKeyType The map key type (map state only).
 * @returns The JSON value.
 */
export function stateToJson(
  kind: StateKind,
  valueType: TypeName,
  value: unknown,
  mapKeyType?: TypeName,
): JsonValue {
  if (value === null || value === undefined) return null;
  if (kind === "list") {
    return (value as unknown[]).map((v) => toJsonValue(valueType, v));
  }
  if (kind === "map") {
    const keyType = mapKeyType ?? "string";
    return (value as Array<[unknown, unknown]>).map(([k, v]) => [
      toJsonValue(keyType, k),
      toJsonValue(valueType, v),
    ]);
  }
  return toJsonValue(valueType, value);
}

/**
 * Reads a type name from a parameter.
 *
 * @example
 * ```ts
 * import { parseTypeName } from "@kvstate/queryable-state/http";
 *
 * parseTypeName("long", "keyType"); // => "long"
 * ```
 *
 * @param value The parameter's value.
 * @param parameter The parameter's name, for the error.
 * @returns The type name.
 * @throws {BadParameterError} When it is missing or not a supported type name.
 */
export function parseTypeName(value: unknown, parameter: string): TypeName {
  if (value === undefined || value === null) {
    throw new BadParameterError(parameter, `missing (one of ${TYPE_NAMES.join(", ")})`);
  }
  if (!isTypeName(value)) {
    throw new BadParameterError(
      parameter,
      `unknown type ${show(value)} (one of ${TYPE_NAMES.join(", ")})`,
    );
  }
  return value;
}

/**
 * Reads a key of the given type from the text of a query parameter (see the
 * module doc for the accepted forms).
 *
 * @example
 * ```ts
 * import { parseKeyParam } from "@kvstate/queryable-state/http";
 *
 * parseKeyParam("long", "9007199254740993", "key"); // => 9007199254740993n
 * parseKeyParam("int", "-7", "key"); // => -7
 * parseKeyParam("bytes", "AQL_", "key"); // => new Uint8Array([1, 2, 255])
 * ```
 *
 * @param type The key type.
 * @param text The parameter's text.
 * @param parameter The parameter's name, for the error.
 * @returns The key as the client takes it (`bigint` for `long`, ...).
 * @throws {BadParameterError} When the text is not a value of the type.
 */
export function parseKeyParam(type: TypeName, text: string, parameter: string): unknown {
  switch (type) {
    case "string":
      return text;
    case "char":
      if (text.length !== 1) {
        throw new BadParameterError(parameter, `a char is one UTF-16 unit, got ${show(text)}`);
      }
      return text;
    case "boolean":
      if (text === "true") return true;
      if (text === "false") return false;
      throw new BadParameterError(parameter, `expected true or false, got ${show(text)}`);
    case "long":
      return parseLong(text, parameter);
    case "int":
    case "short":
    case "byte":
      return parseSmallInt(type, text, parameter);
    case "double":
    case "float":
      return parseFloating(text, parameter);
    case "bytes":
      return base64ToBytes(text, parameter);
  }
}

/**
 * Reads a key of the given type from a JSON value (see the module doc for
 * the accepted forms).
 *
 * @example
 * ```ts
 * import { parseKeyJson } from "@kvstate/queryable-state/http";
 *
 * parseKeyJson("long", "9007199254740993", "queries[0].key"); // => 9007199254740993n
 * parseKeyJson("long", 42, "queries[0].key"); // => 42n
 * parseKeyJson("double", "NaN", "queries[0].key"); // => NaN
 * ```
 *
 * @param type The key type.
 * @param value The JSON value.
 * @param parameter The parameter's name, for the error.
 * @returns The key as the client takes it.
 * @throws {BadParameterError} When the value is not one of the type.
 */
export function parseKeyJson(type: TypeName, value: unknown, parameter: string): unknown {
  if (value === undefined) throw new BadParameterError(parameter, "missing");
  if (value === null) throw new BadParameterError(parameter, "a key cannot be null");
  switch (type) {
    case "string":
    case "char":
    case "bytes":
      if (typeof value !== "string") {
        throw new BadParameterError(parameter, `expected a string for ${type}, got ${show(value)}`);
      }
      return parseKeyParam(type, value, parameter);
    case "boolean":
      if (typeof value !== "boolean") {
        throw new BadParameterError(parameter, `expected true or false, got ${show(value)}`);
      }
      return value;
    case "long":
      if (typeof value === "number") {
        if (!Number.isSafeInteger(value)) {
          throw new BadParameterError(
            parameter,
            `a long as a number must be a safe integer (give larger ones as a decimal string), got ${
              show(value)
            }`,
          );
        }
        return BigInt(value);
      }
      break;
    case "int":
    case "short":
    case "byte":
    case "double":
    case "float":
      if (typeof value === "number") return parseKeyParam(type, String(value), parameter);
      break;
  }
  if (typeof value !== "string") {
    throw new BadParameterError(
      parameter,
      `expected a number or a string for ${type}, got ${show(value)}`,
    );
  }
  return parseKeyParam(type, value, parameter);
}

function parseLong(text: string, parameter: string): bigint {
  if (!DECIMAL.test(text) || text.length > 40) {
    throw new BadParameterError(parameter, `expected a decimal long, got ${show(text)}`);
  }
  const n = BigInt(text);
  if (n < LONG_MIN || n > LONG_MAX) {
    throw new BadParameterError(parameter, `${show(text)} is out of the long range`);
  }
  return n;
}

function parseSmallInt(type: "int" | "short" | "byte", text: string, parameter: string): number {
  const [min, max] = INT_RANGES[type];
  if (!DECIMAL.test(text) || text.length > 20) {
    throw new BadParameterError(parameter, `expected a decimal ${type}, got ${show(text)}`);
  }
  const n = Number(text);
  if (n < min || n > max) {
    throw new BadParameterError(parameter, `${show(text)} is out of the ${type} range`);
  }
  return n;
}

function parseFloating(text: string, parameter: string): number {
  if (text === "NaN") return NaN;
  const n = text.trim() === "" ? NaN : Number(text);
  if (Number.isNaN(n) || text !== text.trim()) {
    throw new BadParameterError(parameter, `expected a number, got ${show(text)}`);
  }
  return n;
}

/** Base64 of the bytes (RFC 4648, with padding). */
function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/** The bytes of base64 or base64url text, padding optional. */
function base64ToBytes(text: string, parameter: string): Uint8Array {
  if (!BASE64.test(text) || text.length % 4 === 1) {
    throw new BadParameterError(parameter, `expected base64, got ${show(text)}`);
  }
  let std = text.replaceAll("-", "+").replaceAll("_", "/");
  while (std.length % 4 !== 0) std += "=";
  let binary: string;
  try {
    binary = atob(std);
  } catch {
    throw new BadParameterError(parameter, `expected base64, got ${show(text)}`);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A bad value for a message: JSON, at most {@linkcode SHOWN} characters. */
function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > SHOWN ? text.slice(0, SHOWN) + "…" : text;
}
