/**
 * The gateway's JSON encoding of state values, and the parsing of types and
 * keys from query parameters and JSON bodies. The JSON form of every type
 * is the one `src/types/json_form.ts` documents (its table is the gateway's
 * contract); for the basic types:
 *
 * | type                         | JSON value                                                      |
 * |------------------------------|-----------------------------------------------------------------|
 * | `long`                       | a decimal string, exact (`"9007199254740993"`)                 |
 * | `int`, `short`, `byte`       | a number                                                        |
 * | `double`, `float`            | a number; `"NaN"`, `"Infinity"`, `"-Infinity"` as strings      |
 * | `boolean`                    | `true` / `false`                                                |
 * | `string`, `char`             | a string                                                        |
 * | `bytes`                      | base64 (RFC 4648, with padding)                                 |
 * | `tuple<…>`, `pojo<…>`, …     | arrays, objects, … (see `toJsonValue`)                          |
 * | Java `null`                  | `null`                                                          |
 * | list state                   | an array of the elements                                        |
 * | map state                    | an array of `[key, value]` pairs                                |
 *
 * Types are given in the type syntax (`long`, `tuple<string,long>`,
 * `pojo<id:long,name:string>`; see `parseType`). Keys are read back the
 * same way: from a query parameter, the text for the basic types (`long`
 * and the integer types in decimal, `double`/`float` any JavaScript number
 * literal or `NaN`/`Infinity`/`-Infinity`, `boolean` `true`/`false`,
 * `bytes` base64 or base64url) and for `decimal`, `biginteger`, the time
 * types and `enum` (the name); for the structured types (`tuple`, `pojo`,
 * `row`, `nullable`, `array`, `list`, `map`, `either`) the JSON value
 * (`key=["acme",42]`). From JSON, the value above, where a number type also
 * takes its text as a string and `long` also a safe-integer number. A bad
 * key throws {@linkcode BadParameterError} naming the parameter and the
 * path inside the key (`key[1]`, `queries[0].key.customer`).
 *
 * @module
 */

import type { StateKind } from "../client/queryable_state_client.ts";
import { BASIC_TYPES } from "../types/basic_types.ts";
import { fromJsonValue, type JsonValue, toJsonValue } from "../types/json_form.ts";
import {
  base64ToBytes,
  decimalBigInt,
  decimalNumber,
  floatingNumber,
  inLongRange,
  INT_RANGES,
  isStructuredKind,
  showValue as show,
} from "../types/json_scalars.ts";
import type { TypeDescriptor } from "../types/type_descriptor.ts";
import { TypeValueError } from "../types/type_errors.ts";
import { parseType, TypeSyntaxError } from "../types/type_text.ts";
import {
  isTypeName,
  TYPE_NAMES,
  type TypeName,
  type TypeSerializer,
} from "../wire/type_serializers.ts";
import { BadParameterError } from "./gateway_errors.ts";

export { type JsonValue, toJsonValue };

/**
 * The JSON form of a whole state value: the value itself for value state,
 * an array for list state, an array of `[key, value]` pairs for map state.
 *
 * @example
 * ```ts
 * import { stateToJson } from "@kvstate/queryable-state/http";
 * import { types } from "@kvstate/queryable-state";
 *
 * stateToJson("value", "long", 42n); // => "42"
 * stateToJson("list", "double", [1.5, Infinity]); // => [1.5, "Infinity"]
 * stateToJson("map", "long", [["a", 1n], ["b", null]], "string"); // => [["a", "1"], ["b", null]]
 * stateToJson("value", types.tuple(types.string, types.long), ["acme", 7n]); // => ["acme", "7"]
 * ```
 *
 * @param kind The state kind.
 * @param valueType The value type (the element type of a list, the value
 *   type of a map): a basic type name or a type descriptor.
 * @param value The decoded state as the client gives it.
 * @param mapKeyType The map key type (map state only).
 * @returns The JSON value.
 */
