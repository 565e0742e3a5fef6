/**
 * Frame and message-body codecs (PROTOCOL §1–§2).
 *
 * A frame on the wire is `[i32 length][i32 version][i32 type][i64 id]?[body]`.
 * The encoders here return complete frames, length prefix included, each in
 * one `Uint8Array`. The decoders take a frame *without* its length prefix
 * (what {@linkcode FrameDecoderStream} emits) and return views into it, never
 * copies.
 *
 * @module
 */

import { ByteReader } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import { JobId, KvStateId } from "./ids.ts";

/** The protocol's magic version number, `0x79A1B710`. */
export const VERSION = 0x79a1b710;

/** Size of the length prefix. */
export const LENGTH_PREFIX_SIZE = 4;
/** Size of the header after the length prefix (version + type). */
export const HEADER_SIZE = 8;
/** Size of a request id. */
export const REQUEST_ID_SIZE = 8;

/** The message types (Flink's `MessageType` ordinals). */
export const MessageType = {
  /** A request (client to proxy, or proxy to state server). */
  REQUEST: 0,
  /** A successful response. */
  REQUEST_RESULT: 1,
  /** A failed request; the body is a Java-serialized Throwable. */
  REQUEST_FAILURE: 2,
  /** A failure not tied to a request (no request id); fatal to a client connection. */
  SERVER_FAILURE: 3,
} as const;

/** A message type ordinal, 0 to 3. */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** The enum names, indexed by ordinal, as Java prints them. */
export const MESSAGE_TYPE_NAMES: readonly string[] = [
  "REQUEST",
  "REQUEST_RESULT",
  "REQUEST_FAILURE",
  "SERVER_FAILURE",
];

/** A client's request to the proxy (`KvStateRequest`). */
export interface KvStateRequest {
  /** The job that owns the state. */
  readonly jobId: JobId;
  /** The queryable state's registration name. */
  readonly stateName: string;
  /** Java `hashCode()` of the key; the proxy routes by it. */
  readonly keyHashCode: number;
  /** Serialized key, magic byte 42, serialized namespace; opaque to the proxy. */
  readonly serializedKeyAndNamespace: Uint8Array;
}

/** The proxy's request to a state server (`KvStateInternalRequest`). */
export interface KvStateInternalRequest {
  /** The state instance on that server. */
  readonly kvStateId: KvStateId;
  /** The bytes the client sent. */
  readonly serializedKeyAndNamespace: Uint8Array;
}

/** A decoded frame: header fields and a view of the body. */
export type Message =
  | {
    readonly type: 0 | 1 | 2;
    readonly requestId: bigint;
    /** The body after the request id (a view into the frame). */
    readonly body: Uint8Array;
  }
  | {
    readonly type: 3;
    /** The body after the header (a view into the frame). */
    readonly body: Uint8Array;
  };

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

// Requests repeat the same few job ids and state names: decoding them anew
// for every request costs an allocation and a UTF-8 decode each. These small
// caches return the same (immutable) values for the same bytes.
const CACHE_SIZE = 16;
const jobIdCache: JobId[] = [];
let jobIdNext = 0;
const nameCacheBytes: Uint8Array[] = [];
const nameCacheStrings: string[] = [];
let nameNext = 0;

function jobIdAt(body: Uint8Array, offset = 0): JobId {
  for (let i = 0; i < jobIdCache.length; i++) {
    if (jobIdCache[i].hasBytes(body, offset)) return jobIdCache[i];
  }
  const id = new JobId(body.subarray(offset, offset + 16));
  jobIdCache[jobIdNext] = id;
  jobIdNext = (jobIdNext + 1) % CACHE_SIZE;
  return id;
}

/** The string of the UTF-8 bytes `buf[start..end)`, from the cache when seen recently. */
function nameOf(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  outer: for (let i = 0; i < nameCacheBytes.length; i++) {
    const c = nameCacheBytes[i];
    if (c.length !== n) continue;
    for (let j = 0; j < n; j++) if (c[j] !== buf[start + j]) continue outer;
    return nameCacheStrings[i];
  }
  const bytes = buf.subarray(start, end);
  const s = utf8Decoder.decode(bytes);
  if (n <= 256) {
    nameCacheBytes[nameNext] = bytes.slice();
    nameCacheStrings[nameNext] = s;
    nameNext = (nameNext + 1) % CACHE_SIZE;
  }
  return s;
}

function nameOfBytes(bytes: Uint8Array): string {
  return nameOf(bytes, 0, bytes.length);
}

