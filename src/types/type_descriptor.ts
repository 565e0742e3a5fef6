/**
 * Type descriptors: a Flink serializer described as a value. Each
 * descriptor is a {@linkcode TypeSerializer} (so it is accepted wherever a
 * key or value type is accepted: `getKvState` options, in-memory states,
 * fixtures) that also says what it is: its {@linkcode TypeKind}, its text in
 * the descriptor syntax (`tuple<string,long>`), and its parts.
 *
 * @module
 */

import type { TypeName, TypeSerializer } from "../wire/type_serializers.ts";

/**
 * What a descriptor describes: one of Flink's serializers.
 *
 * | kind            | Flink serializer                          | JS value                          |
 * |-----------------|-------------------------------------------|-----------------------------------|
 * | basic names     | the basic serializers (`TYPE_SERIALIZERS`) | see `JsTypeMap`                  |
 * | `tuple`         | TupleSerializer (`Tuple1`…`Tuple25`)      | array of the fields               |
 * | `pojo`          | PojoSerializer                            | object (or `null`)                |
 * | `row`           | RowSerializer (1.19, with row kind)       | array of the fields, with `kind`  |
 * | `nullable`      | NullableSerializer                        | the inner value or `null`         |
 * | `enum`          | EnumSerializer                            | the constant's name               |
 * | `array`         | primitive, `String[]` and generic arrays  | array                             |
 * | `list`          | ListSerializer                            | array                             |
 * | `map`           | MapSerializer                             | array of `[key, value]` pairs     |
 * | `either`        | EitherSerializer                          | `{ left }` or `{ right }`         |
 * | `decimal`       | BigDecSerializer                          | `string` (Java's `toString()`)    |
 * | `biginteger`    | BigIntSerializer                          | `bigint` or `null`                |
 * | time kinds      | Date, SqlTimestamp, Instant, LocalDate, … | ISO-8601 `string` or `null`       |
 *
 * @example
 * ```ts
 * import type { TypeKind } from "@kvstate/queryable-state";
 *
 * const kind: TypeKind = "tuple";
 * kind; // => "tuple"
 * ```
 */
export type TypeKind =
  | LeafKind
  | "tuple"
  | "pojo"
  | "row"
  | "nullable"
  | "enum"
  | "array"
  | "list"
  | "map"
  | "either";

/**
 * The kinds without parts: the basic type names, the big numbers and the
 * time types.
 *
 * @example
 * ```ts
 * import type { LeafKind } from "@kvstate/queryable-state";
 *
 * const kind: LeafKind = "decimal";
 * kind; // => "decimal"
 * ```
 */
export type LeafKind =
  | TypeName
  | "decimal"
  | "biginteger"
  | "date"
  | "timestamp"
  | "instant"
  | "localdate"
  | "localtime"
  | "localdatetime";

/**
 * A Flink serializer described as a value: a {@linkcode TypeSerializer} of
 * `T` that knows its kind and its text. Build them with `types`
 * (`types.tuple(types.string, types.long)`) or parse them from text
 * (`parseType("tuple<string,long>")`).
 *
 * Writing checks the JS value against the descriptor and throws
 * {@linkcode TypeValueError} naming the field path (`value.tags[3]`);
 * reading is bounds-checked and throws {@linkcode TypeDecodeError} naming
 * the path (lengths claimed by the bytes are checked against what is there
 * before anything is allocated).
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 *
 * const t = types.long;
 * t.kind; // => "long"
 * t.text; // => "long"
 * ```
 */
export interface TypeDescriptor<T> extends TypeSerializer<T> {
  /** What it describes. */
  readonly kind: TypeKind;
  /** Its text in the descriptor syntax, e.g. `tuple<string,long>` (also its `name`). */
  readonly text: string;
}

/**
 * The JS value type of a descriptor, e.g. `ValueOf<typeof types.long>` is
 * `bigint`.
 *
 * @example
 * ```ts
 * import { types, type ValueOf } from "@kvstate/queryable-state";
 *
 * const key: ValueOf<typeof types.long> = 42n;
 * key; // => 42n
 * ```
 */
export type ValueOf<D> = D extends TypeSerializer<infer T> ? T : never;

/**
 * Whether a value is a {@linkcode TypeDescriptor} (a serializer with a
 * `kind` and a `text`).
 *
 * @example
 * ```ts
 * import { isTypeDescriptor, types } from "@kvstate/queryable-state";
 *
 * isTypeDescriptor(types.string); // => true
 * isTypeDescriptor("string"); // => false
 * ```
 *
 * @param value Anything.
 * @returns `true` for a descriptor.
 */
