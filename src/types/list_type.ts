/**
 * `java.util.List` fields (Flink's ListSerializer) as descriptors.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import {
  checkParts,
  describeValue,
  hashOrZero,
  minEncodedLength,
  readCount,
} from "./composite_helpers.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { errorUnder, TypeValueError } from "./type_errors.ts";

/**
 * A list's descriptor (kind `list`): its value is a JS array.
 *
 * @example
 * ```ts
 * import { types, type ListDescriptor } from "@kvstate/queryable-state";
 *
 * const l: ListDescriptor<(string | null)[]> = types.list(types.string);
 * l.element.text; // => "string"
 * ```
 */
export interface ListDescriptor<T> extends TypeDescriptor<T> {
  /** `"list"`. */
  readonly kind: "list";
  /** The element type. */
  readonly element: TypeDescriptor<unknown>;
}

/**
 * A `java.util.List` (Flink's ListSerializer, e.g. a POJO field typed
 * `Types.LIST(...)`): an int32 size, then each element with no marker or
 * separator. An element is `null` only where its type writes nulls (e.g.
 * `string`; use `list<nullable<X>>` only if Java wrote a NullableSerializer).
 * Text `list<T>`. Not the content of a list state (see
 * `decodeListContent`). Reading checks the claimed size against the bytes
 * left before allocating.
 *
 * `hashCode` is `java.util.List.hashCode()`: `h = 31 * h + hash(e)` from 1,
 * a null element hashing to 0.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const tags = types.list(types.string);
 * toHex(serializeValue(tags, ["a", null])); // => "00000002026100"
 * deserializeValue(tags, fromHex("00000002026100")); // => ["a", null]
 * tags.hashCode(["a"]); // => 128
 * ```
 *
 * @param element The element type.
 * @returns The descriptor, frozen.
 * @throws {TypeError} When `element` is not a descriptor.
 */
export function list<E extends TypeDescriptor<unknown>>(
  element: E,
): ListDescriptor<Array<E extends TypeDescriptor<infer T> ? T : never>> {
  checkParts("types.list", [element]);
  const el = element as TypeDescriptor<unknown>;
  const minElement = minEncodedLength(el);
  const text = `list<${el.text}>`;
  type V = Array<E extends TypeDescriptor<infer T> ? T : never>;

  function check(value: unknown): unknown[] {
    if (!Array.isArray(value)) {
      throw new TypeValueError(`expected an array (${text}), got ${describeValue(value)}`);
    }
    return value;
  }

  const descriptor: ListDescriptor<V> = Object.freeze({
    name: text,
    kind: "list" as const,
    text,
    element: el,
    serialize(value: V, out: ByteWriter): void {
      const v = check(value);
      const n = v.length;
      out.writeInt32(n);
      for (let i = 0; i < n; i++) {
        try {
          el.serialize(v[i], out);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
      }
    },
    deserialize(input: ByteReader): V {
      const n = readCount(input, minElement, "list");
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        try {
          out[i] = el.deserialize(input);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
      }
      return out as V;
    },
    hashCode(value: V): number {
      const v = check(value);
      let h = 1;
      for (let i = 0; i < v.length; i++) {
        let eh: number;
        try {
          eh = hashOrZero(el, v[i]);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
        h = (Math.imul(h, 31) + eh) | 0;
      }
      return h;
    },
  });
  return descriptor;
}
