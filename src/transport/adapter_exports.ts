/**
 * What every runtime adapter entry point (`./deno`, `./node`,
 * `./cloudflare`) exports beside its transport: the transport interface it
 * implements and the error classes its signatures name, the same objects
 * as `.`'s, so an adapter's entry point reads (and doc-lints) on its own.
 *
 * @module
 */

export { BindError, ConnectError, QueryableStateError, TlsError } from "../wire/errors.ts";
export type { QueryableStateErrorOptions } from "../wire/errors.ts";
export type { JavaStackFrame, JavaThrowable, ThrowableTextLimits } from "../wire/java_throwable.ts";
export type {
  Connection,
  ConnectOptions,
  DirectChannel,
  DirectHandler,
  Listener,
  NetAddress,
  Transport,
} from "./types.ts";
