/**
 * The logger of a proxy's own client: its connection events, renamed as
 * the proxy's upstream events.
 *
 * @module
 */

import type { LogFields, LogLevel } from "../observability/log_record.ts";
import { type Logger, SILENT_LOGGER } from "../observability/logger.ts";

/** The client's events, as the proxy names them (the others pass unchanged). */
const UPSTREAM_EVENTS: ReadonlyMap<string, string> = new Map([
  ["connect_failed", "upstream_connect_failed"],
  ["connection_lost", "upstream_connection_lost"],
  ["connection_recovered", "upstream_recovered"],
  ["request_queue_full", "upstream_queue_full"],
]);

function renamed(event: string): string {
  return UPSTREAM_EVENTS.get(event) ?? event;
}

/**
 * @internal `logger`, with the events of a `NetworkClient` renamed
 * `upstream_connect_failed`, `upstream_connection_lost`,
 * `upstream_recovered` and `upstream_queue_full`.
 *
 * @param logger The proxy's logger.
 * @returns The logger for the proxy's client.
 */
export function upstreamLogger(logger: Logger): Logger {
  if (logger === SILENT_LOGGER) return logger;
  const log = (level: LogLevel) => (event: string, fields?: LogFields): void =>
    logger[level](renamed(event), fields);
  return {
    enabled: (level) => logger.enabled(level),
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
  };
}
