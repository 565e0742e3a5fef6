/**
 * The protocol machinery under the roles, for tools that speak Flink's
 * Queryable State wire format themselves (a sniffer, a fuzzer, a server of
 * your own): the frame and message codecs (PROTOCOL §1–§2), Flink's type
 * serializers and the key-and-namespace and state-content layouts, Java's
 * `hashCode()` of keys and Flink's key groups, the Java Object Serialization
 * of failures (`Throwable`s), and the byte reader and writer they are built
 * on. The ids ({@linkcode JobId}, {@linkcode KvStateId}) and the errors the
 * codecs throw are re-exported here as the same classes the root entry
 * point exports (one copy of each).
 *
 * The client, the proxy, the server, the states and the oracles are at
 * `@kvstate/queryable-state`; the framing streams at
 * `@kvstate/queryable-state/streams`.
 *
 * @example Encode a KvStateRequest frame, decode a state's bytes
 * ```ts
 * import {
 *   decodeValueContent,
 *   encodeKvStateRequest,
 *   fromHex,
 *   JobId,
 *   serializeKeyAndNamespace,
 *   stringHashCode,
 *   toHex,
 *   TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state/wire";
 *
 * // What Flink's QueryableStateClient sends for the key "hello" of a String-keyed state:
 * const frame = encodeKvStateRequest(0n, {
 *   jobId: JobId.fromHex("fd72014d4c864993a2e5a9287b4a9c5d"),
 *   stateName: "query-name",
 *   keyHashCode: stringHashCode("hello"), // 99162322
 *   serializedKeyAndNamespace: serializeKeyAndNamespace("hello", TYPE_SERIALIZERS.string),
 * });
 * toHex(frame.subarray(0, 12)); // => "0000003e79a1b71000000000"
 *
 * // The bytes of a ValueState<Long> as a response carries them:
 * decodeValueContent(TYPE_SERIALIZERS.long, fromHex("000000000000002a")); // => 42n
 * ```
 *
 * @example A frame's message, decoded
 * ```ts
 * import { decodeMessage, encodeKvStateResponse, MessageType } from "@kvstate/queryable-state/wire";
 *
 * const frame = encodeKvStateResponse(7n, new Uint8Array([1, 2, 3]));
 * const message = decodeMessage(frame.subarray(4)); // the frame without its length prefix
 * message.type === MessageType.REQUEST_RESULT; // => true
 * ```
 *
 * @module
 */

export * from "./bytes.ts";
export * from "./messages.ts";
export * from "./type_serializers.ts";
export * from "./key_and_namespace.ts";
export * from "./state_content.ts";
export * from "./java_hash_code.ts";
export * from "./key_group.ts";
export * from "./java_serialization.ts";
export * from "./java_throwable.ts";
export * from "./tick_clock.ts";
export * from "./ids.ts";
export * from "./errors.ts";
