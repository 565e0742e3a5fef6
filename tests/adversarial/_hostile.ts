/**
 * Shared pieces of the adversarial tests (real sockets, Deno transport,
 * 127.0.0.1 port 0): the seed, raw hostile sockets, a well-behaved client
 * that checks every answer byte for byte against bytes computed here, and
 * Java serialization streams at the edge of what the reader's default limits
 * accept. (The scripted fake state server is in `../_scripted_upstream.ts`.)
 *
 * Every wait is bounded; every socket opened here is closed by its owner.
 *
 * @module
 */

import { denoTransport } from "../../src/transport/deno.ts";
import {
  type JobId,
  type KvStateId,
  KvStateServer,
  type NetAddress,
  type ServerOptions,
  TYPE_SERIALIZERS,
} from "../../mod.ts";
import {
  bytesEqual,
  concatBytes,
  decodeMessage,
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  encodeKvStateResponse,
  encodeRequestFailure,
  javaThrowable,
  MessageType,
  readJavaThrowable,
  serializeKeyAndNamespace,
  toHex,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { DecoderState } from "../../src/streams/mod.ts";
import { AssertionError } from "../_assert.ts";
import { RawPeer, RawState } from "../_harness.ts";
import { Prng } from "../_prng.ts";
import { idOfFrame } from "../_scripted_upstream.ts";
import { JOB, Plane } from "../proxy/_plane.ts";

/** The transport every adversarial test runs on. */
export const transport = denoTransport;

/**
 * The seed of a test file: `ADVERSARIAL_SEED` when set, else the file's own
 * default. Printed, so that a failure can be replayed.
 *
 * @param file The test file's short name.
 * @param fallback Its default seed.
 * @returns The seed.
 */
export function seedFor(file: string, fallback: number): number {
  const env = Deno.env.get("ADVERSARIAL_SEED");
  const seed = env === undefined || env === "" ? fallback : Number(env) >>> 0;
  console.log(`[${file}] seed ${seed} (replay: ADVERSARIAL_SEED=${seed})`);
  return seed;
}

/**
 * Waits for `promise`, or rejects after `ms` naming what did not happen.
 *
 * @param promise What to wait for.
 * @param ms The bound.
 * @param what What is awaited, for the message.
 * @returns Its value.
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AssertionError(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why a hostile socket stopped reading. */
export type SocketEnd = "eof" | "reset" | "closed";

/** The most bytes a hostile socket keeps of what it reads (the rest is only counted). */
const KEEP_BYTES = 32 * 1024 * 1024;

/**
 * A raw TCP socket (`Deno.connect`, no library code) for a hostile peer:
 * writes whatever it is given, tolerates the server going away, and (unless
 * told not to) reads everything the server sends in the background.
 */
export class HostileSocket {
  /** The socket. */
  readonly conn: Deno.TcpConn;
  readonly #chunks: Uint8Array[] = [];
  #kept = 0;
  /** Bytes received in all. */
  receivedBytes = 0;
  #reading: Promise<SocketEnd> | undefined;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /**
   * Connects.
   *
   * @param address The server.
   * @param read Whether to read what the server sends (default true).
   * @returns The socket.
   */
  static async open(address: NetAddress, read = true): Promise<HostileSocket> {
    const conn = await Deno.connect({ hostname: address.hostname, port: address.port });
    conn.setNoDelay(true);
    const s = new HostileSocket(conn);
    if (read) s.#reading = s.#readAll();
    return s;
  }

  async #readAll(): Promise<SocketEnd> {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await this.conn.read(buf);
      } catch {
        return this.#closed ? "closed" : "reset";
      }
      if (n === null) return "eof";
      this.receivedBytes += n;
      if (this.#kept + n <= KEEP_BYTES) {
        this.#chunks.push(buf.slice(0, n));
        this.#kept += n;
      }
    }
  }

  /** Resolves when the server has closed its side (or the socket was closed here). */
  get ended(): Promise<SocketEnd> {
    this.#reading ??= this.#readAll();
    return this.#reading;
  }

  /** What was received so far (up to 32 MiB). */
  get received(): Uint8Array {
    return concatBytes(this.#chunks);
  }

  /**
   * Writes all of `bytes`.
   *
   * @param bytes The bytes.
   * @returns `false` when the server is gone (reset, closed).
   */
  async write(bytes: Uint8Array): Promise<boolean> {
    try {
      for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  /** Half-closes (FIN), ignoring a socket already gone. */
  async closeWrite(): Promise<void> {
    try {
      await this.conn.closeWrite();
    } catch {
      // gone
    }
  }

  /** Closes the socket and waits for the background read to end. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch {
        // closed already
      }
    }
    await this.#reading;
  }
}

/** What a server sent on one connection, frame by frame. */
export interface Answers {
  /** Every frame, length prefix included. */
  readonly frames: Uint8Array[];
  /** REQUEST_RESULT frames. */
  readonly results: number;
  /** REQUEST_FAILURE frames. */
  readonly failures: number;
  /** SERVER_FAILURE frames. */
  readonly serverFailures: number;
  /** The messages of the SERVER_FAILURE frames, in order. */
  readonly serverFailureMessages: string[];
}

/**
 * Splits what a server sent into frames and checks that each is a
 * well-formed answer: a REQUEST_RESULT, or a REQUEST_FAILURE or
 * SERVER_FAILURE whose body is a Throwable our reader (and so a JVM) reads.
 *
 * @param bytes The bytes received.
 * @returns The frames, counted by type.
 * @throws {AssertionError} On a partial frame, bad framing or an unreadable failure.
 */
export function checkAnswers(bytes: Uint8Array): Answers {
  const frames: Uint8Array[] = [];
  const decoder = new DecoderState(256 * 1024 * 1024);
  const err = decoder.push(bytes, frames, true);
  if (err !== null) throw new AssertionError(`the server sent bad framing: ${err.message}`);
  if (decoder.buffered > 0) {
    throw new AssertionError(`the server sent a partial frame (${decoder.buffered} bytes)`);
  }
  let results = 0;
  let failures = 0;
  let serverFailures = 0;
  const serverFailureMessages: string[] = [];
  for (const f of frames) {
    const m = decodeMessage(f.subarray(4));
    if (m.type === MessageType.REQUEST_RESULT) {
      results++;
      continue;
    }
    if (m.type === MessageType.REQUEST) {
      throw new AssertionError(`the server sent a REQUEST frame: ${toHex(f.subarray(0, 32))}`);
    }
    const t = readJavaThrowable(m.body);
    if (m.type === MessageType.REQUEST_FAILURE) failures++;
    else {
      serverFailures++;
      serverFailureMessages.push(`${t.className}: ${t.message}`);
    }
  }
  return { frames, results, failures, serverFailures, serverFailureMessages };
}

/** The class name Flink's server sends for a missing key. */
export const UNKNOWN_KEY_CLASS =
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";

/** The serialized Throwable our state server sends for a missing key (Flink's, byte for byte). */
export const UNKNOWN_KEY_THROWABLE: Uint8Array = writeJavaThrowable(
  javaThrowable(
    UNKNOWN_KEY_CLASS,
    "Queryable State Server : No state for the specified key/namespace.",
  ),
);

/** One key of a test data set and what a state holds for it. */
export interface KeyCase {
  /** The key. */
  readonly key: string;
  /** Its serialized key and (void) namespace. */
  readonly kn: Uint8Array;
  /** Its Java hash code. */
  readonly hash: number;
  /** The stored content, or `null` for a key the state does not hold. */
  readonly content: Uint8Array | null;
}

/**
 * A state holding random content bytes for `hits` random string keys, and as
 * many again absent keys as a quarter of that.
 *
 * @param rng The PRNG.
 * @param hits Keys present.
 * @returns The state and its keys.
 */
export function makeDataset(rng: Prng, hits: number): {
  state: RawState<string | null>;
  keys: KeyCase[];
} {
  const ser = TYPE_SERIALIZERS.string;
  const keys: KeyCase[] = [];
  const entries: Array<[string, Uint8Array]> = [];
  const total = hits + Math.ceil(hits / 4);
  for (let i = 0; i < total; i++) {
    const key = `k${i}-${rng.int(1e9).toString(36)}${i % 7 === 0 ? "-ü" : ""}`;
    const content = i < hits ? rng.bytes(rng.int(64)) : null;
    if (content !== null) entries.push([key, content]);
    keys.push({ key, kn: serializeKeyAndNamespace(key, ser), hash: ser.hashCode(key), content });
  }
  return { state: new RawState(ser, entries), keys };
}

/** A request and the exact answer a correct server gives to it. */
export interface Expectation {
  /** The request frame (length prefix included) for a request id. */
  readonly request: (id: bigint) => Uint8Array;
  /** The answer frame (length prefix included) for that id. */
  readonly answer: (id: bigint) => Uint8Array;
}

function answerFor(id: bigint, content: Uint8Array | null): Uint8Array {
  return content === null
    ? encodeRequestFailure(id, UNKNOWN_KEY_THROWABLE)
    : encodeKvStateResponse(id, content);
}

/**
 * The data set's keys as requests to a proxy.
 *
 * @param keys The keys.
 * @param jobId The job.
 * @param stateName The state's name.
 * @returns The expectations.
 */
export function proxyCases(
  keys: readonly KeyCase[],
  jobId: JobId,
  stateName: string,
): Expectation[] {
  return keys.map((k) => ({
    request: (id) =>
      encodeKvStateRequest(id, {
        jobId,
        stateName,
        keyHashCode: k.hash,
        serializedKeyAndNamespace: k.kn,
      }),
    answer: (id) => answerFor(id, k.content),
  }));
}

/**
 * The data set's keys as requests to a state server.
 *
 * @param keys The keys.
 * @param kvStateId The state instance.
 * @returns The expectations.
 */
export function directCases(keys: readonly KeyCase[], kvStateId: KvStateId): Expectation[] {
  return keys.map((k) => ({
    request: (id) =>
      encodeKvStateInternalRequest(id, { kvStateId, serializedKeyAndNamespace: k.kn }),
    answer: (id) => answerFor(id, k.content),
  }));
}

/** What the hostile tests aim at: the proxy in front of a state server, or a state server alone. */
export const TARGET_NAMES = ["state server", "proxy"] as const;

/** One of {@linkcode TARGET_NAMES}. */
export type TargetName = typeof TARGET_NAMES[number];

/** A running target serving a data set, and the requests a well-behaved client makes of it. */
export interface Target {
  /** Which one. */
  readonly name: TargetName;
  /** Where hostile peers and the well-behaved client connect. */
  readonly address: NetAddress;
  /** The data set's keys as requests to it, with their exact answers. */
  readonly cases: readonly Expectation[];
  /** The state instance serving the data set. */
  readonly kvStateId: KvStateId;
  /** The plane, for the proxy; `undefined` for the state server alone. */
  readonly plane: Plane | undefined;
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Starts a target serving `dataset`: for the proxy, a plane (proxy and one
 * state server, job {@linkcode JOB}) with the state registered as
 * `stateName`; else a state server alone.
 *
 * @param name Which target.
 * @param dataset The state and its keys (see {@linkcode makeDataset}).
 * @param stateName The state's name (for the proxy's requests).
 * @param bounds Server options (for the plane: its proxy and servers).
 * @returns The running target.
 */
export async function startHostileTarget(
  name: TargetName,
  dataset: { state: RawState<string | null>; keys: readonly KeyCase[] },
  stateName: string,
  bounds: Partial<ServerOptions> = {},
): Promise<Target> {
  const { state, keys } = dataset;
  if (name === "proxy") {
    const plane = await Plane.start(transport, bounds);
    try {
      const kvStateId = plane.register(stateName, await plane.addServer(), state);
      return {
        name,
        address: plane.proxyAddress,
        cases: proxyCases(keys, JOB, stateName),
        kvStateId,
        plane,
        close: () => plane.close(),
      };
    } catch (e) {
      await plane.close();
      throw e;
    }
  }
  const server = new KvStateServer({ transport, ...bounds });
  const kvStateId = server.registry.register(state);
  return {
    name,
    address: await server.start(),
    cases: directCases(keys, kvStateId),
    kvStateId,
    plane: undefined,
    close: () => server.close(),
  };
}

/**
 * A well-behaved client on its own connection: sends requests drawn from
 * its cases, pipelined, and checks that every answer arrives, once, with
 * exactly the expected bytes.
 */
export class Checker {
  readonly #peer: RawPeer;
  readonly #cases: readonly Expectation[];
  readonly #rng: Prng;
  #nextId = 1n;
  /** Answers checked so far. */
  checked = 0;

  private constructor(peer: RawPeer, cases: readonly Expectation[], rng: Prng) {
    this.#peer = peer;
    this.#cases = cases;
    this.#rng = rng;
  }

  /**
   * Connects.
   *
   * @param address The server.
   * @param cases The requests to draw from.
   * @param seed The seed of the draw.
   * @returns The checker.
   */
  static async connect(
    address: NetAddress,
    cases: readonly Expectation[],
    seed: number,
  ): Promise<Checker> {
    return new Checker(await RawPeer.connect(transport, address), cases, new Prng(seed));
  }

  /**
   * Sends `n` requests, at most `depth` unanswered at once, and checks every
   * answer.
   *
   * @param n Requests.
   * @param depth Requests in flight.
   * @param timeoutMs The bound on the whole round.
   * @throws {AssertionError} On a wrong, unexpected, duplicate or missing answer.
   */
  async round(n: number, depth = 16, timeoutMs = 15_000): Promise<void> {
    const pending = new Map<bigint, Uint8Array>();
    const end = performance.now() + timeoutMs;
    let sent = 0;
    while (sent < n || pending.size > 0) {
      const batch: Uint8Array[] = [];
      while (sent < n && pending.size < depth) {
        const c = this.#rng.pick(this.#cases);
        const id = this.#nextId++;
        pending.set(id, c.answer(id));
        batch.push(c.request(id));
        sent++;
      }
      if (batch.length > 0) await this.#peer.send(...batch);
      const left = Math.max(1, end - performance.now());
      const f = await within(
        this.#peer.frame(),
        left,
        `the well-behaved client's answers (${pending.size} missing)`,
      );
      if (f === null) {
        throw new AssertionError(
          `the well-behaved client's connection closed with ${pending.size} answers missing`,
        );
      }
      const id = f.length >= 20 ? idOfFrame(f) : -1n;
      const want = pending.get(id);
      if (want === undefined) {
        throw new AssertionError(
          `the well-behaved client got an answer for no request of its own: ${
            toHex(f.subarray(0, 40))
          }`,
        );
      }
      pending.delete(id);
      if (!bytesEqual(f, want)) {
        let at = 0;
        while (at < f.length && at < want.length && f[at] === want[at]) at++;
        throw new AssertionError(
          `the well-behaved client's answer to request ${id} differs at byte ${at}: got ` +
            `${toHex(f.subarray(0, 64))}… (${f.length} B), want ${
              toHex(want.subarray(0, 64))
            }… (${want.length} B)`,
        );
      }
      this.checked++;
    }
  }

  /**
   * Runs rounds until `busy` settles (and at least one round), at most
   * `maxRounds`.
   *
   * @param busy The hostile work running meanwhile.
   * @param roundSize Requests per round.
   * @param maxRounds The bound on rounds.
   * @returns The number of answers checked.
   * @throws What `busy` rejects with (a failed hostile step fails the test).
   */
  async alongside(busy: Promise<unknown>, roundSize = 64, maxRounds = 2000): Promise<number> {
    let done = false;
    busy.then(() => (done = true), () => (done = true));
    for (let r = 0; r < maxRounds; r++) {
      await this.round(roundSize);
      if (done) break;
    }
    await busy;
    return this.checked;
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return this.#peer.close();
  }
}

/**
 * Sends request frames (each with its own request id) in batches of
 * `batch`, reading each batch's answers before the next, and returns the
 * answers by request id: exactly one per request, each a well-formed answer
 * (see {@linkcode checkAnswers}).
 *
 * @param peer The connection.
 * @param frames The requests.
 * @param batch Requests in flight at most.
 * @param timeoutMs The bound on all of it.
 * @returns The answers by id.
 */
export async function exchange(
  peer: RawPeer,
  frames: readonly Uint8Array[],
  batch = 256,
  timeoutMs = 20_000,
): Promise<Map<bigint, Uint8Array>> {
  const answers = new Map<bigint, Uint8Array>();
  const asked = new Set<bigint>();
  const end = performance.now() + timeoutMs;
  for (let i = 0; i < frames.length; i += batch) {
    const part = frames.slice(i, i + batch);
    for (const f of part) asked.add(idOfFrame(f));
    await peer.send(...part);
    for (let n = 0; n < part.length; n++) {
      const f = await within(peer.frame(), Math.max(1, end - performance.now()), "answers");
      if (f === null) {
        throw new AssertionError(`the connection closed after ${answers.size} answers`);
      }
      checkAnswers(f);
      const id = idOfFrame(f);
      if (!asked.has(id) || answers.has(id)) {
        throw new AssertionError(`an answer to no request, or a second one: id ${id}`);
      }
      answers.set(id, f);
    }
  }
  return answers;
}

/**
 * A REQUEST_FAILURE body that starts as a Java serialization stream of an
 * object of class `className` (stream header, TC_OBJECT, TC_CLASSDESC, the
 * name) and goes on with junk.
 *
 * @param className The class name up front.
 * @param junk What follows it.
 * @returns The body.
 */
export function classNameThenJunk(className: string, junk: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode(className);
  const out = new Uint8Array(8 + name.length + junk.length);
  out.set([0xac, 0xed, 0x00, 0x05, 0x73, 0x72, name.length >> 8, name.length & 0xff]);
  out.set(name, 8);
  out.set(junk, 8 + name.length);
  return out;
}
