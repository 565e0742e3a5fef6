/**
 * Conformance cases every transport must pass, written against the
 * `Transport` interface only and free of runtime globals (no `Deno.*`, no
 * `node:*`), so the same cases run under Deno (`*_test.ts` beside this file)
 * and under the real Node binary (`tests/node/node_transport.node.ts`).
 */

import { listenOnPorts } from "../../src/transport/listen.ts";
import type {
  Connection,
  DirectChannel,
  DirectHandler,
  Listener,
  Transport,
} from "../../src/transport/types.ts";
import { BindError, ConnectError, ConnectionClosedError } from "../../src/wire/errors.ts";

/** The loopback address the cases bind and dial. */
export const HOST = "127.0.0.1";

/** One conformance case. */
export interface TransportCase {
  readonly name: string;
  run(transport: Transport): Promise<void>;
}

// ---- minimal, runtime-neutral checks ---------------------------------------

export class CheckError extends Error {
  override name = "CheckError";
}

export function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new CheckError(msg);
}

export function checkEquals(actual: unknown, expected: unknown, msg: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new CheckError(`${msg}: expected ${e}, got ${a}`);
}

export async function checkRejects<E extends Error>(
  fn: () => PromiseLike<unknown>,
  // deno-lint-ignore no-explicit-any
  type: abstract new (...args: any[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    check(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    if (includes !== undefined) {
      check(e.message.includes(includes), `expected "${includes}" in "${e.message}"`);
    }
    return e;
  }
  throw new CheckError(`expected a rejection with ${type.name}`);
}

// ---- helpers ----------------------------------------------------------------

/** A non-periodic byte at stream position `i` of stream `seed`. */
function byteAt(seed: number, i: number): number {
  return Math.imul(i + seed, 2654435761) >>> 24;
}

/** `length` pattern bytes starting at stream position `offset`. */
export function pattern(seed: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = byteAt(seed, offset + i);
  return out;
}

/** Checks that `chunks`, concatenated, are the pattern from 0 on; returns the byte count. */
export function verifyPattern(seed: number, chunks: readonly Uint8Array[]): number {
  let pos = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++, pos++) {
      if (c[i] !== byteAt(seed, pos)) {
        throw new CheckError(`byte ${pos}: expected ${byteAt(seed, pos)}, got ${c[i]}`);
      }
    }
  }
  return pos;
}

const SIZES = [1, 7, 1000, 65536, 100_000, 3, 16384, 250_000];

/** Writes `total` pattern bytes in chunks of varying sizes, then closes the writable. */
export async function writePattern(
  writable: WritableStream<Uint8Array>,
  seed: number,
  total: number,
): Promise<void> {
  const writer = writable.getWriter();
  let off = 0;
  for (let k = 0; off < total; k++) {
    const n = Math.min(SIZES[k % SIZES.length], total - off);
    await writer.write(pattern(seed, off, n));
    off += n;
  }
  await writer.close();
}

/**
 * Writes `total` pattern bytes each way at once (seed `up` from the client,
 * `down` from the server) and reads both ends to the end, keeping every
 * chunk as delivered: `[toServer, toClient]`.
 */
export async function exchangePatterns(
  client: Connection,
  server: Connection,
  total: number,
  up: number,
  down: number,
): Promise<[Uint8Array[], Uint8Array[]]> {
  const [toServer, toClient] = await Promise.all([
    readChunks(server.readable),
    readChunks(client.readable),
    writePattern(client.writable, up, total),
    writePattern(server.writable, down, total),
  ]);
  return [toServer, toClient];
}

/** Reads to the end, keeping every chunk as delivered. */
export async function readChunks(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const c of readable) chunks.push(c);
  return chunks;
}

