/**
 * Round trips client -> proxy -> state server with TLS on each hop, mixed
 * with plaintext, and mutual TLS, using the module's KvStateServer,
 * KvStateClientProxy and QueryableStateClient; and what a query meets when
 * a hop's TLS is wrong. Ignored, saying so, without `openssl`.
 */

import { DenoTransport, denoTransport } from "../../src/transport/deno.ts";
import { NodeTransport, nodeTransport } from "../../src/transport/node.ts";
import type { Transport } from "../../src/transport/types.ts";
import {
  ConnectError,
  ConnectionClosedError,
  FrameLengthError,
  ProtocolError,
  RemoteError,
  TlsError,
  UnknownKeyOrNamespaceError,
} from "../../src/wire/errors.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import { type PlaneTransports, startTlsPlane } from "./_tls_plane.ts";
import { within } from "./_tls_cases.ts";
import { hasOpenssl, makeCerts, sayWhenIgnored, type TlsFixture } from "./_tls_certs.ts";

sayWhenIgnored("tls_plane_test");

let fixture: TlsFixture | undefined;
async function certs(): Promise<TlsFixture> {
  return fixture ??= await makeCerts();
}

/** Starts a plane, checks two queries, closes it. */
async function roundTrip(t: PlaneTransports): Promise<void> {
  const plane = await startTlsPlane(t);
  try {
    assertEquals(await within(plane.query("hello"), 15_000, "query"), 42n);
    assertEquals(await within(plane.query("world"), 15_000, "query"), 7n);
    await assertRejects(
      () => within(plane.query("nobody"), 15_000, "query"),
      UnknownKeyOrNamespaceError,
    );
  } finally {
    await plane.close();
  }
}

/** Starts a plane and returns what the first query rejects with. */
async function failedQuery(t: PlaneTransports, retries = 1): Promise<unknown> {
  const plane = await startTlsPlane(t, retries);
  try {
    return await assertRejects(() => within(plane.query(), 15_000, "failing query"));
  } finally {
    await plane.close();
  }
}

function test(name: string, fn: (c: TlsFixture) => Promise<void>): void {
  Deno.test({ name, ignore: !hasOpenssl, fn: async () => fn(await certs()) });
}

const denoServing = (c: TlsFixture): Transport => new DenoTransport({ listenTls: c.server });
const denoDialling = (c: TlsFixture): Transport => new DenoTransport({ connectTls: { ca: c.ca } });
const nodeMutual = (c: TlsFixture): Transport =>
  new NodeTransport({ listenTls: { ...c.server, clientCa: c.ca } });

test("TLS plane: TLS on every hop (Deno adapter)", (c) =>
  roundTrip({
    server: denoServing(c),
    proxy: denoServing(c),
    upstream: denoDialling(c),
    client: denoDialling(c),
  }));

test("TLS plane: TLS from clients to the proxy, plaintext to the state server", (c) =>
  roundTrip({
    server: denoTransport,
    proxy: denoServing(c),
    upstream: denoTransport,
    client: denoDialling(c),
  }));

test("TLS plane: plaintext clients, TLS from the proxy to the state server", (c) =>
  roundTrip({
    server: denoServing(c),
    proxy: denoTransport,
    upstream: denoDialling(c),
    client: denoTransport,
  }));

test(
  "TLS plane: mutual TLS on every hop (Node adapter serving under Deno, Deno adapter dialling with client certificates)",
  (c) =>
    roundTrip({
      server: nodeMutual(c),
      proxy: nodeMutual(c),
      upstream: new DenoTransport({ connectTls: { ca: c.ca, ...c.client } }),
      client: new DenoTransport({ connectTls: { ca: c.ca, ...c.client } }),
    }),
);

test("TLS plane: mutual TLS on every hop, Node adapter throughout (under Deno)", (c) =>
  roundTrip({
    server: nodeMutual(c),
    proxy: nodeMutual(c),
    upstream: new NodeTransport({ connectTls: { ca: c.ca, ...c.client } }),
    client: new NodeTransport({ connectTls: { ca: c.ca, ...c.client, serverName: "localhost" } }),
  }));

test("TLS plane: a client without a certificate at a mutual-TLS proxy fails with TlsError", async (c) => {
  const err = await failedQuery({
    server: denoTransport,
    proxy: nodeMutual(c),
    upstream: denoTransport,
    client: denoDialling(c),
  });
  assertInstanceOf(err, TlsError);
  assert(/certificate/i.test(err.message), err.message);
});

test("TLS plane: a client that trusts another CA fails with TlsError (a ConnectError)", async (c) => {
  const err = await failedQuery({
    server: denoTransport,
    proxy: denoServing(c),
    upstream: denoTransport,
    client: new DenoTransport({ connectTls: { ca: c.otherCa } }),
  });
  assertInstanceOf(err, TlsError);
  assertInstanceOf(err, ConnectError);
  assert(err.message.includes("UnknownIssuer"), err.message);
});

test("TLS plane: an upstream that trusts another CA: the client gets the proxy's failure naming SSLHandshakeException", async (c) => {
  const err = await failedQuery({
    server: denoServing(c),
    proxy: denoTransport,
    upstream: new DenoTransport({ connectTls: { ca: c.otherCa } }),
    client: denoTransport,
  });
  assertInstanceOf(err, RemoteError);
  assert(err.message.includes("javax.net.ssl.SSLHandshakeException"), err.message);
  assert(err.message.includes("UnknownIssuer"), err.message);
});

test("TLS plane: a TLS client at a plaintext proxy fails with TlsError, without hanging", async (c) => {
  const started = Date.now();
  const err = await failedQuery({
    server: denoTransport,
    proxy: denoTransport,
    upstream: denoTransport,
    client: new DenoTransport({ connectTls: { ca: c.ca, handshakeTimeoutMs: 1000 } }),
  });
  assertInstanceOf(err, TlsError);
  assert(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test("TLS plane: a plaintext client at a TLS proxy fails at once, without hanging", async (c) => {
  for (const proxy of [denoServing(c), new NodeTransport({ listenTls: c.server })]) {
    const started = Date.now();
    const err = await failedQuery({
      server: denoTransport,
      proxy,
      upstream: denoTransport,
      client: proxy instanceof NodeTransport ? nodeTransport : denoTransport,
    });
    // The connection closes, or (Deno's server) the TLS alert it sends first
    // is recognized as a TLS record, not a frame, and said so.
    assert(
      err instanceof ConnectionClosedError ||
        (err instanceof ProtocolError && /speaks TLS/.test(err.message) &&
          err.cause instanceof FrameLengthError),
      `unexpected ${err}`,
    );
    assert(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  }
});
