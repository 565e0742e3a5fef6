/**
 * `GET /openapi.json` against the handler that serves it: the document is
 * OpenAPI 3.1 in shape (a structural check written here: operations with
 * responses, parameters of path templates, unique operation ids, security
 * names, every `$ref` resolves); every route the handler answers is in the
 * document and every documented route is answered, with the documented
 * methods (a method no route takes answers 405 with `allow`: the path's
 * methods); real answers (values, probes, batch results, watch events,
 * errors with each status) have a documented status, media type and body
 * shape (checked with the document's own schemas). The handler's routes
 * are enumerated by requests: every route path written in `src/http/`
 * (but openapi.ts) and the extra routes given, each probed with a method
 * no route takes (405 and its `allow`, or 404).
 */

import {
  DeadlineExceededError,
  errorFromJavaThrowable,
  javaThrowable,
  RequestQueueFullError,
} from "../../src/wire/mod.ts";
import {
  createQueryHandler,
  metricsRoute,
  openApiDocument,
  type QueryHandler,
  type Route,
  type StateQueryClient,
} from "../../src/http/mod.ts";
import { MetricsRegistry } from "../../src/observability/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { BASE, batchRequest, JOB, startPlane } from "./_plane.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const TOKEN = "s3cret";

// ---------------------------------------------------------------------------
// A structural check of an OpenAPI 3.1 document.

/** The value a `$ref` (a local JSON pointer) points at, or `undefined`. */
function resolvePointer(doc: Json, ref: string): Json {
  if (!ref.startsWith("#/")) return undefined;
  let at = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (at === null || typeof at !== "object" || !(key in at)) return undefined;
    at = at[key];
  }
  return at;
}

/** An object, following one `$ref`. */
function deref(doc: Json, o: Json): Json {
  return o !== null && typeof o === "object" && typeof o.$ref === "string"
    ? resolvePointer(doc, o.$ref)
    : o;
}

