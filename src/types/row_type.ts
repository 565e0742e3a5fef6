/**
 * Flink's `Row` (RowSerializer) as descriptors: a bit mask (the row kind's
 * two bits, then one null bit per field), then the non-null fields. Also the
 * legacy format without the kind bits (`rowLegacy`).
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import { checkParts, describeValue, need } from "./composite_helpers.ts";
import type { RowKind, RowValue, TypeDescriptor } from "./type_descriptor.ts";
import { errorUnder, TypeValueError } from "./type_errors.ts";

/** The row kinds by `RowKind.toByteValue()`. */
const KINDS: readonly RowKind[] = Object.freeze(["+I", "-U", "+U", "-D"]);

/**
 * The fields of a row with the given field types, each of which may be
 * `null`, e.g. `[number | null, string | null]`.
 *
 * @example
 * ```ts
 * import { types, type RowFields } from "@kvstate/queryable-state";
 *
 * const fields = [types.int, types.string] as const;
 * const v: RowFields<typeof fields> = [1, null];
 * v.length; // => 2
 * ```
 */
export type RowFields<D extends readonly TypeDescriptor<unknown>[]> = {
  -readonly [K in keyof D]: (D[K] extends TypeDescriptor<infer T> ? T : never) | null;
};

/**
 * A row's descriptor (kind `row`): its value is the array of its fields with
 * the row's `kind`.
 *
 * @example
 * ```ts
 * import { types, type RowDescriptor, type RowValue } from "@kvstate/queryable-state";
 *
 * const r: RowDescriptor<RowValue<[number | null]>> = types.row(types.int);
 * r.legacy; // => false
 * ```
 */
export interface RowDescriptor<T> extends TypeDescriptor<T> {
  /** `"row"`. */
  readonly kind: "row";
  /** The field types, in order. */
  readonly fields: readonly TypeDescriptor<unknown>[];
  /**
   * `true` for the legacy format (no row kind bits: Flink's
   * `RowTypeInfo.createLegacySerializer`, before 1.11), `false` for 1.19's.
   */
  readonly legacy: boolean;
}

/** `RowUtils.deepHashCodeRow`'s hash of one field value (Flink 1.19). */
function deepHash(d: TypeDescriptor<unknown>, v: unknown): number {
  if (v === null) return 0;
  const p = d as unknown as {
    kind: string;
    inner?: TypeDescriptor<unknown>;
    element?: TypeDescriptor<unknown>;
    format?: string;
    key?: TypeDescriptor<unknown>;
    value?: TypeDescriptor<unknown>;
    fields?: readonly TypeDescriptor<unknown>[];
  };
  switch (p.kind) {
    case "nullable":
      return deepHash(p.inner!, v);
    case "row":
      return deepRowHash(p.fields!, v);
    case "list":
      return foldDeep(p.element!, v);
    case "array":
      if (p.format === "primitive") {
        // Arrays.deepHashCode(new Object[] { int[] }): 31 + Arrays.hashCode(int[]).
        return (31 + foldHash(p.element!, v)) | 0;
      }
      // An Object[] (String[], Integer[], …): folded deeply.
      return foldDeep(p.element!, v);
    case "map": {
      let h = 1;
      for (const [k, x] of entriesOf(v)) {
        h = (h + (deepHash(p.key!, k) ^ deepHash(p.value!, x))) | 0;
      }
      return h;
    }
    default:
      // Arrays.deepHashCode(new Object[] { e }) = 31 + e.hashCode().
      return (31 + d.hashCode(v)) | 0;
  }
}

function entriesOf(v: unknown): Iterable<readonly [unknown, unknown]> {
  if (v instanceof Map) return v;
  if (Array.isArray(v)) return v as [unknown, unknown][];
  throw new TypeValueError(
    `expected an array of [key, value] pairs or a Map, got ${describeValue(v)}`,
  );
}

