/**
 * The client proxy (Flink's `KvStateClientProxy`): accepts clients'
 * `KvStateRequest`s, finds the state's location through the job's oracle,
 * and forwards each request to the state server that owns the key's key
 * group (PROTOCOL §4).
 *
 * @module
 */

import { NetworkClient } from "../client/network_client.ts";
import type { KvStateLocation } from "../oracle/kv_state_location.ts";
import {
  type KvStateLocationOracle,
  KvStateLocationOracleRegistry,
} from "../oracle/oracle_registry.ts";
import {
  AbstractServer,
  type FastCall,
  type RequestContext,
  requestIdOf,
  resultFrameFor,
  type ServerOptions,
} from "../server/server_base.ts";
import type { Transport } from "../transport/types.ts";
import {
  ClosedError,
  ConnectError,
  ConnectionClosedError,
  DeadlineExceededError,
  errorFromJavaThrowable,
  FlinkJobNotFoundError,
  UnknownKvStateIdError,
  UnknownKvStateKeyGroupLocationError,
  UnknownLocationError,
  withSerializedThrowable,
} from "../wire/errors.ts";
import { readJavaThrowable } from "../wire/java_serialization.ts";
import { JobId } from "../wire/ids.ts";
import { keyGroupForKeyHash } from "../wire/key_group.ts";
import { decodeKvStateRequest, type KvStateRequest } from "../wire/messages.ts";

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
  /** The oracle registry; a new one when omitted. */
  readonly oracles?: KvStateLocationOracleRegistry;
}

interface CacheEntry {
  readonly promise: Promise<KvStateLocation>;
  failed: boolean;
  /** The location, once the lookup succeeded. */
  value: KvStateLocation | undefined;
}

const RETRY_BACKOFF_CAP_MS = 1000;

const encoder = new TextEncoder();
/** Failures a proxy relays as received (Flink's bad-request family, not retried). */
const RELAYED_FAILURES: readonly Uint8Array[] = [
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
  "org.apache.flink.queryablestate.network.BadRequestException",
].map((name) => encoder.encode(name));

/**
 * Whether a REQUEST_FAILURE frame (length prefix included) carries one of
 * {@linkcode RELAYED_FAILURES}, judged from the stream's first class name
 * without parsing the stream.
 */
