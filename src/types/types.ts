/**
 * `types`: every type descriptor builder in one namespace, so a type reads
 * as it does in Flink: `types.tuple(types.string, types.long)`.
 *
 * @module
 */

import type { JsTypeOf } from "../wire/type_serializers.ts";
import { BASIC_TYPES } from "./basic_types.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";

/**
 * The shape of {@linkcode types}.
 *
 * @example
 * ```ts
 * import { types, type Types } from "@kvstate/queryable-state";
 *
 * const t: Types = types;
 * t.long.text; // => "long"
 * ```
 */
export interface Types {
  /** `java.lang.String` (`string | null`). */
  readonly string: TypeDescriptor<JsTypeOf<"string">>;
  /** `java.lang.Integer` / `int` (`number`). */
  readonly int: TypeDescriptor<JsTypeOf<"int">>;
  /** `java.lang.Long` / `long` (`bigint`). */
  readonly long: TypeDescriptor<JsTypeOf<"long">>;
  /** `java.lang.Double` / `double` (`number`). */
  readonly double: TypeDescriptor<JsTypeOf<"double">>;
  /** `java.lang.Float` / `float` (`number`). */
  readonly float: TypeDescriptor<JsTypeOf<"float">>;
  /** `java.lang.Boolean` / `boolean`. */
  readonly boolean: TypeDescriptor<JsTypeOf<"boolean">>;
  /** `java.lang.Short` / `short` (`number`). */
  readonly short: TypeDescriptor<JsTypeOf<"short">>;
  /** `java.lang.Byte` / `byte` (`number`). */
  readonly byte: TypeDescriptor<JsTypeOf<"byte">>;
  /** `java.lang.Character` / `char` (a one-unit `string`). */
  readonly char: TypeDescriptor<JsTypeOf<"char">>;
  /** `byte[]` (`Uint8Array`). */
  readonly bytes: TypeDescriptor<JsTypeOf<"bytes">>;
  // -- composite kinds (tuple, pojo, row, nullable, enumOf, array, list, map, either) below
  // -- big numbers and time (decimal, biginteger, date, timestamp, instant, local*) below
}

/**
 * Flink's types as descriptors. Each is a serializer (pass it as `keyType`
 * / `valueType`, to in-memory states, to `serializeValue`), and TypeScript
 * infers the JS value's type from it.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.long, 42n)); // => "000000000000002a"
 * ```
 */
export const types: Types = Object.freeze({
  ...BASIC_TYPES,
  // -- composite kinds
  // -- big numbers and time
});