/** Reads exactly `n` bytes (more is an error), without closing the stream. */
export async function readExactly(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await reader.read();
    check(!r.done, `stream ended after ${got} of ${n} bytes`);
    check(got + r.value.length <= n, `got ${got + r.value.length} bytes, expected ${n}`);
    out.set(r.value, got);
    got += r.value.length;
  }
  return out;
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Whether `p` settles (either way) within `ms`; the timer is always cleared. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A listener on port 0 plus one accepted connection pair; closes all of it. */
async function withPair(
  transport: Transport,
  fn: (client: Connection, server: Connection, listener: Listener) => Promise<void>,
): Promise<void> {
  const listener = await transport.listen({ hostname: HOST, port: 0 });
  try {
    const accepted = listener.accept();
    const client = await transport.connect({ hostname: HOST, port: listener.address.port });
    const server = await accepted;
    check(server !== null, "accept returned null");
    try {
      await fn(client, server, listener);
    } finally {
      await client.close();
      await server.close();
    }
  } finally {
    await listener.close();
  }
}

/** A port that was free a moment ago. */
async function freePort(transport: Transport): Promise<number> {
  const l = await transport.listen({ hostname: HOST, port: 0 });
  const port = l.address.port;
  await l.close();
  return port;
}

/** Writes 64 KiB chunks to `conn` until one stays pending; returns it and the bytes written. */
async function writeUntilStalled(
  conn: Connection,
  seed: number,
  maxBytes: number,
): Promise<
  { writer: WritableStreamDefaultWriter<Uint8Array>; pending: Promise<void>; written: number }
> {
  const writer = conn.writable.getWriter();
  const CH = 64 * 1024;
  let written = 0;
  while (written < maxBytes) {
    const p = writer.write(pattern(seed, written, CH));
    written += CH;
    if (!(await settlesWithin(p, 300))) {
      p.catch(() => {}); // observed later by the caller
      return { writer, pending: p, written };
    }
    await p;
  }
  throw new CheckError(`${maxBytes} bytes written to a peer that reads nothing: no backpressure`);
}

const STALL_LIMIT = 128 * 1024 * 1024;

// ---- the cases --------------------------------------------------------------

