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
import type { JobId } from "../wire/ids.ts";
import type { KvStateLocation } from "./kv_state_location.ts";
import { parseLocations } from "./locations_file.ts";
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
  /** How long one fetch may take, in ms. Default 5,000. */
  readonly timeoutMs?: number;
  /** The fetch function (for tests or custom agents). Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * An oracle that fetches a locations document from a URL on every lookup
 * (the proxy caches locations, and refetches only on a forced re-lookup). A
 * failed or timed-out fetch, a non-2xx status, or a document that does not
 * match the schema rejects the lookup with a clear error.
 *
 * @example
 * ```ts
 * import { HttpLocationOracle } from "@kvstate/queryable-state";
 *
 * const oracle = new HttpLocationOracle("http://127.0.0.1:8081/locations.json", { timeoutMs: 2000 });
 * oracle.url; // => "http://127.0.0.1:8081/locations.json"
 * ```
 */
export class HttpLocationOracle implements KvStateLocationOracle {
  /** The URL fetched. */
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  /**
   * Creates a HttpLocationOracle.
   *
   * @param url Where the locations document is served.
   * @param options Timeout and fetch function.
   */
  constructor(url: string | URL, options: HttpLocationOracleOptions = {}) {
    this.url = String(url);
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * Fetches and parses the document.
   *
   * @param signal Aborts the fetch.
   * @returns The locations.
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
      return parseLocations(await res.json());
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
