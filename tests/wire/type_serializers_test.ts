import {
  deserializeValue,
  isTypeName,
  type JsTypeOf,
  serializerFor,
  serializeValue,
  TYPE_NAMES,
  TYPE_SERIALIZERS,
  type TypeName,
  type TypeSerializer,
} from "../../src/wire/type_serializers.ts";
import { ByteReader, ByteWriter, fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import {
  byteArrayHashCode,
  doubleHashCode,
  floatHashCode,
  longHashCode,
  stringHashCode,
} from "../../src/wire/java_hash_code.ts";
import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";
import { xorshift32 } from "../_prng.ts";

const UNCONSUMED =
  "Unconsumed bytes in the deserialized value. This indicates a mismatch in the value serializers used by the KvState instance and this access.";

// deno-lint-ignore no-explicit-any
type AnySerializer = TypeSerializer<any>;

interface Fixture {
  type: TypeName;
  value: unknown;
  hex: string;
}

// PROTOCOL 8.2 / 8.3 tables and a few more hand-computed encodings.
const FIXTURES: Fixture[] = [
  // StringValue (8.3)
  { type: "string", value: "", hex: "01" },
  { type: "string", value: "a", hex: "0261" },
  { type: "string", value: "hello", hex: "0668656c6c6f" },
  { type: "string", value: "é", hex: "02e901" },
  { type: "string", value: "€", hex: "02ac41" },
  { type: "string", value: "\u{1F600}", hex: "03bdb00380bc03" },
  { type: "string", value: "x".repeat(200), hex: "c901" + "78".repeat(200) },
  { type: "string", value: null, hex: "00" },
  { type: "string", value: "\u007f\u0080\u3fff\u4000\uffff", hex: "067f8001ff7f808001ffff03" },
  { type: "string", value: "\udc00", hex: "0280b803" }, // lone low surrogate
  // Fixed-size types (8.2)
  { type: "int", value: 42, hex: "0000002a" },
  { type: "int", value: -2, hex: "fffffffe" },
  { type: "int", value: -2147483648, hex: "80000000" },
  { type: "long", value: 42n, hex: "000000000000002a" },
  { type: "long", value: -1n, hex: "ffffffffffffffff" },
  { type: "long", value: -9223372036854775808n, hex: "8000000000000000" },
  { type: "short", value: -2, hex: "fffe" },
  { type: "short", value: 32767, hex: "7fff" },
  { type: "byte", value: -1, hex: "ff" },
  { type: "byte", value: 127, hex: "7f" },
  { type: "char", value: "a", hex: "0061" },
  { type: "char", value: "\ud83d", hex: "d83d" },
  { type: "boolean", value: true, hex: "01" },
  { type: "boolean", value: false, hex: "00" },
  { type: "double", value: 1.0, hex: "3ff0000000000000" },
  { type: "double", value: -0, hex: "8000000000000000" },
  { type: "double", value: NaN, hex: "7ff8000000000000" },
  { type: "double", value: -Infinity, hex: "fff0000000000000" },
  { type: "double", value: 0.1, hex: "3fb999999999999a" },
  { type: "float", value: 1.0, hex: "3f800000" },
  { type: "float", value: -0, hex: "80000000" },
  { type: "float", value: NaN, hex: "7fc00000" },
  { type: "float", value: Infinity, hex: "7f800000" },
  { type: "float", value: Math.fround(0.1), hex: "3dcccccd" },
  { type: "bytes", value: new Uint8Array([1, 2, 3]), hex: "00000003010203" },
  { type: "bytes", value: new Uint8Array(0), hex: "00000000" },
];

function ser(type: TypeName): AnySerializer {
  return TYPE_SERIALIZERS[type] as AnySerializer;
}

Deno.test("fixtures: serialize gives the documented bytes, deserialize gives the value back", () => {
  for (const { type, value, hex } of FIXTURES) {
    const s = ser(type);
    assertEquals(toHex(serializeValue(s, value)), hex, `${type} ${String(value)}`);
    assertEquals(deserializeValue(s, fromHex(hex)), value, `${type} ${hex}`);
  }
});

Deno.test("fixtures: every truncation of every encoding is a ProtocolError", () => {
  for (const { type, hex } of FIXTURES) {
    const bytes = fromHex(hex);
    for (let cut = 0; cut < bytes.length; cut++) {
      const e = assertThrows(
        () => deserializeValue(ser(type), bytes.subarray(0, cut)),
        ProtocolError,
      );
      assertEquals(
        e.javaClassName,
        "java.lang.IndexOutOfBoundsException",
        `${type} ${hex} cut at ${cut}: ${e.message}`,
      );
    }
  }
});

Deno.test("fixtures: a trailing byte is the Unconsumed bytes IOException", () => {
  for (const { type, hex } of FIXTURES) {
    const e = assertThrows(
      () => deserializeValue(ser(type), fromHex(hex + "00")),
      ProtocolError,
    );
    assertEquals(e.message, UNCONSUMED);
    assertEquals(e.javaClassName, "java.io.IOException");
  }
});

Deno.test("boolean: any non-zero byte reads true", () => {
  for (let b = 0; b < 256; b++) {
    assertEquals(deserializeValue(TYPE_SERIALIZERS.boolean, new Uint8Array([b])), b !== 0);
  }
});

Deno.test("double/float: non-canonical NaN payloads are written canonically", () => {
  const oddDouble = new Float64Array(new BigUint64Array([0xfff8000000000001n]).buffer)[0];
  assert(Number.isNaN(oddDouble));
  assertEquals(toHex(serializeValue(TYPE_SERIALIZERS.double, oddDouble)), "7ff8000000000000");
  const oddFloat = new Float32Array(new Uint32Array([0xffc00001]).buffer)[0];
  assertEquals(toHex(serializeValue(TYPE_SERIALIZERS.float, oddFloat)), "7fc00000");
  // Reading any NaN pattern gives NaN.
  assert(Number.isNaN(deserializeValue(TYPE_SERIALIZERS.double, fromHex("fff0000000000001"))));
  assert(Number.isNaN(deserializeValue(TYPE_SERIALIZERS.float, fromHex("ff800001"))));
});

Deno.test("float: values are rounded to float32 as a Java (float) cast", () => {
  assertEquals(toHex(serializeValue(TYPE_SERIALIZERS.float, 0.1)), "3dcccccd");
  assertEquals(toHex(serializeValue(TYPE_SERIALIZERS.float, 1e39)), "7f800000");
  assertEquals(deserializeValue(TYPE_SERIALIZERS.float, fromHex("3dcccccd")), Math.fround(0.1));
});

Deno.test("string: every single code unit (exhaustive), varint widths 1/2/3", () => {
  const s = TYPE_SERIALIZERS.string;
  for (let c = 0; c < 0x10000; c++) {
    const str = String.fromCharCode(c);
    const bytes = serializeValue(s, str);
    const width = c < 0x80 ? 1 : c < 0x4000 ? 2 : 3;
    assertEquals(bytes.length, 1 + width, `width of ${c}`);
    assertEquals(bytes[0], 2);
    assertEquals(deserializeValue(s, bytes), str);
  }
});

Deno.test("char: every code unit round-trips (exhaustive)", () => {
  const s = TYPE_SERIALIZERS.char;
  for (let c = 0; c < 0x10000; c++) {
    const ch = String.fromCharCode(c);
    const bytes = serializeValue(s, ch);
    assertEquals((bytes[0] << 8) | bytes[1], c);
    assertEquals(deserializeValue(s, bytes), ch);
    assertEquals(s.hashCode(ch), c);
  }
});

Deno.test("string: length varints at the 1/2/3-byte boundaries", () => {
  const s = TYPE_SERIALIZERS.string;
  const cases: Array<[number, string]> = [
    [126, "7f"],
    [127, "8001"],
    [16382, "ff7f"],
    [16383, "808001"],
  ];
  for (const [n, prefix] of cases) {
    const str = "q".repeat(n);
    const bytes = serializeValue(s, str);
    assertEquals(toHex(bytes.subarray(0, prefix.length / 2)), prefix, `length ${n}`);
    assertEquals(bytes.length, prefix.length / 2 + n);
    assertEquals(deserializeValue(s, bytes), str);
  }
});

Deno.test("string: long strings (chunked decoding) and scratch reuse", () => {
  const s = TYPE_SERIALIZERS.string;
  const next = xorshift32(77);
  const long = Array.from({ length: 60000 }, () => String.fromCharCode(next() % 0x10000)).join("") +
    "é".repeat(10000);
  assertEquals(deserializeValue(s, serializeValue(s, long)), long);
  // A short string decoded after a long one sees none of the old units.
  assertEquals(deserializeValue(s, fromHex("0261")), "a");
  assertEquals(deserializeValue(s, fromHex("01")), "");
});

Deno.test("string: values back to back in one reader, from an offset and a subarray", () => {
  const s = TYPE_SERIALIZERS.string;
  const w = new ByteWriter(4);
  const values = ["hello", null, "", "\u{1F600}x", "\u4000a\u0080"];
  for (const v of values) s.serialize(v, w);
  TYPE_SERIALIZERS.int.serialize(7, w);
  const all = new Uint8Array(3 + w.length);
  all.set(w.toBytes(), 3);
  const r = new ByteReader(all.subarray(3));
  for (const v of values) assertEquals(s.deserialize(r), v);
  assertEquals(TYPE_SERIALIZERS.int.deserialize(r), 7);
  assertEquals(r.remaining, 0);
  const r2 = new ByteReader(all, 3);
  assertEquals(s.deserialize(r2), "hello");
});

Deno.test("string: malformed varints are ProtocolErrors", () => {
  const s = TYPE_SERIALIZERS.string;
  const bad: Array<[string, string]> = [
    ["808080808001", "length varint is longer than 5 bytes"],
    ["ffffffffff01", "length varint is longer than 5 bytes"],
    ["8080808008", "out of range"], // 2^31
    ["ffffffff7f", "out of range"], // 2^35 - 1
    ["0280808001", "code unit varint is longer than 3 bytes"],
    ["02ffffff", "code unit varint is longer than 3 bytes"],
    ["02ffff7f", "exceeds 0xffff"], // 0x1fffff
    ["0280800461", "exceeds 0xffff"], // 0x10000
  ];
  for (const [hex, message] of bad) {
    const e = assertThrows(() => deserializeValue(s, fromHex(hex)), ProtocolError, message);
    assertEquals(e.javaClassName, "java.io.UTFDataFormatException", hex);
  }
});

Deno.test("string: a huge declared length fails as truncation without allocating", () => {
  const s = TYPE_SERIALIZERS.string;
  // n + 1 = 2^31 - 1 with 3 bytes of data.
  const e = assertThrows(() => deserializeValue(s, fromHex("ffffffff07616263")), ProtocolError);
  assertEquals(e.javaClassName, "java.lang.IndexOutOfBoundsException");
  // A truncated multi-byte code unit.
  assertThrows(() => deserializeValue(s, fromHex("0380")), ProtocolError);
  assertThrows(() => deserializeValue(s, fromHex("03e9")), ProtocolError);
});

Deno.test("string: non-minimal varints are accepted, as Java's reader accepts them", () => {
  const s = TYPE_SERIALIZERS.string;
  assertEquals(deserializeValue(s, fromHex("8100")), ""); // length 1 in two bytes
  assertEquals(deserializeValue(s, fromHex("02e100")), "a"); // 0x61 in two bytes
  assertEquals(deserializeValue(s, fromHex("02808000")), "\u0000"); // 0 in three bytes
  assertEquals(deserializeValue(s, fromHex("8080808000")), null); // 0 in five bytes
});

Deno.test("bytes: negative length and over-long length", () => {
  const b = TYPE_SERIALIZERS.bytes;
  const neg = assertThrows(() => deserializeValue(b, fromHex("ffffffff")), ProtocolError, "-1");
  assertEquals(neg.javaClassName, "java.lang.NegativeArraySizeException");
  assertThrows(() => deserializeValue(b, fromHex("80000000")), ProtocolError, "Negative");
  const long = assertThrows(() => deserializeValue(b, fromHex("7fffffff00")), ProtocolError);
  assertEquals(long.javaClassName, "java.lang.IndexOutOfBoundsException");
});

Deno.test("bytes: the result is a copy, not a view of the input", () => {
  const input = fromHex("00000002abcd");
  const out = deserializeValue(TYPE_SERIALIZERS.bytes, input);
  input[4] = 0;
  assertEquals(out, new Uint8Array([0xab, 0xcd]));
  assertEquals(out.byteOffset, 0);
  assertEquals(out.buffer.byteLength, 2);
});

Deno.test("write validation: wrong JS types and out-of-range values are TypeErrors", () => {
  const bad: Array<[TypeName, unknown, string]> = [
    ["int", 1.5, "Java int"],
    ["int", "1", "Java int"],
    ["int", 2147483648, "-2147483648..2147483647"],
    ["int", -2147483649, "Java int"],
    ["int", NaN, "Java int"],
    ["int", Infinity, "Java int"],
    ["int", 1n, "1n"],
    ["int", null, "null"],
    ["long", 1, "use BigInt(x)"],
    ["long", 2n ** 63n, "Java long"],
    ["long", -(2n ** 63n) - 1n, "Java long"],
    ["long", "1", "Java long"],
    ["short", 32768, "Java short"],
    ["short", -32769, "Java short"],
    ["short", 0.5, "Java short"],
    ["byte", 128, "Java byte"],
    ["byte", -129, "Java byte"],
    ["byte", 255, "Java byte"],
    ["char", "", "one UTF-16 code unit"],
    ["char", "ab", "one UTF-16 code unit"],
    ["char", "\u{1F600}", "one UTF-16 code unit"],
    ["char", 97, "Java char"],
    ["boolean", 1, "Java boolean"],
    ["boolean", "true", "Java boolean"],
    ["string", 5, "Java string"],
    ["string", undefined, "undefined"],
    ["string", new Uint8Array(1), "Uint8Array"],
    ["double", "1", "Java double"],
    ["double", 1n, "Java double"],
    ["float", 1n, "Java float"],
    ["bytes", [1, 2], "Java bytes"],
    ["bytes", null, "Java bytes"],
    ["bytes", new Uint16Array(2), "Uint8Array"],
  ];
  for (const [type, value, message] of bad) {
    assertThrows(() => serializeValue(ser(type), value), TypeError, message);
    assertThrows(() => ser(type).hashCode(value), TypeError);
  }
  assertThrows(() => TYPE_SERIALIZERS.string.hashCode(null), TypeError, "null string");
});

Deno.test("hashCode: each serializer gives its type's Java hashCode()", () => {
  assertEquals(TYPE_SERIALIZERS.string.hashCode("hello"), 99162322);
  assertEquals(TYPE_SERIALIZERS.int.hashCode(-7), -7);
  assertEquals(TYPE_SERIALIZERS.long.hashCode(4294967296n), 1);
  assertEquals(TYPE_SERIALIZERS.double.hashCode(-0), -2147483648);
  assertEquals(TYPE_SERIALIZERS.float.hashCode(1), 1065353216);
  assertEquals(TYPE_SERIALIZERS.boolean.hashCode(true), 1231);
  assertEquals(TYPE_SERIALIZERS.short.hashCode(-32768), -32768);
  assertEquals(TYPE_SERIALIZERS.byte.hashCode(-128), -128);
  assertEquals(TYPE_SERIALIZERS.char.hashCode("a"), 97);
  assertEquals(TYPE_SERIALIZERS.bytes.hashCode(new Uint8Array([1, 2])), 994);
});

Deno.test("registry: names, serializerFor, isTypeName", () => {
  assertEquals([...TYPE_NAMES].sort(), [
    "boolean",
    "byte",
    "bytes",
    "char",
    "double",
    "float",
    "int",
    "long",
    "short",
    "string",
  ]);
  for (const name of TYPE_NAMES) {
    assert(isTypeName(name));
    assertEquals(serializerFor(name).name, name);
    assert(serializerFor(name) === TYPE_SERIALIZERS[name]);
    assert(Object.isFrozen(TYPE_SERIALIZERS[name]));
  }
  assert(Object.isFrozen(TYPE_SERIALIZERS));
  for (const bad of ["Integer", "String", "toString", "__proto__", "constructor", "", "LONG"]) {
    assert(!isTypeName(bad), bad);
    assertThrows(() => serializerFor(bad as TypeName), TypeError, JSON.stringify(bad));
  }
  const e = assertThrows(() => serializerFor("Integer" as TypeName), TypeError);
  assert(e.message.includes("string, int, long"), e.message);
  assert(!isTypeName(1) && !isTypeName(null));
  // Type-level mapping: compile-time checks.
  const l: JsTypeOf<"long"> = 1n;
  const s: JsTypeOf<"string"> = null;
  const b: JsTypeOf<"bytes"> = new Uint8Array(0);
  const c: TypeSerializer<bigint> = serializerFor("long");
  assertEquals([l, s, b.length, c.name], [1n, null, 0, "long"]);
});

// ---------------------------------------------------------------------------
// Property-style round trips

/** An independent StringValue encoder (number arrays), to check ours against. */
function refStringValue(s: string): number[] {
  const out: number[] = [];
  const varint = (v: number) => {
    do {
      const low = v % 128;
      v = Math.floor(v / 128);
      out.push(v > 0 ? low + 128 : low);
    } while (v > 0);
  };
  varint(s.length + 1);
  for (let i = 0; i < s.length; i++) varint(s.charCodeAt(i));
  return out;
}

function randomString(next: () => number, maxLen: number): string {
  const len = next() % (maxLen + 1);
  const units = new Array<number>(len);
  for (let i = 0; i < len; i++) {
    switch (next() % 5) {
      case 0:
        units[i] = next() % 0x80;
        break;
      case 1:
        units[i] = 0x80 + (next() % (0x4000 - 0x80));
        break;
      case 2:
        units[i] = 0xd800 + (next() % 0x800); // surrogates, often lone
        break;
      default:
        units[i] = next() % 0x10000;
    }
  }
  return String.fromCharCode(...units);
}

Deno.test("property: strings with random code units (lone surrogates included)", () => {
  const s = TYPE_SERIALIZERS.string;
  const next = xorshift32(0xc0ffee);
  for (let n = 0; n < 3000; n++) {
    const str = randomString(next, n % 100 === 0 ? 3000 : 60);
    const bytes = serializeValue(s, str);
    assertEquals(Array.from(bytes), refStringValue(str));
    assertEquals(deserializeValue(s, bytes), str);
    assertEquals(s.hashCode(str), stringHashCode(str));
  }
});

function randomInt64(next: () => number): bigint {
  return BigInt.asIntN(64, (BigInt(next()) << 32n) | BigInt(next()));
}

Deno.test("property: ints, longs, shorts, bytes, booleans", () => {
  const next = xorshift32(42);
  const ints = [0, -1, 1, -2147483648, 2147483647];
  const longs = [0n, -1n, 1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n];
  for (let i = 0; i < 5000; i++) {
    ints.push(next() | 0);
    longs.push(randomInt64(next));
  }
  for (const v of ints) {
    const bytes = serializeValue(TYPE_SERIALIZERS.int, v);
    assertEquals(new DataView(bytes.buffer, bytes.byteOffset).getInt32(0), v);
    assertEquals(deserializeValue(TYPE_SERIALIZERS.int, bytes), v);
  }
  for (const v of longs) {
    const bytes = serializeValue(TYPE_SERIALIZERS.long, v);
    assertEquals(bytes.length, 8);
    assertEquals(deserializeValue(TYPE_SERIALIZERS.long, bytes), v);
    assertEquals(TYPE_SERIALIZERS.long.hashCode(v), longHashCode(v));
  }
  for (let v = -32768; v <= 32767; v++) {
    assertEquals(
      deserializeValue(TYPE_SERIALIZERS.short, serializeValue(TYPE_SERIALIZERS.short, v)),
      v,
    );
  }
  for (let v = -128; v <= 127; v++) {
    const bytes = serializeValue(TYPE_SERIALIZERS.byte, v);
    assertEquals(bytes[0], v & 0xff);
    assertEquals(deserializeValue(TYPE_SERIALIZERS.byte, bytes), v);
  }
  for (const v of [true, false]) {
    assertEquals(
      deserializeValue(TYPE_SERIALIZERS.boolean, serializeValue(TYPE_SERIALIZERS.boolean, v)),
      v,
    );
  }
});

Deno.test("property: doubles and floats incl. NaN, -0.0, ±Infinity", () => {
  const next = xorshift32(2024);
  const doubles = [
    NaN,
    -0,
    0,
    Infinity,
    -Infinity,
    Number.MIN_VALUE,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
  ];
  const floats = [NaN, -0, 0, Infinity, -Infinity, 1.401298464324817e-45, 3.4028234663852886e38];
  for (let i = 0; i < 5000; i++) {
    doubles.push(new Float64Array(new BigInt64Array([randomInt64(next)]).buffer)[0]);
    floats.push(new Float32Array(new Uint32Array([next()]).buffer)[0]);
  }
  for (const v of doubles) {
    const bytes = serializeValue(TYPE_SERIALIZERS.double, v);
    const back = deserializeValue(TYPE_SERIALIZERS.double, bytes);
    assert(Object.is(back, v), `double ${v}`);
    if (Number.isNaN(v)) assertEquals(toHex(bytes), "7ff8000000000000");
    assertEquals(TYPE_SERIALIZERS.double.hashCode(v), doubleHashCode(v));
  }
  for (const v of floats) {
    const bytes = serializeValue(TYPE_SERIALIZERS.float, v);
    const back = deserializeValue(TYPE_SERIALIZERS.float, bytes);
    assert(Object.is(back, v), `float ${v}`);
    if (Number.isNaN(v)) assertEquals(toHex(bytes), "7fc00000");
    assertEquals(TYPE_SERIALIZERS.float.hashCode(v), floatHashCode(v));
  }
});

Deno.test("property: byte arrays", () => {
  const next = xorshift32(9);
  for (let i = 0; i < 500; i++) {
    const v = Uint8Array.from({ length: next() % 300 }, () => next() & 0xff);
    const bytes = serializeValue(TYPE_SERIALIZERS.bytes, v);
    assertEquals(new DataView(bytes.buffer, bytes.byteOffset).getInt32(0), v.length);
    const back = deserializeValue(TYPE_SERIALIZERS.bytes, bytes);
    assertInstanceOf(back, Uint8Array);
    assertEquals(back, v);
    assertEquals(TYPE_SERIALIZERS.bytes.hashCode(v), byteArrayHashCode(v));
  }
});

// ---------------------------------------------------------------------------
// Conformance with Flink's KvStateSerializer.serializeValue

function manifestValue(type: string, raw: string): unknown {
  if (type === "long") return BigInt(raw);
  if (type === "int") return Number(raw);
  if (type === "string") return raw;
  throw new Error(`Unexpected value type in the manifest: ${type}`);
}

vectorTest("values/*.bin: every value vector, both directions", () => {
  const list = entries("value");
  assert(list.length > 0);
  for (const e of list) {
    const bytes = readVector(e.file);
    assertEquals(bytes.length, e.length, e.file);
    if (e.hex !== undefined) assertEquals(toHex(bytes), e.hex, e.file);
    const s = serializerFor(e.fields.valueType as TypeName) as AnySerializer;
    const value = manifestValue(e.fields.valueType, e.fields.value);
    assertEquals(deserializeValue(s, bytes), value, e.file);
    assertEquals(serializeValue(s, value), bytes, e.file);
    for (let cut = 0; cut < bytes.length; cut++) {
      assertThrows(() => deserializeValue(s, bytes.subarray(0, cut)), ProtocolError);
    }
  }
});

vectorTest("keyns/*.bin: the key part is the key serializer's bytes", () => {
  const list = entries("keyAndNamespace");
  assert(list.length > 0);
  for (const e of list) {
    const f = e.fields;
    const s = serializerFor(f.keyType as TypeName) as AnySerializer;
    const key = f.keyType === "string"
      ? f.key ?? f.keyRepeatChar.repeat(f.keyRepeatCount)
      : manifestValue(f.keyType, f.key);
    const keyBytes = readVector(e.file).subarray(0, f.serializedKeyLength);
    assertEquals(serializeValue(s, key), keyBytes, e.file);
    if (f.serializedKeyHex) assertEquals(toHex(keyBytes), f.serializedKeyHex, e.file);
    assertEquals(deserializeValue(s, keyBytes), key, e.file);
  }
});
