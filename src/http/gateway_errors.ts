/**
 * The gateway's own errors: a request the gateway refuses before (or
 * instead of) asking the Queryable State proxy. Each carries the HTTP status
 * it answers with and a stable `type` that the JSON error body shows.
 *
 * @module
 */

/**
 * An error the gateway answers with a given HTTP status, e.g. 404 for an
 * unknown route or 413 for a body over the bound. Its `type` is the
 * `error.type` of the JSON body.
 *
 * @example
 * ```ts
 * import { GatewayError } from "@kvstate/queryable-state/http";
 *
 * const e = new GatewayError(405, "MethodNotAllowedError", "POST is not allowed on /healthz");
 * e.status; // => 405
 * e.type; // => "MethodNotAllowedError"
 * ```
 */
export class GatewayError extends Error {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The `error.type` of the JSON body. */
  readonly type: string;

  /**
   * Creates the error.
   *
   * @param status The HTTP status of the answer.
   * @param type The `error.type` of the JSON body.
   * @param message What went wrong.
   */
  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }

  /** The `type`. */
  override get name(): string {
    return this.type;
  }
}

/**
 * A bad request parameter (a query parameter, a path segment or a field of
 * a JSON body): HTTP 400, `error.type` `"BadParameterError"`, and the
 * parameter's name in `parameter` (and in the message).
 *
 * @example
 * ```ts
 * import { BadParameterError } from "@kvstate/queryable-state/http";
 *
 * const e = new BadParameterError("keyType", "unknown type \"Integer\"");
 * e.status; // => 400
 * e.parameter; // => "keyType"
 * e.message; // => "Bad parameter keyType: unknown type \"Integer\""
 * ```
 */
export class BadParameterError extends GatewayError {
  /** The name of the parameter, e.g. `"key"` or `"queries[2].keyType"`. */
  readonly parameter: string;

  /**
   * Creates the error.
   *
   * @param parameter The name of the parameter.
   * @param problem What is wrong with it.
   */
  constructor(parameter: string, problem: string) {
    super(400, "BadParameterError", `Bad parameter ${parameter}: ${problem}`);
    this.parameter = parameter;
  }
}
