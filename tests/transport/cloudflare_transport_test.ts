/**
 * `CloudflareTransport` under Deno, through stand-ins for `connect()` of
 * `cloudflare:sockets`: one over real loopback TCP (Deno's sockets behind the
 * sockets API's shape: streams at once, `opened` later), and scripted ones
 * for the failure paths. The real runtime is tested by
 * `tests/cloudflare/worker_test.ts` (under workerd).
 */

import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import {
  BindError,
  ConnectError,
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  QueryableStateClient,
  TYPE_SERIALIZERS,
} from "../../mod.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import {
  type CloudflareConnect,
  type CloudflareSocket,
  type CloudflareSocketInfo,
  type CloudflareSocketOptions,
  CloudflareTransport,
  cloudflareTransport,
} from "../../src/transport/cloudflare.ts";
import type { NetAddress } from "../../src/transport/types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a stand-in saw. */
interface Calls {
  connects: Array<{ address: NetAddress; options?: CloudflareSocketOptions }>;
  closes: number;
}

/**
 * `connect()` of `cloudflare:sockets`, over Deno's TCP: the socket's streams
 * exist at once and are joined to the TCP connection once it is open.
 */
function denoSocketsConnect(calls: Calls): CloudflareConnect {
  return (address, options) => {
    calls.connects.push({ address, options });
    const connecting = Deno.connect({ hostname: address.hostname, port: address.port });
    let closed = false;
    const opened = connecting.then((c): CloudflareSocketInfo => ({
      remoteAddress: `${c.remoteAddr.hostname}:${c.remoteAddr.port}`,
      localAddress: `${c.localAddr.hostname}:${c.localAddr.port}`,
    }));
    // Reads and writes wait for the connection; close() ends both.
    const readable = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const c = await connecting;
        const buf = new Uint8Array(4096);
        const n = closed ? null : await c.read(buf);
        if (n === null) controller.close();
        else controller.enqueue(buf.subarray(0, n));
      },
    });
    const writable = new WritableStream<Uint8Array>({
      async write(chunk) {
        await writeAll(await connecting, chunk);
      },
      // Closing the socket's writable half-closes the TCP connection.
      async close() {
        await (await connecting).closeWrite();
      },
    });
    let closing: Promise<void> | undefined;
    const socket: CloudflareSocket = {
      readable,
      writable,
      opened,
      close() {
        calls.closes++;
        return closing ??= (async () => {
          closed = true;
          const c = await connecting.catch(() => undefined);
          try {
            c?.close();
          } catch { /* closed already */ }
        })();
      },
    };
    return socket;
  };
}

/** A socket that never opens (or fails as told), counting closes. */
function scriptedConnect(
  calls: Calls,
  opened: () => Promise<CloudflareSocketInfo>,
): CloudflareConnect {
  return (address, options) => {
    calls.connects.push({ address, options });
    const pipe = new TransformStream<Uint8Array, Uint8Array>();
    return {
      readable: pipe.readable,
      writable: pipe.writable,
      opened: opened(),
      close() {
        calls.closes++;
        return Promise.resolve();
      },
    };
  };
}

function newCalls(): Calls {
  return { connects: [], closes: 0 };
}

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("cloudflare transport: echo over loopback, addresses from socket.opened, FIN on writable close", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const served = (async () => {
    const c = await listener.accept();
    const got = await readAll(c);
    // The client's FIN ended our reading: answer after it (half-open).
    await writeAll(c, encoder.encode(`got ${decoder.decode(got)}`));
    c.close();
    return c.remoteAddr as Deno.NetAddr;
  })();
  const calls = newCalls();
  const transport = new CloudflareTransport({ connect: denoSocketsConnect(calls) });
  const conn = await transport.connect({ hostname: "127.0.0.1", port, keepAlive: true });
  try {
    assertEquals(conn.remoteAddress, { hostname: "127.0.0.1", port });
    const writer = conn.writable.getWriter();
    await writer.write(encoder.encode("ping "));
    await writer.write(encoder.encode("pong"));
    await writer.close();
    assertEquals(await new Response(conn.readable).text(), "got ping pong");
    const peer = await served;
    assertEquals(conn.localAddress, { hostname: "127.0.0.1", port: peer.port });
    // Plain TCP, half-open capable, to the address asked for.
    assertEquals(calls.connects, [{
      address: { hostname: "127.0.0.1", port },
      options: { secureTransport: "off", allowHalfOpen: true },
    }]);
  } finally {
    await conn.close();
    await conn.close(); // idempotent
    listener.close();
  }
  assertEquals(calls.closes, 1);
});

