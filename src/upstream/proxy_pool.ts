/**
 * A pool of Queryable State proxies (Flink's, one per TaskManager, or
 * ours): whole client requests sent to the member with the fewest
 * outstanding requests, members that fail taken out and probed back with
 * backoff, and a request that got no answer sent again to another member
 * within its deadline. Member state lives in `pool_member.ts`, the choice in
 * `member_choice.ts`, the failover rule in `attempt_verdict.ts`, the probe
 * backoff in `backoff.ts`.
 *
 * @module
 */

import {
  NetworkClient,
  type NetworkClientOptions,
  type RawResponseHandler,
  type RequestOptions,
} from "../client/network_client.ts";
import type { LogLevel } from "../observability/log_record.ts";
import { type Logger, SILENT_LOGGER } from "../observability/logger.ts";
import { errorClass, errorMessage, logEvent, logs } from "../server/log_events.ts";
import type { NetAddress } from "../transport/types.ts";
import {
  ClosedError,
  ConnectError,
  DeadlineExceededError,
  serializedThrowableOf,
} from "../wire/errors.ts";
import { JobId } from "../wire/ids.ts";
import type { KvStateRequest } from "../wire/messages.ts";
import { tickNow } from "../wire/tick_clock.ts";
import { verdictOf } from "./attempt_verdict.ts";
import { isServerFailure } from "../client/server_failure.ts";
import { addressKey } from "../client/server_connection.ts";
import { backoffDelay, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS } from "./backoff.ts";
import { chooseMember } from "./member_choice.ts";
import { PoolMember, type PoolMemberSnapshot } from "./pool_member.ts";
import { parseProxyAddresses, type ProxyAddresses } from "./proxy_addresses.ts";

/** The most members a pool holds by default: 64. */
export const DEFAULT_MAX_POOL_MEMBERS = 64;
/** The most attempts of one request by default (the first included): 3. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** How long one attempt may take by default before the request goes elsewhere, in ms: 10,000. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/** How long a probe may take by default, in ms: 5,000. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5_000;

const DEFAULT_POOL_NAME = "Queryable State Proxy Pool";
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The most settled forwarded requests kept for reuse. */
const MAX_SPARE_FORWARDS = 1024;

/**
 * The probe: a request for a state of a job that no cluster runs (job id
 * `6b767374617465706f6f6c70726f6265`, "kvstatepoolprobe"); any answer,
 * result or failure, proves the member reads and answers requests.
 */
const PROBE_REQUEST: KvStateRequest = Object.freeze({
  jobId: JobId.fromHex("6b767374617465706f6f6c70726f6265"),
  stateName: "__kvstate_pool_probe__",
  keyHashCode: 0,
  serializedKeyAndNamespace: new Uint8Array(0),
});

/** How a pool retries and watches its members (shared with the client's `failover` option). */
export interface ProxyPoolFailoverOptions {
  /**
   * The most attempts of one request, the first included; each goes to a
   * member not tried yet for that request. Default 3.
   */
  readonly maxAttempts?: number;
  /**
   * How long one attempt may take, in ms, before it is abandoned and the
   * request goes to another member (the member is taken out as if its
   * connection had failed), within what is left of the request's deadline;
   * 0 for no limit but that deadline. Default 10,000.
   */
  readonly attemptTimeoutMs?: number;
  /** How long a probe of a member that is down may take, in ms. Default 5,000. */
  readonly probeTimeoutMs?: number;
  /** The first wait before probing a member that went down, in ms. Default 250. */
  readonly backoffInitialMs?: number;
  /**
   * The longest wait between two probes of a member that is down, in ms;
   * the wait doubles per failed probe up to it, each drawn between half of
   * it and all of it (jitter). Default 10,000.
   */
  readonly backoffMaxMs?: number;
}