export const transportCases: readonly TransportCase[] = [
  {
    name: "echo over loopback on port 0",
    async run(t) {
      await withPair(t, async (client, server) => {
        const echo = server.readable.pipeTo(server.writable);
        const writer = client.writable.getWriter();
        const reader = client.readable.getReader();
        await writer.write(bytes("hello, "));
        checkEquals(text(await readExactly(reader, 7)), "hello, ", "first echo");
        await writer.write(bytes("queryable state"));
        checkEquals(text(await readExactly(reader, 15)), "queryable state", "second echo");
        await writer.close();
        checkEquals((await reader.read()).done, true, "end after the echo's half-close");
        await echo;
      });
    },
  },
  {
    name: "addresses",
    async run(t) {
      await withPair(t, (client, server, listener) => {
        const port = listener.address.port;
        checkEquals(listener.address.hostname, HOST, "listener host");
        check(port > 0, `listener port ${port}`);
        checkEquals(client.remoteAddress, { hostname: HOST, port }, "client remote");
        checkEquals(server.localAddress, { hostname: HOST, port }, "server local");
        checkEquals(client.localAddress.hostname, HOST, "client local host");
        check(client.localAddress.port > 0, "client local port");
        checkEquals(server.remoteAddress, client.localAddress, "server remote = client local");
        return Promise.resolve();
      });
    },
  },
  {
    name: "8 MiB both ways at once, chunks kept and checked",
    async run(t) {
      const total = 8 * 1024 * 1024;
      await withPair(t, async (client, server) => {
        const [toServer, toClient] = await exchangePatterns(client, server, total, 1, 2);
        // Checked only now: a chunk whose memory was reused would show it.
        checkEquals(verifyPattern(1, toServer), total, "bytes client -> server");
        checkEquals(verifyPattern(2, toClient), total, "bytes server -> client");
      });
    },
  },
  {
    name: "half-close: the peer still answers after our FIN",
    async run(t) {
      await withPair(t, async (client, server) => {
        const served = (async () => {
          const request = await readChunks(server.readable); // ends on the client's FIN
          const writer = server.writable.getWriter();
          await writer.write(bytes(`re: ${text(concat(request))}`));
          await writer.close();
        })();
        const writer = client.writable.getWriter();
        await writer.write(bytes("request"));
        await writer.close();
        const reply = await readChunks(client.readable);
        checkEquals(text(concat(reply)), "re: request", "reply after half-close");
        await served;
      });
    },
  },
  {
    name: "close() ends a pending read; the peer reads the end",
    async run(t) {
      await withPair(t, async (client, server) => {
        const reader = client.readable.getReader();
        const pending = reader.read();
        check(!(await settlesWithin(pending, 50)), "read settled with nothing sent");
        await client.close();
        checkEquals(await pending, { done: true, value: undefined }, "pending read after close");
        await client.close(); // idempotent
        const r = await server.readable.getReader().read();
        checkEquals(r.done, true, "server reads the end");
      });
    },
  },
  {
    name: "close() rejects a pending write and later writes",
    async run(t) {
      await withPair(t, async (client) => {
        const { writer, pending } = await writeUntilStalled(client, 3, STALL_LIMIT);
        await client.close();
        await checkRejects(() => pending, ConnectionClosedError);
        await checkRejects(() => writer.write(new Uint8Array(1)), Error);
      });
    },
  },
  {
    name: "aborting the writable closes the connection",
    async run(t) {
      await withPair(t, async (client, server) => {
        const reader = server.readable.getReader();
        const pending = reader.read();
        await client.writable.abort(new Error("give up"));
        checkEquals((await pending).done, true, "the peer reads the end");
        await checkRejects(() => client.writable.getWriter().write(new Uint8Array(1)), Error);
        const r = await client.readable.getReader().read();
        checkEquals(r.done, true, "our reads end too");
      });
    },
  },
  {
    name: "writes after the peer closed reject with ConnectionClosedError",
    async run(t) {
      await withPair(t, async (client, server) => {
        await client.close();
        checkEquals((await server.readable.getReader().read()).done, true, "end read");
        const writer = server.writable.getWriter();
        // TCP accepts the first writes into the kernel; the peer's reset fails a later one.
        await checkRejects(async () => {
          for (let i = 0; i < 2000; i++) {
            await writer.write(new Uint8Array(1024));
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        }, ConnectionClosedError);
      });
    },
  },
  {
    name: "backpressure: a peer that does not read stalls the writer, then all bytes arrive",
    async run(t) {
      await withPair(t, async (client, server) => {
        const { writer, pending, written } = await writeUntilStalled(client, 4, STALL_LIMIT);
        // Now read: the stalled write completes and every byte arrives, in order.
        const reading = (async () => {
          const chunks: Uint8Array[] = [];
          let got = 0;
          const reader = server.readable.getReader();
          while (got < written) {
            const r = await reader.read();
            check(!r.done, `ended after ${got} of ${written} bytes`);
            chunks.push(r.value);
            got += r.value.length;
          }
          reader.releaseLock();
          return chunks;
        })();
        await pending;
        const chunks = await reading;
        checkEquals(verifyPattern(4, chunks), written, "bytes after the stall");
        writer.releaseLock();
      });
    },
  },
  {
    name: "a BYOB reader reads into its own buffer",
    async run(t) {
      await withPair(t, async (client, server) => {
        const writer = server.writable.getWriter();
        await writer.write(bytes("byob!"));
        const reader = client.readable.getReader({ mode: "byob" });
        let buf = new Uint8Array(16);
        let got = 0;
        while (got < 5) {
          const r = await reader.read(buf.subarray(got));
          check(!r.done && r.value !== undefined, "byob read ended early");
          got += r.value.length;
          buf = new Uint8Array(r.value.buffer);
        }
        checkEquals(text(buf.subarray(0, 5)), "byob!", "byob bytes");
        await writer.close();
        const end = await reader.read(new Uint8Array(4));
        checkEquals(end.done, true, "byob read of the end");
      });
    },
  },
  {
    name: "connect to a closed port rejects with ConnectError",
    async run(t) {
      const port = await freePort(t);
      const e = await checkRejects(
        () => t.connect({ hostname: HOST, port }),
        ConnectError,
        "Connection refused",
      );
      check(e.message.includes(`${HOST}:${port}`), `address in "${e.message}"`);
      checkEquals(e.javaClassName, "java.net.ConnectException", "Java class");
    },
  },
  {
    name: "connect with an aborted signal rejects with ConnectError",
    async run(t) {
      const listener = await t.listen({ hostname: HOST, port: 0 });
      try {
        const port = listener.address.port;
        const aborted = await checkRejects(
          () => t.connect({ hostname: HOST, port, signal: AbortSignal.abort() }),
          ConnectError,
          "Connection aborted",
        );
        check(aborted.cause instanceof Error, "abort reason as cause");
        const reason = new DOMException("deadline", "TimeoutError");
        await checkRejects(
          () => t.connect({ hostname: HOST, port, signal: AbortSignal.abort(reason) }),
          ConnectError,
          "Connection timed out",
        );
      } finally {
        await listener.close();
      }
    },
  },
  {
    name: "a port outside 0..65535 is a TypeError, not a network error",
    async run(t) {
      for (const port of [-1, 65536, 1.5]) {
        await checkRejects(() => t.listen({ hostname: HOST, port }), TypeError);
        await checkRejects(() => t.connect({ hostname: HOST, port }), TypeError);
      }
    },
  },
  {
    name: "listen on a port in use rejects with BindError(addressInUse)",
    async run(t) {
      const first = await t.listen({ hostname: HOST, port: 0 });
      try {
        const e = await checkRejects(
          () => t.listen({ hostname: HOST, port: first.address.port }),
          BindError,
          "Address already in use",
        );
        checkEquals(e.addressInUse, true, "addressInUse");
      } finally {
        await first.close();
      }
    },
  },
  {
    name: "the listener's async iterator ends on close; accept() then gives null",
    async run(t) {
      const listener = await t.listen({ hostname: HOST, port: 0 });
      const accepted: Connection[] = [];
      let arrived: () => void = () => {};
      const twoArrived = new Promise<void>((resolve) => {
        arrived = () => accepted.length === 2 && resolve();
      });
      const loop = (async () => {
        for await (const conn of listener) {
          accepted.push(conn);
          arrived();
        }
      })();
      const port = listener.address.port;
      const clients = [
        await t.connect({ hostname: HOST, port }),
        await t.connect({ hostname: HOST, port }),
      ];
      await twoArrived;
      await listener.close();
      await loop;
      checkEquals(accepted.length, 2, "connections iterated");
      checkEquals(await listener.accept(), null, "accept after close");
      await listener.close(); // idempotent
      // Connections accepted before the close live on.
      const w = clients[0].writable.getWriter();
      await w.write(bytes("still here"));
      checkEquals(
        text(await readExactly(accepted[0].readable.getReader(), 10)),
        "still here",
        "data",
      );
      for (const c of [...clients, ...accepted]) await c.close();
    },
  },
  {
    name: "close() ends a pending accept with null",
    async run(t) {
      const listener = await t.listen({ hostname: HOST, port: 0 });
      const pending = listener.accept();
      check(!(await settlesWithin(pending, 50)), "accept settled with no client");
      await listener.close();
      checkEquals(await pending, null, "pending accept after close");
      await checkRejects(
        () => t.connect({ hostname: HOST, port: listener.address.port }),
        ConnectError,
        "Connection refused",
      );
    },
  },
  {
    name: "listenOnPorts skips occupied ports in configuration order",
    async run(t) {
      for (let attempt = 0; attempt < 20; attempt++) {
        // Find P with P and P+1 bound by us and P+2 free (other processes may hold ports).
        const a = await t.listen({ hostname: HOST, port: 0 });
        const p = a.address.port;
        if (p > 65533) {
          await a.close();
          continue;
        }
        let b: Listener;
        try {
          b = await t.listen({ hostname: HOST, port: p + 1 });
        } catch {
          await a.close();
          continue;
        }
        try {
          let l: Listener;
          try {
            l = await listenOnPorts(t, HOST, `${p}-${p + 2}`, "Queryable State Server");
          } catch (e) {
            if (e instanceof BindError && e.addressInUse) continue; // P+2 taken by someone else
            throw e;
          }
          checkEquals(l.address.port, p + 2, "first free port of the range");
          const e = await checkRejects(
            () => listenOnPorts(t, HOST, [p, p + 1, p + 2], "Queryable State Proxy Server"),
            BindError,
          );
          checkEquals(
            e.message,
            "Unable to start Queryable State Proxy Server. All ports in provided range are occupied.",
            "message",
          );
          checkEquals(e.addressInUse, true, "addressInUse");
          await l.close();
          return;
        } finally {
          await b.close();
          await a.close();
        }
      }
      throw new CheckError("no three consecutive ports found");
    },
  },
];

/** Cases for the socket transports only (TCP behaviour the memory pipe does not model). */
export const socketCases: readonly TransportCase[] = [
  {
    name: "a reset by the peer ends the pending read; writes then reject",
    async run(t) {
      await withPair(t, async (client, server) => {
        const writer = client.writable.getWriter();
        await writer.write(new Uint8Array(1024));
        const reader = client.readable.getReader();
        const pending = reader.read();
        pending.catch(() => {});
        // Closing with unread bytes in the receive buffer makes the kernel send RST.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await server.close();
        // Deno reports a reset read as the end; Node as ECONNRESET: both are fine.
        try {
          checkEquals((await pending).done, true, "read after the reset");
        } catch (e) {
          check(e instanceof ConnectionClosedError, `expected ConnectionClosedError, got ${e}`);
          check(e.message.includes("reset by peer"), e.message);
        }
        await checkRejects(async () => {
          for (let i = 0; i < 100; i++) {
            await writer.write(new Uint8Array(1024));
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        }, ConnectionClosedError);
      });
    },
  },
];

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

// ---- the direct path (Connection.direct) ------------------------------------

/** A handler that records what it gets. */
export class Recorder implements DirectHandler {
  readonly chunks: Uint8Array[] = [];
  bytes = 0;
  ended = false;
  endError: unknown = undefined;
  drains = 0;
  #waiters: (() => void)[] = [];
  onData: ((chunk: Uint8Array) => void) | undefined;
  onDrain: (() => void) | undefined;

  data(chunk: Uint8Array): void {
    check(!this.ended, "data after end");
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.onData?.(chunk);
    this.#wake();
  }
  end(error?: unknown): void {
    check(!this.ended, "end called twice");
    this.ended = true;
    this.endError = error;
    this.#wake();
  }
  drain(): void {
    this.drains++;
    this.onDrain?.();
    this.#wake();
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
  /** Waits until `cond` holds (checked at every event), at most `ms`. */
  async until(cond: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      check(left > 0, `timed out waiting for ${what}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, Math.min(left, 50));
      });
      clearTimeout(timer);
    }
  }
}

function directOf(conn: Connection, handler: DirectHandler): DirectChannel {
  check(typeof conn.direct === "function", "the socket transport offers the direct path");
  return conn.direct!(handler);
}

export const directCases: readonly TransportCase[] = [
  {
    name: "direct: 8 MiB echoed with write/drain backpressure; chunks kept are never overwritten",
    async run(t) {
      await withPair(t, async (client, server) => {
        const rec = new Recorder();
        // The adapter calls the handler in later turns only, after `io` is set.
        rec.onData = (chunk) => {
          if (!io.write(chunk)) io.pause();
        };
        rec.onDrain = () => io.resume();
        const io = directOf(server, rec);
        const total = 8 * 1024 * 1024;
        const echoing = (async () => {
          await rec.until(() => rec.ended, 20_000, "end after the client's FIN");
          await io.closeWrite();
        })();
        const [, echoed] = await Promise.all([
          writePattern(client.writable, 11, total),
          readChunks(client.readable),
          echoing,
        ]);
        checkEquals(verifyPattern(11, echoed), total, "bytes echoed");
        checkEquals(rec.endError, undefined, "an orderly end");
        // Every chunk handed over still holds what was read.
        checkEquals(verifyPattern(11, rec.chunks), total, "chunks as kept");
      });
    },
  },
  {
    name: "direct: streams locked afterwards; taken twice or after a stream is used throws",
    async run(t) {
      await withPair(t, (client, server) => {
        directOf(server, new Recorder());
        check(server.readable.locked && server.writable.locked, "streams locked");
        let threw = false;
        try {
          server.direct!(new Recorder());
        } catch (e) {
          threw = e instanceof TypeError;
        }
        check(threw, "a second direct() throws TypeError");
        client.readable.getReader();
        threw = false;
        try {
          client.direct!(new Recorder());
        } catch (e) {
          threw = e instanceof TypeError;
        }
        check(threw, "direct() after the readable was used throws TypeError");
        return Promise.resolve();
      });
    },
  },
  {
    name: "direct: the peer's FIN ends reading; writing goes on; closeWrite sends FIN",
    async run(t) {
      await withPair(t, async (client, server) => {
        const rec = new Recorder();
        const io = directOf(server, rec);
        const writer = client.writable.getWriter();
        await writer.write(bytes("ping"));
        await writer.close();
        await rec.until(() => rec.ended, 5000, "the end");
        checkEquals(text(concat(rec.chunks)), "ping", "bytes before the end");
        checkEquals(rec.endError, undefined, "an orderly end");
        io.write(bytes("po"));
        io.write(bytes("ng"));
        await io.closeWrite();
        checkEquals(text(concat(await readChunks(client.readable))), "pong", "answer after FIN");
      });
    },
  },
  {
    name: "direct: pause() holds data back and the peer's writer stalls; resume() delivers all",
    async run(t) {
      await withPair(t, async (client, server) => {
        const rec = new Recorder();
        const io = directOf(server, rec);
        io.pause();
        const { writer, pending, written } = await writeUntilStalled(client, 5, STALL_LIMIT);
        const before = rec.bytes;
        await new Promise((resolve) => setTimeout(resolve, 100));
        checkEquals(rec.bytes, before, "no data while paused");
        check(before < written, "the stalled bytes were not delivered");
        io.resume();
        await pending;
        await writer.close();
        await rec.until(() => rec.ended, 10_000, "all bytes and the end");
        checkEquals(verifyPattern(5, rec.chunks), written, "every byte, in order");
      });
    },
  },
  {
    name: "direct: close() ends reading once; later writes throw ConnectionClosedError",
    async run(t) {
      await withPair(t, async (client, server) => {
        const rec = new Recorder();
        const io = directOf(server, rec);
        await server.close();
        checkEquals(rec.ended, true, "ended by close()");
        checkEquals(rec.endError, undefined, "closed here is an orderly end");
        let err: unknown;
        try {
          io.write(bytes("late"));
        } catch (e) {
          err = e;
        }
        check(err instanceof ConnectionClosedError, `write after close: ${err}`);
        await checkRejects(() => io.closeWrite(), ConnectionClosedError);
        checkEquals(
          (await client.readable.getReader().read()).done,
          true,
          "the peer reads the end",
        );
      });
    },
  },
  {
    name: "direct: a peer that vanishes ends reading, and writes then fail",
    async run(t) {
      await withPair(t, async (client, server) => {
        const rec = new Recorder();
        const io = directOf(server, rec);
        // Unread bytes at the server make its close a reset.
        const writer = client.writable.getWriter();
        await writer.write(new Uint8Array(1024));
        await rec.until(() => rec.bytes === 1024, 5000, "the bytes");
        io.write(new Uint8Array(4096)); // unread by the client: its close resets
        await new Promise((resolve) => setTimeout(resolve, 50));
        await client.close();
        await rec.until(() => rec.ended, 5000, "the end");
        check(
          rec.endError === undefined || rec.endError instanceof ConnectionClosedError,
          `end error: ${rec.endError}`,
        );
        let threw = false;
        for (let i = 0; i < 200 && !threw; i++) {
          try {
            io.write(new Uint8Array(1024));
          } catch (e) {
            check(e instanceof ConnectionClosedError, `write error: ${e}`);
            threw = true;
          }
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        check(threw, "writes to a vanished peer throw");
      });
    },
  },
];
