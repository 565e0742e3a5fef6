/**
 * Java enums (Flink's EnumSerializer) as descriptors: the constant's
 * ordinal as an int.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import { describeValue, isJavaIdentifier, need, notAKey } from "./composite_helpers.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "./type_errors.ts";

/**
 * An enum's descriptor (kind `enum`): its value is the constant's name.
 *
 * @example
 * ```ts
 * import { types, type EnumDescriptor } from "@kvstate/queryable-state";
 *
 * const color: EnumDescriptor<"RED" | "GREEN"> = types.enumOf("RED", "GREEN");
 * color.constants; // => ["RED", "GREEN"]
 * ```
 */
export interface EnumDescriptor<T extends string> extends TypeDescriptor<T> {
  /** `"enum"`. */
  readonly kind: "enum";
  /** The constants, in declaration (ordinal) order. */
  readonly constants: readonly T[];
}

/**
 * A Java enum (Flink's EnumSerializer): the value is the constant's name,
 * written as its ordinal (a 4-byte int: the index in the order the
 * constants are given, which must be the Java declaration order). An
 * unknown name on write is a {@linkcode TypeValueError}; an ordinal outside
 * the constants on read a {@linkcode TypeDecodeError}
 * (`java.lang.ArrayIndexOutOfBoundsException`). Text `enum<A,B,…>`.
 *
 * Not usable as a key: `Enum.hashCode()` is an identity hash (it differs
 * between JVMs), so `hashCode` throws a {@linkcode TypeValueError}.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const color = types.enumOf("RED", "GREEN", "BLUE");
 * color.text; // => "enum<RED,GREEN,BLUE>"
 * toHex(serializeValue(color, "BLUE")); // => "00000002"
 * deserializeValue(color, fromHex("00000000")); // => "RED"
 * ```
 *
 * @param constants The constants' names, in declaration order (at least one,
 *   no duplicates, each a Java identifier).
 * @returns The descriptor, frozen.
 * @throws {TypeError} When there are no constants, a duplicate, or a name
 *   that is not a Java identifier.
 */
export function enumOf<const C extends readonly string[]>(
  ...constants: C
): EnumDescriptor<C[number]> {
  if (constants.length === 0) {
    throw new TypeError("types.enumOf: an enum needs at least one constant");
  }
  const ordinals = new Map<string, number>();
  for (let i = 0; i < constants.length; i++) {
    const c = constants[i];
    if (typeof c !== "string" || !isJavaIdentifier(c)) {
      throw new TypeError(
        `types.enumOf: constant ${i + 1} (${describeValue(c)}) is not a Java identifier`,
      );
    }
    if (ordinals.has(c)) throw new TypeError(`types.enumOf: duplicate constant ${c}`);
    ordinals.set(c, i);
  }
  const list: readonly C[number][] = Object.freeze([...constants]);
  const text = `enum<${list.join(",")}>`;
  const descriptor: EnumDescriptor<C[number]> = Object.freeze({
    name: text,
    kind: "enum" as const,
    text,
    constants: list,
    serialize(value: C[number], out: ByteWriter): void {
      const ordinal = typeof value === "string" ? ordinals.get(value) : undefined;
      if (ordinal === undefined) {
        throw new TypeValueError(
          `unknown constant ${describeValue(value)} of ${text} (one of ${list.join(", ")})`,
        );
      }
      out.writeInt32(ordinal);
    },
    deserialize(input: ByteReader): C[number] {
      need(input, 4, "the enum ordinal");
      const ordinal = input.readInt32();
      if (ordinal < 0 || ordinal >= list.length) {
        throw new TypeDecodeError(
          `unknown ordinal ${ordinal} of ${text} (${list.length} constant${
            list.length === 1 ? "" : "s"
          })`,
          undefined,
          "java.lang.ArrayIndexOutOfBoundsException",
        );
      }
      return list[ordinal];
    },
    hashCode(_value: C[number]): number {
      throw notAKey(text, "Enum.hashCode() is an identity hash (it differs between JVMs)");
    },
  });
  return descriptor;
}