function foldDeep(element: TypeDescriptor<unknown>, v: unknown): number {
  if (!Array.isArray(v)) throw new TypeValueError(`expected an array, got ${describeValue(v)}`);
  let h = 1;
  for (let i = 0; i < v.length; i++) {
    let eh: number;
    try {
      eh = deepHash(element, v[i]);
    } catch (e) {
      throw errorUnder(e, `[${i}]`);
    }
    h = (Math.imul(h, 31) + eh) | 0;
  }
  return h;
}

function foldHash(element: TypeDescriptor<unknown>, v: unknown): number {
  if (!Array.isArray(v)) throw new TypeValueError(`expected an array, got ${describeValue(v)}`);
  let h = 1;
  for (let i = 0; i < v.length; i++) {
    let eh: number;
    try {
      eh = element.hashCode(v[i]);
    } catch (e) {
      throw errorUnder(e, `[${i}]`);
    }
    h = (Math.imul(h, 31) + eh) | 0;
  }
  return h;
}

function kindOf(value: unknown): number {
  const kind = (value as { kind?: unknown }).kind;
  if (kind === undefined) return 0;
  const k = KINDS.indexOf(kind as RowKind);
  if (k < 0) {
    throw errorUnder(
      new TypeValueError(`unknown row kind ${describeValue(kind)} (one of ${KINDS.join(", ")})`),
      ".kind",
    );
  }
  return k;
}

function deepRowHash(fields: readonly TypeDescriptor<unknown>[], value: unknown): number {
  if (!Array.isArray(value) || value.length !== fields.length) {
    throw new TypeValueError(
      `expected an array of ${fields.length} row fields, got ${describeValue(value)}`,
    );
  }
  let h = 1;
  for (let i = 0; i < fields.length; i++) {
    let fh: number;
    try {
      fh = deepHash(fields[i], value[i]);
    } catch (e) {
      throw errorUnder(e, `[${i}]`);
    }
    h = (Math.imul(h, 31) + fh) | 0;
  }
  // Row.hashCode(): 31 * kind.toByteValue() + the fields' deep hash (folded from 1).
  return (Math.imul(31, kindOf(value)) + h) | 0;
}

