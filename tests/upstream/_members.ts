/**
 * Pool test plumbing over real sockets: a state plane (one state server, a
 * location registry) with several of our proxies in front of it, a TCP relay
 * in front of a proxy that can hold its answers, be killed and come back on
 * the same port, and a member that accepts and never answers.
 */

import { assertEquals } from "../_assert.ts";
import type { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { InMemoryLocationRegistry } from "../../src/oracle/in_memory_location_registry.ts";
import { KvStateClientProxy } from "../../src/proxy/kv_state_client_proxy.ts";
import { InMemoryValueState } from "../../src/server/in_memory_states.ts";
import { KvStateServer } from "../../src/server/kv_state_server.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import type { NetAddress } from "../../src/transport/types.ts";
import { JobId, JobVertexId } from "../../src/wire/ids.ts";
import { serializeKeyAndNamespace } from "../../src/wire/key_and_namespace.ts";
import type { KvStateRequest } from "../../src/wire/messages.ts";
import { TYPE_SERIALIZERS } from "../../src/wire/type_serializers.ts";

export const transport = denoTransport;
export const JOB = JobId.fromHex("00112233445566778899aabbccddeeff");
export const STATE = "counts";
/** Keys k0..k(KEYS-1) hold the values 1000 + i. */
export const KEYS = 64;

const string = TYPE_SERIALIZERS.string;

/** The request for `key` of the test state (or of `state`). */
export function requestFor(key: string, state = STATE): KvStateRequest {
  return {
    jobId: JOB,
    stateName: state,
    keyHashCode: string.hashCode(key),
    serializedKeyAndNamespace: serializeKeyAndNamespace(key, string),
  };
}

/** The value content bytes decoded: the big-endian long of a value state. */
export function longOf(content: Uint8Array): bigint {
  return new DataView(content.buffer, content.byteOffset, content.byteLength).getBigInt64(0);
}

/** A state server with the test state, and `n` proxies of ours in front of it. */
export class Plane {
  readonly server: KvStateServer;
  readonly locations = new InMemoryLocationRegistry();
  readonly proxies: KvStateClientProxy[] = [];
  readonly addresses: NetAddress[] = [];

  private constructor(server: KvStateServer) {
    this.server = server;
  }

  static async start(n: number): Promise<Plane> {
    const server = new KvStateServer({ transport });
    const state = new InMemoryValueState(string, TYPE_SERIALIZERS.long);
    for (let i = 0; i < KEYS; i++) state.set(`k${i}`, BigInt(1000 + i));
    const kvStateId = server.registry.register(state);
    const plane = new Plane(server);
    plane.locations.notifyKvStateRegistered({
      jobId: JOB,
      jobVertexId: JobVertexId.random(),
      registrationName: STATE,
      numKeyGroups: 128,
      start: 0,
      end: 127,
      kvStateId,
      address: await server.start(),
    });
    for (let i = 0; i < n; i++) await plane.addProxy();
    return plane;
  }

  /** A proxy of ours in front of the server (on `port`, or any). */
  async addProxy(port = 0): Promise<KvStateClientProxy> {
    const proxy = new KvStateClientProxy({ transport, port });
    proxy.updateKvStateLocationOracle(JOB, this.locations);
    this.addresses.push(await proxy.start());
    this.proxies.push(proxy);
    return proxy;
  }

  /** Requests each proxy received (decoded), in order. */
  requestsPerProxy(): number[] {
    return this.proxies.map((p) => p.stats.requests);
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.close()));
    await this.server.close();
  }
}

/** Pumps `from` into `to` while `pass()` says so (bytes read otherwise are dropped). */
async function pump(from: Deno.Conn, to: Deno.Conn, pass: () => boolean): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (let i = 0; i < 1_000_000; i++) {
      const n = await from.read(buf);
      if (n === null) break;
      if (!pass()) continue;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
  } catch {
    // Closed under us.
  }
}

/**
 * A TCP relay on 127.0.0.1 in front of `target`: a member whose connections
 * can be held (answers dropped), killed (every socket closed at once, the
 * listener too) and brought back on the same port.
 */
export class Relay {
  readonly target: NetAddress;
  port = 0;
  #listener: Deno.Listener | undefined;
  #loop: Promise<void> | undefined;
  readonly #conns = new Set<Deno.Conn>();
  readonly #pumps = new Set<Promise<void>>();
  /** While true, answers from the target are dropped (the member stalls). */
  holding = false;
  /** Connections accepted since start. */
  accepted = 0;