/** Every problem found; empty for a document of the right shape. */
function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  const fail = (msg: string) => problems.push(msg);
  if (typeof doc?.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) {
    fail(`openapi is not 3.1.x: ${doc?.openapi}`);
  }
  for (const key of Object.keys(doc)) {
    if (
      ![
        "openapi",
        "info",
        "jsonSchemaDialect",
        "servers",
        "paths",
        "webhooks",
        "components",
        "security",
        "tags",
        "externalDocs",
      ].includes(key) && !key.startsWith("x-")
    ) fail(`unknown top-level field ${key}`);
  }
  if (typeof doc.info?.title !== "string" || typeof doc.info?.version !== "string") {
    fail("info.title and info.version must be strings");
  }
  // Every $ref anywhere resolves.
  const walk = (node: Json, where: string) => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
    else if (node !== null && typeof node === "object") {
      if (typeof node.$ref === "string" && resolvePointer(doc, node.$ref) === undefined) {
        fail(`${where}: $ref ${node.$ref} does not resolve`);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${where}.${k}`);
    }
  };
  walk(doc, "$");
  const schemes = doc.components?.securitySchemes ?? {};
  for (const [name, s] of Object.entries<Json>(schemes)) {
    if (!["apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"].includes(s.type)) {
      fail(`securityScheme ${name}: bad type ${s.type}`);
    }
    if (s.type === "http" && typeof s.scheme !== "string") fail(`${name}: no scheme`);
  }
  const operationIds = new Set<string>();
  if (doc.paths === null || typeof doc.paths !== "object") fail("no paths");
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    if (!path.startsWith("/")) fail(`path ${path} does not start with /`);
    const templated = [...path.matchAll(/\{([^}/]+)\}/g)].map((m) => m[1]);
    const ops = Object.keys(item).filter((k) => METHODS.includes(k));
    for (const k of Object.keys(item)) {
      if (
        !METHODS.includes(k) &&
        !["summary", "description", "servers", "parameters", "$ref"].includes(k) &&
        !k.startsWith("x-")
      ) fail(`${path}: unknown field ${k}`);
    }
    if (ops.length === 0) fail(`${path}: no operation`);
    for (const method of ops) {
      const op = item[method];
      const where = `${method.toUpperCase()} ${path}`;
      if (op.operationId !== undefined) {
        if (operationIds.has(op.operationId)) fail(`${where}: operationId ${op.operationId} twice`);
        operationIds.add(op.operationId);
      }
      // Parameters: well formed, path ones required and exactly the template's.
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) =>
        deref(doc, p)
      );
      const seen = new Set<string>();
      for (const p of params) {
        if (typeof p?.name !== "string") fail(`${where}: a parameter has no name`);
        if (!["query", "header", "path", "cookie"].includes(p?.in)) {
          fail(`${where}: parameter ${p?.name} has in=${p?.in}`);
        }
        if (p.schema === undefined && p.content === undefined) {
          fail(`${where}: parameter ${p.name} has neither schema nor content`);
        }
        if (p.in === "path" && p.required !== true) fail(`${where}: ${p.name} not required`);
        const id = `${p.in}:${p.name}`;
        if (seen.has(id)) fail(`${where}: parameter ${id} twice`);
        seen.add(id);
      }
      const pathNames = params.filter((p) => p.in === "path").map((p) => p.name).sort();
      if (JSON.stringify(pathNames) !== JSON.stringify([...templated].sort())) {
        fail(`${where}: path parameters ${pathNames} vs template ${templated}`);
      }
      if (op.requestBody !== undefined && deref(doc, op.requestBody)?.content === undefined) {
        fail(`${where}: requestBody without content`);
      }
      // Responses: at least one, status keys, a description each, media types.
      const responses = op.responses ?? {};
      if (Object.keys(responses).length === 0) fail(`${where}: no responses`);
      for (const [status, r] of Object.entries<Json>(responses)) {
        if (!/^([1-5][0-9]{2}|[1-5]XX|default)$/.test(status) && !status.startsWith("x-")) {
          fail(`${where}: bad response key ${status}`);
        }
        const resolved = deref(doc, r);
        if (typeof resolved?.description !== "string") {
          fail(`${where} ${status}: no description`);
        }
        for (const mediaType of Object.keys(resolved?.content ?? {})) {
          if (!/^[a-z*]+\/[a-z0-9.+*-]+$/.test(mediaType)) {
            fail(`${where} ${status}: bad media type ${mediaType}`);
          }
        }
      }
      for (const requirement of op.security ?? doc.security ?? []) {
        for (const name of Object.keys(requirement)) {
          if (!(name in schemes)) fail(`${where}: security ${name} is not a scheme`);
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------
// A small JSON Schema check (the keywords the document uses).

function schemaProblems(doc: Json, schema: Json, value: unknown, where = "$"): string[] {
  schema = deref(doc, schema);
  if (schema === undefined) return [`${where}: schema does not resolve`];
  const out: string[] = [];
  if (schema.oneOf !== undefined) {
    const matching = schema.oneOf.filter((s: Json) => schemaProblems(doc, s, value).length === 0);
    if (matching.length !== 1) out.push(`${where}: matches ${matching.length} of oneOf`);
  }
  if (schema.type !== undefined) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = value === null
      ? "null"
      : Array.isArray(value)
      ? "array"
      : Number.isInteger(value)
      ? "integer"
      : typeof value;
    const ok = types.includes(actual) || (actual === "integer" && types.includes("number"));
    if (!ok) out.push(`${where}: ${JSON.stringify(value)} is not ${types.join("|")}`);
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    out.push(`${where}: ${JSON.stringify(value)} not in enum`);
  }
  if (typeof value === "string" && schema.pattern !== undefined) {
    if (!new RegExp(schema.pattern).test(value)) out.push(`${where}: pattern`);
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      out.push(`${where}: more than ${schema.maxItems} items`);
    }
    if (schema.items !== undefined) {
      value.forEach((v, i) => out.push(...schemaProblems(doc, schema.items, v, `${where}[${i}]`)));
    }
  } else if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in o)) out.push(`${where}: no ${r}`);
    for (const [k, v] of Object.entries(o)) {
      const p = schema.properties?.[k];
      if (p !== undefined) out.push(...schemaProblems(doc, p, v, `${where}.${k}`));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The handler's routes, enumerated by requests.

/** Every route path written in src/http/ (`path: "/…"`). */
async function sourceRoutePaths(): Promise<string[]> {
  const dir = new URL("../../src/http/", import.meta.url);
  const paths = new Set<string>();
  for await (const entry of Deno.readDir(dir)) {
    // openapi.ts names the routes it describes: not evidence of what is served.
    if (!entry.name.endsWith(".ts") || entry.name === "openapi.ts") continue;
    const text = await Deno.readTextFile(new URL(entry.name, dir));
    for (const line of text.split("\n")) {
      if (line.trimStart().startsWith("*") || line.trimStart().startsWith("//")) continue;
      const m = line.match(/\bpath: "(\/[^"]*)"/);
      if (m) paths.add(m[1]);
    }
  }
  return [...paths].sort();
}

/** A concrete path for a pattern. */
function concrete(path: string, state = "counts"): string {
  return path.replace("{jobId}", JOB).replace("{stateName}", state).replace(/\{[^}]+\}/g, "x");
}

/** The methods the handler takes on a path: from the `allow` of a 405 (none: 404). */
async function methodsOf(handler: QueryHandler, path: string): Promise<string[]> {
  const res = await handler(
    new Request(BASE + concrete(path), {
      method: "PATCH",
      headers: { authorization: `Bearer ${TOKEN}` },
    }),
  );
  await res.body?.cancel();
  if (res.status === 404) return [];
  assertEquals(res.status, 405, path);
  return res.headers.get("allow")!.split(", ").sort();
}

async function documentOf(handler: QueryHandler): Promise<Json> {
  const res = await handler(
    new Request(`${BASE}/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } }),
  );
  assertEquals(res.status, 200);
  const doc = await res.json();
  assertEquals(openApiProblems(doc), []);
  return doc;
}

