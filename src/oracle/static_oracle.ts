/**
 * Oracles backed by a locations document: a fixed one, and one fetched over
 * HTTP.
 *
 * @module
 */

import {
  DeadlineExceededError,
  FlinkJobNotFoundError,
  UnknownKvStateLocationError,
} from "../wire/errors.ts";
import { concatBytes } from "../wire/bytes.ts";
import type { JobId } from "../wire/ids.ts";
import type { KvStateLocation } from "./kv_state_location.ts";
import { LocationsFileError, parseLocations } from "./locations_file.ts";
import type { KvStateLocationOracle } from "./oracle_registry.ts";

function lookup(
  jobs: Map<string, Map<string, KvStateLocation>>,
  jobId: JobId,
  name: string,
): KvStateLocation {
  const states = jobs.get(jobId.toString());
  if (states === undefined) throw FlinkJobNotFoundError.forJob(jobId.toString());
  const loc = states.get(name);
  if (loc === undefined) throw UnknownKvStateLocationError.forName(name);
  return loc;
}

/**
 * An oracle with fixed locations, from a locations document (see
 * {@linkcode parseLocations}).
 *
 * @example
 * ```ts
 * import { JobId, StaticLocationOracle } from "@kvstate/queryable-state";
 *
 * const oracle = new StaticLocationOracle({ jobs: [{ jobId: "0102030405060708a1a2a3a4a5a6a7a8", states: [{
 *   name: "word-counts", numKeyGroups: 128,
 *   keyGroups: [{ start: 0, end: 127, kvStateId: "2122232425262728313233343536373a", address: "127.0.0.1:9067" }],
 * }] }] });
 * const loc = await oracle.requestKvStateLocation(JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8"), "word-counts");
 * loc.numKeyGroups; // => 128
 * oracle.jobIds().length; // => 1
 * ```
 */
export class StaticLocationOracle implements KvStateLocationOracle {
  readonly #jobs: Map<string, Map<string, KvStateLocation>>;

  /**
   * Creates a StaticLocationOracle.
   *
   * @param doc A locations document (parsed JSON).
   * @throws {LocationsFileError} When it does not match the schema.
   */
  constructor(doc: unknown) {
    this.#jobs = parseLocations(doc);
  }

