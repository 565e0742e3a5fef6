/**
 * The locations file: a JSON description of where each job's queryable
 * states live, read by the static and HTTP oracles and written by
 * `examples/server.ts --write-locations`.
 *
 * ```json
 * { "jobs": [ { "jobId": "<32 hex>", "states": [ { "name": "word-counts", "numKeyGroups": 128,
 *     "keyGroups": [ { "start": 0, "end": 127, "kvStateId": "<32 hex>", "address": "127.0.0.1:9067" } ] } ] } ] }
 * ```
 *
 * Ranges are inclusive; a key group no range covers has no location.
 *
 * @module
 */

import type { NetAddress } from "../transport/types.ts";
import { JobId, JobVertexId, KvStateId } from "../wire/ids.ts";
import { KvStateLocation } from "./kv_state_location.ts";
import { formatAddress as hostPortText } from "../transport/net_address.ts";

/** One key-group range of a state in a locations file. */
export interface LocationsFileKeyGroups {
  /** First key group. */
  readonly start: number;
  /** Last key group (inclusive). */
  readonly end: number;
  /** The state instance (32 hex characters). */
  readonly kvStateId: string;
  /** The state server, `host:port` (`[v6addr]:port` for IPv6). */
  readonly address: string;
}

/** One state of a job in a locations file. */
export interface LocationsFileState {
  /** The queryable state name. */
  readonly name: string;
  /** The number of key groups (max parallelism). */
  readonly numKeyGroups: number;
  /** The registered ranges. */
  readonly keyGroups: readonly LocationsFileKeyGroups[];
}

/** One job of a locations file. */
export interface LocationsFileJob {
  /** The job id (32 hex characters). */
  readonly jobId: string;
  /** Its queryable states. */
  readonly states: readonly LocationsFileState[];
}

/** The whole locations file. */
export interface LocationsFile {
  /** The jobs. */
  readonly jobs: readonly LocationsFileJob[];
}

/**
 * A locations document that does not match the schema; the message names the
 * bad field, e.g. `jobs[0].states[1].keyGroups[0].end`.
 *
 * @example
 * ```ts
 * import { LocationsFileError, parseLocations } from "@kvstate/queryable-state";
 *
 * try {
 *   parseLocations({ jobs: [{ jobId: "nope", states: [] }] });
 * } catch (e) {
 *   (e as LocationsFileError).field; // => "jobs[0].jobId"
 * }
 * ```
 */
export class LocationsFileError extends TypeError {
  /** The path of the bad field. */
  readonly field: string;

  /**
   * Creates the error.
   *
   * @param field The path of the bad field.
   * @param problem What is wrong with it.
   */
  constructor(field: string, problem: string) {
    super(`Invalid locations: ${field}: ${problem}`);
    this.field = field;
  }

  /** The class name, as `Error.prototype.name` reports it. */
  override get name(): string {
    return "LocationsFileError";
  }
}

/**
 * Parses `host:port` (or `[v6]:port`).
 *
 * @example
 * ```ts
 * import { parseAddress } from "@kvstate/queryable-state";
 *
 * parseAddress("127.0.0.1:9067"); // => { hostname: "127.0.0.1", port: 9067 }
 * parseAddress("[::1]:9067"); // => { hostname: "::1", port: 9067 }
 * ```
 *
 * @param text The address.
 * @returns The address.
 * @throws {TypeError} When malformed.
 */
export function parseAddress(text: string): NetAddress {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new TypeError(`expected "host:port", got ${JSON.stringify(text)}`);
  }
  return { hostname: m[1] ?? m[2], port };
}

/**
 * Formats an address as `host:port` (`[v6]:port` for IPv6).
 *
 * @example
 * ```ts
 * import { formatAddress } from "@kvstate/queryable-state";
 *
 * formatAddress({ hostname: "127.0.0.1", port: 9069 }); // => "127.0.0.1:9069"
 * ```
 *
 * @param a The address.
 * @returns The text.
 */