/**
 * Options of {@linkcode ProxyPool}: the members, the failover rules, and
 * the options of the network client that each member gets
 * (`connectTimeoutMs` default 10,000, `maxQueuedBytesPerConnection` default
 * 16 MiB per member, `maxFrameLength` default 64 MiB, `stats` shared by the
 * members, ...; see {@linkcode NetworkClientOptions}). `requestTimeoutMs`
 * (default 30,000; 0 for none) is the deadline of a whole request, all its
 * attempts included.
 */
export interface ProxyPoolOptions
  extends Omit<NetworkClientOptions, "clientName">, ProxyPoolFailoverOptions {
  /**
   * The first members: `"h1:p1,h2:p2"` (`host` alone: port 9069), an
   * address, or an array of either (see {@linkcode parseProxyAddresses}; an
   * empty array for none). Default none (see {@linkcode ProxyPool.setMembers}).
   */
  readonly members?: ProxyAddresses;
  /** The name in messages and log events. Default `Queryable State Proxy Pool`. */
  readonly name?: string;
  /**
   * The most members at once (those draining not counted); a member list
   * longer than that is refused with a `RangeError`. Default 64.
   */
  readonly maxMembers?: number;
  /**
   * Where to log. Default `SILENT_LOGGER`. Every event has the fields
   * `pool` (the name) and `address` (the member, `host:port`):
   *
   * - `member_down` (warn), a member taken out: `error` (its class),
   *   `message`, `retry_in_ms` (the wait before its first probe);
   * - `member_up` (info), a member back (its probe or a request was
   *   answered): `down_ms`;
   * - `failover` (info), a request sent again to another member: `to`,
   *   `error`, `attempt` (the attempt that failed, from 1);
   * - `member_added`, `member_removed` (info), by
   *   {@linkcode ProxyPool.setMembers}: `outstanding` for a removed one.
   *
   * The members' clients log their connection events to it as well (see
   * {@linkcode NetworkClientOptions.logger}).
   */
  readonly logger?: Logger;
}

/** One request of {@linkcode ProxyPool.forward} across its attempts (reused once settled). */
class Forwarded {
  handler: RawResponseHandler<unknown> | undefined = undefined;
  context: unknown = undefined;
  body: Uint8Array = new Uint8Array(0);
  deadline = 0;
  /** The member of the attempt in flight. */
  member: PoolMember | undefined = undefined;
  readonly tried: PoolMember[] = [];
  /** The attempt in flight has a deadline of its own, shorter than the request's. */
  cut = false;
}

/**
 * A pool of Queryable State proxies (Flink's or ours: they speak the same
 * protocol) that whole client `KvStateRequest`s are sent to. Each member has
 * its own network client (one multiplexed connection, reconnected as
 * needed). A request goes to the member that is up with the fewest
 * outstanding requests (ties in turn). When an attempt gets no answer (the
 * connect fails, the connection closes or breaks under it, or it takes
 * longer than `attemptTimeoutMs`), the member is taken out and the request
 * is sent to another member, up to `maxAttempts` attempts within the
 * request's deadline (queries are reads: safe to send again). A failure the
 * member sends (an unknown key, state or job, any REQUEST_FAILURE) is an
 * answer: returned as is, never sent again. A member taken out is probed
 * after a backoff (250 ms doubling to 10 s, with jitter) with a request for
 * a job no cluster runs: any answer brings it back. When no member is up,
 * requests still try the members that are down (one may be back before its
 * probe says so).
 *
 * Members change with {@linkcode ProxyPool.setMembers} (what a discovery
 * calls); one that leaves is drained: no new requests, those in flight
 * finish, then its connection closes.
 *
 * @example Two proxies in front of one state server, queried through the pool
 * ```ts
 * import {
 *   InMemoryLocationRegistry, InMemoryValueState, JobId, JobVertexId, KvStateClientProxy,
 *   KvStateServer, MemoryTransport, ProxyPool, TYPE_SERIALIZERS,
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
 *   jobId, jobVertexId: JobVertexId.random(), registrationName: "counts",
 *   numKeyGroups: 128, start: 0, end: 127, kvStateId, address: await server.start(),
 * });
 * await using a = new KvStateClientProxy({ transport });
 * await using b = new KvStateClientProxy({ transport });
 * a.updateKvStateLocationOracle(jobId, locations);
 * b.updateKvStateLocationOracle(jobId, locations);
 *
 * await using pool = new ProxyPool({ transport, members: [await a.start(), await b.start()] });
 * const content = await pool.request({
 *   jobId, stateName: "counts", keyHashCode: string.hashCode("hello"),
 *   serializedKeyAndNamespace: serializeKeyAndNamespace("hello", string),
 * });
 * content.length; // => 8
 * pool.members.length; // => 2
 * ```
 */
