/**
 * The client proxy (Flink's `KvStateClientProxy`): accepts clients'
 * `KvStateRequest`s, finds the state's location through the job's oracle,
 * and forwards each request to the state server that owns the key's key
 * group (PROTOCOL §4).
 *
 * @module
 */

import { NetworkClient, type NetworkClientOptions } from "../client/network_client.ts";
import type { KvStateLocation } from "../oracle/kv_state_location.ts";
import {
  type KvStateLocationOracle,
  KvStateLocationOracleRegistry,
} from "../oracle/oracle_registry.ts";
import {
  AbstractServer,
  type FastCall,
  type RequestContext,
  type RequestDescription,
  requestIdOf,
  resultFrameFor,
  type ServerOptions,
} from "../server/server_base.ts";
import {
  isBadRequestError,
  MAX_FAILURE_FRAME_LENGTH,
  requestFailureFrame,
} from "../server/failure_frames.ts";
import type { Transport } from "../transport/types.ts";
import { type Logger, SILENT_LOGGER } from "../observability/logger.ts";
import { errorClass, errorMessage, logEvent, logs } from "../server/log_events.ts";
import { upstreamLogger } from "./upstream_logger.ts";
import {
  ClosedError,
  ConnectError,
  ConnectionClosedError,
  DeadlineExceededError,
  errorFromJavaThrowable,
  FlinkJobNotFoundError,
  type QueryableStateError,
  surfacedFrom,
  UnknownKvStateIdError,
  UnknownKvStateKeyGroupLocationError,
  UnknownKvStateLocationError,
  UnknownLocationError,
  withSerializedThrowable,
} from "../wire/errors.ts";
import { type JavaSerializationLimits, readJavaThrowable } from "../wire/java_serialization.ts";
import { JobId } from "../wire/ids.ts";
import { keyGroupForKeyHash } from "../wire/key_group.ts";
import {
  decodeKvStateRequest,
  decodeKvStateRequestAt,
  type KvStateRequest,
} from "../wire/messages.ts";
import { FailureMemo } from "../wire/failure_memo.ts";
import { type RequestFailureOutcome, requestFailureOutcome } from "../server/request_outcome.ts";
import {
  LocationCache,
  type LocationCacheOptions,
  type LocationCacheSize,
} from "./location_cache.ts";
import { ProxyPool, type ProxyPoolOptions } from "../upstream/proxy_pool.ts";

/** Flink's name for the proxy, used in its messages. */
export const KV_STATE_PROXY_NAME = "Queryable State Proxy Server";

