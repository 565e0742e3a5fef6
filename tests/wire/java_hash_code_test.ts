import {
  booleanHashCode,
  byteArrayHashCode,
  byteHashCode,
  charHashCode,
  doubleHashCode,
  floatHashCode,
  intHashCode,
  longHashCode,
  shortHashCode,
  stringHashCode,
  tupleHashCode,
} from "../../src/wire/java_hash_code.ts";
import { fromHex } from "../../src/wire/bytes.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { entries, readVectorJson, vectorTest } from "../_vectors.ts";
import { xorshift32 } from "../_prng.ts";

// Reference implementations in BigInt arithmetic: independent of Math.imul and DataView.
function refStringHash(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = BigInt.asIntN(32, 31n * h + BigInt(s.charCodeAt(i)));
  return Number(h);
}
function refLongHash(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  return Number(BigInt.asIntN(32, u ^ (u >> 32n)));
}
function refBytesHash(b: Uint8Array): number {
  let h = 1n;
  for (const x of b) h = BigInt.asIntN(32, 31n * h + BigInt(x > 127 ? x - 256 : x));
  return Number(h);
}
function doubleBits(v: number): bigint {
  const a = new Float64Array([v]);
  return new BigUint64Array(a.buffer)[0];
}

Deno.test("stringHashCode: PROTOCOL 2.7, 4.4 and Java values", () => {
  assertEquals(stringHashCode("hello"), 99162322);
  assertEquals(stringHashCode("hello"), 0x05e918d2);
  assertEquals(stringHashCode("key-1"), 101943363);
  assertEquals(stringHashCode(""), 0);
  assertEquals(stringHashCode("Hello, World!"), 1498789909);
  assertEquals(stringHashCode("\u{1F600}"), 1772899); // surrogate pair, unit by unit
  assertEquals(stringHashCode("\ud800"), 55296); // lone surrogate
  assertEquals(stringHashCode("\uffff\uffff\uffff"), 65076255);
  assertEquals(stringHashCode("word-counts"), -1202629273); // wraps negative
});

Deno.test("intHashCode, shortHashCode, byteHashCode: the value, range-checked", () => {
  for (const v of [0, 1, -1, 42, -2147483648, 2147483647]) assertEquals(intHashCode(v), v);
  assertEquals(Object.is(intHashCode(-0), 0), true);
  for (const v of [0, -32768, 32767, -1]) assertEquals(shortHashCode(v), v);
  for (const v of [0, -128, 127, -1]) assertEquals(byteHashCode(v), v);
  for (const bad of [2147483648, -2147483649, 1.5, NaN, Infinity]) {
    assertThrows(() => intHashCode(bad), TypeError, "Java int");
  }
  for (const bad of [32768, -32769, 0.5]) {
    assertThrows(() => shortHashCode(bad), TypeError, "short");
  }
  for (const bad of [128, -129, 255]) assertThrows(() => byteHashCode(bad), TypeError, "byte");
  assertThrows(() => intHashCode("1" as unknown as number), TypeError, '"1"');
  assertThrows(() => intHashCode(1n as unknown as number), TypeError, "1n");
});

Deno.test("longHashCode: (int)(v ^ (v >>> 32))", () => {
  assertEquals(longHashCode(0n), 0);
  assertEquals(longHashCode(1n), 1);
  assertEquals(longHashCode(-1n), 0);
  assertEquals(longHashCode(42n), 42);
  assertEquals(longHashCode(4294967296n), 1);
  assertEquals(longHashCode(72623859790382856n), 67372044); // 0x0102030405060708
  assertEquals(longHashCode(-9223372036854775808n), -2147483648);
  assertEquals(longHashCode(9223372036854775807n), -2147483648);
  assertThrows(() => longHashCode(2n ** 63n), TypeError, "Java long");
  assertThrows(() => longHashCode(-(2n ** 63n) - 1n), TypeError, "Java long");
  assertThrows(() => longHashCode(1 as unknown as bigint), TypeError, "Java long");
});

