/**
 * TLS cases for the socket transports, written against the `Transport`
 * interface only and free of runtime globals, so that they run under Deno
 * (`tls_test.ts`, both adapters and across them) and under the real Node
 * binary (`tests/node/node_tls.node.ts`). Every wait is bounded.
 */

import type { TlsClientOptions, TlsServerOptions } from "../../src/transport/tls_options.ts";
import type { Connection, Listener, Transport } from "../../src/transport/types.ts";
import { ConnectError, ConnectionClosedError, TlsError } from "../../src/wire/errors.ts";
import {
  bytes,
  check,
  checkEquals,
  CheckError,
  concat,
  HOST,
  pattern,
  readChunks,
  readExactly,
  Recorder,
  settlesWithin,
  text,
  verifyPattern,
  writePattern,
} from "./_cases.ts";

/** A certificate and its key, PEM. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** The certificates of `_tls_certs.ts`, as PEM text (see there for what each is). */
export interface TlsPems {
  readonly ca: string;
  readonly otherCa: string;
  readonly server: PemPair;
  readonly serverFromOtherCa: PemPair;
  readonly expired: PemPair;
  readonly client: PemPair;
  readonly clientFromOtherCa: PemPair;
}

/** The transports a run of the cases uses. */
export interface TlsSetup {
  /** A transport serving TLS (without `clientCa`). */
  server(options: TlsServerOptions): Transport;
  /** A transport dialling TLS, or plaintext without options. */
  client(options?: TlsClientOptions): Transport;
  /** A plaintext transport of the server's kind. */
  plainServer(): Transport;
  /** A transport that serves mutual TLS, when one exists for this run. */
  mutualServer?(options: TlsServerOptions): Transport;
  /** Whether the client side names an expired certificate as such. */
  readonly namesExpiry: boolean;
  /**
   * Whether bulk transfers (a MiB echoed through both ends at once) are
   * reliable: not with a TLS socket of Deno's Node layer (see tls_test.ts).
   * Default true.
   */
  readonly bulk?: boolean;
  /**
   * Whether the server closes the socket of a client that never starts its
   * handshake. Deno's own TLS server cannot (Deno 2.9.6 keeps the socket of
   * an unfinished handshake open after `close()`, until the peer leaves):
   * there only our side's failure is checked. Default true.
   */
  readonly dropsSilentClients?: boolean;
  /**
   * Whether `keepAlive` reaches the socket of a TLS connection dialled
   * with these client options; `undefined`: not observable here.
   */
  keepAliveOverTls?(options: TlsClientOptions): boolean;
  /** `/proc/net/tcp` now, where readable (Linux), to see keepalive timers. */
  procNetTcp?(): string | null;
}

/** One TLS case. */
export interface TlsCase {
  readonly name: string;
  /** Needs `mutualServer`. */
  readonly mutual?: boolean;
  /** Moves bulk both ways at once (see {@linkcode TlsSetup.bulk}). */
  readonly bulk?: boolean;
  run(setup: TlsSetup, pems: TlsPems): Promise<void>;
}

/** Fails when `p` takes longer than `ms`; the timer is always cleared. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckError(`${what}: no outcome within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error `p` rejects with (a fulfilment fails the check), within `ms`. */
async function rejection(p: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  try {
    await within(p, ms, what);
  } catch (e) {
    if (e instanceof CheckError) throw e;
    return e;
  }
  throw new CheckError(`${what}: expected a rejection`);
}

/** How long a failure case may take at most before it counts as a hang. */
const BOUND_MS = 10_000;

/** A listener of `server` and a connection from `client`, both accepted; closes all of it. */
async function withTlsPair(
  server: Transport,
  client: Transport,
  fn: (client: Connection, server: Connection, listener: Listener) => Promise<void>,
  keepAlive = false,
): Promise<void> {
  const listener = await server.listen({ hostname: HOST, port: 0 });
  try {
    const accepted = listener.accept();
    const c = await within(
      client.connect({ hostname: HOST, port: listener.address.port, keepAlive }),
      BOUND_MS,
      "connect",
    );
    try {
      const s = await within(accepted, BOUND_MS, "accept");
      check(s !== null, "accept returned null");
      try {
        await fn(c, s, listener);
      } finally {
        await s.close();
      }
    } finally {
      await c.close();
    }
  } finally {
    await listener.close();
  }
}

