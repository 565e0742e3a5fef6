/** A logger that keeps every event it is given, for the pool's and discovery's log tests. */

import type { LogFields, LogLevel } from "../../src/observability/log_record.ts";
import type { Logger } from "../../src/observability/logger.ts";

/** One event as the logger got it (`fields` is `{}` when none were given). */
export interface RecordedEvent {
  level: LogLevel;
  event: string;
  fields: LogFields;
}

/** A logger at every level and the events it got, in order. */
export function recorder(): { logger: Logger; events: RecordedEvent[] } {
  const events: RecordedEvent[] = [];
  const log = (level: LogLevel) => (event: string, fields?: LogFields) =>
    void events.push({ level, event, fields: fields ?? {} });
  return {
    events,
    logger: {
      enabled: () => true,
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
    },
  };
}
