/**
 * The gateway's error statuses and bounds: unknown key/state/job (404), bad
 * parameters (400, named), unknown route (404), wrong method (405), body
 * and batch over their bounds (413), deadline (504), concurrency bound
 * (503), other upstream failures (502), the bearer token (401), CORS.
 */

import {
  ConnectError,
  DeadlineExceededError,
  errorFromJavaThrowable,
  FlinkJobNotFoundError,
  javaThrowable,
  RemoteError,
  RequestQueueFullError,
  UnknownKvStateIdError,
  UnknownKvStateLocationError,
  UnknownLocationError,
} from "../../src/wire/mod.ts";
import { createQueryHandler, type StateQueryClient } from "../../src/http/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { BASE, batchRequest, JOB, read, startPlane, valueUrl } from "./_plane.ts";

const VALUE = "key=hello&keyType=string&valueType=long";

/** A client whose every query rejects with `err`. */
function failing(err: unknown): StateQueryClient {
  return { getKvState: () => Promise.reject(err) };
}

async function answerOf(err: unknown, maxErrorTextLength?: number) {
  const handler = createQueryHandler({ client: failing(err), maxErrorTextLength });
  return await read(await handler(new Request(valueUrl("counts", VALUE))));
}

Deno.test("unknown key: 404 UnknownKeyOrNamespaceError with its Java class and message", async () => {
  const plane = await startPlane();
  try {
    const r = await read(
      await plane.handler(
        new Request(valueUrl("counts", "key=absent&keyType=string&valueType=long")),
      ),
    );
    assertEquals(r.status, 404);
    assertEquals(r.type, "application/json; charset=utf-8");
    assertEquals(r.body, {
      error: {
        type: "UnknownKeyOrNamespaceError",
        javaClass: "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
        message: "Queryable State Server : No state for the specified key/namespace.",
      },
    });
  } finally {
    await plane.close();
  }
});

Deno.test("unknown state or job through our proxy: 404 with the typed cause read out of the proxy's RuntimeException", async () => {
  // The proxy wraps UnknownKvStateLocation / UnknownLocationException in
  // `RuntimeException: Failed request N.` with the cause only in its text;
  // the client surfaces that cause as its typed error (the RuntimeException
  // kept as its cause), which the gateway answers with 404.
  const plane = await startPlane();
  try {
    const cases: Array<[string, string, string, string]> = [
      [
        valueUrl("no-such-state", VALUE),
        "UnknownKvStateLocationError",
        "org.apache.flink.runtime.query.UnknownKvStateLocation",
        "No KvStateLocation found for KvState instance with name 'no-such-state'.",
      ],
      [
        valueUrl("counts", VALUE, "ff".repeat(16)),
        "UnknownLocationError",
        "org.apache.flink.queryablestate.exceptions.UnknownLocationException",
        `Could not retrieve location of state=counts of job=${"ff".repeat(16)}. ` +
        "Potential reasons are: i) the state is not ready, or ii) the job does not exist.",
      ],
    ];
    for (const [url, type, javaClass, message] of cases) {
      const r = await read(await plane.handler(new Request(url)));
      assertEquals(r.status, 404, url);
      assertEquals(r.body, { error: { type, javaClass, message } }, url);
    }
    // The batch route answers the same errors in place.
    const batch = await read(
      await plane.handler(batchRequest({
        queries: [
          {
            jobId: JOB,
            stateName: "no-such-state",
            key: "hello",
            keyType: "string",
            valueType: "long",
          },
          { jobId: JOB, stateName: "counts", key: "hello", keyType: "string", valueType: "long" },
        ],
      })),
    );
    assertEquals(batch.status, 200);
    assertEquals(batch.body.results[0].error.type, "UnknownKvStateLocationError");
    assertEquals(batch.body.results[1], { value: "42" });
  } finally {
    await plane.close();
  }
});

