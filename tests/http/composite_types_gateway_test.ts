/**
 * The gateway with composite types (issue 13): types given in the type
 * syntax (`keyType=tuple<string,long>`, URL-encoded), structured keys as
 * JSON (`key=["acme",1001]`), POJO keys with `keyHash`, answers in the JSON
 * form; the value route, the batch route and the watch route, over an
 * in-process plane (MemoryTransport). Errors: an absent key 404, bad type
 * text 400 naming the position, a bad key 400 naming the path inside it, a
 * POJO key without `keyHash` 400 naming `keyHash`.
 */

import { types } from "../../src/types/types.ts";
import { InMemoryValueState } from "../../src/server/in_memory_states.ts";
import { assert, assertEquals } from "../_assert.ts";
import { batchRequest, read, startStatePlane, valueUrl } from "./_plane.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import { ADA, ADA_JSON, ORDER, ORDER_KEY, ORDER_KEY_TYPE, ORDER_TYPE } from "../types/_orders.ts";

const REGION = types.pojo({ id: types.long, region: types.string });

async function plane() {
  const orders = new InMemoryValueState(ORDER_KEY, ORDER)
    .set(["acme", 1001n], ADA)
    .set(["globex", 7n], { amount: 1500, customer: null, orderId: 7n, tags: [] });
  const byPojo = new InMemoryValueState(REGION, types.long).set({ id: 1n, region: "eu" }, 10n);
  return await startStatePlane(
    [["orders", orders], ["by-pojo", byPojo]],
    (client) => ({ client }),
    new MemoryTransport(),
  );
}

