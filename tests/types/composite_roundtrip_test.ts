/**
 * Seeded random round trips of the composite descriptors (random nested
 * descriptors, random values), truncation at every cut point, trailing
 * bytes, and the bounded-count helper.
 */

import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { ByteReader, fromHex, toHex } from "../../src/wire/bytes.ts";
import {
  decodeListContent,
  decodeMapContent,
  encodeListContent,
  encodeMapContent,
} from "../../src/wire/state_content.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import type { DescriptorParts, RowKind, TypeDescriptor } from "../../src/types/type_descriptor.ts";
import { TypeDecodeError } from "../../src/types/type_errors.ts";
import { fixedLengthOf, minEncodedLength, readCount } from "../../src/types/composite_helpers.ts";
import { types } from "../../src/types/types.ts";
import { EVENT } from "./_vectors.ts";

type D = TypeDescriptor<unknown>;
const LEAVES: D[] = [
  types.string,
  types.int,
  types.long,
  types.double,
  types.float,
  types.boolean,
  types.short,
  types.byte,
  types.char,
  types.bytes,
];
const PRIMITIVE_ELEMENTS: D[] = [
  types.int,
  types.long,
  types.double,
  types.float,
  types.short,
  types.boolean,
  types.char,
];
const KINDS: RowKind[] = ["+I", "-U", "+U", "-D"];
const NAMES = ["id", "name", "B", "_x", "zeta", "userId", "username", "a", "aa", "ü"];

/** A random descriptor of bounded depth. */
function randomDescriptor(r: Prng, depth: number): D {
  if (depth <= 0 || r.int(3) === 0) return r.pick(LEAVES);
  const sub = () => randomDescriptor(r, depth - 1);
  const count = (max: number) => 1 + r.int(max);
  switch (r.int(10)) {
    case 0:
      return types.tuple(...Array.from({ length: count(4) }, sub)) as D;
    case 1: {
      const fields: Record<string, D> = {};
      for (let i = 0, n = count(4); i < n; i++) fields[r.pick(NAMES)] = sub();
      return types.pojo(fields) as D;
    }
    case 2:
      return types.row(...Array.from({ length: count(9) }, sub)) as D;
    case 3:
      return types.nullable(sub()) as D;
    case 4:
      return types.enumOf(...Array.from({ length: count(5) }, (_, i) => `C${i}`)) as D;
    case 5: {
      const f = r.int(3);
      const el = f === 0
        ? r.pick(PRIMITIVE_ELEMENTS)
        : f === 1
        ? types.string
        : types.nullable(sub());
      return types.array(el) as D;
    }
    case 6:
      return types.list(sub()) as D;
    case 7:
      return types.map(sub(), sub()) as D;
    case 8:
      return types.either(sub(), sub()) as D;
    default:
      return types.rowLegacy(...Array.from({ length: count(9) }, sub)) as D;
  }
}

function randomString(r: Prng): string {
  let s = "";
  for (let i = 0, n = r.int(6); i < n; i++) {
    const k = r.int(4);
    s += String.fromCharCode(
      k === 0
        ? 0x20 + r.int(95)
        : k === 1
        ? r.int(0x800)
        : k === 2
        ? 0xd800 + r.int(0x800)
        : r.int(0x10000),
    );
  }
  return s;
}

/**
 * A random value of `d`, as decoding gives it back (rows carry their kind,
 * maps are pairs). `nonNull`: where the format cannot carry a null.
 */
function randomValue(r: Prng, d: D, nonNull = false): unknown {
  const p = d as DescriptorParts;
  switch (p.kind) {
    case "string":
      return !nonNull && r.int(5) === 0 ? null : randomString(r);
    case "int":
      return (r.int(0x10000) << 16 | r.int(0x10000)) | 0;
    case "long":
      return BigInt.asIntN(64, BigInt(r.int(0x100000000)) << 32n | BigInt(r.int(0x100000000)));
    case "double":
      return r.pick([0, -0, 1.5, NaN, Infinity, -Infinity, 5e-324, r.next() * 1e300]);
    case "float":
      return Math.fround(r.pick([0, -0, NaN, 3.4e38, r.next() * 1000]));
    case "boolean":
      return r.int(2) === 0;
    case "short":
      return r.int(0x10000) - 0x8000;
    case "byte":
      return r.int(256) - 128;
    case "char":
      return String.fromCharCode(r.int(0x10000));
    case "bytes":
      return r.bytes(r.int(5));
    case "tuple":
      return p.fields.map((f) => randomValue(r, f));
    case "pojo": {
      if (!nonNull && r.int(6) === 0) return null;
      const o: Record<string, unknown> = {};
      for (const f of p.fields) o[f.name] = r.int(4) === 0 ? null : randomValue(r, f.type, true);
      return o;
    }
    case "row":
      return Object.assign(
        p.fields.map((f) => r.int(3) === 0 ? null : randomValue(r, f, true)),
        { kind: (d as { legacy?: boolean }).legacy ? "+I" : r.pick(KINDS) },
      );
    case "nullable":
      return !nonNull && r.int(3) === 0 ? null : randomValue(r, p.inner, true);
    case "enum":
      return r.pick(p.constants);
    case "array":
      return Array.from(
        { length: r.int(4) },
        () => randomValue(r, p.element, p.format === "primitive"),
      );
    case "list":
      return Array.from({ length: r.int(4) }, () => randomValue(r, p.element));
    case "map":
      return Array.from(
        { length: r.int(4) },
        () => [randomValue(r, p.key), r.int(4) === 0 ? null : randomValue(r, p.value, true)],
      );
    case "either":
      return r.int(2) === 0
        ? { left: randomValue(r, p.left, true) }
        : { right: randomValue(r, p.right, true) };
    default:
      throw new Error(`no generator for ${p.kind}`);
  }
}

