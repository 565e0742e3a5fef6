/**
 * A state plane with composite types for the explorer page's tests: the
 * live plane's `live` value state (string → long, `hello` = 42, changed by
 * the test), `orders` (a tuple<string,long> key, a POJO value, as the demo's)
 * and `by-pojo` (a POJO key, whose hash the caller gives), served as
 * {@linkcode startStatePlane} serves them.
 */

import { InMemoryValueState } from "../../src/server/in_memory_states.ts";
import type { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { TYPE_SERIALIZERS as T } from "../../src/wire/type_serializers.ts";
import type { Transport } from "../../src/transport/types.ts";
import type { QueryHandlerOptions } from "../../src/http/mod.ts";
import { types } from "../../src/types/types.ts";
import { type Plane, startStatePlane } from "./_plane.ts";

/** The `orders` key type, as text. */
export const ORDERS_KEY_TYPE = "tuple<string,long>";
/** The `orders` value type, as text (fields in declaration order). */
export const ORDERS_VALUE_TYPE = "pojo<orderId:long,customer:pojo<name:string,age:int>," +
  "amount:double,tags:list<string>>";
/** The JSON form of `orders` at `["acme", 1001]` (fields in Flink's order). */
export const ADA_JSON = {
  amount: 99.5,
  customer: { age: 42, name: "Ada" },
  orderId: "1001",
  tags: ["new", "priority"],
};
/** The `by-pojo` key type, as text; its key `{"id":1,"region":"eu"}` holds 10. */
export const REGION_KEY_TYPE = "pojo<id:long,region:string>";

export interface CompositePlane extends Plane {
  /** `live`: string → long, `hello` = 42 at the start. */
  readonly values: InMemoryValueState<string | null, bigint>;
}

/** Starts the plane; `makeOptions` makes the handler's options from the client. */
export async function startCompositePlane(
  makeOptions: (client: QueryableStateClient) => QueryHandlerOptions,
  transport: Transport,
): Promise<CompositePlane> {
  const values = new InMemoryValueState(T.string, T.long).set("hello", 42n);
  const orders = new InMemoryValueState(
    types.tuple(types.string, types.long),
    types.pojo({
      orderId: types.long,
      customer: types.pojo({ name: types.string, age: types.int }),
      amount: types.double,
      tags: types.list(types.string),
    }),
  ).set(["acme", 1001n], {
    amount: 99.5,
    customer: { age: 42, name: "Ada" },
    orderId: 1001n,
    tags: ["new", "priority"],
  });
  const byPojo = new InMemoryValueState(
    types.pojo({ id: types.long, region: types.string }),
    types.long,
  ).set({ id: 1n, region: "eu" }, 10n);
  const plane = await startStatePlane(
    [["live", values], ["orders", orders], ["by-pojo", byPojo]],
    makeOptions,
    transport,
  );
  return Object.assign(plane, { values });
}
