/**
 * The HTTP/JSON gateway to Flink queryable state: a web-standard fetch
 * handler (`(request: Request) => Promise<Response>`) over a
 * {@linkcode QueryableStateClient}, so it fronts any Queryable State proxy
 * (ours or a Flink TaskManager's) and runs wherever fetch handlers run
 * (`Deno.serve`, a Cloudflare Worker, Bun's `serve`). Uses only web APIs.
 *
 * See {@linkcode createQueryHandler} for the routes, the statuses and the
 * bounds, and `json_values.ts` ({@linkcode toJsonValue}) for the JSON
 * encoding of each type.
 *
 * @example Serve the gateway with Deno
 * ```ts ignore
 * import { QueryableStateClient } from "@kvstate/queryable-state";
 * import { denoTransport } from "@kvstate/queryable-state/deno";
 * import { createQueryHandler } from "@kvstate/queryable-state/http";
 *
 * const client = new QueryableStateClient({ transport: denoTransport, proxy: "127.0.0.1:9069" });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, createQueryHandler({ client }));
 * ```
 *
 * @example The health probe answers without a proxy
 * ```ts
 * import { MemoryTransport, QueryableStateClient } from "@kvstate/queryable-state";
 * import { createQueryHandler } from "@kvstate/queryable-state/http";
 *
 * await using client = new QueryableStateClient({
 *   transport: new MemoryTransport(), proxy: "127.0.0.1:9069",
 * });
 * const res = await createQueryHandler({ client })(new Request("http://localhost/healthz"));
 * res.status; // => 200
 * res.headers.get("content-type"); // => "application/json; charset=utf-8"
 * ```
 *
 * @module
 */

export * from "./query_handler.ts";
export * from "./json_values.ts";
export * from "./gateway_errors.ts";
export * from "./error_body.ts";
export * from "./state_query.ts";
export * from "./route_table.ts";
export * from "./bounded_body.ts";
export * from "./bearer_token.ts";
export * from "./openapi.ts";
export * from "./watch_route.ts";
export * from "./explorer_page.ts";
export * from "./metrics_route.ts";
export type { StateKind } from "../client/queryable_state_client.ts";
export type { TypeName, TypeSerializer } from "../wire/type_serializers.ts";
export type { LeafKind, TypeDescriptor, TypeKind } from "../types/type_descriptor.ts";
/** The metrics types `metricsRoute` names (the classes and helpers are in `./observability`). */
export type * from "../observability/mod.ts";
export type { ByteReader, ByteWriter } from "../wire/bytes.ts";