/**
 * Validates the version and message type at the start of a frame (after the
 * length prefix), with Flink's exact messages.
 *
 * @example
 * ```ts
 * import { ByteReader, readFrameHeader } from "@kvstate/queryable-state/wire";
 *
 * readFrameHeader(new ByteReader(new Uint8Array([0x79, 0xa1, 0xb7, 0x10, 0, 0, 0, 1]))); // => 1
 * ```
 *
 * @param r A reader positioned at the version field.
 * @returns The message type.
 * @throws {ProtocolError} `Version Mismatch: ...` or `Illegal message type ...`, or a truncation.
 */
export function readFrameHeader(r: ByteReader): MessageType {
  const version = r.readInt32();
  if (version !== VERSION) {
    throw new ProtocolError(`Version Mismatch:  Found ${version}, Expected: ${VERSION}.`);
  }
  const type = r.readInt32();
  if (type < 0 || type > 3) {
    throw new ProtocolError(`Illegal message type with index ${type}.`);
  }
  return type as MessageType;
}

/**
 * Decodes a frame's header and request id, as a client reads responses.
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeKvStateResponse } from "@kvstate/queryable-state/wire";
 *
 * const frame = encodeKvStateResponse(7n, new Uint8Array([1, 2]));
 * const m = decodeMessage(frame.subarray(4));
 * m.type; // => 1
 * ```
 *
 * @param frame A frame without its length prefix.
 * @returns The message.
 * @throws {ProtocolError} On a bad header or a truncated id.
 */
export function decodeMessage(frame: Uint8Array): Message {
  const r = new ByteReader(frame);
  const type = readFrameHeader(r);
  if (type === MessageType.SERVER_FAILURE) {
    return { type, body: frame.subarray(HEADER_SIZE) };
  }
  const requestId = r.readInt64();
  return { type, requestId, body: frame.subarray(HEADER_SIZE + REQUEST_ID_SIZE) };
}

function writeHeader(view: DataView, frameSize: number, type: MessageType): void {
  view.setInt32(0, frameSize - LENGTH_PREFIX_SIZE);
  view.setInt32(4, VERSION);
  view.setInt32(8, type);
}

function encodeUtf8(s: string): Uint8Array {
  // Java's String.getBytes(UTF_8) writes '?' for an unpaired surrogate.
  if (!s.isWellFormed()) s = s.replace(/[\uD800-\uDFFF]/gu, "?");
  return utf8Encoder.encode(s);
}

/**
 * Encodes a `KvStateRequest` frame (client to proxy).
 *
 * @example The worked example of PROTOCOL §2.7
 * ```ts
 * import { encodeKvStateRequest, fromHex, JobId, toHex } from "@kvstate/queryable-state/wire";
 *
 * const frame = encodeKvStateRequest(0n, {
 *   jobId: JobId.fromHex("fd72014d4c864993a2e5a9287b4a9c5d"),
 *   stateName: "query-name",
 *   keyHashCode: 99162322,
 *   serializedKeyAndNamespace: fromHex("0668656c6c6f2a00"),
 * });
 * frame.length; // => 66
 * toHex(frame.subarray(0, 4)); // => "0000003e"
 * ```
 *
 * @param requestId The request id.
 * @param req The request.
 * @returns The complete frame.
 */
export function encodeKvStateRequest(requestId: bigint, req: KvStateRequest): Uint8Array {
  const name = encodeUtf8(req.stateName);
  const kn = req.serializedKeyAndNamespace;
  const size = 4 + 8 + 8 + 16 + 4 + name.length + 4 + 4 + kn.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  writeHeader(v, size, MessageType.REQUEST);
  v.setBigInt64(12, BigInt.asIntN(64, requestId));
  req.jobId.writeTo(out, 20);
  v.setInt32(36, name.length);
  out.set(name, 40);
  let p = 40 + name.length;
  v.setInt32(p, req.keyHashCode | 0);
  v.setInt32(p + 4, kn.length);
  p += 8;
  out.set(kn, p);
  return out;
}

/**
 * Decodes a `KvStateRequest` body, with Flink's errors.
 *
 * @example
 * ```ts
 * import {
 *   decodeKvStateRequest,
 *   decodeMessage,
 *   encodeKvStateRequest,
 *   JobId,
 * } from "@kvstate/queryable-state/wire";
 *
 * const frame = encodeKvStateRequest(1n, {
 *   jobId: JobId.DEFAULT, stateName: "s", keyHashCode: 5, serializedKeyAndNamespace: new Uint8Array([2, 0x61, 42, 0]),
 * });
 * decodeKvStateRequest(decodeMessage(frame.subarray(4)).body).stateName; // => "s"
 * ```
 *
 * @param body The body after the request id.
 * @returns The request; `serializedKeyAndNamespace` is a view into `body`.
 * @throws {ProtocolError} On a negative length (`IllegalArgumentException`) or truncation (`IndexOutOfBoundsException`).
 */
