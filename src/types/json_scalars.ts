/**
 * The pieces of the JSON and text forms of the basic values that the JSON
 * form (`json_form.ts`), the HTTP gateway's key parsing and the CLI share:
 * the integer ranges, the checks of decimal, floating-point and base64
 * text, base64 both ways, the structured kinds (whose value on a command
 * line or in a query parameter is JSON), and how a bad value shows in a
 * message. Each reader gives `undefined` for text that does not fit, so
 * that every caller keeps its own error class and words.
 *
 * @module
 */

/** The inclusive ranges of Java's `int`, `short` and `byte`. */
export const INT_RANGES: Readonly<Record<"int" | "short" | "byte", readonly [number, number]>> = {
  int: [-2147483648, 2147483647],
  short: [-32768, 32767],
  byte: [-128, 127],
};

/** The smallest Java `long`. */
export const LONG_MIN: bigint = -(1n << 63n);
/** The largest Java `long`. */
export const LONG_MAX: bigint = (1n << 63n) - 1n;

const DECIMAL = /^-?[0-9]+$/;
/** Base64 or base64url, padding optional. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
/** The longest text shown of a bad value in an error message. */
const SHOWN = 64;

/** The kinds whose value is given as JSON where the others are given as their text. */
const STRUCTURED: ReadonlySet<string> = new Set([
  "tuple",
  "pojo",
  "row",
  "nullable",
  "array",
  "list",
  "map",
  "either",
]);

/**
 * Whether values of a kind are given as JSON in a query parameter or on a
 * command line (`tuple`, `pojo`, `row`, `nullable`, `array`, `list`,
 * `map`, `either`); the other kinds are given as their text.
 *
 * @example
 * ```ts
 * import { isStructuredKind } from "./json_scalars.ts";
 *
 * isStructuredKind("tuple"); // => true
 * isStructuredKind("decimal"); // => false
 * ```
 *
 * @param kind A descriptor's kind.
 * @returns Whether it is structured.
 */
export function isStructuredKind(kind: string): boolean {
  return STRUCTURED.has(kind);
}

/**
 * Whether a value is inside a Java `long`.
 *
 * @example
 * ```ts
 * import { inLongRange } from "./json_scalars.ts";
 *
 * inLongRange(9223372036854775807n); // => true
 * inLongRange(9223372036854775808n); // => false
 * ```
 *
 * @param n The value.
 * @returns Whether it fits.
 */
export function inLongRange(n: bigint): boolean {
  return n >= LONG_MIN && n <= LONG_MAX;
}

/**
 * Whether text is a decimal integer (`-?[0-9]+`), whatever its length
 * (nothing is converted).
 *
 * @example
 * ```ts
 * import { isDecimalInteger } from "./json_scalars.ts";
 *
 * isDecimalInteger("-42"); // => true
 * isDecimalInteger("4e2"); // => false
 * ```
 *
 * @param text The text.
 * @returns Whether it is one.
 */
export function isDecimalInteger(text: string): boolean {
  return DECIMAL.test(text);
}

/**
 * The integer of decimal text (`-?[0-9]+`, at most `maxLength`
 * characters), or `undefined`.
 *
 * @example
 * ```ts
 * import { decimalBigInt } from "./json_scalars.ts";
 *
 * decimalBigInt("-42", 40); // => -42n
 * decimalBigInt("4e2", 40); // => undefined
 * ```
 *
 * @param text The text.
 * @param maxLength The longest text read.
 * @returns The integer, or `undefined` when the text is not one.
 */
export function decimalBigInt(text: string, maxLength: number): bigint | undefined {
  return DECIMAL.test(text) && text.length <= maxLength ? BigInt(text) : undefined;
}

/**
 * The number of decimal text (`-?[0-9]+`, at most 20 characters; the
 * range is the caller's to check), or `undefined`.
 *
 * @example
 * ```ts
 * import { decimalNumber } from "./json_scalars.ts";
 *
 * decimalNumber("-7"); // => -7
 * decimalNumber("7.0"); // => undefined
 * ```
 *
 * @param text The text.
 * @returns The number, or `undefined` when the text is not decimal.
 */
