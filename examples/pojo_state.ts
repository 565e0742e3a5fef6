/**
 * Reads a POJO-valued, tuple-keyed state with the typed client: the demo
 * job's `orders` state (examples/proxy.ts with no configuration serves it),
 * keyed by `Tuple2<String, Long>` (tenant, order id), its value a POJO
 * `Order { double amount; Customer customer; long orderId; List<String> tags; }`.
 *
 *   deno run --allow-net=127.0.0.1 examples/proxy.ts          # in another terminal
 *   deno run --allow-net=127.0.0.1 examples/pojo_state.ts [--proxy 127.0.0.1:9069]
 *
 * Prints each order as the HTTP gateway would answer it (the JSON form), and
 * the typed value's fields.
 *
 * @module
 */

import { QueryableStateClient, toJsonValue, types } from "../mod.ts";
import { denoTransport } from "../src/transport/deno.ts";

/** The key: Flink's `Tuple2<String, Long>`. */
const ORDER_KEY = types.tuple(types.string, types.long);
/** The value: the POJO's fields (Flink serializes them sorted by name). */
const ORDER = types.pojo({
  orderId: types.long,
  customer: types.pojo({ name: types.string, age: types.int }),
  amount: types.double,
  tags: types.list(types.string),
});
const JOB = "0102030405060708a1a2a3a4a5a6a7a8";

if (import.meta.main) {
  const at = Deno.args.indexOf("--proxy");
  const proxy = at >= 0 ? Deno.args[at + 1] : "127.0.0.1:9069";
  await using client = new QueryableStateClient({ transport: denoTransport, proxy });
  const query = { keyType: ORDER_KEY, valueType: ORDER };
  for (const key of [["acme", 1001n], ["acme", 1002n], ["globex", 7n]] as [string, bigint][]) {
    // `order` is inferred: { amount: number | null; customer: {...} | null; orderId: bigint | null; ... } | null
    const order = await client.getKvState(JOB, "orders", key, query);
    console.log(JSON.stringify(toJsonValue(ORDER, order)));
    console.log(
      `  ${key.join("/")}: ${order?.customer?.name ?? "(no customer)"} paid ${order?.amount}`,
    );
  }
}