Deno.test("cloudflare transport: addresses unknown to the socket fall back to the asked and 0.0.0.0:0", async () => {
  const calls = newCalls();
  const transport = new CloudflareTransport({
    connect: scriptedConnect(calls, () => Promise.resolve({})),
  });
  const conn = await transport.connect({ hostname: "flink-proxy", port: 9069 });
  assertEquals(conn.remoteAddress, { hostname: "flink-proxy", port: 9069 });
  assertEquals(conn.localAddress, { hostname: "0.0.0.0", port: 0 });
  await conn.close();
  const v6 = new CloudflareTransport({
    connect: scriptedConnect(calls, () => Promise.resolve({ remoteAddress: "[::1]:9069" })),
  });
  const conn6 = await v6.connect({ hostname: "localhost", port: 9069 });
  assertEquals(conn6.remoteAddress, { hostname: "::1", port: 9069 });
  await conn6.close();
  const odd = new CloudflareTransport({
    connect: scriptedConnect(calls, () => Promise.resolve({ remoteAddress: "no-port" })),
  });
  const connOdd = await odd.connect({ hostname: "h", port: 1 });
  assertEquals(connOdd.remoteAddress, { hostname: "h", port: 1 });
  await connOdd.close();
});

Deno.test("cloudflare transport: a refused connection rejects with ConnectError and closes the socket", async () => {
  const port = closedPort();
  const calls = newCalls();
  const transport = new CloudflareTransport({ connect: denoSocketsConnect(calls) });
  const err = await assertRejects(
    () => transport.connect({ hostname: "127.0.0.1", port }),
    ConnectError,
    `Connection failed: 127.0.0.1:${port}: `,
  );
  assertInstanceOf(err.cause, Deno.errors.ConnectionRefused);
  assertEquals(calls.closes, 1);
});

Deno.test("cloudflare transport: connect() throwing at once (e.g. a blocked port) is a ConnectError", async () => {
  const transport = new CloudflareTransport({
    connect: () => {
      throw new Error("TCP Loop detected");
    },
  });
  await assertRejects(
    () => transport.connect({ hostname: "example.com", port: 25 }),
    ConnectError,
    "Connection failed: example.com:25: TCP Loop detected",
  );
});

Deno.test("cloudflare transport: connectTimeoutMs bounds the opening, then the socket is closed", async () => {
  const calls = newCalls();
  const transport = new CloudflareTransport({
    connect: scriptedConnect(calls, () => new Promise(() => {})),
    connectTimeoutMs: 30,
  });
  assertEquals(transport.connectTimeoutMs, 30);
  const started = performance.now();
  await assertRejects(
    () => transport.connect({ hostname: "10.0.0.2", port: 9069 }),
    ConnectError,
    "Connection timed out after 30 ms: 10.0.0.2:9069",
  );
  assert(performance.now() - started < 5_000, "rejected in time");
  assertEquals(calls.closes, 1);
});

