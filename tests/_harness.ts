/**
 * Shared test plumbing: the transports to run every networked test on, a raw
 * protocol peer that sends bytes and reads whole frames, and Flink fixture
 * states.
 */

import {
  type Connection,
  MemoryTransport,
  type NetAddress,
  type QueryableState,
  type Transport,
  TYPE_SERIALIZERS,
  type TypeSerializer,
} from "../mod.ts";
import { concatBytes, deserializeKeyAndNamespace, fromHex } from "../src/wire/mod.ts";
import { DecoderState } from "../src/streams/mod.ts";

/** A named transport factory. */
export interface TransportCase {
  name: string;
  make(): Transport;
}

const cases: TransportCase[] = [{ name: "memory", make: () => new MemoryTransport() }];
try {
  const { denoTransport } = await import("../src/transport/deno.ts");
  cases.push({ name: "deno", make: () => denoTransport });
  cases.push({ name: "deno+streams", make: () => streamsOnly(denoTransport) });
} catch (e) {
  console.warn(`[harness] Deno transport unavailable: ${(e as Error).message}`);
}
/**
 * A socket transport with the direct path hidden, so that the servers and
 * clients run their stream pipeline over real sockets.
 */
export function streamsOnly(inner: Transport): Transport {
  const wrap = (c: Connection): Connection => ({
    get readable() {
      return c.readable;
    },
    get writable() {
      return c.writable;
    },
    localAddress: c.localAddress,
    remoteAddress: c.remoteAddress,
    close: () => c.close(),
  });
  return {
    name: `${inner.name}+streams`,
    async listen(address) {
      const l = await inner.listen(address);
      return {
        address: l.address,
        accept: async () => {
          const c = await l.accept();
          return c === null ? null : wrap(c);
        },
        close: () => l.close(),
        async *[Symbol.asyncIterator]() {
          for (;;) {
            const c = await l.accept();
            if (c === null) return;
            yield wrap(c);
          }
        },
      };
    },
    async connect(options) {
      return wrap(await inner.connect(options));
    },
  };
}

try {
  const { nodeTransport } = await import("../src/transport/node.ts");
  cases.push({ name: "node", make: () => nodeTransport });
} catch (e) {
  console.warn(`[harness] Node transport unavailable: ${(e as Error).message}`);
}

/** Every transport a networked test should run on. */
export const TRANSPORTS: readonly TransportCase[] = cases;

/** The TCP transports only (Deno and Node adapters). */
export const SOCKET_TRANSPORTS: readonly TransportCase[] = cases.filter((c) => c.name !== "memory");

/** A raw protocol peer: sends bytes, reads whole frames (prefix included). */
export class RawPeer {
  readonly conn: Connection;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #decoder = new DecoderState(256 * 1024 * 1024);
  readonly #frames: Uint8Array[] = [];
  #eof = false;

  private constructor(conn: Connection) {
    this.conn = conn;
    this.#reader = conn.readable.getReader();
    this.#writer = conn.writable.getWriter();
  }

  static wrap(conn: Connection): RawPeer {
    return new RawPeer(conn);
  }

  static async connect(transport: Transport, address: NetAddress): Promise<RawPeer> {
    return new RawPeer(await transport.connect({ hostname: address.hostname, port: address.port }));
  }

  async send(...chunks: Uint8Array[]): Promise<void> {
    await this.#writer.write(concatBytes(chunks));
  }

  /** The next frame with its length prefix, or null at end of stream. */
  async frame(): Promise<Uint8Array | null> {
    while (this.#frames.length === 0) {
      if (this.#eof) return null;
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#eof = true;
        return null;
      }
      const out: Uint8Array[] = [];
      const err = this.#decoder.push(value, out);
      if (err) throw err;
      for (const f of out) {
        const withPrefix = new Uint8Array(f.length + 4);
        new DataView(withPrefix.buffer).setInt32(0, f.length);
        withPrefix.set(f, 4);
        this.#frames.push(withPrefix);
      }
    }
    return this.#frames.shift()!;
  }

  /** Reads `n` frames. */
  async frames(n: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const f = await this.frame();
      if (f === null) throw new Error(`stream ended after ${i} of ${n} frames`);
      out.push(f);
    }
    return out;
  }

  /** Waits for the peer to close its side (true) or `ms` to pass (false). */
  async closedWithin(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const eof = (async () => {
      while ((await this.frame()) !== null) { /* drain */ }
      return true as const;
    })();
    try {
      return await Promise.race([eof, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.#reader.releaseLock();
    this.#writer.releaseLock();
    await this.conn.close();
  }
}

/**
 * A state that holds raw content bytes per key, validating the key bytes with
 * a key serializer as Flink's heap backend does (the harness state Flink's
 * vectors were captured with: `MapBackedKvState`).
 */
export class RawState<K> implements QueryableState {
  readonly #ser: TypeSerializer<K>;
  readonly #values = new Map<unknown, Uint8Array>();
  constructor(ser: TypeSerializer<K>, entries: Array<[K, Uint8Array]> = []) {
    this.#ser = ser;
    for (const [k, v] of entries) this.#values.set(k, v);
  }
  getSerializedValue(kn: Uint8Array): Uint8Array | null {
    const key = deserializeKeyAndNamespace(kn, this.#ser);
    return this.#values.get(key) ?? null;
  }
}

/** The states Flink's captured server vectors were produced with. */
export function capturedServerStates(): Array<[string, QueryableState]> {
  return [
    [
      "21222324252627283132333435363738",
      new RawState(TYPE_SERIALIZERS.string, [
        ["hello", fromHex("000000000000002a")],
        ["empty", new Uint8Array(0)],
        ["héllo-wörld", fromHex("0876616c75652de401")],
      ]),
    ],
    [
      "8000000000000000fffffffffffffffe",
      new RawState(TYPE_SERIALIZERS.long, [[7n, fromHex("cafebabe")]]),
    ],
  ];
}

/** Removes the stack-frame lines (`\tat …`, `\t... N more`) from a stringified Java message. */
export function withoutStackFrames(message: string): string {
  return message.split("\n").filter((l) => !l.startsWith("\tat ") && !/^\t\.\.\. \d+ more$/.test(l))
    .join("\n");
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A scripted peer server: accepts connections and hands them over as raw peers. */
export class FakeServer {
  readonly listener: import("../mod.ts").Listener;
  readonly peers: RawPeer[] = [];
  private constructor(listener: import("../mod.ts").Listener) {
    this.listener = listener;
  }
  static async start(transport: Transport): Promise<FakeServer> {
    return new FakeServer(await transport.listen({ hostname: "127.0.0.1", port: 0 }));
  }
  get address(): NetAddress {
    return this.listener.address;
  }
  async accept(): Promise<RawPeer> {
    const conn = await this.listener.accept();
    if (conn === null) throw new Error("listener closed");
    const peer = RawPeer.wrap(conn);
    this.peers.push(peer);
    return peer;
  }
  async close(): Promise<void> {
    await this.listener.close();
    await Promise.all(this.peers.map((p) => p.close().catch(() => {})));
  }
}