export function stateToJson(
  kind: StateKind,
  valueType: TypeName | TypeSerializer<unknown>,
  value: unknown,
  mapKeyType?: TypeName | TypeSerializer<unknown>,
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
 * Reads a type from a parameter, in the type syntax: a basic name
 * (`long`), or a composite (`tuple<string,long>`,
 * `pojo<id:long,name:string>`, `list<nullable<int>>`, …). The text is
 * bounded by the parser's limits.
 *
 * @example
 * ```ts
 * import { parseTypeParam } from "@kvstate/queryable-state/http";
 *
 * parseTypeParam("tuple<string,long>", "keyType").kind; // => "tuple"
 * try {
 *   parseTypeParam("tuple<string,lon>", "keyType");
 * } catch (e) {
 *   (e as Error).message.startsWith("Bad parameter keyType:"); // => true
 * }
 * ```
 *
 * @param value The parameter's value.
 * @param parameter The parameter's name, for the error.
 * @returns The type's descriptor.
 * @throws {BadParameterError} When it is missing or not a type (the message
 *   names the position in the text).
 */
export function parseTypeParam(value: unknown, parameter: string): TypeDescriptor<unknown> {
  if (value === undefined || value === null) {
    throw new BadParameterError(
      parameter,
      `missing (a type: ${TYPE_NAMES.join(", ")}, or e.g. tuple<string,long>)`,
    );
  }
  if (typeof value !== "string") {
    throw new BadParameterError(parameter, `expected a type as text, got ${show(value)}`);
  }
  if (isTypeName(value)) return BASIC_TYPES[value];
  try {
    return parseType(value);
  } catch (e) {
    if (e instanceof TypeSyntaxError) throw new BadParameterError(parameter, e.message);
    throw e;
  }
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
 * import { parseKeyParam, parseTypeParam } from "@kvstate/queryable-state/http";
 *
 * parseKeyParam("long", "9007199254740993", "key"); // => 9007199254740993n
 * parseKeyParam("int", "-7", "key"); // => -7
 * parseKeyParam("bytes", "AQL_", "key"); // => new Uint8Array([1, 2, 255])
 * parseKeyParam(parseTypeParam("tuple<string,long>", "keyType"), '["acme",42]', "key"); // => ["acme", 42n]
 * ```
 *
 * @param type The key type: a basic type name or a type descriptor.
 * @param text The parameter's text.
 * @param parameter The parameter's name, for the error.
 * @returns The key as the client takes it (`bigint` for `long`, ...).
 * @throws {BadParameterError} When the text is not a value of the type
 *   (naming the path inside a structured key: `key[1]`).
 */
export function parseKeyParam(
  type: TypeName | TypeDescriptor<unknown>,
  text: string,
  parameter: string,
): unknown {
  if (typeof type !== "string") {
    if (isTypeName(type.kind)) return parseKeyParam(type.kind, text, parameter);
    if (!isStructuredKind(type.kind)) return keyFromJson(type, text, parameter);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new BadParameterError(
        parameter,
        `expected JSON for ${type.text} (e.g. an array for a tuple), got ${show(text)}`,
      );
    }
    return parseKeyJson(type, json, parameter);
  }
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
    case "bytes": {
      const bytes = base64ToBytes(text);
      if (bytes === undefined) {
        throw new BadParameterError(parameter, `expected base64, got ${show(text)}`);
      }
      return bytes;
    }
  }
}

/**
 * Reads a key of the given type from a JSON value (see the module doc for
 * the accepted forms).
 *
 * @example
 * ```ts
 * import { parseKeyJson, parseTypeParam } from "@kvstate/queryable-state/http";
 *
 * parseKeyJson("long", "9007199254740993", "queries[0].key"); // => 9007199254740993n
 * parseKeyJson("long", 42, "queries[0].key"); // => 42n
 * parseKeyJson("double", "NaN", "queries[0].key"); // => NaN
 * parseKeyJson(parseTypeParam("tuple<string,long>", "keyType"), ["acme", "42"], "queries[0].key"); // => ["acme", 42n]
 * ```
 *
 * @param type The key type: a basic type name or a type descriptor.
 * @param value The JSON value.
 * @param parameter The parameter's name, for the error.
 * @returns The key as the client takes it.
 * @throws {BadParameterError} When the value is not one of the type
 *   (naming the path inside a structured key: `queries[0].key[1]`).
 */
export function parseKeyJson(
  type: TypeName | TypeDescriptor<unknown>,
  value: unknown,
  parameter: string,
): unknown {
  if (value === undefined) throw new BadParameterError(parameter, "missing");
  if (value === null) throw new BadParameterError(parameter, "a key cannot be null");
  if (typeof type !== "string") {
    return isTypeName(type.kind)
      ? parseKeyJson(type.kind, value, parameter)
      : keyFromJson(type, value, parameter);
  }
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

/** A key of a non-basic type from its JSON form; a bad one names its path under `parameter`. */
function keyFromJson(type: TypeDescriptor<unknown>, json: unknown, parameter: string): unknown {
  try {
    return fromJsonValue(type, json, parameter);
  } catch (e) {
    if (e instanceof TypeValueError) throw new BadParameterError(e.path, e.problem);
    throw e;
  }
}

function parseLong(text: string, parameter: string): bigint {
  const n = decimalBigInt(text, 40);
  if (n === undefined) {
    throw new BadParameterError(parameter, `expected a decimal long, got ${show(text)}`);
  }
  if (!inLongRange(n)) {
    throw new BadParameterError(parameter, `${show(text)} is out of the long range`);
  }
  return n;
}

function parseSmallInt(type: "int" | "short" | "byte", text: string, parameter: string): number {
  const [min, max] = INT_RANGES[type];
  const n = decimalNumber(text);
  if (n === undefined) {
    throw new BadParameterError(parameter, `expected a decimal ${type}, got ${show(text)}`);
  }
  if (n < min || n > max) {
    throw new BadParameterError(parameter, `${show(text)} is out of the ${type} range`);
  }
  return n;
}

function parseFloating(text: string, parameter: string): number {
  const n = floatingNumber(text);
  if (n === undefined) {
    throw new BadParameterError(parameter, `expected a number, got ${show(text)}`);
  }
  return n;
}
