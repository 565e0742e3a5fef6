/**
 * Apache Flink's Queryable State protocol, byte for byte, in TypeScript.
 * This entry point holds what applications use: the typed client
 * ({@linkcode QueryableStateClient}) that queries a Flink job's state through
 * a Queryable State proxy (a TaskManager's, port 9069 by default, or ours),
 * the client proxy ({@linkcode KvStateClientProxy}), the state server
 * ({@linkcode KvStateServer}) with ready-made in-memory states, the location
 * oracles, the transports' types and {@linkcode MemoryTransport}, the errors
 * (Flink's Java exceptions as typed classes), the ids, the types a query
 * names its key and value types with ({@linkcode types}, {@linkcode parseType}),
 * and, in front of a Flink cluster, a pool of proxies with failover
 * ({@linkcode ProxyPool}) fed by {@linkcode FlinkRestDiscovery}.
 *
 * The other entry points:
 *
 * | Entry point | What it holds |
 * | --- | --- |
 * | `./deno`, `./node`, `./cloudflare` | the transports: sockets for the roles |
 * | `./http`, `./http/node` | the HTTP/JSON gateway (a fetch handler), and `node:http` under it |
 * | `./observability` | metrics, Prometheus text, a structured logger |
 * | `./cli` | the command-line programs |
 * | `./wire` | the protocol machinery: frame and message codecs, Java serialization, hash codes and key groups, type serializers, state content |
 * | `./streams` | the framing streams: frame decoder and encoder, the request stage |
 *
 * This entry point is web-standard only; {@linkcode MemoryTransport}
 * connects the roles in one process with no sockets at all (tests, or a
 * whole fake state plane).
 *
 * @example Query a Flink proxy
 * ```ts ignore
 * import { JobId, QueryableStateClient } from "@kvstate/queryable-state";
 * import { nodeTransport } from "@kvstate/queryable-state/node"; // Deno: denoTransport of ".../deno"
 *
 * const client = new QueryableStateClient({ transport: nodeTransport, proxy: "127.0.0.1:9069" });
 * const count = await client.getKvState(JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8"), "word-counts", "hello", { keyType: "string", valueType: "long" }); // 42n
 * await client.close();
 * ```
 *
 * @example The same query against a state plane in process
 * ```ts
 * import {
 *   InMemoryLocationRegistry,
 *   InMemoryValueState,
 *   JobId,
 *   JobVertexId,
 *   KvStateClientProxy,
 *   KvStateServer,
 *   MemoryTransport,
 *   QueryableStateClient,
 *   TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state";
 *
 * const transport = new MemoryTransport();
 * const server = new KvStateServer({ transport, port: 0 });
 * const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long);
 * counts.set("hello", 42n);
 * const kvStateId = server.registry.register(counts);
 * const address = await server.start();
 *
 * const job = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
 * const locations = new InMemoryLocationRegistry();
 * locations.notifyKvStateRegistered({
 *   jobId: job,
 *   jobVertexId: JobVertexId.random(),
 *   registrationName: "word-counts",
 *   numKeyGroups: 128,
 *   start: 0,
 *   end: 127,
 *   kvStateId,
 *   address,
 * });
 * const proxy = new KvStateClientProxy({ transport, port: 0 });
 * proxy.updateKvStateLocationOracle(job, locations);
 *
 * const client = new QueryableStateClient({ transport, proxy: await proxy.start() });
 * const types = { keyType: "string", valueType: "long" } as const;
 * await client.getKvState(job, "word-counts", "hello", types); // => 42n
 * await client.getKvStateIfPresent(job, "word-counts", "nobody", types); // => undefined
 * await client.close();
 * await proxy.close();
 * await server.close();
 * ```
 *
 * @module
 */

// The roles: the client, the proxy, the state server and its states.
export * from "./src/client/queryable_state_client.ts";
export * from "./src/client/network_client.ts";
export * from "./src/proxy/kv_state_client_proxy.ts";
export * from "./src/proxy/location_cache.ts";
export * from "./src/server/kv_state_server.ts";
export * from "./src/server/in_memory_states.ts";