export function decodeKvStateRequest(body: Uint8Array): KvStateRequest {
  return decodeKvStateRequestAt(body, 0, body.length);
}

/**
 * {@linkcode decodeKvStateRequest} of the body `bytes[start, end)`, read in
 * place (no view of the body is made; `serializedKeyAndNamespace` is a view
 * into `bytes`).
 *
 * @example
 * ```ts
 * import {
 *   decodeKvStateRequestAt,
 *   encodeKvStateRequest,
 *   JobId,
 * } from "@kvstate/queryable-state/wire";
 *
 * const frame = encodeKvStateRequest(1n, {
 *   jobId: JobId.DEFAULT, stateName: "s", keyHashCode: 5, serializedKeyAndNamespace: new Uint8Array([2, 0x61, 42, 0]),
 * });
 * decodeKvStateRequestAt(frame, 20, frame.length).keyHashCode; // => 5
 * ```
 *
 * @param bytes The buffer holding the body.
 * @param start Where the body (after the request id) starts.
 * @param end Where it ends.
 * @returns The request.
 * @throws {ProtocolError} As {@linkcode decodeKvStateRequest}.
 */
export function decodeKvStateRequestAt(
  bytes: Uint8Array,
  start: number,
  end: number,
): KvStateRequest {
  // Fast path: everything present and well-formed, read in place.
  if (end - start >= 28) {
    const nameLen = int32At(bytes, start + 16);
    const at = start + 20 + nameLen;
    if (nameLen >= 0 && at + 8 <= end) {
      const knLen = int32At(bytes, at + 4);
      if (knLen >= 0 && at + 8 + knLen <= end) {
        return {
          jobId: jobIdAt(bytes, start),
          stateName: nameLen === 0 ? "" : nameOf(bytes, start + 20, at),
          keyHashCode: int32At(bytes, at),
          serializedKeyAndNamespace: bytes.subarray(at + 8, at + 8 + knLen),
        };
      }
    }
  }
  return decodeKvStateRequestChecked(bytes.subarray(start, end));
}

function int32At(b: Uint8Array, i: number): number {
  return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
}

/** The field-by-field decoder, which raises Flink's exact errors. */
function decodeKvStateRequestChecked(body: Uint8Array): KvStateRequest {
  const r = new ByteReader(body);
  r.require(16);
  const jobId = jobIdAt(body);
  r.skip(16);
  const nameLen = r.readInt32();
  if (nameLen < 0) {
    throw new ProtocolError(
      "Negative length for state name. This indicates a serialization error.",
      "java.lang.IllegalArgumentException",
    );
  }
  const stateName = nameLen === 0 ? "" : nameOfBytes(r.readBytes(nameLen));
  const keyHashCode = r.readInt32();
  const knLen = r.readInt32();
  if (knLen < 0) {
    throw new ProtocolError(
      "Negative length for key and namespace. This indicates a serialization error.",
      "java.lang.IllegalArgumentException",
    );
  }
  const serializedKeyAndNamespace = r.readBytes(knLen);
  return { jobId, stateName, keyHashCode, serializedKeyAndNamespace };
}

/**
 * Encodes a `KvStateInternalRequest` frame (proxy to state server).
 *
 * @example The worked example of PROTOCOL §2.7
 * ```ts
 * import { encodeKvStateInternalRequest, fromHex, KvStateId } from "@kvstate/queryable-state/wire";
 *
 * encodeKvStateInternalRequest(5n, {
 *   kvStateId: KvStateId.fromHex("0123456789abcdef0011223344556677"),
 *   serializedKeyAndNamespace: fromHex("0668656c6c6f2a00"),
 * }).length; // => 48
 * ```
 *
 * @param requestId The request id.
 * @param req The request.
 * @returns The complete frame.
 */
export function encodeKvStateInternalRequest(
  requestId: bigint,
  req: KvStateInternalRequest,
): Uint8Array {
  const kn = req.serializedKeyAndNamespace;
  const size = 4 + 8 + 8 + 16 + 4 + kn.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  writeHeader(v, size, MessageType.REQUEST);
  v.setBigInt64(12, BigInt.asIntN(64, requestId));
  req.kvStateId.writeTo(out, 20);
  v.setInt32(36, kn.length);
  out.set(kn, 40);
  return out;
}

