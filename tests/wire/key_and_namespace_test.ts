import {
  deserializeKeyAndNamespace,
  KEY_AND_NAMESPACE_MISMATCH_MESSAGE,
  KEY_NAMESPACE_MAGIC,
  serializeKeyAndNamespace,
  VOID_NAMESPACE_BYTES,
} from "../../src/wire/key_and_namespace.ts";
import {
  serializerFor,
  serializeValue,
  TYPE_SERIALIZERS,
  type TypeName,
  type TypeSerializer,
} from "../../src/wire/type_serializers.ts";
import { keyGroupForKeyHash } from "../../src/wire/key_group.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";
import { xorshift32 } from "../_prng.ts";

// deno-lint-ignore no-explicit-any
type AnySerializer = TypeSerializer<any>;

const MISMATCH =
  "Unable to deserialize key and namespace. This indicates a mismatch in the key/namespace serializers used by the KvState instance and this access.";

function assertMismatch(fn: () => unknown, causeMessage?: string): ProtocolError {
  const e = assertThrows(fn, ProtocolError);
  assertEquals(e.message, MISMATCH);
  assertEquals(e.javaClassName, "java.io.IOException");
  assertInstanceOf(e.cause, ProtocolError);
  if (causeMessage !== undefined) assertEquals(e.cause.message, causeMessage);
  return e;
}

Deno.test("constants", () => {
  assertEquals(KEY_NAMESPACE_MAGIC, 42);
  assertEquals(VOID_NAMESPACE_BYTES, new Uint8Array([0]));
  assertEquals(KEY_AND_NAMESPACE_MISMATCH_MESSAGE, MISMATCH);
});

Deno.test('PROTOCOL 2.7: String key "hello" with VoidNamespace', () => {
  const bytes = serializeKeyAndNamespace("hello", TYPE_SERIALIZERS.string);
  assertEquals(toHex(bytes), "0668656c6c6f2a00");
  assertEquals(deserializeKeyAndNamespace(bytes, TYPE_SERIALIZERS.string), "hello");
});

Deno.test("key bytes || 2a 00 for every type", () => {
  const cases: Array<[TypeName, unknown, string]> = [
    ["string", "", "01"],
    ["string", null, "00"],
    ["int", 42, "0000002a"],
    ["long", -1n, "ffffffffffffffff"],
    ["short", 1, "0001"],
    ["byte", -1, "ff"],
    ["char", "a", "0061"],
    ["boolean", true, "01"],
    ["double", 1.0, "3ff0000000000000"],
    ["float", 1.0, "3f800000"],
    ["bytes", new Uint8Array([0x2a]), "000000012a"],
  ];
  for (const [type, key, keyHex] of cases) {
    const s = serializerFor(type) as AnySerializer;
    const bytes = serializeKeyAndNamespace(key, s);
    assertEquals(toHex(bytes), keyHex + "2a00", type);
    assertEquals(deserializeKeyAndNamespace(bytes, s), key, type);
  }
});

Deno.test("the namespace byte is skipped whatever its value (as VoidNamespaceSerializer)", () => {
  assertEquals(deserializeKeyAndNamespace(fromHex("02612a07"), TYPE_SERIALIZERS.string), "a");
  assertEquals(deserializeKeyAndNamespace(fromHex("02612aff"), TYPE_SERIALIZERS.string), "a");
});

Deno.test("a wrong magic byte: cause names the signed byte", () => {
  assertMismatch(
    () => deserializeKeyAndNamespace(fromHex("02612b00"), TYPE_SERIALIZERS.string),
    "Unexpected magic number 43.",
  );
  assertMismatch(
    () => deserializeKeyAndNamespace(fromHex("0261ff00"), TYPE_SERIALIZERS.string),
    "Unexpected magic number -1.",
  );
  assertMismatch(
    () => deserializeKeyAndNamespace(fromHex("000000010000"), TYPE_SERIALIZERS.int),
    "Unexpected magic number 0.",
  );
});

Deno.test("leftover bytes after the namespace", () => {
  for (const tail of ["00", "2a00", "ffffffff"]) {
    assertMismatch(
      () => deserializeKeyAndNamespace(fromHex("02612a00" + tail), TYPE_SERIALIZERS.string),
      "Unconsumed bytes in the serialized key and namespace.",
    );
  }
});

Deno.test("a mismatched key serializer", () => {
  // String bytes read as an int: 0x0668656c, then magic 0x6c = 108.
  assertMismatch(
    () => deserializeKeyAndNamespace(fromHex("0668656c6c6f2a00"), TYPE_SERIALIZERS.int),
    "Unexpected magic number 108.",
  );
  // Int bytes read as a long: truncated.
  assertMismatch(() => deserializeKeyAndNamespace(fromHex("0000002a2a00"), TYPE_SERIALIZERS.long));
  // Long bytes read as an int: the magic is the long's fifth byte.
  assertMismatch(
    () => deserializeKeyAndNamespace(fromHex("000000000000002a2a00"), TYPE_SERIALIZERS.int),
    "Unexpected magic number 0.",
  );
  // A malformed StringValue key.
  const e = assertMismatch(() =>
    deserializeKeyAndNamespace(fromHex("02ffff7f2a00"), TYPE_SERIALIZERS.string)
  );
  assertEquals((e.cause as ProtocolError).javaClassName, "java.io.UTFDataFormatException");
  // A negative byte-array length.
  assertMismatch(() => deserializeKeyAndNamespace(fromHex("ffffffff2a00"), TYPE_SERIALIZERS.bytes));
});

