/**
 * The gateway: a web-standard `(request: Request) => Promise<Response>`
 * that answers HTTP/JSON queries of Flink queryable state through a
 * {@linkcode QueryableStateClient}.
 *
 * @module
 */

import { RequestQueueFullError } from "../wire/errors.ts";
import { hasBearerToken } from "./bearer_token.ts";
import { readBoundedText } from "./bounded_body.ts";
import { cutText, DEFAULT_MAX_ERROR_TEXT, errorAnswer, errorJson } from "./error_body.ts";
import { BadParameterError, GatewayError } from "./gateway_errors.ts";
import type { JsonValue } from "./json_values.ts";
import { openApiDocument } from "./openapi.ts";
import { positiveOption } from "./positive_option.ts";
import { createExplorerRoute } from "./explorer_page.ts";
import { type Route, type RouteContext, RouteTable } from "./route_table.ts";
import {
  queryFromJson,
  queryFromParams,
  runStateQuery,
  type StateQueryClient,
  type StateQuerySpec,
} from "./state_query.ts";
import {
  createWatchRoute,
  type WatchClient,
  type WatchOptions,
  type WatchRoute,
} from "./watch_route.ts";

/**
 * A fetch handler: what `Deno.serve`, a Cloudflare Worker's `fetch` or
 * Bun's `serve` take.
 *
 * @example
 * ```ts
 * import type { QueryHandler } from "@kvstate/queryable-state/http";
 *
 * const h: QueryHandler = () => Promise.resolve(new Response("ok"));
 * (await h(new Request("http://x/"))).status; // => 200
 * ```
 */
export type QueryHandler = (request: Request) => Promise<Response>;

/**
 * What {@linkcode createQueryHandler} returns: a {@linkcode QueryHandler}
 * (call it with a `Request`, hand it to `Deno.serve` or a Worker as is)
 * that can also be closed, so that a server's shutdown does not wait for
 * its watch streams.
 *
 * @example Close the handler before its server: open watch streams end at once
 * ```ts
 * import { MemoryTransport, QueryableStateClient } from "@kvstate/queryable-state";
 * import { createQueryHandler, type QueryHandler } from "@kvstate/queryable-state/http";
 *
 * await using client = new QueryableStateClient({
 *   transport: new MemoryTransport(), proxy: "127.0.0.1:9069",
 * });
 * const handler = createQueryHandler({ client });
 * const plain: QueryHandler = handler; // still a plain fetch handler
 * handler.closed; // => false
 * handler.close(); // e.g. on SIGTERM, before the server's own shutdown
 * handler.closed; // => true
 * const watch = await plain(new Request(
 *   "http://localhost/v1/jobs/0102030405060708a1a2a3a4a5a6a7a8/states/s/watch" +
 *     "?key=k&keyType=string&valueType=long",
 * ));
 * watch.status; // => 503
 * (await watch.json()).error.type; // => "GatewayClosedError"
 * (await plain(new Request("http://localhost/healthz"))).status; // => 200
 * ```
 */
