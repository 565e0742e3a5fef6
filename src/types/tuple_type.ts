/**
 * Flink's tuples (`Tuple0` … `Tuple25`, TupleSerializer) as descriptors:
 * the fields one after the other, no header, no null markers of their own.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import { checkParts, describeValue, hashOrZero, need } from "./composite_helpers.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { errorUnder, TypeValueError } from "./type_errors.ts";

/**
 * The most fields a Flink tuple has (`Tuple25`).
 *
 * @example
 * ```ts
 * import { MAX_TUPLE_ARITY } from "@kvstate/queryable-state";
 *
 * MAX_TUPLE_ARITY; // => 25
 * ```
 */
export const MAX_TUPLE_ARITY = 25;

/** The one byte `Tuple0Serializer` writes (and skips when reading). */
const TUPLE0_BYTE = 0x2a;

/**
 * The JS values of a list of descriptors, e.g. `[string | null, bigint]` for
 * `[types.string, types.long]`.
 *
 * @example
 * ```ts
 * import { types, type TupleValues } from "@kvstate/queryable-state";
 *
 * const fields = [types.string, types.long] as const;
 * const v: TupleValues<typeof fields> = ["a", 1n];
 * v.length; // => 2
 * ```
 */
export type TupleValues<D extends readonly TypeDescriptor<unknown>[]> = {
  -readonly [K in keyof D]: D[K] extends TypeDescriptor<infer T> ? T : never;
};

/**
 * A tuple's descriptor (kind `tuple`): its value is the array of its fields.
 *
 * @example
 * ```ts
 * import { types, type TupleDescriptor } from "@kvstate/queryable-state";
 *
 * const t: TupleDescriptor<[string | null, bigint]> = types.tuple(types.string, types.long);
 * t.fields.length; // => 2
 * ```
 */
export interface TupleDescriptor<T extends readonly unknown[]> extends TypeDescriptor<T> {
  /** `"tuple"`. */
  readonly kind: "tuple";
  /** The field types, in order (none for `Tuple0`). */
  readonly fields: readonly TypeDescriptor<unknown>[];
}

/**
 * `TupleN<…>` (Flink's TupleSerializer): the value is a JS array of the
 * fields, in order, written one after the other. A tuple has no null marker
 * of its own: a `null` tuple is an error, and a field may be `null` only when
 * its type writes nulls (e.g. `string`). No fields is `Tuple0`
 * (Tuple0Serializer: the single byte `2a`; text `tuple<>`).
 *
 * `hashCode` is `TupleN.hashCode()`: `h = 31 * h + hash(field)` from the
 * first field's hash, a null field hashing to 0 (`Tuple0`: 0), so tuple keys
 * land in the key groups Flink puts them in.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const t = types.tuple(types.string, types.long);
 * t.text; // => "tuple<string,long>"
 * toHex(serializeValue(t, ["a", 1n])); // => "02610000000000000001"
 * deserializeValue(t, fromHex("02610000000000000001")); // => ["a", 1n]
 * t.hashCode(["a", 1n]); // => 3008
 * ```
 *
 * @param fields The field types, 0 to 25 of them.
 * @returns The descriptor, frozen.
 * @throws {TypeError} For more than 25 fields or a field that is not a descriptor.
 */
export function tuple<D extends readonly TypeDescriptor<unknown>[]>(
  ...fields: D
): TupleDescriptor<TupleValues<D>> {
  checkParts("types.tuple", fields);
  if (fields.length > MAX_TUPLE_ARITY) {
    throw new TypeError(
      `types.tuple: Flink's tuples have at most ${MAX_TUPLE_ARITY} fields, got ${fields.length}`,
    );
  }
  const parts: readonly TypeDescriptor<unknown>[] = Object.freeze([...fields]);
  const n = parts.length;
  const text = `tuple<${parts.map((f) => f.text).join(",")}>`;

  function check(value: unknown): unknown[] {
    if (!Array.isArray(value) || value.length !== n) {
      throw new TypeValueError(
        value === null || value === undefined
          ? `a tuple cannot be ${describeValue(value)}: TupleSerializer has no null marker`
          : `expected an array of ${n} field${n === 1 ? "" : "s"} (Tuple${n}), got ${
            describeValue(value)
          }`,
      );
    }
    return value;
  }

  const descriptor: TupleDescriptor<TupleValues<D>> = Object.freeze({
    name: text,
    kind: "tuple" as const,
    text,
    fields: parts,
    serialize(value: TupleValues<D>, out: ByteWriter): void {
      const v = check(value);
      if (n === 0) {
        out.writeUint8(TUPLE0_BYTE);
        return;
      }
      for (let i = 0; i < n; i++) {
        try {
          parts[i].serialize(v[i], out);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
      }
    },
    deserialize(input: ByteReader): TupleValues<D> {
      if (n === 0) {
        need(input, 1, "Tuple0's byte");
        input.offset++;
        return [] as unknown as TupleValues<D>;
      }
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        try {
          out[i] = parts[i].deserialize(input);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
      }
      return out as TupleValues<D>;
    },
    hashCode(value: TupleValues<D>): number {
      const v = check(value);
      let h = 0;
      for (let i = 0; i < n; i++) {
        let fh: number;
        try {
          fh = hashOrZero(parts[i], v[i]);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
        h = (Math.imul(h, 31) + fh) | 0;
      }
      return h;
    },
  });
  return descriptor;
}
