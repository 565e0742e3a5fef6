/**
 * The gateway behind `Deno.serve` on a real socket (127.0.0.1, port 0), in
 * front of a state plane on real sockets too (denoTransport): `fetch`
 * reaches every kind of answer.
 */

import { denoTransport } from "../../src/transport/deno.ts";
import { assertEquals } from "../_assert.ts";
import { JOB, startPlane } from "./_plane.ts";

Deno.test("Deno.serve: value, batch, errors, probes, token and CORS over HTTP", async () => {
  const plane = await startPlane(
    { bearerToken: "t0k", corsOrigin: "*", deadlineMs: 100 },
    denoTransport,
  );
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    plane.handler,
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const auth = { authorization: "Bearer t0k" };
    const value = await fetch(
      `${base}/v1/jobs/${JOB}/states/counts?key=big&keyType=string&valueType=long`,
      { headers: auth },
    );
    assertEquals(value.status, 200);
    assertEquals(value.headers.get("content-type"), "application/json; charset=utf-8");
    assertEquals(value.headers.get("access-control-allow-origin"), "*");
    assertEquals(await value.text(), '{"value":"9007199254740993"}');

    const batch = await fetch(`${base}/v1/query`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({
        queries: [
          {
            jobId: JOB,
            stateName: "maps",
            key: "m",
            keyType: "string",
            valueType: "double",
            stateKind: "map",
            mapKeyType: "string",
          },
          { jobId: JOB, stateName: "counts", key: "nope", keyType: "string", valueType: "long" },
        ],
      }),
    });
    const results = (await batch.json()).results;
    assertEquals(results[0], { value: [["x", 1.5], ["y", null], ["z", "NaN"]] });
    assertEquals([results[1].error.status, results[1].error.type], [
      404,
      "UnknownKeyOrNamespaceError",
    ]);

    const missing = await fetch(
      `${base}/v1/jobs/${JOB}/states/counts?key=nope&keyType=string&valueType=long`,
      { headers: auth },
    );
    assertEquals(missing.status, 404);
    assertEquals(
      (await missing.json()).error.javaClass,
      "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
    );

    const late = await fetch(
      `${base}/v1/jobs/${JOB}/states/slow?key=k&keyType=string&valueType=long`,
      { headers: auth },
    );
    assertEquals([late.status, (await late.json()).error.type], [504, "DeadlineExceededError"]);
    plane.releaseSlow();

    const bad = await fetch(
      `${base}/v1/jobs/${JOB}/states/counts?key=a&keyType=nope&valueType=long`,
      { headers: auth },
    );
    assertEquals([bad.status, (await bad.json()).error.parameter], [400, "keyType"]);

    const noToken = await fetch(`${base}/openapi.json`);
    assertEquals(noToken.status, 401);
    await noToken.body?.cancel();

    const pre = await fetch(`${base}/v1/query`, {
      method: "OPTIONS",
      headers: { origin: "http://page.test", "access-control-request-method": "POST" },
    });
    assertEquals(pre.status, 204);
    assertEquals(pre.headers.get("access-control-allow-methods"), "POST, OPTIONS");
    await pre.body?.cancel();

    for (const probe of ["/healthz", "/readyz"]) {
      const r = await fetch(base + probe);
      assertEquals(r.status, 200, probe);
      await r.body?.cancel();
    }
    const route = await fetch(`${base}/nowhere`, { headers: auth });
    assertEquals(route.status, 404);
    await route.body?.cancel();
  } finally {
    ac.abort();
    await server.finished;
    await plane.close();
  }
});