export interface ClosableQueryHandler extends QueryHandler {
  /** Whether {@linkcode ClosableQueryHandler.close} was called. */
  readonly closed: boolean;
  /**
   * Ends every open stream of the handler's own watch route at once (each
   * ends cleanly, after the events already sent to it, with no poll or
   * timer left behind) and answers every later watch request 503
   * `GatewayClosedError`. The other routes keep answering, so requests
   * in flight finish. Call it before stopping the server. A watch route
   * given in {@linkcode QueryHandlerOptions.routes} is its owner's to
   * close (`WatchRoute.closeAll`). Calling it again does nothing.
   */
  close(): void;
  /** {@linkcode ClosableQueryHandler.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Options of {@linkcode createQueryHandler}. Every bound has a default.
 *
 * @example
 * ```ts
 * import type { QueryHandlerOptions } from "@kvstate/queryable-state/http";
 *
 * const bounds: Omit<QueryHandlerOptions, "client"> = { deadlineMs: 2000, maxBatchSize: 20 };
 * bounds.deadlineMs; // => 2000
 * ```
 */
export interface QueryHandlerOptions {
  /**
   * The client of the Queryable State proxy to query (ours or Flink's): a
   * `QueryableStateClient`.
   */
  readonly client: StateQueryClient;
  /**
   * Whether the proxy can be reached, for `GET /readyz` (200 when it
   * resolves `true`, 503 when `false` or when it throws). Default: always
   * ready.
   */
  readonly ready?: () => boolean | Promise<boolean>;
  /** The largest request body, in bytes; larger ones get 413. Default 1 MiB (1,048,576). */
  readonly maxBodyBytes?: number;
  /** The most queries in one `POST /v1/query`; more get 413. Default 100. */
  readonly maxBatchSize?: number;
  /**
   * The time one HTTP request may take, in ms, from its arrival to its
   * answer (a batch shares it): past it, the query is abandoned and answered
   * 504. The request's own `signal` (the client went away) abandons it too.
   * Default 10,000.
   */
  readonly deadlineMs?: number;
  /**
   * The most queries in flight through this handler at once (a batch counts
   * each of its queries); a query over the bound is refused at once with 503
   * (`RequestQueueFullError`; in a batch, as that query's result).
   * Default 256.
   */
  readonly maxConcurrentQueries?: number;
  /**
   * When set, every route but the public ones (`/healthz`, `/readyz`, and
   * added routes with `public: true`) requires `authorization: Bearer
   * <token>` (compared in constant time); without it, 401. A CORS preflight
   * (`OPTIONS`) is answered without it, as browsers send none. Default: none.
   */
  readonly bearerToken?: string;
  /**
   * The origin(s) allowed to call from a browser: `"*"`, one origin, or a
   * list (the request's `Origin` is echoed when listed). When set, answers
   * carry the CORS headers and `OPTIONS` preflights get 204. Default: none
   * (no CORS headers; `OPTIONS` gets 405).
   */
  readonly corsOrigin?: string | readonly string[];
  /** The longest error `message` (and `javaClass`) in an answer. Default 1,024. */
  readonly maxErrorTextLength?: number;
  /**
   * The watch route `GET /v1/jobs/{jobId}/states/{stateName}/watch`
   * (server-sent events, see `watch_route.ts`): its bounds (defaults:
   * interval 1,000 ms, floor 100 ms, 64 watchers, each poll bounded by
   * `deadlineMs`, keep-alive every 15,000 ms), or `false` to turn it off.
   * Default: on.
   */
  readonly watch?: WatchOptions | false;
  /**
   * Whether `GET /` serves the state explorer page (see
   * `explorer_page.ts`). Default `true`.
   */
  readonly explorer?: boolean;
  /**
   * More routes (e.g. metrics), matched after the built-in
   * ones, behind the same token and CORS handling.
   */
  readonly routes?: readonly Route[];
}

/** The default of {@linkcode QueryHandlerOptions.maxBodyBytes}: 1 MiB. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** The default of {@linkcode QueryHandlerOptions.maxBatchSize}. */
const DEFAULT_MAX_BATCH_SIZE = 100;
/** The default of {@linkcode QueryHandlerOptions.deadlineMs}. */
const DEFAULT_DEADLINE_MS = 10_000;
/** The default of {@linkcode QueryHandlerOptions.maxConcurrentQueries}. */
const DEFAULT_MAX_CONCURRENT_QUERIES = 256;

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Creates the gateway's fetch handler over a {@linkcode QueryableStateClient}.
 *
 * Routes:
 * - `GET /v1/jobs/{jobId}/states/{stateName}?key=K&keyType=T&valueType=T[&stateKind=value|list|map][&mapKeyType=T]`
 *   → `200 {"value": …}` (JSON encoding: see `json_values.ts`);
 * - `POST /v1/query` with `{"queries": [{jobId, stateName, key, keyType,
 *   valueType, stateKind?, mapKeyType?}, …]}` → `200 {"results": [{"value":
 *   …} | {"error": {…, "status": N}}, …]}` in order, run concurrently;
 * - `GET /v1/jobs/{jobId}/states/{stateName}/watch?…&intervalMs=N` →
 *   `text/event-stream`: the value, then each change (see `watch_route.ts`;
 *   option `watch`);
 * - `GET /` → the state explorer page (see `explorer_page.ts`; option
 *   `explorer`);
 * - `GET /healthz` (200 while the handler runs), `GET /readyz` (200 or
 *   503, see `ready`), `GET /openapi.json` (OpenAPI 3.1, describing exactly
 *   the routes of this handler, `routes` included: see `openapi.ts`).
 *
 * Failures answer `{"error": {"type", "javaClass", "message"}}`: 400 for a
 * bad parameter (named in `error.parameter`), 401 without the bearer
 * token, 404 for an unknown key, state, job or route, 405 for a method a
 * route does not take, 413 for a body over `maxBodyBytes` or a batch over
 * `maxBatchSize`, 502 for other upstream failures, 503 when a bound refuses
 * a query or the proxy knows no JobManager (retry later), 504 past the
 * deadline. The answer never throws.
 *
 * The handler has a `close()` (see {@linkcode ClosableQueryHandler}): it
 * ends the open watch streams at once, so that a server stopping does not
 * wait for them; later watch requests get 503 `GatewayClosedError`.
 *
 * @example Query an in-process state plane over HTTP
 * ```ts
 * import {
 *   InMemoryLocationRegistry, InMemoryValueState, JobId, JobVertexId, KvStateClientProxy,
 *   KvStateServer, MemoryTransport, QueryableStateClient, TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state";
 * import { createQueryHandler } from "@kvstate/queryable-state/http";
 *
 * const transport = new MemoryTransport();
 * await using server = new KvStateServer({ transport });
 * const kvStateId = server.registry.register(
 *   new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set("hello", 42n),
 * );
 * const jobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
 * const locations = new InMemoryLocationRegistry();
 * locations.notifyKvStateRegistered({
 *   jobId, jobVertexId: JobVertexId.random(), registrationName: "word-counts",
 *   numKeyGroups: 128, start: 0, end: 127, kvStateId, address: await server.start(),
 * });
 * await using proxy = new KvStateClientProxy({ transport });
 * proxy.updateKvStateLocationOracle(jobId, locations);
 * await using client = new QueryableStateClient({ transport, proxy: await proxy.start() });
 *
 * const handler = createQueryHandler({ client });
 * const res = await handler(new Request(
 *   "http://localhost/v1/jobs/0102030405060708a1a2a3a4a5a6a7a8/states/word-counts" +
 *     "?key=hello&keyType=string&valueType=long",
 * ));
 * res.status; // => 200
 * await res.json(); // => { value: "42" }
 * ```
 *
 * @param options The client, the bounds, the token, CORS.
 * @returns The handler, closable.
 * @throws {RangeError} When a bound is not a positive integer.
 */
export function createQueryHandler(options: QueryHandlerOptions): ClosableQueryHandler {
  const client = options.client;
  const maxBodyBytes = positiveOption(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, "maxBodyBytes");
  const maxBatchSize = positiveOption(options.maxBatchSize, DEFAULT_MAX_BATCH_SIZE, "maxBatchSize");
  const deadlineMs = positiveOption(options.deadlineMs, DEFAULT_DEADLINE_MS, "deadlineMs");
  const maxConcurrent = positiveOption(
    options.maxConcurrentQueries,
    DEFAULT_MAX_CONCURRENT_QUERIES,
    "maxConcurrentQueries",
  );
  const maxText = positiveOption(
    options.maxErrorTextLength,
    DEFAULT_MAX_ERROR_TEXT,
    "maxErrorTextLength",
  );
  const token = options.bearerToken;
  const cors = options.corsOrigin;
  const ready = options.ready;
  let inFlight = 0;
  let closed = false;

  /** Runs one query under the concurrency bound and the request's deadline. */
  async function run(spec: StateQuerySpec, signal: AbortSignal, deadline: number) {
    if (inFlight >= maxConcurrent) {
      throw new RequestQueueFullError(
        `Too many queries in flight through the gateway (at most ${maxConcurrent})`,
      );
    }
    inFlight++;
    try {
      const timeoutMs = Math.max(1, Math.ceil(deadline - performance.now()));
      return await runStateQuery(client, spec, { signal, timeoutMs });
    } finally {
      inFlight--;
    }
  }

  const table = new RouteTable()
    .add({
      method: "GET",
      path: "/v1/jobs/{jobId}/states/{stateName}",
      handle: async ({ request, url, params }: RouteContext) => {
        const deadline = performance.now() + deadlineMs;
        const spec = queryFromParams(params.jobId, params.stateName, url.searchParams);
        const value = await run(spec, request.signal, deadline);
        return json(200, { value });
      },
    })
    .add({
      method: "POST",
      path: "/v1/query",
      handle: async ({ request }: RouteContext) => {
        const deadline = performance.now() + deadlineMs;
        const text = await readBoundedText(request, maxBodyBytes);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new BadParameterError("body", "not JSON");
        }
        const queries = (body as { queries?: unknown } | null)?.queries;
        if (!Array.isArray(queries)) {
          throw new BadParameterError("queries", "expected an array of queries");
        }
        if (queries.length > maxBatchSize) {
          throw new GatewayError(
            413,
            "BatchTooLargeError",
            `A batch holds at most ${maxBatchSize} queries, got ${queries.length}`,
          );
        }
        const results = await Promise.all(queries.map(async (item, i): Promise<JsonValue> => {
          try {
            const spec = queryFromJson(item, `queries[${i}].`);
            return { value: await run(spec, request.signal, deadline) };
          } catch (err) {
            const a = errorAnswer(err, maxText);
            return { error: { ...a.error, status: a.status } };
          }
        }));
        return json(200, { results });
      },
    })
    .add({
      method: "GET",
      path: "/healthz",
      public: true,
      handle: () => json(200, { status: "ok" }),
    })
    .add({
      method: "GET",
      path: "/readyz",
      public: true,
      handle: async () => {
        let ok = true;
        try {
          ok = ready === undefined ? true : await ready();
        } catch {
          ok = false;
        }
        return ok ? json(200, { status: "ready" }) : json(503, { status: "not ready" });
      },
    })
    .add({
      method: "GET",
      path: "/openapi.json",
      handle: () => new Response(openApi, { headers: { "content-type": JSON_TYPE } }),
    });
  let watchRoute: WatchRoute | undefined;
  if (options.watch !== false) {
    watchRoute = createWatchRoute({
      client: client as WatchClient,
      pollTimeoutMs: deadlineMs,
      maxErrorTextLength: maxText,
      ...options.watch,
    });
    table.add(watchRoute);
  }
  if (options.explorer !== false) table.add(createExplorerRoute());
  for (const route of options.routes ?? []) table.add(route);
  // Built once the table is complete: it describes exactly the routes served.
  const openApi = JSON.stringify(openApiDocument({
    bearerAuth: token !== undefined,
    maxBatchSize,
    maxBodyBytes,
    watch: options.watch === false ? undefined : options.watch,
    routes: table.routes,
  }));

