/** The gateway's JSON encoding of values and the parsing of keys, per type name. */

import { TYPE_NAMES } from "../../src/wire/mod.ts";
import {
  BadParameterError,
  parseKeyJson,
  parseKeyParam,
  parseTypeName,
  stateToJson,
  toJsonValue,
} from "../../src/http/mod.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";

function badParameter(f: () => unknown, parameter: string): BadParameterError {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  assertInstanceOf(thrown, BadParameterError);
  assertEquals(thrown.parameter, parameter);
  assertEquals(thrown.status, 400);
  return thrown;
}

Deno.test("toJsonValue: each type", () => {
  assertEquals(toJsonValue("long", 9223372036854775807n), "9223372036854775807");
  assertEquals(toJsonValue("long", -9223372036854775808n), "-9223372036854775808");
  assertEquals(toJsonValue("int", -2147483648), -2147483648);
  assertEquals(toJsonValue("short", 7), 7);
  assertEquals(toJsonValue("byte", -128), -128);
  assertEquals(toJsonValue("double", 0.1), 0.1);
  assertEquals(toJsonValue("double", NaN), "NaN");
  assertEquals(toJsonValue("double", Infinity), "Infinity");
  assertEquals(toJsonValue("float", -Infinity), "-Infinity");
  assertEquals(toJsonValue("boolean", true), true);
  assertEquals(toJsonValue("string", "é\u0000"), "é\u0000");
  assertEquals(toJsonValue("string", null), null);
  assertEquals(toJsonValue("char", "x"), "x");
  assertEquals(toJsonValue("bytes", new Uint8Array()), "");
  assertEquals(toJsonValue("bytes", new Uint8Array([0xfb, 0xff])), "+/8=");
});

Deno.test("bytes: base64 out, base64 and base64url in, every byte value and lengths 0..70000", () => {
  for (const n of [0, 1, 2, 3, 4, 5, 255, 256, 70000]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 0xff);
    const text = toJsonValue("bytes", bytes) as string;
    assertEquals(text.length, Math.ceil(n / 3) * 4);
    assertEquals(parseKeyParam("bytes", text, "key"), bytes);
    const url = text.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    assertEquals(parseKeyParam("bytes", url, "key"), bytes);
  }
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assertEquals(parseKeyJson("bytes", toJsonValue("bytes", all), "k"), all);
  for (const bad of ["a", "ab$c", "a=bc", "abcde"]) {
    badParameter(() => parseKeyParam("bytes", bad, "key"), "key");
  }
});

Deno.test("stateToJson: value, list, map; null state", () => {
  assertEquals(stateToJson("value", "long", 1n), "1");
  assertEquals(stateToJson("value", "long", null), null);
  assertEquals(stateToJson("list", "bytes", [new Uint8Array([1])]), ["AQ=="]);
  assertEquals(stateToJson("list", "string", []), []);
  assertEquals(stateToJson("map", "double", [[1n, NaN], [2n, null]], "long"), [["1", "NaN"], [
    "2",
    null,
  ]]);
  assertEquals(
    JSON.stringify(stateToJson("map", "float", [["a", -Infinity]], "string")),
    '[["a","-Infinity"]]',
  );
});

Deno.test("parseKeyParam: each type from text", () => {
  assertEquals(parseKeyParam("long", "-9223372036854775808", "key"), -9223372036854775808n);
  assertEquals(parseKeyParam("long", "9223372036854775807", "key"), 9223372036854775807n);
  assertEquals(parseKeyParam("int", "2147483647", "key"), 2147483647);
  assertEquals(parseKeyParam("short", "-32768", "key"), -32768);
  assertEquals(parseKeyParam("byte", "127", "key"), 127);
  assertEquals(parseKeyParam("double", "-0.5e3", "key"), -500);
  assertEquals(parseKeyParam("double", "Infinity", "key"), Infinity);
  assertEquals(parseKeyParam("float", "-Infinity", "key"), -Infinity);
  assert(Number.isNaN(parseKeyParam("double", "NaN", "key")));
  assertEquals(parseKeyParam("boolean", "false", "key"), false);
  assertEquals(parseKeyParam("string", "", "key"), "");
  assertEquals(parseKeyParam("char", "\u00e9", "key"), "\u00e9");
});

Deno.test("parseKeyParam: bad text names the parameter", () => {
  const cases: Array<[Parameters<typeof parseKeyParam>[0], string]> = [
    ["long", "9223372036854775808"],
    ["long", "-9223372036854775809"],
    ["long", "1e3"],
    ["long", " 1"],
    ["long", ""],
    ["long", "1".repeat(1000)],
    ["int", "2147483648"],
    ["int", "0x10"],
    ["short", "32768"],
    ["byte", "-129"],
    ["double", ""],
    ["double", " 1"],
    ["double", "nan"],
    ["boolean", "True"],
    ["char", ""],
    ["char", "ab"],
  ];
  for (const [type, text] of cases) {
    const e = badParameter(() => parseKeyParam(type, text, "key"), "key");
    assert(e.message.startsWith("Bad parameter key: "), e.message);
    assert(e.message.length < 300, "the bad value is shown cut");
  }
});

Deno.test("parseKeyJson: long from a string or a safe integer; numbers from numbers or text", () => {
  assertEquals(parseKeyJson("long", "9007199254740993", "k"), 9007199254740993n);
  assertEquals(parseKeyJson("long", -9007199254740991, "k"), -9007199254740991n);
  badParameter(() => parseKeyJson("long", 9007199254740992, "q.key"), "q.key");
  badParameter(() => parseKeyJson("long", 1.5, "q.key"), "q.key");
  assertEquals(parseKeyJson("int", 5, "k"), 5);
  assertEquals(parseKeyJson("int", "5", "k"), 5);
  badParameter(() => parseKeyJson("int", 5.5, "k"), "k");
  badParameter(() => parseKeyJson("short", 1e6, "k"), "k");
  assertEquals(parseKeyJson("double", 2.5, "k"), 2.5);
  assertEquals(parseKeyJson("double", "-Infinity", "k"), -Infinity);
  assertEquals(parseKeyJson("boolean", true, "k"), true);
  badParameter(() => parseKeyJson("boolean", "true", "k"), "k");
  badParameter(() => parseKeyJson("string", 5, "k"), "k");
  badParameter(() => parseKeyJson("string", null, "k"), "k");
  badParameter(() => parseKeyJson("string", undefined, "k"), "k");
  badParameter(() => parseKeyJson("int", [1], "k"), "k");
  badParameter(() => parseKeyJson("long", { n: 1 }, "k"), "k");
});

Deno.test("parseTypeName: every type name; unknown or missing names the parameter", () => {
  for (const name of TYPE_NAMES) assertEquals(parseTypeName(name, "keyType"), name);
  const e = badParameter(() => parseTypeName("Integer", "valueType"), "valueType");
  assert(e.message.includes('"Integer"') && e.message.includes("long"), e.message);
  badParameter(() => parseTypeName(undefined, "keyType"), "keyType");
  badParameter(() => parseTypeName(3, "keyType"), "keyType");
  badParameter(() => parseTypeName("toString", "keyType"), "keyType");
});