Deno.test("booleanHashCode: 1231 / 1237", () => {
  assertEquals(booleanHashCode(true), 1231);
  assertEquals(booleanHashCode(false), 1237);
  assertThrows(() => booleanHashCode(1 as unknown as boolean), TypeError, "boolean");
});

Deno.test("charHashCode: the UTF-16 code unit", () => {
  assertEquals(charHashCode("a"), 97);
  assertEquals(charHashCode("\u0000"), 0);
  assertEquals(charHashCode("\uffff"), 65535);
  assertEquals(charHashCode("\udc00"), 0xdc00);
  for (const bad of ["", "ab", "\u{1F600}"]) {
    assertThrows(() => charHashCode(bad), TypeError, "char");
  }
  assertThrows(() => charHashCode(97 as unknown as string), TypeError, "char");
});

Deno.test("doubleHashCode: doubleToLongBits, canonical NaN, 0.0 vs -0.0", () => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [-0, -2147483648],
    [1.0, 1072693248],
    [0.1, -1507852285],
    [-1.5, -1074266112],
    [Math.PI, 340593891],
    [1e300, -164130400],
    [Number.MIN_VALUE, 1],
    [Number.MAX_VALUE, -2146435072],
    [Infinity, 2146435072],
    [-Infinity, -1048576],
    [NaN, 2146959360],
  ];
  for (const [v, h] of cases) assertEquals(doubleHashCode(v), h, `doubleHashCode(${v})`);
  // A NaN with another payload still hashes as the canonical NaN.
  const odd = new Float64Array(new BigUint64Array([0xfff8000000000001n]).buffer)[0];
  assert(Number.isNaN(odd));
  assertEquals(doubleHashCode(odd), 2146959360);
  assertThrows(() => doubleHashCode("1" as unknown as number), TypeError, "double");
});

Deno.test("floatHashCode: floatToIntBits, canonical NaN, rounding to float32", () => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [-0, -2147483648],
    [1.0, 1065353216],
    [0.1, 1036831949], // (float) 0.1
    [-1.5, -1077936128],
    [Math.PI, 1078530011],
    [3.4028234663852886e38, 2139095039],
    [1.401298464324817e-45, 1],
    [Infinity, 2139095040],
    [-Infinity, -8388608],
    [1e39, 2139095040], // beyond float range: +Infinity, as a Java (float) cast
    [NaN, 2143289344],
  ];
  for (const [v, h] of cases) assertEquals(floatHashCode(v), h, `floatHashCode(${v})`);
  assertThrows(() => floatHashCode(1n as unknown as number), TypeError, "float");
});

Deno.test("byteArrayHashCode: Arrays.hashCode(byte[]) over signed bytes", () => {
  assertEquals(byteArrayHashCode(null), 0);
  assertEquals(byteArrayHashCode(new Uint8Array(0)), 1);
  assertEquals(byteArrayHashCode(new Uint8Array([1, 2])), 994);
  assertEquals(byteArrayHashCode(new Uint8Array([1, 2, 3])), 30817);
  assertEquals(byteArrayHashCode(new Uint8Array([0xff])), 30);
  assertEquals(byteArrayHashCode(new Uint8Array([0x80, 0x7f, 0xff, 0])), -2767711);
  assertEquals(byteArrayHashCode(Uint8Array.from({ length: 256 }, (_, i) => i)), -764092287);
  assertEquals(byteArrayHashCode(fromHex("000102").subarray(1)), 31 * 32 + 2);
  assertThrows(() => byteArrayHashCode([1, 2] as unknown as Uint8Array), TypeError, "Uint8Array");
});

Deno.test("tupleHashCode: 31 * h + hash(field) from the first field", () => {
  assertEquals(tupleHashCode([]), 0);
  assertEquals(tupleHashCode([7]), 7);
  assertEquals(tupleHashCode([null]), 0);
  assertEquals(tupleHashCode([stringHashCode("a"), 1]), 3008);
  assertEquals(tupleHashCode([null, 7]), 7);
  assertEquals(tupleHashCode([1, 2, 3]), (1 * 31 + 2) * 31 + 3);
  assertEquals(
    tupleHashCode([2147483647, 2147483647]),
    (Math.imul(2147483647, 31) + 2147483647) | 0,
  );
  assertThrows(() => tupleHashCode([1.5]), TypeError, "field 0");
  assertThrows(() => tupleHashCode([1, 2 ** 31]), TypeError, "field 1");
});

