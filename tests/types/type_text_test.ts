/**
 * The type text syntax: every manifest `typeText` parses to a descriptor
 * that decodes its vector; `parseType(d.text).text === d.text` for the
 * manifest's types and seeded random descriptor trees; whitespace and case;
 * error positions; the bounds.
 */

import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { fromHex } from "../../src/wire/bytes.ts";
import { deserializeValue } from "../../src/wire/type_serializers.ts";
import type { TypeDescriptor } from "../../src/types/type_descriptor.ts";
import {
  formatType,
  parseType,
  TYPE_TEXT_LIMITS,
  TypeSyntaxError,
} from "../../src/types/type_text.ts";
import { types } from "../../src/types/types.ts";
import { descriptorOfManifestType, expectedValue, typeVectorTest } from "./_vectors.ts";

type D = TypeDescriptor<unknown>;

typeVectorTest(
  "type text: every manifest typeText parses and its descriptor decodes the vector",
  (vectors) => {
    let n = 0;
    for (const v of vectors) {
      if (v.typeText === undefined) continue;
      const d = parseType(v.typeText);
      assertEquals(d.text, v.typeText, v.file);
      const bytes = v.kind === "keyAndNamespace"
        ? fromHex(v.entry.serializedKeyHex as string)
        : v.bytes;
      if (v.entry.deserializerReadsBytes !== undefined) continue; // the timestamp null: java_vectors_test
      assertEquals(deserializeValue(d, bytes), expectedValue(d, v.expected), v.file);
      n++;
    }
    assert(n >= 170, `only ${n} vectors`);
  },
);

typeVectorTest(
  "type text: every manifest type's descriptor text parses back to the same text",
  (vectors) => {
    for (const v of vectors) {
      if (["listState", "mapState", "tuple0"].includes(v.type.kind)) continue;
      const d = descriptorOfManifestType(v.type);
      assertEquals(parseType(d.text).text, d.text, v.file);
      assertEquals(formatType(d), d.text);
    }
  },
);

const LEAF_NAMES = [
  "string",
  "int",
  "long",
  "double",
  "float",
  "boolean",
  "short",
  "byte",
  "char",
  "bytes",
  "decimal",
  "biginteger",
  "date",
  "timestamp",
  "instant",
  "localdate",
  "localtime",
  "localdatetime",
] as const;
const ARRAY_ELEMENTS = [
  "int",
  "long",
  "double",
  "float",
  "short",
  "boolean",
  "char",
  "string",
] as const;

function randomName(rng: Prng): string {
  const first = "abcXYZ_$ñΩ";
  const rest = "abcdefXYZ0123456789_$é";
  let s = first[rng.int(first.length)];
  for (let i = rng.int(6); i > 0; i--) s += rest[rng.int(rest.length)];
  return s;
}

function randomDescriptor(rng: Prng, depth: number): D {
  const leaf = () => types[LEAF_NAMES[rng.int(LEAF_NAMES.length)]] as D;
  if (depth >= 4) return leaf();
  const sub = () => randomDescriptor(rng, depth + 1);
  switch (rng.int(12)) {
    case 0:
      return types.tuple(...Array.from({ length: rng.int(5) }, sub));
    case 1:
      return types.row(...Array.from({ length: 1 + rng.int(4) }, sub));
    case 2: {
      const fields: Record<string, D> = {};
      for (let i = 1 + rng.int(4); i > 0; i--) fields[randomName(rng)] = sub();
      return types.pojo(fields);
    }
    case 3:
      return rng.int(3) === 0
        ? types.nullable(types.long, { padded: true })
        : types.nullable(sub());
    case 4: {
      const names = new Set<string>();
      for (let i = 1 + rng.int(4); i > 0; i--) names.add(randomName(rng).toUpperCase());
      return types.enumOf(...names);
    }
    case 5:
      return types.array(
        rng.int(2)
          ? types[ARRAY_ELEMENTS[rng.int(ARRAY_ELEMENTS.length)]] as D
          : types.nullable(sub()),
      );
    case 6:
      return types.list(sub());
    case 7:
      return types.map(sub(), sub());
    case 8:
      return types.either(sub(), sub());
    case 9:
      return types.rowLegacy(sub(), sub());
    default:
      return leaf();
  }
}

