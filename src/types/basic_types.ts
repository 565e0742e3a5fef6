/**
 * The basic types as descriptors: Flink's basic serializers
 * (`TYPE_SERIALIZERS`) with their kind and text.
 *
 * @module
 */

import {
  type JsTypeOf,
  TYPE_SERIALIZERS,
  type TypeName,
  type TypeSerializer,
} from "../wire/type_serializers.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";

/**
 * The descriptor of each basic type name.
 *
 * @example
 * ```ts
 * import { BASIC_TYPES } from "@kvstate/queryable-state";
 *
 * BASIC_TYPES.long.text; // => "long"
 * BASIC_TYPES.string.hashCode("hello"); // => 99162322
 * ```
 */
export type BasicTypes = { readonly [N in TypeName]: TypeDescriptor<JsTypeOf<N>> };

function basic<N extends TypeName>(name: N): TypeDescriptor<JsTypeOf<N>> {
  const s = TYPE_SERIALIZERS[name] as TypeSerializer<JsTypeOf<N>>;
  return Object.freeze({
    name,
    kind: name,
    text: name,
    serialize: s.serialize,
    deserialize: s.deserialize,
    hashCode: s.hashCode,
  });
}

/**
 * The basic types' descriptors (the same bytes as `TYPE_SERIALIZERS`).
 *
 * @example
 * ```ts
 * import { BASIC_TYPES } from "@kvstate/queryable-state";
 * import { serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(BASIC_TYPES.int, 42)); // => "0000002a"
 * ```
 */
export const BASIC_TYPES: BasicTypes = Object.freeze({
  string: basic("string"),
  int: basic("int"),
  long: basic("long"),
  double: basic("double"),
  float: basic("float"),
  boolean: basic("boolean"),
  short: basic("short"),
  byte: basic("byte"),
  char: basic("char"),
  bytes: basic("bytes"),
});
