/**
 * Typed values from text or JSON, pure: the key and value types the client
 * command and the fixture files accept, and how values print.
 *
 * @module
 */

import { fromHex, toHex } from "../wire/bytes.ts";
import type { TypeName } from "../wire/type_serializers.ts";

/** The types the CLI accepts on the command line and in JSON. */
export const CLI_TYPES = ["string", "int", "long", "double", "boolean", "bytes"] as const;
/** One of {@linkcode CLI_TYPES}. */
export type CliType = typeof CLI_TYPES[number];

/**
 * Checks a type name.
 *
 * @param name The name.
 * @param field Where it came from, for the error.
 * @returns The type.
 */
export function cliType(name: unknown, field: string): CliType {
  if (typeof name !== "string" || !(CLI_TYPES as readonly string[]).includes(name)) {
    throw new Error(
      `${field}: expected one of ${CLI_TYPES.join(", ")}, got ${JSON.stringify(name)}`,
    );
  }
  return name as CliType;
}

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

/** @returns The serializer type name of a CLI type (they coincide). */
export function typeName(t: CliType): TypeName {
  return t;
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
