/**
 * A hostile state server behind a real proxy: a fake server on raw frames,
 * located through an `InMemoryLocationRegistry`, that answers with huge
 * stack traces, junk failures, or not at all, or stops reading. The proxy
 * must survive each, answer every request with a bounded, readable answer,
 * and keep its memory bounded. Real sockets (Deno transport, 127.0.0.1:0).
 */
import {
  InMemoryLocationRegistry,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  type KvStateClientProxyOptions,
  KvStateId,
  NetworkClient,
} from "../../mod.ts";
import {
  concatBytes,
  DEFAULT_THROWABLE_TEXT_LIMITS,
  encodeKvStateRequest,
  encodeKvStateResponse,
  encodeRequestFailure,
  MessageType,
  readJavaThrowable,
  toHex,
} from "../../src/wire/mod.ts";
import { MAX_FAILURE_FRAME_LENGTH } from "../../src/server/failure_frames.ts";
import { assert, assertEquals } from "../_assert.ts";
import { RawPeer } from "../_harness.ts";
import { Prng } from "../_prng.ts";
import { largestTraceStream } from "../wire/_java_streams.ts";
import {
  checkAnswers,
  classNameThenJunk,
  seedFor,
  transport,
  UNKNOWN_KEY_CLASS,
  within,
} from "./_hostile.ts";
import { idOfFrame, ScriptedUpstream, type UpstreamScript } from "../_scripted_upstream.ts";

const SEED = seedFor("hostile_upstream_test", 7707);
const JOB = JobId.fromHex("a0a1a2a3a4a5a6a7b0b1b2b3b4b5b6b7");
const STATE = "hostile";
/** The most characters of text rendered from a remote Throwable. */
const TEXT_LIMIT = DEFAULT_THROWABLE_TEXT_LIMITS.maxLength;
const BAD_REQUEST_CLASS = "org.apache.flink.queryablestate.network.BadRequestException";

/** A proxy in front of one scripted state server, and a raw client of the proxy. */
class Rig {
  readonly upstream: ScriptedUpstream;
  readonly proxy: KvStateClientProxy;
  readonly peer: RawPeer;
  readonly #locations: InMemoryLocationRegistry;
  readonly #client: NetworkClient | undefined;
  lookups = 0;

  private constructor(
    upstream: ScriptedUpstream,
    proxy: KvStateClientProxy,
    peer: RawPeer,
    locations: InMemoryLocationRegistry,
    client: NetworkClient | undefined,
  ) {
    this.upstream = upstream;
    this.proxy = proxy;
    this.peer = peer;
    this.#locations = locations;
    this.#client = client;
  }

  static async start(
    script: UpstreamScript,
    options: { read?: boolean; proxy?: Partial<KvStateClientProxyOptions> } = {},
  ): Promise<Rig> {
    const upstream = await ScriptedUpstream.start(transport, script, options.read ?? true);
    const locations = new InMemoryLocationRegistry();
    locations.notifyKvStateRegistered({
      jobId: JOB,
      jobVertexId: JobVertexId.random(),
      registrationName: STATE,
      numKeyGroups: 128,
      start: 0,
      end: 127,
      kvStateId: KvStateId.random(),
      address: upstream.address,
    });
    const proxy = new KvStateClientProxy({ transport, retryBackoffMs: 1, ...options.proxy });
    const address = await proxy.start();
    const rig = new Rig(
      upstream,
      proxy,
      await RawPeer.connect(transport, address),
      locations,
      options.proxy?.client,
    );
    rig.resetLocations();
    return rig;
  }

  /** (Re)sets the job's oracle, which drops the proxy's cached locations. */
  resetLocations(): void {
    this.proxy.updateKvStateLocationOracle(JOB, {
      requestKvStateLocation: (jobId, name) => {
        this.lookups++;
        return this.#locations.requestKvStateLocation(jobId, name);
      },
    });
  }

  request(id: bigint, kn: Uint8Array): Uint8Array {
    return encodeKvStateRequest(id, {
      jobId: JOB,
      stateName: STATE,
      keyHashCode: 7,
      serializedKeyAndNamespace: kn,
    });
  }

  /** One request, and its answer (within `ms`). */
  async ask(id: bigint, kn = new Uint8Array([1, 2, 3]), ms = 10_000): Promise<Uint8Array> {
    await this.peer.send(this.request(id, kn));
    const f = await within(this.peer.frame(), ms, `the answer to request ${id}`);
    assert(f !== null, `the proxy closed the connection instead of answering request ${id}`);
    assertEquals(idOfFrame(f), id, "the answer carries the request's id");
    return f;
  }

