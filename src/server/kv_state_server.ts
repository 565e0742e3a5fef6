/**
 * The state server (Flink's `KvStateServer`): answers the proxy's
 * `KvStateInternalRequest`s from a registry of queryable states.
 *
 * @module
 */

import { QueryableStateError, stringifyError, UnknownKvStateIdError } from "../wire/errors.ts";
import { UnknownKeyOrNamespaceError, withSerializedThrowable } from "../wire/errors.ts";
import { ByteKeyMap } from "../wire/byte_key_map.ts";
import { type JobId, KvStateId } from "../wire/ids.ts";
import { writeJavaThrowable } from "../wire/java_serialization.ts";
import { decodeKvStateInternalRequest, type KvStateInternalRequest } from "../wire/messages.ts";
import {
  AbstractServer,
  type RequestContext,
  type RequestDescription,
  requestIdOf,
  type ServerOptions,
} from "./server_base.ts";

/** Flink's name for the state server, used in its messages. */
export const KV_STATE_SERVER_NAME = "Queryable State Server";

/**
 * One queryable state instance, as a state server sees it: serialized key
 * and namespace in, serialized content out.
 */
export interface QueryableState {
  /**
   * Looks a key up.
   *
   * @param serializedKeyAndNamespace The bytes the client sent (key, 42, namespace).
   * @param context The request id, and a signal aborted when the request's
   * deadline passes (created on first access; sync states need not touch it).
   * @returns The serialized content (PROTOCOL §8.5), or `null`/`undefined`
   * when the state holds nothing for the key. Throwing (for example on key
   * bytes that do not deserialize) fails the request as Flink's server does.
   */
  getSerializedValue(
    serializedKeyAndNamespace: Uint8Array,
    context: RequestContext,
  ): Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;

  /**
   * Optional: the same lookup, for a state that answers synchronously and
   * needs no request context (an in-memory state, for example). When a
   * state has it, the server calls it instead of `getSerializedValue`,
   * straight from the request's bytes, which saves the request's decoding
   * and bookkeeping. It must not keep `serializedKeyAndNamespace`.
   *
   * @param serializedKeyAndNamespace The bytes the client sent (key, 42, namespace).
   * @returns As `getSerializedValue`, never a promise.
   */
  getSerializedValueNow?(serializedKeyAndNamespace: Uint8Array): Uint8Array | null | undefined;
}

/**
 * What a state is registered with: its id, and optionally the job it
 * belongs to and its queryable state name. A state server's access filter
 * sees the job and the name only when the state was registered with them.
 *
 * @example
 * ```ts
 * import { JobId, type QueryableStateRegistration } from "@kvstate/queryable-state";
 *
 * const registration: QueryableStateRegistration = {
 *   jobId: JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8"),
 *   stateName: "word-counts",
 * };
 * registration.kvStateId; // => undefined
 * ```
 */
export interface QueryableStateRegistration {
  /** The state's id; random when omitted, as Flink assigns them. */
  readonly kvStateId?: KvStateId;
  /** The job the state belongs to, when known. */
  readonly jobId?: JobId;
  /** The state's queryable (registration) name, when known. */
  readonly stateName?: string;
}

/** A registered state and its description, built once. */
interface Entry {
  readonly state: QueryableState;
  readonly description: { readonly kvStateId: KvStateId; jobId?: JobId; stateName?: string };
}

/**
 * The states a server answers for, keyed by `KvStateID` (Flink's
 * `KvStateRegistry`), each with the job and name it was registered with.
 * {@linkcode KvStateRegistry.stateAt} and
 * {@linkcode KvStateRegistry.registrationAt} find a state from the 16 id
 * bytes where they lie in a frame, without allocating.
 *
 * @example
 * ```ts
 * import { JobId, KvStateRegistry } from "@kvstate/queryable-state";
 *
 * const registry = new KvStateRegistry();
 * const id = registry.register({ getSerializedValue: () => new Uint8Array([1]) });
 * registry.has(id); // => true
 * registry.unregister(id); // => true
 *
 * const jobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
 * const named = registry.register({ getSerializedValue: () => null }, { jobId, stateName: "counts" });
 * registry.registration(named)?.stateName; // => "counts"
 * ```
 */
export class KvStateRegistry {
  readonly #states = new ByteKeyMap<Entry>();
  /** A scratch copy of an id's bytes for the `KvStateId` methods. */
  readonly #idBytes = new Uint8Array(16);

  #bytesOf(kvStateId: KvStateId): Uint8Array {
    kvStateId.writeTo(this.#idBytes, 0);
    return this.#idBytes;
  }

