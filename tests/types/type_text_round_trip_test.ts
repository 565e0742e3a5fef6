/**
 * formatType's promise, that parseType reads a descriptor's text back to an
 * equivalent descriptor, for descriptors built in TypeScript: a POJO field
 * name that is not a Java identifier would make a text that fails to parse
 * or, worse, parses to another type (`x:int,y` as a name gives
 * `pojo<x:int,y:long>`, two fields). Such names are refused by the builder,
 * as enum constants are.
 */

import { formatType, parseType, TypeSyntaxError } from "../../src/types/type_text.ts";
import { TypeDecodeError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import type { TypeDescriptor } from "../../src/types/type_descriptor.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";

Deno.test("pojo: a field name that is not a Java identifier is refused (its text would parse to another type)", () => {
  for (const name of ["x:int,y", "a,b", "a>", "1a", "a b", "a-b", "a\u0000", "<", "a.b"]) {
    const e = assertThrows(() => types.pojo({ [name]: types.long }), TypeError);
    assertEquals(
      e.message.includes("Java identifier"),
      true,
      `${JSON.stringify(name)}: ${e.message}`,
    );
  }
});

Deno.test("pojo: Java identifiers (unicode, $, _, __proto__) are accepted and their text reads back the same", () => {
  const names = ["$id", "_x", "e\u0301t\u00e9", "__proto__", "\u{1d4b3}", "constructor"];
  const fields: Record<string, TypeDescriptor<unknown>> = {};
  const value: Record<string, unknown> = {};
  names.forEach((name, i) => {
    const own = {
      value: undefined as unknown,
      enumerable: true,
      writable: true,
      configurable: true,
    };
    Object.defineProperty(fields, name, { ...own, value: types.int });
    Object.defineProperty(value, name, { ...own, value: i });
  });
  const d = types.pojo(fields);
  const back = parseType(formatType(d));
  assertEquals(back.text, d.text);
  assertEquals(serializeValue(back, value), serializeValue(d, value));
});

Deno.test("parseType: maxDepth is capped at 1000; a type 1000 deep parses, writes and reads, truncated bytes name the path", () => {
  const e = assertThrows(
    () =>
      parseType("list<".repeat(8000) + "int" + ">".repeat(8000), {
        maxLength: 100_000,
        maxDepth: 100_000,
      }),
    RangeError,
  );
  assertEquals(e.message.includes("at most 1000"), true, e.message);
  const deep = parseType("list<".repeat(999) + "int" + ">".repeat(999), {
    maxLength: 10_000,
    maxDepth: 1000,
  });
  let value: unknown = [7];
  for (let i = 1; i < 999; i++) value = [value];
  const bytes = serializeValue(deep, value);
  assertEquals(deserializeValue(deep, bytes), value);
  const cut = assertThrows(() => deserializeValue(deep, bytes.subarray(0, bytes.length - 1)));
  assertInstanceOf(cut, TypeDecodeError);
  // The innermost list fails on its count (1 int, 3 bytes left): 998 segments.
  assertEquals(cut.path, "value" + "[0]".repeat(998));
  const over = assertThrows(
    () =>
      parseType("list<".repeat(1000) + "int" + ">".repeat(1000), {
        maxLength: 10_000,
        maxDepth: 1000,
      }),
    TypeSyntaxError,
  );
  assertEquals(over.message.includes("maxDepth"), true);
});
