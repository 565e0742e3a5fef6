/**
 * An oracle fed by registrations, the way Flink's JobMaster keeps its
 * `KvStateLocationRegistry`.
 *
 * @module
 */

import type { NetAddress } from "../transport/types.ts";
import { FlinkJobNotFoundError, UnknownKvStateLocationError } from "../wire/errors.ts";
import type { JobId, JobVertexId, KvStateId } from "../wire/ids.ts";
import { KvStateLocation } from "./kv_state_location.ts";
import type { KvStateLocationOracle } from "./oracle_registry.ts";

/** One registration notice: a key-group range of a state now served by a server. */
export interface KvStateRegistration {
  /** The job. */
  readonly jobId: JobId;
  /** The operator that owns the state. */
  readonly jobVertexId: JobVertexId;
  /** The queryable state name. */
  readonly registrationName: string;
  /** The number of key groups of the state (the operator's max parallelism). */
  readonly numKeyGroups: number;
  /** First key group of the range. */
  readonly start: number;
  /** Last key group of the range (inclusive). */
  readonly end: number;
  /** The state instance on the server. */
  readonly kvStateId: KvStateId;
  /** The state server. */
  readonly address: NetAddress;
}

/**
 * An in-memory location registry for any number of jobs: state servers (or
 * tests) notify it of registrations and unregistrations, and it answers
 * lookups as an oracle. A location is dropped when its last key group
 * unregisters; a job is known from `addJob` or its first registration until
 * `removeJob`.
 *
 * @example
 * ```ts
 * import { InMemoryLocationRegistry, JobId, JobVertexId, KvStateId } from "@kvstate/queryable-state";
 *
 * const registry = new InMemoryLocationRegistry();
 * const jobId = JobId.random();
 * registry.notifyKvStateRegistered({
 *   jobId, jobVertexId: JobVertexId.random(), registrationName: "word-counts",
 *   numKeyGroups: 128, start: 0, end: 127, kvStateId: KvStateId.random(),
 *   address: { hostname: "127.0.0.1", port: 9067 },
 * });
 * const loc = await registry.requestKvStateLocation(jobId, "word-counts");
 * loc.isComplete; // => true
 * ```
 */
export class InMemoryLocationRegistry implements KvStateLocationOracle {
  readonly #jobs = new Map<string, Map<string, KvStateLocation>>();

  /**
   * Makes a job known (lookups of its unregistered states then fail with
   * `UnknownKvStateLocationError` rather than `FlinkJobNotFoundError`).
   *
   * @param jobId The job.
   */
  addJob(jobId: JobId): void {
    if (!this.#jobs.has(jobId.toString())) this.#jobs.set(jobId.toString(), new Map());
  }

  /**
   * Forgets a job and its locations.
   *
   * @param jobId The job.
   * @returns Whether it was known.
   */
  removeJob(jobId: JobId): boolean {
    return this.#jobs.delete(jobId.toString());
  }

  /**
   * Records that a key-group range of a state is served by a server.
   *
   * @param r The registration.
   * @throws {TypeError} When the name is registered by another operator
   * ("Registration name clash") or with another number of key groups.
   */
  notifyKvStateRegistered(r: KvStateRegistration): void {
    this.addJob(r.jobId);
    const states = this.#jobs.get(r.jobId.toString())!;
    let loc = states.get(r.registrationName);
    if (loc === undefined) {
      loc = new KvStateLocation(r.jobId, r.jobVertexId, r.numKeyGroups, r.registrationName);
      states.set(r.registrationName, loc);
    } else if (!loc.jobVertexId.equals(r.jobVertexId)) {
      throw new TypeError(
        `Registration name clash. KvState with name '${r.registrationName}' has already been registered by another operator (${loc.jobVertexId}).`,
      );
    } else if (loc.numKeyGroups !== r.numKeyGroups) {
      throw new TypeError(
        `State '${r.registrationName}' has ${loc.numKeyGroups} key groups, not ${r.numKeyGroups}`,
      );
    }
    loc.registerKvState(r.start, r.end, r.kvStateId, r.address);
  }

  /**
   * Records that a key-group range is no longer served.
   *
   * @param jobId The job.
   * @param registrationName The state name.
   * @param start First key group.
   * @param end Last key group (inclusive).
   * @throws {TypeError} When the state is not registered.
   */
  notifyKvStateUnregistered(
    jobId: JobId,
    registrationName: string,
    start: number,
    end: number,
  ): void {
    const states = this.#jobs.get(jobId.toString());
    const loc = states?.get(registrationName);
    if (loc === undefined) {
      throw new TypeError(`Unknown registration name '${registrationName}' of job ${jobId}`);
    }
    loc.unregisterKvState(start, end);
    if (loc.numRegisteredKeyGroups === 0) states!.delete(registrationName);
  }

  /**
   * Looks a state up.
   *
   * @param jobId The job.
   * @param registrationName The state name.
   * @returns The location (live: later registrations show in it).
   */
  requestKvStateLocation(jobId: JobId, registrationName: string): Promise<KvStateLocation> {
    const states = this.#jobs.get(jobId.toString());
    if (states === undefined) {
      return Promise.reject(FlinkJobNotFoundError.forJob(jobId.toString()));
    }
    const loc = states.get(registrationName);
    if (loc === undefined) {
      return Promise.reject(UnknownKvStateLocationError.forName(registrationName));
    }
    return Promise.resolve(loc);
  }
}
