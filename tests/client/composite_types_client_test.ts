/**
 * The typed client with composite descriptors, end to end over real
 * sockets (Deno TCP on 127.0.0.1): a POJO-valued, tuple-keyed state in a
 * KvStateServer behind our proxy, read with `getKvState` and descriptors
 * (the result's type inferred), and the error paths: a key of the wrong
 * shape (`TypeValueError` at `key[1]`, nothing sent), bytes that do not
 * match the value descriptor (`TypeDecodeError` at `value.customer…`), a
 * map key's bytes that fail (`mapKey`).
 */

import { InMemoryMapState, InMemoryValueState } from "../../src/server/in_memory_states.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { JOB, Plane } from "../proxy/_plane.ts";
import { ADA, ORDER, ORDER_KEY } from "../types/_orders.ts";

/** The state as the server writes it, with `customer.name` a long: other bytes. */
const OTHER_ORDER = types.pojo({
  orderId: types.long,
  customer: types.pojo({ name: types.long, age: types.int }),
  amount: types.double,
  tags: types.list(types.string),
});

async function plane() {
  const orders = new InMemoryValueState(ORDER_KEY, ORDER)
    .set(["acme", 1001n], ADA)
    .set(["globex", 7n], { amount: 1500, customer: null, orderId: 7n, tags: [] });
  // The same state served under a descriptor whose customer.name is a long
  // (-1: eight 0xff bytes, a string length the bytes cannot hold).
  const mismatched = new InMemoryValueState(ORDER_KEY, OTHER_ORDER).set(["acme", 1001n], {
    ...ADA,
    customer: { age: 42, name: -1n },
  });
  // A map whose keys are longs on the server (-1: its first int is -1, no
  // enum ordinal), read as enum keys.
  const prefs = new InMemoryMapState(types.string, types.long, types.int).put("u", -1n, 2);
  const p = await Plane.serving(denoTransport, [
    ["orders", orders],
    ["mismatched", mismatched],
    ["prefs", prefs],
  ]);
  return { jobId: JOB, client: p.client, [Symbol.asyncDispose]: () => p.close() };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

Deno.test("typed client: a POJO value keyed by a tuple, over TCP, its type inferred", async () => {
  await using p = await plane();
  const query = { keyType: ORDER_KEY, valueType: ORDER };
  const order = await p.client.getKvState(p.jobId, "orders", ["acme", 1001n], query);
  // The inferred type: assigning to the declared shape type-checks (a POJO
  // and each of its fields may be null).
  const typed: {
    orderId: bigint | null;
    customer: { name: string | null; age: number | null } | null;
    amount: number | null;
    tags: (string | null)[] | null;
  } | null = order;
  // @ts-expect-error: a long field is a bigint, not a number.
  const wrong: { orderId: number | null } | null = order;
  assertEquals(wrong?.orderId as unknown, 1001n);
  assertEquals(typed, ADA);
  assertEquals(Object.keys(order!), ["amount", "customer", "orderId", "tags"]);
  const globex = await p.client.getKvState(p.jobId, "orders", ["globex", 7n], query);
  assertEquals(globex?.customer, null);
  assertEquals(
    await p.client.getKvStateIfPresent(p.jobId, "orders", ["acme", 1n], query),
    undefined,
  );
});

Deno.test("typed client: a key of the wrong shape is a TypeValueError at key[1], before any request", async () => {
  await using p = await plane();
  const query = { keyType: ORDER_KEY, valueType: ORDER };
  const e = await rejection(
    p.client.getKvState(p.jobId, "orders", ["acme", 1001 as unknown as bigint], query),
  );
  assertInstanceOf(e, TypeValueError);
  assertEquals(e.path, "key[1]");
  assert(e.message.startsWith("key[1]: "), e.message);
  const short = await rejection(
    p.client.getKvState(p.jobId, "orders", ["acme"] as unknown as [string, bigint], query),
  );
  assertInstanceOf(short, TypeValueError);
  assertEquals(short.path.startsWith("key"), true);
});

Deno.test("typed client: bytes that do not match the value descriptor are a TypeDecodeError under value.customer", async () => {
  await using p = await plane();
  const e = await rejection(
    p.client.getKvState(p.jobId, "mismatched", ["acme", 1001n], {
      keyType: ORDER_KEY,
      valueType: ORDER,
    }),
  );
  assertInstanceOf(e, TypeDecodeError);
  assertEquals(e.path, "value.customer.name");
  assert(e.message.startsWith("value.customer.name: "), e.message);
});

Deno.test("typed client: a map key's bytes that fail are rooted at mapKey", async () => {
  await using p = await plane();
  const e = await rejection(
    p.client.getKvState(p.jobId, "prefs", "u", {
      keyType: types.string,
      mapKeyType: types.enumOf("A", "B"),
      valueType: types.int,
      stateKind: "map",
    }),
  );
  assertInstanceOf(e, TypeDecodeError);
  assertEquals(e.path, "mapKey");
  // A value's bytes that fail stay under value.
  const v = await rejection(
    p.client.getKvState(p.jobId, "prefs", "u", {
      keyType: types.string,
      mapKeyType: types.long,
      valueType: types.long,
      stateKind: "map",
    }),
  );
  assertInstanceOf(v, TypeDecodeError);
  assertEquals(v.path, "value");
});
