/**
 * The gateway's watch route: live changes of one key's state as
 * server-sent events (`text/event-stream`).
 *
 * `GET /v1/jobs/{jobId}/states/{stateName}/watch?key=K&keyType=T&valueType=T[&stateKind=…][&mapKeyType=T][&intervalMs=N]`
 * takes the value route's parameters (a bad one answers 400 JSON, as there)
 * and `intervalMs`, the time between two polls (default 1,000 ms; a smaller
 * value is raised to the floor, default 100 ms; more than 3,600,000 or not a
 * positive integer answers 400). It answers `200 text/event-stream`, then:
 *
 * - first, one event with the key's current state;
 * - then one event each time the state's raw content bytes change (the
 *   state is polled every `intervalMs`, one poll at a time; an unchanged
 *   state sends nothing);
 * - a comment line `: keep-alive` when nothing was sent for `keepAliveMs`
 *   (default 15,000 ms), so that proxies keep the connection open.
 *
 * Events:
 *
 * | event      | `data` (one line of JSON)                                                              |
 * |------------|----------------------------------------------------------------------------------------|
 * | `value`    | the value route's body: `{"value": …}` (see `json_values.ts`)                          |
 * | `failure`  | `{"error": {"type", "javaClass", "message", "status"}}`, as a failed query of a batch  |
 *
 * An absent key is a `failure` with `type` `"UnknownKeyOrNamespaceError"`
 * and `status` 404 (the value route's 404); when the key gets a value, a
 * `value` event follows. A failure is sent once until the outcome changes:
 * the same `status`, `type` and `javaClass` again send nothing. The event is
 * named `failure`, not `error`, because `error` is the name of
 * `EventSource`'s own connection event.
 *
 * Bounds: at most `maxWatchers` streams at once (default 64; one more
 * answers 503 `TooManyWatchersError`), each poll abandoned after
 * `pollTimeoutMs` (a `failure` with status 504), and a client that reads
 * nothing while 64 events wait for it is dropped. The stream ends, with no
 * timer or query left behind, when the client goes away (the request's
 * `signal` aborts or the body stream is cancelled) or
 * {@linkcode WatchRoute.closeAll} is called (the query handler's `close()`
 * calls it for the handler's own watch route).
 *
 * @module
 */

import { bytesEqual } from "../wire/bytes.ts";
import { UnknownKeyOrNamespaceError } from "../wire/errors.ts";
import { serializeKeyAndNamespace } from "../wire/key_and_namespace.ts";
import { decodeListContent, decodeMapContent, decodeValueContent } from "../wire/state_content.ts";
import { DEFAULT_MAX_ERROR_TEXT, errorAnswer } from "./error_body.ts";
import { BadParameterError, GatewayError } from "./gateway_errors.ts";
import { type JsonValue, stateToJson } from "./json_values.ts";
import type { Route, RouteContext } from "./route_table.ts";
import { positiveOption } from "./positive_option.ts";
import {
  queryFromParams,
  runStateQuery,
  type StateQueryClient,
  type StateQuerySpec,
} from "./state_query.ts";

/**
 * The default of {@linkcode WatchOptions.defaultIntervalMs}: 1,000 ms.
 *
 * @example
 * ```ts
 * import { DEFAULT_WATCH_INTERVAL_MS } from "@kvstate/queryable-state/http";
 *
 * DEFAULT_WATCH_INTERVAL_MS; // => 1000
 * ```
 */
export const DEFAULT_WATCH_INTERVAL_MS = 1000;

/**
 * The default of {@linkcode WatchOptions.minIntervalMs}: 100 ms.
 *
 * @example
 * ```ts
 * import { DEFAULT_WATCH_MIN_INTERVAL_MS } from "@kvstate/queryable-state/http";
 *
 * DEFAULT_WATCH_MIN_INTERVAL_MS; // => 100
 * ```
 */
export const DEFAULT_WATCH_MIN_INTERVAL_MS = 100;

/**
 * The default of {@linkcode WatchOptions.maxWatchers}: 64.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_WATCHERS } from "@kvstate/queryable-state/http";
 *
 * DEFAULT_MAX_WATCHERS; // => 64
 * ```
 */
export const DEFAULT_MAX_WATCHERS = 64;

/**
 * The largest `intervalMs` a watch takes: 3,600,000 ms (one hour); more
 * answers 400.
 *
 * @example
 * ```ts
 * import { MAX_WATCH_INTERVAL_MS } from "@kvstate/queryable-state/http";
 *
 * MAX_WATCH_INTERVAL_MS; // => 3600000
 * ```
 */