Deno.test("typed unknown state, job or state id: 404, also as a cause of a remote error", async () => {
  const cases: Array<[unknown, string, string]> = [
    [
      UnknownKvStateLocationError.forName("x"),
      "UnknownKvStateLocationError",
      "org.apache.flink.runtime.query.UnknownKvStateLocation",
    ],
    [
      UnknownLocationError.forState("x", JOB),
      "UnknownLocationError",
      "org.apache.flink.queryablestate.exceptions.UnknownLocationException",
    ],
    [
      FlinkJobNotFoundError.forJob(JOB),
      "FlinkJobNotFoundError",
      "org.apache.flink.runtime.messages.FlinkJobNotFoundException",
    ],
    [
      new UnknownKvStateIdError("gone"),
      "UnknownKvStateIdError",
      "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException",
    ],
    [
      // A known Java cause: surfaced by the client.
      errorFromJavaThrowable(
        javaThrowable(
          "java.lang.RuntimeException",
          "Failed request 1.",
          javaThrowable(
            "org.apache.flink.runtime.query.UnknownKvStateLocation",
            "No KvStateLocation found",
          ),
        ),
      ),
      "UnknownKvStateLocationError",
      "org.apache.flink.runtime.query.UnknownKvStateLocation",
    ],
    [
      // A RemoteError built as is: the gateway finds the cause itself.
      new RemoteError(
        javaThrowable(
          "java.lang.RuntimeException",
          "Failed request 1.",
          javaThrowable(
            "org.apache.flink.runtime.query.UnknownKvStateLocation",
            "No KvStateLocation found",
          ),
        ),
      ),
      "RemoteError",
      "org.apache.flink.runtime.query.UnknownKvStateLocation",
    ],
  ];
  for (const [err, type, javaClass] of cases) {
    const r = await answerOf(err);
    assertEquals(r.status, 404, type);
    assertEquals(r.body.error.type, type);
    assertEquals(r.body.error.javaClass, javaClass);
  }
});

Deno.test("upstream failures: 502 (remote, connect), 503 (queue full), 504 (deadline), 500 (a bug, message hidden)", async () => {
  const cases: Array<[unknown, number, string]> = [
    [
      errorFromJavaThrowable(javaThrowable("java.lang.IllegalStateException", "boom")),
      502,
      "RemoteError",
    ],
    [new ConnectError("Connection refused: 127.0.0.1:1"), 502, "ConnectError"],
    [new RequestQueueFullError("full"), 503, "RequestQueueFullError"],
    [new DeadlineExceededError("late"), 504, "DeadlineExceededError"],
  ];
  for (const [err, status, type] of cases) {
    const r = await answerOf(err);
    assertEquals([r.status, r.body.error.type], [status, type]);
  }
  const bug = await answerOf(new TypeError("secret internals"));
  assertEquals(bug.status, 500);
  assertEquals(bug.body, {
    error: { type: "InternalError", javaClass: null, message: "Internal error" },
  });
});

Deno.test("remote error text is cut to maxErrorTextLength (default 1,024)", async () => {
  const huge = errorFromJavaThrowable(
    javaThrowable("java.lang.RuntimeException", "x".repeat(100_000)),
  );
  const byDefault = await answerOf(huge);
  assertEquals(byDefault.body.error.message.length, 1024);
  assert(byDefault.body.error.message.endsWith("…"));
  const small = await answerOf(huge, 10);
  assertEquals(small.body.error.message, "xxxxxxxxx…");
});