/** Options of {@linkcode KvStateClientProxy}. */
export interface KvStateClientProxyOptions extends ServerOptions {
  /**
   * How many times a request is retried after a forced re-lookup, on
   * `UnknownKvStateIdException`, `UnknownKvStateKeyGroupLocationException`, a
   * failed connect (Flink's set; Flink retries without end) or a connection
   * to a state server that closed under the request (a read, so safe to send
   * again; Flink fails it). Default 3.
   */
  readonly retries?: number;
  /** The first backoff before a retry, in ms; it doubles per retry, up to 1 s. Default 10. */
  readonly retryBackoffMs?: number;
  /**
   * How long one oracle lookup may take, in ms, before it fails with
   * `DeadlineExceededError` (and is not reused). Default 10,000 (Flink's RPC
   * ask timeout).
   */
  readonly lookupTimeoutMs?: number;
  /** The client used to reach state servers; one is made (and closed by the proxy) when omitted. */
  readonly client?: NetworkClient;
  /** The transport for the proxy's own client, when it differs from `transport`. */
  readonly upstreamTransport?: Transport;
  /**
   * Options of the client the proxy makes to reach state servers (ignored
   * when `client` is given): e.g. `maxQueuedBytesPerConnection` (default
   * 16 MiB of requests waiting for a state server that does not read; past
   * it a request fails at once), `connectTimeoutMs` (default 10,000),
   * `javaSerializationLimits` (also used to validate the failures relayed on
   * the fast path). Its `requestTimeoutMs` defaults to the proxy's, and its
   * `maxFrameLength` to the proxy's.
   */
  readonly upstreamOptions?: Omit<NetworkClientOptions, "transport">;
  /** The oracle registry; a new one when omitted. */
  readonly oracles?: KvStateLocationOracleRegistry;
  /**
   * Bounds and timings of the location cache (see
   * {@linkcode LocationCacheOptions}): at most 10,000 entries and 16 MiB
   * (estimated) by default, least recently used dropped first; a failed
   * lookup answered from the cache for 1,000 ms, then gone; a forced
   * re-lookup shares the last lookup of the same state when that one is in
   * flight or younger than `minRelookupIntervalMs`, which here defaults to
   * `retryBackoffMs` (so a request's own retries each see a fresh lookup).
   */
  readonly locationCache?: LocationCacheOptions;
  /**
   * The longest state name accepted, in bytes as the request carries it
   * (UTF-8). A longer name is refused at once, before it is decoded: no
   * lookup, nothing cached, and a failure naming the bound (with a prefix
   * of the name only). The failure is Flink's `UnknownLocationException`
   * wrapped as Flink's proxy wraps every failed lookup
   * (`RuntimeException: Failed request <id>. Caused by: ...`): a name no
   * state can be found by, which is what a Java client meets for any
   * unknown state. Default 1024.
   */
  readonly maxStateNameLength?: number;
  /**
   * Where to log. Default `SILENT_LOGGER`: nothing is logged, and nothing
   * is built for it. The proxy logs the events of every server (see
   * {@linkcode ServerOptions.logger}), and its own (field `server` too):
   *
   * - `oracle_lookup_failed` (warn), a location lookup that failed for
   *   another reason than the state or job being unknown (the oracle threw
   *   or rejected, timed out, or answered something else than a location):
   *   `job`, `state`, `error` (its class), `message`;
   * - `oracle_state_unknown` (info), a lookup answered "no such state or
   *   job" (what a client asking for a wrong name causes): `job`, `state`,
   *   `error`;
   * - `oracle_lookup_recovered` (info), the first successful lookup of a
   *   job and state after an `oracle_lookup_failed` (up to 1,024 such
   *   pairs are remembered at once): `job`, `state`.
   *
   * The client the proxy makes (not one given as `client`) logs to it too,
   * unless `upstreamOptions.logger` is given, with its events named as the
   * proxy's: `upstream_connect_failed`, `upstream_connection_lost`,
   * `upstream_recovered`, `upstream_queue_full` (fields: see
   * `NetworkClientOptions.logger`). Lookups are cached, so none of these is
   * logged per request.
   */
  readonly logger?: Logger;
  /**
   * Upstream mode: every request is forwarded whole to a pool of proxies
   * (Flink's, one per TaskManager, or ours) instead of being routed through
   * the oracles (which then go unused), and the member's answer is relayed
   * as it came with only the request id patched (a failure too, once its
   * bytes parse as a Java throwable within `javaSerializationLimits`, each
   * distinct failure body parsed once; a failure frame over 256 KiB is
   * answered trimmed, as the proxy's own failures are). Failover and deadlines are the
   * pool's (see {@linkcode ProxyPool}); a request the pool gives up on is
   * answered with the pool's error.
   *
   * A `ProxyPool` given here is used, not owned: the proxy does not close
   * it. Pool options instead make a pool that the proxy owns and closes
   * with itself; it uses `upstreamTransport` (or `transport`) unless the
   * options give one, the proxy's `logger`, and the proxy's
   * `requestTimeoutMs` (default 30,000) and `maxFrameLength` unless given.
   * Default: none (the oracle path).
   */
  readonly upstream?: ProxyPool | UpstreamPoolOptions;
}

/** Options of a pool that {@linkcode KvStateClientProxy} makes (and owns) for upstream mode. */
export type UpstreamPoolOptions = Omit<ProxyPoolOptions, "transport"> & {
  /** The pool's transport. Default the proxy's `upstreamTransport`, else its `transport`. */
  readonly transport?: Transport;
};

/** The most failed lookups remembered, for `oracle_lookup_recovered`. */
const MAX_FAILED_LOOKUPS = 1024;
/** The longest state name put in a log event. */
const MAX_LOGGED_NAME = 200;

const RETRY_BACKOFF_CAP_MS = 1000;
const DEFAULT_MAX_STATE_NAME_LENGTH = 1024;
/** How much of a refused state name its failure message shows, in bytes. */
const REFUSED_NAME_PREFIX_BYTES = 64;

/**
 * Flink's retry set, plus a connection closed under the request (queries are
 * reads). Judged by the class received: a typed cause read out of a wrapper
 * (`surfacedFrom`) is not retried, as Flink does not retry the wrapper.
 */
function isRetryable(err: unknown): boolean {
  return ((err instanceof UnknownKvStateIdError ||
    err instanceof UnknownKvStateKeyGroupLocationError) && surfacedFrom(err) === undefined) ||
    err instanceof ConnectError ||
    err instanceof ConnectionClosedError;
}

