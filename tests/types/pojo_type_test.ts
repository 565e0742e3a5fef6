import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { ByteWriter, fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { javaObjectsHash, type PojoDescriptor } from "../../src/types/pojo_type.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import { EVENT } from "./_vectors.ts";

Deno.test("pojo: fields sorted by name in UTF-16 code unit order, text and parts", () => {
  const p = types.pojo({
    username: types.string,
    a: types.int,
    userId: types.string,
    _flag: types.boolean,
    b: types.int,
    Zed: types.int,
    aa: types.long,
    B: types.int,
  });
  assertEquals(p.fields.map((f) => f.name), [
    "B",
    "Zed",
    "_flag",
    "a",
    "aa",
    "b",
    "userId",
    "username",
  ]);
  assertEquals(
    p.text,
    "pojo<B:int,Zed:int,_flag:boolean,a:int,aa:long,b:int,userId:string,username:string>",
  );
  assert(Object.isFrozen(p) && Object.isFrozen(p.fields) && Object.isFrozen(p.fields[0]));
  // pojo/06 vector.
  const hex = "020000000003000000000900010000000002000000000000000004000000000100036964000275";
  const v = { B: 3, Zed: 9, _flag: true, a: 2, aa: 4n, b: 1, userId: "id", username: "u" };
  assertEquals(toHex(serializeValue(p, v)), hex);
  const back = deserializeValue(p, fromHex(hex));
  assertEquals(back, v);
  assertEquals(Object.keys(back!), p.fields.map((f) => f.name));
  assertEquals(EVENT.className, "com.example.Event");
  assertEquals(EVENT.fields.map((f) => f.name), ["active", "count", "id", "name", "rank", "score"]);
});

Deno.test("pojo: flags byte, per-field null markers, a null POJO is 01", () => {
  // pojo/02 vector: name and rank null.
  const v = { active: false, count: 0, id: 0n, name: null, rank: null, score: 0 };
  const hex = "02000000000000000000000000000000000101000000000000000000";
  assertEquals(toHex(serializeValue(EVENT, v)), hex);
  assertEquals(deserializeValue(EVENT, fromHex(hex)), v);
  assertEquals(toHex(serializeValue(EVENT, null)), "01");
  assertEquals(deserializeValue(EVENT, fromHex("01")), null);
  // Any non-zero null marker reads as null (Java's readBoolean).
  const odd = fromHex("0207" + hex.slice(6)); // active's marker 07, then no boolean
  assertEquals(deserializeValue(EVENT, odd), {
    ...v,
    active: null,
  });
});

Deno.test("pojo: nested POJOs carry their own flags byte", () => {
  const order = types.pojo({
    orderId: types.long,
    customer: types.pojo({ name: types.string, age: types.int }),
    amount: types.double,
  });
  const hex = "02004058e000000000000002000000002400044164610000000000000003e9";
  const v = { amount: 99.5, customer: { age: 36, name: "Ada" }, orderId: 1001n };
  assertEquals(toHex(serializeValue(order, v)), hex);
  assertEquals(deserializeValue(order, fromHex(hex)), v);
  const e = assertThrows(
    () => serializeValue(order, { ...v, customer: { age: 1, name: 5 } } as never),
    TypeValueError,
  );
  assertEquals(e.path, "value.customer.name");
});

Deno.test("pojo: missing, undefined and unknown fields are errors naming the field", () => {
  const p = types.pojo({ id: types.long, name: types.string }, { className: "com.example.K" });
  let e = assertThrows(() => serializeValue(p, { id: 1n } as never), TypeValueError, '"name"');
  assertEquals(e.path, "value.name");
  assert(e.problem.includes("com.example.K"), e.problem);
  e = assertThrows(
    () => serializeValue(p, { id: 1n, name: undefined } as never),
    TypeValueError,
    "missing field",
  );
  assertEquals(e.path, "value.name");
  e = assertThrows(
    () => serializeValue(p, { id: 1n, name: "a", nmae: "b" } as never),
    TypeValueError,
    'unknown field "nmae"',
  );
  assertEquals(e.path, "value");
  e = assertThrows(() => serializeValue(p, [1n, "a"] as never), TypeValueError, "an object");
  assertEquals(e.path, "value");
  e = assertThrows(() => serializeValue(p, { id: 1, name: "a" } as never), TypeValueError);
  assertEquals(e.path, "value.id");
});

Deno.test("pojo: subclass flags are refused naming the flag and, when present, the class", () => {
  const animal = types.pojo({ name: types.string }, { className: "com.example.Animal" });
  // 04, writeUTF("com.example.Dog"), then the Dog serializer's bytes (pojo/14).
  const untagged = fromHex("04000f636f6d2e6578616d706c652e446f6702000000000a0004726578");
  let e = assertThrows(() => deserializeValue(animal, untagged), TypeDecodeError);
  assertEquals(e.path, "value");
  assert(e.problem.includes('subclass "com.example.Dog" of com.example.Animal'), e.problem);
  assert(e.problem.includes("IS_SUBCLASS 0x04"), e.problem);
  e = assertThrows(
    () => deserializeValue(animal, fromHex("080002000000000a0004726578")),
    TypeDecodeError,
  );
  assert(e.problem.includes("tag 0") && e.problem.includes("IS_TAGGED_SUBCLASS 0x08"), e.problem);
  e = assertThrows(() => deserializeValue(animal, fromHex("00000161")), TypeDecodeError);
  assert(e.problem.includes("unknown PojoSerializer flags 0x00"), e.problem);
  // A truncated class name is a decode error too, not a crash.
  e = assertThrows(() => deserializeValue(animal, fromHex("04000f636f6d")), TypeDecodeError);
  assert(e.problem.includes("truncated"), e.problem);
  // Inside a field, the path says where.
  const zoo = types.pojo({ pet: animal });
  e = assertThrows(() => deserializeValue(zoo, fromHex("0200080002")), TypeDecodeError);
  assertEquals(e.path, "value.pet");
});

Deno.test("pojo: hashCode needs the caller's hashCode; javaObjectsHash is Objects.hash", () => {
  const bare = types.pojo({ tenant: types.string, userId: types.long });
  const e = assertThrows(() => bare.hashCode({ tenant: "a", userId: 1n }), TypeValueError);
  assert(e.problem.includes("pass { hashCode }"), e.problem);
  type Key = { tenant: string | null; userId: bigint | null };
  const key: PojoDescriptor<Key | null> = types.pojo({ tenant: types.string, userId: types.long }, {
    hashCode: (k: Key) =>
      javaObjectsHash([
        k.tenant === null ? null : types.string.hashCode(k.tenant),
        k.userId === null ? null : types.long.hashCode(k.userId),
      ]),
  });
  // keyns/10..13.
  assertEquals(key.hashCode({ tenant: "acme", userId: 1n }), 92639688);
  assertEquals(key.hashCode({ tenant: "", userId: 0n }), 961);
  assertEquals(key.hashCode({ tenant: "测试", userId: -5n }), 27998491);
  assertEquals(key.hashCode({ tenant: null, userId: 7n }), 968);
  assertThrows(() => key.hashCode(null), TypeValueError, "null");
  // The supplied hash's value is checked.
  const bad = types.pojo({ id: types.int }, { hashCode: () => 1.5 });
  assertThrows(() => bad.hashCode({ id: 1 }), TypeValueError, "not an int32");
  // The value is checked before the user's function sees it.
  assertThrows(() => key.hashCode({ tenant: "a" } as never), TypeValueError, "missing field");
  assertThrows(() => javaObjectsHash([1.5]), TypeError);
  assertEquals(javaObjectsHash([]), 1);
});

Deno.test("pojo: builder argument checks", () => {
  assertThrows(() => types.pojo({}), TypeError, "at least one field");
  assertThrows(() => types.pojo({ "": types.int }), TypeError, "empty");
  assertThrows(() => types.pojo({ a: "int" } as never), TypeError, "not a type descriptor");
  assertThrows(() => types.pojo(null as never), TypeError, "object of field types");
  assertThrows(() => types.pojo({ a: types.int }, { hashCode: 5 } as never), TypeError);
});

Deno.test("pojo: a field named __proto__ is an own property both ways", () => {
  const fields = Object.fromEntries([["__proto__", types.int], ["a", types.int]]);
  const p = types.pojo(fields);
  assertEquals(p.text, "pojo<__proto__:int,a:int>");
  const w = new ByteWriter();
  const v = JSON.parse('{"__proto__": 1, "a": 2}');
  p.serialize(v as never, w);
  assertEquals(toHex(w.toBytes()), "02000000000100000000" + "02");
  const back = deserializeValue(p, w.toBytes()) as unknown as Record<string, unknown>;
  assert(Object.hasOwn(back, "__proto__"));
  assertEquals(Object.getPrototypeOf(back), Object.prototype);
  assertEquals(back["a"], 2);
});

Deno.test("pojo: TypeScript infers the object type", () => {
  const p = types.pojo({ id: types.long, tags: types.list(types.string) });
  const v: { id: bigint | null; tags: (string | null)[] | null } | null = deserializeValue(
    p,
    serializeValue(p, { id: 1n, tags: ["x"] }),
  );
  assertEquals(v, { id: 1n, tags: ["x"] });
  // @ts-expect-error the tags field is missing
  assertThrows(() => serializeValue(p, { id: 1n }), TypeValueError);
});