Deno.test("bad parameters: 400 BadParameterError naming the parameter", async () => {
  const plane = await startPlane();
  try {
    const cases: Array<[string, string, string]> = [
      ["counts", "keyType=string&valueType=long", "key"],
      ["counts", "key=a&valueType=long", "keyType"],
      ["counts", "key=a&keyType=Integer&valueType=long", "keyType"],
      ["counts", "key=a&keyType=string", "valueType"],
      ["counts", "key=a&keyType=string&valueType=long&stateKind=tree", "stateKind"],
      ["counts", "key=a&keyType=string&valueType=long&stateKind=map", "mapKeyType"],
      ["counts", "key=a&keyType=string&valueType=long&mapKeyType=string", "mapKeyType"],
      ["blobs", "key=12x&keyType=long&valueType=bytes", "key"],
      ["blobs", "key=9223372036854775808&keyType=long&valueType=bytes", "key"],
      ["blobs", "key=1.5&keyType=int&valueType=bytes", "key"],
      ["blobs", "key=2147483648&keyType=int&valueType=bytes", "key"],
      ["blobs", "key=128&keyType=byte&valueType=bytes", "key"],
      ["blobs", "key=xy&keyType=char&valueType=bytes", "key"],
      ["blobs", "key=yes&keyType=boolean&valueType=bytes", "key"],
      ["blobs", "key=%21%21&keyType=bytes&valueType=bytes", "key"],
      ["blobs", "key=abc&keyType=double&valueType=bytes", "key"],
    ];
    for (const [state, query, parameter] of cases) {
      const r = await read(await plane.handler(new Request(valueUrl(state, query))));
      assertEquals(r.status, 400, query);
      assertEquals(r.body.error.type, "BadParameterError", query);
      assertEquals(r.body.error.parameter, parameter, query);
      assert(r.body.error.message.startsWith(`Bad parameter ${parameter}: `), r.body.error.message);
    }
    const badJob = await read(
      await plane.handler(new Request(valueUrl("counts", VALUE, "nothex"))),
    );
    assertEquals([badJob.status, badJob.body.error.parameter], [400, "jobId"]);
    const badPath = await read(
      await plane.handler(new Request(`${BASE}/v1/jobs/${JOB}/states/%E0%A4%A?${VALUE}`)),
    );
    assertEquals([badPath.status, badPath.body.error.parameter], [400, "path"]);
    const notJson = await read(await plane.handler(batchRequest("{not json")));
    assertEquals([notJson.status, notJson.body.error.parameter], [400, "body"]);
    const noQueries = await read(await plane.handler(batchRequest({ query: [] })));
    assertEquals([noQueries.status, noQueries.body.error.parameter], [400, "queries"]);
    const badItems = await read(
      await plane.handler(batchRequest({
        queries: [7, {
          jobId: JOB,
          stateName: "counts",
          key: 1.5,
          keyType: "long",
          valueType: "long",
        }, {
          jobId: JOB,
          stateName: "counts",
          key: 2 ** 53,
          keyType: "long",
          valueType: "long",
        }],
      })),
    );
    assertEquals(badItems.status, 200);
    assertEquals(
      badItems.body.results.map((
        x: { error: { parameter: string; status: number } },
      ) => [x.error.parameter, x.error.status]),
      [
        ["queries[0]", 400],
        ["queries[1].key", 400],
        ["queries[2].key", 400],
      ],
    );
  } finally {
    await plane.close();
  }
});

Deno.test("unknown route: 404 RouteNotFoundError; wrong method: 405 with allow", async () => {
  const plane = await startPlane();
  try {
    const none = await read(await plane.handler(new Request(`${BASE}/v2/nothing`)));
    assertEquals(none.status, 404);
    assertEquals(none.body.error.type, "RouteNotFoundError");
    const res = await plane.handler(new Request(`${BASE}/v1/query`));
    assertEquals(res.status, 405);
    assertEquals(res.headers.get("allow"), "POST");
    assertEquals((await res.json()).error.type, "MethodNotAllowedError");
    const del = await plane.handler(new Request(valueUrl("counts", VALUE), { method: "DELETE" }));
    assertEquals([del.status, del.headers.get("allow")], [405, "GET"]);
    await del.body?.cancel();
    const opt = await plane.handler(new Request(`${BASE}/healthz`, { method: "OPTIONS" }));
    assertEquals(opt.status, 405, "OPTIONS without CORS");
    await opt.body?.cancel();
  } finally {
    await plane.close();
  }
});

