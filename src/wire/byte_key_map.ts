/**
 * A map keyed by byte strings that looks a key up straight from a range of a
 * larger array (a frame, a buffer) without allocating: no hex string, no
 * copy, no view.
 *
 * @module
 */

import { halfSipHash, type HalfSipHashKey, randomHalfSipHashKey } from "./half_siphash.ts";

/** Options of {@linkcode ByteKeyMap}. */
export interface ByteKeyMapOptions {
  /**
   * The key of the keyed hash. Default: a random one per map, so that
   * nobody outside the process can choose byte strings that collide. Fix it
   * only in tests.
   */
  readonly hashKey?: HalfSipHashKey;
}

/** One entry: in its hash bucket's chain and in the insertion order list. */
class Node<V> {
  /** Our own copy of the key. */
  readonly key: Uint8Array;
  readonly hash: number;
  value: V;
  /** The next entry of the same bucket. */
  chain: Node<V> | undefined = undefined;
  /** The neighbours in insertion order. */
  before: Node<V> | undefined = undefined;
  after: Node<V> | undefined = undefined;
  /** Cleared when the entry is removed, for iterators standing on it. */
  live = true;

  constructor(key: Uint8Array, hash: number, value: V) {
    this.key = key;
    this.hash = hash;
    this.value = value;
  }
}

const INITIAL_BUCKETS = 8;

/**
 * A map from byte strings to values. Two keys are the same exactly when
 * their bytes are equal. {@linkcode ByteKeyMap.get} and
 * {@linkcode ByteKeyMap.has} take a range of any array, hash it with
 * HalfSipHash-1-3 under a per-map random key (so remote bytes cannot aim at
 * one bucket), and compare bytes only on a full hash match; they never
 * allocate and never insert. {@linkcode ByteKeyMap.set} copies the key.
 * The map's size is what its owner inserted: the bucket table doubles as it
 * fills (at most one bucket per entry, at least 8) and shrinks only on
 * {@linkcode ByteKeyMap.clear}. Values iterate in insertion order; setting
 * an existing key keeps its place, as `Map` does.
 *
 * @example
 * ```ts
 * import { ByteKeyMap } from "./byte_key_map.ts";
 *
 * const map = new ByteKeyMap<string>();
 * map.set(new Uint8Array([1, 2, 3]), "a");
 * const frame = new Uint8Array([9, 9, 1, 2, 3, 9]);
 * map.get(frame, 2, 5); // => "a"
 * map.has(frame, 2, 4); // => false
 * map.delete(new Uint8Array([1, 2, 3])); // => true
 * map.size; // => 0
 * ```
 */
export class ByteKeyMap<V> {
  readonly #hashKey: HalfSipHashKey;
  #buckets: Array<Node<V> | undefined> = new Array(INITIAL_BUCKETS).fill(undefined);
  #mask = INITIAL_BUCKETS - 1;
  #size = 0;
  #first: Node<V> | undefined = undefined;
  #last: Node<V> | undefined = undefined;

  /**
   * Creates an empty map.
   *
   * @param options The hash key (random by default).
   */
  constructor(options: ByteKeyMapOptions = {}) {
    this.#hashKey = options.hashKey ?? randomHalfSipHashKey();
  }

  /** The number of entries. */
  get size(): number {
    return this.#size;
  }

  /**
   * The value of the key equal to `bytes[start .. end)`.
   *
   * @param bytes The bytes holding the key.
   * @param start Where the key starts. Default 0.
   * @param end Where it ends (exclusive). Default `bytes.length`.
   * @returns The value, or `undefined`.
   * @throws {RangeError} When the range is not within `bytes`.
   */
  get(bytes: Uint8Array, start = 0, end: number = bytes.length): V | undefined {
    return this.#find(bytes, start, end)?.value;
  }

  /**
   * Whether a key equal to `bytes[start .. end)` is present.
   *
   * @param bytes The bytes holding the key.
   * @param start Where the key starts. Default 0.
   * @param end Where it ends (exclusive). Default `bytes.length`.
   * @returns `true` when present.
   * @throws {RangeError} When the range is not within `bytes`.
   */
  has(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    return this.#find(bytes, start, end) !== undefined;
  }

