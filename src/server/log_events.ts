/**
 * The fields of the log events every role writes (servers, the proxy, the
 * client): small, bounded values built only once a bound is hit or a
 * failure happened, never per request.
 *
 * @module
 */

import type { LogFields, LogLevel } from "../observability/log_record.ts";
import type { Logger } from "../observability/logger.ts";
import type { NetAddress } from "../transport/types.ts";
import { formatAddress as hostPortText } from "../transport/net_address.ts";

/** The longest error message put in a log event. */
const MAX_MESSAGE = 200;
/** The longest class name put in a log event. */
const MAX_CLASS = 80;

/**
 * @internal The class of an error, for a log field (`TypeError`,
 * `ConnectError`, …; `typeof` for a thrown non-error). Never throws.
 *
 * @param err The error.
 * @returns The class name, at most 80 characters.
 */
export function errorClass(err: unknown): string {
  try {
    if (err instanceof Error) {
      const name = err.constructor?.name;
      return (typeof name === "string" && name !== "" ? name : String(err.name)).slice(
        0,
        MAX_CLASS,
      );
    }
    return err === null ? "null" : typeof err;
  } catch {
    return "unknown";
  }
}

/**
 * @internal The message of an error, cut to 200 characters. Never throws.
 *
 * @param err The error.
 * @returns The message.
 */
export function errorMessage(err: unknown): string {
  try {
    const m = err instanceof Error ? err.message : String(err);
    return m.length > MAX_MESSAGE ? `${m.slice(0, MAX_MESSAGE)}…` : m;
  } catch {
    return "[unprintable]";
  }
}

/**
 * @internal A peer's address as `host:port` (`[v6]:port`), or `unknown`.
 * Never throws.
 *
 * @param a The address.
 * @returns The text.
 */
export function addressText(a: NetAddress | undefined): string {
  try {
    if (a === undefined || a === null) return "unknown";
    return hostPortText(String(a.hostname).slice(0, 256), a.port);
  } catch {
    return "unknown";
  }
}

/**
 * @internal Whether `logger` writes events of `level`: the one check made
 * before the fields of an event are built. Never throws.
 *
 * @param logger The logger.
 * @param level The level.
 * @returns Whether it does.
 */
export function logs(logger: Logger, level: LogLevel): boolean {
  try {
    return logger.enabled(level) === true;
  } catch {
    return false;
  }
}

/**
 * @internal Writes one event; an exception of the logger is ignored (a
 * logger must not throw, but a role never fails because one did).
 *
 * @param logger The logger.
 * @param level The level.
 * @param event The event name (snake_case).
 * @param fields Its fields.
 */
export function logEvent(
  logger: Logger,
  level: LogLevel,
  event: string,
  fields: LogFields,
): void {
  try {
    logger[level](event, fields);
  } catch {
    // Logging never fails the caller.
  }
}