Deno.test("type text: 500 seeded random descriptors round trip through their text", () => {
  const rng = new Prng(1313);
  for (let i = 0; i < 500; i++) {
    const d = randomDescriptor(rng, 1);
    const parsed = parseType(d.text);
    assertEquals(parsed.text, d.text);
    assertEquals(parsed.kind, d.kind);
    // Spaced out, it still parses to the same text.
    const spaced = d.text.replace(/([<>,:])/g, " $1\n\t");
    assertEquals(parseType(spaced).text, d.text, spaced);
  }
});

Deno.test("type text: the issue's forms", () => {
  const forms: [string, string][] = [
    ["tuple<string,long>", "tuple<string,long>"],
    ["pojo<id:long,name:string,tags:list<string>>", "pojo<id:long,name:string,tags:list<string>>"],
    ["pojo<name:string,tags:list<string>,id:long>", "pojo<id:long,name:string,tags:list<string>>"],
    ["pojo<b:int,B:int,_x:int,a:int>", "pojo<B:int,_x:int,a:int,b:int>"],
    ["row<int,string>", "row<int,string>"],
    ["nullable<long>", "nullable<long>"],
    ["enum<RED,GREEN>", "enum<RED,GREEN>"],
    ["array<long>", "array<long>"],
    ["array<nullable<int>>", "array<nullable<int>>"],
    ["array<string>", "array<string>"],
    ["list<tuple<int,int>>", "list<tuple<int,int>>"],
    ["map<string,pojo<x:int>>", "map<string,pojo<x:int>>"],
    ["either<string,long>", "either<string,long>"],
    ["  tuple <\tstring ,\n long > ", "tuple<string,long>"],
    ["tuple<>", "tuple<>"],
    ["nullable< long , padded >", "nullable<long,padded>"],
    ["pojo<naïve:int,ñ:long,$x:int>", "pojo<$x:int,naïve:int,ñ:long>"],
  ];
  for (const [text, canonical] of forms) assertEquals(parseType(text).text, canonical, text);
  for (const name of LEAF_NAMES) assert(parseType(name) === types[name], name);
  assertEquals(parseType("array<long>").kind, "array");
  assertEquals(parseType("bytes"), types.bytes);
});

Deno.test("type text: errors name the position and what was expected", () => {
  const cases: [string, number, string][] = [
    ["tuple<string,long", 17, `expected "," or ">" after "long", found the end of the text`],
    ["tuple<string long>", 13, `expected "," or ">" after "string", found "long"`],
    ["String", 0, `unknown type "String" (names are lower case: "string")`],
    ["Tuple<int>", 0, `unknown type "Tuple" (names are lower case: "tuple")`],
    ["integer", 0, `unknown type "integer"`],
    ["", 0, "expected a type name, found the end of the text"],
    ["list", 4, `expected "<" after "list", found the end of the text`],
    ["list<>", 5, `expected a type name, found ">"`],
    ["string<int>", 6, `"string" takes no parameters`],
    ["long x", 5, `unexpected "x" after the type "long"`],
    ["map<string>", 10, `expected "," after "string", found ">"`],
    ["map<string,long,int>", 15, `expected ">" after "long", found ","`],
    ["pojo<id long>", 8, `expected ":" after "id", found "long"`],
    ["pojo<>", 5, `expected a field name (a Java identifier) after "pojo<", found ">"`],
    ["pojo<1st:int>", 5, `expected a field name (a Java identifier) after "pojo<", found "1st"`],
    ["pojo<a:int,a:long>", 11, `duplicate field "a"`],
    ["enum<RED,RED>", 9, `duplicate constant "RED"`],
    ["enum<RED,>", 9, `expected a constant (a Java identifier) after "RED", found ">"`],
    ["nullable<long,pad>", 14, `expected "padded" after ",", found "pad"`],
    ["array<byte>", 0, "array<byte>: byte[] is types.bytes"],
    [
      "list<array<tuple<int>>>",
      5,
      "array<tuple<int>>: Flink writes arrays of tuple<int> as object arrays",
    ],
    ["nullable<string,padded>", 0, "nullable<string,padded>: padded needs a fixed-length type"],
    ["tuple<int;long>", 9, `expected "," or ">" after "int", found ";"`],
  ];
  for (const [text, position, problem] of cases) {
    const e = assertThrows(() => parseType(text), TypeSyntaxError);
    assertEquals([e.position, e.problem.slice(0, problem.length)], [position, problem], text);
    assertEquals(e.message.startsWith(`at ${position}: `), true);
    assertInstanceOf(e, TypeError);
    assertEquals(e.name, "TypeSyntaxError");
  }
  assertThrows(() => parseType(42 as unknown as string), TypeSyntaxError, "expected a type text");
});