export function isTypeDescriptor(value: unknown): value is TypeDescriptor<unknown> {
  if (typeof value !== "object" || value === null) return false;
  const d = value as Partial<TypeDescriptor<unknown>>;
  return typeof d.kind === "string" && typeof d.text === "string" &&
    typeof d.serialize === "function" && typeof d.deserialize === "function";
}

/**
 * A row's change kind, as Flink's `RowKind.shortString()` writes it:
 * insert, update-before, update-after, delete.
 *
 * @example
 * ```ts
 * import type { RowKind } from "@kvstate/queryable-state";
 *
 * const kind: RowKind = "+U";
 * kind; // => "+U"
 * ```
 */
export type RowKind = "+I" | "-U" | "+U" | "-D";

/**
 * A row's value: its fields in order, with its {@linkcode RowKind} (`kind`;
 * writing a row without one writes `+I`).
 *
 * @example
 * ```ts
 * import type { RowValue } from "@kvstate/queryable-state";
 *
 * const row: RowValue<[number | null, string | null]> = Object.assign([1, "a"] as [number, string], { kind: "+I" as const });
 * row.kind; // => "+I"
 * ```
 */
export type RowValue<F extends readonly unknown[]> = F & { kind?: RowKind };

/**
 * A POJO field: its name and type (descriptors list fields in Flink's
 * serialization order: by name, in UTF-16 code unit order).
 *
 * @example
 * ```ts
 * import { types, type PojoField } from "@kvstate/queryable-state";
 *
 * const field: PojoField = { name: "id", type: types.long };
 * field.name; // => "id"
 * ```
 */
export interface PojoField {
  /** The Java field's name. */
  readonly name: string;
  /** Its type. */
  readonly type: TypeDescriptor<unknown>;
}

/**
 * The parts of a descriptor, by kind: what JSON forms, printers, random
 * value generators and other walkers read. Every descriptor that
 * `types` builds is one of these.
 *
 * @example Walk a descriptor
 * ```ts
 * import { type DescriptorParts, types } from "@kvstate/queryable-state";
 *
 * function depth(d: DescriptorParts): number {
 *   switch (d.kind) {
 *     case "tuple":
 *     case "row":
 *       return 1 + Math.max(0, ...d.fields.map((f) => depth(f as DescriptorParts)));
 *     default:
 *       return 1;
 *   }
 * }
 * depth(types.tuple(types.string, types.tuple(types.int)) as DescriptorParts); // => 3
 * ```
 */
export type DescriptorParts =
  | (TypeDescriptor<unknown> & { readonly kind: LeafKind })
  | (TypeDescriptor<unknown> & {
    readonly kind: "tuple" | "row";
    /** The fields, in order. */
    readonly fields: readonly TypeDescriptor<unknown>[];
  })
  | (TypeDescriptor<unknown> & {
    readonly kind: "pojo";
    /** The fields, in serialization order. */
    readonly fields: readonly PojoField[];
  })
  | (TypeDescriptor<unknown> & {
    readonly kind: "nullable";
    /** The type made nullable. */
    readonly inner: TypeDescriptor<unknown>;
    /** Whether a null is padded to the inner type's fixed length (`padNullValue`). */
    readonly padded: boolean;
  })
  | (TypeDescriptor<unknown> & {
    readonly kind: "enum";
    /** The constants, in declaration (ordinal) order. */
    readonly constants: readonly string[];
  })
  | (TypeDescriptor<unknown> & {
    readonly kind: "array";
    /** The element type (`nullable<…>` for a generic array). */
    readonly element: TypeDescriptor<unknown>;
    /** Which of Flink's array serializers. */
    readonly format: "primitive" | "string" | "generic";
  })
  | (TypeDescriptor<unknown> & {
    readonly kind: "list";
    /** The element type. */
    readonly element: TypeDescriptor<unknown>;
  })
  | (TypeDescriptor<unknown> & {
    readonly kind: "map";
    /** The key type. */
    readonly key: TypeDescriptor<unknown>;
    /** The value type. */
    readonly value: TypeDescriptor<unknown>;
  })
  | (TypeDescriptor<unknown> & {
    readonly kind: "either";
    /** The left type. */
    readonly left: TypeDescriptor<unknown>;
    /** The right type. */
    readonly right: TypeDescriptor<unknown>;
  });
