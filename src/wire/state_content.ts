/**
 * The `content` of a successful response, per state type (PROTOCOL 8.5).
 *
 * | state type                  | content                                                     |
 * |-----------------------------|-------------------------------------------------------------|
 * | Value, Reducing, Aggregating| one serialized value (the accumulator for Aggregating)      |
 * | List                        | elements back to back, separated by one `2c` byte, no count |
 * | Map                         | per entry: key, null flag (`01` null / `00` present), value if present; no count |
 *
 * These are *not* Flink's `ListSerializer` / `MapSerializer` formats (which
 * carry an i32 count); they are what the state backends hand to the
 * queryable-state server.
 *
 * Map decoding returns the entries as `[key, value]` pairs in wire order
 * ({@linkcode decodeMapContent}), which works for every key type, including
 * `bytes` keys (a `Uint8Array` has identity semantics as a JS `Map` key).
 * {@linkcode decodeMapContentToMap} builds a `Map` for keys that compare by
 * value (strings, numbers, bigints, booleans) and refuses `bytes` keys.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import { deserializeValue, serializeValue, type TypeSerializer } from "./type_serializers.ts";

/**
 * The byte between list elements: `0x2c` (`','`).
 *
 * @example
 * ```ts
 * import { LIST_ELEMENT_SEPARATOR } from "@kvstate/queryable-state/wire";
 *
 * LIST_ELEMENT_SEPARATOR; // => 0x2c
 * ```
 */
export const LIST_ELEMENT_SEPARATOR = 0x2c;

/**
 * Encodes the content of a value, reducing or aggregating state: the one
 * serialized value.
 *
 * @example
 * ```ts
 * import { encodeValueContent, toHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * toHex(encodeValueContent(TYPE_SERIALIZERS.long, 42n)); // => "000000000000002a"
 * ```
 *
 * @param serializer The value serializer.
 * @param value The value.
 * @returns The content bytes.
 * @throws {TypeError} When the value does not fit the serializer's type.
 */
export function encodeValueContent<T>(serializer: TypeSerializer<T>, value: T): Uint8Array {
  return serializeValue(serializer, value);
}

/**
 * Decodes the content of a value, reducing or aggregating state: exactly
 * one value, no bytes left over.
 *
 * @example
 * ```ts
 * import { decodeValueContent, fromHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * decodeValueContent(TYPE_SERIALIZERS.int, fromHex("fffffffe")); // => -2
 * ```
 *
 * @param serializer The value serializer.
 * @param content The content bytes.
 * @returns The value.
 * @throws {ProtocolError} `java.io.IOException` "Unconsumed bytes in the
 *   deserialized value. …" for leftover bytes; the serializer's errors
 *   (e.g. truncation) otherwise.
 */
export function decodeValueContent<T>(serializer: TypeSerializer<T>, content: Uint8Array): T {
  return deserializeValue(serializer, content);
}

/**
 * Encodes the content of a list state: the elements separated by one `2c`
 * byte (none after the last), with no count. An empty list is empty content.
 *
 * @example ListState<Integer> [1, 2, 3]
 * ```ts
 * import { encodeListContent, toHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * toHex(encodeListContent(TYPE_SERIALIZERS.int, [1, 2, 3]));
 * // => "000000012c000000022c00000003"
 * ```
 *
 * @param serializer The element serializer.
 * @param values The elements, in order.
 * @returns The content bytes.
 * @throws {TypeError} For a `null` or `undefined` element (Flink: "You cannot
 *   add null to a value list."), or an element that does not fit the type.
 */
export function encodeListContent<T>(
  serializer: TypeSerializer<T>,
  values: Iterable<T>,
): Uint8Array {
  const out = new ByteWriter(64);
  let first = true;
  for (const value of values) {
    if (value === null || value === undefined) {
      throw new TypeError("You cannot add null to a value list.");
    }
    if (first) first = false;
    else out.writeUint8(LIST_ELEMENT_SEPARATOR);
    serializer.serialize(value, out);
  }
  return out.toBytes();
}

/**
 * Decodes the content of a list state as Flink's
 * `KvStateSerializer.deserializeList` does: read an element; if bytes
 * remain, skip one separator byte (its value is not checked); repeat until
 * the input is exhausted. Empty content is an empty list.
 *
 * @example
 * ```ts
 * import { decodeListContent, fromHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * decodeListContent(TYPE_SERIALIZERS.int, fromHex("000000012c000000022c00000003")); // => [1, 2, 3]
 * decodeListContent(TYPE_SERIALIZERS.int, new Uint8Array(0)); // => []
 * ```
 *
 * @param serializer The element serializer.
 * @param content The content bytes.
 * @returns The elements, in order.
 * @throws {ProtocolError} `java.io.IOException` "Unable to deserialize value.
 *   This indicates a mismatch in the value serializers used by the KvState
 *   instance and this access." when an element does not parse (e.g. it is
 *   truncated); the element's error is the `cause`.
 */
