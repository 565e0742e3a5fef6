/**
 * `java.util.Map` fields (Flink's MapSerializer) as descriptors.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import {
  checkParts,
  describeValue,
  hashOrZero,
  minEncodedLength,
  need,
  readCount,
} from "./composite_helpers.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { errorUnder, TypeValueError } from "./type_errors.ts";

/**
 * A map's JS value: its `[key, value]` entries in serialized order (a value
 * may be `null`).
 *
 * @example
 * ```ts
 * import type { MapEntries } from "@kvstate/queryable-state";
 *
 * const counts: MapEntries<string | null, number> = [["a", 1], ["b", null]];
 * counts.length; // => 2
 * ```
 */
export type MapEntries<K, V> = Array<[K, V | null]>;

/**
 * A map's descriptor (kind `map`).
 *
 * @example
 * ```ts
 * import { types, type MapDescriptor, type MapEntries } from "@kvstate/queryable-state";
 *
 * const m: MapDescriptor<MapEntries<string | null, number>> = types.map(types.string, types.int);
 * m.text; // => "map<string,int>"
 * ```
 */
export interface MapDescriptor<T> extends TypeDescriptor<T> {
  /** `"map"`. */
  readonly kind: "map";
  /** The key type. */
  readonly key: TypeDescriptor<unknown>;
  /** The value type. */
  readonly value: TypeDescriptor<unknown>;
}

/**
 * A `java.util.Map` (Flink's MapSerializer, e.g. a POJO field typed
 * `Types.MAP(...)`): an int32 size, then per entry the key, a null marker
 * (`01` null value, `00` present; any non-zero byte reads as null) and the
 * value when present. The JS value is the array of `[key, value]` pairs in
 * serialized order (Java writes its map's iteration order; decoding keeps
 * the wire order and any duplicate key); writing also accepts a JS `Map`
 * at run time (in TypeScript, pass `[...map]`).
 * Text `map<K,V>`. Not the content of a map state (see `decodeMapContent`).
 *
 * `hashCode` is `java.util.Map.hashCode()`: the sum of
 * `hash(key) ^ hash(value)` over the entries (null hashing to 0).
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const counts = types.map(types.string, types.int);
 * toHex(serializeValue(counts, [["a", 1]])); // => "00000001026100" + "00000001"
 * deserializeValue(counts, fromHex("00000001026101")); // => [["a", null]]
 * counts.hashCode([["a", 1]]); // => 96
 * ```
 *
 * @param key The key type.
 * @param value The value type.
 * @returns The descriptor, frozen.
 * @throws {TypeError} When a part is not a descriptor.
 */
export function map<K extends TypeDescriptor<unknown>, V extends TypeDescriptor<unknown>>(
  key: K,
  value: V,
): MapDescriptor<
  MapEntries<
    K extends TypeDescriptor<infer A> ? A : never,
    V extends TypeDescriptor<infer B> ? B : never
  >
> {
  checkParts("types.map", [key, value]);
  const kd = key as TypeDescriptor<unknown>;
  const vd = value as TypeDescriptor<unknown>;
  const minEntry = minEncodedLength(kd) + 1;
  const text = `map<${kd.text},${vd.text}>`;
  type T = MapEntries<
    K extends TypeDescriptor<infer A> ? A : never,
    V extends TypeDescriptor<infer B> ? B : never
  >;

  function entries(v: unknown): Array<readonly [unknown, unknown]> {
    if (v instanceof Map) return [...v];
    if (!Array.isArray(v)) {
      throw new TypeValueError(
        `expected an array of [key, value] pairs or a Map (${text}), got ${describeValue(v)}`,
      );
    }
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      if (!Array.isArray(e) || e.length !== 2) {
        throw errorUnder(
          new TypeValueError(`expected a [key, value] pair, got ${describeValue(e)}`),
          `[${i}]`,
        );
      }
    }
    return v as Array<readonly [unknown, unknown]>;
  }

  const descriptor: MapDescriptor<T> = Object.freeze({
    name: text,
    kind: "map" as const,
    text,
    key: kd,
    value: vd,
    serialize(v: T, out: ByteWriter): void {
      const list = entries(v);
      out.writeInt32(list.length);
      for (let i = 0; i < list.length; i++) {
        const [k, x] = list[i];
        try {
          kd.serialize(k, out);
        } catch (e) {
          throw errorUnder(e, `[${i}].key`);
        }
        if (x === null || x === undefined) {
          out.writeUint8(1);
          continue;
        }
        out.writeUint8(0);
        try {
          vd.serialize(x, out);
        } catch (e) {
          throw errorUnder(e, `[${i}].value`);
        }
      }
    },
    deserialize(input: ByteReader): T {
      const n = readCount(input, minEntry, "map");
      const out = new Array<[unknown, unknown]>(n);
      for (let i = 0; i < n; i++) {
        let k: unknown;
        try {
          k = kd.deserialize(input);
        } catch (e) {
          throw errorUnder(e, `[${i}].key`);
        }
        let x: unknown = null;
        try {
          need(input, 1, "the value's null marker");
          if (input.readUint8() === 0) x = vd.deserialize(input);
        } catch (e) {
          throw errorUnder(e, `[${i}].value`);
        }
        out[i] = [k, x];
      }
      return out as T;
    },
    hashCode(v: T): number {
      const list = entries(v);
      let h = 0;
      for (let i = 0; i < list.length; i++) {
        const [k, x] = list[i];
        let kh: number;
        let xh: number;
        try {
          kh = hashOrZero(kd, k);
        } catch (e) {
          throw errorUnder(e, `[${i}].key`);
        }
        try {
          xh = x === undefined ? 0 : hashOrZero(vd, x);
        } catch (e) {
          throw errorUnder(e, `[${i}].value`);
        }
        h = (h + (kh ^ xh)) | 0;
      }
      return h;
    },
  });
  return descriptor;
}