function isRelayedFailure(frame: Uint8Array): boolean {
  // prefix 4, header 8, id 8, then AC ED 00 05 73 72 <u16 length> <name>
  const at = 20;
  if (
    frame.length < at + 8 || frame[at] !== 0xac || frame[at + 1] !== 0xed ||
    frame[at + 4] !== 0x73 || frame[at + 5] !== 0x72
  ) {
    return false;
  }
  const n = (frame[at + 6] << 8) | frame[at + 7];
  outer: for (const name of RELAYED_FAILURES) {
    if (name.length !== n || frame.length < at + 8 + n) continue;
    for (let i = 0; i < n; i++) if (frame[at + 8 + i] !== name[i]) continue outer;
    return true;
  }
  return false;
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
 * requests have deadlines, and an oracle update drops that job's cached
 * locations at once.
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
  readonly #ownsClient: boolean;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #lookupTimeoutMs: number;
  /** job id (hex) → state name → cached lookup. */
  readonly #cache = new Map<string, Map<string, CacheEntry>>();
  /** Cancels each pending lookup deadline or retry backoff (on close). */
  readonly #cancels = new Set<(err: unknown) => void>();
  readonly #unsubscribe: () => void;

  /**
   * Creates a KvStateClientProxy.
   *
   * @param options Binding, bounds, retries, oracle registry, upstream client.
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
    this.oracles = options.oracles ?? new KvStateLocationOracleRegistry();
    this.#unsubscribe = this.oracles.onUpdate((jobId) => this.#invalidate(jobId));
    const upstream = options.upstreamTransport ?? options.transport;
    if (options.client !== undefined) {
      this.client = options.client;
      this.#ownsClient = false;
    } else {
      if (upstream === undefined) {
        throw new TypeError(`${KV_STATE_PROXY_NAME}: a transport (or client) is needed`);
      }
      this.client = new NetworkClient({
        transport: upstream,
        clientName: "Queryable State Proxy Client",
        maxFrameLength: options.maxFrameLength,
        // Requests forwarded on the fast path are bounded by this deadline.
        requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      });
      this.#ownsClient = true;
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
    else this.#cache.delete(jobId.toString());
  }

  /** Decodes a REQUEST body (see {@linkcode AbstractServer}). */
  protected decodeRequest(body: Uint8Array): KvStateRequest {
    return decodeKvStateRequest(body);
  }

  /**
   * The fast path (see {@linkcode AbstractServer}): with the location cached
   * and resolved, forward at once and relay the state server's answer frame
   * as it came, with only the request id patched (a result, or a
   * bad-request failure, which Flink relays unchanged too). Anything else
   * takes the regular path with its retries and error mapping.
   *
   * @param call The request.
   * @returns Whether the request was taken.
   */
  protected override respondFast(call: FastCall<KvStateRequest>): boolean {
    const request = call.request;
    const location = this.#cache.get(request.jobId.toString())?.get(request.stateName)?.value;
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
    const frame = call.frame;
    if (response !== null) {
      if (response[11] === 1 || isRelayedFailure(response)) {
        // The client's request id in place of ours.
        for (let i = 0; i < 8; i++) response[12 + i] = frame[8 + i];
        call.send(response);
        return;
      }
      const body = response.subarray(20);
      try {
        error = withSerializedThrowable(errorFromJavaThrowable(readJavaThrowable(body)), body);
      } catch (e) {
        error = e;
      }
    }
    // Retryable or not, the regular path decides (and wraps what it gives up on).
    this.#retry(call.request, new FastPathContext(frame), error, 0).then(
      (content) => call.send(resultFrameFor(frame, content)),
      (err) => call.fail(err),
    );
  };

  /** Answers one request (see {@linkcode AbstractServer}): route, forward, retry. */
  protected handleRequest(
    request: KvStateRequest,
    context: RequestContext,
  ): Promise<Uint8Array> {
    // Fast path: the location is cached and resolved, so route at once.
    const location = this.#cache.get(request.jobId.toString())?.get(request.stateName)?.value;
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
      // Flink's retry set, plus a connection closed under the request:
      // queries are reads, so sending one again is safe.
      const retryable = err instanceof UnknownKvStateIdError ||
        err instanceof UnknownKvStateKeyGroupLocationError ||
        err instanceof ConnectError ||
        err instanceof ConnectionClosedError;
      if (!retryable || attempt >= this.#retries || this.closed) throw err;
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

  /** Flink's lookup rules (PROTOCOL §4.3) plus a deadline. */
  #lookup(jobId: JobId, stateName: string, force: boolean): Promise<KvStateLocation> {
    const jobKey = jobId.toString();
    let states = this.#cache.get(jobKey);
    const cached = states?.get(stateName);
    if (!force && cached !== undefined && !cached.failed) return cached.promise;
    const oracle = this.oracles.get(jobId);
    if (oracle === null) {
      return Promise.reject(UnknownLocationError.forState(stateName, jobKey));
    }
    if (states === undefined) {
      states = new Map();
      this.#cache.set(jobKey, states);
    }
    const jobStates = states;
    const promise = this.#withDeadline(oracle, jobId, stateName);
    const entry: CacheEntry = { promise, failed: false, value: undefined };
    jobStates.set(stateName, entry);
    promise.then((loc) => {
      entry.value = loc;
    }, (err) => {
      if (jobStates.get(stateName) !== entry) return;
      if (err instanceof FlinkJobNotFoundError) jobStates.delete(stateName);
      else entry.failed = true;
    });
    return promise;
  }

  #withDeadline(
    oracle: KvStateLocationOracle,
    jobId: JobId,
    stateName: string,
  ): Promise<KvStateLocation> {
    const controller = new AbortController();
    return new Promise<KvStateLocation>((resolve, reject) => {
      const finish = (err: unknown, loc?: KvStateLocation) => {
        clearTimeout(timer);
        this.#cancels.delete(cancel);
        if (loc !== undefined) resolve(loc);
        else reject(err);
      };
      const cancel = (err: unknown) => {
        controller.abort(err);
        finish(err);
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
          .then((loc) => finish(undefined, loc), (err) => finish(err));
      } catch (err) {
        finish(err);
      }
    });
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
    if (this.#ownsClient) await this.client.close();
  }
}