/** The document's paths and the handler's routes are the same, method for method. */
async function assertRoutesMatch(handler: QueryHandler, extra: readonly Route[] = []) {
  const doc = await documentOf(handler);
  const documented = Object.keys(doc.paths);
  for (const path of documented) {
    const methods = Object.keys(doc.paths[path]).filter((k) => METHODS.includes(k))
      .map((m) => m.toUpperCase()).sort();
    assertEquals(await methodsOf(handler, path), methods, `methods of ${path}`);
  }
  const candidates = [...await sourceRoutePaths(), ...extra.map((r) => r.path)];
  for (const path of candidates) {
    const methods = await methodsOf(handler, path);
    if (methods.length > 0) assert(documented.includes(path), `${path} is served, not documented`);
  }
  return doc;
}

const responseOf = (doc: Json, path: string, method: string, status: number) =>
  deref(doc, doc.paths[path]?.[method]?.responses?.[String(status)]);

/** A real answer: its status, media type and JSON body are as documented. */
async function assertDocumented(
  doc: Json,
  path: string,
  method: string,
  res: Response,
): Promise<Json> {
  const documented = responseOf(doc, path, method, res.status);
  assert(documented !== undefined, `${method} ${path}: status ${res.status} not documented`);
  const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
  const media = documented.content?.[mediaType];
  assert(media !== undefined, `${method} ${path} ${res.status}: ${mediaType} not documented`);
  if (mediaType !== "application/json") {
    await res.body?.cancel();
    return undefined;
  }
  const body = await res.json();
  assertEquals(
    schemaProblems(doc, media.schema, body),
    [],
    `${method} ${path} ${res.status}: ${JSON.stringify(body)}`,
  );
  return body;
}

// ---------------------------------------------------------------------------

Deno.test("openapi: the checks can fail (a broken $ref, a missing response, a stray path parameter)", () => {
  const good = openApiDocument();
  assertEquals(openApiProblems(good), []);
  const broken: Json = structuredClone(good);
  broken.paths["/v1/query"].post.responses["200"].content["application/json"].schema.$ref =
    "#/components/schemas/Nope";
  broken.paths["/healthz"].get.responses = {};
  broken.paths["/readyz"].get.parameters = [{ name: "x", in: "path", schema: {} }];
  const problems = openApiProblems(broken);
  assert(problems.some((p) => p.includes("Nope")), problems.join("\n"));
  assert(problems.some((p) => p.includes("GET /healthz: no responses")), problems.join("\n"));
  assert(problems.some((p) => p.includes("GET /readyz: x not required")), problems.join("\n"));
  assertEquals(schemaProblems(good, { $ref: "#/components/schemas/ValueBody" }, {}), [
    "$: no value",
  ]);
});