Deno.test("random composite descriptors and values round trip (seeded, bounded)", () => {
  const r = new Prng(0x13c0ffee);
  let checked = 0;
  for (let i = 0; i < 300; i++) {
    const d = randomDescriptor(r, 3);
    assert(Object.isFrozen(d), d.text);
    for (let j = 0; j < 5; j++) {
      const v = randomValue(r, d);
      const bytes = serializeValue(d, v);
      const back = deserializeValue(d, bytes);
      assertEquals(back, v, `${d.text} (seed step ${i}/${j})`);
      assertEquals(toHex(serializeValue(d, back)), toHex(bytes), d.text);
      assert(bytes.length >= minEncodedLength(d), `${d.text}: shorter than its minimum`);
      const fixed = fixedLengthOf(d);
      if (fixed > 0) assertEquals(bytes.length, fixed, `${d.text}: fixed length`);
      checked++;
    }
  }
  assertEquals(checked, 1500);
});

Deno.test("every cut point of composite values is a TypeDecodeError; trailing bytes are refused", () => {
  const cases: [D, unknown][] = [
    [types.tuple(types.string, types.long) as D, ["user-1", 42n]],
    [
      types.pojo({
        customer: types.pojo({ name: types.string, age: types.int }),
        tags: types.list(types.string),
        counts: types.map(types.string, types.int),
      }) as D,
      { counts: [["a", 1], ["b", null]], customer: { age: 3, name: "Ada" }, tags: ["x", null] },
    ],
    [
      types.row(types.int, types.string, types.row(types.long)) as D,
      Object.assign([1, null, Object.assign([5n], { kind: "+U" })], { kind: "-D" }),
    ],
    [types.array(types.nullable(types.tuple(types.string, types.long))) as D, [["a", 1n], null]],
    [types.either(types.string, types.list(types.long)) as D, { right: [1n, 2n] }],
    [types.nullable(types.long, { padded: true }) as D, null],
    [types.array(types.double) as D, [1.5, NaN]],
  ];
  let cuts = 0;
  for (const [d, v] of cases) {
    const bytes = serializeValue(d, v);
    assertEquals(deserializeValue(d, bytes), v, d.text);
    for (let cut = 0; cut < bytes.length; cut++) {
      const e = assertThrows(() => deserializeValue(d, bytes.subarray(0, cut)));
      assertInstanceOf(e, TypeDecodeError, `${d.text} cut at ${cut}: ${e.message}`);
      assert(e.path.startsWith("value"), e.path);
      cuts++;
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    const e = assertThrows(() => deserializeValue(d, longer), ProtocolError, "Unconsumed bytes");
    assert(!(e instanceof TypeDecodeError) || e.path === "value");
  }
  assert(cuts > 100, `${cuts} cut points`);
});

Deno.test("readCount checks a claimed count against the bytes left before allocating", () => {
  const r = new ByteReader(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
  const e = assertThrows(() => readCount(r, 1, "list"), TypeDecodeError, "claims 2147483647");
  assertEquals(e.javaClassName, "java.io.EOFException");
  assertEquals(readCount(new ByteReader(new Uint8Array([0, 0, 0, 4, 1, 2, 3, 4])), 1, "list"), 4);
  // A minimum of 0 counts as 1: no unbounded loop of empty elements.
  assertThrows(
    () => readCount(new ByteReader(new Uint8Array([0, 0, 0, 5, 1])), 0, "list"),
    TypeDecodeError,
  );
  assertThrows(
    () => readCount(new ByteReader(new Uint8Array([0, 0])), 1, "map"),
    TypeDecodeError,
    "truncated",
  );
  // Minimum lengths: a tuple of fixed fields, a list of longs claimed 2 with 15 bytes left.
  assertEquals(minEncodedLength(types.tuple(types.int, types.string) as D), 5);
  assertEquals(fixedLengthOf(types.tuple(types.int, types.long) as D), 12);
  assertEquals(fixedLengthOf(types.tuple() as D), 1);
  assertEquals(fixedLengthOf(types.nullable(types.int, { padded: true }) as D), 5);
  assertEquals(fixedLengthOf(types.nullable(types.int) as D), -1);
  assertThrows(
    () =>
      deserializeValue(types.list(types.long), new Uint8Array([0, 0, 0, 2, ...new Uint8Array(15)])),
    TypeDecodeError,
    "at least 8 bytes",
  );
});

Deno.test("list and map state contents with composite elements (hex of the state/03 and state/04 vectors)", () => {
  const t = types.tuple(types.string, types.long);
  // Elements whose own bytes hold 0x2c: parsed element by element, never split on ','.
  const hex = "022c000000000000002c2c032c2c2c2c2c2c2c2c2c2c";
  const want: [string, bigint][] = [[",", 44n], [",,", 3182967604875373612n]];
  assertEquals(decodeListContent(t, fromHex(hex)), want);
  assertEquals(toHex(encodeListContent(t, want)), hex);
  const mapHex = "0365310002000100000000010000000000000000010006666972737401003fe0000000000000";
  const entries = [["e1", {
    active: true,
    count: 1,
    id: 1n,
    name: "first",
    rank: null,
    score: 0.5,
  }]];
  assertEquals(decodeMapContent(types.string, EVENT, fromHex(mapHex)) as unknown, entries);
  assertEquals(
    toHex(encodeMapContent(types.string, EVENT, entries as [string, never][])),
    mapHex,
  );
});
