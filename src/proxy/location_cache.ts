/**
 * The proxy's location cache: the state locations its oracles answered,
 * bounded in entries and in (estimated) bytes with least-recently-used
 * eviction; failed lookups remembered only briefly; lookups of the same
 * state shared while in flight, and forced re-lookups rate-limited.
 *
 * @module
 */

import type { KvStateLocation } from "../oracle/kv_state_location.ts";

/** Bounds and timings of a {@linkcode LocationCache}. */
export interface LocationCacheOptions {
  /**
   * The most entries (resolved, pending or recently failed lookups) kept;
   * past it the least recently used is dropped. Default 10,000.
   */
  readonly maxEntries?: number;
  /**
   * The most bytes the entries may take, as estimated by
   * {@linkcode estimateEntryBytes} (the state name, a fixed overhead per
   * entry, and the resolved location's key-group tables); past it the least
   * recently used entries are dropped. Default 16 MiB.
   */
  readonly maxBytes?: number;
  /**
   * How long a failed lookup is remembered, in ms: within it the same
   * lookup is answered with the same failure without asking the oracle;
   * after it the entry is gone. 0 remembers nothing (every lookup asks the
   * oracle, as Flink's proxy does). Default 1,000.
   */
  readonly negativeTtlMs?: number;
  /**
   * The shortest time between two oracle calls for the same state forced by
   * a failed request, in ms: a forced re-lookup within it of the previous
   * lookup (or while that one is in flight) shares that lookup's result. 0
   * still shares lookups in flight. Default 10 (the proxy passes its
   * `retryBackoffMs`, so that one request's successive retries, spaced at
   * least that far apart, each see a fresh lookup).
   */
  readonly minRelookupIntervalMs?: number;
}

/** What a {@linkcode LocationCache} holds now. */
export interface LocationCacheSize {
  /** The number of entries (resolved, pending and recently failed lookups). */
  readonly entries: number;
  /** Their estimated size in bytes (see {@linkcode estimateEntryBytes}). */
  readonly bytes: number;
}

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_NEGATIVE_TTL_MS = 1_000;
const DEFAULT_MIN_RELOOKUP_INTERVAL_MS = 10;

/** The fixed part of an entry's estimate: the entry, its promise, its map slot. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * The estimated bytes of one cache entry: a fixed overhead, the state name
 * (two bytes per UTF-16 unit; twice for a failure, whose message repeats it)
 * and, once resolved, the location (two key-group tables of 8 bytes a slot,
 * and its name).
 *
 * @example
 * ```ts
 * import { estimateEntryBytes } from "@kvstate/queryable-state";
 *
 * estimateEntryBytes("word-counts", undefined, false); // => 278
 * ```
 *
 * @param stateName The state name.
 * @param location The resolved location, if any.
 * @param failed Whether the entry is a failed lookup.
 * @returns The estimate in bytes.
 */
export function estimateEntryBytes(
  stateName: string,
  location: KvStateLocation | undefined,
  failed: boolean,
): number {
  let bytes = ENTRY_OVERHEAD_BYTES + 2 * stateName.length * (failed ? 2 : 1);
  if (location !== undefined) {
    bytes += 16 * location.numKeyGroups + 2 * location.registrationName.length;
  }
  return bytes;
}

const PENDING = 0;
const RESOLVED = 1;
const FAILED = 2;

/** One lookup: pending, resolved or failed. A node of the LRU list. */
class Entry {
  readonly jobKey: string;
  readonly stateName: string;
  readonly promise: Promise<KvStateLocation>;
  /** The location, once resolved; what the fast path reads. */
  value: KvStateLocation | undefined = undefined;
  status: number = PENDING;
  /** When the lookup started (`performance.now()`). */
  readonly startedAt: number;
  /** When a failed entry expires. */
  expiresAt = 0;
  bytes: number;
  /** Whether the entry is in the cache (dropped entries still answer their waiters). */
  linked = true;
  /** Towards the least recently used. */
  prev: Entry | null = null;
  /** Towards the most recently used. */
  next: Entry | null = null;

  constructor(
    jobKey: string,
    stateName: string,
    promise: Promise<KvStateLocation>,
    startedAt: number,
  ) {
    this.jobKey = jobKey;
    this.stateName = stateName;
    this.promise = promise;
    this.startedAt = startedAt;
    this.bytes = estimateEntryBytes(stateName, undefined, false);
  }
}

