/**
 * The gateway's routes and JSON encoding over an in-process state plane
 * (MemoryTransport): the handler is called directly.
 */

import { assert, assertEquals } from "../_assert.ts";
import { BASE, batchRequest, JOB, read, startPlane, valueUrl } from "./_plane.ts";

const JSON_TYPE = "application/json; charset=utf-8";

async function get(url: string, init?: RequestInit) {
  const plane = await startPlane();
  try {
    return await read(await plane.handler(new Request(url, init)));
  } finally {
    await plane.close();
  }
}

Deno.test("GET value: a long is an exact decimal string", async () => {
  const plane = await startPlane();
  try {
    for (
      const [key, want] of [["hello", "42"], ["big", "9007199254740993"], [
        "min",
        "-9223372036854775808",
      ]]
    ) {
      const r = await read(
        await plane.handler(
          new Request(valueUrl("counts", `key=${key}&keyType=string&valueType=long`)),
        ),
      );
      assertEquals(r.status, 200);
      assertEquals(r.type, JSON_TYPE);
      assertEquals(r.body, { value: want });
    }
  } finally {
    await plane.close();
  }
});

Deno.test("GET value: doubles as numbers, NaN and the infinities as strings; float", async () => {
  const plane = await startPlane();
  try {
    const want: Record<string, unknown> = {
      nan: "NaN",
      inf: "Infinity",
      neg: "-Infinity",
      pi: 3.25,
    };
    for (const [key, value] of Object.entries(want)) {
      const r = await read(
        await plane.handler(
          new Request(valueUrl("doubles", `key=${key}&keyType=string&valueType=double`)),
        ),
      );
      assertEquals(r.body, { value }, key);
    }
    const f = await read(
      await plane.handler(new Request(valueUrl("floats", "key=1&keyType=int&valueType=float"))),
    );
    assertEquals(f.body, { value: 0.5 });
  } finally {
    await plane.close();
  }
});

Deno.test("GET value: bytes as base64 (long key), Java null as null, boolean, char key, bytes key, double key", async () => {
  const plane = await startPlane();
  try {
    const cases: Array<[string, string, unknown]> = [
      ["blobs", "key=7&keyType=long&valueType=bytes", "AAEC/w=="],
      ["names", "key=1&keyType=int&valueType=string", "one"],
      ["names", "key=2&keyType=int&valueType=string", null],
      ["flags", "key=true&keyType=boolean&valueType=boolean", false],
      ["chars", "key=x&keyType=char&valueType=short", -300],
      ["bytekeys", "key=AQL%2F&keyType=bytes&valueType=byte", -5],
      ["bytekeys", "key=AQL_&keyType=bytes&valueType=byte", -5],
      ["doublekeys", "key=NaN&keyType=double&valueType=int", 1],
      ["doublekeys", "key=1.5&keyType=double&valueType=int", 2],
    ];
    for (const [state, query, value] of cases) {
      const r = await read(await plane.handler(new Request(valueUrl(state, query))));
      assertEquals(r.status, 200, `${state}?${query}: ${JSON.stringify(r.body)}`);
      assertEquals(r.body, { value }, `${state}?${query}`);
    }
  } finally {
    await plane.close();
  }
});

Deno.test("GET value: list state is an array, map state an array of [key, value] pairs", async () => {
  const plane = await startPlane();
  try {
    const l = await read(
      await plane.handler(
        new Request(valueUrl("lists", "key=a&keyType=string&valueType=long&stateKind=list")),
      ),
    );
    assertEquals(l.body, { value: ["1", "2", "9007199254740993"] });
    const m = await read(
      await plane.handler(
        new Request(
          valueUrl("maps", "key=m&keyType=string&valueType=double&stateKind=map&mapKeyType=string"),
        ),
      ),
    );
    assertEquals(m.body, { value: [["x", 1.5], ["y", null], ["z", "NaN"]] });
  } finally {
    await plane.close();
  }
});

Deno.test("GET value: a percent-encoded state name and key reach the state", async () => {
  const r = await get(
    valueUrl("counts", "key=hel%6Co&keyType=string&valueType=long").replace("counts", "c%6Funts"),
  );
  assertEquals(r.body, { value: "42" });
});