Deno.test("openapi: the default handler's document is OpenAPI 3.1 and lists exactly its routes", async () => {
  assert((await sourceRoutePaths()).length >= 8, "route paths found in src/http/");
  const plane = await startPlane();
  try {
    const doc = await assertRoutesMatch(plane.handler);
    assertEquals(Object.keys(doc.paths).sort(), [
      "/",
      "/healthz",
      "/openapi.json",
      "/readyz",
      "/v1/jobs/{jobId}/states/{stateName}",
      "/v1/jobs/{jobId}/states/{stateName}/watch",
      "/v1/query",
    ]);
    assertEquals(doc.components.securitySchemes, undefined);
    for (const item of Object.values<Json>(doc.paths)) {
      for (const op of Object.values<Json>(item)) assertEquals(op.security, []);
    }
  } finally {
    await plane.close();
  }
});

Deno.test("openapi: watch and explorer off are absent; /metrics and an added route are present", async () => {
  const off = await startPlane({ watch: false, explorer: false });
  try {
    const doc = await assertRoutesMatch(off.handler);
    assertEquals(doc.paths["/"], undefined);
    assertEquals(doc.paths["/v1/jobs/{jobId}/states/{stateName}/watch"], undefined);
  } finally {
    await off.close();
  }
  const extra: Route[] = [
    metricsRoute(new MetricsRegistry()),
    { method: "GET", path: "/hello/{name}", handle: () => new Response("hi") },
    { method: "POST", path: "/hello/{name}", handle: () => new Response("hi") },
  ];
  const on = await startPlane({ routes: extra });
  try {
    const doc = await assertRoutesMatch(on.handler, extra);
    assertEquals(
      Object.keys(doc.paths["/metrics"].get.responses["200"].content),
      ["text/plain"],
    );
    assertEquals(Object.keys(doc.paths["/hello/{name}"]).sort(), ["get", "post"]);
    assertEquals(doc.paths["/hello/{name}"].get.parameters[0].name, "name");
    const metrics = await on.handler(new Request(`${BASE}/metrics`));
    await assertDocumented(doc, "/metrics", "get", metrics);
  } finally {
    await on.close();
  }
});

Deno.test("openapi: with a token, the bearer scheme, and 401 on every route but the public ones", async () => {
  const registry = new MetricsRegistry();
  for (const publicMetrics of [false, true]) {
    const plane = await startPlane({
      bearerToken: TOKEN,
      routes: [metricsRoute(registry, { public: publicMetrics })],
    });
    try {
      const doc = await assertRoutesMatch(plane.handler);
      assertEquals(doc.components.securitySchemes, { bearer: { type: "http", scheme: "bearer" } });
      for (const [path, item] of Object.entries<Json>(doc.paths)) {
        for (const [method, op] of Object.entries<Json>(item)) {
          const isPublic = path === "/healthz" || path === "/readyz" ||
            (path === "/metrics" && publicMetrics);
          assertEquals(op.security, isPublic ? [] : [{ bearer: [] }], `${method} ${path}`);
          assertEquals(op.responses["401"] !== undefined, !isPublic, `${method} ${path}`);
          // Without the token: 401 exactly where documented.
          const res = await plane.handler(
            new Request(BASE + concrete(path) + "?key=hello&keyType=string&valueType=long", {
              method: method.toUpperCase(),
              body: method === "post" ? "{}" : undefined,
            }),
          );
          if (isPublic) {
            assert(res.status !== 401, `${method} ${path} is public`);
            await res.body?.cancel();
          } else {
            assertEquals(res.status, 401, `${method} ${path}`);
            assertEquals(res.headers.get("www-authenticate"), "Bearer");
            await assertDocumented(doc, path, method, res);
          }
        }
      }
    } finally {
      await plane.close();
    }
  }
});

