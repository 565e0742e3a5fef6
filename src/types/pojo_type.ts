/**
 * Flink POJOs (PojoSerializer) as descriptors: a flags byte, then each
 * field, sorted by name, behind its own null marker.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../wire/bytes.ts";
import { checkParts, describeValue, isJavaIdentifier, need, setOwn } from "./composite_helpers.ts";
import type { PojoField, TypeDescriptor } from "./type_descriptor.ts";
import { errorUnder, TypeDecodeError, TypeValueError } from "./type_errors.ts";

/** PojoSerializer's flags: the value is null. */
const IS_NULL = 0x01;
/** PojoSerializer's flags: exactly the declared class. */
const NO_SUBCLASS = 0x02;
/** PojoSerializer's flags: a subclass, its name follows (writeUTF). */
const IS_SUBCLASS = 0x04;
/** PojoSerializer's flags: a registered subclass, its one-byte tag follows. */
const IS_TAGGED_SUBCLASS = 0x08;

/**
 * The JS object of a POJO with the given field types: every field may be
 * `null` (PojoSerializer writes a null marker before each field).
 *
 * @example
 * ```ts
 * import { types, type PojoObject } from "@kvstate/queryable-state";
 *
 * const fields = { id: types.long, name: types.string };
 * const v: PojoObject<typeof fields> = { id: 1n, name: null };
 * v.id; // => 1n
 * ```
 */
export type PojoObject<F extends Readonly<Record<string, TypeDescriptor<unknown>>>> = {
  -readonly [K in keyof F]: (F[K] extends TypeDescriptor<infer T> ? T : never) | null;
};

/**
 * Options of {@linkcode pojo}.
 *
 * @example
 * ```ts
 * import type { PojoOptions } from "@kvstate/queryable-state";
 *
 * const options: PojoOptions<{ id: bigint | null }> = { className: "com.example.Key" };
 * options.className; // => "com.example.Key"
 * ```
 */
export interface PojoOptions<O> {
  /**
   * The Java class's name, used in error messages only (default: none; the
   * bytes do not carry it).
   */
  readonly className?: string;
  /**
   * The POJO's Java `hashCode()` (user code in Java, so it must be supplied
   * to use the POJO as a key; default: none, and `hashCode` throws a
   * {@linkcode TypeValueError} saying so). Must return an int32;
   * {@linkcode javaObjectsHash} computes `java.util.Objects.hash(...)`.
   */
  readonly hashCode?: (value: O) => number;
}

/**
 * A POJO's descriptor (kind `pojo`): its value is an object, or `null`.
 *
 * @example
 * ```ts
 * import { types, type PojoDescriptor } from "@kvstate/queryable-state";
 *
 * const p: PojoDescriptor<{ id: bigint | null } | null> = types.pojo({ id: types.long });
 * p.fields[0].name; // => "id"
 * ```
 */
export interface PojoDescriptor<T> extends TypeDescriptor<T> {
  /** `"pojo"`. */
  readonly kind: "pojo";
  /** The fields in serialization order (by name, UTF-16 code unit order). */
  readonly fields: readonly PojoField[];
  /** The Java class name, when given. */
  readonly className?: string;
}

/**
 * `java.util.Objects.hash(values...)` from the values' hash codes (`null`
 * for a null value): `h = 31 * h + hash` from 1. A common POJO `hashCode()`.
 *
 * @example `Objects.hash(tenant, userId)` for ("acme", 1L)
 * ```ts
 * import { javaObjectsHash, types } from "@kvstate/queryable-state";
 *
 * javaObjectsHash([types.string.hashCode("acme"), types.long.hashCode(1n)]); // => 92639688
 * javaObjectsHash([null, 7]); // => 968
 * ```
 *
 * @param hashes Each value's `hashCode()` (an int32), or `null`.
 * @returns The hash (an int32).
 * @throws {TypeError} When a hash is neither an int32 nor `null`.
 */
export function javaObjectsHash(hashes: readonly (number | null)[]): number {
  let h = 1;
  for (let i = 0; i < hashes.length; i++) {
    const x = hashes[i];
    if (x !== null && (typeof x !== "number" || (x | 0) !== x)) {
      throw new TypeError(
        `javaObjectsHash: hash ${i} is not an int32 or null: ${describeValue(x)}`,
      );
    }
    h = (Math.imul(h, 31) + (x ?? 0)) | 0;
  }
  return h;
}

