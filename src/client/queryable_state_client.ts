/**
 * The typed client (Flink's `QueryableStateClient`).
 *
 * @module
 */

import type { NetAddress } from "../transport/types.ts";
import { parseProxyAddresses, type ProxyAddresses } from "../upstream/proxy_addresses.ts";
import { ProxyPool, type ProxyPoolFailoverOptions } from "../upstream/proxy_pool.ts";
import { ClosedError } from "../wire/errors.ts";
import { JobId } from "../wire/ids.ts";
import { serializeKeyAndNamespace } from "../wire/key_and_namespace.ts";
import { decodeListContent, decodeMapContent, decodeValueContent } from "../wire/state_content.ts";
import { errorAtRoot, TypeDecodeError } from "../types/type_errors.ts";
import {
  type JsTypeOf,
  serializerFor,
  type TypeName,
  type TypeSerializer,
} from "../wire/type_serializers.ts";
import { NetworkClient, type NetworkClientOptions, type RequestOptions } from "./network_client.ts";

/**
 * A type given by name (`"string"`, `"long"`, …) or as a serializer: a
 * type descriptor (`types.tuple(types.string, types.long)`, `types.pojo({…})`;
 * from text with `parseType("tuple<string,long>")`) or any
 * {@linkcode TypeSerializer}. With a descriptor, TypeScript infers the
 * decoded value's type, and errors name their path: the key's from `key`
 * (`key[1]`), the value's from `value` (`value.customer.age`), a map key's
 * from `mapKey`.
 */
export type TypeSpec = TypeName | TypeSerializer<unknown>;

/** The JavaScript type a {@linkcode TypeSpec} stands for. */
export type JsTypeOfSpec<T extends TypeSpec> = T extends TypeName ? JsTypeOf<T>
  : T extends TypeSerializer<infer X> ? X
  : never;

/** The state kinds the client decodes. Reducing and aggregating state answer like value state. */
export type StateKind = "value" | "list" | "map";

/** Options of a value-state query. */
export interface ValueStateQuery<K extends TypeSpec, V extends TypeSpec> extends RequestOptions {
  /** The key type. */
  readonly keyType: K;
  /** The value type. */
  readonly valueType: V;
  /** `"value"` (default): also for reducing and aggregating state (the accumulator). */
  readonly stateKind?: "value";
}

/** Options of a list-state query. */
export interface ListStateQuery<K extends TypeSpec, V extends TypeSpec> extends RequestOptions {
  /** The key type. */
  readonly keyType: K;
  /** The element type. */
  readonly valueType: V;
  /** `"list"`. */
  readonly stateKind: "list";
}

/** Options of a map-state query. */
export interface MapStateQuery<K extends TypeSpec, MK extends TypeSpec, V extends TypeSpec>
  extends RequestOptions {
  /** The state key type. */
  readonly keyType: K;
  /** The map key type. */
  readonly mapKeyType: MK;
  /** The map value type. */
  readonly valueType: V;
  /** `"map"`. */
  readonly stateKind: "map";
}

/**
 * Options of {@linkcode QueryableStateClient}: the proxy, plus the network
 * client's (`requestTimeoutMs` default 30,000, `connectTimeoutMs` default
 * 10,000, `maxQueuedBytesPerConnection` default 16 MiB, ...; see
 * {@linkcode NetworkClientOptions}).
 */
export interface QueryableStateClientOptions extends Omit<NetworkClientOptions, "clientName"> {
  /**
   * The proxy to query, or several: an address, `"host:port"` (`"host"`
   * alone: port 9069, Flink's default; `"[v6]:port"` for IPv6), several
   * separated by commas (`"tm-1:9069,tm-2:9069"`), or an array of these.
   * With several, queries go through a {@linkcode ProxyPool}: to the proxy
   * with the fewest queries in flight, and to another one when a proxy does
   * not answer (a failed connect, a connection lost under the query, an
   * attempt past `failover.attemptTimeoutMs`), within the query's deadline;
   * a proxy that fails is left out and probed back with backoff. With one,
   * the client talks to it directly, as Flink's client does. (To query
   * through a pool made elsewhere, e.g. fed by a discovery, give `pool`
   * instead: {@linkcode QueryableStateClientPoolOptions}.)
   */
  readonly proxy: ProxyAddresses;
  /** Not with `proxy` (see {@linkcode QueryableStateClientPoolOptions}). */
  readonly pool?: undefined;
  /**
   * With several proxies: attempts per query (default 3), the deadline of
   * one attempt (default 10,000 ms), the probes' timeout (default 5,000 ms)
   * and backoff (250 ms doubling to 10,000 ms); see
   * {@linkcode ProxyPoolFailoverOptions}. Ignored with one proxy.
   */
  readonly failover?: ProxyPoolFailoverOptions;
}

