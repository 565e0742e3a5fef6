/**
 * The per-job location oracles, in a copy-on-write registry.
 *
 * @module
 */

import { JobId } from "../wire/ids.ts";
import type { KvStateLocation } from "./kv_state_location.ts";

/**
 * Answers where a job's queryable state lives (Flink's
 * `KvStateLocationOracle`, which in a cluster is the JobMaster).
 *
 * A lookup rejects with `FlinkJobNotFoundError` for an unknown job and
 * `UnknownKvStateLocationError` for an unknown state name.
 */
export interface KvStateLocationOracle {
  /**
   * Looks a state up.
   *
   * @param jobId The job.
   * @param registrationName The queryable state name.
   * @param signal Aborted when the caller gives up.
   * @returns The location.
   */
  requestKvStateLocation(
    jobId: JobId,
    registrationName: string,
    signal?: AbortSignal,
  ): Promise<KvStateLocation>;
}

/**
 * The job → oracle map of a proxy. Every update builds a new immutable
 * snapshot and swaps the reference, so a reader that took a snapshot keeps a
 * consistent view however the registry changes afterwards, and listing the
 * jobs is safe during updates.
 *
 * An oracle registered under the all-zero job id ({@linkcode JobId.DEFAULT})
 * answers for every job, as in Flink.
 *
 * @example
 * ```ts
 * import { JobId, KvStateLocationOracleRegistry, type KvStateLocationOracle } from "@kvstate/queryable-state";
 *
 * const registry = new KvStateLocationOracleRegistry();
 * const job = JobId.random();
 * const oracle: KvStateLocationOracle = { requestKvStateLocation: () => Promise.reject(new Error("x")) };
 * registry.update(job, oracle);
 * registry.get(job) === oracle; // => true
 * registry.update(job, null);
 * registry.get(job); // => null
 * ```
 */
export class KvStateLocationOracleRegistry {
  #snapshot: ReadonlyMap<string, KvStateLocationOracle> = new Map();
  #defaultOracle: KvStateLocationOracle | null = null;
  readonly #listeners = new Set<(jobId: JobId) => void>();

  /**
   * Sets (or, with `null`, removes) the oracle of a job.
   *
   * @param jobId The job.
   * @param oracle The oracle, or `null` to remove it.
   */
  update(jobId: JobId, oracle: KvStateLocationOracle | null): void {
    const key = jobId.toString();
    const next = new Map(this.#snapshot);
    if (oracle === null) next.delete(key);
    else next.set(key, oracle);
    this.#snapshot = next;
    this.#defaultOracle = next.get(JobId.DEFAULT.toString()) ?? null;
    for (const l of this.#listeners) l(jobId);
  }

  /**
   * The oracle for a job: the default job's oracle when one is registered,
   * else the job's own, else `null`.
   *
   * @param jobId The job.
   * @returns The oracle, or `null`.
   */
  get(jobId: JobId): KvStateLocationOracle | null {
    return this.#defaultOracle ?? this.#snapshot.get(jobId.toString()) ?? null;
  }

  /**
   * The current snapshot: an immutable map from job id (hex) to oracle.
   *
   * @returns The snapshot; it never changes.
   */
  snapshot(): ReadonlyMap<string, KvStateLocationOracle> {
    return this.#snapshot;
  }

  /**
   * Returns the jobs with an oracle, from the current snapshot.
   *
   * @returns The jobs with an oracle, from the current snapshot.
   */
  jobs(): JobId[] {
    return [...this.#snapshot.keys()].map((hex) => JobId.fromHex(hex));
  }

  /**
   * Calls `listener` after every update, with the job updated.
   *
   * @param listener The callback.
   * @returns A function that removes the listener.
   */
  onUpdate(listener: (jobId: JobId) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
