/**
 * The bound on the bytes of a `biginteger` (and of a `decimal`'s unscaled
 * value): bytes claiming more fail with a `TypeDecodeError` naming the
 * bound and the length claimed, before anything is read; values and texts
 * with more fail with a `TypeValueError`, texts before `BigInt()`. The
 * failures are asserted by their type and words, never by their timing.
 */
import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { ByteReader, ByteWriter, fromHex, toHex } from "../../src/wire/bytes.ts";
import {
  deserializeValue,
  serializeValue,
  type TypeSerializer,
} from "../../src/wire/type_serializers.ts";
import {
  BIG_INTEGER_TYPE,
  bigIntegerOf,
  DEFAULT_BIG_NUMBER_MAX_BYTES,
  maxDigitsOf,
  readBigInteger,
  writeBigInteger,
} from "../../src/types/big_integer_type.ts";
import { DECIMAL_TYPE, decimalOf, parseDecimal } from "../../src/types/decimal_type.ts";
import { fromJsonValue, toJsonValue } from "../../src/types/json_form.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import { formatType, parseType } from "../../src/types/type_text.ts";
import { parseKeyParam } from "../../src/http/json_values.ts";
import { BadParameterError } from "../../src/http/gateway_errors.ts";
import { typedValue } from "../../src/cli/typed_values.ts";

const MIB = 1024 * 1024;
/** The largest magnitude of 4096 bytes, two's complement: 2^32767 (only negative). */
const EDGE = 1n << 32767n;

/** A BigInteger's long form: code `4 + n`, then `n` bytes (all present). */
function longForm(n: number, fill = 0x5a, scale?: number): Uint8Array {
  const w = new ByteWriter(n + 12);
  w.writeInt32(n + 4);
  const body = new Uint8Array(n);
  body.fill(fill);
  w.writeBytes(body);
  if (scale !== undefined) w.writeInt32(scale);
  return w.toBytes();
}

Deno.test("the default is 4096 bytes, 9,864 digits, on types.biginteger and types.decimal", () => {
  assertEquals(DEFAULT_BIG_NUMBER_MAX_BYTES, 4096);
  assertEquals(maxDigitsOf(4096), 9864);
  assertEquals(EDGE.toString().length, 9864);
  assertEquals(types.biginteger.maxBytes, 4096);
  assertEquals(types.decimal.maxBytes, 4096);
  assert(types.bigintegerOf() === BIG_INTEGER_TYPE);
  assert(types.decimalOf({ maxBytes: 4096 }) === DECIMAL_TYPE);
  // maxDigitsOf is exact: the digits of 2^(8n-1) for every n up to 600.
  for (let n = 1; n <= 600; n++) {
    assertEquals(maxDigitsOf(n), (1n << BigInt(8 * n - 1)).toString().length, `n=${n}`);
  }
});

Deno.test("reading: a claim of 1 MiB (bytes present) fails with the bound and the length named", () => {
  const bytes = longForm(MIB);
  for (const t of [types.biginteger, types.decimal] as TypeSerializer<unknown>[]) {
    const e = assertThrows(() => deserializeValue(t, bytes), TypeDecodeError);
    assertEquals(
      e.problem,
      "BigInteger of 1048576 bytes claimed, over the bound of 4096 bytes (maxBytes)",
      t.name,
    );
    assertEquals(e.path, "value");
  }
  // The reader did not move past the code: nothing of the claim was read.
  const r = new ByteReader(bytes);
  assertThrows(() => readBigInteger(r), TypeDecodeError, "1048576 bytes claimed");
  assertEquals(r.remaining, MIB);
  // Under a composite, the error names the path.
  const w = new ByteWriter();
  w.writeInt32(1);
  w.writeBytes(longForm(5000, 1, 0));
  const deep = assertThrows(
    () => deserializeValue(types.tuple(types.int, types.decimal), w.toBytes()),
    TypeDecodeError,
    "5000 bytes claimed, over the bound of 4096",
  );
  assertEquals(deep.path, "value[1]");
});