  /**
   * Returns the jobs (hex ids) the document describes.
   *
   * @returns The jobs (hex ids) the document describes.
   */
  jobIds(): string[] {
    return [...this.#jobs.keys()];
  }

  /**
   * Looks a state up.
   *
   * @param jobId The job.
   * @param registrationName The state name.
   * @returns The location.
   */
  requestKvStateLocation(jobId: JobId, registrationName: string): Promise<KvStateLocation> {
    try {
      return Promise.resolve(lookup(this.#jobs, jobId, registrationName));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

/** Options of {@linkcode HttpLocationOracle}. */
export interface HttpLocationOracleOptions {
  /** How long one fetch may take, in ms, reading the body included. Default 5,000. */
  readonly timeoutMs?: number;
  /** The fetch function (for tests or custom agents). Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /**
   * The largest response body accepted, in bytes. Default 16 MiB (16777216),
   * room for tens of thousands of key-group ranges. A response that declares
   * a longer `Content-Length` is refused before its body is read; a body that
   * grows past the bound is cancelled as soon as it does. Either way the
   * lookup rejects with a {@linkcode LocationsResponseTooLargeError}.
   */
  readonly maxResponseBytes?: number;
}

/** The default of {@linkcode HttpLocationOracleOptions.maxResponseBytes}: 16 MiB. */
const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * A locations document served over HTTP that is larger than the oracle's
 * `maxResponseBytes`: refused on its `Content-Length`, or cancelled once that
 * many bytes were read. A {@linkcode LocationsFileError}, so code that
 * handles bad documents handles it too.
 *
 * @example
 * ```ts
 * import { LocationsFileError, LocationsResponseTooLargeError } from "@kvstate/queryable-state";
 *
 * const e = new LocationsResponseTooLargeError("http://127.0.0.1:8081/locations.json", 16777216, 268435456, true);
 * e instanceof LocationsFileError; // => true
 * e.message;
 * // => "Invalid locations: http://127.0.0.1:8081/locations.json: the response declares 268435456 bytes (Content-Length), more than maxResponseBytes (16777216)"
 * ```
 */
export class LocationsResponseTooLargeError extends LocationsFileError {
  /** The URL fetched. */
  readonly url: string;
  /** The bound in force, in bytes. */
  readonly maxResponseBytes: number;
  /** The declared length (`Content-Length`), or the bytes read when the body passed the bound. */
  readonly bytes: number;

  /**
   * Creates the error.
   *
   * @param url The URL fetched.
   * @param maxResponseBytes The bound in force.
   * @param bytes The declared length, or the bytes read so far.
   * @param declared Whether `bytes` is the declared `Content-Length`.
   */
  constructor(url: string, maxResponseBytes: number, bytes: number, declared: boolean) {
    super(
      url,
      declared
        ? `the response declares ${bytes} bytes (Content-Length), more than maxResponseBytes (${maxResponseBytes})`
        : `the response body passed maxResponseBytes (${maxResponseBytes}) after ${bytes} bytes; the rest was not read`,
    );
    this.url = url;
    this.maxResponseBytes = maxResponseBytes;
    this.bytes = bytes;
  }

  /** The class name, as `Error.prototype.name` reports it. */
  override get name(): string {
    return "LocationsResponseTooLargeError";
  }
}

/**
 * An oracle that fetches a locations document from a URL on every lookup
 * (the proxy caches locations, and refetches only on a forced re-lookup). A
 * failed or timed-out fetch, a non-2xx status, a body larger than
 * `maxResponseBytes` (default 16 MiB: {@linkcode LocationsResponseTooLargeError}),
 * or a document that does not match the schema rejects the lookup with a
 * clear error.
 *
 * @example
 * ```ts
 * import { HttpLocationOracle } from "@kvstate/queryable-state";
 *
 * const oracle = new HttpLocationOracle("http://127.0.0.1:8081/locations.json", { timeoutMs: 2000 });
 * oracle.url; // => "http://127.0.0.1:8081/locations.json"
 * oracle.maxResponseBytes; // => 16777216
 * ```
 */
export class HttpLocationOracle implements KvStateLocationOracle {
  /** The URL fetched. */
  readonly url: string;
  /** The largest response body accepted, in bytes. */
  readonly maxResponseBytes: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  /**
   * Creates a HttpLocationOracle.
   *
   * @param url Where the locations document is served.
   * @param options Timeout, fetch function and body size bound.
   * @throws {RangeError} When `maxResponseBytes` is not a non-negative number.
   */
  constructor(url: string | URL, options: HttpLocationOracleOptions = {}) {
    this.url = String(url);
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    const max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (typeof max !== "number" || !(max >= 0)) {
      throw new RangeError(`maxResponseBytes must be a non-negative number, got ${max}`);
    }
    this.maxResponseBytes = max;
  }

  /**
   * Fetches and parses the document.
   *
   * @param signal Aborts the fetch.
   * @returns The locations.
   * @throws {LocationsResponseTooLargeError} When the body is larger than `maxResponseBytes`.
   * @throws {LocationsFileError} When the document does not match the schema.
   * @throws {DeadlineExceededError} When the fetch took longer than `timeoutMs`.
   */
  async fetchLocations(signal?: AbortSignal): Promise<Map<string, Map<string, KvStateLocation>>> {
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new DeadlineExceededError(`Fetching ${this.url} timed out after ${this.#timeoutMs} ms`),
        ),
      this.#timeoutMs,
    );
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await this.#fetch(this.url, {
        signal: controller.signal,
        headers: { accept: "application/json" },
      });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`Fetching ${this.url} failed: HTTP ${res.status}`);
      }
      return parseLocations(JSON.parse(await this.#readBody(res)));
    } catch (err) {
      if (controller.signal.aborted && controller.signal.reason instanceof DeadlineExceededError) {
        throw controller.signal.reason;
      }
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The body as text, read through its stream and counted: never more than the bound. */
  async #readBody(res: Response): Promise<string> {
    const max = this.maxResponseBytes;
    const declared = res.headers.get("content-length");
    if (declared !== null) {
      const n = Number(declared);
      if (n > max) {
        res.body?.cancel().catch(() => {});
        throw new LocationsResponseTooLargeError(this.url, max, n, true);
      }
    }
    const body = res.body;
    if (body === null) return "";
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        const err = new LocationsResponseTooLargeError(this.url, max, total, false);
        // Not awaited: a peer that never acknowledges the cancel cannot hold the lookup.
        reader.cancel(err).catch(() => {});
        throw err;
      }
      chunks.push(value);
    }
    return new TextDecoder().decode(concatBytes(chunks));
  }

  /**
   * Looks a state up.
   *
   * @param jobId The job.
   * @param registrationName The state name.
   * @param signal Aborts the fetch.
   * @returns The location.
   */
  async requestKvStateLocation(
    jobId: JobId,
    registrationName: string,
    signal?: AbortSignal,
  ): Promise<KvStateLocation> {
    return lookup(await this.fetchLocations(signal), jobId, registrationName);
  }
}
