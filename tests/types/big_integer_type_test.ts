/**
 * `types.biginteger` (BigIntSerializer): codes 0..3 and the long form both
 * ways, minimal two's complement, Java's hashCode, seeded round trips, bad
 * values and bad bytes.
 */

import { assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { ByteReader, fromHex, toHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import {
  BIG_INTEGER_TYPE,
  bigIntegerBytes,
  bigIntegerHashCode,
  readBigInteger,
} from "../../src/types/big_integer_type.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

const bi = types.biginteger;

Deno.test("biginteger: is types.biginteger, frozen, kind and text", () => {
  assertEquals(bi, BIG_INTEGER_TYPE);
  assertEquals([bi.kind, bi.text, bi.name], ["biginteger", "biginteger", "biginteger"]);
  assertEquals(Object.isFrozen(bi), true);
});

Deno.test("biginteger: 0, 1, 10 take codes 1, 2, 3; null code 0; others the long form", () => {
  assertEquals(toHex(serializeValue(bi, 0n)), "00000001");
  assertEquals(toHex(serializeValue(bi, 1n)), "00000002");
  assertEquals(toHex(serializeValue(bi, 10n)), "00000003");
  assertEquals(toHex(serializeValue(bi, null)), "00000000");
  assertEquals(toHex(serializeValue(bi, 2n)), "0000000502");
  assertEquals(toHex(serializeValue(bi, -1n)), "00000005ff");
  assertEquals(toHex(serializeValue(bi, 127n)), "000000057f");
  assertEquals(toHex(serializeValue(bi, 128n)), "000000060080");
  assertEquals(toHex(serializeValue(bi, -128n)), "0000000580");
  assertEquals(toHex(serializeValue(bi, -129n)), "00000006ff7f");
  assertEquals(toHex(serializeValue(bi, -(1n << 63n))), "0000000c8000000000000000");
  // Both forms decode: the long form of 10, 0 and a non-minimal 255.
  assertEquals(deserializeValue(bi, fromHex("000000050a")), 10n);
  assertEquals(deserializeValue(bi, fromHex("0000000500")), 0n);
  assertEquals(deserializeValue(bi, fromHex("000000070000ff")), 255n);
  assertEquals(deserializeValue(bi, fromHex("00000003")), 10n);
});

Deno.test("biginteger: 3000 seeded random values round trip with minimal bytes", () => {
  const rng = new Prng(1313);
  for (let i = 0; i < 3000; i++) {
    const size = 1 + rng.int(i % 10 === 0 ? 200 : 20);
    let v = 0n;
    for (let b = 0; b < size; b++) v = (v << 8n) | BigInt(rng.int(256));
    if (rng.int(2) === 0) v = -v;
    const bytes = serializeValue(bi, v);
    assertEquals(deserializeValue(bi, bytes), v);
    if (v !== 0n && v !== 1n && v !== 10n) {
      const raw = bigIntegerBytes(v);
      // Minimal: dropping the first byte would change the value.
      if (raw.length > 1) {
        const shorter = BigInt.asIntN((raw.length - 1) * 8, BigInt("0x" + toHex(raw.subarray(1))));
        assertEquals(shorter === v, false, `${v} not minimal`);
      }
    }
  }
});

Deno.test("biginteger: hashCode is Java's BigInteger.hashCode()", () => {
  assertEquals(bi.hashCode(0n), 0);
  assertEquals(bi.hashCode(1n), 1);
  assertEquals(bi.hashCode(-1n), -1);
  assertEquals(bi.hashCode(0xffffffffn), -1); // one word 0xffffffff as an int
  assertEquals(bi.hashCode(1n << 32n), 31);
  assertEquals(bi.hashCode((1n << 32n) + 5n), 36);
  assertEquals(bi.hashCode(-(1n << 63n)), -2147483648);
  assertEquals(
    bigIntegerHashCode(123456789012345678901234567890n),
    bigIntegerHashCode(123456789012345678901234567890n),
  );
  // 31^2 * 1 + 31 * 2 + 3 for the words [1, 2, 3]
  assertEquals(bi.hashCode((1n << 64n) + (2n << 32n) + 3n), 961 + 62 + 3);
  assertThrows(() => bi.hashCode(null), TypeValueError, "not usable as a key");
});

Deno.test("biginteger: bad values and bad bytes are typed errors", () => {
  assertThrows(() => serializeValue(bi, 5 as unknown as bigint), TypeValueError, "BigInt(x)");
  assertThrows(
    () => serializeValue(bi, "5" as unknown as bigint),
    TypeValueError,
    "expected a bigint",
  );
  const neg = assertThrows(
    () => deserializeValue(bi, fromHex("ffffffff")),
    TypeDecodeError,
    "negative",
  );
  assertEquals(neg.javaClassName, "java.lang.NegativeArraySizeException");
  const empty = assertThrows(
    () => deserializeValue(bi, fromHex("00000004")),
    TypeDecodeError,
    "zero bytes",
  );
  assertEquals(empty.javaClassName, "java.lang.NumberFormatException");
  // A huge claimed length is refused before allocating.
  const huge = assertThrows(
    () => readBigInteger(new ByteReader(fromHex("7fffffff01"))),
    TypeDecodeError,
    "only 1 are left",
  );
  assertEquals(huge.path, "value");
  assertThrows(() => deserializeValue(bi, fromHex("0000000600")), ProtocolError);
  assertThrows(() => deserializeValue(bi, fromHex("000000")), ProtocolError);
});