export const MAX_WATCH_INTERVAL_MS = 3_600_000;

/** The default of {@linkcode WatchOptions.keepAliveMs}. */
const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** The default of {@linkcode WatchOptions.pollTimeoutMs}. */
const DEFAULT_POLL_TIMEOUT_MS = 10_000;
/** Events waiting for a client that reads nothing before it is dropped. */
const MAX_QUEUED_EVENTS = 64;
/** The message of the `failure` for an absent key. */
const ABSENT_MESSAGE = "No state for the specified key/namespace.";

/**
 * The bounds and timings of the watch route (all optional). In
 * {@linkcode QueryHandlerOptions.watch} they configure the handler's own
 * watch route.
 *
 * @example
 * ```ts
 * import type { WatchOptions } from "@kvstate/queryable-state/http";
 *
 * const w: WatchOptions = { maxWatchers: 8, defaultIntervalMs: 500 };
 * w.maxWatchers; // => 8
 * ```
 */
export interface WatchOptions {
  /** The poll interval when the request gives no `intervalMs`, in ms. Default 1,000. */
  readonly defaultIntervalMs?: number;
  /**
   * The floor of `intervalMs`, in ms: a smaller requested interval is
   * raised to it. Default 100.
   */
  readonly minIntervalMs?: number;
  /**
   * The most watch streams open at once; one more answers 503
   * (`TooManyWatchersError`). Default 64.
   */
  readonly maxWatchers?: number;
  /**
   * The time one poll may take, in ms; past it the poll is abandoned and a
   * `failure` (status 504) is sent. Default 10,000 (in the query handler:
   * its `deadlineMs`).
   */
  readonly pollTimeoutMs?: number;
  /**
   * After this many ms without an event, a comment line `: keep-alive` is
   * sent. Default 15,000.
   */
  readonly keepAliveMs?: number;
}

/**
 * What the watch route needs of its client: `getKvState` (see
 * {@linkcode StateQueryClient}), and preferably
 * `getKvStateBytesIfPresent` as `QueryableStateClient` has it, so that
 * changes are found by comparing the state's raw bytes. Without it, the
 * route compares the decoded state's JSON instead.
 *
 * @example
 * ```ts
 * import { MemoryTransport, QueryableStateClient } from "@kvstate/queryable-state";
 * import type { WatchClient } from "@kvstate/queryable-state/http";
 *
 * await using client = new QueryableStateClient({
 *   transport: new MemoryTransport(), proxy: "127.0.0.1:9069",
 * });
 * const c: WatchClient = client;
 * typeof c.getKvStateBytesIfPresent; // => "function"
 * ```
 */
