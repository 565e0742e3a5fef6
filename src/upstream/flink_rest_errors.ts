/**
 * The errors of discovery through Flink's REST API: one class per way a
 * refresh fails, all under {@linkcode FlinkRestError}.
 *
 * @module
 */

/**
 * A refresh of the member list from Flink's REST API failed; the last good
 * list stays in force. The base of every discovery error; used as is when
 * the request itself failed (refused, reset, DNS, TLS), with the runtime's
 * error as `cause`.
 *
 * @example
 * ```ts
 * import { FlinkRestError, FlinkRestStatusError } from "./flink_rest_errors.ts";
 *
 * const e = new FlinkRestStatusError("http://jobmanager:8081/taskmanagers", 503);
 * e instanceof FlinkRestError; // => true
 * e.message; // => "Flink REST http://jobmanager:8081/taskmanagers: HTTP 503"
 * ```
 */
export class FlinkRestError extends Error {
  /** The URL requested. */
  readonly url: string;

  /**
   * Creates the error.
   *
   * @param url The URL requested.
   * @param reason What failed.
   * @param options The cause.
   */
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(`Flink REST ${url}: ${reason}`, options);
    this.url = url;
  }

  /** The class name, as `Error.prototype.name` reports it. */
  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * The REST API answered with a status other than 2xx (e.g. 500 while the
 * JobManager starts, 401 from a gateway that wants a token).
 *
 * @example
 * ```ts
 * import { FlinkRestStatusError } from "./flink_rest_errors.ts";
 *
 * new FlinkRestStatusError("http://jobmanager:8081/taskmanagers", 401).status; // => 401
 * ```
 */
export class FlinkRestStatusError extends FlinkRestError {
  /** The HTTP status. */
  readonly status: number;

  /**
   * Creates the error.
   *
   * @param url The URL requested.
   * @param status The HTTP status.
   */
  constructor(url: string, status: number) {
    super(url, `HTTP ${status}`);
    this.status = status;
  }
}

/**
 * The request, reading the body included, took longer than the discovery's
 * `requestTimeoutMs`.
 *
 * @example
 * ```ts
 * import { FlinkRestTimeoutError } from "./flink_rest_errors.ts";
 *
 * new FlinkRestTimeoutError("http://jobmanager:8081/taskmanagers", 5000).message;
 * // => "Flink REST http://jobmanager:8081/taskmanagers: no complete answer within 5000 ms"
 * ```
 */
export class FlinkRestTimeoutError extends FlinkRestError {
  /** The bound in force, in ms. */
  readonly timeoutMs: number;

