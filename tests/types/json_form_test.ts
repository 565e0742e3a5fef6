/**
 * The JSON form of typed values (src/types/json_form.ts): the exact JSON of
 * each kind, the way back (to the JS value and to the same bytes, through
 * `JSON.stringify`/`JSON.parse`), and the errors with their paths.
 */

import { fromJsonValue, type JsonValue, toJsonValue } from "../../src/types/json_form.ts";
import type { TypeDescriptor } from "../../src/types/type_descriptor.ts";
import { TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import { serializeValue } from "../../src/wire/type_serializers.ts";
import { assertEquals, assertInstanceOf } from "../_assert.ts";
import { ORDER, ORDER_KEY } from "./_orders.ts";

function pathOf(f: () => unknown): string {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  assertInstanceOf(thrown, TypeValueError);
  return thrown.path;
}

/** The value back from its JSON text, and the same bytes. */
function roundTrip(d: TypeDescriptor<unknown>, value: unknown): JsonValue {
  const json = toJsonValue(d, value);
  const back = fromJsonValue(d, JSON.parse(JSON.stringify(json)));
  assertEquals(serializeValue(d, back), serializeValue(d, value), d.text);
  return json;
}

Deno.test("json form: basic types keep the gateway's conventions", () => {
  assertEquals(toJsonValue("long", -9223372036854775808n), "-9223372036854775808");
  assertEquals(toJsonValue(types.long, 42n), "42");
  assertEquals(toJsonValue(types.double, NaN), "NaN");
  assertEquals(toJsonValue(types.float, -Infinity), "-Infinity");
  assertEquals(toJsonValue(types.bytes, new Uint8Array([0xfb, 0xff])), "+/8=");
  assertEquals(toJsonValue(types.string, null), null);
  assertEquals(fromJsonValue(types.long, "9007199254740993"), 9007199254740993n);
  assertEquals(fromJsonValue(types.long, 42), 42n);
  assertEquals(fromJsonValue(types.int, "-7"), -7);
  assertEquals(fromJsonValue(types.double, "Infinity"), Infinity);
  assertEquals(fromJsonValue(types.bytes, "-_8"), new Uint8Array([0xfb, 0xff]));
  assertEquals(fromJsonValue(types.char, "x"), "x");
  assertEquals(pathOf(() => fromJsonValue(types.long, "9223372036854775808", "key")), "key");
  assertEquals(pathOf(() => fromJsonValue(types.int, 2147483648)), "value");
  assertEquals(pathOf(() => fromJsonValue(types.int, null)), "value");
  assertEquals(pathOf(() => fromJsonValue(types.long, 2 ** 53)), "value");
});

Deno.test("json form: a tuple key and a POJO value (fields in serialization order)", () => {
  assertEquals(roundTrip(ORDER_KEY, ["acme", 1001n]), ["acme", "1001"]);
  assertEquals(fromJsonValue(ORDER_KEY, ["acme", 1001], "key"), ["acme", 1001n]);
  const order = {
    orderId: 1001n,
    customer: { name: "Ada", age: 42 },
    amount: 99.5,
    tags: ["new", null],
  };
  const json = roundTrip(ORDER, order);
  assertEquals(
    JSON.stringify(json),
    '{"amount":99.5,"customer":{"age":42,"name":"Ada"},"orderId":"1001","tags":["new",null]}',
  );
  assertEquals(fromJsonValue(ORDER, json), order);
  assertEquals(roundTrip(ORDER, null), null);
  assertEquals(roundTrip(ORDER, { ...order, customer: null, tags: null }), {
    amount: 99.5,
    customer: null,
    orderId: "1001",
    tags: null,
  });
});

Deno.test("json form: rows, nullable, enums, arrays, lists, maps, either", () => {
  const r = types.row(types.int, types.string);
  assertEquals(roundTrip(r, Object.assign([1, null], { kind: "-U" as const })), {
    kind: "-U",
    fields: [1, null],
  });
  const fromArray = fromJsonValue(r, [7, "x"]) as unknown[] & { kind: string };
  assertEquals([[...fromArray], fromArray.kind], [[7, "x"], "+I"]);
  assertEquals(roundTrip(types.nullable(types.long), null), null);
  assertEquals(roundTrip(types.nullable(types.long), 5n), "5");
  assertEquals(roundTrip(types.enumOf("RED", "GREEN"), "GREEN"), "GREEN");
  assertEquals(roundTrip(types.array(types.long), [1n, -2n]), ["1", "-2"]);
  assertEquals(roundTrip(types.array(types.nullable(types.int)), [1, null]), [1, null]);
  assertEquals(roundTrip(types.array(types.string), ["a", null]), ["a", null]);
  const m = types.map(types.string, types.long);
  assertEquals(roundTrip(m, [["a", 1n], ["b", null]]), [["a", "1"], ["b", null]]);
  assertEquals(toJsonValue(m, new Map([["a", 1n]])), [["a", "1"]]);
  const e = types.either(types.string, types.long);
  assertEquals(roundTrip(e, { left: "x" }), { left: "x" });
  assertEquals(roundTrip(e, { right: 3n }), { right: "3" });
});

Deno.test("json form: big numbers and time kinds are strings", () => {
  assertEquals(roundTrip(types.decimal, "1E+3"), "1E+3");
  assertEquals(roundTrip(types.decimal, "0.00"), "0.00");
  assertEquals(roundTrip(types.biginteger, -(2n ** 100n)), "-" + (2n ** 100n).toString());
  assertEquals(fromJsonValue(types.biginteger, 10), 10n);
  assertEquals(
    roundTrip(types.instant, "2024-03-28T12:00:00.123456789Z"),
    "2024-03-28T12:00:00.123456789Z",
  );
  assertEquals(roundTrip(types.date, "2024-03-28T12:00:00.123Z"), "2024-03-28T12:00:00.123Z");
  assertEquals(roundTrip(types.localdate, "2024-03-28"), "2024-03-28");
  assertEquals(roundTrip(types.localtime, "12:34:56.789"), "12:34:56.789");
  assertEquals(roundTrip(types.localdatetime, null), null);
  assertEquals(pathOf(() => fromJsonValue(types.localdate, "2024-13-01", "key")), "key");
  assertEquals(pathOf(() => fromJsonValue(types.decimal, "1.2.3")), "value");
});

Deno.test("json form: errors name the path", () => {
  const order = {
    amount: 1,
    customer: { age: 42, name: "Ada" },
    orderId: "1",
    tags: [],
  };
  assertEquals(pathOf(() => fromJsonValue(ORDER_KEY, ["acme", "x"], "key")), "key[1]");
  assertEquals(pathOf(() => fromJsonValue(ORDER_KEY, ["acme"], "key")), "key");
  assertEquals(
    pathOf(() => fromJsonValue(ORDER, { ...order, customer: { age: "old", name: "Ada" } })),
    "value.customer.age",
  );
  assertEquals(
    pathOf(() => fromJsonValue(ORDER, { ...order, customer: { age: 1 } })),
    "value.customer.name",
  );
  assertEquals(pathOf(() => fromJsonValue(ORDER, { ...order, customr: null })), "value.customr");
  assertEquals(pathOf(() => fromJsonValue(ORDER, { ...order, tags: ["a", 1] })), "value.tags[1]");
  assertEquals(pathOf(() => fromJsonValue(ORDER, [])), "value");
  const m = types.map(types.string, types.long);
  assertEquals(pathOf(() => fromJsonValue(m, [["a", "x"]])), "value[0].value");
  assertEquals(pathOf(() => fromJsonValue(m, [[1, "1"]])), "value[0].key");
  assertEquals(pathOf(() => fromJsonValue(m, [["a"]])), "value[0]");
  const e = types.either(types.string, types.long);
  assertEquals(pathOf(() => fromJsonValue(e, { left: "a", right: "1" })), "value");
  assertEquals(pathOf(() => fromJsonValue(e, { right: "x" })), "value.right");
  const r = types.row(types.int);
  assertEquals(pathOf(() => fromJsonValue(r, { kind: "+X", fields: [1] })), "value.kind");
  assertEquals(pathOf(() => fromJsonValue(r, { kind: "+I", fields: ["a"] })), "value[0]");
  assertEquals(pathOf(() => fromJsonValue(types.enumOf("A"), "B")), "value");
  assertEquals(pathOf(() => fromJsonValue(types.bytes, "a$b")), "value");
  assertEquals(pathOf(() => fromJsonValue(ORDER_KEY, undefined, "key")), "key");
});