export interface WatchClient extends StateQueryClient {
  /**
   * The raw content of one key's state, `undefined` when the key has none
   * (see `QueryableStateClient.getKvStateBytesIfPresent`).
   *
   * @param jobId The job id, 32 hex characters.
   * @param stateName The queryable state's name.
   * @param keyHashCode The key's Java `hashCode()`.
   * @param serializedKeyAndNamespace The serialized key and namespace.
   * @param options The signal and the deadline.
   * @returns The content, or `undefined`.
   */
  getKvStateBytesIfPresent?(
    jobId: string,
    stateName: string,
    keyHashCode: number,
    serializedKeyAndNamespace: Uint8Array,
    options: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<Uint8Array | undefined>;
}

/**
 * Options of {@linkcode createWatchRoute}: the client, the bounds, and the
 * longest error text in a `failure`.
 *
 * @example
 * ```ts
 * import type { WatchRouteOptions } from "@kvstate/queryable-state/http";
 *
 * const o: Omit<WatchRouteOptions, "client"> = { minIntervalMs: 250 };
 * o.minIntervalMs; // => 250
 * ```
 */
export interface WatchRouteOptions extends WatchOptions {
  /** The client of the Queryable State proxy. */
  readonly client: WatchClient;
  /** The longest error `message` (and `javaClass`) in a `failure`. Default 1,024. */
  readonly maxErrorTextLength?: number;
}

/**
 * The watch route, with a view of its open streams.
 *
 * @example
 * ```ts
 * import type { WatchRoute } from "@kvstate/queryable-state/http";
 *
 * const show = (r: WatchRoute) => `${r.path}: ${r.active} open`;
 * typeof show; // => "function"
 * ```
 */
export interface WatchRoute extends Route {
  /** How many watch streams are open. */
  readonly active: number;
  /** Ends every open watch stream (e.g. before the server shuts down). */
  closeAll(): void;
}

/**
 * Creates the watch route (`GET /v1/jobs/{jobId}/states/{stateName}/watch`,
 * see the module documentation). `createQueryHandler` registers one by
 * default; this is for a table of one's own.
 *
 * @example Watch a key: the first event is its current value
 * ```ts
 * import {
 *   InMemoryLocationRegistry, InMemoryValueState, JobId, JobVertexId, KvStateClientProxy,
 *   KvStateServer, MemoryTransport, QueryableStateClient, TYPE_SERIALIZERS,
 * } from "@kvstate/queryable-state";
 * import { createQueryHandler, createWatchRoute } from "@kvstate/queryable-state/http";
 *
 * const transport = new MemoryTransport();
 * await using server = new KvStateServer({ transport });
 * const kvStateId = server.registry.register(
 *   new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set("hello", 42n),
 * );
 * const jobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
 * const locations = new InMemoryLocationRegistry();
 * locations.notifyKvStateRegistered({
 *   jobId, jobVertexId: JobVertexId.random(), registrationName: "word-counts",
 *   numKeyGroups: 128, start: 0, end: 127, kvStateId, address: await server.start(),
 * });
 * await using proxy = new KvStateClientProxy({ transport });
 * proxy.updateKvStateLocationOracle(jobId, locations);
 * await using client = new QueryableStateClient({ transport, proxy: await proxy.start() });
 *
 * const watch = createWatchRoute({ client, maxWatchers: 4 });
 * const handler = createQueryHandler({ client, watch: false, routes: [watch] });
 * const res = await handler(new Request(
 *   "http://localhost/v1/jobs/0102030405060708a1a2a3a4a5a6a7a8/states/word-counts/watch" +
 *     "?key=hello&keyType=string&valueType=long",
 * ));
 * res.headers.get("content-type"); // => "text/event-stream"
 * const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
 * (await reader.read()).value; // => 'event: value\ndata: {"value":"42"}\n\n'
 * watch.active; // => 1
 * await reader.cancel();
 * watch.active; // => 0
 * ```
 *
 * @param options The client and the bounds.
 * @returns The route.
 * @throws {RangeError} When a bound is not a positive integer, or the
 *   default interval is below the floor or above {@linkcode MAX_WATCH_INTERVAL_MS}.
 */
export function createWatchRoute(options: WatchRouteOptions): WatchRoute {
  const client = options.client;
  const minInterval = positiveOption(
    options.minIntervalMs,
    DEFAULT_WATCH_MIN_INTERVAL_MS,
    "minIntervalMs",
  );
  const defaultInterval = positiveOption(
    options.defaultIntervalMs,
    DEFAULT_WATCH_INTERVAL_MS,
    "defaultIntervalMs",
  );
  if (defaultInterval < minInterval || defaultInterval > MAX_WATCH_INTERVAL_MS) {
    throw new RangeError(
      `defaultIntervalMs must be between minIntervalMs (${minInterval}) and ${MAX_WATCH_INTERVAL_MS}, got ${defaultInterval}`,
    );
  }
  const maxWatchers = positiveOption(options.maxWatchers, DEFAULT_MAX_WATCHERS, "maxWatchers");
  const pollTimeoutMs = positiveOption(
    options.pollTimeoutMs,
    DEFAULT_POLL_TIMEOUT_MS,
    "pollTimeoutMs",
  );
  const keepAliveMs = positiveOption(options.keepAliveMs, DEFAULT_KEEP_ALIVE_MS, "keepAliveMs");
  const maxText = positiveOption(
    options.maxErrorTextLength,
    DEFAULT_MAX_ERROR_TEXT,
    "maxErrorTextLength",
  );
  const open = new Set<() => void>();

  function intervalOf(params: URLSearchParams): number {
    const text = params.get("intervalMs");
    if (text === null) return defaultInterval;
    const n = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
    if (!(n >= 1 && n <= MAX_WATCH_INTERVAL_MS)) {
      throw new BadParameterError(
        "intervalMs",
        `expected an integer from 1 to ${MAX_WATCH_INTERVAL_MS}`,
      );
    }
    return Math.max(n, minInterval);
  }

  return {
    method: "GET",
    path: "/v1/jobs/{jobId}/states/{stateName}/watch",
    get active() {
      return open.size;
    },
    closeAll() {
      for (const stop of [...open]) stop();
    },
    handle({ request, url, params }: RouteContext): Response {
      const spec = queryFromParams(params.jobId, params.stateName, url.searchParams);
      const intervalMs = intervalOf(url.searchParams);
      if (open.size >= maxWatchers) {
        throw new GatewayError(
          503,
          "TooManyWatchersError",
          `Too many watch streams open (at most ${maxWatchers})`,
        );
      }
      const body = watchStream(
        client,
        spec,
        request.signal,
        open,
        { intervalMs, pollTimeoutMs, keepAliveMs, maxText },
      );
      return new Response(body, {
        headers: {
          "content-type": "text/event-stream",
          "cache-control": "no-store",
          "x-accel-buffering": "no",
        },
      });
    },
  };
}

interface Timings {
  readonly intervalMs: number;
  readonly pollTimeoutMs: number;
  readonly keepAliveMs: number;
  readonly maxText: number;
}

/** Polls one key and streams its changes until stopped. */
function watchStream(
  client: WatchClient,
  spec: StateQuerySpec,
  requestSignal: AbortSignal,
  open: Set<() => void>,
  t: Timings,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  const bytesOf = client.getKvStateBytesIfPresent;
  const keyHashCode = spec.keyHash ?? spec.keyType.hashCode(spec.key);
  const serializedKey = serializeKeyAndNamespace(spec.key, spec.keyType);
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let lastWrite = 0;
  /** The content last sent as a `value` (bytes path). */
  let lastBytes: Uint8Array | undefined;
  /** What was last sent otherwise: a failure's signature, or a value's JSON (no bytes API). */
  let lastText: string | undefined;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    open.delete(stop);
    requestSignal.removeEventListener("abort", stop);
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    abort.abort(new DOMException("The watch ended", "AbortError"));
    wake?.();
    try {
      controller?.close();
    } catch {
      // Already cancelled by the client.
    }
  };

