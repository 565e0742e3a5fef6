/**
 * Every descriptor against hostile bytes: counts and lengths claiming
 * 0x7fffffff (refused before anything is allocated), negative counts, out
 * of range time fields, enum ordinals, POJO flags, decimal scales at the
 * ends of the int range (printed short, as Java prints them), and seeded
 * random bytes. Every failure is a TypeDecodeError or the ProtocolError of
 * a short read; nothing else escapes, nothing is slow.
 */

import { parseType } from "../../src/types/type_text.ts";
import { TypeDecodeError } from "../../src/types/type_errors.ts";
import { fromHex } from "../../src/wire/bytes.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { deserializeValue } from "../../src/wire/type_serializers.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";

function decodeError(text: string, bytes: Uint8Array): ProtocolError {
  let thrown: unknown;
  try {
    deserializeValue(parseType(text), bytes);
  } catch (e) {
    thrown = e;
  }
  assertInstanceOf(thrown, ProtocolError, `${text}: ${thrown}`);
  return thrown;
}

/** Count-bearing kinds, with the bytes that come before their count. */
const COUNTED: Array<[string, number[]]> = [
  ["array<int>", []],
  ["array<long>", []],
  ["array<double>", []],
  ["array<float>", []],
  ["array<short>", []],
  ["array<boolean>", []],
  ["array<char>", []],
  ["array<string>", []],
  ["array<nullable<int>>", []],
  ["array<nullable<tuple<>>>", []],
  ["list<int>", []],
  ["list<string>", []],
  ["list<tuple<>>", []],
  ["list<row<>>", []],
  ["list<list<list<int>>>", []],
  ["map<string,int>", []],
  ["map<list<int>,map<int,string>>", []],
  ["biginteger", []],
  ["decimal", []],
  ["bytes", []],
  ["pojo<a:list<int>>", [2, 0]],
  ["row<list<int>>", [0]],
  ["tuple<array<long>>", []],
  ["either<list<int>,string>", [1]],
  ["nullable<map<int,int>>", [0]],
];

Deno.test("hostile bytes: a count or length of 0x7fffffff, or negative, is refused, typed", () => {
  for (const [text, prefix] of COUNTED) {
    for (const claim of [0x7fffffff, 0x7ffffffe, 1 << 28, -1, -0x80000000]) {
      for (const pad of [0, 3, 64]) {
        const bytes = new Uint8Array(prefix.length + 4 + pad);
        bytes.set(prefix);
        new DataView(bytes.buffer).setInt32(prefix.length, claim);
        // Refused before anything is allocated for the claim (no timing here: a
        // decoder that allocated 2^31 elements first would run out of memory).
        decodeError(text, bytes); // a ProtocolError (a TypeDecodeError but for a bare `bytes`)
      }
    }
  }
  // The claim is refused before reading, with Java's exception class.
  const e = decodeError("list<long>", fromHex("7fffffff" + "00".repeat(16)));
  assertInstanceOf(e, TypeDecodeError);
  assertEquals(e.javaClassName, "java.io.EOFException");
  const neg = decodeError("array<int>", fromHex("ffffffff"));
  assertEquals(neg.javaClassName, "java.lang.NegativeArraySizeException");
});

Deno.test("hostile bytes: time fields out of range are DateTimeException-like TypeDecodeErrors", () => {
  const cases: Array<[string, string, string]> = [
    ["localdate", "000007e80d01", "month 13"],
    ["localdate", "000007e80100", "day 0"],
    ["localdate", "000007e8021e", "day 30"],
    ["localdate", "3b9aca000c1f", "year 1000000000"],
    ["localtime", "18000000000000", "hour 24"],
    ["localtime", "ff000000000000", "hour -1"],
    ["localtime", "003c0000000000", "minute 60"],
    ["localtime", "00003c00000000", "second 60"],
    ["localtime", "0000003b9aca00", "nano 1000000000"],
    ["localtime", "000000ffffffff", "nano -1"],
    ["timestamp", "00000000000000003b9aca00", "nanos 1000000000"],
    ["instant", "7fffffffffffffff00000000", "outside Instant.MIN..Instant.MAX"],
    ["enum<A,B>", "00000002", "unknown ordinal 2"],
    ["enum<A,B>", "80000000", "unknown ordinal -2147483648"],
    ["pojo<a:int>", "03", "unknown PojoSerializer flags 0x03"],
    ["pojo<a:int>", "0cff", "truncated"],
    ["pojo<a:int>", "06000141", 'subclass "A"'],
  ];
  for (const [text, hex, words] of cases) {
    const e = decodeError(text, fromHex(hex));
    assertInstanceOf(e, TypeDecodeError, `${text} ${hex}`);
    assert(e.message.includes(words), `${text} ${hex}: ${e.message}`);
  }
});

Deno.test("hostile bytes: decimal scales at the ends of the int range print short, as Java's toString", () => {
  const cases: Array<[string, string]> = [
    ["00000005017fffffff", "1E-2147483647"],
    ["000000050180000000", "1E+2147483648"],
    ["00000005ff80000000", "-1E+2147483648"],
    ["0000000800ffffff7fffffff", "1.6777215E-2147483640"],
    ["0000000501" + "00000006", "0.000001"],
    ["0000000501" + "00000007", "1E-7"],
  ];
  for (const [hex, text] of cases) {
    assertEquals(deserializeValue(parseType("decimal"), fromHex(hex)), text);
  }
});

Deno.test("hostile bytes: seeded random bytes against every kind: only typed errors", () => {
  const texts = [
    "localdate",
    "localtime",
    "localdatetime",
    "instant",
    "timestamp",
    "date",
    "enum<A,B>",
    "nullable<long,padded>",
    "pojo<a:int,b:string>",
    "row<int,string,long>",
    "either<int,string>",
    "char",
    "tuple<int,string>",
    ...COUNTED.map(([t]) => t),
  ];
  let seed = 7;
  const rnd = (): number =>
    (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x80000000;
  for (const text of texts) {
    const d = parseType(text);
    for (let k = 0; k < 1500; k++) {
      const bytes = new Uint8Array(Math.floor(rnd() * 24));
      for (let i = 0; i < bytes.length; i++) {
        bytes[i] = rnd() < 0.3 ? (rnd() < 0.5 ? 0 : 0xff) : Math.floor(rnd() * 256);
      }
      try {
        deserializeValue(d, bytes);
      } catch (e) {
        assertInstanceOf(e, ProtocolError, `${text}: ${e}`);
      }
    }
  }
});