Deno.test("reading: exactly 4096 bytes is read; 4097 fails", () => {
  // 0x80 then zeros: -2^32767, the most negative value of 4096 bytes.
  const min = new ByteWriter();
  min.writeInt32(4096 + 4);
  const body = new Uint8Array(4096);
  body[0] = 0x80;
  min.writeBytes(body);
  assertEquals(deserializeValue(types.biginteger, min.toBytes()), -EDGE);
  assertEquals(
    deserializeValue(types.biginteger, longForm(4096, 0x7f)),
    BigInt("0x" + "7f".repeat(4096)),
  );
  const dec = new ByteWriter();
  dec.writeBytes(min.toBytes());
  dec.writeInt32(3);
  const text = deserializeValue(types.decimal, dec.toBytes())!;
  assertEquals(text, `${(-EDGE).toString().slice(0, -3)}.${EDGE.toString().slice(-3)}`);

  for (const t of [types.biginteger, types.decimal] as TypeSerializer<unknown>[]) {
    assertThrows(
      () => deserializeValue(t, longForm(4097, 0x7f, 0)),
      TypeDecodeError,
      "4097 bytes claimed, over the bound of 4096 bytes (maxBytes)",
    );
  }
});

Deno.test("writing: a value of exactly 4096 bytes is written; 4097 bytes fails with TypeValueError", () => {
  for (const v of [-EDGE, EDGE - 1n]) {
    const bytes = serializeValue(types.biginteger, v);
    assertEquals(bytes.length, 4 + 4096);
    assertEquals(toHex(bytes.subarray(0, 4)), "00001004");
    assertEquals(deserializeValue(types.biginteger, bytes), v);
  }
  for (const v of [EDGE, -EDGE - 1n, 1n << (8n * BigInt(MIB))]) {
    const e = assertThrows(() => serializeValue(types.biginteger, v), TypeValueError);
    assert(e.problem.endsWith("bytes is over the bound of 4096 bytes (maxBytes)"), e.problem);
  }
  assertThrows(
    () => writeBigInteger(EDGE, new ByteWriter()),
    TypeValueError,
    "a BigInteger of 4097 bytes is over the bound of 4096 bytes (maxBytes)",
  );
  // Nothing was written before the refusal.
  const w = new ByteWriter();
  assertThrows(() => writeBigInteger(EDGE, w), TypeValueError);
  assertEquals(w.toBytes().length, 0);

  // decimal: the unscaled value is bounded alike.
  const atBound = `${EDGE - 1n}E-5`;
  const bytes = serializeValue(types.decimal, atBound);
  assertEquals(bytes.length, 4 + 4096 + 4);
  assertEquals(parseDecimal(deserializeValue(types.decimal, bytes)!), parseDecimal(atBound));
  assertThrows(
    () => serializeValue(types.decimal, `${EDGE}E-5`),
    TypeValueError,
    "over the bound of 4096 bytes (maxBytes)",
  );
});

Deno.test("decimal text: more significant digits than the bound allows is refused before BigInt()", () => {
  // 1 MiB of digits: refused on the count (without the bound this converts and is written).
  const e = assertThrows(() => serializeValue(types.decimal, "7".repeat(MIB)), TypeValueError);
  assertEquals(
    e.problem,
    "a decimal of 1048576 significant digits is over the bound of 9864 (4096 bytes, maxBytes)",
  );
  assertThrows(() => types.decimal.hashCode("1." + "3".repeat(MIB)), TypeValueError, "9864");
  assertThrows(() => parseDecimal("1".repeat(9865)), TypeValueError, "9865 significant digits");
  // At the bound: the digits pass, the bytes decide (when written); a larger bound reads more.
  assertEquals(parseDecimal(`-${EDGE}`).unscaled, -EDGE);
  assertEquals(parseDecimal("1".repeat(9865), 8192).scale, 0);
  // Leading zeros are not significant: Java's own text of a small value at a large scale reads.
  assertEquals(parseDecimal("0." + "0".repeat(20000) + "1"), { unscaled: 1n, scale: 20001 });
  assertEquals(parseDecimal("1E-20001"), { unscaled: 1n, scale: 20001 });
  // The longest plain text Java prints for a value at the bound reads back.
  const plain = deserializeValue(
    types.decimal,
    serializeValue(types.decimal, `${EDGE - 1n}E-9869`),
  )!;
  assertEquals(plain, `0.00000${EDGE - 1n}`);
  assertEquals(parseDecimal(plain), { unscaled: EDGE - 1n, scale: 9869 });
});