  /**
   * Sets a key's value: a new key is added last, an existing one keeps its
   * place.
   *
   * @param key The key (copied when added).
   * @param value The value.
   * @returns This map.
   */
  set(key: Uint8Array, value: V): this {
    const hash = halfSipHash(this.#hashKey, key, 0, key.length);
    const found = this.#lookup(hash, key, 0, key.length);
    if (found !== undefined) {
      found.value = value;
      return this;
    }
    const node = new Node(key.slice(), hash, value);
    const index = hash & this.#mask;
    node.chain = this.#buckets[index];
    this.#buckets[index] = node;
    node.before = this.#last;
    if (this.#last === undefined) this.#first = node;
    else this.#last.after = node;
    this.#last = node;
    if (++this.#size > this.#buckets.length) this.#rehash(this.#buckets.length * 2);
    return this;
  }

  /**
   * Removes the key equal to `bytes[start .. end)`.
   *
   * @param bytes The bytes holding the key.
   * @param start Where the key starts. Default 0.
   * @param end Where it ends (exclusive). Default `bytes.length`.
   * @returns Whether a key was removed.
   * @throws {RangeError} When the range is not within `bytes`.
   */
  delete(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    checkRange(bytes, start, end);
    const hash = halfSipHash(this.#hashKey, bytes, start, end);
    const index = hash & this.#mask;
    let previous: Node<V> | undefined = undefined;
    for (let node = this.#buckets[index]; node !== undefined; node = node.chain) {
      if (node.hash === hash && sameBytes(node.key, bytes, start, end)) {
        if (previous === undefined) this.#buckets[index] = node.chain;
        else previous.chain = node.chain;
        if (node.before === undefined) this.#first = node.after;
        else node.before.after = node.after;
        if (node.after === undefined) this.#last = node.before;
        else node.after.before = node.before;
        node.live = false;
        this.#size--;
        return true;
      }
      previous = node;
    }
    return false;
  }

  /** Removes every entry and shrinks the table back to its initial size. */
  clear(): void {
    for (let node = this.#first; node !== undefined; node = node.after) node.live = false;
    this.#buckets = new Array(INITIAL_BUCKETS).fill(undefined);
    this.#mask = INITIAL_BUCKETS - 1;
    this.#size = 0;
    this.#first = undefined;
    this.#last = undefined;
  }

  /**
   * The values, in insertion order. Entries removed during the iteration
   * and not yet reached are skipped.
   *
   * @returns An iterator over the values.
   */
  *values(): IterableIterator<V> {
    let node = this.#first;
    while (node !== undefined) {
      if (node.live) yield node.value;
      // A node removed while we stood on it still points forward; skip
      // forward past any removed ones.
      node = node.after;
      while (node !== undefined && !node.live) node = node.after;
    }
  }

  /**
   * The keys (copies), in insertion order.
   *
   * @returns An iterator over the keys.
   */
  *keys(): IterableIterator<Uint8Array> {
    let node = this.#first;
    while (node !== undefined) {
      if (node.live) yield node.key.slice();
      node = node.after;
      while (node !== undefined && !node.live) node = node.after;
    }
  }

  #find(bytes: Uint8Array, start: number, end: number): Node<V> | undefined {
    checkRange(bytes, start, end);
    return this.#lookup(halfSipHash(this.#hashKey, bytes, start, end), bytes, start, end);
  }

  #lookup(hash: number, bytes: Uint8Array, start: number, end: number): Node<V> | undefined {
    for (let node = this.#buckets[hash & this.#mask]; node !== undefined; node = node.chain) {
      if (node.hash === hash && sameBytes(node.key, bytes, start, end)) return node;
    }
    return undefined;
  }

  #rehash(length: number): void {
    const buckets: Array<Node<V> | undefined> = new Array(length).fill(undefined);
    const mask = length - 1;
    for (let node = this.#first; node !== undefined; node = node.after) {
      const index = node.hash & mask;
      node.chain = buckets[index];
      buckets[index] = node;
    }
    this.#buckets = buckets;
    this.#mask = mask;
  }
}

function checkRange(bytes: Uint8Array, start: number, end: number): void {
  if (!(start >= 0 && start <= end && end <= bytes.length)) {
    throw new RangeError(`The range [${start}, ${end}) is not within ${bytes.length} bytes`);
  }
}

function sameBytes(key: Uint8Array, bytes: Uint8Array, start: number, end: number): boolean {
  const length = key.length;
  if (end - start !== length) return false;
  for (let i = 0; i < length; i++) if (key[i] !== bytes[start + i]) return false;
  return true;
}
