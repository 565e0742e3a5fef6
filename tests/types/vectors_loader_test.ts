/**
 * The type vector loader checks itself: every `.bin` matches its manifest
 * length and sha256, the vectors per bucket match the manifest's `counts`,
 * and the test oracle's ISO printer agrees with Java's `Instant.toString()`.
 */

import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { deserializeValue } from "../../src/wire/type_serializers.ts";
import { fromHex } from "../../src/wire/bytes.ts";
import {
  descriptorOfManifestType,
  descriptorOfVector,
  expectedValue,
  loadTypeManifest,
  loadTypeVectors,
  oracleInstantText,
  typeVectorTest,
} from "./_vectors.ts";

typeVectorTest("types loader: counts per bucket match the manifest's counts", (vectors) => {
  const manifest = loadTypeManifest()!;
  const counts: Record<string, number> = {};
  for (const v of vectors) counts[v.countKey] = (counts[v.countKey] ?? 0) + 1;
  assertEquals(counts, { ...manifest.counts });
  assertEquals(vectors.length, manifest.entries.length);
});

typeVectorTest("types loader: bytes match length and hex of every entry", (vectors) => {
  for (const v of vectors) {
    assertEquals(v.bytes.length, v.entry.length, v.file);
    const hex = Array.from(v.bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    assertEquals(hex, v.entry.hex, v.file);
  }
  // The same array comes back (loaded once).
  assert(loadTypeVectors() === vectors);
});

typeVectorTest("types loader: expected is deserializesTo when present", (vectors) => {
  const date = vectors.find((v) => v.file === "java/30-date.bin")!;
  assert(date.hasDeserializesTo);
  assertEquals(date.expected, null);
  assertEquals(date.value, "-9223372036854775808");
  const plain = vectors.find((v) => v.file === "java/25-date.bin")!;
  assert(!plain.hasDeserializesTo);
  assertEquals(plain.expected, "0");
});

typeVectorTest(
  "types loader: the oracle ISO printer matches Java's Instant.toString()",
  (vectors) => {
    let n = 0;
    for (const v of vectors) {
      if (v.type.kind !== "instant" || v.value === null) continue;
      const x = v.value as { epochSecond: string; nano: number; iso: string };
      assertEquals(oracleInstantText(BigInt(x.epochSecond), x.nano), x.iso, v.file);
      n++;
    }
    assertEquals(n, 5);
    assertEquals(oracleInstantText(-62135596800n - 86400n, 0), "0000-12-31T00:00:00Z");
    assertEquals(oracleInstantText(253402300800n, 1_000_000), "+10000-01-01T00:00:00.001Z");
  },
);

typeVectorTest("types loader: basic vectors decode to expectedValue", (vectors) => {
  const basic = new Set([
    "string",
    "long",
    "int",
    "short",
    "byte",
    "char",
    "boolean",
    "float",
    "double",
  ]);
  let n = 0;
  for (const v of vectors) {
    if (v.kind !== "value" || !basic.has(v.type.kind)) continue;
    const d = descriptorOfManifestType(v.type);
    assertEquals(deserializeValue(d, v.bytes), expectedValue(d, v.expected), v.file);
    n++;
  }
  assert(n >= 30, `only ${n} basic vectors`);
});

typeVectorTest(
  "types loader: every non-state vector has a descriptor that decodes it",
  (vectors) => {
    let n = 0;
    for (const v of vectors) {
      if (v.group === "state" && v.type.kind !== "valueState") continue;
      if (v.entry.subclassType !== undefined) continue; // subclass flags: refused by design
      if (v.entry.deserializerReadsBytes !== undefined) continue; // the timestamp null (8 of 12 bytes)
      const d = descriptorOfVector(v);
      const bytes = v.kind === "keyAndNamespace"
        ? fromHex(v.entry.serializedKeyHex as string)
        : v.bytes;
      assertEquals(deserializeValue(d, bytes), expectedValue(d, v.expected), v.file);
      n++;
    }
    assertEquals(n, 188 - 5 - 2 - 1);
  },
);

typeVectorTest("types loader: state content types are refused with a reason", (vectors) => {
  const list = vectors.find((v) => v.type.kind === "listState")!;
  assertThrows(() => descriptorOfManifestType(list.type), Error, "state content");
  assertThrows(() => descriptorOfManifestType({ kind: "generic" }), Error, "no descriptor");
});