Deno.test("JSON form: biginteger and decimal text is bounded, both directions", () => {
  // biginteger: 9,864 digits with a sign pass and round trip.
  const min = `-${EDGE}`;
  assertEquals(fromJsonValue(types.biginteger, min, "key"), -EDGE);
  assertEquals(toJsonValue(types.biginteger, -EDGE), min);
  // 9,865 digits: refused on the count, naming the path and the bound.
  const over = assertThrows(
    () => fromJsonValue(types.biginteger, "1" + "0".repeat(9864), "key"),
    TypeValueError,
  );
  assertEquals(over.path, "key");
  assertEquals(
    over.problem,
    "a decimal string of 9865 digits is over the bound of 9864 (4096 bytes, maxBytes)",
  );
  // 9,864 digits that do not fit 4096 bytes: refused on the bytes.
  assertThrows(
    () => fromJsonValue(types.biginteger, EDGE.toString(), "key"),
    TypeValueError,
    "4097 bytes is over the bound of 4096 bytes",
  );
  // 1 MiB of digits: the bound is named (not only "a decimal string").
  assertThrows(
    () => fromJsonValue(types.biginteger, "9".repeat(MIB)),
    TypeValueError,
    "1048576 digits is over the bound of 9864",
  );
  // Not a decimal string at all: that is said first, whatever its length.
  assertThrows(
    () => fromJsonValue(types.biginteger, "x".repeat(20000)),
    TypeValueError,
    "expected a decimal string",
  );
  // decimal, inside a structure.
  const t = types.tuple(types.string, types.decimal);
  assertEquals(fromJsonValue(t, ["a", `${EDGE - 1n}E+7`], "key"), ["a", `${EDGE - 1n}E+7`]);
  const d = assertThrows(() => fromJsonValue(t, ["a", "5".repeat(MIB)], "key"), TypeValueError);
  assertEquals(d.path, "key[1]");
  assert(d.problem.includes("over the bound of 9864"), d.problem);
});

Deno.test("gateway and CLI key text: a decimal or biginteger over the bound names it", () => {
  for (const type of [types.decimal, types.biginteger]) {
    const e = assertThrows(
      () => parseKeyParam(type, "8".repeat(MIB), "key"),
      BadParameterError,
    );
    assert(e.message.includes("over the bound of 9864"), e.message);
    const c = assertThrows(() => typedValue(type, "8".repeat(MIB), "--key", true), Error);
    assert(c.message.includes("--key") && c.message.includes("over the bound of 9864"), c.message);
  }
  assertEquals(parseKeyParam(types.biginteger, `-${EDGE}`, "key"), -EDGE);
});

Deno.test("bigintegerOf / decimalOf: another bound, in both directions; text stays the same", () => {
  const small = types.bigintegerOf({ maxBytes: 2 });
  assertEquals(small.maxBytes, 2);
  assertEquals(small.text, "biginteger");
  assertEquals(small.kind, "biginteger");
  assertEquals(formatType(small), "biginteger");
  assert(parseType(formatType(small)) === types.biginteger);
  assertEquals(toHex(serializeValue(small, 32767n)), "000000067fff");
  assertEquals(toHex(serializeValue(small, -32768n)), "000000068000");
  assertThrows(
    () => serializeValue(small, 32768n),
    TypeValueError,
    "3 bytes is over the bound of 2",
  );
  assertEquals(deserializeValue(small, fromHex("000000067fff")), 32767n);
  assertThrows(
    () => deserializeValue(small, fromHex("00000007010000")),
    TypeDecodeError,
    "3 bytes claimed, over the bound of 2 bytes",
  );
  assertEquals(fromJsonValue(small, "-32768"), -32768n);
  assertThrows(() => fromJsonValue(small, "32768"), TypeValueError, "over the bound of 2 bytes");
  assertThrows(
    () => fromJsonValue(small, "100000"),
    TypeValueError,
    "6 digits is over the bound of 5",
  );

  const dec = decimalOf({ maxBytes: 1 });
  assertEquals(dec.text, "decimal");
  assertEquals(toHex(serializeValue(dec, "-1.28")), "0000000580" + "00000002");
  assertThrows(() => serializeValue(dec, "1.28"), TypeValueError, "2 bytes is over the bound of 1");
  assertThrows(() => serializeValue(dec, "1.000"), TypeValueError, "4 significant digits");
  assertThrows(() => deserializeValue(dec, fromHex("000000060080" + "00000000")), TypeDecodeError);
  // A larger bound reads what the default refuses.
  const big = bigIntegerOf({ maxBytes: 8192 });
  assertEquals(deserializeValue(big, serializeValue(big, EDGE)), EDGE);
  assertThrows(
    () => deserializeValue(types.biginteger, serializeValue(big, EDGE)),
    TypeDecodeError,
  );

  for (const maxBytes of [0, -1, 1.5, NaN, 2 ** 31]) {
    assertInstanceOf(assertThrows(() => types.decimalOf({ maxBytes }), RangeError), RangeError);
    assertThrows(() => types.bigintegerOf({ maxBytes }), RangeError, "maxBytes");
  }
});