  /**
   * Creates the error.
   *
   * @param url The URL requested.
   * @param timeoutMs The bound in force.
   */
  constructor(url: string, timeoutMs: number) {
    super(url, `no complete answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The response body is larger than the discovery's `maxBodyBytes`: refused
 * on its `Content-Length`, or cancelled once that many bytes were read.
 *
 * @example
 * ```ts
 * import { FlinkRestBodyTooLargeError } from "./flink_rest_errors.ts";
 *
 * const e = new FlinkRestBodyTooLargeError("http://jm:8081/taskmanagers", 1048576, 2097152, true);
 * e.message;
 * // => "Flink REST http://jm:8081/taskmanagers: the response declares 2097152 bytes, more than maxBodyBytes (1048576)"
 * ```
 */
export class FlinkRestBodyTooLargeError extends FlinkRestError {
  /** The bound in force, in bytes. */
  readonly maxBodyBytes: number;
  /** The declared length, or the bytes read when the body passed the bound. */
  readonly bytes: number;
  /** Whether `bytes` is the declared `Content-Length` (the body was not read). */
  readonly declared: boolean;

  /**
   * Creates the error.
   *
   * @param url The URL requested.
   * @param maxBodyBytes The bound in force.
   * @param bytes The declared length, or the bytes read so far.
   * @param declared Whether `bytes` is the declared `Content-Length`.
   */
  constructor(url: string, maxBodyBytes: number, bytes: number, declared: boolean) {
    super(
      url,
      declared
        ? `the response declares ${bytes} bytes, more than maxBodyBytes (${maxBodyBytes})`
        : `the response passed maxBodyBytes (${maxBodyBytes}) after ${bytes} bytes; the rest was not read`,
    );
    this.maxBodyBytes = maxBodyBytes;
    this.bytes = bytes;
    this.declared = declared;
  }
}

/**
 * The body is not JSON, or not the shape of Flink's `TaskManagersInfo`
 * (an object whose `taskmanagers` is an array of objects, each with the
 * string fields `id` and `path`), or no listed TaskManager has an address
 * a host can be read from.
 *
 * @example
 * ```ts
 * import { FlinkRestShapeError } from "./flink_rest_errors.ts";
 *
 * new FlinkRestShapeError("http://jm:8081/taskmanagers", "taskmanagers is not an array").message;
 * // => "Flink REST http://jm:8081/taskmanagers: unexpected response: taskmanagers is not an array"
 * ```
 */
export class FlinkRestShapeError extends FlinkRestError {
  /**
   * Creates the error.
   *
   * @param url The URL requested.
   * @param reason What is wrong with the body.
   * @param options The cause (the JSON parser's error).
   */
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(url, `unexpected response: ${reason}`, options);
  }
}

/**
 * The TaskManagers listed sit on more distinct hosts than the discovery's
 * `maxHosts`.
 *
 * @example
 * ```ts
 * import { FlinkRestTooManyHostsError } from "./flink_rest_errors.ts";
 *
 * new FlinkRestTooManyHostsError("http://jm:8081/taskmanagers", 1024, 1500).hosts; // => 1500
 * ```
 */
export class FlinkRestTooManyHostsError extends FlinkRestError {
  /** The bound in force. */
  readonly maxHosts: number;
  /** The distinct hosts listed. */
  readonly hosts: number;

  /**
   * Creates the error.
   *
   * @param url The URL requested.
   * @param maxHosts The bound in force.
   * @param hosts The distinct hosts listed.
   */
  constructor(url: string, maxHosts: number, hosts: number) {
    super(url, `${hosts} TaskManager hosts listed, more than maxHosts (${maxHosts})`);
    this.maxHosts = maxHosts;
    this.hosts = hosts;
  }
}

/**
 * A refresh would probe more ports than the discovery's
 * `maxProbesPerRefresh`: the distinct hosts listed times the ports of the
 * proxy port range. Nothing was probed; the last good list stays.
 *
 * @example
 * ```ts
 * import { FlinkRestTooManyProbesError } from "./flink_rest_errors.ts";
 *
 * const e = new FlinkRestTooManyProbesError("http://jm:8081/taskmanagers", 1024, 300, 8);
 * e.probes; // => 2400
 * e.message; // => "Flink REST http://jm:8081/taskmanagers: 300 hosts × 8 ports = 2400 probes, more than maxProbesPerRefresh (1024)"
 * ```
 */
export class FlinkRestTooManyProbesError extends FlinkRestError {
  /** The bound in force. */
  readonly maxProbes: number;
  /** The probes the refresh would make: `hosts × ports`. */
  readonly probes: number;
  /** The distinct hosts listed. */
  readonly hosts: number;
  /** The ports of the range probed on each host. */
  readonly ports: number;

  /**
   * Creates the error.
   *
   * @param url The URL requested.
   * @param maxProbes The bound in force.
   * @param hosts The distinct hosts listed.
   * @param ports The ports of the range.
   */
  constructor(url: string, maxProbes: number, hosts: number, ports: number) {
    const probes = hosts * ports;
    super(
      url,
      `${hosts} hosts × ${ports} ports = ${probes} probes, more than maxProbesPerRefresh (${maxProbes})`,
    );
    this.maxProbes = maxProbes;
    this.probes = probes;
    this.hosts = hosts;
    this.ports = ports;
  }
}