export function decodeListContent<T>(serializer: TypeSerializer<T>, content: Uint8Array): T[] {
  const input = new ByteReader(content);
  const result: T[] = [];
  try {
    while (input.remaining > 0) {
      result.push(serializer.deserialize(input));
      if (input.remaining > 0) input.offset++; // the separator, unchecked
    }
  } catch (cause) {
    throw new ProtocolError(
      "Unable to deserialize value. This indicates a mismatch in the value serializers used by the KvState instance and this access.",
      "java.io.IOException",
      { cause },
    );
  }
  return result;
}

/**
 * Encodes the content of a map state: for each entry, the key, a null flag
 * (`01` when the value is `null` or `undefined`, else `00`), then the value
 * when present. No count; entry order is the iteration order.
 *
 * @example MapState<String, Integer> {a: 1, b: null}
 * ```ts
 * import { encodeMapContent, toHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * toHex(encodeMapContent(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.int, [["a", 1], ["b", null]]));
 * // => "02610000000001026201"
 * ```
 *
 * @param keySerializer The user-key serializer.
 * @param valueSerializer The user-value serializer.
 * @param entries The entries: a `Map` or any iterable of `[key, value]`.
 * @returns The content bytes.
 * @throws {TypeError} When a key or value does not fit its type.
 */
export function encodeMapContent<K, V>(
  keySerializer: TypeSerializer<K>,
  valueSerializer: TypeSerializer<V>,
  entries: Iterable<readonly [K, V | null | undefined]>,
): Uint8Array {
  const out = new ByteWriter(64);
  for (const [key, value] of entries) {
    keySerializer.serialize(key, out);
    if (value === null || value === undefined) {
      out.writeUint8(1);
    } else {
      out.writeUint8(0);
      valueSerializer.serialize(value, out);
    }
  }
  return out.toBytes();
}

/**
 * Decodes the content of a map state as Flink's
 * `KvStateSerializer.deserializeMap` reads it (key, null flag where any
 * non-zero byte means null, value if present; until the input is exhausted)
 * into `[key, value]` pairs in wire order. Duplicate keys are kept (a Java
 * `HashMap` keeps the last). Empty content is no entries: RocksDB answers
 * an empty map that way.
 *
 * @example
 * ```ts
 * import { decodeMapContent, fromHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * decodeMapContent(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.int, fromHex("02610000000001026201"));
 * // => [["a", 1], ["b", null]]
 * ```
 *
 * @param keySerializer The user-key serializer.
 * @param valueSerializer The user-value serializer.
 * @param content The content bytes.
 * @returns The entries, in wire order.
 * @throws {ProtocolError} When an entry is truncated or malformed (the
 *   serializers' errors, e.g. `java.lang.IndexOutOfBoundsException`).
 */
export function decodeMapContent<K, V>(
  keySerializer: TypeSerializer<K>,
  valueSerializer: TypeSerializer<V>,
  content: Uint8Array,
): Array<[K, V | null]> {
  const input = new ByteReader(content);
  const result: Array<[K, V | null]> = [];
  while (input.remaining > 0) {
    const key = keySerializer.deserialize(input);
    const isNull = input.readUint8() !== 0;
    result.push([key, isNull ? null : valueSerializer.deserialize(input)]);
  }
  return result;
}

/**
 * Decodes the content of a map state into a `Map` (as
 * {@linkcode decodeMapContent}; for a duplicate key the last entry wins, as
 * in Java's `HashMap`).
 *
 * JS `Map` keys compare with SameValueZero: strings, numbers, bigints and
 * booleans work as in Java, except that `0.0` and `-0.0` double keys (distinct
 * in Java) collapse into one. `bytes` keys are refused, because a
 * `Uint8Array` key could never be looked up by content: use
 * {@linkcode decodeMapContent} for them.
 *
 * @example
 * ```ts
 * import { decodeMapContentToMap, fromHex, TYPE_SERIALIZERS } from "@kvstate/queryable-state/wire";
 *
 * const m = decodeMapContentToMap(
 *   TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.int, fromHex("02610000000001026201"));
 * m.get("a"); // => 1
 * m.get("b"); // => null
 * ```
 *
 * @param keySerializer The user-key serializer (not `bytes`).
 * @param valueSerializer The user-value serializer.
 * @param content The content bytes.
 * @returns The map.
 * @throws {TypeError} When the key serializer is `bytes`.
 * @throws {ProtocolError} As {@linkcode decodeMapContent}.
 */
export function decodeMapContentToMap<K, V>(
  keySerializer: TypeSerializer<K>,
  valueSerializer: TypeSerializer<V>,
  content: Uint8Array,
): Map<K, V | null> {
  if (keySerializer.name === "bytes") {
    throw new TypeError(
      "A Map cannot be keyed by byte arrays (Uint8Array keys compare by identity); use decodeMapContent for bytes keys",
    );
  }
  return new Map(decodeMapContent(keySerializer, valueSerializer, content));
}