Deno.test("type text: bounds, with their defaults and errors", () => {
  assertEquals(TYPE_TEXT_LIMITS, {
    maxLength: 4096,
    maxDepth: 32,
    maxFields: 256,
    maxEnumConstants: 1024,
  });
  // Length.
  const long = "tuple<" + "int,".repeat(1100) + "int>";
  let e = assertThrows(
    () => parseType(long),
    TypeSyntaxError,
    "longer than 4096 characters (maxLength)",
  );
  assertEquals(e.position, 4096);
  assertThrows(() => parseType("long     ", { maxLength: 8 }), TypeSyntaxError, "maxLength");
  assertEquals(parseType("long    ", { maxLength: 8 }).text, "long");
  // Depth: 31 lists around a long are 32 levels.
  const nest = (n: number) => "list<".repeat(n) + "long" + ">".repeat(n);
  assertEquals(parseType(nest(31)).text, nest(31));
  e = assertThrows(() => parseType(nest(32)), TypeSyntaxError, "deeper than 32 levels (maxDepth)");
  assertEquals(e.position, 32 * 5);
  assertThrows(() => parseType(nest(600)), TypeSyntaxError, "maxDepth");
  assertThrows(
    () => parseType(nest(100_000), { maxLength: 1_000_000 }),
    TypeSyntaxError,
    "maxDepth",
  );
  assertThrows(() => parseType(nest(2), { maxDepth: 2 }), TypeSyntaxError, "deeper than 2 levels");
  // Fields: tuple 25, row and pojo maxFields.
  const fields = (n: number) => Array.from({ length: n }, () => "int").join(",");
  assertEquals(parseType(`tuple<${fields(25)}>`).kind, "tuple");
  e = assertThrows(
    () => parseType(`tuple<${fields(26)}>`),
    TypeSyntaxError,
    "more than 25 fields (Flink's tuples end at Tuple25)",
  );
  assertEquals(e.position, 6 + 25 * 4);
  assertEquals(parseType(`row<${fields(256)}>`).kind, "row");
  assertThrows(
    () => parseType(`row<${fields(257)}>`),
    TypeSyntaxError,
    "more than 256 fields (maxFields)",
  );
  assertThrows(
    () => parseType(`row<${fields(3)}>`, { maxFields: 2 }),
    TypeSyntaxError,
    "maxFields",
  );
  const pojo = (n: number) => `pojo<${Array.from({ length: n }, (_, i) => `f${i}:int`).join(",")}>`;
  assertEquals(parseType(pojo(256)).kind, "pojo");
  assertThrows(
    () => parseType(pojo(257), { maxLength: 10_000 }),
    TypeSyntaxError,
    "more than 256 fields (maxFields)",
  );
  // Enum constants.
  const en = (n: number) => `enum<${Array.from({ length: n }, (_, i) => `C${i}`).join(",")}>`;
  assertEquals(parseType(en(1024), { maxLength: 10_000 }).kind, "enum");
  assertThrows(
    () => parseType(en(1025), { maxLength: 10_000 }),
    TypeSyntaxError,
    "more than 1024 constants (maxEnumConstants)",
  );
  // Bad options.
  assertThrows(
    () => parseType("long", { maxDepth: 0 }),
    RangeError,
    "maxDepth must be a positive integer",
  );
  assertThrows(() => parseType("long", { maxLength: 1.5 }), RangeError, "maxLength");
});

Deno.test("type text: parsed descriptors are shared for repeated texts (default bounds only)", () => {
  const a = parseType("map<string,list<long>>");
  assert(parseType("map<string,list<long>>") === a);
  const b = parseType("map<string,list<long>>", { maxDepth: 8 });
  assertEquals(b.text, a.text);
  assert(Object.isFrozen(a));
  assertThrows(() => formatType(null as unknown as D), TypeError, "expected a type descriptor");
});