function nonNegative(v: number, name: string): number {
  if (typeof v !== "number" || !(v >= 0)) {
    throw new RangeError(`${name} must be a non-negative number, got ${v}`);
  }
  return v;
}

/**
 * A bounded cache of state-location lookups, keyed by job (hex id) and
 * state name, as a proxy keeps them:
 *
 * - a resolved location stays until it is evicted (least recently used
 *   first, past `maxEntries` or `maxBytes`) or its job is invalidated;
 * - a failed lookup stays `negativeTtlMs`, answering the same failure;
 * - a lookup in flight is shared by everyone who asks;
 * - a forced re-lookup (a request failed against the location) shares the
 *   current lookup while it is in flight or younger than
 *   `minRelookupIntervalMs`, so that many requests failing together cause
 *   one oracle call, not one each.
 *
 * A hit ({@linkcode LocationCache.locationOf}) costs two map reads and, when
 * the entry is not already the most recent, a few pointer writes; it
 * allocates nothing.
 *
 * @example
 * ```ts
 * import {
 *   JobId, JobVertexId, KvStateLocation, LocationCache,
 * } from "@kvstate/queryable-state";
 *
 * const cache = new LocationCache({ maxEntries: 2 });
 * const job = JobId.random().toString();
 * const location = new KvStateLocation(JobId.random(), JobVertexId.random(), 128, "counts");
 * cache.locationOf(job, "counts"); // => undefined
 * await cache.start(job, "counts", Promise.resolve(location));
 * cache.locationOf(job, "counts") === location; // => true
 * cache.size.entries; // => 1
 * ```
 */
export class LocationCache {
  /** job key → state name → entry. */
  readonly #jobs = new Map<string, Map<string, Entry>>();
  /** Least recently used end. */
  #head: Entry | null = null;
  /** Most recently used end. */
  #tail: Entry | null = null;
  /** Failed entries, in expiry order (one TTL for all). */
  readonly #failed = new Set<Entry>();
  #entries = 0;
  #bytes = 0;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #negativeTtlMs: number;
  readonly #minRelookupMs: number;

