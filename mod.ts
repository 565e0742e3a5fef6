/**
 * Apache Flink's Queryable State protocol, byte for byte, in TypeScript:
 * the wire codecs, the framing streams, and (in later layers) the state
 * server, the client proxy and the typed client.
 *
 * This entry point is web-standard only; sockets come from
 * `@kvstate/queryable-state/deno` or `@kvstate/queryable-state/node`.
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