/** Java's `String.compareTo`: UTF-16 code unit order. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads `DataInput.readUTF`: a 2-byte length, then modified UTF-8. */
function readJavaUtf(input: ByteReader): string {
  need(input, 2, "the subclass name's length");
  const len = input.readUint16();
  need(input, len, "the subclass name");
  const bytes = input.readBytes(len);
  let s = "";
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i += 1;
    } else if ((b & 0xe0) === 0xc0 && i + 1 < bytes.length) {
      s += String.fromCharCode(((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f));
      i += 2;
    } else if ((b & 0xf0) === 0xe0 && i + 2 < bytes.length) {
      s += String.fromCharCode(
        ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f),
      );
      i += 3;
    } else {
      s += "\ufffd";
      i += 1;
    }
  }
  return s;
}

/**
 * A Java POJO (Flink's PojoSerializer). Fields are given by name, in any
 * order; they are serialized sorted by name in UTF-16 code unit order
 * (Java's `String.compareTo`, as Flink's `PojoTypeInfo` sorts them:
 * `B < Zed < _flag < a < aa`), superclass fields merged in the same list.
 *
 * Bytes: a flags byte (`01` null POJO, `02` the declared class), then per
 * field a null marker (`01` null, `00` present) and the field's bytes.
 * Subclass flags (`04` with the class name, `08` with a registered tag) are
 * refused with a {@linkcode TypeDecodeError} naming the class when the bytes
 * carry it: describe such values with the subclass's own `pojo<…>`.
 *
 * JS value: an object with exactly the declared keys (decoded in
 * serialization order), any of them `null`; or `null`. Writing a missing key,
 * an `undefined` field or an unknown key (a typo guard) is a
 * {@linkcode TypeValueError} naming the field.
 *
 * `hashCode` is the caller's `options.hashCode` (a POJO's `hashCode()` is
 * user code); without it, using the POJO as a key throws a
 * {@linkcode TypeValueError} saying to pass one.
 *
 * @example
 * ```ts
 * import { javaObjectsHash, types } from "@kvstate/queryable-state";
 * import { deserializeValue, serializeValue, toHex } from "@kvstate/queryable-state/wire";
 *
 * const userKey = types.pojo(
 *   { userId: types.long, tenant: types.string },
 *   {
 *     className: "com.example.UserKey",
 *     hashCode: (k) => javaObjectsHash([
 *       k.tenant === null ? null : types.string.hashCode(k.tenant),
 *       k.userId === null ? null : types.long.hashCode(k.userId),
 *     ]),
 *   },
 * );
 * userKey.text; // => "pojo<tenant:string,userId:long>"
 * const bytes = serializeValue(userKey, { userId: 1n, tenant: "acme" });
 * toHex(bytes); // => "02000561636d65000000000000000001"
 * deserializeValue(userKey, bytes); // => { tenant: "acme", userId: 1n }
 * userKey.hashCode({ tenant: "acme", userId: 1n }); // => 92639688
 * ```
 *
 * @param fields The fields by name.
 * @param options The class name and the POJO's `hashCode()`.
 * @returns The descriptor, frozen.
 * @throws {TypeError} When there are no fields, a name is empty or not a
 *   Java identifier, or a field type is not a descriptor.
 */