Deno.test("every truncation is the mismatch IOException", () => {
  const samples: Array<[TypeName, unknown]> = [
    ["string", "hello"],
    ["string", "\u{1F600}é"],
    ["string", ""],
    ["int", -5],
    ["long", 72623859790382856n],
    ["char", "z"],
    ["bytes", new Uint8Array([1, 2, 3])],
  ];
  for (const [type, key] of samples) {
    const s = serializerFor(type) as AnySerializer;
    const bytes = serializeKeyAndNamespace(key, s);
    for (let cut = 0; cut < bytes.length; cut++) {
      assertMismatch(() => deserializeKeyAndNamespace(bytes.subarray(0, cut), s));
    }
  }
});

Deno.test("serialize: wrong key types are TypeErrors", () => {
  assertThrows(
    () => serializeKeyAndNamespace(1 as unknown as bigint, TYPE_SERIALIZERS.long),
    TypeError,
  );
  assertThrows(() => serializeKeyAndNamespace(2 ** 31, TYPE_SERIALIZERS.int), TypeError);
  assertThrows(
    () => serializeKeyAndNamespace(42 as unknown as string, TYPE_SERIALIZERS.string),
    TypeError,
  );
});

Deno.test("property: random keys round-trip and end in 2a 00", () => {
  const next = xorshift32(0xbeef);
  for (let i = 0; i < 2000; i++) {
    const units = Array.from({ length: next() % 20 }, () => next() % 0x10000);
    const str = String.fromCharCode(...units);
    const long = BigInt.asIntN(64, (BigInt(next()) << 32n) | BigInt(next()));
    const int = next() | 0;
    const cases: Array<[AnySerializer, unknown]> = [
      [TYPE_SERIALIZERS.string, str],
      [TYPE_SERIALIZERS.long, long],
      [TYPE_SERIALIZERS.int, int],
    ];
    for (const [s, key] of cases) {
      const bytes = serializeKeyAndNamespace(key, s);
      assertEquals(bytes.subarray(0, bytes.length - 2), serializeValue(s, key));
      assertEquals(bytes[bytes.length - 2], 0x2a);
      assertEquals(bytes[bytes.length - 1], 0x00);
      assertEquals(deserializeKeyAndNamespace(bytes, s), key);
    }
  }
});

// ---------------------------------------------------------------------------
// Conformance with Flink's KvStateSerializer.serializeKeyAndNamespace

interface ManifestKeyFields {
  keyType: string;
  key?: string;
  keyRepeatChar?: string;
  keyRepeatCount?: number;
}

function manifestKey(f: ManifestKeyFields): unknown {
  switch (f.keyType) {
    case "string":
      return f.key ?? f.keyRepeatChar!.repeat(f.keyRepeatCount!);
    case "int":
      return Number(f.key);
    case "long":
      return BigInt(f.key!);
    default:
      throw new Error(`Unexpected key type in the manifest: ${f.keyType}`);
  }
}

vectorTest("keyns/*.bin: bytes, manifest fields, round trip and key groups", () => {
  const list = entries("keyAndNamespace");
  assert(list.length > 0);
  for (const e of list) {
    const f = e.fields;
    const bytes = readVector(e.file);
    assertEquals(bytes.length, e.length, e.file);
    if (e.hex !== undefined) assertEquals(toHex(bytes), e.hex, e.file);
    assertEquals(f.namespace, "VoidNamespace");
    assertEquals(f.serializedKeyLength + 2, bytes.length, e.file);
    if (f.serializedKeyHex !== null) {
      assertEquals(toHex(bytes.subarray(0, f.serializedKeyLength)), f.serializedKeyHex, e.file);
    }
    const s = serializerFor(f.keyType as TypeName) as AnySerializer;
    const key = manifestKey(f);
    assertEquals(serializeKeyAndNamespace(key, s), bytes, e.file);
    assertEquals(deserializeKeyAndNamespace(bytes, s), key, e.file);
    const hash = s.hashCode(key);
    assertEquals(hash, f.keyHashCode, e.file);
    assertEquals(keyGroupForKeyHash(hash, 128), f.keyGroup128, e.file);
    assertEquals(keyGroupForKeyHash(hash, 32768), f.keyGroup32768, e.file);
    // Every truncation and one trailing byte are rejected.
    for (const cut of [0, 1, bytes.length - 2, bytes.length - 1]) {
      if (cut >= 0 && cut < bytes.length) {
        assertMismatch(() => deserializeKeyAndNamespace(bytes.subarray(0, cut), s));
      }
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assertMismatch(
      () => deserializeKeyAndNamespace(longer, s),
      "Unconsumed bytes in the serialized key and namespace.",
    );
  }
});

vectorTest("keyns/*.bin: every truncation of the small vectors", () => {
  for (const e of entries("keyAndNamespace")) {
    const bytes = readVector(e.file);
    if (bytes.length > 600) continue; // the 16 KiB key: covered at the edges above
    const s = serializerFor(e.fields.keyType as TypeName) as AnySerializer;
    for (let cut = 0; cut < bytes.length; cut++) {
      assertMismatch(() => deserializeKeyAndNamespace(bytes.subarray(0, cut), s));
    }
  }
});
