/**
 * Key groups: how Flink maps a key's Java `hashCode()` to one of
 * `numKeyGroups` slots, and how the slots are split between the parallel
 * instances of an operator (PROTOCOL 4.4 and 4.5).
 *
 * The proxy only needs {@linkcode keyGroupForKeyHash}: the location it gets
 * from the oracle is indexed by key group. The range helpers describe how a
 * job spreads key groups over subtasks, which a fake "state plane" (server +
 * oracle in tests) needs to register its states the way Flink does.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

/**
 * The largest max parallelism Flink accepts (`1 << 15`), and so the largest
 * number of key groups.
 *
 * @example
 * ```ts
 * import { UPPER_BOUND_MAX_PARALLELISM } from "@kvstate/queryable-state/wire";
 *
 * UPPER_BOUND_MAX_PARALLELISM; // => 32768
 * ```
 */
export const UPPER_BOUND_MAX_PARALLELISM = 32768;

/**
 * The smallest default max parallelism Flink picks (`1 << 7`).
 *
 * @example
 * ```ts
 * import { DEFAULT_LOWER_BOUND_MAX_PARALLELISM } from "@kvstate/queryable-state/wire";
 *
 * DEFAULT_LOWER_BOUND_MAX_PARALLELISM; // => 128
 * ```
 */
export const DEFAULT_LOWER_BOUND_MAX_PARALLELISM = 128;

const INT32_MIN = -2147483648;

function isInt32(v: unknown): v is number {
  return typeof v === "number" && (v | 0) === v;
}

function illegalArgument(message: string): ProtocolError {
  return new ProtocolError(message, "java.lang.IllegalArgumentException");
}

/**
 * Flink's `MathUtils.murmurHash(int)`: MurmurHash3 (x86, 32-bit, seed 0) of
 * one 4-byte block, then a non-negative "absolute value" in which
 * `Integer.MIN_VALUE` maps to 0. Every step wraps around like Java `int`
 * arithmetic.
 *
 * @example The key group of the String key "hello" (hash 99162322)
 * ```ts
 * import { murmurHash } from "@kvstate/queryable-state/wire";
 *
 * murmurHash(42); // => 1134849565
 * murmurHash(99162322); // => 1715862179
 * murmurHash(99162322) % 128; // => 35
 * ```
 *
 * @param code A Java `int` (typically a key's `hashCode()`).
 * @returns The hash, always in `[0, 2^31)`.
 * @throws {TypeError} When `code` is not an integer in the int32 range.
 */