Deno.test("openapi: successful answers of every route have a documented status, media type and body", async () => {
  const plane = await startPlane({ ready: () => false });
  try {
    const doc = await documentOf(plane.handler);
    const value = "/v1/jobs/{jobId}/states/{stateName}";
    const get = (path: string) => plane.handler(new Request(BASE + path));
    assertEquals(
      await assertDocumented(
        doc,
        value,
        "get",
        await get(concrete(value) + "?key=hello&keyType=string&valueType=long"),
      ),
      { value: "42" },
    );
    // The encoding the document describes: NaN as a string, bytes as base64, map as pairs.
    for (
      const [state, query, want] of [
        ["doubles", "key=nan&keyType=string&valueType=double", "NaN"],
        ["blobs", "key=7&keyType=long&valueType=bytes", "AAEC/w=="],
        ["maps", "key=m&keyType=string&valueType=double&stateKind=map&mapKeyType=string", [
          ["x", 1.5],
          ["y", null],
          ["z", "NaN"],
        ]],
      ] as const
    ) {
      const body = await assertDocumented(
        doc,
        value,
        "get",
        await get(concrete(value, state) + "?" + query),
      );
      assertEquals(body, { value: want });
    }
    const batch = await assertDocumented(
      doc,
      "/v1/query",
      "post",
      await plane.handler(batchRequest({
        queries: [
          { jobId: JOB, stateName: "counts", key: "hello", keyType: "string", valueType: "long" },
          { jobId: JOB, stateName: "counts", key: "nobody", keyType: "string", valueType: "long" },
        ],
      })),
    );
    assertEquals(batch.results[0], { value: "42" });
    assertEquals(batch.results[1].error.status, 404);
    assertEquals(await assertDocumented(doc, "/healthz", "get", await get("/healthz")), {
      status: "ok",
    });
    assertEquals(await assertDocumented(doc, "/readyz", "get", await get("/readyz")), {
      status: "not ready",
    });
    await assertDocumented(doc, "/openapi.json", "get", await get("/openapi.json"));
    await assertDocumented(doc, "/", "get", await get("/"));
  } finally {
    await plane.close();
  }
});

Deno.test("openapi: the watch route's stream and its events value and failure are as documented", async () => {
  const plane = await startPlane();
  try {
    const doc = await documentOf(plane.handler);
    const path = "/v1/jobs/{jobId}/states/{stateName}/watch";
    const op = doc.paths[path].get;
    assertEquals(
      op.parameters.map((p: Json) => deref(doc, p).name),
      [
        "jobId",
        "stateName",
        "key",
        "keyType",
        "valueType",
        "stateKind",
        "mapKeyType",
        "keyHash",
        "intervalMs",
      ],
    );
    const media = op.responses["200"].content["text/event-stream"];
    assertEquals(Object.keys(media["x-events"]).sort(), ["failure", "value"]);
    for (
      const [key, event] of [["hello", "value"], ["nobody", "failure"]] as const
    ) {
      const res = await plane.handler(
        new Request(
          BASE + concrete(path) + `?key=${key}&keyType=string&valueType=long&intervalMs=100`,
        ),
      );
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("content-type"), "text/event-stream");
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      try {
        const [head, data] = ((await reader.read()).value ?? "").split("\n");
        assertEquals(head, `event: ${event}`);
        const body = JSON.parse(data.slice("data: ".length));
        assertEquals(schemaProblems(doc, media["x-events"][event], body), [], data);
      } finally {
        await reader.cancel();
      }
    }
    const bad = await plane.handler(
      new Request(BASE + concrete(path) + "?key=hello&keyType=string&valueType=long&intervalMs=0"),
    );
    assertEquals((await assertDocumented(doc, path, "get", bad)).error.parameter, "intervalMs");
  } finally {
    await plane.close();
  }
});

