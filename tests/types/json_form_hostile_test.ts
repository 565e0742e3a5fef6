/**
 * The JSON form against hostile JSON: nesting far deeper than any
 * descriptor, huge arrays where a tuple is expected, prototype keys as POJO
 * fields. Each is a TypeValueError naming the path, never a RangeError, and
 * nothing touches Object.prototype.
 */

import { fromJsonValue, toJsonValue } from "../../src/types/json_form.ts";
import { parseType } from "../../src/types/type_text.ts";
import { TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";

/** JSON nested `depth` arrays deep, as JSON.parse reads it from a request body. */
function deepJson(depth: number): unknown {
  return JSON.parse("[".repeat(depth) + "]".repeat(depth));
}

Deno.test("json form: JSON nested 200000 deep is a TypeValueError with its path, not a stack overflow", () => {
  const deep = deepJson(200_000);
  const cases: Array<[string, unknown, string]> = [
    ["int", deep, "value"],
    ["string", deep, "value"],
    ["decimal", deep, "value"],
    ["tuple<int,string>", [deep, "a"], "value[0]"],
    ["list<long>", [1, deep], "value[1]"],
    ["map<string,int>", [["a", deep]], "value[0].value"],
    ["pojo<a:int>", { a: deep }, "value.a"],
    ["either<int,string>", { left: deep }, "value.left"],
    ["row<int>", [deep], "value[0]"],
    ["enum<A,B>", deep, "value"],
  ];
  for (const [text, json, path] of cases) {
    let thrown: unknown;
    try {
      fromJsonValue(parseType(text), json);
    } catch (e) {
      thrown = e;
    }
    assertInstanceOf(thrown, TypeValueError, text);
    assertEquals(thrown.path, path, text);
    assert(thrown.message.length < 400, `${text}: a short message`);
  }
});

Deno.test("json form: a huge array where a tuple is expected fails on its length (the path is the tuple, not an element)", () => {
  const huge = new Array(5_000_000).fill(0);
  const e = assertThrows(
    () => fromJsonValue(types.tuple(types.int, types.int), huge),
    TypeValueError,
  );
  assertEquals(e.path, "value");
  assert(e.message.length < 400);
});

Deno.test("json form: POJO fields named __proto__ and constructor are own data, the prototype untouched", () => {
  const d = parseType("pojo<__proto__:pojo<polluted:int>,constructor:string>");
  const json = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "x"}');
  const v = fromJsonValue(d, json) as Record<string, unknown>;
  assertEquals(Object.getPrototypeOf(v), Object.prototype);
  assertEquals(Object.keys(v), ["__proto__", "constructor"]);
  assertEquals(Object.getOwnPropertyDescriptor(v, "__proto__")?.value, { polluted: 1 });
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
  // Through the bytes and back: the same own fields, the same JSON.
  const back = deserializeValue(d, serializeValue(d, v)) as Record<string, unknown>;
  assertEquals(Object.getPrototypeOf(back), Object.prototype);
  assertEquals(Object.keys(back), ["__proto__", "constructor"]);
  assertEquals(JSON.stringify(toJsonValue(d, back)), JSON.stringify(json));
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
  // A POJO without such a field refuses the key by name.
  const e = assertThrows(
    () => fromJsonValue(parseType("pojo<a:int>"), JSON.parse('{"a": 1, "__proto__": {"x": 1}}')),
    TypeValueError,
  );
  assertEquals(e.path, "value.__proto__");
});