export function murmurHash(code: number): number {
  if (!isInt32(code)) {
    throw new TypeError(`murmurHash expects an int32, got ${String(code)}`);
  }
  let h = Math.imul(code, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  h ^= 4;
  // fmix32
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  if (h >= 0) return h;
  return h === INT32_MIN ? 0 : -h;
}

/**
 * Flink's `KeyGroupRangeAssignment.computeKeyGroupForKeyHash`: the key group
 * that owns a key with the given Java `hashCode()`, which is
 * `murmurHash(keyHash) % numKeyGroups`.
 *
 * @example
 * ```ts
 * import { keyGroupForKeyHash } from "@kvstate/queryable-state/wire";
 *
 * keyGroupForKeyHash(99162322, 128); // => 35
 * keyGroupForKeyHash(1, 32768); // => 16342
 * ```
 *
 * @param keyHash The key's Java `hashCode()` (an int32).
 * @param numKeyGroups The number of key groups (the job's max parallelism).
 * @returns The key group, in `[0, numKeyGroups)`.
 * @throws {ProtocolError} `java.lang.ArithmeticException` "/ by zero" when
 *   `numKeyGroups` is 0 (what Java throws); `java.lang.IllegalArgumentException`
 *   when it is negative.
 * @throws {TypeError} When either argument is not an int32.
 */
export function keyGroupForKeyHash(keyHash: number, numKeyGroups: number): number {
  if (!isInt32(numKeyGroups)) {
    throw new TypeError(`numKeyGroups must be an int32, got ${String(numKeyGroups)}`);
  }
  if (numKeyGroups <= 0) {
    if (numKeyGroups === 0) throw new ProtocolError("/ by zero", "java.lang.ArithmeticException");
    throw illegalArgument(`Negative number of key groups: ${numKeyGroups}`);
  }
  return murmurHash(keyHash) % numKeyGroups;
}

/**
 * An inclusive range of key groups, `start..end`, as Flink's `KeyGroupRange`.
 * The empty range is {@linkcode KeyGroupRange.EMPTY} (start 0, end -1).
 * Instances are immutable.
 *
 * @example
 * ```ts
 * import { KeyGroupRange } from "@kvstate/queryable-state/wire";
 *
 * const r = new KeyGroupRange(43, 85);
 * r.size; // => 43
 * r.contains(85); // => true
 * r.contains(86); // => false
 * r.toString(); // => "KeyGroupRange{startKeyGroup=43, endKeyGroup=85}"
 * ```
 */
export class KeyGroupRange implements Iterable<number> {
  /** The empty range (start 0, end -1, size 0). */
  static readonly EMPTY: KeyGroupRange = Object.freeze(
    Object.create(KeyGroupRange.prototype, {
      start: { value: 0, enumerable: true },
      end: { value: -1, enumerable: true },
    }),
  );

  /** The first key group of the range. */
  readonly start: number;
  /** The last key group of the range (inclusive). */
  readonly end: number;

  /**
   * Creates a non-empty range.
   *
   * @param start The first key group, `>= 0`.
   * @param end The last key group (inclusive), `>= start`.
   * @throws {ProtocolError} `java.lang.IllegalArgumentException` when
   *   `start < 0` or `end < start` (use {@linkcode KeyGroupRange.EMPTY} for
   *   an empty range).
   * @throws {TypeError} When a bound is not an int32.
   */
  constructor(start: number, end: number) {
    if (!isInt32(start) || !isInt32(end)) {
      throw new TypeError(
        `Key group range bounds must be int32s, got ${String(start)}..${String(end)}`,
      );
    }
    if (start < 0) throw illegalArgument(`Negative start key group: ${start}`);
    if (end < start) {
      throw illegalArgument(`End key group ${end} is before start key group ${start}`);
    }
    this.start = start;
    this.end = end;
    Object.freeze(this);
  }

  /** The number of key groups in the range (0 for the empty range). */
  get size(): number {
    return this.end - this.start + 1;
  }

  /**
   * Whether a key group lies in the range.
   *
   * @param keyGroup The key group.
   * @returns `true` when `start <= keyGroup <= end`.
   */
  contains(keyGroup: number): boolean {
    return keyGroup >= this.start && keyGroup <= this.end;
  }

  /**
   * Whether two ranges have the same bounds.
   *
   * @param other The other range.
   * @returns `true` when equal.
   */
  equals(other: KeyGroupRange | null | undefined): boolean {
    return other != null && other.start === this.start && other.end === this.end;
  }

  /**
   * Iterates over the key groups of the range.
   *
   * @returns The key groups, in ascending order.
   */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let kg = this.start; kg <= this.end; kg++) yield kg;
  }

  /**
   * Flink's text form of the range.
   *
   * @returns `KeyGroupRange{startKeyGroup=…, endKeyGroup=…}`.
   */
  toString(): string {
    return `KeyGroupRange{startKeyGroup=${this.start}, endKeyGroup=${this.end}}`;
  }
}

function checkParallelism(parallelism: number): void {
  if (!isInt32(parallelism)) {
    throw new TypeError(`Parallelism must be an int32, got ${String(parallelism)}`);
  }
  if (parallelism <= 0 || parallelism > UPPER_BOUND_MAX_PARALLELISM) {
    throw illegalArgument(`Operator parallelism not within bounds: ${parallelism}`);
  }
}

function checkMaxAndParallelism(maxParallelism: number, parallelism: number): void {
  checkParallelism(parallelism);
  checkParallelism(maxParallelism);
  if (maxParallelism < parallelism) {
    throw illegalArgument("Maximum parallelism must not be smaller than parallelism.");
  }
}

/**
 * The key groups that operator subtask `operatorIndex` owns when
 * `maxParallelism` key groups are spread over `parallelism` subtasks, as
 * Flink's `KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex`.
 *
 * Subtask `i` gets `ceil(i * max / p) .. floor(((i + 1) * max - 1) / p)`:
 * contiguous ranges in subtask order whose sizes differ by at most one,
 * together covering `0..max-1` exactly once. (All products stay below 2^31
 * because both parallelisms are at most 32768.)
 *
 * @example 128 key groups over 3 subtasks
 * ```ts
 * import { computeKeyGroupRangeForOperatorIndex } from "@kvstate/queryable-state/wire";
 *
 * computeKeyGroupRangeForOperatorIndex(128, 3, 0).toString();
 * // => "KeyGroupRange{startKeyGroup=0, endKeyGroup=42}"
 * computeKeyGroupRangeForOperatorIndex(128, 3, 1).toString();
 * // => "KeyGroupRange{startKeyGroup=43, endKeyGroup=85}"
 * computeKeyGroupRangeForOperatorIndex(128, 3, 2).toString();
 * // => "KeyGroupRange{startKeyGroup=86, endKeyGroup=127}"
 * ```
 *
 * @param maxParallelism The number of key groups, `1..32768`.
 * @param parallelism The number of subtasks, `1..maxParallelism`.
 * @param operatorIndex The subtask, `0..parallelism-1`.
 * @returns The subtask's range.
 * @throws {ProtocolError} `java.lang.IllegalArgumentException` with Flink's
 *   messages ("Operator parallelism not within bounds: …", "Maximum
 *   parallelism must not be smaller than parallelism.") or for an
 *   `operatorIndex` out of range (Flink does not check that one).
 * @throws {TypeError} When an argument is not an int32.
 */