/**
 * Decodes a `KvStateInternalRequest` body, with Flink's errors.
 *
 * @example
 * ```ts
 * import {
 *   decodeKvStateInternalRequest,
 *   decodeMessage,
 *   encodeKvStateInternalRequest,
 *   KvStateId,
 * } from "@kvstate/queryable-state/wire";
 *
 * const id = KvStateId.random();
 * const frame = encodeKvStateInternalRequest(5n, { kvStateId: id, serializedKeyAndNamespace: new Uint8Array(3) });
 * decodeKvStateInternalRequest(decodeMessage(frame.subarray(4)).body).kvStateId.equals(id); // => true
 * ```
 *
 * @param body The body after the request id.
 * @returns The request; `serializedKeyAndNamespace` is a view into `body`.
 * @throws {ProtocolError} On a negative length or truncation.
 */
export function decodeKvStateInternalRequest(body: Uint8Array): KvStateInternalRequest {
  const r = new ByteReader(body);
  r.require(16);
  const kvStateId = new KvStateId(body.subarray(0, 16));
  r.skip(16);
  const knLen = r.readInt32();
  if (knLen < 0) {
    throw new ProtocolError(
      "Negative length for key and namespace. This indicates a serialization error.",
      "java.lang.IllegalArgumentException",
    );
  }
  return { kvStateId, serializedKeyAndNamespace: r.readBytes(knLen) };
}

/**
 * Encodes a REQUEST_RESULT frame carrying a `KvStateResponse`.
 *
 * @example PROTOCOL §2.7: ValueState<Long> = 42
 * ```ts
 * import { encodeKvStateResponse, fromHex, toHex } from "@kvstate/queryable-state/wire";
 *
 * toHex(encodeKvStateResponse(0n, fromHex("000000000000002a")));
 * // => "0000001c79a1b71000000001000000000000000000000008000000000000002a"
 * ```
 *
 * @param requestId The id of the request answered.
 * @param content The serialized state content.
 * @returns The complete frame.
 */
export function encodeKvStateResponse(requestId: bigint, content: Uint8Array): Uint8Array {
  const size = 4 + 8 + 8 + 4 + content.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  writeHeader(v, size, MessageType.REQUEST_RESULT);
  v.setBigInt64(12, BigInt.asIntN(64, requestId));
  v.setInt32(20, content.length);
  out.set(content, 24);
  return out;
}

/**
 * Decodes a `KvStateResponse` body.
 *
 * @example
 * ```ts
 * import { decodeKvStateResponse } from "@kvstate/queryable-state/wire";
 *
 * decodeKvStateResponse(new Uint8Array([0, 0, 0, 1, 0xff])); // => Uint8Array [ 255 ]
 * ```
 *
 * @param body The body after the request id.
 * @returns The content (a view into `body`).
 * @throws {ProtocolError} On a negative length or truncation.
 */
export function decodeKvStateResponse(body: Uint8Array): Uint8Array {
  if (body.length >= 4) {
    const len = int32At(body, 0);
    if (len >= 0 && 4 + len <= body.length) return body.subarray(4, 4 + len);
  }
  const r = new ByteReader(body);
  const len = r.readInt32();
  if (len < 0) {
    throw new ProtocolError(
      "Negative length for state content. This indicates a serialization error.",
      "java.lang.IllegalArgumentException",
    );
  }
  return r.readBytes(len);
}

/**
 * Encodes a REQUEST_FAILURE frame around a Java serialization stream.
 *
 * @example
 * ```ts
 * import { encodeRequestFailure } from "@kvstate/queryable-state/wire";
 *
 * encodeRequestFailure(7n, new Uint8Array([0xac, 0xed, 0, 5])).length; // => 24
 * ```
 *
 * @param requestId The id of the failed request.
 * @param serializedThrowable One Java serialization stream holding a Throwable.
 * @returns The complete frame.
 */
export function encodeRequestFailure(
  requestId: bigint,
  serializedThrowable: Uint8Array,
): Uint8Array {
  const size = 4 + 8 + 8 + serializedThrowable.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  writeHeader(v, size, MessageType.REQUEST_FAILURE);
  v.setBigInt64(12, BigInt.asIntN(64, requestId));
  out.set(serializedThrowable, 20);
  return out;
}

/**
 * Encodes a SERVER_FAILURE frame (no request id) around a Java
 * serialization stream.
 *
 * @example
 * ```ts
 * import { encodeServerFailure } from "@kvstate/queryable-state/wire";
 *
 * encodeServerFailure(new Uint8Array([0xac, 0xed, 0, 5])).length; // => 16
 * ```
 *
 * @param serializedThrowable One Java serialization stream holding a Throwable.
 * @returns The complete frame.
 */
export function encodeServerFailure(serializedThrowable: Uint8Array): Uint8Array {
  const size = 4 + 8 + serializedThrowable.length;
  const out = new Uint8Array(size);
  writeHeader(new DataView(out.buffer), size, MessageType.SERVER_FAILURE);
  out.set(serializedThrowable, 12);
  return out;
}