export function pojo<F extends Readonly<Record<string, TypeDescriptor<unknown>>>>(
  fields: F,
  options: PojoOptions<PojoObject<F>> = {},
): PojoDescriptor<PojoObject<F> | null> {
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new TypeError(
      `types.pojo: expected an object of field types, got ${describeValue(fields)}`,
    );
  }
  const names = Object.keys(fields).sort(compareNames);
  if (names.length === 0) throw new TypeError("types.pojo: a POJO needs at least one field");
  for (const name of names) {
    if (name.length === 0) throw new TypeError("types.pojo: a field name cannot be empty");
    // Also what keeps the text parseable as the same type (`a,b:int` as a name would not be).
    if (!isJavaIdentifier(name)) {
      throw new TypeError(
        `types.pojo: field name ${describeValue(name)} is not a Java identifier`,
      );
    }
  }
  checkParts("types.pojo", names.map((n) => fields[n]));
  const { className, hashCode: userHash } = options;
  if (className !== undefined && typeof className !== "string") {
    throw new TypeError(`types.pojo: className must be a string, got ${describeValue(className)}`);
  }
  if (userHash !== undefined && typeof userHash !== "function") {
    throw new TypeError(`types.pojo: hashCode must be a function, got ${describeValue(userHash)}`);
  }
  const list: readonly PojoField[] = Object.freeze(
    names.map((name) => Object.freeze({ name, type: fields[name] as TypeDescriptor<unknown> })),
  );
  const fieldTypes = list.map((f) => f.type);
  const n = names.length;
  const nameSet = new Set(names);
  const text = `pojo<${list.map((f) => `${f.name}:${f.type.text}`).join(",")}>`;
  const what = className ?? "the POJO";

  function check(value: unknown): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new TypeValueError(`expected an object (${what}) or null, got ${describeValue(value)}`);
    }
    const obj = value as Record<string, unknown>;
    for (let i = 0; i < n; i++) {
      const name = names[i];
      if (!Object.hasOwn(obj, name) || obj[name] === undefined) {
        throw errorUnder(
          new TypeValueError(
            `missing field "${name}" of ${what} (write null for a null field)`,
          ),
          `.${name}`,
        );
      }
    }
    const keys = Object.keys(obj);
    if (keys.length !== n) {
      for (const k of keys) {
        if (!nameSet.has(k)) {
          throw new TypeValueError(
            `unknown field "${k}" for ${what} (its fields: ${names.join(", ")})`,
          );
        }
      }
    }
    return obj;
  }

  const descriptor: PojoDescriptor<PojoObject<F> | null> = Object.freeze({
    name: text,
    kind: "pojo" as const,
    text,
    fields: list,
    ...(className === undefined ? {} : { className }),
    serialize(value: PojoObject<F> | null, out: ByteWriter): void {
      if (value === null) {
        out.writeUint8(IS_NULL);
        return;
      }
      const obj = check(value);
      out.writeUint8(NO_SUBCLASS);
      for (let i = 0; i < n; i++) {
        const v = obj[names[i]];
        if (v === null) {
          out.writeUint8(1);
          continue;
        }
        out.writeUint8(0);
        try {
          fieldTypes[i].serialize(v, out);
        } catch (e) {
          throw errorUnder(e, `.${names[i]}`);
        }
      }
    },
    deserialize(input: ByteReader): PojoObject<F> | null {
      need(input, 1, "the POJO flags byte");
      const flags = input.readUint8();
      if (flags === IS_NULL) return null;
      if (flags !== NO_SUBCLASS) {
        if (flags & IS_SUBCLASS) {
          const sub = readJavaUtf(input);
          throw new TypeDecodeError(
            `the bytes hold a subclass ${JSON.stringify(sub)} of ${what} ` +
              `(PojoSerializer flag IS_SUBCLASS 0x04): subclasses are not supported; ` +
              `read such values with the subclass's own pojo<...> type`,
          );
        }
        if (flags & IS_TAGGED_SUBCLASS) {
          need(input, 1, "the subclass tag");
          const tag = input.readUint8();
          throw new TypeDecodeError(
            `the bytes hold registered subclass tag ${tag} of ${what} ` +
              `(PojoSerializer flag IS_TAGGED_SUBCLASS 0x08; the bytes do not name the class): ` +
              `subclasses are not supported; read such values with the subclass's own pojo<...> type`,
          );
        }
        throw new TypeDecodeError(
          `unknown PojoSerializer flags 0x${flags.toString(16).padStart(2, "0")} ` +
            `(expected 01 null or 02 a ${what})`,
        );
      }
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const name = names[i];
        let v: unknown = null;
        try {
          need(input, 1, "the field's null marker");
          if (input.readUint8() === 0) v = fieldTypes[i].deserialize(input);
        } catch (e) {
          throw errorUnder(e, `.${name}`);
        }
        setOwn(obj, name, v);
      }
      return obj as PojoObject<F>;
    },
    hashCode(value: PojoObject<F> | null): number {
      if (userHash === undefined) {
        throw new TypeValueError(
          `not usable as a key without a hashCode: a POJO's hashCode() is user code; ` +
            `pass { hashCode } to types.pojo(...) (javaObjectsHash computes Objects.hash)`,
        );
      }
      if (value === null) {
        throw new TypeValueError(`a null ${what} has no hashCode() (Java: NullPointerException)`);
      }
      const h = userHash(check(value) as PojoObject<F>);
      if (typeof h !== "number" || (h | 0) !== h) {
        throw new TypeValueError(
          `the hashCode option of ${what} returned ${describeValue(h)}, not an int32`,
        );
      }
      return h;
    },
  });
  return descriptor;
}
