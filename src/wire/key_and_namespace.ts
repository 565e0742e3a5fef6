/**
 * The `serializedKeyAndNamespace` field of a request (PROTOCOL 8.1 and 5):
 * the serialized key, the magic byte 42, then the namespace. Only
 * `VoidNamespace` can be queried, and it serializes as one `0x00` byte, so
 * the field is always `keyBytes ‖ 2a 00`.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import type { TypeSerializer } from "./type_serializers.ts";

/**
 * The byte between the key and the namespace: 42 (`0x2a`).
 *
 * @example
 * ```ts
 * import { KEY_NAMESPACE_MAGIC } from "@kvstate/queryable-state/wire";
 *
 * KEY_NAMESPACE_MAGIC; // => 42
 * ```
 */
export const KEY_NAMESPACE_MAGIC = 42;

/**
 * The bytes of `VoidNamespace`: one `0x00`. Shared; do not modify it.
 *
 * @example
 * ```ts
 * import { VOID_NAMESPACE_BYTES } from "@kvstate/queryable-state/wire";
 *
 * VOID_NAMESPACE_BYTES; // => new Uint8Array([0])
 * ```
 */
export const VOID_NAMESPACE_BYTES: Uint8Array = new Uint8Array([0]);

/**
 * The message of the `java.io.IOException` a state server fails with when the
 * key/namespace bytes do not parse.
 *
 * @example
 * ```ts
 * import { KEY_AND_NAMESPACE_MISMATCH_MESSAGE } from "@kvstate/queryable-state/wire";
 *
 * KEY_AND_NAMESPACE_MISMATCH_MESSAGE.startsWith("Unable to deserialize key and namespace."); // => true
 * ```
 */
export const KEY_AND_NAMESPACE_MISMATCH_MESSAGE =
  "Unable to deserialize key and namespace. This indicates a mismatch in the key/namespace serializers used by the KvState instance and this access.";

/**
 * Serializes a key with `VoidNamespace` as a client puts it in a request
 * (Flink's `KvStateSerializer.serializeKeyAndNamespace`): key bytes, `2a`,
 * `00`.
 *
 * @example The String key "hello" (PROTOCOL 2.7)
 * ```ts
 * import {
 *   serializeKeyAndNamespace,
 *   toHex,
 *   TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeKeyAndNamespace("hello", TYPE_SERIALIZERS.string)); // => "0668656c6c6f2a00"
 * toHex(serializeKeyAndNamespace(42, TYPE_SERIALIZERS.int)); // => "0000002a2a00"
 * ```
 *
 * @param key The key.
 * @param keySerializer The key's serializer.
 * @returns The bytes (a view of exactly the written length).
 * @throws {TypeError} When the key does not fit the serializer's type.
 */
export function serializeKeyAndNamespace<K>(key: K, keySerializer: TypeSerializer<K>): Uint8Array {
  const out = new ByteWriter(16);
  keySerializer.serialize(key, out);
  out.writeUint8(KEY_NAMESPACE_MAGIC);
  out.writeUint8(0); // VoidNamespace
  return out.toBytes();
}

function mismatch(cause: unknown): ProtocolError {
  return new ProtocolError(KEY_AND_NAMESPACE_MISMATCH_MESSAGE, "java.io.IOException", { cause });
}

/**
 * Deserializes the key from key/namespace bytes as a state server does
 * (Flink's `KvStateSerializer.deserializeKeyAndNamespace` with
 * `VoidNamespaceSerializer`): the key, then a byte that must be 42, then one
 * namespace byte (skipped whatever its value, as `VoidNamespaceSerializer`
 * does), then nothing.
 *
 * @example
 * ```ts
 * import {
 *   deserializeKeyAndNamespace,
 *   fromHex,
 *   TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state/wire";
 *
 * deserializeKeyAndNamespace(fromHex("0668656c6c6f2a00"), TYPE_SERIALIZERS.string); // => "hello"
 * ```
 *
 * @param bytes The serialized key and namespace.
 * @param keySerializer The state's key serializer.
 * @returns The key.
 * @throws {ProtocolError} `java.io.IOException` with
 *   {@linkcode KEY_AND_NAMESPACE_MISMATCH_MESSAGE} for any violation: a
 *   truncated or malformed key, a wrong magic byte (cause
 *   "Unexpected magic number <signed byte>."), a missing namespace byte, or
 *   leftover bytes (cause "Unconsumed bytes in the serialized key and
 *   namespace."). The underlying error is the `cause`.
 */
export function deserializeKeyAndNamespace<K>(
  bytes: Uint8Array,
  keySerializer: TypeSerializer<K>,
): K {
  const input = new ByteReader(bytes);
  let key: K;
  try {
    key = keySerializer.deserialize(input);
    const magic = input.readInt8();
    if (magic !== KEY_NAMESPACE_MAGIC) {
      throw new ProtocolError(`Unexpected magic number ${magic}.`, "java.io.IOException");
    }
    input.skip(1); // VoidNamespace
  } catch (e) {
    throw mismatch(e);
  }
  if (input.remaining > 0) {
    throw mismatch(
      new ProtocolError(
        "Unconsumed bytes in the serialized key and namespace.",
        "java.io.IOException",
      ),
    );
  }
  return key;
}