  constructor(target: NetAddress) {
    this.target = target;
  }

  get address(): NetAddress {
    return { hostname: "127.0.0.1", port: this.port };
  }

  /** Listens (on the port of before, after a kill). */
  start(): NetAddress {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#loop = this.#accept(listener);
    return this.address;
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    try {
      for await (const client of listener) {
        this.accepted++;
        let upstream: Deno.Conn;
        try {
          upstream = await Deno.connect({ hostname: this.target.hostname, port: this.target.port });
        } catch {
          client.close();
          continue;
        }
        this.#conns.add(client);
        this.#conns.add(upstream);
        // Either side ending ends both.
        const end = () => {
          for (const c of [client, upstream]) {
            if (this.#conns.delete(c)) {
              try {
                c.close();
              } catch {
                // Closed already.
              }
            }
          }
        };
        const both = Promise.all([
          pump(client, upstream, () => true).then(end),
          pump(upstream, client, () => !this.holding).then(end),
        ]).then(() => {});
        this.#pumps.add(both);
        both.finally(() => this.#pumps.delete(both));
      }
    } catch {
      // The listener closed.
    }
  }

  /** Closes the listener and every connection at once (a TaskManager gone). */
  async kill(): Promise<void> {
    try {
      this.#listener?.close();
    } catch {
      // Closed already.
    }
    this.#listener = undefined;
    for (const c of [...this.#conns]) {
      this.#conns.delete(c);
      try {
        c.close();
      } catch {
        // Closed already.
      }
    }
    await this.#loop;
    await Promise.all([...this.#pumps]);
  }
}

/**
 * Runs `body` with a plane of two proxies and a relay in front of the first
 * (the member the test stalls, kills or brings back); kills the relay and
 * closes the plane after, however `body` ends.
 */
export async function withRelayedPlane(
  body: (plane: Plane, relay: Relay) => Promise<void>,
): Promise<void> {
  const plane = await Plane.start(2);
  const relay = new Relay(plane.addresses[0]);
  relay.start();
  try {
    await body(plane, relay);
  } finally {
    await relay.kill();
    await plane.close();
  }
}

/** A member that accepts connections, reads everything and never answers. */
export class SilentMember {
  readonly #listener: Deno.Listener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #reads = new Set<Promise<void>>();
  readonly #loop: Promise<void>;
  /** Bytes read so far. */
  bytesRead = 0;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#loop = this.#accept();
  }

  get address(): NetAddress {
    return { hostname: "127.0.0.1", port: (this.#listener.addr as Deno.NetAddr).port };
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        const read = (async () => {
          const buf = new Uint8Array(16 * 1024);
          try {
            for (let i = 0; i < 1_000_000; i++) {
              const n = await conn.read(buf);
              if (n === null) break;
              this.bytesRead += n;
            }
          } catch {
            // Closed.
          }
        })();
        this.#reads.add(read);
      }
    } catch {
      // The listener closed.
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // Closed already.
      }
    }
    await this.#loop;
    await Promise.all([...this.#reads]);
  }
}

/** Waits until `cond()` holds, checking every 10 ms, at most `ms`; throws after. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Queries keys k0..k(n-1) of the test state one by one and checks each value (1000 + i). */
export async function queryAll(client: QueryableStateClient, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const key = `k${i % KEYS}`;
    const value = await client.getKvState(JOB.toString(), STATE, key, {
      keyType: "string",
      valueType: "long",
      timeoutMs: 10_000,
    });
    assertEquals(value, BigInt(1000 + (i % KEYS)), key);
  }
}

/** A free run of `n` ports on 127.0.0.1, each of which could be bound (bounded tries). */
export function freeRange(n: number): number {
  for (let attempt = 0; attempt < 20; attempt++) {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const base = (probe.addr as Deno.NetAddr).port;
    probe.close();
    if (base + n > 65535) continue;
    const held: Deno.Listener[] = [];
    try {
      for (let i = 0; i < n; i++) held.push(Deno.listen({ hostname: "127.0.0.1", port: base + i }));
      return base;
    } catch {
      // Taken: try another base.
    } finally {
      for (const l of held) l.close();
    }
  }
  throw new Error("no free run of ports");
}

/** `n` ports on 127.0.0.1 that refuse connections (listeners opened and closed at once). */
export function refusedPorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}