Deno.test("POST /v1/query: results in order, values and errors mixed, JSON keys", async () => {
  const plane = await startPlane();
  try {
    const q = (stateName: string, key: unknown, extra: Record<string, unknown>) => ({
      jobId: JOB,
      stateName,
      key,
      ...extra,
    });
    const queries = [
      q("counts", "big", { keyType: "string", valueType: "long" }),
      q("blobs", "9007199254740993", { keyType: "long", valueType: "bytes" }), // absent: 404 inside
      q("blobs", 7, { keyType: "long", valueType: "bytes" }),
      q("lists", "a", { keyType: "string", valueType: "long", stateKind: "list" }),
      q("maps", "m", {
        keyType: "string",
        valueType: "double",
        stateKind: "map",
        mapKeyType: "string",
      }),
      q("counts", "hello", { keyType: "Integer", valueType: "long" }),
      q("doublekeys", "NaN", { keyType: "double", valueType: "int" }),
      q("doublekeys", 1.5, { keyType: "double", valueType: "int" }),
      q("bytekeys", "AQL/", { keyType: "bytes", valueType: "byte" }),
      q("flags", true, { keyType: "boolean", valueType: "boolean" }),
    ];
    const r = await read(await plane.handler(batchRequest({ queries })));
    assertEquals(r.status, 200);
    assertEquals(r.type, JSON_TYPE);
    const results = r.body.results;
    assertEquals(results.length, queries.length);
    assertEquals(results[0], { value: "9007199254740993" });
    assertEquals(results[1].error.type, "UnknownKeyOrNamespaceError");
    assertEquals(results[1].error.status, 404);
    assertEquals(results[2], { value: "AAEC/w==" });
    assertEquals(results[3], { value: ["1", "2", "9007199254740993"] });
    assertEquals(results[4], { value: [["x", 1.5], ["y", null], ["z", "NaN"]] });
    assertEquals(results[5].error.type, "BadParameterError");
    assertEquals(results[5].error.parameter, "queries[5].keyType");
    assertEquals(results[5].error.status, 400);
    assertEquals(results[6], { value: 1 });
    assertEquals(results[7], { value: 2 });
    assertEquals(results[8], { value: -5 });
    assertEquals(results[9], { value: false });
  } finally {
    await plane.close();
  }
});

Deno.test("POST /v1/query: the queries run concurrently", async () => {
  const plane = await startPlane();
  try {
    const slow = { jobId: JOB, stateName: "slow", key: "k", keyType: "string", valueType: "long" };
    const pending = plane.handler(batchRequest({ queries: [slow, slow, slow] }));
    for (let i = 0; i < 200 && plane.slowHeld < 3; i++) await new Promise((r) => setTimeout(r, 5));
    assertEquals(plane.slowHeld, 3, "all three reached the state before any was answered");
    plane.releaseSlow();
    const r = await read(await pending);
    assertEquals(r.body, { results: [{ value: "1" }, { value: "1" }, { value: "1" }] });
  } finally {
    await plane.close();
  }
});

Deno.test("GET /healthz is 200; /readyz follows the ready callback (default ready)", async () => {
  assertEquals(await get(`${BASE}/healthz`), {
    status: 200,
    type: JSON_TYPE,
    body: { status: "ok" },
  });
  assertEquals((await get(`${BASE}/readyz`)).status, 200);
  for (
    const [ready, status] of [[() => true, 200], [() => false, 503], [
      () => Promise.resolve(false),
      503,
    ], [() => {
      throw new Error("probe failed");
    }, 503]] as const
  ) {
    const plane = await startPlane({ ready });
    try {
      const r = await read(await plane.handler(new Request(`${BASE}/readyz`)));
      assertEquals(r.status, status);
    } finally {
      await plane.close();
    }
  }
});

Deno.test("GET /openapi.json is an OpenAPI 3.1 document of the routes", async () => {
  const r = await get(`${BASE}/openapi.json`);
  assertEquals(r.status, 200);
  assertEquals(r.type, JSON_TYPE);
  assertEquals(r.body.openapi, "3.1.0");
  assertEquals(Object.keys(r.body.paths).sort(), [
    "/",
    "/healthz",
    "/openapi.json",
    "/readyz",
    "/v1/jobs/{jobId}/states/{stateName}",
    "/v1/jobs/{jobId}/states/{stateName}/watch",
    "/v1/query",
  ]);
  const params = r.body.paths["/v1/jobs/{jobId}/states/{stateName}"].get.parameters.map((
    p: { name?: string; $ref?: string },
  ) => p.name ?? p.$ref?.replace("#/components/parameters/", ""));
  assertEquals(params, [
    "jobId",
    "stateName",
    "key",
    "keyType",
    "valueType",
    "stateKind",
    "mapKeyType",
    "keyHash",
  ]);
  assert(r.body.components.schemas.ErrorBody !== undefined);
});

Deno.test("extra routes are matched after the built-in ones", async () => {
  const plane = await startPlane({
    routes: [{
      method: "GET",
      path: "/hello/{name}",
      handle: ({ params }) => new Response(`hi ${params.name}`),
    }],
  });
  try {
    const res = await plane.handler(new Request(`${BASE}/hello/b%C3%A9`));
    assertEquals(res.status, 200);
    assertEquals(await res.text(), "hi bé");
  } finally {
    await plane.close();
  }
});
