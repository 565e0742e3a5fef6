/**
 * Java arrays as descriptors: Flink's primitive array serializers
 * (`int[]`, `long[]`, …), StringArraySerializer (`String[]`) and
 * GenericArraySerializer (`Integer[]`, `Tuple2[]`, …).
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import {
  checkParts,
  describeValue,
  minEncodedLength,
  need,
  notAKey,
  readCount,
} from "./composite_helpers.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { errorUnder, TypeValueError } from "./type_errors.ts";

/** The element kinds with a Flink primitive array serializer (besides `byte`). */
const PRIMITIVE_KINDS: ReadonlySet<string> = new Set([
  "int",
  "long",
  "double",
  "float",
  "short",
  "boolean",
  "char",
]);

/**
 * An array's descriptor (kind `array`): its value is a JS array.
 *
 * @example
 * ```ts
 * import { types, type ArrayDescriptor } from "@kvstate/queryable-state";
 *
 * const a: ArrayDescriptor<bigint[]> = types.array(types.long);
 * a.format; // => "primitive"
 * ```
 */
export interface ArrayDescriptor<T> extends TypeDescriptor<T> {
  /** `"array"`. */
  readonly kind: "array";
  /** The element type (`nullable<X>` for a generic array). */
  readonly element: TypeDescriptor<unknown>;
  /**
   * Which of Flink's serializers: `primitive` (`long[]`, …), `string`
   * (`String[]`) or `generic` (`Integer[]`, `Tuple2[]`, …).
   */
  readonly format: "primitive" | "string" | "generic";
}

/**
 * A Java array. The element type picks Flink's serializer, as Flink's
 * type extraction does:
 *
 * | element                                   | Java        | serializer                     | bytes after the int32 length        |
 * |-------------------------------------------|-------------|--------------------------------|-------------------------------------|
 * | `int`, `long`, `double`, `float`, `short`, `boolean`, `char` | `long[]` …  | `LongPrimitiveArraySerializer` … | the elements                        |
 * | `string`                                  | `String[]`  | StringArraySerializer          | each string (null: `00`)            |
 * | `nullable<X>`                             | `X[]` (`Integer[]`, `Tuple2[]`) | GenericArraySerializer | per element `01` + X, or `00` for null |
 *
 * `byte[]` is `types.bytes` (a `Uint8Array`), so `byte` is
 * refused here; any other element type is refused with a hint to use
 * `array<nullable<X>>` (Flink writes object arrays with presence flags).
 * Text `array<T>`. Reading checks the claimed length against the bytes left
 * before allocating.
 *
 * Not usable as a key: a Java array's `hashCode()` is an identity hash, so
 * `hashCode` throws a {@linkcode TypeValueError} (inside a `Row`, arrays are
 * hashed deeply, as Flink's `Row.hashCode()` does).
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.array(types.int), [1, -1])); // => "0000000200000001ffffffff"
 * const boxed = types.array(types.nullable(types.int));
 * boxed.text; // => "array<nullable<int>>"
 * toHex(serializeValue(boxed, [1, null])); // => "00000002010000000100"
 * deserializeValue(types.array(types.string), fromHex("000000020261" + "00")); // => ["a", null]
 * ```
 *
 * @param element The element type.
 * @returns The descriptor, frozen.
 * @throws {TypeError} For `byte` (use `types.bytes`), or an element type
 *   with no Flink array serializer (use `types.nullable(element)`).
 */
export function array<E extends TypeDescriptor<unknown>>(
  element: E,
): ArrayDescriptor<Array<E extends TypeDescriptor<infer T> ? T : never>> {
  checkParts("types.array", [element]);
  let format: "primitive" | "string" | "generic";
  if (PRIMITIVE_KINDS.has(element.kind)) format = "primitive";
  else if (element.kind === "string") format = "string";
  else if (element.kind === "nullable") {
    if ((element as unknown as { padded?: boolean }).padded) {
      throw new TypeError(
        `types.array: ${element.text}: a generic array writes its own presence flags, ` +
          `drop padded`,
      );
    }
    format = "generic";
  } else if (element.kind === "byte") {
    throw new TypeError(
      "types.array: byte[] is types.bytes (BytePrimitiveArraySerializer, a Uint8Array); use it",
    );
  } else {
    throw new TypeError(
      `types.array: Flink writes arrays of ${element.text} as object arrays ` +
        `(GenericArraySerializer) with a presence flag per element: ` +
        `use types.array(types.nullable(${element.text})), text array<nullable<${element.text}>>`,
    );
  }
  const inner: TypeDescriptor<unknown> = format === "generic"
    ? (element as unknown as { inner: TypeDescriptor<unknown> }).inner
    : element;
  const minElement = format === "generic" ? 1 : minEncodedLength(element);
  const text = `array<${element.text}>`;
  type V = Array<E extends TypeDescriptor<infer T> ? T : never>;

  const descriptor: ArrayDescriptor<V> = Object.freeze({
    name: text,
    kind: "array" as const,
    text,
    element: element as TypeDescriptor<unknown>,
    format,
    serialize(value: V, out: ByteWriter): void {
      if (!Array.isArray(value)) {
        throw new TypeValueError(`expected an array (${text}), got ${describeValue(value)}`);
      }
      const n = value.length;
      out.writeInt32(n);
      for (let i = 0; i < n; i++) {
        const v = value[i];
        try {
          if (format === "generic") {
            if (v === null) {
              out.writeUint8(0);
              continue;
            }
            out.writeUint8(1);
          }
          inner.serialize(v, out);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
      }
    },
    deserialize(input: ByteReader): V {
      const n = readCount(input, minElement, "array");
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        try {
          if (format === "generic") {
            need(input, 1, "the element's presence flag");
            if (input.readUint8() === 0) {
              out[i] = null;
              continue;
            }
          }
          out[i] = inner.deserialize(input);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
      }
      return out as V;
    },
    hashCode(_value: V): number {
      throw notAKey(text, "a Java array's hashCode() is an identity hash");
    },
  });
  return descriptor;
}
