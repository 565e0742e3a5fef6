/**
 * The baseline forwarder's engine, shared by its Deno and Node front ends
 * (`baseline_forwarder.ts`, `baseline_forwarder_node.ts`), runtime-neutral:
 * frames are parsed in place in the bytes read, each `KvStateRequest` is
 * routed by key group (Flink's murmur, `keyGroupForKeyHash`) through a static
 * location table to a `KvStateInternalRequest` written straight into the
 * upstream connection's output buffer (with an upstream id from that
 * connection's own slot table), and each answer is copied straight into the
 * client's output buffer with the client's id patched back. Every output
 * buffer touched while handling one read is flushed once afterwards: one
 * write per batch. No Web Streams, no promise per request, no allocation per
 * request.
 *
 * It is the ceiling to compare our proxy against, not a product: it knows
 * only what a locations file tells it, connects upstream once at start, and
 * treats a lost upstream as fatal.
 *
 * @module
 */

import { JobId, parseLocations } from "../mod.ts";
import { javaThrowable, keyGroupForKeyHash, VERSION, writeJavaThrowable } from "../src/wire/mod.ts";

/** A growable output buffer. */
export class OutBuffer {
  /** The bytes. */
  buf: Uint8Array;
  /** How many are used. */
  len = 0;

  /** @param size The initial capacity. */
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  /**
   * Makes room for `n` more bytes.
   *
   * @param n The bytes needed.
   * @returns The buffer (possibly new).
   */
  reserve(n: number): Uint8Array {
    if (this.len + n > this.buf.length) {
      const g = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      g.set(this.buf.subarray(0, this.len));
      this.buf = g;
    }
    return this.buf;
  }
}

/** Where a side's output goes; the front end writes `out` when flushed. */
export interface Sink {
  /** The bytes to write next. */
  readonly out: OutBuffer;
  /** Set while listed for the next flush. */
  touched: boolean;
  /** Writes (or starts writing) everything in `out`; `out` is empty afterwards. */
  flush(): void;
}

/** A client connection's state. */
export interface ClientSide extends Sink {
  /** Set when the connection is gone (its answers are dropped). */
  closed: boolean;
}

/** An upstream connection's state: its slots map upstream ids to clients. */
export class UpstreamSide {
  /** The address, `host:port`. */
  readonly address: string;
  /** The sink (set by the front end once connected). */
  sink!: Sink;
  slotClient: Array<ClientSide | null> = [];
  slotHi: Uint32Array = new Uint32Array(1024);
  slotLo: Uint32Array = new Uint32Array(1024);
  free: number[] = [];

  /** @param address `host:port`. */
  constructor(address: string) {
    this.address = address;
  }

  /**
   * Takes a slot for a request.
   *
   * @returns The slot, the upstream request id.
   */
  alloc(client: ClientSide, hi: number, lo: number): number {
    let s = this.free.pop();
    if (s === undefined) {
      s = this.slotClient.length;
      this.slotClient.push(null);
      if (s >= this.slotHi.length) {
        const h = new Uint32Array(this.slotHi.length * 2);
        h.set(this.slotHi);
        this.slotHi = h;
        const l = new Uint32Array(this.slotLo.length * 2);
        l.set(this.slotLo);
        this.slotLo = l;
      }
    }
    this.slotClient[s] = client;
    this.slotHi[s] = hi;
    this.slotLo[s] = lo;
    return s;
  }
}

interface Route {
  readonly job: Uint8Array;
  readonly name: Uint8Array;
  readonly numKeyGroups: number;
  /** Per key group: the upstream, or null. */
  readonly upstream: Array<UpstreamSide | null>;
  /** Per key group: 16 bytes of kvStateId. */
  readonly ids: Uint8Array;
}

function i32(b: Uint8Array, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}

function put32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

/** Thrown (to the front end) when a connection's framing is lost. */
export class FramingLost extends Error {}

/** The forwarding engine. */
export class ForwarderCore {
  readonly #routes: Route[] = [];
  /** The upstream connections, one per state server address. */
  readonly upstreams: UpstreamSide[] = [];
  readonly #touched: Sink[] = [];
  readonly #maxFrame: number;
  readonly #unknownState: Uint8Array;
  readonly #badFrame: Uint8Array;