  const send = (text: string): void => {
    if (stopped || controller === undefined) return;
    if ((controller.desiredSize ?? 0) < -MAX_QUEUED_EVENTS) {
      stop(); // the client reads nothing
      return;
    }
    controller.enqueue(encoder.encode(text));
    lastWrite = performance.now();
  };

  const sendFailure = (err: unknown): void => {
    const a = errorAnswer(err, t.maxText);
    const signature = `failure ${a.status} ${a.error.type} ${a.error.javaClass}`;
    if (signature === lastText) return;
    lastText = signature;
    lastBytes = undefined;
    const data: JsonValue = { error: { ...a.error, status: a.status } as JsonValue };
    send(`event: failure\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const sendValue = (value: JsonValue): void => {
    send(`event: value\ndata: ${JSON.stringify({ value })}\n\n`);
  };

  const decode = (content: Uint8Array): JsonValue => {
    const valueSerializer = spec.valueType;
    let state: unknown;
    if (spec.stateKind === "list") {
      state = decodeListContent(valueSerializer, content);
    } else if (spec.stateKind === "map") {
      state = decodeMapContent(spec.mapKeyType!, valueSerializer, content);
    } else {
      state = decodeValueContent(valueSerializer, content);
    }
    return stateToJson(spec.stateKind, spec.valueType, state, spec.mapKeyType);
  };

  const poll = async (): Promise<void> => {
    const query = { signal: abort.signal, timeoutMs: t.pollTimeoutMs };
    try {
      if (bytesOf !== undefined) {
        const content = await bytesOf.call(
          client,
          spec.jobId,
          spec.stateName,
          keyHashCode,
          serializedKey,
          query,
        );
        if (stopped) return;
        if (content === undefined) {
          sendFailure(new UnknownKeyOrNamespaceError(ABSENT_MESSAGE));
          return;
        }
        if (lastBytes !== undefined && bytesEqual(lastBytes, content)) return;
        const value = decode(content);
        lastBytes = content.slice();
        lastText = undefined;
        sendValue(value);
      } else {
        const value = await runStateQuery(client, spec, query);
        if (stopped) return;
        const text = JSON.stringify(value);
        if (text === lastText) return;
        lastText = text;
        sendValue(value);
      }
    } catch (err) {
      if (!stopped) sendFailure(err);
    }
  };

  const run = async (): Promise<void> => {
    let nextPoll = performance.now();
    while (!stopped) {
      if (performance.now() >= nextPoll) {
        await poll();
        if (stopped) break;
        nextPoll = performance.now() + t.intervalMs;
      }
      if (performance.now() - lastWrite >= t.keepAliveMs) send(": keep-alive\n\n");
      const due = Math.min(nextPoll, lastWrite + t.keepAliveMs);
      const wait = Math.max(0, Math.ceil(due - performance.now()));
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, wait);
      });
      wake = undefined;
      timer = undefined;
    }
  };

  open.add(stop);
  if (requestSignal.aborted) stop();
  else requestSignal.addEventListener("abort", stop, { once: true });

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (stopped) {
        c.close();
        return;
      }
      run().catch(stop);
    },
    cancel() {
      stop();
    },
  });
}