  /**
   * Registers a state.
   *
   * @param state The state.
   * @param registration Its id (random when omitted, as Flink assigns them),
   * or a {@linkcode QueryableStateRegistration}: the id, the job and the name.
   * @returns The id.
   * @throws {TypeError} When the id is taken.
   */
  register(
    state: QueryableState,
    registration?: KvStateId | QueryableStateRegistration,
  ): KvStateId {
    const r: QueryableStateRegistration = registration instanceof KvStateId
      ? { kvStateId: registration }
      : registration ?? {};
    const kvStateId = r.kvStateId ?? KvStateId.random();
    const bytes = this.#bytesOf(kvStateId);
    if (this.#states.has(bytes)) {
      throw new TypeError(`A state is already registered with ID ${kvStateId}`);
    }
    const description: Entry["description"] = { kvStateId };
    if (r.jobId !== undefined) description.jobId = r.jobId;
    if (r.stateName !== undefined) description.stateName = r.stateName;
    this.#states.set(bytes, { state, description: Object.freeze(description) });
    return kvStateId;
  }

  /**
   * Removes a state.
   *
   * @param kvStateId The id.
   * @returns Whether a state was removed.
   */
  unregister(kvStateId: KvStateId): boolean {
    return this.#states.delete(this.#bytesOf(kvStateId));
  }

  /**
   * Whether a state is registered under the id.
   *
   * @param kvStateId The id.
   * @returns `true` when registered.
   */
  has(kvStateId: KvStateId): boolean {
    return this.#states.has(this.#bytesOf(kvStateId));
  }

  /**
   * The state registered under an id.
   *
   * @param kvStateId The id.
   * @returns The state, or `undefined`.
   */
  get(kvStateId: KvStateId): QueryableState | undefined {
    return this.#states.get(this.#bytesOf(kvStateId))?.state;
  }

  /**
   * What a state was registered with.
   *
   * @param kvStateId The id.
   * @returns Its id, and its job and name when registered with them (a
   * frozen object); `undefined` when no state is registered under the id.
   */
  registration(kvStateId: KvStateId): QueryableStateRegistration | undefined {
    return this.#states.get(this.#bytesOf(kvStateId))?.description;
  }

  /**
   * The state registered under the id whose 16 wire bytes are
   * `bytes[offset .. offset + 16)`, e.g. in a request frame: no `KvStateId`,
   * string or view is built. Keyed hashing keeps remote bytes from aiming at
   * one bucket.
   *
   * @example
   * ```ts
   * import { KvStateId, KvStateRegistry } from "@kvstate/queryable-state";
   *
   * const registry = new KvStateRegistry();
   * const state = { getSerializedValue: () => null };
   * const id = registry.register(state, KvStateId.fromHex("000102030405060708090a0b0c0d0e0f"));
   * const frame = new Uint8Array(20);
   * id.writeTo(frame, 4);
   * registry.stateAt(frame, 4) === state; // => true
   * registry.stateAt(frame, 3); // => undefined
   * registry.stateAt(frame, 5); // => undefined
   * ```
   *
   * @param bytes The bytes holding the id.
   * @param offset Where the id starts.
   * @returns The state, or `undefined` when none is registered under the id
   * or fewer than 16 bytes follow `offset`.
   */
  stateAt(bytes: Uint8Array, offset: number): QueryableState | undefined {
    if (!(offset >= 0 && bytes.length - offset >= 16)) return undefined;
    return this.#states.get(bytes, offset, offset + 16)?.state;
  }

  /**
   * What the state under the id at `bytes[offset .. offset + 16)` was
   * registered with (see {@linkcode KvStateRegistry.registration}), found
   * as {@linkcode KvStateRegistry.stateAt} finds the state.
   *
   * @example
   * ```ts
   * import { KvStateRegistry } from "@kvstate/queryable-state";
   *
   * const registry = new KvStateRegistry();
   * const id = registry.register({ getSerializedValue: () => null }, { stateName: "counts" });
   * const frame = new Uint8Array(16);
   * id.writeTo(frame, 0);
   * registry.registrationAt(frame, 0)?.stateName; // => "counts"
   * registry.registrationAt(frame, 0)?.kvStateId === id; // => true
   * registry.unregister(id);
   * registry.registrationAt(frame, 0); // => undefined
   * ```
   *
   * @param bytes The bytes holding the id.
   * @param offset Where the id starts.
   * @returns The shared frozen registration, or `undefined` when none is
   * registered under the id or fewer than 16 bytes follow `offset`.
   */
  registrationAt(bytes: Uint8Array, offset: number): QueryableStateRegistration | undefined {
    if (!(offset >= 0 && bytes.length - offset >= 16)) return undefined;
    return this.#states.get(bytes, offset, offset + 16)?.description;
  }

  /** The number of registered states. */
  get size(): number {
    return this.#states.size;
  }
}

/** Options of {@linkcode KvStateServer}. */
export interface KvStateServerOptions extends ServerOptions {
  /** The registry to answer from; a new empty one when omitted. */
  readonly registry?: KvStateRegistry;
  /** The name in messages. Default `Queryable State Server`, as Flink's. */
  readonly serverName?: string;
}