export function formatAddress(a: NetAddress): string {
  return hostPortText(a.hostname, a.port);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function arrayAt(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new LocationsFileError(field, "expected an array");
  return v;
}

function objectAt(v: unknown, field: string): Record<string, unknown> {
  if (!isObject(v)) throw new LocationsFileError(field, "expected an object");
  return v;
}

function intAt(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new LocationsFileError(
      field,
      `expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function idAt<T>(v: unknown, field: string, parse: (hex: string) => T): T {
  if (typeof v !== "string") throw new LocationsFileError(field, "expected 32 hex characters");
  try {
    return parse(v);
  } catch {
    throw new LocationsFileError(field, `expected 32 hex characters, got ${JSON.stringify(v)}`);
  }
}

/**
 * Validates a locations document (already parsed from JSON) and builds the
 * locations it describes: job id (hex) → state name → location.
 *
 * @example
 * ```ts
 * import { parseLocations } from "@kvstate/queryable-state";
 *
 * const jobs = parseLocations({ jobs: [{ jobId: "0102030405060708a1a2a3a4a5a6a7a8", states: [{
 *   name: "word-counts", numKeyGroups: 128,
 *   keyGroups: [{ start: 0, end: 127, kvStateId: "2122232425262728313233343536373a", address: "127.0.0.1:9067" }],
 * }] }] });
 * jobs.get("0102030405060708a1a2a3a4a5a6a7a8")?.get("word-counts")?.isComplete; // => true
 * ```
 *
 * @param doc The document.
 * @returns The locations.
 * @throws {LocationsFileError} Naming the first bad field.
 */
export function parseLocations(doc: unknown): Map<string, Map<string, KvStateLocation>> {
  const root = objectAt(doc, "(root)");
  const jobs = arrayAt(root.jobs, "jobs");
  const out = new Map<string, Map<string, KvStateLocation>>();
  jobs.forEach((j, ji) => {
    const jf = `jobs[${ji}]`;
    const job = objectAt(j, jf);
    const jobId = idAt(job.jobId, `${jf}.jobId`, JobId.fromHex);
    if (out.has(jobId.toString())) {
      throw new LocationsFileError(`${jf}.jobId`, "duplicate job");
    }
    const states = new Map<string, KvStateLocation>();
    out.set(jobId.toString(), states);
    arrayAt(job.states, `${jf}.states`).forEach((s, si) => {
      const sf = `${jf}.states[${si}]`;
      const state = objectAt(s, sf);
      if (typeof state.name !== "string") {
        throw new LocationsFileError(`${sf}.name`, "expected a string");
      }
      if (states.has(state.name)) throw new LocationsFileError(`${sf}.name`, "duplicate state");
      const numKeyGroups = intAt(state.numKeyGroups, `${sf}.numKeyGroups`, 1, 32768);
      const loc = new KvStateLocation(
        jobId,
        new JobVertexId(new Uint8Array(16)),
        numKeyGroups,
        state.name,
      );
      const seen = new Uint8Array(numKeyGroups);
      arrayAt(state.keyGroups, `${sf}.keyGroups`).forEach((k, ki) => {
        const kf = `${sf}.keyGroups[${ki}]`;
        const kg = objectAt(k, kf);
        const start = intAt(kg.start, `${kf}.start`, 0, numKeyGroups - 1);
        const end = intAt(kg.end, `${kf}.end`, start, numKeyGroups - 1);
        const kvStateId = idAt(kg.kvStateId, `${kf}.kvStateId`, KvStateId.fromHex);
        if (typeof kg.address !== "string") {
          throw new LocationsFileError(`${kf}.address`, `expected "host:port"`);
        }
        let address: NetAddress;
        try {
          address = parseAddress(kg.address);
        } catch (e) {
          throw new LocationsFileError(`${kf}.address`, (e as Error).message);
        }
        for (let g = start; g <= end; g++) {
          if (seen[g]) {
            throw new LocationsFileError(kf, `key group ${g} is covered by two ranges`);
          }
          seen[g] = 1;
        }
        loc.registerKvState(start, end, kvStateId, address);
      });
      states.set(state.name, loc);
    });
  });
  return out;
}

/**
 * Builds a locations document from locations (the inverse of
 * {@linkcode parseLocations}).
 *
 * @example
 * ```ts
 * import { JobId, JobVertexId, KvStateId, KvStateLocation, locationsToJson } from "@kvstate/queryable-state";
 *
 * const loc = new KvStateLocation(JobId.DEFAULT, JobVertexId.random(), 4, "s");
 * loc.registerKvState(0, 3, KvStateId.fromHex("00".repeat(16)), { hostname: "127.0.0.1", port: 9067 });
 * locationsToJson([loc]).jobs[0].states[0].keyGroups[0].address; // => "127.0.0.1:9067"
 * ```
 *
 * @param locations The locations, of any jobs.
 * @returns The document.
 */
export function locationsToJson(locations: Iterable<KvStateLocation>): LocationsFile {
  const jobs = new Map<string, LocationsFileState[]>();
  for (const loc of locations) {
    const key = loc.jobId.toString();
    if (!jobs.has(key)) jobs.set(key, []);
    jobs.get(key)!.push({
      name: loc.registrationName,
      numKeyGroups: loc.numKeyGroups,
      keyGroups: loc.ranges().map((r) => ({
        start: r.start,
        end: r.end,
        kvStateId: r.kvStateId.toString(),
        address: formatAddress(r.address),
      })),
    });
  }
  return { jobs: [...jobs].map(([jobId, states]) => ({ jobId, states })) };
}