/**
 * The server side of a failed handshake: a Node listener never hands the
 * connection over (Deno's Node layer sometimes does, before the client's
 * verdict); a Deno listener does, and reading it fails with `TlsError`.
 * Any of these is fine; a connection that yields data is not.
 */
async function checkServerSideRefused(accepted: Promise<Connection | null>): Promise<void> {
  if (!(await settlesWithin(accepted, 300))) return;
  const conn = await accepted;
  if (conn === null) return;
  try {
    const end = await within(
      conn.readable.getReader().read().then((r) => r, (e) => e),
      BOUND_MS,
      "server-side read",
    );
    check(
      end instanceof TlsError || end instanceof ConnectionClosedError ||
        (end as ReadableStreamReadResult<Uint8Array>).done === true,
      `server-side read: expected TlsError or the end, got ${end}`,
    );
  } finally {
    await conn.close();
  }
}

/** Dials `client` at a TLS server of `server` and expects `TlsError` from connect. */
async function expectHandshakeFailure(
  server: Transport,
  client: Transport,
  messageIncludes: RegExp,
): Promise<TlsError> {
  const listener = await server.listen({ hostname: HOST, port: 0 });
  try {
    const accepted = listener.accept();
    const err = await rejection(
      client.connect({ hostname: HOST, port: listener.address.port }),
      BOUND_MS,
      "connect",
    );
    check(err instanceof TlsError, `expected TlsError, got ${err}`);
    check(err instanceof ConnectError, "TlsError is a ConnectError");
    check(
      err.message.startsWith(`TLS handshake with ${HOST}:${listener.address.port} failed: `),
      err.message,
    );
    check(messageIncludes.test(err.message), `expected ${messageIncludes} in "${err.message}"`);
    check(err.cause !== undefined, "the runtime's error is the cause");
    await checkServerSideRefused(accepted);
    return err;
  } finally {
    await listener.close();
  }
}

/** Echoes one message through a fresh pair and checks it. */
async function echoOnce(server: Transport, client: Transport, message: string): Promise<void> {
  await withTlsPair(server, client, async (c, s) => {
    const echo = s.readable.pipeTo(s.writable);
    echo.catch(() => {}); // observed below; a failed check closes first
    const writer = c.writable.getWriter();
    const reader = c.readable.getReader();
    await writer.write(bytes(message));
    checkEquals(text(await readExactly(reader, message.length)), message, "echo");
    await writer.close();
    checkEquals((await within(reader.read(), BOUND_MS, "end")).done, true, "end after FIN");
    await echo;
  });
}

/**
 * Dials a mutual-TLS server that should refuse the client and expects no
 * answer (see `expectNoAnswer`), closing what connected. Returns the error
 * the connect or the reading failed with, if any. With TLS 1.3 the
 * handshake completes on the client's side first; the server's alert
 * arrives with the next read.
 */
async function dialRefused(connecting: Promise<Connection>): Promise<unknown> {
  try {
    const conn = await within(connecting, BOUND_MS, "connect");
    try {
      return await expectNoAnswer(conn);
    } finally {
      await conn.close();
    }
  } catch (e) {
    if (e instanceof CheckError) throw e;
    return e;
  }
}

/**
 * Sends `ping` on a connection a mutual-TLS server should refuse and
 * expects no answer: the reading ends (or fails) within the bound.
 * Returns the error, if the reading failed.
 */
