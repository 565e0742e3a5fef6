/**
 * A rate limit per event name for logs, checked at log time (no timer).
 *
 * @module
 */

import { LOG_LEVELS, type LogLevel } from "./log_record.ts";

/** The default of `maxEvents`: events of one name written per interval. */
export const DEFAULT_LOG_RATE_MAX_EVENTS = 10;
/** The default of `intervalMs`: the length of a rate-limit interval. */
export const DEFAULT_LOG_RATE_INTERVAL_MS = 10_000;
/** The default of `maxTrackedEvents`: event names with an interval open at once. */
export const DEFAULT_LOG_RATE_MAX_TRACKED = 1000;
/** The name under which events past `maxTrackedEvents` names share one limit. */
export const OTHER_EVENTS = "other_events";

/** Options of {@linkcode LogRateLimiter}. */
export interface LogRateLimitOptions {
  /** The most events of one name written per interval. Default 10. */
  readonly maxEvents?: number;
  /** The interval, in ms, starting at the first event of a name. Default 10,000. */
  readonly intervalMs?: number;
  /**
   * The most event names with an interval open at once; events of further
   * names share the limit of the name {@linkcode OTHER_EVENTS}. Default 1000.
   */
  readonly maxTrackedEvents?: number;
}

/** Events of one name left out during one interval. */
export interface SuppressedEvents {
  /** Their name. */
  readonly event: string;
  /** How many were left out. */
  readonly suppressed: number;
  /** The most severe level among them. */
  readonly level: LogLevel;
  /** When their interval started (ms, the limiter's clock). */
  readonly since: number;
}

interface Window {
  start: number;
  count: number;
  suppressed: number;
  level: number;
}

/**
 * Lets through at most `maxEvents` events of each name per interval (which
 * starts at the first event of that name) and counts the rest. It reads no
 * clock and starts no timer: the caller passes the time to
 * {@linkcode LogRateLimiter.admit} and asks with
 * {@linkcode LogRateLimiter.takeEnded} for the intervals ended by then,
 * each with the count of what it left out.
 *
 * @example
 * ```ts
 * import { LogRateLimiter } from "./mod.ts";
 *
 * const limiter = new LogRateLimiter({ maxEvents: 2, intervalMs: 1000 });
 * limiter.admit("frame_error", "warn", 0); // => true
 * limiter.admit("frame_error", "warn", 10); // => true
 * limiter.admit("frame_error", "warn", 20); // => false
 * limiter.takeEnded(500).length; // => 0
 * limiter.takeEnded(1000); // => [{ event: "frame_error", suppressed: 1, level: "warn", since: 0 }]
 * limiter.admit("frame_error", "warn", 1001); // => true
 * ```
 */
export class LogRateLimiter {
  readonly #max: number;
  readonly #interval: number;
  readonly #maxTracked: number;
  readonly #windows = new Map<string, Window>();
  #nextEnd = Infinity;

  /**
   * Creates a limiter with no interval open.
   *
   * @param options Limits.
   * @throws {RangeError} On a negative or non-integer count, or a non-positive interval.
   */
  constructor(options: LogRateLimitOptions = {}) {
    this.#max = options.maxEvents ?? DEFAULT_LOG_RATE_MAX_EVENTS;
    this.#interval = options.intervalMs ?? DEFAULT_LOG_RATE_INTERVAL_MS;
    this.#maxTracked = options.maxTrackedEvents ?? DEFAULT_LOG_RATE_MAX_TRACKED;
    if (!Number.isInteger(this.#max) || this.#max < 0) {
      throw new RangeError(`maxEvents must be a non-negative integer, got ${this.#max}`);
    }
    if (!(this.#interval > 0)) {
      throw new RangeError(`intervalMs must be positive, got ${this.#interval}`);
    }
    if (!Number.isInteger(this.#maxTracked) || this.#maxTracked < 1) {
      throw new RangeError(`maxTrackedEvents must be a positive integer, got ${this.#maxTracked}`);
    }
  }

  /**
   * Whether an event may be written now; if not, it is counted. Call
   * {@linkcode LogRateLimiter.takeEnded} first with the same time, so that an
   * ended interval is reported before a new one starts.
   *
   * @param event Its name.
   * @param level Its level.
   * @param now The time, in ms.
   * @returns Whether to write it.
   */
  admit(event: string, level: LogLevel, now: number): boolean {
    let name = event;
    let w = this.#windows.get(name);
    if (w === undefined && this.#windows.size >= this.#maxTracked) {
      name = OTHER_EVENTS;
      w = this.#windows.get(name);
    }
    if (w === undefined || now - w.start >= this.#interval) {
      if (w !== undefined && w.suppressed > 0) {
        // takeEnded was not called: the count is kept for it, in a fresh interval.
        w.start = now;
        w.count = 1;
        return true;
      }
      w = { start: now, count: 0, suppressed: 0, level: 0 };
      this.#windows.set(name, w);
      if (now + this.#interval < this.#nextEnd) this.#nextEnd = now + this.#interval;
    }
    if (w.count < this.#max) {
      w.count++;
      return true;
    }
    w.suppressed++;
    const l = LOG_LEVELS.indexOf(level);
    if (l > w.level) w.level = l;
    return false;
  }

  /**
   * The intervals ended by `now` that left events out (their names then
   * start afresh), or every open interval's count with `all`. Cheap when
   * no interval has ended: one comparison.
   *
   * @param now The time, in ms.
   * @param all Whether to end every interval now (at shutdown).
   * @returns What was left out, by name.
   */
  takeEnded(now: number, all = false): SuppressedEvents[] {
    if (!all && now < this.#nextEnd) return [];
    const out: SuppressedEvents[] = [];
    let next = Infinity;
    for (const [event, w] of this.#windows) {
      if (all || now - w.start >= this.#interval) {
        if (w.suppressed > 0) {
          out.push({ event, suppressed: w.suppressed, level: LOG_LEVELS[w.level], since: w.start });
        }
        this.#windows.delete(event);
      } else if (w.start + this.#interval < next) next = w.start + this.#interval;
    }
    this.#nextEnd = next;
    return out;
  }

  /** How many event names have an interval open. */
  get tracked(): number {
    return this.#windows.size;
  }
}