/**
 * Options of a {@linkcode QueryableStateClient} that queries through a
 * {@linkcode ProxyPool} made elsewhere: one fed by a discovery
 * (`FlinkRestDiscovery` calling `pool.setMembers`), or shared by several
 * clients. The transport, the network bounds, the failover rules and the
 * default deadline are the pool's.
 */
export interface QueryableStateClientPoolOptions {
  /**
   * The pool every query goes through. The client does not own it: its
   * `close()` leaves the pool open (queries in flight through it are not
   * cancelled); close the pool yourself, after the clients that use it.
   */
  readonly pool: ProxyPool;
  /** Not with `pool`: the pool has its members. */
  readonly proxy?: undefined;
}

/** A query of any state kind (what the overloads' implementations take). */
type AnyStateQuery =
  | ValueStateQuery<TypeSpec, TypeSpec>
  | ListStateQuery<TypeSpec, TypeSpec>
  | MapStateQuery<TypeSpec, TypeSpec, TypeSpec>;

function serializerOf(spec: TypeSpec): TypeSerializer<unknown> {
  return typeof spec === "string" ? serializerFor(spec) as TypeSerializer<unknown> : spec;
}

/**
 * A decoding failure with its path rooted where it happened: `value` (an
 * element's cause for list state), or `mapKey` when a map key's bytes fail
 * (found by decoding again, on this error path only).
 */
function decodeErrorAtRoot(
  err: unknown,
  kind: StateKind,
  mapKeySerializer: TypeSerializer<unknown> | null,
  valueSerializer: TypeSerializer<unknown>,
  content: Uint8Array,
): unknown {
  if (kind === "list") {
    const cause = (err as { cause?: unknown })?.cause;
    return errorAtRoot(cause instanceof TypeDecodeError ? cause : err, "value");
  }
  if (kind !== "map" || mapKeySerializer === null) return errorAtRoot(err, "value");
  let root = "value";
  const keys: TypeSerializer<unknown> = {
    name: mapKeySerializer.name,
    serialize: (v, out) => mapKeySerializer.serialize(v, out),
    deserialize: (input) => {
      try {
        return mapKeySerializer.deserialize(input);
      } catch (e) {
        root = "mapKey";
        throw e;
      }
    },
    hashCode: (v) => mapKeySerializer.hashCode(v),
  };
  try {
    decodeMapContent(keys, valueSerializer, content);
  } catch {
    // The same failure again: `root` now says whose bytes failed.
  }
  return errorAtRoot(err, root);
}

/**
 * Queries Flink queryable state through a client proxy (ours or Flink's
 * own): computes the key's Java `hashCode()` and its serialized form with
 * VoidNamespace exactly as Flink's `QueryableStateClient` does, and decodes
 * value, list and map state into JavaScript values. Failures reject with the
 * module's typed errors (e.g. `UnknownKeyOrNamespaceError` for a missing
 * key, `RemoteError` carrying the Java class and message otherwise);
 * `getKvStateIfPresent` and `getKvStateBytesIfPresent` resolve `undefined`
 * for a missing key instead, and build no error for it. An unknown state
 * or job, which a proxy (Flink's or ours) reports as a `RuntimeException`
 * with the cause only in its text, rejects with the typed error of that
 * cause (`UnknownKvStateLocationError`, `UnknownLocationError`,
 * `FlinkJobNotFoundError`, …), the `RuntimeException` kept as its `cause`
 * (see `errorFromJavaThrowable`).
 *
 * Unlike Flink's client, it does not wait forever: a query rejects with
 * `DeadlineExceededError` after `requestTimeoutMs` (default 30 s; a query's
 * own `timeoutMs` or `signal` overrides it), and a connection attempt fails
 * with `ConnectError` after `connectTimeoutMs` (default 10 s). Its
 * connection asks the transport for TCP keepalive.
 *
 * @example Query an in-process state plane
 * ```ts
 * import {
 *   InMemoryLocationRegistry, InMemoryValueState, JobId, JobVertexId, KvStateClientProxy,
 *   KvStateServer, MemoryTransport, QueryableStateClient, TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state";
 *
 * const transport = new MemoryTransport();
 * await using server = new KvStateServer({ transport });
 * const kvStateId = server.registry.register(
 *   new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set("hello", 42n),
 * );
 * const jobId = JobId.random();
 * const locations = new InMemoryLocationRegistry();
 * locations.notifyKvStateRegistered({
 *   jobId, jobVertexId: JobVertexId.random(), registrationName: "word-counts",
 *   numKeyGroups: 128, start: 0, end: 127, kvStateId, address: await server.start(),
 * });
 * await using proxy = new KvStateClientProxy({ transport });
 * proxy.updateKvStateLocationOracle(jobId, locations);
 *
 * await using client = new QueryableStateClient({ transport, proxy: await proxy.start() });
 * await client.getKvState(jobId, "word-counts", "hello", { keyType: "string", valueType: "long" });
 * // => 42n
 * ```
 */
