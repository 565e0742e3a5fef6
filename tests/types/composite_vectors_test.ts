/**
 * Conformance of the composite descriptors with the bytes Flink 1.19 wrote
 * (`../shared/flink-vectors/types/`): every vector of the groups tuple,
 * pojo, row, nullable, either, array, collection, the enum vectors, the
 * tuple/POJO/row keys (bytes, hash codes, key groups) and the list/map/value
 * state contents, decoded to the manifest's value and re-encoded to the same
 * bytes.
 */

import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import {
  descriptorOfManifestType,
  expectedValue,
  type TypeVector,
  typeVectorTest,
} from "./_vectors.ts";
import { bytesEqual, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import {
  deserializeKeyAndNamespace,
  serializeKeyAndNamespace,
} from "../../src/wire/key_and_namespace.ts";
import { keyGroupForKeyHash } from "../../src/wire/key_group.ts";
import {
  decodeListContent,
  decodeMapContent,
  encodeListContent,
  encodeMapContent,
} from "../../src/wire/state_content.ts";
import type { TypeDescriptor } from "../../src/types/type_descriptor.ts";
import { TypeDecodeError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import { javaObjectsHash } from "../../src/types/pojo_type.ts";

const COMPOSITE_GROUPS = ["tuple", "pojo", "row", "nullable", "either", "array", "collection"];

/** The descriptor of a vector: the loader's, plus Tuple0 and the legacy row. */
function descriptorOf(v: TypeVector): TypeDescriptor<unknown> {
  if (v.type.kind === "tuple0") return types.tuple() as TypeDescriptor<unknown>;
  if (v.type.kind === "row" && v.entry.legacyMode === true) {
    const fields = (v.type.fields as unknown[]).map(descriptorOfManifestType);
    return types.rowLegacy(...fields) as TypeDescriptor<unknown>;
  }
  return descriptorOfManifestType(v.type);
}

function isSubclassVector(v: TypeVector): boolean {
  return Object.hasOwn(v.entry, "subclassType");
}

/** Decode to the expected value and re-encode to the same bytes. */
function checkValueVector(v: TypeVector): void {
  const d = descriptorOf(v);
  if (v.typeText !== undefined) assertEquals(d.text, v.typeText, `${v.file}: text`);
  const decoded = deserializeValue(d, v.bytes);
  const expected = expectedValue(d, v.expected);
  assertEquals(decoded, expected, `${v.file}: decoded`);
  // Re-encoding what was decoded gives the bytes back; so does encoding the written value.
  assertEquals(toHex(serializeValue(d, decoded)), toHex(v.bytes), `${v.file}: re-encoded`);
  const written = expectedValue(d, v.value);
  assertEquals(toHex(serializeValue(d, written)), toHex(v.bytes), `${v.file}: written value`);
}

typeVectorTest("composite value vectors decode and re-encode byte for byte", (all) => {
  const vectors = all.filter((v) =>
    (COMPOSITE_GROUPS.includes(v.group) || v.type.kind === "enum") && !isSubclassVector(v)
  );
  // 17 tuple + 13 pojo + 13 row + 8 nullable + 5 either + 12 array + 6 collection + 2 enum
  assertEquals(vectors.length, 76);
  for (const v of vectors) checkValueVector(v);
});

typeVectorTest("Tuple0 is the one byte 2a and its text tuple<>", (all) => {
  const v = all.find((x) => x.type.kind === "tuple0")!;
  assertEquals(toHex(v.bytes), "2a");
  assertEquals(types.tuple().text, "tuple<>");
  assertEquals(deserializeValue(types.tuple(), v.bytes), []);
});

typeVectorTest("POJO subclass flags: a TypeDecodeError naming the flag and the class", (all) => {
  const subs = all.filter(isSubclassVector);
  assertEquals(subs.length, 2);
  for (const v of subs) {
    const d = descriptorOf(v);
    const e = assertThrows(() => deserializeValue(d, v.bytes), TypeDecodeError);
    assertEquals(e.path, "value");
    assert(e.message.includes("com.example.Animal"), e.message);
    if (v.bytes[0] === 0x04) {
      assert(e.problem.includes("IS_SUBCLASS 0x04"), e.problem);
      assert(e.problem.includes('"com.example.Dog"'), e.problem);
    } else {
      assertEquals(v.bytes[0], 0x08);
      assert(e.problem.includes("IS_TAGGED_SUBCLASS 0x08"), e.problem);
      assert(e.problem.includes("tag 0"), e.problem);
    }
    // The subclass's own descriptor reads what follows the header.
    const dog = descriptorOfManifestType(v.entry.subclassType);
    const offset = v.bytes[0] === 0x04 ? 3 + 15 : 2;
    assertEquals(
      deserializeValue(dog, v.bytes.subarray(offset)),
      expectedValue(dog, (v.value as { fields: unknown }).fields),
    );
  }
});

/** The keys' descriptors: POJO keys get Objects.hash(tenant, userId). */
function keyDescriptorOf(v: TypeVector): TypeDescriptor<unknown> {
  if (v.type.kind !== "pojo") return descriptorOf(v);
  type UserKey = { tenant: string | null; userId: bigint | null };
  return types.pojo({ tenant: types.string, userId: types.long }, {
    className: "com.example.UserKey",
    hashCode: (k: UserKey) =>
      javaObjectsHash([
        k.tenant === null ? null : types.string.hashCode(k.tenant),
        k.userId === null ? null : types.long.hashCode(k.userId),
      ]),
  }) as TypeDescriptor<unknown>;
}

typeVectorTest("tuple, POJO and row keys: bytes, hashCode, key groups", (all) => {
  const keys = all.filter((v) => v.group === "keyns" && v.type.kind !== "string");
  assertEquals(keys.length, 16);
  for (const v of keys) {
    const d = keyDescriptorOf(v);
    assertEquals(d.text, v.typeText, `${v.file}: text`);
    const key = expectedValue(d, v.value);
    assertEquals(toHex(serializeValue(d, key)), v.entry.serializedKeyHex, `${v.file}: key`);
    assertEquals(toHex(serializeKeyAndNamespace(key, d)), toHex(v.bytes), `${v.file}: keyns`);
    assertEquals(deserializeKeyAndNamespace(v.bytes, d), key, `${v.file}: read back`);
    const hash = d.hashCode(key);
    assertEquals(hash, (v.entry.keyHashCode as number) | 0, `${v.file}: hashCode`);
    assertEquals(keyGroupForKeyHash(hash, 128), v.entry.keyGroup128, `${v.file}: group 128`);
    assertEquals(keyGroupForKeyHash(hash, 32768), v.entry.keyGroup32768, `${v.file}: 32768`);
  }
});

typeVectorTest("list, map and value state contents with composite elements", (all) => {
  const states = all.filter((v) => v.group === "state");
  assertEquals(states.length, 6);
  for (const v of states) {
    const t = v.type as { kind: string; element?: unknown; key?: unknown; value?: unknown };
    if (t.kind === "listState") {
      const el = descriptorOfManifestType(t.element);
      const got = decodeListContent(el, v.bytes);
      const want = (v.value as unknown[]).map((x) => expectedValue(el, x));
      assertEquals(got, want, v.file);
      assert(bytesEqual(encodeListContent(el, want), v.bytes), `${v.file}: re-encoded`);
    } else if (t.kind === "mapState") {
      const k = descriptorOfManifestType(t.key);
      const val = descriptorOfManifestType(t.value);
      const got = decodeMapContent(k, val, v.bytes);
      const want = (v.value as [unknown, unknown][]).map((
        [a, b],
      ) => [expectedValue(k, a), expectedValue(val, b)]);
      assertEquals(got, want, v.file);
      assert(
        bytesEqual(encodeMapContent(k, val, want as [unknown, unknown][]), v.bytes),
        `${v.file}: re-encoded`,
      );
    } else {
      const d = descriptorOfManifestType(v.type);
      assertEquals(deserializeValue(d, v.bytes), expectedValue(d, v.value), v.file);
      assert(bytesEqual(serializeValue(d, expectedValue(d, v.value)), v.bytes), v.file);
    }
  }
});

typeVectorTest("every vector of the composite groups is accounted for", (all) => {
  const mine = all.filter((v) => [...COMPOSITE_GROUPS, "keyns", "state"].includes(v.group));
  // 17 + 15 + 13 + 8 + 5 + 12 + 6 value vectors, 17 keys, 6 state contents.
  assertEquals(mine.length, 99);
  assertInstanceOf(mine[0].bytes, Uint8Array);
});