// The servers' extension points: the base class, options, statistics, access control.
export * from "./src/server/server_base.ts";
export * from "./src/server/stats.ts";
export * from "./src/server/request_outcome.ts";
export * from "./src/server/access_control.ts";
export * from "./src/server/cidr.ts";
export * from "./src/server/access_rules.ts";
export { IncompleteFrameTimeoutError } from "./src/server/connection_watchdog.ts";
/** The logger every role's `logger` option takes (the rest of logging is in `./observability`). */
export { type Logger, SILENT_LOGGER } from "./src/observability/logger.ts";
export type { LogFields, LogLevel } from "./src/observability/log_record.ts";

// Oracles and locations: where each key group of a state is served.
export * from "./src/oracle/kv_state_location.ts";
export * from "./src/oracle/oracle_registry.ts";
export * from "./src/oracle/in_memory_location_registry.ts";
export * from "./src/oracle/locations_file.ts";
export * from "./src/oracle/static_oracle.ts";

// Transports: the interfaces, the in-process one, listening on several ports.
export type * from "./src/transport/types.ts";
export * from "./src/transport/memory.ts";
export * from "./src/transport/listen.ts";

// Errors (the same classes as every other entry point's) and ids.
export * from "./src/wire/errors.ts";
export * from "./src/wire/ids.ts";
export type {
  JavaStackFrame,
  JavaThrowable,
  ThrowableTextLimits,
} from "./src/wire/java_throwable.ts";

// Types that signatures above name; their machinery (and the classes as values) is in `./wire`.
export type { ByteReader, ByteWriter } from "./src/wire/bytes.ts";
export type { KvStateInternalRequest, KvStateRequest } from "./src/wire/messages.ts";
export type { JavaSerializationLimits } from "./src/wire/java_serialization.ts";

// Types: the names and serializers a query names its key and value types with.
export {
  type JsTypeMap,
  type JsTypeOf,
  serializerFor,
  TYPE_SERIALIZERS,
  type TypeName,
  type TypeSerializer,
  type TypeSerializerRegistry,
} from "./src/wire/type_serializers.ts";
// Type descriptors: `types`, the descriptor interface, its errors.
export * from "./src/types/type_descriptor.ts";
export * from "./src/types/type_errors.ts";
export * from "./src/types/basic_types.ts";
export * from "./src/types/types.ts";
// The composite kinds: their descriptor and value types, options and helpers (the builders
// themselves are reached through `types`).
export { MAX_TUPLE_ARITY, type TupleDescriptor, type TupleValues } from "./src/types/tuple_type.ts";
export {
  javaObjectsHash,
  type PojoDescriptor,
  type PojoObject,
  type PojoOptions,
} from "./src/types/pojo_type.ts";
export type { RowDescriptor, RowFields } from "./src/types/row_type.ts";
export type { NullableDescriptor, NullableOptions } from "./src/types/nullable_type.ts";
export type { EnumDescriptor } from "./src/types/enum_type.ts";
export type { ArrayDescriptor } from "./src/types/array_types.ts";
export type { ListDescriptor } from "./src/types/list_type.ts";
export type { MapDescriptor, MapEntries } from "./src/types/map_type.ts";
export type { EitherDescriptor, EitherValue } from "./src/types/either_type.ts";
// The text syntax of types: parseType, formatType, TypeSyntaxError, TYPE_TEXT_LIMITS.
export * from "./src/types/type_text.ts";
// The JSON form of typed values (the HTTP gateway's encoding): toJsonValue, fromJsonValue.
export * from "./src/types/json_form.ts";

// In front of a Flink cluster: a pool of Queryable State proxies with failover, and the
// discovery of a cluster's proxies through its REST API.
export * from "./src/upstream/proxy_pool.ts";
export type { PoolMemberSnapshot } from "./src/upstream/pool_member.ts";
export {
  DEFAULT_PROXY_PORT,
  parseProxyAddresses,
  type ProxyAddresses,
} from "./src/upstream/proxy_addresses.ts";
export * from "./src/upstream/flink_rest_discovery.ts";
export * from "./src/upstream/flink_rest_errors.ts";
export { PortRangeError } from "./src/upstream/port_range.ts";