export function decimalNumber(text: string): number | undefined {
  return DECIMAL.test(text) && text.length <= 20 ? Number(text) : undefined;
}

/**
 * The number of the text of a `double` or `float`: any JavaScript number
 * literal without surrounding space, `NaN`, `Infinity`, `-Infinity`; or
 * `undefined`.
 *
 * @example
 * ```ts
 * import { floatingNumber } from "./json_scalars.ts";
 *
 * floatingNumber("1.5e3"); // => 1500
 * floatingNumber("-Infinity"); // => -Infinity
 * floatingNumber(" 1"); // => undefined
 * ```
 *
 * @param text The text.
 * @returns The number, or `undefined` when the text is not one.
 */
export function floatingNumber(text: string): number | undefined {
  if (text === "NaN") return NaN;
  const n = text.trim() === "" || text !== text.trim() ? NaN : Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/**
 * Base64 of the bytes (RFC 4648, with padding).
 *
 * @example
 * ```ts
 * import { bytesToBase64 } from "./json_scalars.ts";
 *
 * bytesToBase64(new Uint8Array([1, 2, 255])); // => "AQL/"
 * ```
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/**
 * The bytes of base64 or base64url text, padding optional, or `undefined`.
 *
 * @example
 * ```ts
 * import { base64ToBytes } from "./json_scalars.ts";
 *
 * base64ToBytes("AQL_"); // => new Uint8Array([1, 2, 255])
 * base64ToBytes("A"); // => undefined
 * ```
 *
 * @param text The text.
 * @returns The bytes, or `undefined` when the text is not base64.
 */
export function base64ToBytes(text: string): Uint8Array | undefined {
  if (!BASE64.test(text) || text.length % 4 === 1) return undefined;
  let std = text.replaceAll("-", "+").replaceAll("_", "/");
  while (std.length % 4 !== 0) std += "=";
  let binary: string;
  try {
    binary = atob(std);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * A bad value for a message: its JSON (a `bigint` as its decimal string),
 * at most 64 characters.
 *
 * @example
 * ```ts
 * import { showValue } from "./json_scalars.ts";
 *
 * showValue(["acme", 1n]); // => '["acme","1"]'
 * showValue("x".repeat(70)).length; // => 65
 * ```
 *
 * @param value Anything.
 * @returns The text.
 */
export function showValue(value: unknown): string {
  // Written piece by piece and stopped past SHOWN characters, so that JSON
  // nested 100000 deep or an array of millions costs no more than a short one.
  const parts: string[] = [];
  let length = 0;
  const emit = (s: string): boolean => {
    parts.push(s);
    length += s.length;
    return length <= SHOWN;
  };
  const walk = (v: unknown, inArray: boolean): boolean => {
    switch (typeof v) {
      case "string":
        return emit(JSON.stringify(v.length > SHOWN ? v.slice(0, SHOWN + 1) : v));
      case "number":
      case "boolean":
        return emit(JSON.stringify(v));
      case "bigint":
        return emit(`"${v}"`);
      case "object": {
        if (v === null) return emit("null");
        if (Array.isArray(v)) {
          if (!emit("[")) return false;
          for (let i = 0; i < v.length; i++) {
            if ((i > 0 && !emit(",")) || !walk(v[i], true)) return false;
          }
          return emit("]");
        }
        if (!emit("{")) return false;
        let first = true;
        for (const k of Object.keys(v)) {
          const x = (v as Record<string, unknown>)[k];
          if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
          if ((!first && !emit(",")) || !emit(JSON.stringify(k) + ":") || !walk(x, false)) {
            return false;
          }
          first = false;
        }
        return emit("}");
      }
      default: // undefined, a function, a symbol
        return emit(inArray ? "null" : String(v));
    }
  };
  walk(value, false);
  const text = parts.join("");
  return text.length > SHOWN ? text.slice(0, SHOWN) + "…" : text;
}