  function corsHeaders(request: Request): Record<string, string> | undefined {
    if (cors === undefined) return undefined;
    if (cors === "*") return { "access-control-allow-origin": "*" };
    const origin = request.headers.get("origin");
    const allowed = typeof cors === "string"
      ? origin === cors
      : origin !== null && cors.includes(origin);
    return allowed && origin !== null
      ? { "access-control-allow-origin": origin, "vary": "origin" }
      : { "vary": "origin" };
  }

  async function answer(request: Request): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new BadParameterError("url", "not a URL");
    }
    const method = request.method.toUpperCase();
    if (method === "OPTIONS" && cors !== undefined) {
      // No route has the method "": the match lists every method of the path.
      const all = table.match("", url.pathname);
      if (all.kind !== "method") throw notFound(method, url);
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-methods": [...all.allow, "OPTIONS"].join(", "),
          "access-control-allow-headers": "authorization, content-type",
          "access-control-max-age": "600",
        },
      });
    }
    const m = table.match(method, url.pathname);
    if (m.kind === "none") throw notFound(method, url);
    if (m.kind === "method") {
      const e = new GatewayError(
        405,
        "MethodNotAllowedError",
        `${cutText(method, 16)} is not allowed on this route (allowed: ${m.allow.join(", ")})`,
      );
      return withHeaders(errorResponse(e, maxText), { allow: m.allow.join(", ") });
    }
    if (token !== undefined && m.route.public !== true && !hasBearerToken(request, token)) {
      const e = new GatewayError(401, "UnauthorizedError", "A bearer token is required");
      return withHeaders(errorResponse(e, maxText), { "www-authenticate": "Bearer" });
    }
    if (m.params === null) throw new BadParameterError("path", "bad percent-encoding");
    if (closed && m.route === watchRoute) {
      throw new GatewayError(
        503,
        "GatewayClosedError",
        "The gateway is shutting down: it opens no new watch stream",
      );
    }
    return await m.route.handle({ request, url, params: m.params });
  }

  const handler = async (request: Request): Promise<Response> => {
    let response: Response;
    try {
      response = await answer(request);
    } catch (err) {
      response = errorResponse(err, maxText);
    }
    const extra = corsHeaders(request);
    return extra === undefined ? response : withHeaders(response, extra);
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    watchRoute?.closeAll();
  };
  return Object.defineProperties(handler, {
    closed: { get: () => closed, enumerable: true },
    close: { value: close, enumerable: true },
    [Symbol.asyncDispose]: {
      value: (): Promise<void> => {
        close();
        return Promise.resolve();
      },
    },
  }) as ClosableQueryHandler;
}

function notFound(method: string, url: URL): GatewayError {
  return new GatewayError(
    404,
    "RouteNotFoundError",
    `No route ${cutText(method, 16)} ${cutText(url.pathname, 256)}`,
  );
}

function json(status: number, body: JsonValue): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": JSON_TYPE } });
}

function errorResponse(err: unknown, maxText: number): Response {
  const a = errorAnswer(err, maxText);
  return json(a.status, errorJson(a));
}

/** Adds headers to a response (copying it when its headers are immutable). */
function withHeaders(response: Response, headers: Record<string, string>): Response {
  try {
    for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    for (const [k, v] of Object.entries(headers)) copy.headers.set(k, v);
    return copy;
  }
}