  /**
   * @param locations A locations document (as `StaticLocationOracle` reads).
   * @param maxFrameLength The largest frame accepted.
   */
  constructor(locations: unknown, maxFrameLength = 64 * 1024 * 1024) {
    this.#maxFrame = maxFrameLength;
    const byAddress = new Map<string, UpstreamSide>();
    const enc = new TextEncoder();
    for (const [jobHex, states] of parseLocations(locations)) {
      const job = JobId.fromHex(jobHex).bytes;
      for (const [name, loc] of states) {
        const upstream: Array<UpstreamSide | null> = [];
        const ids = new Uint8Array(loc.numKeyGroups * 16);
        for (let kg = 0; kg < loc.numKeyGroups; kg++) {
          const a = loc.getAddress(kg);
          const id = loc.getKvStateId(kg);
          if (a === null || id === null) {
            upstream.push(null);
            continue;
          }
          const key = a.hostname.includes(":")
            ? `[${a.hostname}]:${a.port}`
            : `${a.hostname}:${a.port}`;
          let u = byAddress.get(key);
          if (u === undefined) {
            u = new UpstreamSide(key);
            byAddress.set(key, u);
            this.upstreams.push(u);
          }
          upstream.push(u);
          id.writeTo(ids, kg * 16);
        }
        this.#routes.push({
          job,
          name: enc.encode(name),
          numKeyGroups: loc.numKeyGroups,
          upstream,
          ids,
        });
      }
    }
    this.#unknownState = writeJavaThrowable(
      javaThrowable(
        "java.lang.RuntimeException",
        "No location for this state or key group (baseline forwarder).",
      ),
    );
    this.#badFrame = writeJavaThrowable(
      javaThrowable("java.lang.RuntimeException", "Failed incoming message."),
    );
  }

  #touch(s: Sink): void {
    if (!s.touched) {
      s.touched = true;
      this.#touched.push(s);
    }
  }

  /** Flushes every sink touched since the last call: one write each. */
  flushTouched(): void {
    const t = this.#touched;
    for (let i = 0; i < t.length; i++) {
      t[i].touched = false;
      t[i].flush();
    }
    t.length = 0;
  }

  #findRoute(b: Uint8Array, jobAt: number, nameAt: number, nameLen: number): Route | null {
    const routes = this.#routes;
    outer: for (let r = 0; r < routes.length; r++) {
      const route = routes[r];
      const name = route.name;
      if (name.length !== nameLen) continue;
      for (let i = 0; i < nameLen; i++) if (name[i] !== b[nameAt + i]) continue outer;
      const job = route.job;
      for (let i = 0; i < 16; i++) if (job[i] !== b[jobAt + i]) continue outer;
      return route;
    }
    return null;
  }

  #failure(client: ClientSide, b: Uint8Array, p: number, throwable: Uint8Array): void {
    const out = client.out;
    const w = out.reserve(20 + throwable.length);
    const o = out.len;
    put32(w, o, 16 + throwable.length);
    put32(w, o + 4, VERSION);
    put32(w, o + 8, 2);
    for (let i = 0; i < 8; i++) w[o + 12 + i] = b[p + 12 + i];
    w.set(throwable, o + 20);
    out.len = o + 20 + throwable.length;
    this.#touch(client);
  }

  /**
   * Handles the bytes a client sent: every whole frame in `b[0..end)`.
   *
   * @param client The client.
   * @param b The bytes.
   * @param end How many.
   * @returns How many bytes were consumed (the rest is a partial frame).
   * @throws {FramingLost} On a negative or oversize length.
   */
  onClientBytes(client: ClientSide, b: Uint8Array, end: number): number {
    let p = 0;
    while (end - p >= 4) {
      const len = i32(b, p);
      if (len < 0 || len > this.#maxFrame) throw new FramingLost(`bad frame length ${len}`);
      const fend = p + 4 + len;
      if (fend > end) break;
      this.#onRequest(client, b, p, len);
      p = fend;
    }
    return p;
  }

  #onRequest(client: ClientSide, b: Uint8Array, p: number, len: number): void {
    if (len < 16 + 16 + 4 || i32(b, p + 4) !== VERSION || i32(b, p + 8) !== 0) {
      this.#failure(client, b, p, this.#badFrame);
      return;
    }
    const nameLen = i32(b, p + 36);
    if (nameLen < 0 || 40 + nameLen + 8 > 4 + len) {
      this.#failure(client, b, p, this.#badFrame);
      return;
    }
    const hashAt = p + 40 + nameLen;
    const knLen = i32(b, hashAt + 4);
    const knAt = hashAt + 8;
    if (knLen < 0 || knAt + knLen > p + 4 + len) {
      this.#failure(client, b, p, this.#badFrame);
      return;
    }
    const route = this.#findRoute(b, p + 20, p + 40, nameLen);
    if (route === null) {
      this.#failure(client, b, p, this.#unknownState);
      return;
    }
    const kg = keyGroupForKeyHash(i32(b, hashAt), route.numKeyGroups);
    const up = route.upstream[kg];
    if (up === null) {
      this.#failure(client, b, p, this.#unknownState);
      return;
    }
    const slot = up.alloc(
      client,
      ((b[p + 12] << 24) | (b[p + 13] << 16) | (b[p + 14] << 8) | b[p + 15]) >>> 0,
      ((b[p + 16] << 24) | (b[p + 17] << 16) | (b[p + 18] << 8) | b[p + 19]) >>> 0,
    );
    const out = up.sink.out;
    const size = 40 + knLen;
    const w = out.reserve(size);
    const o = out.len;
    put32(w, o, size - 4);
    put32(w, o + 4, VERSION);
    put32(w, o + 8, 0);
    put32(w, o + 12, 0);
    put32(w, o + 16, slot);
    const ids = route.ids;
    const idAt = kg * 16;
    for (let i = 0; i < 16; i++) w[o + 20 + i] = ids[idAt + i];
    put32(w, o + 36, knLen);
    if (knLen <= 64) {
      for (let i = 0; i < knLen; i++) w[o + 40 + i] = b[knAt + i];
    } else {
      w.set(b.subarray(knAt, knAt + knLen), o + 40);
    }
    out.len = o + size;
    this.#touch(up.sink);
  }

  /**
   * Handles the bytes an upstream sent: every whole frame in `b[0..end)`.
   *
   * @param up The upstream.
   * @param b The bytes.
   * @param end How many.
   * @returns How many bytes were consumed.
   * @throws {FramingLost} On a negative or oversize length.
   */
  onUpstreamBytes(up: UpstreamSide, b: Uint8Array, end: number): number {
    let p = 0;
    while (end - p >= 4) {
      const len = i32(b, p);
      if (len < 0 || len > this.#maxFrame) throw new FramingLost(`bad frame length ${len}`);
      const fend = p + 4 + len;
      if (fend > end) break;
      const type = len >= 16 ? i32(b, p + 8) : -1;
      if (type === 1 || type === 2) {
        const slot = i32(b, p + 16);
        const client = slot >= 0 && slot < up.slotClient.length ? up.slotClient[slot] : null;
        if (client !== null) {
          up.slotClient[slot] = null;
          up.free.push(slot);
          if (!client.closed) {
            const out = client.out;
            const n = 4 + len;
            const w = out.reserve(n);
            const o = out.len;
            if (n <= 128) {
              for (let i = 0; i < n; i++) w[o + i] = b[p + i];
            } else {
              w.set(b.subarray(p, fend), o);
            }
            put32(w, o + 12, up.slotHi[slot]);
            put32(w, o + 16, up.slotLo[slot]);
            out.len = o + n;
            this.#touch(client);
          }
        }
      }
      // SERVER_FAILURE and anything else: dropped (a bench tool).
      p = fend;
    }
    return p;
  }
}

/**
 * Reads `--flag value` pairs common to both front ends.
 *
 * @param argv The arguments.
 * @returns The locations file path, host, port, and (Deno) the initial read
 * buffer size per connection.
 */
export function forwarderArgs(
  argv: readonly string[],
): { locations: string; host: string; port: number; readBuffer: number } {
  let locations = "";
  let host = "127.0.0.1";
  let port = 0;
  let readBuffer = 16 * 1024;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--locations") locations = argv[++i];
    else if (a === "--host") host = argv[++i];
    else if (a === "--port") port = Number(argv[++i]);
    else if (a === "--read-buffer") readBuffer = Math.max(64, Number(argv[++i]));
    else throw new Error(`unknown argument ${a}`);
  }
  if (locations === "") {
    throw new Error(
      "usage: --locations FILE [--host 127.0.0.1] [--port 0] [--read-buffer 16384]",
    );
  }
  return { locations, host, port, readBuffer };
}