  async close(): Promise<void> {
    await this.peer.close();
    await this.proxy.close();
    await this.#client?.close();
    await this.upstream.close();
  }
}

/** A REQUEST_FAILURE of bounded size with a readable RuntimeException. @returns Its message. */
function boundedFailure(f: Uint8Array, id: bigint): string {
  assertEquals(f[11], MessageType.REQUEST_FAILURE, "a REQUEST_FAILURE");
  assert(f.length <= MAX_FAILURE_FRAME_LENGTH, `the failure frame is bounded (${f.length} bytes)`);
  const t = readJavaThrowable(f.subarray(20));
  assertEquals(t.className, "java.lang.RuntimeException");
  const message = t.message ?? "";
  const head = `Failed request ${id}.\n Caused by: `;
  assert(message.startsWith(head), `Flink's wrapping: ${message.slice(0, 100)}`);
  assert(
    message.length <= head.length + TEXT_LIMIT,
    `the rendered remote text is bounded (${message.length} characters)`,
  );
  return message;
}

Deno.test(`hostile upstream: a failure with a huge stack trace on the regular and the fast path gives a bounded failure, then service as usual (seed ${SEED})`, async () => {
  const rng = new Prng(SEED);
  const huge = largestTraceStream();
  // As big as the reader's default limits accept.
  assertEquals(readJavaThrowable(huge).stackTrace.length, 100_000);
  const good = rng.bytes(40);
  const rig = await Rig.start((req, i) =>
    i < 2 ? encodeRequestFailure(idOfFrame(req), huge) : encodeKvStateResponse(idOfFrame(req), good)
  );
  try {
    const regular = await rig.ask(5n); // nothing cached: lookup, forward, parse
    const fast = await rig.ask(5n); // the location is cached now
    assertEquals(rig.lookups, 1, "the second request took the cached location");
    for (const f of [regular, fast]) {
      const m = boundedFailure(f, 5n);
      assert(m.includes("java.lang.RuntimeException: MMM"), "names the remote failure");
    }
    assertEquals(toHex(fast), toHex(regular), "the fast and the regular path answer alike");
    assertEquals(toHex(await rig.ask(6n)), toHex(encodeKvStateResponse(6n, good)));
    assertEquals(rig.upstream.requests, 3);
  } finally {
    await rig.close();
  }
});

Deno.test(`hostile upstream: junk after a bad-request class name: the fast and the regular path give identical, readable bytes (seed ${SEED})`, async () => {
  const rng = new Prng(SEED + 1);
  const variants: Uint8Array[] = [];
  for (const cls of [BAD_REQUEST_CLASS, UNKNOWN_KEY_CLASS]) {
    variants.push(classNameThenJunk(cls, new Uint8Array(0)));
    variants.push(classNameThenJunk(cls, new Uint8Array([0xff, 0xff, 0xff, 0xff])));
    for (let i = 0; i < 6; i++) variants.push(classNameThenJunk(cls, rng.bytes(1 + rng.int(300))));
  }
  // The request's key bytes say which variant the upstream answers with.
  const rig = await Rig.start((req, _i) => {
    const v = req[req.length - 1];
    return encodeRequestFailure(idOfFrame(req), variants[v]);
  });
  try {
    for (let v = 0; v < variants.length; v++) {
      const id = BigInt(100 + v);
      rig.resetLocations();
      const regular = await rig.ask(id, new Uint8Array([v]));
      const fast = await rig.ask(id, new Uint8Array([v]));
      rig.resetLocations();
      const again = await rig.ask(id, new Uint8Array([v]));
      const answers = checkAnswers(concatBytes([regular, fast, again]));
      assertEquals(answers.failures, 3, `variant ${v}: failures with readable Throwables`);
      assertEquals(toHex(fast), toHex(regular), `variant ${v}: fast path = regular path`);
      assertEquals(toHex(again), toHex(regular), `variant ${v}: regular path again`);
    }
    assertEquals(rig.lookups, 2 * variants.length);
  } finally {
    await rig.close();
  }
});

