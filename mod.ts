/**
 * Apache Flink's Queryable State protocol, byte for byte, in TypeScript: the
 * typed client ({@linkcode QueryableStateClient}) that queries a Flink job's
 * state through a Queryable State proxy, the client proxy
 * ({@linkcode KvStateClientProxy}), the state server
 * ({@linkcode KvStateServer}) with ready-made in-memory states, the location
 * oracles, the errors (Flink's Java exceptions as typed classes), and the
 * wire codecs and framing streams under them.
 *
 * This entry point is web-standard only. Sockets come from
 * `@kvstate/queryable-state/deno` (`denoTransport`) or
 * `@kvstate/queryable-state/node` (`nodeTransport`, for Node, Bun and Deno);
 * {@linkcode MemoryTransport} connects the roles in one process, with no
 * sockets at all (tests, or a whole fake state plane).
 *
 * @example Query a Flink proxy (a TaskManager's, port 9069 by default)
 * ```ts ignore
 * import { JobId, QueryableStateClient } from "@kvstate/queryable-state";
 * import { denoTransport } from "@kvstate/queryable-state/deno"; // Node, Bun: nodeTransport of ".../node"
 *
 * const client = new QueryableStateClient({ transport: denoTransport, proxy: "127.0.0.1:9069" });
 * const job = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
 * await client.getKvState(job, "word-counts", "hello", { keyType: "string", valueType: "long" }); // 42n
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
 * @example Encode a request as Flink's QueryableStateClient does
 * ```ts
 * import { encodeKvStateRequest, fromHex, JobId, toHex } from "@kvstate/queryable-state";
 *
 * const frame = encodeKvStateRequest(0n, {
 *   jobId: JobId.fromHex("fd72014d4c864993a2e5a9287b4a9c5d"),
 *   stateName: "query-name",
 *   keyHashCode: 99162322, // "hello".hashCode()
 *   serializedKeyAndNamespace: fromHex("0668656c6c6f2a00"),
 * });
 * toHex(frame.subarray(0, 12)); // => "0000003e79a1b71000000000"
 * ```
 *
 * @module
 */

export * from "./src/wire/bytes.ts";
export * from "./src/wire/errors.ts";
export * from "./src/wire/ids.ts";
export * from "./src/wire/java_throwable.ts";
export * from "./src/wire/messages.ts";
export * from "./src/wire/tick_clock.ts";
export * from "./src/streams/frame_decoder_stream.ts";
export * from "./src/streams/frame_encoder_stream.ts";
export * from "./src/streams/request_handler_stream.ts";
export * from "./src/streams/frame_budget.ts";
export * from "./src/streams/shared_flow_limit.ts";
export type * from "./src/transport/types.ts";
export * from "./src/wire/java_serialization.ts";
export * from "./src/wire/java_hash_code.ts";
export * from "./src/wire/key_group.ts";
export * from "./src/wire/type_serializers.ts";
export * from "./src/wire/key_and_namespace.ts";
export * from "./src/wire/state_content.ts";
export * from "./src/transport/memory.ts";
export * from "./src/transport/listen.ts";
export * from "./src/server/stats.ts";
export * from "./src/server/request_outcome.ts";
export * from "./src/server/server_base.ts";
/** The logger every role's `logger` option takes (the rest of logging is in `./observability`). */
export { type Logger, SILENT_LOGGER } from "./src/observability/logger.ts";
export type { LogFields, LogLevel } from "./src/observability/log_record.ts";
export { IncompleteFrameTimeoutError } from "./src/server/connection_watchdog.ts";
export * from "./src/server/kv_state_server.ts";
export * from "./src/server/in_memory_states.ts";
export * from "./src/server/access_control.ts";
export * from "./src/server/cidr.ts";
export * from "./src/server/access_rules.ts";
export * from "./src/client/network_client.ts";
export * from "./src/oracle/kv_state_location.ts";
export * from "./src/oracle/oracle_registry.ts";
export * from "./src/oracle/in_memory_location_registry.ts";
export * from "./src/oracle/locations_file.ts";
export * from "./src/oracle/static_oracle.ts";
export * from "./src/proxy/kv_state_client_proxy.ts";
export * from "./src/proxy/location_cache.ts";
export * from "./src/client/queryable_state_client.ts";
