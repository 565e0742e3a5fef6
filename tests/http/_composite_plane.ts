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
import { ADA, ORDER, ORDER_KEY } from "../types/_orders.ts";

/** The `orders` key type, as text; its value type (fields in declaration order); `["acme", 1001]`'s JSON form. */
export {
  ADA_JSON,
  ORDER_KEY_TYPE as ORDERS_KEY_TYPE,
  ORDER_TYPE as ORDERS_VALUE_TYPE,
} from "../types/_orders.ts";
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
  const orders = new InMemoryValueState(ORDER_KEY, ORDER).set(["acme", 1001n], ADA);
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
