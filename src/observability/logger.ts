/**
 * A structured logger: levels, events with fields, one line per event, a
 * rate limit per event name.
 *
 * @module
 */

import { formatJson, formatText, type LogFormatLimits, type LogFormatter } from "./log_format.ts";
import { LogRateLimiter, type LogRateLimitOptions } from "./log_rate_limiter.ts";
import { LOG_LEVELS, type LogFields, type LogLevel } from "./log_record.ts";

/**
 * What every role logs to: structured events (a short stable event name and
 * fields) at four levels. `enabled` lets a caller skip building fields for
 * a level that is off. An implementation must not throw.
 *
 * @example An adapter to any other logging library
 * ```ts
 * import type { LogFields, Logger, LogLevel } from "./mod.ts";
 *
 * const seen: string[] = [];
 * const log = (level: LogLevel) => (event: string, fields?: LogFields) =>
 *   void seen.push(`${level} ${event} ${JSON.stringify(fields ?? {})}`);
 * const logger: Logger = {
 *   enabled: (level) => level !== "debug",
 *   debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error"),
 * };
 * logger.warn("upstream_failed", { address: "10.0.0.1:9069" });
 * seen; // => ['warn upstream_failed {"address":"10.0.0.1:9069"}']
 * ```
 */
export interface Logger {
  /**
   * Whether events of a level are written.
   *
   * @param level The level.
   * @returns Whether they are.
   */
  enabled(level: LogLevel): boolean;
  /** Logs a debug event. @param event Its name. @param fields Its details. */
  debug(event: string, fields?: LogFields): void;
  /** Logs an info event. @param event Its name. @param fields Its details. */
  info(event: string, fields?: LogFields): void;
  /** Logs a warning. @param event Its name. @param fields Its details. */
  warn(event: string, fields?: LogFields): void;
  /** Logs an error. @param event Its name. @param fields Its details. */
  error(event: string, fields?: LogFields): void;
}

/** The event that reports events left out by the rate limit. */
export const SUPPRESSED_EVENT = "log_events_suppressed";

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Where each line goes (without its line feed), e.g. to stderr. An exception of it is counted, not thrown. */
  readonly write: (line: string) => void;
  /** The least level written, or `off`. Default `info`. */
  readonly level?: LogLevel | "off";
  /** `text` ({@linkcode formatText}) or `json` ({@linkcode formatJson}). Default `text`. */
  readonly format?: "text" | "json";
  /** Bounds of each field (see {@linkcode LogFormatLimits}; defaults 1024 characters, 32 fields). */
  readonly limits?: LogFormatLimits;
  /**
   * The rate limit per event name (defaults: 10 events per 10,000 ms per
   * name), or `false` for none. Events past it are counted and reported
   * as one {@linkcode SUPPRESSED_EVENT} event (fields `suppressed_event`,
   * `suppressed`, `interval_ms`, at the most severe level left out) by the
   * first event logged after the interval ended, or by
   * {@linkcode WritingLogger.flush}.
   */
  readonly rateLimit?: LogRateLimitOptions | false;
  /**
   * The clock, in ms since the epoch, read once per event written (for its
   * time and the rate limit; a clock set back delays the end of the open
   * rate-limit intervals by as much). Default `Date.now`.
   */
  readonly now?: () => number;
  /** Fields added to every event (a role's name, …). Default none. */
  readonly fields?: LogFields;
}

/** The logger {@linkcode createLogger} makes. */
export interface WritingLogger extends Logger {
  /** The least level written, or `off`. */
  readonly level: LogLevel | "off";
  /** How many lines `write` threw on (and so were lost). */
  readonly writeErrors: number;
  /**
   * A logger writing to the same place, under the same rate limit, with
   * more fields on every event.
   *
   * @param fields The fields to add.
   * @returns The logger.
   */
  child(fields: LogFields): WritingLogger;
  /** Reports now what the rate limit left out so far (call it at shutdown). */
  flush(): void;
}

interface Sink {
  readonly threshold: number;
  readonly level: LogLevel | "off";
  readonly format: LogFormatter;
  readonly limits: LogFormatLimits | undefined;
  readonly limiter: LogRateLimiter | undefined;
  readonly now: () => number;
  readonly write: (line: string) => void;
  writeErrors: number;
}

class SinkLogger implements WritingLogger {
  readonly #sink: Sink;
  readonly #fields: LogFields | undefined;

  constructor(sink: Sink, fields: LogFields | undefined) {
    this.#sink = sink;
    this.#fields = fields;
  }