function build<D extends readonly TypeDescriptor<unknown>[]>(
  builder: string,
  fields: D,
  legacy: boolean,
): RowDescriptor<RowValue<RowFields<D>>> {
  checkParts(builder, fields);
  const parts: readonly TypeDescriptor<unknown>[] = Object.freeze([...fields]);
  const n = parts.length;
  const offset = legacy ? 0 : 2;
  const maskBytes = (n + offset + 7) >> 3;
  const text = `${legacy ? "rowlegacy" : "row"}<${parts.map((f) => f.text).join(",")}>`;

  function check(value: unknown): unknown[] {
    if (!Array.isArray(value) || value.length !== n) {
      throw new TypeValueError(
        `expected an array of ${n} row field${n === 1 ? "" : "s"}` +
          `${value === null ? " (a Row has no null marker of its own)" : ""}, got ${
            describeValue(value)
          }`,
      );
    }
    return value;
  }

  const descriptor: RowDescriptor<RowValue<RowFields<D>>> = Object.freeze({
    name: text,
    kind: "row" as const,
    text,
    fields: parts,
    legacy,
    serialize(value: RowValue<RowFields<D>>, out: ByteWriter): void {
      const v = check(value);
      const kind = kindOf(v);
      let byte = 0;
      let bit = 0;
      if (!legacy) {
        // Bit 0 (0x80) is the kind's low bit, bit 1 (0x40) its high bit.
        byte = ((kind & 1) << 7) | ((kind & 2) << 5);
        bit = 2;
      }
      for (let i = 0; i < n; i++) {
        if (v[i] === null) byte |= 0x80 >> bit;
        else if (v[i] === undefined) {
          throw errorUnder(new TypeValueError("undefined (write null for a null field)"), `[${i}]`);
        }
        if (++bit === 8) {
          out.writeUint8(byte);
          byte = 0;
          bit = 0;
        }
      }
      if (bit > 0) out.writeUint8(byte);
      for (let i = 0; i < n; i++) {
        const f = v[i];
        if (f === null) continue;
        try {
          parts[i].serialize(f, out);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
      }
    },
    deserialize(input: ByteReader): RowValue<RowFields<D>> {
      need(input, maskBytes, "the row's null mask");
      const mask = input.offset;
      input.offset += maskBytes;
      const bytes = input.bytes;
      const kind = legacy ? 0 : ((bytes[mask] >> 7) & 1) | ((bytes[mask] >> 5) & 2);
      const out = new Array<unknown>(n) as unknown[] & { kind?: RowKind };
      for (let i = 0; i < n; i++) {
        const b = i + offset;
        if (bytes[mask + (b >> 3)] & (0x80 >> (b & 7))) {
          out[i] = null;
          continue;
        }
        try {
          out[i] = parts[i].deserialize(input);
        } catch (e) {
          throw errorUnder(e, `[${i}]`);
        }
      }
      out.kind = KINDS[kind];
      return out as RowValue<RowFields<D>>;
    },
    hashCode(value: RowValue<RowFields<D>>): number {
      return deepRowHash(parts, check(value));
    },
  });
  return descriptor;
}

/**
 * `Row` in Flink 1.19's format (RowSerializer with row kind, what
 * `RowTypeInfo.createSerializer` builds): a mask of `2 + arity` bits,
 * most significant first, padded to whole bytes: the kind's low bit (`80`),
 * its high bit (`40`), then one bit per field (1 = null); then the non-null
 * fields. Unused mask bits are ignored when reading, as Flink does.
 *
 * JS value: an array of the fields (each may be `null`) with a `kind`
 * property ({@linkcode RowKind}: `+I`, `-U`, `+U`, `-D`); writing without
 * `kind` writes `+I`; reading always sets it. A field-name based row is
 * written by position, so give the fields in the declared order.
 *
 * `hashCode` is 1.19's `Row.hashCode()`: `31 * kind + h`, `h` folding
 * `31 * h + hash(field)` from 1 where a null field is 0, a nested row its own
 * row hash, a list/array/map Flink's deep hash of it, and any other value
 * `31 + value.hashCode()`.
 *
 * For the pre-1.11 format without the kind bits see {@linkcode rowLegacy}.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { deserializeValue, fromHex, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const r = types.row(types.string, types.long);
 * r.text; // => "row<string,long>"
 * const updated = Object.assign(["a", 1n] as [string, bigint], { kind: "+U" as const });
 * toHex(serializeValue(r, updated)); // => "4002610000000000000001"
 * const back = deserializeValue(r, fromHex("100262"));
 * back; // => Object.assign(["b", null], { kind: "+I" })
 * r.hashCode(["a", 1n]); // => 4961
 * ```
 *
 * @param fields The field types, in order.
 * @returns The descriptor, frozen.
 * @throws {TypeError} When a field type is not a descriptor.
 */
export function row<D extends readonly TypeDescriptor<unknown>[]>(
  ...fields: D
): RowDescriptor<RowValue<RowFields<D>>> {
  return build("types.row", fields, false);
}

/**
 * `Row` in the legacy format (Flink's `RowTypeInfo.createLegacySerializer`,
 * RowSerializer with `supportsRowKind = false`, the format before 1.11):
 * the null mask has one bit per field and no kind bits. The row kind is not
 * stored: writing ignores `kind` (as Flink does; an invalid one is still
 * refused) and reading gives `+I`.
 * Text `rowlegacy<…>`. Values and `hashCode` as {@linkcode row}.
 *
 * @example
 * ```ts
 * import { types } from "@kvstate/queryable-state";
 * import { serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const r = types.rowLegacy(types.int, types.string);
 * r.text; // => "rowlegacy<int,string>"
 * toHex(serializeValue(r, [42, null])); // => "400000002a"
 * ```
 *
 * @param fields The field types, in order.
 * @returns The descriptor, frozen.
 * @throws {TypeError} When a field type is not a descriptor.
 */
export function rowLegacy<D extends readonly TypeDescriptor<unknown>[]>(
  ...fields: D
): RowDescriptor<RowValue<RowFields<D>>> {
  return build("types.rowLegacy", fields, true);
}