/** Whether an oracle's answer can be used as a location (checked once per lookup). */
function isLocation(v: unknown): v is KvStateLocation {
  if (typeof v !== "object" || v === null) return false;
  const l = v as KvStateLocation;
  return Number.isInteger(l.numKeyGroups) && l.numKeyGroups >= 0 && l.numKeyGroups <= 32768 &&
    typeof l.getAddress === "function" && typeof l.getKvStateId === "function";
}

const lossyUtf8 = new TextDecoder();

/**
 * A request whose state name is longer than the proxy accepts: the name is
 * not decoded (only a prefix, for the message), and the request is refused.
 */
class OversizedNameRequest implements KvStateRequest {
  readonly jobId: JobId;
  /** A prefix of the name, for messages only (never looked up). */
  readonly stateName: string;
  readonly keyHashCode: number;
  readonly serializedKeyAndNamespace: Uint8Array;
  /** The name's length in bytes. */
  readonly nameBytes: number;
  constructor(
    jobId: JobId,
    prefix: string,
    keyHashCode: number,
    serializedKeyAndNamespace: Uint8Array,
    nameBytes: number,
  ) {
    this.jobId = jobId;
    this.stateName = prefix;
    this.keyHashCode = keyHashCode;
    this.serializedKeyAndNamespace = serializedKeyAndNamespace;
    this.nameBytes = nameBytes;
  }
}

function int32At(b: Uint8Array, i: number): number {
  return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
}

const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/** The context of a request that left the fast path for a retry. */
class FastPathContext implements RequestContext {
  readonly #frame: Uint8Array;
  constructor(frame: Uint8Array) {
    this.#frame = frame;
  }
  get requestId(): bigint {
    return requestIdOf(this.#frame);
  }
  /** Retries are bounded by count and backoff, and cancelled on close. */
  get signal(): AbortSignal {
    return NEVER_ABORTED;
  }
}

/**
 * The client proxy. A Java `QueryableStateClient` pointed at it sees Flink's
 * proxy: the same bytes, errors and messages. Where Flink's proxy is weak,
 * this one is bounded: retries are capped (with backoff), lookups and
 * requests have deadlines, an oracle update drops that job's cached
 * locations at once, the location cache is bounded in entries and bytes
 * (failed lookups kept briefly, forced re-lookups shared and rate-limited),
 * state names are bounded in length, and an upstream failure is relayed
 * unchanged only when it passes the checks of the regular path.
 *
 * @example An in-process state plane: server, oracle and proxy
 * ```ts
 * import {
 *   InMemoryLocationRegistry, InMemoryValueState, JobId, JobVertexId, KvStateClientProxy,
 *   KvStateServer, MemoryTransport, TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state";
 *
 * const transport = new MemoryTransport();
 * await using server = new KvStateServer({ transport });
 * const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set("hello", 42n);
 * const kvStateId = server.registry.register(counts);
 * const address = await server.start();
 *
 * const jobId = JobId.random();
 * const locations = new InMemoryLocationRegistry();
 * locations.notifyKvStateRegistered({
 *   jobId, jobVertexId: JobVertexId.random(), registrationName: "word-counts",
 *   numKeyGroups: 128, start: 0, end: 127, kvStateId, address,
 * });
 *
 * await using proxy = new KvStateClientProxy({ transport });
 * proxy.updateKvStateLocationOracle(jobId, locations);
 * (await proxy.start()).port > 0; // => true
 * ```
 */
export class KvStateClientProxy extends AbstractServer<KvStateRequest> {
  /** The job → oracle registry (copy-on-write). */
  readonly oracles: KvStateLocationOracleRegistry;
  /** The client that reaches the state servers. */
  readonly client: NetworkClient;
  /** In upstream mode, the pool every request is forwarded to; else `undefined`. */
  readonly upstream: ProxyPool | undefined;
  readonly #ownsUpstream: boolean;
  /** Upstream mode: the failure bodies already checked (they parse), each with its outcome. */
  readonly #upstreamFailures = new FailureMemo<RequestFailureOutcome>();
  readonly #ownsClient: boolean;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #lookupTimeoutMs: number;
  /** The limits the fast path validates relayed failures with (the proxy's own client's). */
  readonly #serializationLimits: Partial<JavaSerializationLimits> | undefined;
  readonly #maxNameBytes: number;
  /** job id (hex) → state name → lookup; bounded. */
  readonly #cache: LocationCache;
  /**
   * Upstream failure bodies already validated as relayable unchanged, each
   * with the outcome its failure counts as (classified once per body).
   */
  readonly #relayable = new FailureMemo<RequestFailureOutcome>();
  /** Oracle lookups started and failed since start. */
  #lookupsStarted = 0;
  #lookupsFailed = 0;
  /** Cancels each pending lookup deadline or retry backoff (on close). */
  readonly #cancels = new Set<(err: unknown) => void>();
  readonly #unsubscribe: () => void;
  /** `job/state` of the lookups whose last attempt failed (for the log); bounded. */
  readonly #failedLookups = new Set<string>();