export class ProxyPool {
  /** The name in messages and log events. */
  readonly name: string;
  /** The deadline of a request that gives none, all attempts included, in ms (0: none). */
  readonly requestTimeoutMs: number;
  /** The most attempts of one request. */
  readonly maxAttempts: number;
  /** The deadline of one attempt, in ms (0: none but the request's). */
  readonly attemptTimeoutMs: number;
  /** The most members at once. */
  readonly maxMembers: number;
  /** How long a connection attempt to a member may take, in ms (0: no limit). Default 10,000. */
  readonly connectTimeoutMs: number;
  readonly #options: ProxyPoolOptions;
  readonly #logger: Logger;
  readonly #probeTimeoutMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  /** The members requests go to (replaced whole by `setMembers`). */
  #members: PoolMember[] = [];
  readonly #byKey = new Map<string, PoolMember>();
  /** Removed members with requests still in flight. */
  readonly #draining = new Map<string, PoolMember>();
  /** Member clients being closed. */
  readonly #closings = new Set<Promise<void>>();
  readonly #spare: Forwarded[] = [];
  #cursor = 0;
  #failovers = 0;
  #closing: Promise<void> | undefined;

  /**
   * Creates a ProxyPool (no connection is opened before the first request).
   *
   * @param options The transport, the members, the failover rules, the members' client options.
   * @throws {RangeError} On a bound out of range, or more members than `maxMembers`.
   * @throws {TypeError} On a member that is not an address.
   */
  constructor(options: ProxyPoolOptions) {
    this.#options = options;
    this.name = options.name ?? DEFAULT_POOL_NAME;
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.requestTimeoutMs = nonNegative(
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      "requestTimeoutMs",
    );
    this.attemptTimeoutMs = nonNegative(
      options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
      "attemptTimeoutMs",
    );
    this.maxAttempts = positiveInt(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, "maxAttempts");
    this.maxMembers = positiveInt(options.maxMembers ?? DEFAULT_MAX_POOL_MEMBERS, "maxMembers");
    this.#probeTimeoutMs = positive(
      options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
      "probeTimeoutMs",
    );
    this.#backoffInitialMs = positive(
      options.backoffInitialMs ?? DEFAULT_BACKOFF_INITIAL_MS,
      "backoffInitialMs",
    );
    this.#backoffMaxMs = positive(options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS, "backoffMaxMs");
    // Validates the members' client options once, before any member exists.
    this.connectTimeoutMs = new NetworkClient(this.#clientOptions()).connectTimeoutMs;
    const members = options.members;
    if (members !== undefined && !(Array.isArray(members) && members.length === 0)) {
      this.setMembers(parseProxyAddresses(members));
    }
  }

  /**
   * Replaces the member list (what a discovery calls at each refresh).
   * Members already in the pool keep their connection, health and
   * counters; new ones start up; one that is no longer listed is drained:
   * it gets no new request, those in flight on it finish (answered, failed
   * over or expired), then its connection closes. A drained member listed
   * again before that is taken back as it is. The list is checked whole
   * before anything changes.
   *
   * @example
   * ```ts
   * import { MemoryTransport, ProxyPool } from "@kvstate/queryable-state";
   *
   * await using pool = new ProxyPool({ transport: new MemoryTransport(), members: "tm-1,tm-2" });
   * pool.setMembers([{ hostname: "tm-2", port: 9069 }, { hostname: "tm-3", port: 9069 }]);
   * pool.members.map((m) => m.address); // => ["tm-2:9069", "tm-3:9069"]
   * ```
   *
   * @param addresses The members (duplicates count once; may be empty).
   * @throws {RangeError} When there are more than `maxMembers` (nothing changes).
   * @throws {TypeError} On an entry that is not an address (nothing changes).
   * @throws {ClosedError} After `close()`.
   */
  setMembers(addresses: readonly (NetAddress | string)[]): void {
    if (this.#closing !== undefined) throw ClosedError.shutDown(this.name);
    const list = addresses.length === 0 ? [] : parseProxyAddresses(addresses);
    if (list.length > this.maxMembers) {
      throw new RangeError(
        `${this.name}: ${list.length} members listed, more than maxMembers (${this.maxMembers})`,
      );
    }
    const next: PoolMember[] = [];
    const keys = new Set<string>();
    for (const address of list) {
      const key = addressKey(address);
      keys.add(key);
      let member = this.#byKey.get(key);
      if (member === undefined) {
        member = this.#draining.get(key);
        if (member !== undefined) {
          this.#draining.delete(key);
          member.draining = false;
          if (!member.up) this.#scheduleProbe(member);
        } else {
          member = new PoolMember(address, key, new NetworkClient(this.#clientOptions()));
          this.#log("info", "member_added", member, {});
        }
      }
      next.push(member);
    }
    for (const member of this.#members) {
      if (!keys.has(member.key)) this.#drain(member);
    }
    this.#byKey.clear();
    for (const member of next) this.#byKey.set(member.key, member);
    this.#members = next;
  }

  /** The members now (those draining last), with their health and counters. */
  get members(): PoolMemberSnapshot[] {
    const out = this.#members.map((m) => m.snapshot());
    for (const m of this.#draining.values()) out.push(m.snapshot());
    return out;
  }

  /**
   * @internal The addresses of the members requests go to now (those
   * draining left out), as given (copies).
   */
  get memberAddresses(): NetAddress[] {
    return this.#members.map((m) => ({ hostname: m.address.hostname, port: m.address.port }));
  }

  /** Requests sent again to another member since the pool was made. */
  get failovers(): number {
    return this.#failovers;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Sends a `KvStateRequest` to a member, failing over as the class
   * describes.
   *
   * @param request The request.
   * @param options Signal and deadline (all attempts included).
   * @returns The response content.
   */
  request(request: KvStateRequest, options?: RequestOptions): Promise<Uint8Array> {
    return this.#request(request, options, false) as Promise<Uint8Array>;
  }

  /**
   * Like {@linkcode ProxyPool.request}, but a miss (the member's
   * `UnknownKeyOrNamespaceException`) resolves `undefined` without building
   * an error (see `NetworkClient.sendKvStateRequestIfPresent`).
   *
   * @param request The request.
   * @param options Signal and deadline (all attempts included).
   * @returns The response content, or `undefined` when the key has no value.
   */
  requestIfPresent(
    request: KvStateRequest,
    options?: RequestOptions,
  ): Promise<Uint8Array | undefined> {
    return this.#request(request, options, true);
  }

  async #request(
    request: KvStateRequest,
    options: RequestOptions | undefined,
    ifPresent: boolean,
  ): Promise<Uint8Array | undefined> {
    if (this.#closing !== undefined) throw ClosedError.shutDown(this.name);
    const signal = options?.signal;
    const timeoutMs = options?.timeoutMs ?? this.requestTimeoutMs;
    const deadline = timeoutMs > 0 ? performance.now() + timeoutMs : Infinity;
    const tried: PoolMember[] = [];
    let lastError: unknown;
    for (;;) {
      const member = this.#choose(tried);
      if (member === undefined) throw lastError ?? this.#noMember();
      if (lastError !== undefined) {
        this.#failedOver(tried[tried.length - 1], member, lastError, tried.length);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw lastError ?? this.#expired(timeoutMs);
      const cut = this.attemptTimeoutMs > 0 && this.attemptTimeoutMs < left;
      const attemptMs = cut ? this.attemptTimeoutMs : left === Infinity ? 0 : Math.ceil(left);
      tried.push(member);
      member.outstanding++;
      member.requests++;
      try {
        const own = { signal, timeoutMs: attemptMs };
        const content = ifPresent
          ? await member.client.sendKvStateRequestIfPresent(member.address, request, own)
          : await member.client.sendKvStateRequest(member.address, request, own);
        this.#settled(member);
        this.#answered(member);
        return content;
      } catch (err) {
        this.#settled(member);
        const verdict = this.#closing !== undefined || signal?.aborted
          ? "final"
          : verdictOf(err, cut);
        if (verdict === "answer") this.#answered(member);
        if (verdict === "answer" || verdict === "final") throw err;
        member.failures++;
        if (verdict === "down") this.#markDown(member, err);
        if (tried.length >= this.maxAttempts || performance.now() >= deadline) throw err;
        lastError = err;
      }
    }
  }

  /**
   * The forwarding path of a proxy in upstream mode: sends a whole request
   * (`body`: an encoded `KvStateRequest`, the bytes after the request id)
   * to a member, failing over as the class describes, and hands the
   * member's complete response frame (REQUEST_RESULT or REQUEST_FAILURE,
   * length prefix included, the pool's request id in it: patch it before
   * relaying) to `handler`, or `(null, error)` when no member answered
   * within the deadline (`requestTimeoutMs`) and attempts. No promise and no
   * closure per request. `handler` is called exactly once, possibly before
   * this method returns (closed pool, no member).
   *
   * @example
   * ```ts
   * import { JobId, KvStateClientProxy, MemoryTransport, ProxyPool } from "@kvstate/queryable-state";
   * import { encodeKvStateRequest } from "@kvstate/queryable-state/wire";
   *
   * const transport = new MemoryTransport();
   * await using proxy = new KvStateClientProxy({ transport });
   * await using pool = new ProxyPool({ transport, members: [await proxy.start()] });
   * const body = encodeKvStateRequest(0n, {
   *   jobId: JobId.random(), stateName: "none", keyHashCode: 0,
   *   serializedKeyAndNamespace: new Uint8Array(0),
   * }).subarray(20);
   * const type = await new Promise((resolve) =>
   *   pool.forward(body, (frame, error) => resolve(frame?.[11] ?? error), undefined)
   * );
   * type; // => 2
   * ```
   *
   * @param body The request body (left unchanged by the caller until `handler` is called).
   * @param handler Receives the frame or the error, and `context`.
   * @param context The handler's third argument.
   */
  forward<C>(body: Uint8Array, handler: RawResponseHandler<C>, context: C): void {
    const r = this.#spare.pop() ?? new Forwarded();
    r.handler = handler as RawResponseHandler<unknown>;
    r.context = context;
    r.body = body;
    const timeoutMs = this.requestTimeoutMs;
    r.deadline = timeoutMs > 0 ? tickNow() + timeoutMs : Infinity;
    if (this.#closing !== undefined) {
      this.#finish(r, null, ClosedError.shutDown(this.name));
      return;
    }
    const member = this.#choose(r.tried);
    if (member === undefined) {
      this.#finish(r, null, this.#noMember());
      return;
    }
    this.#send(r, member);
  }

  /** One attempt of a forwarded request. */
  #send(r: Forwarded, member: PoolMember): void {
    const left = r.deadline - tickNow();
    if (left <= 0) {
      this.#finish(r, null, this.#expired(this.requestTimeoutMs));
      return;
    }
    const cut = this.attemptTimeoutMs > 0 && this.attemptTimeoutMs < left;
    r.cut = cut;
    r.member = member;
    r.tried.push(member);
    member.outstanding++;
    member.requests++;
    member.client.forwardRequest(
      member.address,
      r.body,
      this.#onForwarded,
      r,
      cut ? this.attemptTimeoutMs : left === Infinity ? 0 : Math.ceil(left),
    );
  }

  /** A member's answer to a forwarded request, or its failure (one function for all). */
  #onForwarded = (frame: Uint8Array | null, error: unknown, context: unknown): void => {
    const r = context as Forwarded;
    const member = r.member!;
    r.member = undefined;
    this.#settled(member);
    if (frame !== null) {
      this.#answered(member);
      this.#finish(r, frame, undefined);
      return;
    }
    const verdict = this.#closing !== undefined ? "final" : verdictOf(error, r.cut);
    if (verdict === "answer") this.#answered(member);
    if (verdict === "answer" || verdict === "final") {
      this.#finish(r, null, error);
      return;
    }
    member.failures++;
    if (verdict === "down") this.#markDown(member, error);
    const next = r.tried.length < this.maxAttempts && tickNow() < r.deadline
      ? this.#choose(r.tried)
      : undefined;
    if (next === undefined) {
      this.#finish(r, null, error);
      return;
    }
    this.#failedOver(member, next, error, r.tried.length);
    this.#send(r, next);
  };

  /** Hands a forwarded request's outcome to its handler, and keeps the object for reuse. */
  #finish(r: Forwarded, frame: Uint8Array | null, error: unknown): void {
    const handler = r.handler!;
    const context = r.context;
    r.handler = undefined;
    r.context = undefined;
    r.body = NO_BYTES;
    r.tried.length = 0;
    if (this.#spare.length < MAX_SPARE_FORWARDS) this.#spare.push(r);
    try {
      handler(frame, error, context);
    } catch (e) {
      this.#internalError(e);
    }
  }

  #choose(tried: readonly PoolMember[]): PoolMember | undefined {
    const members = this.#members;
    if (members.length === 0) return undefined;
    const from = this.#cursor;
    this.#cursor = from >= 0x3fffffff ? 0 : from + 1;
    return chooseMember(members, from, tried);
  }

  /** An attempt on `member` is settled: one fewer outstanding; a drained member closes at 0. */
  #settled(member: PoolMember): void {
    member.outstanding--;
    if (member.draining && member.outstanding === 0) this.#release(member);
  }

  /** The member answered: it is up. */
  #answered(member: PoolMember): void {
    if (member.up || member.draining) return;
    member.up = true;
    member.clearProbe();
    member.failedProbes = 0;
    this.#log("info", "member_up", member, {
      down_ms: Math.round(performance.now() - member.downSince),
    });
  }

  #markDown(member: PoolMember, err: unknown): void {
    if (!member.up || member.draining) return;
    member.up = false;
    member.failedProbes = 0;
    member.downSince = performance.now();
    const wait = this.#scheduleProbe(member);
    if (logs(this.#logger, "warn")) {
      this.#log("warn", "member_down", member, {
        error: errorClass(err),
        message: errorMessage(err),
        retry_in_ms: wait,
      });
    }
  }

  /** Schedules the next probe of a member that is down. @returns The wait, in ms. */
  #scheduleProbe(member: PoolMember): number {
    member.clearProbe();
    // A member taken down while the pool closes (its requests failing) is not probed again.
    if (this.#closing !== undefined) return 0;
    const wait = backoffDelay(member.failedProbes, this.#backoffInitialMs, this.#backoffMaxMs);
    member.probeTimer = setTimeout(() => this.#probe(member), wait);
    return wait;
  }

  /** Probes a member that is down: any answer brings it back; else the next probe waits longer. */
  #probe(member: PoolMember): void {
    member.probeTimer = undefined;
    if (this.#closing !== undefined || member.up || member.draining) return;
    const seq = ++member.probeSeq;
    const dead = (): void => {
      if (seq !== member.probeSeq || this.#closing !== undefined || member.up) return;
      if (member.draining) return;
      member.failedProbes++;
      this.#scheduleProbe(member);
    };
    try {
      member.client.sendKvStateRequest(member.address, PROBE_REQUEST, {
        timeoutMs: this.#probeTimeoutMs,
      }).then(
        () => this.#answered(member),
        (err) => {
          // A failure sent for the probe is an answer; a SERVER_FAILURE is not.
          if (serializedThrowableOf(err) !== undefined && !isServerFailure(err)) {
            this.#answered(member);
          } else dead();
        },
      ).catch((e) => this.#internalError(e));
    } catch (e) {
      this.#internalError(e);
      dead();
    }
  }

  /** A request that failed on `from` (its attempt number `attempt`) goes to `to`. */
  #failedOver(from: PoolMember, to: PoolMember, err: unknown, attempt: number): void {
    from.failovers++;
    this.#failovers++;
    if (logs(this.#logger, "info")) {
      this.#log("info", "failover", from, { to: to.key, error: errorClass(err), attempt });
    }
  }

  /** A member no longer listed: no new requests; closed once nothing is in flight on it. */
  #drain(member: PoolMember): void {
    member.draining = true;
    member.clearProbe();
    this.#log("info", "member_removed", member, { outstanding: member.outstanding });
    if (member.outstanding === 0) this.#release(member);
    else this.#draining.set(member.key, member);
  }

  /** Closes a drained member's client. */
  #release(member: PoolMember): void {
    if (this.#draining.get(member.key) === member) this.#draining.delete(member.key);
    const closing = member.client.close().catch((e) => this.#internalError(e));
    this.#closings.add(closing);
    closing.finally(() => this.#closings.delete(closing));
  }

  #noMember(): ConnectError {
    return new ConnectError(
      `${this.name}: no member to send the request to (the member list is empty)`,
    );
  }

  #expired(timeoutMs: number): DeadlineExceededError {
    return new DeadlineExceededError(
      `${this.name}: the request did not complete within ${timeoutMs} ms`,
    );
  }

  #clientOptions(): NetworkClientOptions {
    return {
      ...this.#options,
      clientName: this.name,
      requestTimeoutMs: this.requestTimeoutMs,
      logger: this.#logger,
    };
  }

  #internalError(e: unknown): void {
    try {
      this.#options.onInternalError?.(e);
    } catch {
      // The hook's own failure has nowhere left to go.
    }
  }

  #log(
    level: LogLevel,
    event: string,
    member: PoolMember,
    fields: Record<string, unknown>,
  ): void {
    if (!logs(this.#logger, level)) return;
    logEvent(this.#logger, level, event, { pool: this.name, address: member.key, ...fields });
  }

  /**
   * Closes every member's connection and clears every probe timer. Requests
   * in flight reject with `ConnectionClosedError` (forwarded ones: their
   * handler gets it), later ones with `ClosedError`. Idempotent.
   *
   * @returns Resolves when every connection is released.
   */
  close(): Promise<void> {
    // Started a microtask later, so that `#closing` is set before anything the
    // shutdown settles runs (a request failing as its member's client closes
    // must see the pool closing, and schedule no probe).
    this.#closing ??= Promise.resolve().then(async () => {
      const all = [...this.#members, ...this.#draining.values()];
      for (const m of all) m.clearProbe();
      await Promise.all(all.map((m) => m.client.close().catch((e) => this.#internalError(e))));
      await Promise.all([...this.#closings]);
    });
    return this.#closing;
  }

  /** Same as {@linkcode ProxyPool.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const NO_BYTES = new Uint8Array(0);

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
  return v;
}

function positive(v: number, name: string): number {
  if (!(typeof v === "number" && v > 0 && v !== Infinity)) {
    throw new RangeError(`${name} must be a finite number > 0`);
  }
  return v;
}

function nonNegative(v: number, name: string): number {
  if (!(typeof v === "number" && v >= 0 && v !== Infinity)) {
    throw new RangeError(`${name} must be a finite number >= 0`);
  }
  return v;
}