/**
 * The state server. It answers each `KvStateInternalRequest` from its
 * registry, with Flink's failures: an unknown id gives
 * `UnknownKvStateIdException`, an absent key `UnknownKeyOrNamespaceException`
 * (both sent as is, so a proxy re-looks-up or relays them), and any error of
 * the state (for example key bytes that do not deserialize) a wrapped
 * `RuntimeException` with Flink's messages.
 *
 * @example Serve one value state in memory
 * ```ts
 * import { InMemoryValueState, KvStateServer, MemoryTransport, TYPE_SERIALIZERS } from "@kvstate/queryable-state";
 *
 * const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long);
 * counts.set("hello", 42n);
 * await using server = new KvStateServer({ transport: new MemoryTransport() });
 * const id = server.registry.register(counts);
 * await server.start();
 * id.toString().length; // => 32
 * ```
 */
export class KvStateServer extends AbstractServer<KvStateInternalRequest> {
  /** The states this server answers for. */
  readonly registry: KvStateRegistry;
  readonly #unknownKey: UnknownKeyOrNamespaceError;

  /**
   * Creates a KvStateServer.
   *
   * @param options Binding, bounds, the registry.
   */
  constructor(options: KvStateServerOptions = {}) {
    super(options.serverName ?? KV_STATE_SERVER_NAME, options);
    this.registry = options.registry ?? new KvStateRegistry();
    const missing = new UnknownKeyOrNamespaceError(
      `${this.serverName} : No state for the specified key/namespace.`,
    );
    // A constant failure: encode it once.
    this.#unknownKey = withSerializedThrowable(
      missing,
      writeJavaThrowable(missing.toJavaThrowable()),
    );
  }

  /** Decodes a REQUEST body (see {@linkcode AbstractServer}). */
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }

  /**
   * Answers a request for a state with `getSerializedValueNow` straight
   * from the frame's bytes (see {@linkcode AbstractServer}): the state is
   * found by the id's bytes and asked with a view of the key bytes; nothing
   * is decoded. Anything else (an unknown id, a state without it, a body of
   * another shape) takes the regular path.
   *
   * @param bytes The buffer holding the request.
   * @param start Where the body starts: the id, the key length, the key bytes.
   * @param end Where it ends.
   * @returns The content, or `undefined` for the regular path.
   */
  protected override answerInPlace(
    bytes: Uint8Array,
    start: number,
    end: number,
  ): Uint8Array | undefined {
    if (end - start < 20) return undefined;
    const state = this.registry.stateAt(bytes, start);
    if (state === undefined || state.getSerializedValueNow === undefined) return undefined;
    const at = start + 16;
    const n = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
    // Exactly the key bytes after the length, as the regular decoding takes them.
    if (n < 0 || n > end - at - 4) return undefined;
    let result: Uint8Array | null | undefined;
    try {
      result = state.getSerializedValueNow(bytes.subarray(at + 4, at + 4 + n));
    } catch (err) {
      throw this.#processingError(requestIdOf(bytes.subarray(start - 16, end)), err);
    }
    if (result == null) throw this.#unknownKey;
    return result;
  }

  /**
   * What the access filter sees of a request (see {@linkcode AbstractServer}):
   * its `KvStateID`, and the job and state name the state was registered
   * with (none for a state registered without them or an unknown id).
   *
   * @param request The decoded request.
   * @returns The description (shared per registered state, not a copy).
   */
  protected override describeRequest(
    request: KvStateInternalRequest,
  ): RequestDescription {
    return this.registry.registration(request.kvStateId) ?? { kvStateId: request.kvStateId };
  }

  /** Answers one request (see {@linkcode AbstractServer}). */
  protected handleRequest(
    request: KvStateInternalRequest,
    context: RequestContext,
  ): Uint8Array | Promise<Uint8Array> {
    const state = this.registry.get(request.kvStateId);
    if (state === undefined) {
      throw new UnknownKvStateIdError(
        `${this.serverName} : No registered state with ID ${request.kvStateId}.`,
      );
    }
    let result: ReturnType<QueryableState["getSerializedValue"]>;
    try {
      result = state.getSerializedValue(request.serializedKeyAndNamespace, context);
    } catch (err) {
      throw this.#processingError(context.requestId, err);
    }
    if (result instanceof Uint8Array) return result;
    if (result == null) throw this.#unknownKey;
    return result.then(
      (value) => {
        if (value == null) throw this.#unknownKey;
        return value;
      },
      (err) => {
        throw this.#processingError(context.requestId, err);
      },
    );
  }

  #processingError(requestId: bigint, err: unknown): QueryableStateError {
    return new QueryableStateError(
      `Error while processing request with ID ${requestId}. Caused by: ${stringifyError(err)}`,
      // Flink sets no cause here: the cause lives only in the message.
      "java.lang.RuntimeException",
    );
  }
}
