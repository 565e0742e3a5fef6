/**
 * The demo job's `orders` state as the composite-type tests use it: a
 * `Tuple2<String, Long>` key (tenant, order id) and an `Order` POJO value,
 * as descriptors and as type text, and Ada's order (`["acme", 1001]`) as
 * the JS value and in the JSON form.
 */

import { types } from "../../src/types/types.ts";

/** The key: Flink's `Tuple2<String, Long>`. */
export const ORDER_KEY = types.tuple(types.string, types.long);
/** The value: the POJO's fields in declaration order (Flink serializes them sorted by name). */
export const ORDER = types.pojo({
  orderId: types.long,
  customer: types.pojo({ name: types.string, age: types.int }),
  amount: types.double,
  tags: types.list(types.string),
});
/** {@linkcode ORDER_KEY} in the type syntax. */
export const ORDER_KEY_TYPE = "tuple<string,long>";
/** {@linkcode ORDER} in the type syntax (fields in declaration order). */
export const ORDER_TYPE = "pojo<orderId:long,customer:pojo<name:string,age:int>," +
  "amount:double,tags:list<string>>";
/** The order at `["acme", 1001n]`, as the client decodes it. */
export const ADA = {
  amount: 99.5,
  customer: { age: 42, name: "Ada" },
  orderId: 1001n,
  tags: ["new", "priority"],
};
/** {@linkcode ADA} in the JSON form (fields in Flink's order, the long as a string). */
export const ADA_JSON = {
  amount: 99.5,
  customer: { age: 42, name: "Ada" },
  orderId: "1001",
  tags: ["new", "priority"],
};
