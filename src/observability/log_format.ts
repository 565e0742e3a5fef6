/**
 * The text and JSON lines of log events, with every field bounded in
 * length and escaped, so that data from a peer can neither flood a log nor
 * forge a line.
 *
 * @module
 */

import type { LogFields, LogRecord } from "./log_record.ts";

/**
 * The default bound of a field's value: 1024 characters before escaping
 * (a longer value is cut and ends with `…(N more)`).
 */
export const DEFAULT_MAX_FIELD_LENGTH = 1024;
/** The default bound of the number of fields of one event (the rest are counted in `fields_dropped`). */
export const DEFAULT_MAX_FIELDS = 32;
/** The bound of an event name or a field name, in characters. */
export const MAX_NAME_LENGTH = 64;

/** Bounds of {@linkcode formatText} and {@linkcode formatJson}. */
export interface LogFormatLimits {
  /**
   * The most characters of one field's value (strings, error messages,
   * bytes in hex, objects in JSON), counted before escaping; a longer value
   * is cut and marked `…(N more)`. Default
   * {@linkcode DEFAULT_MAX_FIELD_LENGTH}.
   */
  readonly maxFieldLength?: number;
  /**
   * The most fields of one event; the others are left out and counted in a
   * `fields_dropped` field. Default {@linkcode DEFAULT_MAX_FIELDS}.
   */
  readonly maxFields?: number;
}

/** A formatter: one event to one line (without its line feed). */
export type LogFormatter = (record: LogRecord, limits?: LogFormatLimits) => string;

const RESERVED = new Set(["time", "level", "event"]);

function bounded(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (end > 0 && c >= 0xd800 && c <= 0xdbff) end--; // never split a surrogate pair
  return `${s.slice(0, end)}…(${s.length - end} more)`;
}

/** A name (event or field) cut to {@linkcode MAX_NAME_LENGTH}, its unusual characters as `_`. */
function safeName(name: string): string {
  const s = String(name).slice(0, MAX_NAME_LENGTH).replace(/[^A-Za-z0-9_.:\-]/g, "_");
  return s.length === 0 ? "_" : s;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * A field's value reduced to a bounded primitive: strings cut; numbers,
 * booleans, `null` kept; bigints as decimal strings; errors as
 * `Name: message`; bytes as hex; dates as ISO text; other objects as JSON
 * (or their string form), cut.
 */
function fieldValue(v: unknown, max: number): string | number | boolean | null {
  try {
    switch (typeof v) {
      case "string":
        return bounded(v, max);
      case "number":
      case "boolean":
        return v;
      case "bigint":
        return bounded(v.toString(), max);
      case "undefined":
        return null;
      case "symbol":
      case "function":
        return bounded(String(v), max);
    }
    if (v === null) return null;
    if (v instanceof Error) return bounded(`${v.name}: ${v.message}`, max);
    if (v instanceof Uint8Array) {
      const n = Math.min(v.length, Math.ceil(max / 2));
      let s = "";
      for (let i = 0; i < n; i++) s += HEX[v[i]];
      return n < v.length ? `${s}…(${v.length - n} more bytes)` : s;
    }
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
    const json = JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
    return bounded(json ?? String(v), max);
  } catch {
    return "[unprintable]";
  }
}

function eachField(
  fields: LogFields,
  limits: LogFormatLimits | undefined,
  emit: (name: string, value: string | number | boolean | null) => void,
): void {
  const maxLength = limits?.maxFieldLength ?? DEFAULT_MAX_FIELD_LENGTH;
  const maxFields = limits?.maxFields ?? DEFAULT_MAX_FIELDS;
  let n = 0;
  let dropped = 0;
  for (const k in fields) {
    if (!Object.hasOwn(fields, k)) continue;
    const v = fields[k];
    if (v === undefined) continue;
    if (n === maxFields) {
      dropped++;
      continue;
    }
    n++;
    const name = safeName(k);
    emit(RESERVED.has(name) ? `_${name}` : name, fieldValue(v, maxLength));
  }
  if (dropped > 0) emit("fields_dropped", dropped);
}

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029"\\]/g;
// deno-lint-ignore no-control-regex
const NEEDS_QUOTES = /[\s\u0000-\u001f\u007f-\u009f\u2028\u2029"\\=]/;

function escapeChar(c: string): string {
  switch (c) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    case '"':
      return '\\"';
    case "\\":
      return "\\\\";
    default:
      return "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
  }
}

function textValue(v: string | number | boolean | null): string {
  if (typeof v !== "string") return String(v);
  if (v.length > 0 && !NEEDS_QUOTES.test(v)) return v;
  return `"${v.replace(NEEDS_ESCAPE, escapeChar)}"`;
}

/**
 * An event as one line of text: ISO time, level in capitals, event name,
 * then `name=value` fields. A value with a space, `=`, a quote, a
 * backslash or a control or line-separator character (or empty) is written
 * in double quotes with `\"`, `\\`, `\n`, `\r`, `\t` and `\uXXXX` escapes;
 * names are cut to {@linkcode MAX_NAME_LENGTH} characters of
 * `[A-Za-z0-9_.:-]` (others become `_`). A field whose value is `undefined`
 * is left out; a field named `time`, `level` or `event` is written `_time`,
 * `_level`, `_event`.
 *
 * @example
 * ```ts
 * import { formatText } from "./mod.ts";
 *
 * formatText({
 *   time: 0,
 *   level: "warn",
 *   event: "upstream_failed",
 *   fields: { address: "127.0.0.1:9069", error: new Error("refused\nfake line") },
 * });
 * // => '1970-01-01T00:00:00.000Z WARN upstream_failed address=127.0.0.1:9069 error="Error: refused\\nfake line"'
 * ```
 *
 * @param record The event.
 * @param limits Bounds of the fields.
 * @returns One line, without a line feed.
 */
export function formatText(record: LogRecord, limits?: LogFormatLimits): string {
  let line = `${isoTime(record.time)} ${String(record.level).toUpperCase()} ${
    safeName(record.event)
  }`;
  eachField(record.fields, limits, (name, value) => {
    line += ` ${name}=${textValue(value)}`;
  });
  return line;
}

/**
 * An event as one line of JSON: `time` (ISO), `level`, `event`, then the
 * fields (a field named `time`, `level` or `event` is written `_time`, …);
 * `NaN` and infinite numbers as strings. Names as in
 * {@linkcode formatText}.
 *
 * @example
 * ```ts
 * import { formatJson } from "./mod.ts";
 *
 * formatJson({ time: 0, level: "info", event: "started", fields: { port: 9069, level: 1 } });
 * // => '{"time":"1970-01-01T00:00:00.000Z","level":"info","event":"started","port":9069,"_level":1}'
 * ```
 *
 * @param record The event.
 * @param limits Bounds of the fields.
 * @returns One line, without a line feed.
 */
export function formatJson(record: LogRecord, limits?: LogFormatLimits): string {
  let line = `{"time":${JSON.stringify(isoTime(record.time))},"level":${
    JSON.stringify(String(record.level))
  },"event":${JSON.stringify(safeName(record.event))}`;
  eachField(record.fields, limits, (name, value) => {
    const v = typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
    line += `,${JSON.stringify(name)}:${JSON.stringify(v)}`;
  });
  return line + "}";
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