function query(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

Deno.test("gateway: a tuple-keyed POJO state by the value route, type text URL-encoded, key as JSON", async () => {
  const p = await plane();
  try {
    const q = query({ key: '["acme",1001]', keyType: ORDER_KEY_TYPE, valueType: ORDER_TYPE });
    assert(q.includes("keyType=tuple%3Cstring%2Clong%3E"), q);
    const r = await read(await p.handler(new Request(valueUrl("orders", q))));
    assertEquals([r.status, r.body], [200, { value: ADA_JSON }]);
    // The POJO's keys in serialization order, as the text of the answer shows.
    const raw = await (await p.handler(new Request(valueUrl("orders", q)))).text();
    assertEquals(
      raw,
      '{"value":{"amount":99.5,"customer":{"age":42,"name":"Ada"},"orderId":"1001",' +
        '"tags":["new","priority"]}}',
    );
    // A long in the key may also be a decimal string; a null POJO field is null.
    const g = await read(
      await p.handler(
        new Request(valueUrl(
          "orders",
          query({ key: '["globex","7"]', keyType: ORDER_KEY_TYPE, valueType: ORDER_TYPE }),
        )),
      ),
    );
    assertEquals([g.status, g.body.value.customer, g.body.value.tags], [200, null, []]);
  } finally {
    await p.close();
  }
});

Deno.test("gateway: an absent tuple key is 404", async () => {
  const p = await plane();
  try {
    const r = await read(
      await p.handler(
        new Request(valueUrl(
          "orders",
          query({ key: '["acme",1]', keyType: ORDER_KEY_TYPE, valueType: ORDER_TYPE }),
        )),
      ),
    );
    assertEquals([r.status, r.body.error.type], [404, "UnknownKeyOrNamespaceError"]);
  } finally {
    await p.close();
  }
});

Deno.test("gateway: bad type text is 400 naming the parameter and the position", async () => {
  const p = await plane();
  try {
    for (
      const [params, parameter] of [
        [{ key: '["acme",1001]', keyType: "tuple<string,lon>", valueType: ORDER_TYPE }, "keyType"],
        [{ key: '["acme",1001]', keyType: ORDER_KEY_TYPE, valueType: "pojo<id:long" }, "valueType"],
      ] as const
    ) {
      const r = await read(await p.handler(new Request(valueUrl("orders", query(params)))));
      assertEquals([r.status, r.body.error.type, r.body.error.parameter], [
        400,
        "BadParameterError",
        parameter,
      ]);
      assert(/position|column|at \d+|offset/i.test(r.body.error.message), r.body.error.message);
    }
  } finally {
    await p.close();
  }
});

Deno.test("gateway: a bad key is 400 naming the path inside it (value route and batch)", async () => {
  const p = await plane();
  try {
    const cases: Array<[string, string]> = [
      ['["acme","x"]', "key[1]"],
      ['["acme"]', "key"],
      ["[acme,1]", "key"],
    ];
    for (const [key, parameter] of cases) {
      const r = await read(
        await p.handler(
          new Request(
            valueUrl("orders", query({ key, keyType: ORDER_KEY_TYPE, valueType: "long" })),
          ),
        ),
      );
      assertEquals([r.status, r.body.error.parameter], [400, parameter], key);
    }
    const b = await read(
      await p.handler(batchRequest({
        queries: [
          {
            jobId: "0102030405060708a1a2a3a4a5a6a7a8",
            stateName: "orders",
            key: ["acme", 1001],
            keyType: ORDER_KEY_TYPE,
            valueType: ORDER_TYPE,
          },
          {
            jobId: "0102030405060708a1a2a3a4a5a6a7a8",
            stateName: "orders",
            key: ["acme", { n: 1 }],
            keyType: ORDER_KEY_TYPE,
            valueType: ORDER_TYPE,
          },
        ],
      })),
    );
    assertEquals(b.status, 200);
    assertEquals(b.body.results[0], { value: ADA_JSON });
    assertEquals(
      [b.body.results[1].error.status, b.body.results[1].error.parameter],
      [400, "queries[1].key[1]"],
    );
  } finally {
    await p.close();
  }
});

Deno.test("gateway: a POJO key needs keyHash (400 naming it when missing, an int32)", async () => {
  const p = await plane();
  try {
    const base = { key: '{"id":1,"region":"eu"}', keyType: "pojo<id:long,region:string>" };
    const missing = await read(
      await p.handler(new Request(valueUrl("by-pojo", query({ ...base, valueType: "long" })))),
    );
    assertEquals([missing.status, missing.body.error.parameter], [400, "keyHash"]);
    assert(missing.body.error.message.includes("hashCode"), missing.body.error.message);
    const bad = await read(
      await p.handler(
        new Request(
          valueUrl("by-pojo", query({ ...base, valueType: "long", keyHash: "2147483648" })),
        ),
      ),
    );
    assertEquals([bad.status, bad.body.error.parameter], [400, "keyHash"]);
    const ok = await read(
      await p.handler(
        new Request(valueUrl("by-pojo", query({ ...base, valueType: "long", keyHash: "-17" }))),
      ),
    );
    assertEquals([ok.status, ok.body], [200, { value: "10" }]);
    // A missing POJO field in the key names it.
    const field = await read(
      await p.handler(
        new Request(valueUrl(
          "by-pojo",
          query({ ...base, key: '{"id":1}', valueType: "long", keyHash: "1" }),
        )),
      ),
    );
    assertEquals([field.status, field.body.error.parameter], [400, "key.region"]);
  } finally {
    await p.close();
  }
});

Deno.test("gateway: the watch route takes the type text and sends the JSON form", async () => {
  const p = await plane();
  try {
    const url = valueUrl(
      "orders",
      query({
        key: '["acme",1001]',
        keyType: ORDER_KEY_TYPE,
        valueType: ORDER_TYPE,
        intervalMs: "1000",
      }),
    ).replace("/states/orders?", "/states/orders/watch?");
    const res = await p.handler(new Request(url));
    assertEquals(res.status, 200);
    const reader = res.body!.getReader();
    let text = "";
    const decoder = new TextDecoder();
    const event = /event: value\ndata: (.*)\n\n/;
    for (let i = 0; i < 20 && !event.test(text); i++) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    const m = event.exec(text);
    assert(m !== null, text);
    assertEquals(JSON.parse(m[1]), { value: ADA_JSON });
  } finally {
    await p.close();
  }
});
