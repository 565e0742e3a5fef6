/**
 * Flink's `Either<L, R>` (EitherSerializer) as descriptors.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import { checkParts, describeValue, need } from "./composite_helpers.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { errorUnder, TypeDecodeError, TypeValueError } from "./type_errors.ts";

/**
 * An `Either`'s JS value: `{ left: L }` or `{ right: R }` (exactly one key,
 * its value not `null`).
 *
 * @example
 * ```ts
 * import type { EitherValue } from "@kvstate/queryable-state";
 *
 * const v: EitherValue<string, bigint> = { right: 5n };
 * "right" in v; // => true
 * ```
 */
export type EitherValue<L, R> = { left: L; right?: never } | { right: R; left?: never };

/**
 * An `Either`'s descriptor (kind `either`).
 *
 * @example
 * ```ts
 * import { types, type EitherDescriptor, type EitherValue } from "@kvstate/queryable-state";
 *
 * const e: EitherDescriptor<EitherValue<string | null, bigint>> = types.either(types.string, types.long);
 * e.left.text; // => "string"
 * ```
 */
export interface EitherDescriptor<T> extends TypeDescriptor<T> {
  /** `"either"`. */
  readonly kind: "either";
  /** The left type. */
  readonly left: TypeDescriptor<unknown>;
  /** The right type. */
  readonly right: TypeDescriptor<unknown>;
}

/**
 * Flink's `Either<L, R>` (EitherSerializer): a boolean is-left byte (`01`
 * left; any non-zero byte reads as left, as Java's `readBoolean`), then the
 * left or right value. Java's `Left`/`Right` refuse `null`, so a `null`
 * inside is a {@linkcode TypeValueError} on write and a
 * {@linkcode TypeDecodeError} (`java.lang.NullPointerException`) on read.
 * Text `either<L,R>`.
 *
 * `hashCode` is `Left.hashCode()` / `Right.hashCode()`: the value's.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const e = types.either(types.string, types.long);
 * toHex(serializeValue(e, { left: "x" })); // => "010278"
 * deserializeValue(e, fromHex("000000000000000005")); // => { right: 5n }
 * e.hashCode({ left: "a" }); // => 97
 * ```
 *
 * @param left The left type.
 * @param right The right type.
 * @returns The descriptor, frozen.
 * @throws {TypeError} When a part is not a descriptor.
 */
export function either<L extends TypeDescriptor<unknown>, R extends TypeDescriptor<unknown>>(
  left: L,
  right: R,
): EitherDescriptor<
  EitherValue<
    Exclude<L extends TypeDescriptor<infer A> ? A : never, null>,
    Exclude<R extends TypeDescriptor<infer B> ? B : never, null>
  >
> {
  checkParts("types.either", [left, right]);
  const ld = left as TypeDescriptor<unknown>;
  const rd = right as TypeDescriptor<unknown>;
  const text = `either<${ld.text},${rd.text}>`;
  type T = EitherValue<
    Exclude<L extends TypeDescriptor<infer A> ? A : never, null>,
    Exclude<R extends TypeDescriptor<infer B> ? B : never, null>
  >;

  /** Which side (true = left) and its value. */
  function side(value: unknown): [boolean, unknown] {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new TypeValueError(
        `expected { left } or { right } (${text}), got ${describeValue(value)}`,
      );
    }
    const hasLeft = Object.hasOwn(value, "left");
    const hasRight = Object.hasOwn(value, "right");
    if (hasLeft === hasRight) {
      throw new TypeValueError(
        `expected exactly one of "left" and "right" (${text}), got ${hasLeft ? "both" : "neither"}`,
      );
    }
    const isLeft = hasLeft;
    const v = (value as Record<string, unknown>)[isLeft ? "left" : "right"];
    if (v === null || v === undefined) {
      throw errorUnder(
        new TypeValueError(
          `an Either cannot hold ${describeValue(v)} (Java: NullPointerException)`,
        ),
        isLeft ? ".left" : ".right",
      );
    }
    return [isLeft, v];
  }

  const descriptor: EitherDescriptor<T> = Object.freeze({
    name: text,
    kind: "either" as const,
    text,
    left: ld,
    right: rd,
    serialize(value: T, out: ByteWriter): void {
      const [isLeft, v] = side(value);
      out.writeUint8(isLeft ? 1 : 0);
      try {
        (isLeft ? ld : rd).serialize(v, out);
      } catch (e) {
        throw errorUnder(e, isLeft ? ".left" : ".right");
      }
    },
    deserialize(input: ByteReader): T {
      need(input, 1, "the Either's is-left byte");
      const isLeft = input.readUint8() !== 0;
      let v: unknown;
      try {
        v = (isLeft ? ld : rd).deserialize(input);
      } catch (e) {
        throw errorUnder(e, isLeft ? ".left" : ".right");
      }
      if (v === null) {
        throw errorUnder(
          new TypeDecodeError(
            "an Either cannot hold null",
            undefined,
            "java.lang.NullPointerException",
          ),
          isLeft ? ".left" : ".right",
        );
      }
      return (isLeft ? { left: v } : { right: v }) as T;
    },
    hashCode(value: T): number {
      const [isLeft, v] = side(value);
      try {
        return (isLeft ? ld : rd).hashCode(v);
      } catch (e) {
        throw errorUnder(e, isLeft ? ".left" : ".right");
      }
    },
  });
  return descriptor;
}