async function expectNoAnswer(conn: Connection): Promise<unknown> {
  const writer = conn.writable.getWriter();
  writer.write(bytes("ping")).catch(() => {});
  const reader = conn.readable.getReader();
  try {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await within(reader.read(), BOUND_MS, "read on a refused connection");
      if (r.done) break;
      chunks.push(r.value);
    }
    check(chunks.length === 0, `no answer expected, got ${concat(chunks).length} bytes`);
    return undefined;
  } catch (e) {
    if (e instanceof CheckError) throw e;
    return e;
  }
}

/** The keepalive timer state of the socket from local port `from` to port `to`, from `/proc/net/tcp`. */
export function keepAliveTimer(procNetTcp: string, from: number, to: number): boolean | undefined {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, "0");
  for (const line of procNetTcp.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    if (cols[1].endsWith(`:${hex(from)}`) && cols[2].endsWith(`:${hex(to)}`)) {
      // "tr:tm->when": timer 2 is the keepalive timer.
      return cols[5].startsWith("02:");
    }
  }
  return undefined;
}

export const tlsCases: readonly TlsCase[] = [
  {
    name: "TLS: echo, half-close and addresses over the streams",
    async run(setup, pems) {
      await withTlsPair(
        setup.server(pems.server),
        setup.client({ ca: pems.ca }),
        async (client, server, listener) => {
          checkEquals(client.remoteAddress.port, listener.address.port, "client remote port");
          checkEquals(server.remoteAddress, client.localAddress, "server remote = client local");
          const served = (async () => {
            const request = await readChunks(server.readable);
            const writer = server.writable.getWriter();
            await writer.write(bytes(`re: ${text(concat(request))}`));
            await writer.close();
          })();
          const writer = client.writable.getWriter();
          await writer.write(bytes("request over TLS"));
          await writer.close();
          const reply = await within(readChunks(client.readable), BOUND_MS, "reply");
          checkEquals(text(concat(reply)), "re: request over TLS", "reply after half-close");
          await served;
        },
      );
    },
  },
  {
    name: "TLS: 2 MiB both ways over the streams, chunks kept and checked",
    async run(setup, pems) {
      const total = 2 * 1024 * 1024;
      await withTlsPair(setup.server(pems.server), setup.client({ ca: pems.ca }), async (c, s) => {
        // One direction at a time: Deno's Node layer can stall a TLS socket
        // that writes and reads bulk at once (see the module doc of node.ts).
        const [toServer] = await within(
          Promise.all([readChunks(s.readable), writePattern(c.writable, 31, total)]),
          BOUND_MS * 3,
          "client -> server",
        );
        checkEquals(verifyPattern(31, toServer), total, "bytes client -> server");
        const [toClient] = await within(
          Promise.all([readChunks(c.readable), writePattern(s.writable, 32, total)]),
          BOUND_MS * 3,
          "server -> client",
        );
        checkEquals(verifyPattern(32, toClient), total, "bytes server -> client");
      });
    },
  },
  {
    name: "TLS: the direct path on both ends, request and answer, FIN each way",
    async run(setup, pems) {
      await withTlsPair(setup.server(pems.server), setup.client({ ca: pems.ca }), async (c, s) => {
        check(typeof s.direct === "function" && typeof c.direct === "function", "direct offered");
        const srv = new Recorder();
        const sio = s.direct!(srv);
        const cli = new Recorder();
        const cio = c.direct!(cli);
        for (let i = 0; i < 3; i++) {
          const question = `question ${i}`;
          cio.write(bytes(question));
          await srv.until(() => text(concat(srv.chunks)).endsWith(question), BOUND_MS, question);
          sio.write(bytes(`answer ${i};`));
          await cli.until(() => text(concat(cli.chunks)).endsWith(`answer ${i};`), BOUND_MS, "a");
        }
        await cio.closeWrite();
        await srv.until(() => srv.ended, BOUND_MS, "the server's end");
        sio.write(bytes("bye"));
        await sio.closeWrite();
        await cli.until(() => cli.ended, BOUND_MS, "the client's end");
        checkEquals(srv.endError, undefined, "server: an orderly end");
        checkEquals(cli.endError, undefined, "client: an orderly end");
        checkEquals(text(concat(cli.chunks)), "answer 0;answer 1;answer 2;bye", "answers");
      });
    },
  },
  {
    name: "TLS: the direct path on both ends (1 MiB echoed, write/drain, FIN)",
    bulk: true,
    async run(setup, pems) {
      await withTlsPair(setup.server(pems.server), setup.client({ ca: pems.ca }), async (c, s) => {
        check(typeof s.direct === "function" && typeof c.direct === "function", "direct offered");
        const srv = new Recorder();
        srv.onData = (chunk) => {
          if (!sio.write(chunk)) sio.pause();
        };
        srv.onDrain = () => sio.resume();
        const sio = s.direct!(srv);
        const cli = new Recorder();
        const cio = c.direct!(cli);
        const total = 1024 * 1024;
        const CH = 16 * 1024;
        let off = 0;
        const pump = () => {
          while (off < total) {
            const more = cio.write(pattern(41, off, CH));
            off += CH;
            if (!more) return;
          }
        };
        cli.onDrain = pump;
        pump();
        await cli.until(() => off >= total, BOUND_MS, "all written");
        await cio.closeWrite();
        await srv.until(() => srv.ended, BOUND_MS, "the server's end");
        await sio.closeWrite();
        await cli.until(() => cli.ended, BOUND_MS, "the client's end");
        checkEquals(srv.endError, undefined, "server: an orderly end");
        checkEquals(cli.endError, undefined, "client: an orderly end");
        checkEquals(verifyPattern(41, cli.chunks), total, "bytes echoed, chunks as kept");
      });
    },
  },
  {
    name: "TLS: a server certificate from another CA fails the handshake with TlsError",
    async run(setup, pems) {
      await expectHandshakeFailure(
        setup.server(pems.server),
        setup.client({ ca: pems.otherCa }),
        /issuer|verify|certificate/i,
      );
    },
  },
  {
    name: "TLS: an expired server certificate fails the handshake with TlsError",
    async run(setup, pems) {
      await expectHandshakeFailure(
        setup.server(pems.expired),
        setup.client({ ca: pems.ca }),
        setup.namesExpiry ? /expired/i : /verify|certificate/i,
      );
    },
  },
  {
    name: "TLS: serverName is what the certificate must name",
    async run(setup, pems) {
      // Dialling 127.0.0.1, verifying "localhost": the certificate names both.
      await echoOnce(
        setup.server(pems.server),
        setup.client({ ca: pems.ca, serverName: "localhost" }),
        "by name",
      );
      await expectHandshakeFailure(
        setup.server(pems.server),
        setup.client({ ca: pems.ca, serverName: "not-this-host.example" }),
        /not-this-host|name|altname|NotValidForName|certificate/i,
      );
    },
  },
  {
    name: "TLS: a plaintext server that never answers: connect fails after handshakeTimeoutMs",
    async run(setup, pems) {
      const listener = await setup.plainServer().listen({ hostname: HOST, port: 0 });
      try {
        const accepted = listener.accept();
        const started = Date.now();
        const err = await rejection(
          setup.client({ ca: pems.ca, handshakeTimeoutMs: 300 }).connect({
            hostname: HOST,
            port: listener.address.port,
          }),
          BOUND_MS,
          "connect to a silent plaintext server",
        );
        const took = Date.now() - started;
        check(err instanceof TlsError, `expected TlsError, got ${err}`);
        check(/timed out after 300 ms/.test(err.message), err.message);
        check(took >= 250 && took < 5000, `took ${took} ms`);
        const plain = await within(accepted, BOUND_MS, "plain accept");
        await plain?.close();
      } finally {
        await listener.close();
      }
    },
  },
  {
    name: "TLS: a client that never starts the handshake is dropped after handshakeTimeoutMs",
    async run(setup, pems) {
      const listener = await setup.server({ ...pems.server, handshakeTimeoutMs: 300 }).listen({
        hostname: HOST,
        port: 0,
      });
      try {
        const accepted = listener.accept();
        const started = Date.now();
        const silent = await setup.client().connect({
          hostname: HOST,
          port: listener.address.port,
        });
        try {
          // A listener that hands the connection over (Deno's) fails it with the timeout.
          const handedOver = (async () => {
            if (!(await settlesWithin(accepted, 1000))) return;
            const conn = await accepted;
            if (conn === null) return;
            try {
              const err = await rejection(conn.readable.getReader().read(), BOUND_MS, "read");
              check(err instanceof TlsError, `expected TlsError, got ${err}`);
              check(/timed out after 300 ms/.test(err.message), err.message);
              const took = Date.now() - started;
              check(took >= 250 && took < 5000, `server side: ${took} ms`);
            } finally {
              await conn.close();
            }
          })();
          if (setup.dropsSilentClients !== false) {
            const end = await within(
              silent.readable.getReader().read().then((x) => x, (e) => e),
              BOUND_MS,
              "the server drops a silent client",
            );
            const took = Date.now() - started;
            check(
              (end as ReadableStreamReadResult<Uint8Array>).done === true ||
                end instanceof ConnectionClosedError,
              `expected the end, got ${JSON.stringify(end)}`,
            );
            check(took >= 250 && took < 5000, `took ${took} ms`);
          }
          await handedOver;
        } finally {
          await silent.close();
        }
      } finally {
        await listener.close();
      }
    },
  },
  {
    name: "TLS: an established connection outlives handshakeTimeoutMs",
    async run(setup, pems) {
      await withTlsPair(
        setup.server({ ...pems.server, handshakeTimeoutMs: 200 }),
        setup.client({ ca: pems.ca }),
        async (c, s) => {
          const echo = s.readable.pipeTo(s.writable);
          echo.catch(() => {}); // observed below; a failed check closes first
          const writer = c.writable.getWriter();
          const reader = c.readable.getReader();
          await writer.write(bytes("early"));
          checkEquals(text(await readExactly(reader, 5)), "early", "before the timeout");
          await new Promise((resolve) => setTimeout(resolve, 500));
          await writer.write(bytes("later"));
          checkEquals(text(await readExactly(reader, 5)), "later", "after the timeout");
          await writer.close();
          checkEquals((await within(reader.read(), BOUND_MS, "end")).done, true, "end");
          await echo;
        },
      );
    },
  },
  {
    name: "TLS: plaintext bytes to a TLS server end the connection, no echo",
    async run(setup, pems) {
      const listener = await setup.server(pems.server).listen({ hostname: HOST, port: 0 });
      try {
        const accepted = listener.accept();
        const plain = await setup.client().connect({ hostname: HOST, port: listener.address.port });
        try {
          // A queryable-state request frame, as a plaintext client sends it.
          const frame = new Uint8Array([0, 0, 0, 12, 0, 0, 0, 0x79, 0, 0, 0, 0, 0, 0, 0, 1]);
          await plain.writable.getWriter().write(frame);
          const reader = plain.readable.getReader();
          const got: Uint8Array[] = [];
          for (let i = 0; i < 100; i++) {
            const r = await within(
              reader.read().then((x) => x, () => ({ done: true as const, value: undefined })),
              BOUND_MS,
              "the TLS server ends a plaintext client",
            );
            if (r.done) break;
            got.push(r.value);
          }
          const all = concat(got);
          // At most a TLS alert record (content type 21) comes back.
          check(all.length === 0 || all[0] === 21, `unexpected bytes ${all.slice(0, 8)}`);
        } finally {
          await plain.close();
        }
        await checkServerSideRefused(accepted);
      } finally {
        await listener.close();
      }
    },
  },
  {
    name: "TLS: a client certificate offered to a server that does not ask is fine",
    async run(setup, pems) {
      await echoOnce(
        setup.server(pems.server),
        setup.client({ ca: pems.ca, ...pems.client }),
        "unasked certificate",
      );
    },
  },
  {
    name: "TLS: keepAlive works over TLS, and reaches the socket where the adapter can set it",
    async run(setup, pems) {
      const options = { ca: pems.ca };
      await withTlsPair(setup.server(pems.server), setup.client(options), async (c, s) => {
        const echo = s.readable.pipeTo(s.writable);
        echo.catch(() => {}); // observed below; a failed check closes first
        const writer = c.writable.getWriter();
        const reader = c.readable.getReader();
        await writer.write(bytes("alive"));
        checkEquals(text(await readExactly(reader, 5)), "alive", "echo with keepAlive");
        const proc = setup.procNetTcp?.();
        const expected = setup.keepAliveOverTls?.(options);
        if (proc !== null && proc !== undefined && expected !== undefined) {
          checkEquals(
            keepAliveTimer(proc, c.localAddress.port, c.remoteAddress.port),
            expected,
            "keepalive timer on the client's socket",
          );
        }
        await writer.close();
        await echo;
      }, true);
    },
  },
  {
    name: "mutual TLS: a client certificate from the trusted CA gets through",
    mutual: true,
    async run(setup, pems) {
      await echoOnce(
        setup.mutualServer!({ ...pems.server, clientCa: pems.ca }),
        setup.client({ ca: pems.ca, ...pems.client }),
        "mutual",
      );
    },
  },
  {
    name:
      "mutual TLS: no client certificate fails with TlsError (at connect, or on the first read)",
    mutual: true,
    async run(setup, pems) {
      const listener = await setup.mutualServer!({ ...pems.server, clientCa: pems.ca }).listen({
        hostname: HOST,
        port: 0,
      });
      try {
        const accepted = listener.accept();
        const err = await dialRefused(
          setup.client({ ca: pems.ca }).connect({ hostname: HOST, port: listener.address.port }),
        );
        check(err instanceof TlsError, `expected TlsError, got ${err}`);
        check(/certificate/i.test(err.message), err.message);
        check(!(await settlesWithin(accepted, 200)), "the server accepted nothing");
      } finally {
        await listener.close();
      }
    },
  },
  {
    name: "mutual TLS: a client certificate from another CA is refused",
    mutual: true,
    async run(setup, pems) {
      const listener = await setup.mutualServer!({ ...pems.server, clientCa: pems.ca }).listen({
        hostname: HOST,
        port: 0,
      });
      try {
        const accepted = listener.accept();
        const err = await dialRefused(
          setup.client({ ca: pems.ca, ...pems.clientFromOtherCa }).connect({
            hostname: HOST,
            port: listener.address.port,
          }),
        );
        // Node's server closes without an alert here, so the client may see a
        // plain end: what matters is that nothing got through.
        check(
          err === undefined || err instanceof TlsError || err instanceof ConnectionClosedError,
          `unexpected ${err}`,
        );
        check(!(await settlesWithin(accepted, 200)), "the server accepted nothing");
      } finally {
        await listener.close();
      }
    },
  },
];

/**
 * Plaintext `keepAlive` cases (the flag reaches the socket; without it, no
 * keepalive timer). Need `procNetTcp`.
 */
export const keepAliveCases: readonly {
  name: string;
  run(transport: Transport, procNetTcp: () => string | null): Promise<void>;
}[] = [
  {
    name: "keepAlive: connect({ keepAlive: true }) turns the socket's keepalive on, and only then",
    async run(transport, procNetTcp) {
      for (const keepAlive of [true, false]) {
        await withTlsPair(transport, transport, async (c, s) => {
          const echo = s.readable.pipeTo(s.writable);
          echo.catch(() => {}); // observed below; a failed check closes first
          const writer = c.writable.getWriter();
          await writer.write(bytes("k"));
          checkEquals(text(await readExactly(c.readable.getReader(), 1)), "k", "echo");
          const proc = procNetTcp();
          if (proc !== null) {
            checkEquals(
              keepAliveTimer(proc, c.localAddress.port, c.remoteAddress.port),
              keepAlive,
              `keepalive timer with keepAlive: ${keepAlive}`,
            );
          }
          await writer.close();
          await echo;
        }, keepAlive);
      }
    },
  },
];
