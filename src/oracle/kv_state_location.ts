/**
 * Where a queryable state lives: per key group, the `KvStateID` and the
 * state server address (Flink's `KvStateLocation`).
 *
 * @module
 */

import type { NetAddress } from "../transport/types.ts";
import type { JobId, JobVertexId } from "../wire/ids.ts";
import type { KvStateId } from "../wire/ids.ts";

/**
 * The location of one queryable state of one job: for each of its
 * `numKeyGroups` key groups, the `KvStateID` registered for it and the
 * address of the state server that serves it (or nothing, while no server
 * has registered that group).
 *
 * @example
 * ```ts
 * import { JobId, JobVertexId, KvStateId, KvStateLocation } from "@kvstate/queryable-state";
 *
 * const loc = new KvStateLocation(JobId.random(), JobVertexId.random(), 128, "word-counts");
 * loc.registerKvState(0, 63, KvStateId.random(), { hostname: "127.0.0.1", port: 9067 });
 * loc.numRegisteredKeyGroups; // => 64
 * loc.isComplete; // => false
 * loc.getAddress(0)?.port; // => 9067
 * loc.getAddress(64); // => null
 * ```
 */
export class KvStateLocation {
  /** The job. */
  readonly jobId: JobId;
  /** The operator that registered the state. */
  readonly jobVertexId: JobVertexId;
  /** The number of key groups (the operator's max parallelism). */
  readonly numKeyGroups: number;
  /** The queryable state name. */
  readonly registrationName: string;
  readonly #ids: (KvStateId | null)[];
  readonly #addresses: (NetAddress | null)[];
  #registered = 0;

  /**
   * Creates a KvStateLocation.
   *
   * @param jobId The job.
   * @param jobVertexId The operator.
   * @param numKeyGroups The number of key groups, >= 0.
   * @param registrationName The queryable state name.
   * @throws {RangeError} When `numKeyGroups` is not a non-negative integer.
   */
  constructor(
    jobId: JobId,
    jobVertexId: JobVertexId,
    numKeyGroups: number,
    registrationName: string,
  ) {
    if (!Number.isInteger(numKeyGroups) || numKeyGroups < 0 || numKeyGroups > 32768) {
      throw new RangeError(`numKeyGroups must be an integer in 0..32768, got ${numKeyGroups}`);
    }
    this.jobId = jobId;
    this.jobVertexId = jobVertexId;
    this.numKeyGroups = numKeyGroups;
    this.registrationName = registrationName;
    this.#ids = new Array(numKeyGroups).fill(null);
    this.#addresses = new Array(numKeyGroups).fill(null);
  }

  /** The number of key groups that have a location. */
  get numRegisteredKeyGroups(): number {
    return this.#registered;
  }

  /** Whether every key group has a location. */
  get isComplete(): boolean {
    return this.#registered === this.numKeyGroups;
  }

  #check(keyGroup: number): void {
    if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= this.numKeyGroups) {
      throw new RangeError(`Key group index ${keyGroup} out of range [0, ${this.numKeyGroups})`);
    }
  }

  #checkRange(start: number, end: number): void {
    this.#check(start);
    this.#check(end);
    if (end < start) throw new RangeError(`Empty key group range ${start}..${end}`);
  }

  /**
   * Registers a key-group range (inclusive) to a state instance on a server.
   *
   * @param start First key group.
   * @param end Last key group (inclusive).
   * @param kvStateId The state instance.
   * @param address Its state server.
   */
  registerKvState(start: number, end: number, kvStateId: KvStateId, address: NetAddress): void {
    this.#checkRange(start, end);
    const addr = { hostname: address.hostname, port: address.port };
    for (let kg = start; kg <= end; kg++) {
      if (this.#ids[kg] === null) this.#registered++;
      this.#ids[kg] = kvStateId;
      this.#addresses[kg] = addr;
    }
  }

  /**
   * Unregisters a key-group range (inclusive).
   *
   * @param start First key group.
   * @param end Last key group (inclusive).
   * @throws {RangeError} When a group of the range is not registered (as Flink's `IllegalArgumentException`).
   */
  unregisterKvState(start: number, end: number): void {
    this.#checkRange(start, end);
    for (let kg = start; kg <= end; kg++) {
      if (this.#ids[kg] === null) {
        throw new RangeError(`Not registered. Probably registration/unregistration race.`);
      }
    }
    for (let kg = start; kg <= end; kg++) {
      this.#ids[kg] = null;
      this.#addresses[kg] = null;
      this.#registered--;
    }
  }

  /**
   * The state instance of a key group.
   *
   * @param keyGroup The key group.
   * @returns The id, or `null` when unregistered.
   */
  getKvStateId(keyGroup: number): KvStateId | null {
    this.#check(keyGroup);
    return this.#ids[keyGroup];
  }

  /**
   * The state server of a key group.
   *
   * @param keyGroup The key group.
   * @returns The address, or `null` when unregistered.
   */
  getAddress(keyGroup: number): NetAddress | null {
    this.#check(keyGroup);
    return this.#addresses[keyGroup];
  }

  /**
   * The registered ranges, merged where neighbours share id and address.
   *
   * @returns The ranges, in key-group order.
   */
  ranges(): Array<{ start: number; end: number; kvStateId: KvStateId; address: NetAddress }> {
    const out: Array<{ start: number; end: number; kvStateId: KvStateId; address: NetAddress }> =
      [];
    for (let kg = 0; kg < this.numKeyGroups; kg++) {
      const id = this.#ids[kg];
      const addr = this.#addresses[kg];
      if (id === null || addr === null) continue;
      const last = out[out.length - 1];
      if (last && last.end === kg - 1 && last.kvStateId === id && last.address === addr) {
        last.end = kg;
      } else {
        out.push({ start: kg, end: kg, kvStateId: id, address: addr });
      }
    }
    return out;
  }
}
