/** A logger that keeps its JSON lines, for the role event tests. */
import {
  createLogger,
  type LogLevel,
  type LogRateLimitOptions,
  type WritingLogger,
} from "../../src/observability/mod.ts";
import { delay } from "../_harness.ts";

/** One parsed event. */
export type Event = Record<string, unknown> & { level: LogLevel; event: string };

/** A JSON logger at `debug` whose lines are kept, parsed on demand. */
export class Capture {
  readonly lines: string[] = [];
  readonly logger: WritingLogger;
  now = 0;

  /**
   * @param rateLimit The rate limit (default none, so that every event is seen).
   * @param clock Whether to use the capture's own clock (`now`) instead of `Date.now`.
   */
  constructor(rateLimit: LogRateLimitOptions | false = false, clock = false) {
    this.logger = createLogger({
      write: (line) => this.lines.push(line),
      format: "json",
      level: "debug",
      rateLimit,
      now: clock ? () => this.now : undefined,
    });
  }

  /** Every event so far. */
  get events(): Event[] {
    return this.lines.map((l) => JSON.parse(l) as Event);
  }

  /** The events named `name`. */
  named(name: string): Event[] {
    return this.events.filter((e) => e.event === name);
  }

  /** Waits (at most `ms`) until an event named `name` was logged; returns the first. */
  async waitFor(name: string, ms = 3000): Promise<Event> {
    const end = performance.now() + ms;
    for (;;) {
      const found = this.named(name);
      if (found.length > 0) return found[0];
      if (performance.now() > end) {
        throw new Error(`no ${name} event within ${ms} ms; seen: ${this.lines.join("\n")}`);
      }
      await delay(5);
    }
  }
}

/** `host:port` of an address. */
export function hostPort(a: { hostname: string; port: number }): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}