  /**
   * Creates a cache.
   *
   * @param options Bounds and timings.
   * @throws {RangeError} On a bound that is not a positive integer, or a
   * negative time.
   */
  constructor(options: LocationCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.#maxEntries = maxEntries;
    this.#maxBytes = nonNegative(options.maxBytes ?? DEFAULT_MAX_BYTES, "maxBytes");
    this.#negativeTtlMs = nonNegative(
      options.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS,
      "negativeTtlMs",
    );
    this.#minRelookupMs = nonNegative(
      options.minRelookupIntervalMs ?? DEFAULT_MIN_RELOOKUP_INTERVAL_MS,
      "minRelookupIntervalMs",
    );
  }

  /**
   * The resolved location of a state, if cached (the fast path's read): it
   * marks the entry as the most recently used and allocates nothing.
   *
   * @param jobKey The job id in hex.
   * @param stateName The state name.
   * @returns The location, or `undefined` when not cached, pending or failed.
   */
  locationOf(jobKey: string, stateName: string): KvStateLocation | undefined {
    const e = this.#jobs.get(jobKey)?.get(stateName);
    if (e === undefined) return undefined;
    if (e !== this.#tail) this.#moveToTail(e);
    return e.value;
  }

  /**
   * The lookup a request can use without asking the oracle, if any: a
   * resolved or pending one; a failed one within the negative TTL; for a
   * forced re-lookup, only one still in flight or younger than the minimum
   * re-lookup interval. An expired failure is dropped here.
   *
   * @param jobKey The job id in hex.
   * @param stateName The state name.
   * @param force Whether the caller failed against the cached location.
   * @returns The lookup's promise, or `undefined` when the oracle must be asked.
   */
  reusable(
    jobKey: string,
    stateName: string,
    force: boolean,
  ): Promise<KvStateLocation> | undefined {
    const e = this.#jobs.get(jobKey)?.get(stateName);
    if (e === undefined) return undefined;
    const now = performance.now();
    if (force) {
      if (e.status === PENDING || now - e.startedAt < this.#minRelookupMs) {
        this.#moveToTail(e);
        return e.promise;
      }
      return undefined;
    }
    if (e.status === FAILED && now >= e.expiresAt) {
      this.#remove(e);
      return undefined;
    }
    this.#moveToTail(e);
    return e.promise;
  }

  /**
   * Caches a lookup just started (replacing any entry of the same state),
   * and records its outcome when it settles: the location, or the failure
   * for the negative TTL. Entries past the bounds are evicted, least
   * recently used first.
   *
   * @param jobKey The job id in hex.
   * @param stateName The state name.
   * @param lookup The oracle's answer.
   * @returns `lookup`.
   */
  start(
    jobKey: string,
    stateName: string,
    lookup: Promise<KvStateLocation>,
  ): Promise<KvStateLocation> {
    this.#purgeExpired(performance.now());
    const old = this.#jobs.get(jobKey)?.get(stateName);
    if (old !== undefined) this.#remove(old);
    let states = this.#jobs.get(jobKey);
    if (states === undefined) {
      states = new Map();
      this.#jobs.set(jobKey, states);
    }
    const e = new Entry(jobKey, stateName, lookup, performance.now());
    states.set(stateName, e);
    this.#append(e);
    this.#entries++;
    this.#bytes += e.bytes;
    this.#evict();
    lookup.then(
      (location) => this.#resolved(e, location),
      () => this.#rejected(e),
    );
    return lookup;
  }

  /**
   * Drops every entry of a job.
   *
   * @param jobKey The job id in hex.
   */
  invalidateJob(jobKey: string): void {
    const states = this.#jobs.get(jobKey);
    if (states === undefined) return;
    for (const e of [...states.values()]) this.#remove(e);
  }

  /** Drops every entry. */
  clear(): void {
    for (let e = this.#head; e !== null; e = e.next) e.linked = false;
    this.#jobs.clear();
    this.#failed.clear();
    this.#head = this.#tail = null;
    this.#entries = 0;
    this.#bytes = 0;
  }

  /** The entries and estimated bytes held now (expired failures dropped first). */
  get size(): LocationCacheSize {
    this.#purgeExpired(performance.now());
    return { entries: this.#entries, bytes: this.#bytes };
  }

  /**
   * The keys from least to most recently used, for tests and diagnostics.
   *
   * @returns `[jobKey, stateName]` pairs.
   */
  keys(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (let e = this.#head; e !== null; e = e.next) out.push([e.jobKey, e.stateName]);
    return out;
  }

  #resolved(e: Entry, location: KvStateLocation): void {
    e.value = location;
    e.status = RESOLVED;
    if (!e.linked) return;
    let bytes: number;
    try {
      bytes = estimateEntryBytes(e.stateName, location, false);
    } catch {
      // Not a location (the proxy validates what oracles answer; other callers may not).
      this.#remove(e);
      return;
    }
    this.#bytes += bytes - e.bytes;
    e.bytes = bytes;
    this.#evict();
  }

  #rejected(e: Entry): void {
    e.status = FAILED;
    if (!e.linked) return;
    if (this.#negativeTtlMs === 0) {
      this.#remove(e);
      return;
    }
    const now = performance.now();
    e.expiresAt = now + this.#negativeTtlMs;
    const bytes = estimateEntryBytes(e.stateName, undefined, true);
    this.#bytes += bytes - e.bytes;
    e.bytes = bytes;
    this.#failed.add(e);
    this.#purgeExpired(now);
    this.#evict();
  }

  #purgeExpired(now: number): void {
    if (this.#failed.size === 0) return;
    for (const e of this.#failed) {
      if (e.expiresAt > now) return;
      this.#remove(e);
    }
  }

  #evict(): void {
    while (
      (this.#entries > this.#maxEntries || this.#bytes > this.#maxBytes) && this.#head !== null
    ) {
      this.#remove(this.#head);
    }
  }

  #append(e: Entry): void {
    e.prev = this.#tail;
    e.next = null;
    if (this.#tail !== null) this.#tail.next = e;
    else this.#head = e;
    this.#tail = e;
  }

  #unlink(e: Entry): void {
    if (e.prev !== null) e.prev.next = e.next;
    else this.#head = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.#tail = e.prev;
    e.prev = e.next = null;
  }

  #moveToTail(e: Entry): void {
    if (e === this.#tail) return;
    this.#unlink(e);
    this.#append(e);
  }

  #remove(e: Entry): void {
    if (!e.linked) return;
    e.linked = false;
    this.#unlink(e);
    this.#failed.delete(e);
    this.#entries--;
    this.#bytes -= e.bytes;
    const states = this.#jobs.get(e.jobKey);
    if (states !== undefined && states.get(e.stateName) === e) {
      states.delete(e.stateName);
      if (states.size === 0) this.#jobs.delete(e.jobKey);
    }
  }
}
