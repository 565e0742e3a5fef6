/**
 * A key's serializer with the hash code its caller gives (a POJO key's Java
 * `hashCode()` is user code): the gateway's `keyHash` and the CLI client's
 * `--key-hash`.
 *
 * @module
 */

import type { TypeSerializer } from "../wire/type_serializers.ts";

/**
 * The serializer `type` with `hashCode` answering `hash` for every key; its
 * bytes are `type`'s.
 *
 * @example
 * ```ts
 * import { withKeyHash } from "./key_hash.ts";
 * import { types } from "../types/types.ts";
 *
 * const key = withKeyHash(types.tuple(types.string, types.long), -5);
 * key.hashCode(["acme", 1001n]); // => -5
 * ```
 *
 * @param type The key's serializer.
 * @param hash The key's Java `hashCode()`, an int32.
 * @returns The serializer with that hash code.
 */
export function withKeyHash(type: TypeSerializer<unknown>, hash: number): TypeSerializer<unknown> {
  return {
    name: type.name,
    serialize: (v, out) => type.serialize(v, out),
    deserialize: (input) => type.deserialize(input),
    hashCode: () => hash,
  };
}
