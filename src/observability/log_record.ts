/**
 * What a log event is made of: a level, an event name and fields.
 *
 * @module
 */

/** The severity of a log event, least first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The fields of a log event: names to values (strings, numbers, errors, bytes, …). */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The levels, least severe first.
 *
 * @example
 * ```ts
 * import { LOG_LEVELS } from "./mod.ts";
 *
 * LOG_LEVELS.indexOf("warn") > LOG_LEVELS.indexOf("info"); // => true
 * ```
 */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(
  ["debug", "info", "warn", "error"] as const,
);

/**
 * A log level from text (a flag or an environment variable), or `off`.
 *
 * @example
 * ```ts
 * import { parseLogLevel } from "./mod.ts";
 *
 * parseLogLevel("WARN"); // => "warn"
 * parseLogLevel("off"); // => "off"
 * ```
 *
 * @param text `debug`, `info`, `warn`, `error` or `off`, in any case.
 * @returns The level.
 * @throws {RangeError} On any other text.
 */
export function parseLogLevel(text: string): LogLevel | "off" {
  const t = String(text).trim().toLowerCase();
  if (t === "off" || (LOG_LEVELS as readonly string[]).includes(t)) return t as LogLevel | "off";
  throw new RangeError(
    `Unknown log level ${JSON.stringify(String(text).slice(0, 40))}: use ${
      LOG_LEVELS.join(", ")
    } or off`,
  );
}

/**
 * One event, as the formatters take it.
 *
 * @example
 * ```ts
 * import { formatText, type LogRecord } from "./mod.ts";
 *
 * const record: LogRecord = { time: 0, level: "info", event: "started", fields: { port: 9069 } };
 * formatText(record); // => "1970-01-01T00:00:00.000Z INFO started port=9069"
 * ```
 */
export interface LogRecord {
  /** When, in ms since the epoch. */
  readonly time: number;
  /** Its level. */
  readonly level: LogLevel;
  /** What happened: a short stable name (`upstream_failed`, `bound_hit`). */
  readonly event: string;
  /** Details. */
  readonly fields: LogFields;
}