  get level(): LogLevel | "off" {
    return this.#sink.level;
  }
  get writeErrors(): number {
    return this.#sink.writeErrors;
  }
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#sink.threshold;
  }
  debug(event: string, fields?: LogFields): void {
    this.#log(0, event, fields);
  }
  info(event: string, fields?: LogFields): void {
    this.#log(1, event, fields);
  }
  warn(event: string, fields?: LogFields): void {
    this.#log(2, event, fields);
  }
  error(event: string, fields?: LogFields): void {
    this.#log(3, event, fields);
  }
  child(fields: LogFields): WritingLogger {
    return new SinkLogger(this.#sink, { ...this.#fields, ...fields });
  }
  flush(): void {
    const sink = this.#sink;
    if (sink.limiter === undefined) return;
    try {
      this.#summaries(sink.now(), true);
    } catch {
      // A clock that throws: nothing to report with.
    }
  }

  #log(level: number, event: string, fields: LogFields | undefined): void {
    const sink = this.#sink;
    if (level < sink.threshold) return;
    try {
      const now = sink.now();
      const limiter = sink.limiter;
      if (limiter !== undefined) {
        this.#summaries(now, false);
        if (!limiter.admit(String(event), LOG_LEVELS[level], now)) return;
      }
      const all = this.#fields === undefined
        ? fields ?? {}
        : fields === undefined
        ? this.#fields
        : { ...this.#fields, ...fields };
      this.#write(
        sink.format({ time: now, level: LOG_LEVELS[level], event, fields: all }, sink.limits),
      );
    } catch {
      sink.writeErrors++;
    }
  }

  #summaries(now: number, all: boolean): void {
    const sink = this.#sink;
    for (const s of sink.limiter!.takeEnded(now, all)) {
      this.#write(
        sink.format({
          time: now,
          level: s.level,
          event: SUPPRESSED_EVENT,
          fields: {
            suppressed_event: s.event,
            suppressed: s.suppressed,
            interval_ms: now - s.since,
          },
        }, sink.limits),
      );
    }
  }

  #write(line: string): void {
    try {
      this.#sink.write(line);
    } catch {
      this.#sink.writeErrors++;
    }
  }
}

/**
 * A logger writing one line per event (text or JSON, every field bounded
 * and escaped: see {@linkcode formatText}, {@linkcode formatJson}), events
 * below `level` dropped, and at most a few events of each name per interval
 * (the rest counted, then reported as one {@linkcode SUPPRESSED_EVENT}
 * event). It starts no timer: the rate limit is checked with the clock
 * read at each event. It never throws.
 *
 * @example
 * ```ts
 * import { createLogger } from "./mod.ts";
 *
 * const lines: string[] = [];
 * let now = 0;
 * const logger = createLogger({
 *   level: "info",
 *   format: "json",
 *   write: (line) => lines.push(line),
 *   rateLimit: { maxEvents: 1, intervalMs: 1000 },
 *   now: () => now,
 * });
 * logger.debug("ignored");
 * logger.warn("frame_error", { peer: "10.0.0.2:5000" });
 * logger.warn("frame_error", { peer: "10.0.0.2:5000" }); // over the limit: counted
 * now = 1000;
 * logger.info("tick");
 * lines.length; // => 3
 * lines[0]; // => '{"time":"1970-01-01T00:00:00.000Z","level":"warn","event":"frame_error","peer":"10.0.0.2:5000"}'
 * JSON.parse(lines[1]).suppressed; // => 1
 * ```
 *
 * @param options Where to write, level, format, bounds, rate limit.
 * @returns The logger.
 * @throws {RangeError} On an unknown level or format, or bad rate-limit options.
 */
export function createLogger(options: LoggerOptions): WritingLogger {
  const level = options.level ?? "info";
  const threshold = level === "off" ? LOG_LEVELS.length : LOG_LEVELS.indexOf(level);
  if (threshold < 0) throw new RangeError(`Unknown log level ${JSON.stringify(level)}`);
  const format = options.format ?? "text";
  if (format !== "text" && format !== "json") {
    throw new RangeError(`Unknown log format ${JSON.stringify(format)}: use text or json`);
  }
  if (typeof options.write !== "function") {
    throw new TypeError("createLogger needs a write function");
  }
  const sink: Sink = {
    threshold,
    level,
    format: format === "json" ? formatJson : formatText,
    limits: options.limits,
    limiter: options.rateLimit === false ? undefined : new LogRateLimiter(options.rateLimit),
    now: options.now ?? Date.now,
    write: options.write,
    writeErrors: 0,
  };
  return new SinkLogger(sink, options.fields);
}

/**
 * A logger that writes nothing: the default of a role given no logger.
 *
 * @example
 * ```ts
 * import { SILENT_LOGGER } from "./mod.ts";
 *
 * SILENT_LOGGER.enabled("error"); // => false
 * SILENT_LOGGER.error("anything"); // nothing happens
 * ```
 */
export const SILENT_LOGGER: Logger = Object.freeze({
  enabled: () => false,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
});