Deno.test(`hostile upstream: a state server that stops reading: queued bytes stay bounded, requests past the bound fail at once with a typed error, the rest at the deadline`, async () => {
  const maxQueued = 1 << 20;
  const deadlineMs = 2_000;
  const client = new NetworkClient({
    transport,
    clientName: "Queryable State Proxy Client",
    requestTimeoutMs: deadlineMs,
    maxQueuedBytesPerConnection: maxQueued,
  });
  const rig = await Rig.start(() => null, { read: false, proxy: { client } });
  const kn = new Uint8Array(32 * 1024).fill(7);
  const requests = 800; // 26 MB: more than the kernel's socket buffers take
  let maxSeen = 0;
  const sampler = setInterval(() => (maxSeen = Math.max(maxSeen, client.queuedBytes)), 5);
  try {
    const started = performance.now();
    const sending = (async () => {
      for (let i = 0; i < requests; i += 50) {
        const batch: Uint8Array[] = [];
        for (let j = i; j < i + 50; j++) batch.push(rig.request(BigInt(j), kn));
        await rig.peer.send(...batch);
      }
    })();
    const seen = new Set<bigint>();
    const kinds = new Map<string, number>();
    let lastRejected = 0;
    let firstTimedOut = Infinity;
    try {
      for (let n = 0; n < requests; n++) {
        const left = started + deadlineMs + 3_000 - performance.now();
        const f = await within(rig.peer.frame(), left, "answers");
        assert(f !== null, "the proxy keeps the client's connection");
        const at = performance.now() - started;
        const id = idOfFrame(f);
        assert(!seen.has(id), `one answer per request (${id} twice)`);
        seen.add(id);
        const kind = /Caused by: ([\w.$]+)/.exec(boundedFailure(f, id))?.[1] ?? "?";
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        if (kind === "java.util.concurrent.RejectedExecutionException") lastRejected = at;
        else if (kind === "java.util.concurrent.TimeoutException") {
          firstTimedOut = Math.min(firstTimedOut, at);
        } else throw new Error(`an unexpected failure: ${kind}`);
        maxSeen = Math.max(maxSeen, client.queuedBytes);
      }
    } catch (e) {
      throw new Error(`${(e as Error).message}; answers so far: ${JSON.stringify([...kinds])}`);
    }
    await sending;
    const summary = `${JSON.stringify([...kinds])}, last rejection at ${
      Math.round(lastRejected)
    } ms`;
    assert(
      (kinds.get("java.util.concurrent.RejectedExecutionException") ?? 0) > 0,
      `requests past the bound fail with RequestQueueFullError: ${summary}`,
    );
    assert(lastRejected < deadlineMs * 0.75, `rejections come at once: ${summary}`);
    assert(
      firstTimedOut !== Infinity && firstTimedOut >= deadlineMs * 0.9,
      `the rest fail at the deadline: ${summary}`,
    );
    assert(
      maxSeen <= maxQueued + kn.length + 64,
      `queued bytes stayed within the bound (${maxSeen} > ${maxQueued})`,
    );
    assert(rig.upstream.connections >= 1);
  } finally {
    clearInterval(sampler);
    await rig.close();
  }
});

Deno.test(`hostile upstream: a state server that never answers: requests fail at the deadline, on the fast and the regular path`, async () => {
  const timeoutMs = 300;
  const good = new Uint8Array([1, 2, 3, 4]);
  const rig = await Rig.start(
    (req, i) => (i === 0 ? encodeKvStateResponse(idOfFrame(req), good) : null),
    { proxy: { requestTimeoutMs: timeoutMs } },
  );
  try {
    assertEquals(toHex(await rig.ask(1n)), toHex(encodeKvStateResponse(1n, good)));
    for (const [id, path] of [[2n, "fast"], [3n, "regular"]] as const) {
      if (path === "regular") rig.resetLocations();
      const started = performance.now();
      const f = await rig.ask(id, undefined, 5_000);
      const elapsed = performance.now() - started;
      const m = boundedFailure(f, id);
      assert(
        m.includes("java.util.concurrent.TimeoutException") && m.includes(`${timeoutMs} ms`),
        `${path} path: a deadline failure: ${m}`,
      );
      assert(
        elapsed >= timeoutMs - 20 && elapsed < timeoutMs + 1_500,
        `${path} path: failed at the deadline (${Math.round(elapsed)} ms)`,
      );
    }
    assertEquals(rig.lookups, 2);
  } finally {
    await rig.close();
  }
});
