/**
 * `types`: every type descriptor builder in one namespace, so a type reads
 * as it does in Flink: `types.tuple(types.string, types.long)`.
 *
 * @module
 */

import type { JsTypeOf } from "../wire/type_serializers.ts";
import { BASIC_TYPES } from "./basic_types.ts";
import type { RowValue, TypeDescriptor } from "./type_descriptor.ts";
// -- composite kinds' imports
import { array, type ArrayDescriptor } from "./array_types.ts";
import { either, type EitherDescriptor, type EitherValue } from "./either_type.ts";
import { type EnumDescriptor, enumOf } from "./enum_type.ts";
import { list, type ListDescriptor } from "./list_type.ts";
import { map, type MapDescriptor, type MapEntries } from "./map_type.ts";
import { nullable, type NullableDescriptor, type NullableOptions } from "./nullable_type.ts";
import { pojo, type PojoDescriptor, type PojoObject, type PojoOptions } from "./pojo_type.ts";
import { row, type RowDescriptor, type RowFields, rowLegacy } from "./row_type.ts";
import { tuple, type TupleDescriptor, type TupleValues } from "./tuple_type.ts";
// -- end of composite kinds' imports
// -- big numbers and time imports
import {
  BIG_INTEGER_TYPE,
  bigIntegerOf,
  type BigNumberDescriptor,
  type BigNumberOptions,
} from "./big_integer_type.ts";
import { DATE_TYPE, TIMESTAMP_TYPE } from "./date_types.ts";
import { DECIMAL_TYPE, decimalOf } from "./decimal_type.ts";
import { INSTANT_TYPE } from "./instant_type.ts";
import { LOCAL_DATE_TIME_TYPE, LOCAL_DATE_TYPE, LOCAL_TIME_TYPE } from "./local_time_types.ts";
export {
  type BigNumberDescriptor,
  type BigNumberOptions,
  DEFAULT_BIG_NUMBER_MAX_BYTES,
} from "./big_integer_type.ts";
// -- end of big numbers and time imports

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
  /**
   * `TupleN<…>` (TupleSerializer), 0 to 25 fields: the value is the array of
   * the fields (see {@linkcode tuple}).
   */
  tuple<D extends readonly TypeDescriptor<unknown>[]>(
    ...fields: D
  ): TupleDescriptor<TupleValues<D>>;
  /**
   * A POJO (PojoSerializer), fields by name, serialized sorted by name: the
   * value is an object or `null` (see {@linkcode pojo}).
   */
  pojo<F extends Readonly<Record<string, TypeDescriptor<unknown>>>>(
    fields: F,
    options?: PojoOptions<PojoObject<F>>,
  ): PojoDescriptor<PojoObject<F> | null>;
  /**
   * `Row` in Flink 1.19's format (with the row kind): the value is the array
   * of the fields with `kind` (see {@linkcode row}).
   */
  row<D extends readonly TypeDescriptor<unknown>[]>(
    ...fields: D
  ): RowDescriptor<RowValue<RowFields<D>>>;
  /** `Row` in the legacy format, without row kind (see {@linkcode rowLegacy}). */
  rowLegacy<D extends readonly TypeDescriptor<unknown>[]>(
    ...fields: D
  ): RowDescriptor<RowValue<RowFields<D>>>;
  /** NullableSerializer: the value or `null` (see {@linkcode nullable}). */
  nullable<T>(inner: TypeDescriptor<T>, options?: NullableOptions): NullableDescriptor<T | null>;
  /** A Java enum (EnumSerializer): the constant's name (see {@linkcode enumOf}). */
  enumOf<const C extends readonly string[]>(...constants: C): EnumDescriptor<C[number]>;
  /**
   * A Java array: primitive, `String[]` or, for `nullable<X>` elements,
   * generic (see {@linkcode array}).
   */
  array<E extends TypeDescriptor<unknown>>(
    element: E,
  ): ArrayDescriptor<Array<E extends TypeDescriptor<infer T> ? T : never>>;
  /** A `java.util.List` (ListSerializer): an array (see {@linkcode list}). */
  list<E extends TypeDescriptor<unknown>>(
    element: E,
  ): ListDescriptor<Array<E extends TypeDescriptor<infer T> ? T : never>>;
  /** A `java.util.Map` (MapSerializer): `[key, value]` pairs (see {@linkcode map}). */
  map<K extends TypeDescriptor<unknown>, V extends TypeDescriptor<unknown>>(
    key: K,
    value: V,
  ): MapDescriptor<
    MapEntries<
      K extends TypeDescriptor<infer A> ? A : never,
      V extends TypeDescriptor<infer B> ? B : never
    >
  >;
  /** `Either<L, R>` (EitherSerializer): `{ left }` or `{ right }` (see {@linkcode either}). */
  either<L extends TypeDescriptor<unknown>, R extends TypeDescriptor<unknown>>(
    left: L,
    right: R,
  ): EitherDescriptor<
    EitherValue<
      Exclude<L extends TypeDescriptor<infer A> ? A : never, null>,
      Exclude<R extends TypeDescriptor<infer B> ? B : never, null>
    >
  >;
  // -- end of composite kinds
  // -- big numbers and time (decimal, biginteger, date, timestamp, instant, local*) below
  /**
   * `java.math.BigDecimal` (`BigDecSerializer`): a string exactly as Java's
   * `toString()` prints it (`"1.50"`, `"1E+3"`), or `null`; written from
   * any `new BigDecimal(String)` text, scale kept. The unscaled value has
   * at most 4096 bytes (`DEFAULT_BIG_NUMBER_MAX_BYTES`; see {@linkcode decimalOf}).
   */
  readonly decimal: BigNumberDescriptor<string | null>;
  /**
   * `java.math.BigDecimal` whose unscaled value has at most `maxBytes`
   * bytes (default 4096); bytes claiming more fail with a
   * `TypeDecodeError` before they are read. Its text stays `decimal`.
   */
  decimalOf(options?: BigNumberOptions): BigNumberDescriptor<string | null>;
  /**
   * `java.math.BigInteger` (`BigIntSerializer`): a `bigint` or `null`, of
   * at most 4096 bytes (`DEFAULT_BIG_NUMBER_MAX_BYTES`; see {@linkcode bigintegerOf}).
   */
  readonly biginteger: BigNumberDescriptor<bigint | null>;
  /**
   * `java.math.BigInteger` of at most `maxBytes` bytes (default 4096);
   * bytes claiming more fail with a `TypeDecodeError` before they are
   * read. Its text stays `biginteger`.
   */
  bigintegerOf(options?: BigNumberOptions): BigNumberDescriptor<bigint | null>;
  /**
   * `java.util.Date` (`DateSerializer`): an ISO-8601 UTC string of whole
   * milliseconds as `Instant.toString()` prints it
   * (`"2024-03-28T12:00:00.123Z"`), or `null`.
   */
  readonly date: TypeDescriptor<string | null>;
  /**
   * `java.sql.Timestamp` (`SqlTimestampSerializer`): an ISO-8601 UTC string
   * to the nanosecond (`"2024-03-28T12:00:00.123456789Z"`), or `null`.
   */
  readonly timestamp: TypeDescriptor<string | null>;
  /**
   * `java.time.Instant` (`InstantSerializer`): an ISO-8601 UTC string as
   * `Instant.toString()` prints it, or `null`.
   */
  readonly instant: TypeDescriptor<string | null>;
  /** `java.time.LocalDate` (`LocalDateSerializer`): `"2024-03-28"` or `null`. */
  readonly localdate: TypeDescriptor<string | null>;
  /** `java.time.LocalTime` (`LocalTimeSerializer`): `"12:34:56.789"` or `null`. */
  readonly localtime: TypeDescriptor<string | null>;
  /** `java.time.LocalDateTime` (`LocalDateTimeSerializer`): `"2024-03-28T12:00"` or `null`. */
  readonly localdatetime: TypeDescriptor<string | null>;
  // -- end of big numbers and time
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
  tuple,
  pojo,
  row,
  rowLegacy,
  nullable,
  enumOf,
  array,
  list,
  map,
  either,
  // -- end of composite kinds
  // -- big numbers and time
  decimal: DECIMAL_TYPE,
  decimalOf,
  biginteger: BIG_INTEGER_TYPE,
  bigintegerOf: bigIntegerOf,
  date: DATE_TYPE,
  timestamp: TIMESTAMP_TYPE,
  instant: INSTANT_TYPE,
  localdate: LOCAL_DATE_TYPE,
  localtime: LOCAL_TIME_TYPE,
  localdatetime: LOCAL_DATE_TIME_TYPE,
  // -- end of big numbers and time
});
