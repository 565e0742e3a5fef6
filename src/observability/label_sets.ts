/**
 * The series of one metric, one per label set, bounded in number.
 *
 * @module
 */

import { MetricDefinitionError } from "./metric_names.ts";

/** The default of `maxLabelSets`: how many label sets one metric holds. */
export const DEFAULT_MAX_LABEL_SETS = 100;

/** The value every label takes in the set that new label sets fold into past the bound. */
export const OTHER_LABEL_VALUE = "other";

/**
 * The children (series) of a metric, keyed by their label values in the
 * order of the label names. At most `max` label sets are created; past it,
 * a new label set gets the child whose every label value is
 * {@linkcode OTHER_LABEL_VALUE} (created when first needed, so a metric
 * renders at most `max + 1` series), and each such call is counted in
 * {@linkcode LabelSets.folded}.
 *
 * @example
 * ```ts
 * import { LabelSets } from "./mod.ts";
 *
 * const sets = new LabelSets(["path"], 1, () => ({ n: 0 }));
 * sets.get({ path: "/a" }).n++;
 * sets.get({ path: "/b" }).n++; // past the bound: folded into path="other"
 * [...sets.entries()].map(([values, c]) => `${values[0]}=${c.n}`); // => ["/a=1", "other=1"]
 * sets.folded; // => 1
 * ```
 */
export class LabelSets<C> {
  readonly #names: readonly string[];
  readonly #max: number;
  readonly #make: () => C;
  readonly #byKey = new Map<string, { readonly values: readonly string[]; readonly child: C }>();
  #folded = 0;

  /**
   * Creates an empty set.
   *
   * @param names The label names (already checked).
   * @param max The most label sets (a non-negative integer, or `Infinity`).
   * @param make Creates a child.
   */
  constructor(names: readonly string[], max: number, make: () => C) {
    if (!(Number.isInteger(max) || max === Infinity) || max < 0) {
      throw new RangeError(`maxLabelSets must be a non-negative integer or Infinity, got ${max}`);
    }
    this.#names = names;
    this.#max = max;
    this.#make = make;
  }

  /**
   * The child of a label set, created when new (or folded past the bound).
   *
   * @param labels One string value per label name, no other key.
   * @returns The child.
   * @throws {MetricDefinitionError} When the labels do not match the label names.
   */
  get(labels: Readonly<Record<string, string>>): C {
    const names = this.#names;
    const values: string[] = new Array(names.length);
    let given = 0;
    for (const k in labels) if (Object.hasOwn(labels, k)) given++;
    for (let i = 0; i < names.length; i++) {
      const v = Object.hasOwn(labels, names[i]) ? labels[names[i]] : undefined;
      if (typeof v !== "string") {
        throw new MetricDefinitionError(`Label "${names[i]}" missing or not a string`);
      }
      values[i] = v;
    }
    if (given !== names.length) {
      throw new MetricDefinitionError(
        `Labels ${JSON.stringify(Object.keys(labels))} do not match ${JSON.stringify(names)}`,
      );
    }
    const key = JSON.stringify(values);
    const found = this.#byKey.get(key);
    if (found !== undefined) return found.child;
    if (this.#byKey.size < this.#max) return this.#add(key, values);
    this.#folded++;
    const otherValues = names.map(() => OTHER_LABEL_VALUE);
    const otherKey = JSON.stringify(otherValues);
    return this.#byKey.get(otherKey)?.child ?? this.#add(otherKey, otherValues);
  }

  #add(key: string, values: readonly string[]): C {
    const child = this.#make();
    this.#byKey.set(key, { values: Object.freeze(values), child });
    return child;
  }

  /** How many calls of {@linkcode LabelSets.get} were folded into the `other` set. */
  get folded(): number {
    return this.#folded;
  }

  /** How many label sets exist (the `other` set included). */
  get size(): number {
    return this.#byKey.size;
  }

  /**
   * The label sets, in creation order.
   *
   * @returns Pairs of label values (in label-name order) and child.
   */
  *entries(): IterableIterator<readonly [readonly string[], C]> {
    for (const { values, child } of this.#byKey.values()) yield [values, child];
  }
}
