/**
 * Flink's NullableSerializer as a descriptor: a null marker in front of a
 * type that has none, optionally padding a null to the type's fixed length.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import { checkParts, describeValue, fixedLengthOf, need } from "./composite_helpers.ts";
import type { TypeDescriptor } from "./type_descriptor.ts";
import { errorUnder } from "./type_errors.ts";

/**
 * Options of {@linkcode nullable}.
 *
 * @example
 * ```ts
 * import type { NullableOptions } from "@kvstate/queryable-state";
 *
 * const options: NullableOptions = { padded: true };
 * options.padded; // => true
 * ```
 */
export interface NullableOptions {
  /**
   * Pad a null to the inner type's fixed length (Flink's `padNullValue`:
   * `NullableSerializer.wrap(serializer, true)`); only for fixed-length
   * inner types (int, long, double, …, tuples of them). Default `false`.
   */
  readonly padded?: boolean;
}

/**
 * A nullable descriptor (kind `nullable`): its value is the inner value or
 * `null`.
 *
 * @example
 * ```ts
 * import { types, type NullableDescriptor } from "@kvstate/queryable-state";
 *
 * const n: NullableDescriptor<bigint | null> = types.nullable(types.long);
 * n.padded; // => false
 * ```
 */
export interface NullableDescriptor<T> extends TypeDescriptor<T> {
  /** `"nullable"`. */
  readonly kind: "nullable";
  /** The type made nullable. */
  readonly inner: TypeDescriptor<unknown>;
  /** Whether a null is padded to the inner type's fixed length. */
  readonly padded: boolean;
}

/**
 * `NullableSerializer`: a boolean is-null byte (`01` null, `00` present;
 * any non-zero byte reads as null, as Java's `readBoolean`), then the inner
 * value when present. With `padded`, a null is followed by as many zero
 * bytes as the inner type's fixed length (and reading skips them).
 * Text `nullable<T>` (`nullable<T,padded>`).
 *
 * Making a nullable type nullable again gives it back unchanged, as Flink's
 * `NullableSerializer.wrap` does. `hashCode` is the inner value's, 0 for
 * `null`. In `types.array(...)`, `nullable<X>` selects Flink's
 * GenericArraySerializer (`Integer[]`), which has its own presence flags.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(serializeValue(types.nullable(types.long), null)); // => "01"
 * toHex(serializeValue(types.nullable(types.long), -1n)); // => "00ffffffffffffffff"
 * const padded = types.nullable(types.long, { padded: true });
 * padded.text; // => "nullable<long,padded>"
 * toHex(serializeValue(padded, null)); // => "010000000000000000"
 * ```
 *
 * @param inner The type made nullable.
 * @param options `padded` (default `false`).
 * @returns The descriptor, frozen.
 * @throws {TypeError} When `inner` is not a descriptor, or `padded` is asked
 *   for a type without a fixed length (Flink would silently not pad).
 */
export function nullable<T>(
  inner: TypeDescriptor<T>,
  options: NullableOptions = {},
): NullableDescriptor<T | null> {
  checkParts("types.nullable", [inner]);
  if (inner.kind === "nullable") {
    // Already nullable: the same descriptor, unless asked to pad differently.
    const same = inner as unknown as NullableDescriptor<T | null>;
    if (options.padded !== undefined && options.padded !== same.padded) {
      throw new TypeError(
        `types.nullable: ${inner.text} is already nullable, with padded ${same.padded}`,
      );
    }
    return same;
  }
  const padded = options.padded ?? false;
  if (typeof padded !== "boolean") {
    throw new TypeError(`types.nullable: padded must be a boolean, got ${describeValue(padded)}`);
  }
  const padding = padded ? fixedLengthOf(inner) : 0;
  if (padded && padding <= 0) {
    throw new TypeError(
      `types.nullable: padded needs a fixed-length type, and ${inner.text} has none ` +
        `(Flink pads nothing then: drop padded)`,
    );
  }
  const zeros = new Uint8Array(Math.max(0, padding));
  const text = `nullable<${inner.text}${padded ? ",padded" : ""}>`;
  const descriptor: NullableDescriptor<T | null> = Object.freeze({
    name: text,
    kind: "nullable" as const,
    text,
    inner: inner as TypeDescriptor<unknown>,
    padded,
    serialize(value: T | null, out: ByteWriter): void {
      if (value === null) {
        out.writeUint8(1);
        if (padding > 0) out.writeBytes(zeros);
        return;
      }
      out.writeUint8(0);
      try {
        inner.serialize(value, out);
      } catch (e) {
        throw errorUnder(e, "");
      }
    },
    deserialize(input: ByteReader): T | null {
      need(input, 1, "the null marker");
      if (input.readUint8() !== 0) {
        if (padding > 0) {
          need(input, padding, "the null value's padding");
          input.offset += padding;
        }
        return null;
      }
      try {
        return inner.deserialize(input);
      } catch (e) {
        throw errorUnder(e, "");
      }
    },
    hashCode(value: T | null): number {
      return value === null ? 0 : inner.hashCode(value);
    },
  });
  return descriptor;
}