Deno.test("body over maxBodyBytes: 413 BodyTooLargeError (declared length or streamed); batch over maxBatchSize: 413 BatchTooLargeError", async () => {
  const plane = await startPlane({ maxBodyBytes: 64, maxBatchSize: 2 });
  try {
    const big = await read(
      await plane.handler(batchRequest({ queries: [], pad: "x".repeat(100) })),
    );
    assertEquals([big.status, big.body.error.type], [413, "BodyTooLargeError"]);
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        if (pulled > 100) c.close();
        else c.enqueue(new Uint8Array(16).fill(32));
      },
    });
    const streamed = await read(
      await plane.handler(new Request(`${BASE}/v1/query`, { method: "POST", body: stream })),
    );
    assertEquals([streamed.status, streamed.body.error.type], [413, "BodyTooLargeError"]);
    assert(pulled <= 6, `stopped reading soon after the bound (${pulled} chunks)`);
    let read0 = false;
    const unread = new ReadableStream<Uint8Array>({
      pull(c) {
        read0 = true;
        c.close();
      },
    }, { highWaterMark: 0 });
    const declared = await read(
      await plane.handler(
        new Request(`${BASE}/v1/query`, {
          method: "POST",
          body: unread,
          headers: { "content-length": "1000000" },
        }),
      ),
    );
    assertEquals([declared.status, declared.body.error.type], [413, "BodyTooLargeError"]);
    assertEquals(read0, false, "a declared length over the bound is refused before reading");
  } finally {
    await plane.close();
  }
  const plane2 = await startPlane({ maxBatchSize: 2 });
  try {
    const q = {
      jobId: JOB,
      stateName: "counts",
      key: "hello",
      keyType: "string",
      valueType: "long",
    };
    const ok = await read(await plane2.handler(batchRequest({ queries: [q, q] })));
    assertEquals(ok.body, { results: [{ value: "42" }, { value: "42" }] });
    const over = await read(await plane2.handler(batchRequest({ queries: [q, q, q] })));
    assertEquals([over.status, over.body.error.type], [413, "BatchTooLargeError"]);
  } finally {
    await plane2.close();
  }
});

Deno.test("deadline: 504 DeadlineExceededError after deadlineMs, for a value and inside a batch", async () => {
  const plane = await startPlane({ deadlineMs: 50 });
  try {
    const r = await read(
      await plane.handler(new Request(valueUrl("slow", "key=k&keyType=string&valueType=long"))),
    );
    assertEquals([r.status, r.body.error.type], [504, "DeadlineExceededError"]);
    const slow = { jobId: JOB, stateName: "slow", key: "k", keyType: "string", valueType: "long" };
    const fast = {
      jobId: JOB,
      stateName: "counts",
      key: "hello",
      keyType: "string",
      valueType: "long",
    };
    const b = await read(await plane.handler(batchRequest({ queries: [fast, slow] })));
    assertEquals(b.body.results[0], { value: "42" });
    assertEquals([b.body.results[1].error.status, b.body.results[1].error.type], [
      504,
      "DeadlineExceededError",
    ]);
  } finally {
    await plane.close();
  }
});

Deno.test("the request's own signal abandons its query", async () => {
  const plane = await startPlane();
  try {
    const ac = new AbortController();
    const pending = plane.handler(
      new Request(valueUrl("slow", "key=k&keyType=string&valueType=long"), { signal: ac.signal }),
    );
    for (let i = 0; i < 200 && plane.slowHeld < 1; i++) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    const r = await read(await pending);
    assertEquals([r.status, r.body.error.type], [504, "DeadlineExceededError"]);
  } finally {
    await plane.close();
  }
});

Deno.test("maxConcurrentQueries: a query over the bound gets 503 RequestQueueFullError at once", async () => {
  const plane = await startPlane({ maxConcurrentQueries: 1 });
  try {
    const first = plane.handler(
      new Request(valueUrl("slow", "key=k&keyType=string&valueType=long")),
    );
    for (let i = 0; i < 200 && plane.slowHeld < 1; i++) await new Promise((r) => setTimeout(r, 5));
    const refused = await read(await plane.handler(new Request(valueUrl("counts", VALUE))));
    assertEquals([refused.status, refused.body.error.type], [503, "RequestQueueFullError"]);
    const q = {
      jobId: JOB,
      stateName: "counts",
      key: "hello",
      keyType: "string",
      valueType: "long",
    };
    const batch = await read(await plane.handler(batchRequest({ queries: [q] })));
    assertEquals([batch.status, batch.body.results[0].error.status], [200, 503]);
    plane.releaseSlow();
    assertEquals((await read(await first)).body, { value: "1" });
    const after = await read(await plane.handler(new Request(valueUrl("counts", VALUE))));
    assertEquals(after.body, { value: "42" }, "the slot is free again");
  } finally {
    await plane.close();
  }
});

