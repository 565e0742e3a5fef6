/**
 * Typed values from text or JSON, pure: the key and value types the client
 * command and the fixture files accept, and how values print.
 *
 * Types are given in the type syntax (`long`, `tuple<string,long>`,
 * `pojo<amount:double,customer:pojo<age:int,name:string>>`; see
 * `parseType`). Values of the six classic CLI types (string, int, long,
 * double, boolean, bytes) keep their forms (a long as digits, bytes as
 * hex); every other type is in the HTTP gateway's JSON form
 * (`src/types/json_form.ts`: a tuple as an array, a POJO as an object, a
 * long inside them as a decimal string, bytes inside them as base64). On
 * the command line, a key of a structured type (tuple, pojo, row,
 * nullable, array, list, map, either) is JSON (`--key '["acme",1001]'`);
 * any other key is its text.
 *
 * @module
 */

import { stateToJson } from "../http/json_values.ts";
import { fromJsonValue } from "../types/json_form.ts";
import { isStructuredKind } from "../types/json_scalars.ts";
import type { TypeDescriptor } from "../types/type_descriptor.ts";
import { TypeValueError } from "../types/type_errors.ts";
import { parseType, TypeSyntaxError } from "../types/type_text.ts";
import { fromHex, toHex } from "../wire/bytes.ts";

/** The types the CLI accepts on the command line and in JSON. */
export const CLI_TYPES = ["string", "int", "long", "double", "boolean", "bytes"] as const;
/** One of {@linkcode CLI_TYPES}. */
export type CliType = typeof CLI_TYPES[number];

/**
 * Converts a JSON or command-line value to the JavaScript value of a type.
 *
 * @param type The type.
 * @param v The value (a string from the command line, or JSON).
 * @param field Where it came from, for the error.
 * @returns The value for the serializer.
 */
export function toTyped(type: CliType, v: unknown, field: string): unknown {
  const bad = (what: string) =>
    new Error(`${field}: expected ${what} for type ${type}, got ${JSON.stringify(v)}`);
  switch (type) {
    case "string":
      if (typeof v !== "string") throw bad("a string");
      return v;
    case "int": {
      const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
        throw bad("a 32-bit integer");
      }
      return n;
    }
    case "long": {
      if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
      if (typeof v === "string" && /^-?\d+$/.test(v.trim())) {
        const b = BigInt(v.trim());
        if (b >= -(2n ** 63n) && b < 2n ** 63n) return b;
      }
      throw bad("a 64-bit integer (a JSON number or a decimal string)");
    }
    case "double": {
      const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
      if (typeof n !== "number" || Number.isNaN(n) && v !== "NaN") throw bad("a number");
      return n;
    }
    case "boolean":
      if (v === true || v === "true") return true;
      if (v === false || v === "false") return false;
      throw bad("true or false");
    case "bytes":
      if (typeof v !== "string") throw bad("a hex string");
      try {
        return fromHex(v);
      } catch {
        throw bad("a hex string");
      }
  }
}

/**
 * Renders a decoded value as JSON: bigints as decimal strings' digits
 * unquoted, byte arrays as hex strings.
 *
 * @param v The value.
 * @returns The text.
 */
export function show(v: unknown): string {
  const marker = "__bigint__:";
  const json = JSON.stringify(v, (_k, x) => {
    if (typeof x === "bigint") return marker + x.toString();
    if (x instanceof Uint8Array) return toHex(x);
    return x;
  });
  return json.replace(new RegExp(`"${marker}(-?\\d+)"`, "g"), "$1");
}

/** Whether a descriptor is one of the classic {@linkcode CLI_TYPES} (their own value forms). */
function classic(d: TypeDescriptor<unknown>): d is TypeDescriptor<unknown> & { kind: CliType } {
  return (CLI_TYPES as readonly string[]).includes(d.kind) && d.kind === d.text;
}

/**
 * Reads a type in the type syntax.
 *
 * @param text The type's text.
 * @param field Where it came from, for the error.
 * @returns The descriptor.
 * @throws {Error} `field: …` naming the position in the text.
 */
export function cliTypeOf(text: unknown, field: string): TypeDescriptor<unknown> {
  if (typeof text !== "string") {
    throw new Error(
      `${field}: expected a type (e.g. long, tuple<string,long>), got ${JSON.stringify(text)}`,
    );
  }
  try {
    return parseType(text);
  } catch (e) {
    if (e instanceof TypeSyntaxError) throw new Error(`${field}: ${e.message}`);
    throw e;
  }
}

/**
 * A value of a type from JSON (a fixture file) or from the command line's
 * text (`fromText`: a structured type's text is parsed as JSON first).
 *
 * @param type The descriptor.
 * @param v The JSON value, or the text.
 * @param field Where it came from: the root of the path in errors.
 * @param fromText Whether `v` is command-line text.
 * @returns The value for the serializer.
 * @throws {Error} Naming the path (`states[0].entries[1][0][1]`, `--key[1]`).
 */
export function typedValue(
  type: TypeDescriptor<unknown>,
  v: unknown,
  field: string,
  fromText = false,
): unknown {
  if (classic(type)) return toTyped(type.kind, v, field);
  let json = v;
  if (fromText && isStructuredKind(type.kind)) {
    try {
      json = JSON.parse(v as string);
    } catch {
      throw new Error(`${field}: expected JSON for ${type.text}, got ${JSON.stringify(v)}`);
    }
  }
  try {
    return fromJsonValue(type, json, field);
  } catch (e) {
    if (e instanceof TypeValueError) throw new Error(e.message);
    throw e;
  }
}

/**
 * Renders a decoded state: with only classic types, as {@linkcode show}
 * does; otherwise in the gateway's JSON form.
 *
 * @param kind The state kind.
 * @param valueType The value (element) type.
 * @param value The decoded state.
 * @param mapKeyType The map key type (map state).
 * @returns The text.
 */
export function showState(
  kind: "value" | "list" | "map",
  valueType: TypeDescriptor<unknown>,
  value: unknown,
  mapKeyType?: TypeDescriptor<unknown>,
): string {
  if (classic(valueType) && (mapKeyType === undefined || classic(mapKeyType))) return show(value);
  return JSON.stringify(stateToJson(kind, valueType, value, mapKeyType));
}