Deno.test("property: hash codes agree with BigInt reference implementations", () => {
  const next = xorshift32(0x5eed1);
  for (let n = 0; n < 2000; n++) {
    // Strings of random code units, lone surrogates included.
    const len = next() % 40;
    const units: number[] = [];
    for (let i = 0; i < len; i++) {
      const pick = next() % 4;
      units.push(
        pick === 0 ? next() % 0x80 : pick === 1 ? 0xd800 + (next() % 0x800) : next() % 0x10000,
      );
    }
    const s = String.fromCharCode(...units);
    assertEquals(stringHashCode(s), refStringHash(s));

    const long = BigInt.asIntN(64, (BigInt(next()) << 32n) | BigInt(next()));
    assertEquals(longHashCode(long), refLongHash(long));

    // Random double bit patterns (NaNs included).
    const d = new Float64Array(new BigUint64Array([BigInt.asUintN(64, long)]).buffer)[0];
    const bits = Number.isNaN(d) ? 0x7ff8000000000000n : doubleBits(d);
    assertEquals(doubleHashCode(d), Number(BigInt.asIntN(32, bits ^ (bits >> 32n))));

    const f = new Float32Array(new Uint32Array([next()]).buffer)[0];
    const fbits = Number.isNaN(f) ? 0x7fc00000 : new Int32Array(new Float32Array([f]).buffer)[0];
    assertEquals(floatHashCode(f), fbits);

    const bytes = Uint8Array.from({ length: next() % 50 }, () => next() & 0xff);
    assertEquals(byteArrayHashCode(bytes), refBytesHash(bytes));
  }
});

// ---------------------------------------------------------------------------
// Conformance with Java's hashCode() as the QueryableStateClient computes it

interface HashCodesJson {
  vectors: Array<{
    keyType: "string" | "int" | "long";
    key?: string;
    keyUtf16Hex?: string;
    keyLengthUtf16?: number;
    keyRepeatChar?: string;
    keyRepeatCount?: number;
    keyHashCode: number;
  }>;
}

function utf16FromHex(hex: string): string {
  const b = fromHex(hex);
  let s = "";
  for (let i = 0; i < b.length; i += 2) s += String.fromCharCode((b[i] << 8) | b[i + 1]);
  return s;
}

vectorTest("hashcodes.json: Java hashCode() of every key", () => {
  const json = readVectorJson<HashCodesJson>("hashcodes.json");
  assert(json.vectors.length > 0);
  for (const v of json.vectors) {
    let actual: number;
    if (v.keyType === "string") {
      const key = v.key ?? v.keyRepeatChar!.repeat(v.keyRepeatCount!);
      if (v.keyUtf16Hex !== undefined) assertEquals(utf16FromHex(v.keyUtf16Hex), key);
      assertEquals(key.length, v.keyLengthUtf16);
      actual = stringHashCode(key);
    } else if (v.keyType === "int") {
      actual = intHashCode(Number(v.key));
    } else {
      actual = longHashCode(BigInt(v.key!));
    }
    assertEquals(actual, v.keyHashCode, `${v.keyType} ${JSON.stringify(v.key)}`);
  }
});

vectorTest("manifest keyAndNamespace entries: keyHashCode field", () => {
  const list = entries("keyAndNamespace");
  assert(list.length > 0);
  for (const e of list) {
    const f = e.fields;
    const actual = f.keyType === "string"
      ? stringHashCode(f.key ?? f.keyRepeatChar.repeat(f.keyRepeatCount))
      : f.keyType === "int"
      ? intHashCode(Number(f.key))
      : longHashCode(BigInt(f.key));
    assertEquals(actual, f.keyHashCode, e.file);
  }
});