Deno.test("openapi: every error status answered is documented on its route with the error body (400, 404, 405, 413, 502, 503, 504)", async () => {
  const value = "/v1/jobs/{jobId}/states/{stateName}";
  const plane = await startPlane({ deadlineMs: 50, maxBatchSize: 1, maxBodyBytes: 200 });
  try {
    const doc = await documentOf(plane.handler);
    for (const status of [400, 401, 404, 405, 413, 502, 503, 504]) {
      assert(doc.info.description.includes(`| ${status} |`), `status ${status} in the table`);
    }
    assertEquals(Object.keys(doc.components.responses).sort(), [
      "BadGateway",
      "BadParameter",
      "GatewayTimeout",
      "MethodNotAllowed",
      "NotFound",
      "PayloadTooLarge",
      "ServiceUnavailable",
      "Unauthorized",
    ]);
    for (const words of ["decimal string", "NaN", "base64", "[key, value]", "null"]) {
      assert(doc.components.schemas.JsonValue.description.includes(words), words);
      assert(doc.info.description.includes(words), words);
    }
    const get = (path: string) => plane.handler(new Request(BASE + path));
    const e400 = await assertDocumented(
      doc,
      value,
      "get",
      await get(concrete(value) + "?key=hello&keyType=Integer&valueType=long"),
    );
    assertEquals([e400.error.type, e400.error.parameter], ["BadParameterError", "keyType"]);
    const e404 = await assertDocumented(
      doc,
      value,
      "get",
      await get(concrete(value) + "?key=nobody&keyType=string&valueType=long"),
    );
    assertEquals(e404.error.type, "UnknownKeyOrNamespaceError");
    const e504 = await assertDocumented(
      doc,
      value,
      "get",
      await get(concrete(value, "slow") + "?key=1&keyType=int&valueType=long"),
    );
    assertEquals(e504.error.type, "DeadlineExceededError");
    const big = await plane.handler(batchRequest({ queries: [{}, {}] }));
    assertEquals(
      (await assertDocumented(doc, "/v1/query", "post", big)).error.type,
      "BatchTooLargeError",
    );
    const huge = await plane.handler(batchRequest("x".repeat(300)));
    assertEquals(
      (await assertDocumented(doc, "/v1/query", "post", huge)).error.type,
      "BodyTooLargeError",
    );
    const notJson = await plane.handler(batchRequest("{"));
    assertEquals(
      (await assertDocumented(doc, "/v1/query", "post", notJson)).error.parameter,
      "body",
    );
    // 405 and an unknown route: the error body of components.responses.
    const e405 = await plane.handler(new Request(`${BASE}/healthz`, { method: "DELETE" }));
    assertEquals(e405.status, 405);
    assertEquals(e405.headers.get("allow"), "GET");
    const schema = doc.components.responses.MethodNotAllowed.content["application/json"].schema;
    assertEquals(schemaProblems(doc, schema, await e405.json()), []);
    const e404route = await get("/nope");
    assertEquals(e404route.status, 404);
    assertEquals(schemaProblems(doc, schema, await e404route.json()), []);
  } finally {
    await plane.close();
  }
  // 502 and 503 from upstream failures.
  for (
    const [err, status] of [
      [errorFromJavaThrowable(javaThrowable("java.lang.IllegalStateException", "boom")), 502],
      [new RequestQueueFullError("full"), 503],
      [new DeadlineExceededError("late"), 504],
    ] as const
  ) {
    const client: StateQueryClient = { getKvState: () => Promise.reject(err) };
    const handler = createQueryHandler({ client });
    const doc = await documentOf(handler);
    const res = await handler(
      new Request(BASE + concrete(value) + "?key=hello&keyType=string&valueType=long"),
    );
    assertEquals(res.status, status);
    await assertDocumented(doc, value, "get", res);
  }
  // 503 of the watch route: one watcher too many.
  const one = await startPlane({ watch: { maxWatchers: 1 } });
  try {
    const doc = await documentOf(one.handler);
    const path = "/v1/jobs/{jobId}/states/{stateName}/watch";
    assert(doc.paths[path].get.description.includes("At most 1 streams"));
    const url = BASE + concrete(path) + "?key=hello&keyType=string&valueType=long";
    const first = await one.handler(new Request(url));
    try {
      const second = await one.handler(new Request(url));
      assertEquals(
        (await assertDocumented(doc, path, "get", second)).error.type,
        "TooManyWatchersError",
      );
    } finally {
      await first.body?.cancel();
    }
  } finally {
    await one.close();
  }
});