export class QueryableStateClient {
  /** The proxies given (one, or the members of the pool made for them); `undefined` with `pool`. */
  readonly #proxies: readonly NetAddress[] | undefined;
  /** One proxy: the client that talks to it; else `undefined`. */
  readonly #client: NetworkClient | undefined;
  /** Several proxies, or `pool`: the pool; else `undefined`. */
  readonly #pool: ProxyPool | undefined;
  /** Whether `close()` closes `#pool` (not a pool given with `pool`). */
  readonly #ownsPool: boolean;
  /** `close()` was called (what refuses queries through a pool given with `pool`). */
  #closed = false;

  /**
   * Creates a QueryableStateClient.
   *
   * @example Through a pool made elsewhere (left open by the client's close)
   * ```ts
   * import { MemoryTransport, ProxyPool, QueryableStateClient } from "@kvstate/queryable-state";
   *
   * await using pool = new ProxyPool({ transport: new MemoryTransport(), requestTimeoutMs: 5_000 });
   * const client = new QueryableStateClient({ pool });
   * pool.setMembers(["tm-1:9069", "tm-2:9069"]); // what a discovery does
   * client.proxies.length; // => 2
   * client.requestTimeoutMs; // => 5000
   * await client.close();
   * pool.closed; // => false
   * ```
   *
   * @param options The transport, the proxy's address (or several), and
   * network bounds; or `{ pool }`, an existing {@linkcode ProxyPool}.
   * @throws {RangeError} For a negative timeout or a bound that is not positive.
   * @throws {TypeError} For a proxy that is not an address, a `pool` that is
   * not a `ProxyPool`, or both `proxy` and `pool`.
   */
  constructor(options: QueryableStateClientOptions | QueryableStateClientPoolOptions) {
    if ("pool" in options && options.pool !== undefined) {
      if (!(options.pool instanceof ProxyPool)) {
        throw new TypeError("pool must be a ProxyPool");
      }
      if (options.proxy !== undefined) {
        throw new TypeError("give proxy or pool, not both (the pool has its members)");
      }
      this.#proxies = undefined;
      this.#client = undefined;
      this.#pool = options.pool;
      this.#ownsPool = false;
      return;
    }
    const own = options as QueryableStateClientOptions;
    const proxy = own.proxy;
    const proxies = typeof proxy === "object" && !Array.isArray(proxy)
      ? [proxy as NetAddress]
      : parseProxyAddresses(proxy);
    this.#proxies = Object.freeze(proxies);
    this.#ownsPool = true;
    if (proxies.length === 1) {
      this.#client = new NetworkClient({ ...own, clientName: "Queryable State Client" });
      this.#pool = undefined;
    } else {
      const { proxy: _, failover, ...network } = own;
      this.#client = undefined;
      this.#pool = new ProxyPool({
        ...network,
        ...failover,
        name: "Queryable State Client",
        members: proxies,
      });
    }
  }

  /**
   * The proxy queried: the one given, the first of several, or with `pool`
   * the pool's first member now (`undefined` while it has none).
   */
  get proxy(): NetAddress | undefined {
    return this.proxies[0];
  }

  /**
   * The proxies queried: the one given, the members of the pool made for
   * several, or with `pool` the pool's members now (those draining left out).
   */
  get proxies(): readonly NetAddress[] {
    if (this.#proxies !== undefined) return this.#proxies;
    return this.#pool!.memberAddresses;
  }

  /** The deadline of a query that gives none, in ms (0: none). Default 30,000. */
  get requestTimeoutMs(): number {
    return this.#client?.requestTimeoutMs ?? this.#pool!.requestTimeoutMs;
  }

  /** How long a connection attempt may take, in ms (0: no limit). Default 10,000. */
  get connectTimeoutMs(): number {
    return this.#client?.connectTimeoutMs ?? this.#pool!.connectTimeoutMs;
  }

  /**
   * Queries a value (or reducing / aggregating) state.
   *
   * @param jobId The job (a `JobId` or its 32 hex characters).
   * @param stateName The queryable state name.
   * @param key The key.
   * @param query Key and value types, signal, deadline.
   * @returns The value.
   */
  getKvState<K extends TypeSpec, V extends TypeSpec>(
    jobId: JobId | string,
    stateName: string,
    key: JsTypeOfSpec<K>,
    query: ValueStateQuery<K, V>,
  ): Promise<JsTypeOfSpec<V>>;
  /**
   * Queries a list state.
   *
   * @param jobId The job.
   * @param stateName The queryable state name.
   * @param key The key.
   * @param query Key and element types, `stateKind: "list"`.
   * @returns The elements.
   */
  getKvState<K extends TypeSpec, V extends TypeSpec>(
    jobId: JobId | string,
    stateName: string,
    key: JsTypeOfSpec<K>,
    query: ListStateQuery<K, V>,
  ): Promise<JsTypeOfSpec<V>[]>;
  /**
   * Queries a map state.
   *
   * @param jobId The job.
   * @param stateName The queryable state name.
   * @param key The key.
   * @param query Key, map key and value types, `stateKind: "map"`.
   * @returns The entries as `[mapKey, value]` pairs in the order the server
   * sent them (values may be `null`); `new Map(entries)` makes a map.
   */
  getKvState<K extends TypeSpec, MK extends TypeSpec, V extends TypeSpec>(
    jobId: JobId | string,
    stateName: string,
    key: JsTypeOfSpec<K>,
    query: MapStateQuery<K, MK, V>,
  ): Promise<Array<[JsTypeOfSpec<MK>, JsTypeOfSpec<V> | null]>>;
  getKvState(
    jobId: JobId | string,
    stateName: string,
    key: unknown,
    query: AnyStateQuery,
  ): Promise<unknown> {
    return this.#typed(jobId, stateName, key, query, false);
  }

  /**
   * Queries a value (or reducing / aggregating) state where a missing key is
   * a normal outcome: like {@linkcode QueryableStateClient.getKvState}, but
   * resolves `undefined` when the key has no value (where `getKvState`
   * rejects with `UnknownKeyOrNamespaceError`), and builds no error for it,
   * so that a miss costs no more than a hit. Every other failure rejects as
   * with `getKvState`. A miss is the `UnknownKeyOrNamespaceException` itself,
   * without a cause (how Flink's proxy relays a state server's miss): one
   * named only as the cause of another throwable (a wrapper's text, or a
   * Java cause) is not taken for absent, since such text may quote the
   * caller's own input; it rejects with an `UnknownKeyOrNamespaceError`
   * whose `cause` is the error received.
   *
   * @example A present and an absent key
   * ```ts
   * import {
   *   InMemoryLocationRegistry, InMemoryValueState, JobId, JobVertexId, KvStateClientProxy,
   *   KvStateServer, MemoryTransport, QueryableStateClient, TYPE_SERIALIZERS,
   * } from "@kvstate/queryable-state";
   *
   * const transport = new MemoryTransport();
   * await using server = new KvStateServer({ transport });
   * const kvStateId = server.registry.register(
   *   new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set("hello", 42n),
   * );
   * const jobId = JobId.random();
   * const locations = new InMemoryLocationRegistry();
   * locations.notifyKvStateRegistered({
   *   jobId, jobVertexId: JobVertexId.random(), registrationName: "word-counts",
   *   numKeyGroups: 128, start: 0, end: 127, kvStateId, address: await server.start(),
   * });
   * await using proxy = new KvStateClientProxy({ transport });
   * proxy.updateKvStateLocationOracle(jobId, locations);
   *
   * await using client = new QueryableStateClient({ transport, proxy: await proxy.start() });
   * const types = { keyType: "string", valueType: "long" } as const;
   * await client.getKvStateIfPresent(jobId, "word-counts", "hello", types); // => 42n
   * await client.getKvStateIfPresent(jobId, "word-counts", "absent", types); // => undefined
   * ```
   *
   * @param jobId The job (a `JobId` or its 32 hex characters).
   * @param stateName The queryable state name.
   * @param key The key.
   * @param query Key and value types, signal, deadline.
   * @returns The value, or `undefined` when the key has none.
   */
  getKvStateIfPresent<K extends TypeSpec, V extends TypeSpec>(
    jobId: JobId | string,
    stateName: string,
    key: JsTypeOfSpec<K>,
    query: ValueStateQuery<K, V>,
  ): Promise<JsTypeOfSpec<V> | undefined>;
  /**
   * Queries a list state; `undefined` when the key has no list.
   *
   * @param jobId The job.
   * @param stateName The queryable state name.
   * @param key The key.
   * @param query Key and element types, `stateKind: "list"`.
   * @returns The elements, or `undefined`.
   */
  getKvStateIfPresent<K extends TypeSpec, V extends TypeSpec>(
    jobId: JobId | string,
    stateName: string,
    key: JsTypeOfSpec<K>,
    query: ListStateQuery<K, V>,
  ): Promise<JsTypeOfSpec<V>[] | undefined>;
  /**
   * Queries a map state; `undefined` when the key has no map (Flink's heap
   * backends; others may answer an empty map).
   *
   * @param jobId The job.
   * @param stateName The queryable state name.
   * @param key The key.
   * @param query Key, map key and value types, `stateKind: "map"`.
   * @returns The entries as `[mapKey, value]` pairs, or `undefined`.
   */
  getKvStateIfPresent<K extends TypeSpec, MK extends TypeSpec, V extends TypeSpec>(
    jobId: JobId | string,
    stateName: string,
    key: JsTypeOfSpec<K>,
    query: MapStateQuery<K, MK, V>,
  ): Promise<Array<[JsTypeOfSpec<MK>, JsTypeOfSpec<V> | null]> | undefined>;
  getKvStateIfPresent(
    jobId: JobId | string,
    stateName: string,
    key: unknown,
    query: AnyStateQuery,
  ): Promise<unknown> {
    return this.#typed(jobId, stateName, key, query, true);
  }

  /** `getKvState` (`ifPresent` false) and `getKvStateIfPresent` (true). */
  #typed(
    jobId: JobId | string,
    stateName: string,
    key: unknown,
    query: AnyStateQuery,
    ifPresent: boolean,
  ): Promise<unknown> {
    // Not an async function: a failure (a miss, above all) reaches the caller
    // as the network client's rejection, without being thrown and caught here.
    try {
      const keySerializer = serializerOf(query.keyType);
      const valueSerializer = serializerOf(query.valueType);
      const mapKeySerializer = query.stateKind === "map" ? serializerOf(query.mapKeyType) : null;
      const kind = query.stateKind ?? "value";
      if (kind !== "value" && kind !== "list" && kind !== "map") {
        throw new TypeError(`Unknown state kind ${JSON.stringify(kind)}: use value, list or map`);
      }
      let keyHashCode: number;
      let serializedKeyAndNamespace: Uint8Array;
      try {
        keyHashCode = keySerializer.hashCode(key);
        serializedKeyAndNamespace = serializeKeyAndNamespace(key, keySerializer);
      } catch (e) {
        throw errorAtRoot(e, "key"); // paths name the key: `key[1]`
      }
      return this.#bytes(
        jobId,
        stateName,
        keyHashCode,
        serializedKeyAndNamespace,
        query,
        ifPresent,
      ).then((content) => {
        if (content === undefined) return undefined; // a miss, with ifPresent only
        try {
          switch (kind) {
            case "list":
              return decodeListContent(valueSerializer, content);
            case "map":
              return decodeMapContent(mapKeySerializer!, valueSerializer, content);
            default:
              return decodeValueContent(valueSerializer, content);
          }
        } catch (e) {
          throw decodeErrorAtRoot(e, kind, mapKeySerializer, valueSerializer, content);
        }
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Queries with a pre-serialized key (for key types this module has no
   * serializer for, such as POJOs): the caller supplies the Java hash code
   * and the serialized key and namespace, and gets the raw content.
   *
   * @param jobId The job.
   * @param stateName The queryable state name.
   * @param keyHashCode The key's Java `hashCode()`.
   * @param serializedKeyAndNamespace Key bytes, 42, namespace bytes.
   * @param options Signal and deadline.
   * @returns The serialized content (PROTOCOL §8.5).
   */
  getKvStateBytes(
    jobId: JobId | string,
    stateName: string,
    keyHashCode: number,
    serializedKeyAndNamespace: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array> {
    return this.#bytes(
      jobId,
      stateName,
      keyHashCode,
      serializedKeyAndNamespace,
      options,
      false,
    ) as Promise<Uint8Array>;
  }

  /**
   * {@linkcode QueryableStateClient.getKvStateBytes} where a missing key is a
   * normal outcome: resolves `undefined` when the key has no value (where
   * `getKvStateBytes` rejects with `UnknownKeyOrNamespaceError`), without
   * building an error; every other failure rejects as with `getKvStateBytes`.
   *
   * @example Raw content, or `undefined`
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
   * import { serializeKeyAndNamespace } from "@kvstate/queryable-state/wire";
   *
   * const transport = new MemoryTransport();
   * const string = TYPE_SERIALIZERS.string;
   * await using server = new KvStateServer({ transport });
   * const kvStateId = server.registry.register(
   *   new InMemoryValueState(string, TYPE_SERIALIZERS.long).set("hello", 42n),
   * );
   * const jobId = JobId.random();
   * const locations = new InMemoryLocationRegistry();
   * locations.notifyKvStateRegistered({
   *   jobId, jobVertexId: JobVertexId.random(), registrationName: "word-counts",
   *   numKeyGroups: 128, start: 0, end: 127, kvStateId, address: await server.start(),
   * });
   * await using proxy = new KvStateClientProxy({ transport });
   * proxy.updateKvStateLocationOracle(jobId, locations);
   *
   * await using client = new QueryableStateClient({ transport, proxy: await proxy.start() });
   * const ask = (key: string) =>
   *   client.getKvStateBytesIfPresent(
   *     jobId, "word-counts", string.hashCode(key), serializeKeyAndNamespace(key, string),
   *   );
   * (await ask("hello"))?.length; // => 8
   * await ask("absent"); // => undefined
   * ```
   *
   * @param jobId The job.
   * @param stateName The queryable state name.
   * @param keyHashCode The key's Java `hashCode()`.
   * @param serializedKeyAndNamespace Key bytes, 42, namespace bytes.
   * @param options Signal and deadline.
   * @returns The serialized content, or `undefined` when the key has none.
   */
  getKvStateBytesIfPresent(
    jobId: JobId | string,
    stateName: string,
    keyHashCode: number,
    serializedKeyAndNamespace: Uint8Array,
    options?: RequestOptions,
  ): Promise<Uint8Array | undefined> {
    return this.#bytes(jobId, stateName, keyHashCode, serializedKeyAndNamespace, options, true);
  }

  /** `getKvStateBytes` (`ifPresent` false: never `undefined`) and `getKvStateBytesIfPresent`. */
  #bytes(
    jobId: JobId | string,
    stateName: string,
    keyHashCode: number,
    serializedKeyAndNamespace: Uint8Array,
    options: RequestOptions | undefined,
    ifPresent: boolean,
  ): Promise<Uint8Array | undefined> {
    const id = typeof jobId === "string" ? JobId.fromHex(jobId) : jobId;
    const request = { jobId: id, stateName, keyHashCode, serializedKeyAndNamespace };
    const own = { signal: options?.signal, timeoutMs: options?.timeoutMs };
    const client = this.#client;
    if (client === undefined) {
      if (this.#closed && !this.#ownsPool) {
        return Promise.reject(ClosedError.shutDown("Queryable State Client"));
      }
      return ifPresent
        ? this.#pool!.requestIfPresent(request, own)
        : this.#pool!.request(request, own);
    }
    const proxy = this.#proxies![0];
    return ifPresent
      ? client.sendKvStateRequestIfPresent(proxy, request, own)
      : client.sendKvStateRequest(proxy, request, own);
  }

  /**
   * Closes the connection (with several proxies, the pool made for them);
   * pending queries reject with `ConnectionClosedError`, later ones with
   * `ClosedError`. A pool given with `pool` is left open: queries in flight
   * through it go on, and later queries of this client reject with
   * `ClosedError`. Idempotent.
   *
   * @returns Resolves when the connection is released.
   */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#client !== undefined) return this.#client.close();
    return this.#ownsPool ? this.#pool!.close() : Promise.resolve();
  }

  /** Same as {@linkcode QueryableStateClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