Deno.test("cloudflare transport: the abort signal ends the attempt (before and during)", async () => {
  const calls = newCalls();
  const transport = new CloudflareTransport({
    connect: scriptedConnect(calls, () => new Promise(() => {})),
    connectTimeoutMs: 0,
  });
  await assertRejects(
    () =>
      transport.connect({
        hostname: "10.0.0.2",
        port: 9069,
        signal: AbortSignal.abort(new Error("stop")),
      }),
    ConnectError,
    "Connection aborted: 10.0.0.2:9069",
  );
  assertEquals(calls.connects.length, 0, "no socket is made for an aborted signal");

  const controller = new AbortController();
  const attempt = transport.connect({
    hostname: "10.0.0.2",
    port: 9069,
    signal: controller.signal,
  });
  await new Promise((r) => setTimeout(r, 10));
  controller.abort(new DOMException("late", "TimeoutError"));
  const err = await assertRejects(
    () => attempt,
    ConnectError,
    "Connection timed out: 10.0.0.2:9069",
  );
  assertEquals((err.cause as DOMException).message, "late");
  assertEquals(calls.connects.length, 1);
  assertEquals(calls.closes, 1);
});

Deno.test("cloudflare transport: listen rejects with BindError saying Workers cannot listen", async () => {
  const err = await assertRejects(
    () => cloudflareTransport.listen({ hostname: "127.0.0.1", port: 9069 }),
    BindError,
    "Cloudflare Workers cannot listen for TCP connections (asked for 127.0.0.1:9069)",
  );
  assertEquals(err.addressInUse, false);
  // So a server or proxy started on it fails typed, at start().
  const server = new KvStateServer({ transport: cloudflareTransport, port: 0 });
  await assertRejects(() => server.start(), BindError, "Cloudflare Workers cannot listen");
  await server.close();
});

Deno.test("cloudflare transport: outside Workers the default connect says cloudflare:sockets is missing", async () => {
  const err = await assertRejects(
    () => cloudflareTransport.connect({ hostname: "127.0.0.1", port: 9069 }),
    ConnectError,
    "cloudflare:sockets is not available: CloudflareTransport runs on Cloudflare Workers",
  );
  assert(err.cause !== undefined);
});

Deno.test("cloudflare transport: bad arguments are TypeError and RangeError", async () => {
  await assertRejects(
    () => cloudflareTransport.connect({ hostname: "127.0.0.1", port: 70000 }),
    TypeError,
    "Invalid port 70000",
  );
  let thrown: unknown;
  try {
    new CloudflareTransport({ connectTimeoutMs: -1 });
  } catch (e) {
    thrown = e;
  }
  assertInstanceOf(thrown, RangeError);
  assertEquals(cloudflareTransport.name, "cloudflare");
  assertEquals(cloudflareTransport.connectTimeoutMs, 10_000);
});

Deno.test("cloudflare transport: a QueryableStateClient round trip through a real proxy and server", async () => {
  const server = new KvStateServer({ transport: denoTransport, host: "127.0.0.1", port: 0 });
  const state = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set(
    "hello",
    42n,
  );
  const kvStateId = server.registry.register(state);
  const serverAddress = await server.start();
  const jobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
  const locations = new InMemoryLocationRegistry();
  locations.notifyKvStateRegistered({
    jobId,
    jobVertexId: JobVertexId.random(),
    registrationName: "word-counts",
    numKeyGroups: 128,
    start: 0,
    end: 127,
    kvStateId,
    address: serverAddress,
  });
  const proxy = new KvStateClientProxy({ transport: denoTransport, host: "127.0.0.1", port: 0 });
  proxy.updateKvStateLocationOracle(jobId, locations);
  const proxyAddress = await proxy.start();
  const calls = newCalls();
  const client = new QueryableStateClient({
    transport: new CloudflareTransport({ connect: denoSocketsConnect(calls) }),
    proxy: proxyAddress,
  });
  try {
    const types = { keyType: "string", valueType: "long" } as const;
    assertEquals(await client.getKvState(jobId, "word-counts", "hello", types), 42n);
    assertEquals(
      await client.getKvStateIfPresent(jobId, "word-counts", "absent", types),
      undefined,
    );
    assertEquals(calls.connects.length, 1, "one connection for both requests");
  } finally {
    await client.close();
    await proxy.close();
    await server.close();
  }
  assertEquals(calls.closes, 1);
});

async function readAll(c: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const buf = new Uint8Array(4096);
    const n = await c.read(buf);
    if (n === null) break;
    chunks.push(buf.subarray(0, n));
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function writeAll(c: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await c.write(bytes.subarray(at));
}