export function computeKeyGroupRangeForOperatorIndex(
  maxParallelism: number,
  parallelism: number,
  operatorIndex: number,
): KeyGroupRange {
  checkMaxAndParallelism(maxParallelism, parallelism);
  if (!isInt32(operatorIndex)) {
    throw new TypeError(`Operator index must be an int32, got ${String(operatorIndex)}`);
  }
  if (operatorIndex < 0 || operatorIndex >= parallelism) {
    throw illegalArgument(
      `Operator index ${operatorIndex} out of range for parallelism ${parallelism}`,
    );
  }
  const start = Math.floor((operatorIndex * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((operatorIndex + 1) * maxParallelism - 1) / parallelism);
  return new KeyGroupRange(start, end);
}

/**
 * Splits the key groups `0..maxParallelism-1` into `parallelism` ranges, one
 * per operator subtask, exactly as
 * {@linkcode computeKeyGroupRangeForOperatorIndex} assigns them.
 *
 * @example
 * ```ts
 * import { computeKeyGroupRanges } from "@kvstate/queryable-state/wire";
 *
 * computeKeyGroupRanges(128, 2).map((r) => [r.start, r.end]); // => [[0, 63], [64, 127]]
 * ```
 *
 * @param maxParallelism The number of key groups, `1..32768`.
 * @param parallelism The number of subtasks, `1..maxParallelism`.
 * @returns The ranges, indexed by subtask.
 * @throws {ProtocolError} `java.lang.IllegalArgumentException` as
 *   {@linkcode computeKeyGroupRangeForOperatorIndex}.
 * @throws {TypeError} When an argument is not an int32.
 */
export function computeKeyGroupRanges(
  maxParallelism: number,
  parallelism: number,
): KeyGroupRange[] {
  checkMaxAndParallelism(maxParallelism, parallelism);
  const out: KeyGroupRange[] = new Array(parallelism);
  for (let i = 0; i < parallelism; i++) {
    out[i] = computeKeyGroupRangeForOperatorIndex(maxParallelism, parallelism, i);
  }
  return out;
}

/**
 * The operator subtask that owns a key group, as Flink's
 * `KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup`:
 * `keyGroup * parallelism / maxParallelism` (integer division).
 *
 * @example
 * ```ts
 * import { computeOperatorIndexForKeyGroup } from "@kvstate/queryable-state/wire";
 *
 * computeOperatorIndexForKeyGroup(128, 3, 42); // => 0
 * computeOperatorIndexForKeyGroup(128, 3, 43); // => 1
 * ```
 *
 * @param maxParallelism The number of key groups, `1..32768`.
 * @param parallelism The number of subtasks, `1..maxParallelism`.
 * @param keyGroup The key group, `0..maxParallelism-1`.
 * @returns The subtask index.
 * @throws {ProtocolError} `java.lang.IllegalArgumentException` for bad
 *   parallelisms or a key group out of range.
 * @throws {TypeError} When an argument is not an int32.
 */
export function computeOperatorIndexForKeyGroup(
  maxParallelism: number,
  parallelism: number,
  keyGroup: number,
): number {
  checkMaxAndParallelism(maxParallelism, parallelism);
  if (!isInt32(keyGroup)) {
    throw new TypeError(`Key group must be an int32, got ${String(keyGroup)}`);
  }
  if (keyGroup < 0 || keyGroup >= maxParallelism) {
    throw illegalArgument(`Key group ${keyGroup} out of range for ${maxParallelism} key groups`);
  }
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/**
 * The max parallelism (number of key groups) Flink picks for an operator when
 * none is configured: `min(max(roundUpToPowerOfTwo(p + p / 2), 128), 32768)`
 * (PROTOCOL 4.5).
 *
 * @example
 * ```ts
 * import { computeDefaultMaxParallelism } from "@kvstate/queryable-state/wire";
 *
 * computeDefaultMaxParallelism(1); // => 128
 * computeDefaultMaxParallelism(86); // => 256
 * computeDefaultMaxParallelism(1000); // => 2048
 * computeDefaultMaxParallelism(20000); // => 32768
 * ```
 *
 * @param parallelism The operator parallelism, `1..32768`.
 * @returns The default max parallelism, a power of two in `128..32768`.
 * @throws {ProtocolError} `java.lang.IllegalArgumentException`
 *   "Operator parallelism not within bounds: …" when out of range.
 * @throws {TypeError} When `parallelism` is not an int32.
 */
export function computeDefaultMaxParallelism(parallelism: number): number {
  checkParallelism(parallelism);
  const wanted = parallelism + Math.floor(parallelism / 2); // <= 49152
  let pow2 = 1;
  while (pow2 < wanted) pow2 *= 2;
  return Math.min(
    Math.max(pow2, DEFAULT_LOWER_BOUND_MAX_PARALLELISM),
    UPPER_BOUND_MAX_PARALLELISM,
  );
}