Deno.test("bearer token: 401 without or with a wrong one, 200 with it; probes stay open", async () => {
  const plane = await startPlane({ bearerToken: "s3cret" });
  try {
    const none = await plane.handler(new Request(valueUrl("counts", VALUE)));
    assertEquals(none.status, 401);
    assertEquals(none.headers.get("www-authenticate"), "Bearer");
    assertEquals((await none.json()).error.type, "UnauthorizedError");
    for (const auth of ["Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret"]) {
      const r = await plane.handler(
        new Request(valueUrl("counts", VALUE), { headers: { authorization: auth } }),
      );
      assertEquals(r.status, 401, auth);
      await r.body?.cancel();
    }
    const ok = await read(
      await plane.handler(
        new Request(valueUrl("counts", VALUE), { headers: { authorization: "Bearer s3cret" } }),
      ),
    );
    assertEquals(ok.body, { value: "42" });
    const batch = await plane.handler(batchRequest({ queries: [] }));
    assertEquals(batch.status, 401);
    await batch.body?.cancel();
    const openapi = await plane.handler(new Request(`${BASE}/openapi.json`));
    assertEquals(openapi.status, 401);
    await openapi.body?.cancel();
    for (const probe of ["/healthz", "/readyz"]) {
      const r = await plane.handler(new Request(BASE + probe));
      assertEquals(r.status, 200, probe);
      await r.body?.cancel();
    }
  } finally {
    await plane.close();
  }
});

Deno.test("CORS: no headers unless corsOrigin; then on every answer, and OPTIONS preflight 204", async () => {
  const off = await startPlane();
  try {
    const r = await off.handler(
      new Request(valueUrl("counts", VALUE), { headers: { origin: "https://a.example" } }),
    );
    assertEquals(r.headers.get("access-control-allow-origin"), null);
    await r.body?.cancel();
  } finally {
    await off.close();
  }
  const any = await startPlane({ corsOrigin: "*", bearerToken: "t" });
  try {
    const pre = await any.handler(
      new Request(`${BASE}/v1/query`, {
        method: "OPTIONS",
        headers: { origin: "https://a.example" },
      }),
    );
    assertEquals(pre.status, 204, "preflight needs no token");
    assertEquals(pre.headers.get("access-control-allow-origin"), "*");
    assertEquals(pre.headers.get("access-control-allow-methods"), "POST, OPTIONS");
    assertEquals(pre.headers.get("access-control-allow-headers"), "authorization, content-type");
    const err = await any.handler(new Request(valueUrl("counts", VALUE)));
    assertEquals([err.status, err.headers.get("access-control-allow-origin")], [401, "*"]);
    await err.body?.cancel();
    const missing = await any.handler(new Request(`${BASE}/nope`, { method: "OPTIONS" }));
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await any.close();
  }
  const listed = await startPlane({ corsOrigin: ["https://a.example", "https://b.example"] });
  try {
    const yes = await listed.handler(
      new Request(valueUrl("counts", VALUE), { headers: { origin: "https://b.example" } }),
    );
    assertEquals(yes.headers.get("access-control-allow-origin"), "https://b.example");
    assertEquals(yes.headers.get("vary"), "origin");
    assertEquals((await yes.json()).value, "42");
    const no = await listed.handler(
      new Request(valueUrl("counts", VALUE), { headers: { origin: "https://evil.example" } }),
    );
    assertEquals(no.headers.get("access-control-allow-origin"), null);
    await no.body?.cancel();
  } finally {
    await listed.close();
  }
});

Deno.test("createQueryHandler refuses a bound that is not a positive integer", () => {
  for (const bad of [0, -1, 1.5, NaN]) {
    let thrown: unknown;
    try {
      createQueryHandler({ client: failing(null), maxBatchSize: bad });
    } catch (e) {
      thrown = e;
    }
    assert(thrown instanceof RangeError, String(bad));
  }
});
