/**
 * Conformance of the leaf descriptors with Flink 1.19's own bytes: every
 * vector of group "java" (BigDecimal, BigInteger, Date, Timestamp, Instant,
 * LocalDate/Time/DateTime, char, short, byte, float, double, boolean,
 * enum) decodes to the manifest's value and re-encodes to the same bytes,
 * except where the manifest documents a second encoding (then the
 * canonical one is asserted, with the reason).
 */

import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { ByteReader, fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { types } from "../../src/types/types.ts";
import { descriptorOfManifestType, expectedValue, typeVectorTest } from "./_vectors.ts";

/**
 * Vectors whose bytes are a second, non-canonical encoding that Java also
 * writes: the canonical bytes we write instead, and why.
 */
const CANONICAL: Readonly<Record<string, [string, string]>> = {
  "java/07-bigdecimal.bin": [
    "0000000300000000",
    'new BigDecimal(new BigInteger("10")) holds a non-constant BigInteger, so Java writes the long form; every BigDecimal whose unscaled value fits a long writes code 3 for 10',
  ],
  "java/17-biginteger.bin": [
    "00000003",
    'new BigInteger("10") is not the BigInteger.TEN constant; BigInteger.valueOf(10) is, and takes code 3',
  ],
  "java/18-biginteger.bin": [
    "00000001",
    "a non-constant zero takes the long form in Java; BigInteger.valueOf(0) takes code 1",
  ],
};

typeVectorTest("java group: every vector decodes to its value and re-encodes", (vectors) => {
  const java = vectors.filter((v) => v.group === "java");
  assertEquals(java.length, 89);
  for (const v of java) {
    const d = descriptorOfManifestType(v.type);
    assertEquals(d.text, v.typeText, v.file);
    const expected = expectedValue(d, v.expected);
    const readsBytes = v.entry.deserializerReadsBytes as number | undefined;
    let value: unknown;
    if (readsBytes !== undefined) {
      // The timestamp null: written as 12 bytes, read as 8 (Flink's quirk, mirrored).
      const r = new ByteReader(v.bytes);
      value = d.deserialize(r);
      assertEquals(r.offset, readsBytes, v.file);
      assertThrows(() => deserializeValue(d, v.bytes), ProtocolError, "Unconsumed bytes");
    } else {
      value = deserializeValue(d, v.bytes);
    }
    assertEquals(value, expected, v.file);
    const again = toHex(serializeValue(d, value));
    const canonical = CANONICAL[v.file];
    if (canonical) {
      assertEquals(again, canonical[0], `${v.file}: ${canonical[1]}`);
      assert(again !== v.entry.hex);
    } else {
      assertEquals(again, v.entry.hex, v.file);
    }
  }
});

typeVectorTest(
  "java group: the written value (not only the decoded one) encodes to the bytes",
  (vectors) => {
    // For vectors without deserializesTo, the manifest's `value` written by
    // our encoder gives the .bin (canonical cases aside).
    for (const v of vectors.filter((x) => x.group === "java" && !x.hasDeserializesTo)) {
      const d = descriptorOfManifestType(v.type);
      const hex = toHex(serializeValue(d, expectedValue(d, v.value)));
      assertEquals(hex, CANONICAL[v.file]?.[0] ?? v.entry.hex, v.file);
    }
  },
);

typeVectorTest(
  "java group: decimal vectors agree with the manifest's unscaled value and scale",
  (vectors) => {
    for (const v of vectors.filter((x) => x.type.kind === "bigDecimal" && x.value !== null)) {
      const hex = v.entry.hex as string;
      // Unscaled value: codes 1..3 or the two's complement bytes the manifest lists.
      const code = parseInt(hex.slice(0, 8), 16);
      const unscaledHex = code >= 4
        ? hex.slice(8, 8 + (code - 4) * 2)
        : ["00", "01", "0a"][code - 1];
      const unscaled = BigInt.asIntN(unscaledHex.length * 4, BigInt("0x" + unscaledHex));
      assertEquals(unscaled, BigInt(v.entry.unscaledValue as string), v.file);
      const scaleBits = parseInt(hex.slice(-8), 16) | 0;
      assertEquals(scaleBits, v.entry.scale, v.file);
    }
  },
);

Deno.test("java leaf types: truncated bytes are a TypeDecodeError or ProtocolError naming the value", () => {
  const cases: [keyof typeof types, string][] = [
    ["decimal", "00000006009600"],
    ["decimal", "000000020000"],
    ["biginteger", "000000"],
    ["biginteger", "0000000c80000000"],
    ["date", "00000000000000"],
    ["timestamp", "0000018e84ee667b075b"],
    ["instant", "0000000066055bc0075bcd"],
    ["localdate", "000007e803"],
    ["localtime", "0c22382f072f"],
    ["localdatetime", "000007e8031c0c0000075bcd"],
  ];
  for (const [name, hex] of cases) {
    const d = types[name] as typeof types.decimal;
    assertThrows(() => deserializeValue(d, fromHex(hex)), ProtocolError, undefined);
  }
});