  /**
   * Creates a KvStateClientProxy.
   *
   * @param options Binding, bounds, retries, oracle registry, upstream client.
   * @throws {RangeError} On a bound out of range.
   */
  constructor(options: KvStateClientProxyOptions = {}) {
    super(KV_STATE_PROXY_NAME, options);
    const retries = options.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new RangeError("retries must be a non-negative integer");
    }
    this.#retries = retries;
    this.#backoffMs = options.retryBackoffMs ?? 10;
    this.#lookupTimeoutMs = options.lookupTimeoutMs ?? 10_000;
    this.#serializationLimits = options.client === undefined
      ? options.upstreamOptions?.javaSerializationLimits
      : undefined;
    const maxName = options.maxStateNameLength ?? DEFAULT_MAX_STATE_NAME_LENGTH;
    if (!Number.isInteger(maxName) || maxName < 0) {
      throw new RangeError(`maxStateNameLength must be a non-negative integer, got ${maxName}`);
    }
    this.#maxNameBytes = maxName;
    this.#cache = new LocationCache({
      ...options.locationCache,
      minRelookupIntervalMs: options.locationCache?.minRelookupIntervalMs ?? this.#backoffMs,
    });
    this.oracles = options.oracles ?? new KvStateLocationOracleRegistry();
    this.#unsubscribe = this.oracles.onUpdate((jobId) => {
      // A listener must not throw into the registry's update (nor skip the others).
      try {
        this.#invalidate(jobId);
      } catch (err) {
        this.reportInternalError(err);
      }
    });
    const upstream = options.upstreamTransport ?? options.transport;
    if (options.client !== undefined) {
      this.client = options.client;
      this.#ownsClient = false;
    } else {
      if (upstream === undefined) {
        throw new TypeError(`${KV_STATE_PROXY_NAME}: a transport (or client) is needed`);
      }
      this.client = new NetworkClient({
        clientName: "Queryable State Proxy Client",
        maxFrameLength: options.maxFrameLength,
        // Requests forwarded on the fast path are bounded by this deadline.
        requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
        logger: upstreamLogger(options.logger ?? SILENT_LOGGER),
        ...options.upstreamOptions,
        transport: upstream,
      });
      this.#ownsClient = true;
    }
    const pool = options.upstream;
    if (pool instanceof ProxyPool) {
      this.upstream = pool;
      this.#ownsUpstream = false;
    } else if (pool !== undefined) {
      const transport = pool.transport ?? upstream;
      if (transport === undefined) {
        throw new TypeError(`${KV_STATE_PROXY_NAME}: a transport is needed for the upstream pool`);
      }
      this.upstream = new ProxyPool({
        logger: options.logger,
        requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
        maxFrameLength: options.maxFrameLength,
        ...pool,
        transport,
      });
      this.#ownsUpstream = true;
    } else {
      this.upstream = undefined;
      this.#ownsUpstream = false;
    }
  }

  /**
   * Sets or (with `null`) removes the oracle of a job, as Flink's
   * TaskExecutor does when it connects to or loses a job's leader. The
   * job's cached locations are dropped at once (the all-zero default job:
   * all cached locations).
   *
   * @param jobId The job.
   * @param oracle The oracle, or `null`.
   */
  updateKvStateLocationOracle(jobId: JobId, oracle: KvStateLocationOracle | null): void {
    this.oracles.update(jobId, oracle);
  }

  /**
   * The oracle that answers for a job (the default job's oracle answers for
   * all).
   *
   * @param jobId The job.
   * @returns The oracle, or `null`.
   */
  getKvStateLocationOracle(jobId: JobId): KvStateLocationOracle | null {
    return this.oracles.get(jobId);
  }

  /**
   * What the location cache holds now: entries (resolved, pending and
   * recently failed lookups) and their estimated bytes; both stay within
   * {@linkcode KvStateClientProxyOptions.locationCache}'s bounds.
   */
  get locationCacheSize(): LocationCacheSize {
    return this.#cache.size;
  }

  /**
   * Oracle lookups since start: `started` (each call of an oracle's
   * `requestKvStateLocation`; a cached or shared lookup is not one) and
   * `failed` (those that ended in an error: unknown state or job, the
   * oracle's own failure, its deadline, the proxy closing). Read-only counts.
   */
  get oracleLookups(): OracleLookupCounts {
    return { started: this.#lookupsStarted, failed: this.#lookupsFailed };
  }

  /**
   * The proxy counts a failure that no error class tells apart as
   * `upstream_failure` (see {@linkcode requestFailureOutcome}).
   *
   * @param err The error a request failed with.
   * @returns The outcome.
   */
  protected override failureOutcome(err: unknown): RequestFailureOutcome {
    return requestFailureOutcome(err, true);
  }

  /**
   * The forwarding stage as a stream transform: batches of request frames
   * (without length prefix) in, batches of response frames out. Compose it
   * between a `FrameDecoderStream` and a `FrameEncoderStream` over any byte
   * stream pair.
   *
   * @returns A new stage for one connection.
   */
  forwardingStream(): TransformStream<Uint8Array[], Uint8Array[]> {
    return this.requestStream();
  }

  #invalidate(jobId: JobId): void {
    if (jobId.equals(JobId.DEFAULT)) this.#cache.clear();
    else this.#cache.invalidateJob(jobId.toString());
  }

  /**
   * Decodes a REQUEST body (see {@linkcode AbstractServer}). A state name
   * longer than `maxStateNameLength` is not decoded: the request is
   * answered with a refusal (a REQUEST_FAILURE, not a connection failure).
   */
  protected decodeRequest(body: Uint8Array): KvStateRequest {
    // The name's length is the int after the job id; checked before decoding the name.
    const n = body.length;
    if (n >= 20) {
      const nameLen = int32At(body, 16);
      if (nameLen > this.#maxNameBytes) {
        const at = 20 + nameLen;
        // Truncated or malformed: the decoder's own error, as before.
        if (at + 8 > n) return decodeKvStateRequest(body);
        const knLen = int32At(body, at + 4);
        if (knLen < 0 || at + 8 + knLen > n) return decodeKvStateRequest(body);
        return new OversizedNameRequest(
          new JobId(body.subarray(0, 16)),
          lossyUtf8.decode(body.subarray(20, 20 + Math.min(nameLen, REFUSED_NAME_PREFIX_BYTES))),
          int32At(body, at),
          body.subarray(at + 8, at + 8 + knLen),
          nameLen,
        );
      }
    }
    return decodeKvStateRequest(body);
  }

  /**
   * Decodes the REQUEST body `bytes[start, end)` in place (see
   * {@linkcode AbstractServer}), as {@linkcode KvStateClientProxy.decodeRequest}
   * decodes it.
   */
  protected override decodeRequestAt(
    bytes: Uint8Array,
    start: number,
    end: number,
  ): KvStateRequest {
    if (end - start >= 20 && int32At(bytes, start + 16) > this.#maxNameBytes) {
      return this.decodeRequest(bytes.subarray(start, end));
    }
    return decodeKvStateRequestAt(bytes, start, end);
  }

  /**
   * What the request filter sees of a request: its job and state name (for
   * a name over `maxStateNameLength`, its first 64 bytes; such a request is
   * refused anyway).
   */
  protected override describeRequest(request: KvStateRequest): RequestDescription {
    return { jobId: request.jobId, stateName: request.stateName };
  }

  /** The refusal of a state name longer than `maxStateNameLength`. */
  #refuseName(request: OversizedNameRequest): UnknownLocationError {
    return new UnknownLocationError(
      `Could not retrieve location of state=${request.stateName}... of job=${request.jobId}. ` +
        `The state name is ${request.nameBytes} bytes long, more than ` +
        `maxStateNameLength (${this.#maxNameBytes} bytes).`,
    );
  }

  /**
   * The proxy never touches a call once it has answered it: the server may
   * reuse them (see {@linkcode AbstractServer}).
   *
   * @returns `true`.
   */
  protected override reuseFastCalls(): boolean {
    return true;
  }

  /**
   * The fast path (see {@linkcode AbstractServer}): with the location cached
   * and resolved, forward at once and relay the state server's answer frame
   * as it came, with only the request id patched (a result, or a
   * bad-request failure validated as the regular path validates it).
   * Anything else takes the regular path with its retries and error
   * mapping.
   *
   * @param call The request.
   * @returns Whether the request was taken.
   */
  protected override respondFast(call: FastCall<KvStateRequest>): boolean {
    const request = call.request;
    if (request instanceof OversizedNameRequest) {
      call.fail(this.#refuseName(request));
      return true;
    }
    const pool = this.upstream;
    if (pool !== undefined) {
      // Upstream mode: the whole request goes to a member of the pool.
      pool.forward(call.frame.subarray(16), this.#relayUpstream, call);
      return true;
    }
    const location = this.#cache.locationOf(request.jobId.toString(), request.stateName);
    if (location === undefined || location.numKeyGroups === 0) return false;
    const keyGroup = keyGroupForKeyHash(request.keyHashCode, location.numKeyGroups);
    const address = location.getAddress(keyGroup);
    const kvStateId = location.getKvStateId(keyGroup);
    if (address === null || kvStateId === null) return false;
    this.client.forwardInternalRequest(
      address,
      kvStateId,
      request.serializedKeyAndNamespace,
      this.#relay,
      call,
    );
    return true;
  }

  /** The state server's answer to a request of the fast path (one function for all of them). */
  #relay = (
    response: Uint8Array | null,
    error: unknown,
    call: FastCall<KvStateRequest>,
  ): void => {
    try {
      if (response !== null) {
        // A result, or a failure whose very bytes were validated before (see below).
        // A failure's outcome was classified when its body was remembered.
        const outcome = response[11] === 1 ? undefined : this.#relayable.get(response, 20);
        if (response[11] === 1 || outcome !== undefined) {
          // The client's request id in place of ours.
          call.copyRequestId(response, 12);
          call.send(response, outcome);
          return;
        }
        // Read as the regular path reads it (the same parse, the same limits).
        const body = response.subarray(20);
        try {
          error = withSerializedThrowable(
            errorFromJavaThrowable(readJavaThrowable(body, this.#serializationLimits)),
            body,
          );
        } catch (e) {
          error = e;
        }
        if (!isRetryable(error)) {
          // Answered as the regular path answers it, from the same error.
          call.fail(error);
          // The call is answered (and may be another request's already): a
          // fault from here on is counted, never answered on it.
          try {
            this.#rememberIfRelayable(response, error);
          } catch (e) {
            this.reportInternalError(e);
          }
          return;
        }
      }
      // Retryable or not, the regular path decides (and wraps what it gives up on).
      this.#retry(call.request, new FastPathContext(call.frame), error, 0).then(
        (content) => this.#sendContent(call, content),
        (err) => this.#failCall(call, err),
      );
    } catch (err) {
      this.#failCall(call, err, true);
    }
  };

  /**
   * A pool member's answer to a request of upstream mode, relayed with the
   * request id patched (one function for all of them); a failure body that
   * does not parse is answered with the parse error instead.
   */
  #relayUpstream = (
    response: Uint8Array | null,
    error: unknown,
    call: FastCall<KvStateRequest>,
  ): void => {
    try {
      if (response === null) {
        call.fail(error);
        return;
      }
      let outcome: RequestFailureOutcome | undefined;
      if (response[11] !== 1) {
        outcome = this.#upstreamFailures.get(response, 20);
        if (outcome === undefined) {
          const body = response.subarray(20);
          let failure: QueryableStateError;
          try {
            failure = errorFromJavaThrowable(readJavaThrowable(body, this.#serializationLimits));
          } catch (e) {
            call.fail(e);
            return;
          }
          if (response.length > MAX_FAILURE_FRAME_LENGTH) {
            // Past the bound of the proxy's own failures: answered trimmed, as the regular path does.
            call.fail(withSerializedThrowable(failure, body));
            return;
          }
          outcome = requestFailureOutcome(failure, true);
          this.#upstreamFailures.add(body, outcome);
        }
      }
      call.copyRequestId(response, 12);
      call.send(response, outcome);
    } catch (err) {
      this.#failCall(call, err, true);
    }
  };

  /**
   * Remembers an upstream failure body when the failure frame the regular
   * path builds for its error is that body itself (a bad-request failure
   * relayed unchanged, within the size bound): the same bytes can then be
   * relayed at once.
   */
  #rememberIfRelayable(response: Uint8Array, error: unknown): void {
    if (
      response.length > MAX_FAILURE_FRAME_LENGTH || !isBadRequestError(error)
    ) {
      return;
    }
    const expected = requestFailureFrame(0n, error);
    if (expected.length !== response.length) return;
    for (let i = 20; i < expected.length; i++) if (expected[i] !== response[i]) return;
    this.#relayable.add(response.subarray(20), requestFailureOutcome(error, true));
  }

  #sendContent(call: FastCall<KvStateRequest>, content: Uint8Array): void {
    try {
      call.send(resultFrameFor(call.frame, content));
    } catch (err) {
      this.#failCall(call, err, true);
    }
  }

  /**
   * Fails a request of the fast path; never throws. `internal`: the failure
   * is an unexpected exception, counted.
   */
  #failCall(call: FastCall<KvStateRequest>, err: unknown, internal = false): void {
    if (internal) this.reportInternalError(err);
    try {
      call.fail(err);
    } catch (e) {
      this.reportInternalError(e);
      try {
        call.fail(new Error(`${KV_STATE_PROXY_NAME} : internal error`));
      } catch {
        // Nothing more can be done for this request.
      }
    }
  }

  /** Answers one request (see {@linkcode AbstractServer}): route, forward, retry. */
  protected handleRequest(
    request: KvStateRequest,
    context: RequestContext,
  ): Promise<Uint8Array> {
    if (request instanceof OversizedNameRequest) {
      return Promise.reject(this.#refuseName(request));
    }
    if (this.upstream !== undefined) return this.upstream.request(request);
    // Fast path: the location is cached and resolved, so route at once.
    const location = this.#cache.locationOf(request.jobId.toString(), request.stateName);
    if (location !== undefined) {
      let forwarded: Promise<Uint8Array>;
      try {
        forwarded = this.#forward(location, request);
      } catch (err) {
        return this.#retry(request, context, err, 0);
      }
      return forwarded.then(undefined, (err) => this.#retry(request, context, err, 0));
    }
    return this.#attempt(request, false).then(
      undefined,
      (err) => this.#retry(request, context, err, 0),
    );
  }

  /** After a failed attempt: retry with a forced lookup, or give up with the cause. */
  async #retry(
    request: KvStateRequest,
    context: RequestContext,
    err: unknown,
    attempt: number,
  ): Promise<Uint8Array> {
    for (;; attempt++) {
      if (!isRetryable(err) || attempt >= this.#retries || this.closed) throw err;
      await this.#sleep(Math.min(this.#backoffMs * 2 ** attempt, RETRY_BACKOFF_CAP_MS), context);
      try {
        return await this.#attempt(request, true);
      } catch (e) {
        err = e;
      }
    }
  }

  async #attempt(request: KvStateRequest, force: boolean): Promise<Uint8Array> {
    const location = await this.#lookup(request.jobId, request.stateName, force);
    return await this.#forward(location, request);
  }

  #forward(location: KvStateLocation, request: KvStateRequest): Promise<Uint8Array> {
    const keyGroup = keyGroupForKeyHash(request.keyHashCode, location.numKeyGroups);
    const address = location.getAddress(keyGroup);
    const kvStateId = location.getKvStateId(keyGroup);
    if (address === null || kvStateId === null) {
      throw new UnknownKvStateKeyGroupLocationError(
        `${KV_STATE_PROXY_NAME} : Unknown key-group location.`,
      );
    }
    return this.client.sendKvStateInternalRequest(address, {
      kvStateId,
      serializedKeyAndNamespace: request.serializedKeyAndNamespace,
    });
  }

  /**
   * Flink's lookup rules (PROTOCOL §4.3), bounded: a cached lookup is
   * reused (a failed one only within the negative TTL); a forced one
   * shares a lookup in flight or a recent one; a deadline per lookup.
   */
  #lookup(jobId: JobId, stateName: string, force: boolean): Promise<KvStateLocation> {
    const jobKey = jobId.toString();
    const reused = this.#cache.reusable(jobKey, stateName, force);
    if (reused !== undefined) return reused;
    const oracle = this.oracles.get(jobId);
    if (oracle === null) {
      return Promise.reject(UnknownLocationError.forState(stateName, jobKey));
    }
    return this.#cache.start(jobKey, stateName, this.#withDeadline(oracle, jobId, stateName));
  }

  #withDeadline(
    oracle: KvStateLocationOracle,
    jobId: JobId,
    stateName: string,
  ): Promise<KvStateLocation> {
    const controller = new AbortController();
    this.#lookupsStarted++;
    return new Promise<KvStateLocation>((resolve, reject) => {
      let done = false;
      const finish = (err: unknown, loc?: KvStateLocation) => {
        if (done) return;
        done = true;
        if (loc === undefined) this.#lookupsFailed++;
        clearTimeout(timer);
        this.#cancels.delete(cancel);
        if (loc !== undefined) {
          if (this.#failedLookups.size > 0) this.#lookupRecovered(jobId, stateName);
          resolve(loc);
        } else {
          if (this.logger !== SILENT_LOGGER) this.#lookupFailed(jobId, stateName, err);
          reject(err);
        }
      };
      const cancel = (err: unknown) => {
        finish(err);
        // After settling: an abort listener of the oracle's that throws cannot undo it.
        try {
          controller.abort(err);
        } catch {
          // The runtime reports listener errors itself; nothing reaches here.
        }
      };
      const timer = setTimeout(() => {
        cancel(
          new DeadlineExceededError(
            `Location lookup of state=${stateName} of job=${jobId} did not complete within ${this.#lookupTimeoutMs} ms`,
          ),
        );
      }, this.#lookupTimeoutMs);
      this.#cancels.add(cancel);
      try {
        Promise.resolve(oracle.requestKvStateLocation(jobId, stateName, controller.signal))
          .then((loc) => {
            if (isLocation(loc)) finish(undefined, loc);
            else {
              finish(
                new UnknownLocationError(
                  `Could not retrieve location of state=${stateName} of job=${jobId}: ` +
                    `the location oracle answered with ${describe(loc)}, not a KvStateLocation.`,
                ),
              );
            }
          }, (err) => finish(err))
          .then(undefined, (err) => finish(err));
      } catch (err) {
        finish(err);
      }
    });
  }

  /** Logs a failed lookup (not at shutdown). Never throws. */
  #lookupFailed(jobId: JobId, stateName: string, err: unknown): void {
    try {
      if (this.closed) return;
      const unknown = err instanceof UnknownKvStateLocationError ||
        err instanceof FlinkJobNotFoundError || err instanceof UnknownLocationError;
      const level = unknown ? "info" : "warn";
      if (!unknown && this.#failedLookups.size < MAX_FAILED_LOOKUPS) {
        this.#failedLookups.add(`${jobId}/${stateName}`);
      }
      if (!logs(this.logger, level)) return;
      logEvent(this.logger, level, unknown ? "oracle_state_unknown" : "oracle_lookup_failed", {
        server: this.serverName,
        job: jobId.toString(),
        state: stateName.slice(0, MAX_LOGGED_NAME),
        error: errorClass(err),
        message: unknown ? undefined : errorMessage(err),
      });
    } catch {
      // Logging never fails a lookup.
    }
  }

  /** Logs the first successful lookup of a state after a failed one. Never throws. */
  #lookupRecovered(jobId: JobId, stateName: string): void {
    try {
      if (!this.#failedLookups.delete(`${jobId}/${stateName}`)) return;
      if (!logs(this.logger, "info")) return;
      logEvent(this.logger, "info", "oracle_lookup_recovered", {
        server: this.serverName,
        job: jobId.toString(),
        state: stateName.slice(0, MAX_LOGGED_NAME),
      });
    } catch {
      // Logging never fails a lookup.
    }
  }

  #sleep(ms: number, context: RequestContext): Promise<void> {
    const signal = context.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const cancel = (err: unknown) => {
        clearTimeout(timer);
        this.#cancels.delete(cancel);
        signal.removeEventListener("abort", onAbort);
        reject(err);
      };
      const onAbort = () => cancel(signal.reason);
      const timer = setTimeout(() => {
        this.#cancels.delete(cancel);
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      this.#cancels.add(cancel);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Cancels pending lookups and backoffs, and closes the upstream client when the proxy made it. */
  protected override async onClose(): Promise<void> {
    this.#unsubscribe();
    const closed = ClosedError.shutDown(KV_STATE_PROXY_NAME);
    for (const cancel of [...this.#cancels]) cancel(closed);
    this.#cache.clear();
    this.#relayable.clear();
    this.#failedLookups.clear();
    this.#upstreamFailures.clear();
    if (this.#ownsUpstream) await this.upstream?.close();
    if (this.#ownsClient) await this.client.close();
  }
}

/** Oracle lookups of a proxy since start: {@linkcode KvStateClientProxy.oracleLookups}. */
export interface OracleLookupCounts {
  /** Lookups started (oracle calls). */
  readonly started: number;
  /** Lookups that ended in an error. */
  readonly failed: number;
}

/** A short description of an unexpected value, for messages (bounded). */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  try {
    const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" ? `an object (${name.slice(0, 64)})` : "an object";
  } catch {
    return "an object";
  }
}
