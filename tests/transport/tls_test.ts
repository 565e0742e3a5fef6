/**
 * TLS on both adapters under Deno (`DenoTransport`, and `NodeTransport`
 * through Deno's Node layer), and across them; keepalive on the socket.
 * The certificates are made by `openssl` at test time: without it the TLS
 * tests are ignored, saying so.
 */

import { DenoTransport, denoTransport } from "../../src/transport/deno.ts";
import { NodeTransport, nodeTransport } from "../../src/transport/node.ts";
import type { TlsClientOptions, TlsServerOptions } from "../../src/transport/tls_options.ts";
import type { Transport } from "../../src/transport/types.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { directCases, socketCases, transportCases } from "./_cases.ts";
import { keepAliveCases, tlsCases, type TlsPems, type TlsSetup } from "./_tls_cases.ts";
import { hasOpenssl, makeCerts, sayWhenIgnored } from "./_tls_certs.ts";

sayWhenIgnored("tls_test");

function procNetTcp(): string | null {
  try {
    return Deno.readTextFileSync("/proc/net/tcp");
  } catch {
    return null;
  }
}

const deno = {
  server: (o: TlsServerOptions): Transport => new DenoTransport({ listenTls: o }),
  client: (o?: TlsClientOptions): Transport =>
    o === undefined ? denoTransport : new DenoTransport({ connectTls: o }),
  plainServer: (): Transport => denoTransport,
  // Deno.listenTls keeps the socket of an unfinished handshake open after close().
  dropsSilentClients: false,
  // Deno sets socket options only on the connections it dials with
  // Deno.connect + Deno.startTls, i.e. without a client certificate.
  keepAliveOverTls: (o: TlsClientOptions): boolean => o.cert === undefined,
};
const node = {
  server: (o: TlsServerOptions): Transport => new NodeTransport({ listenTls: o }),
  client: (o?: TlsClientOptions): Transport =>
    o === undefined ? nodeTransport : new NodeTransport({ connectTls: o }),
  plainServer: (): Transport => nodeTransport,
  dropsSilentClients: true,
  keepAliveOverTls: (): boolean => true,
};

const SETUPS: ReadonlyArray<[string, TlsSetup]> = [
  ["deno", {
    ...deno,
    // Deno.listenTls cannot ask for client certificates: the mutual-TLS
    // server is the Node adapter, dialled by the Deno adapter.
    mutualServer: node.server,
    namesExpiry: true,
    procNetTcp,
  }],
  ["node (Deno compat)", {
    ...node,
    mutualServer: node.server,
    bulk: false,
    // Deno's Node layer reports every verification failure as "unable to
    // verify the first certificate" (the server side's alert does name it).
    namesExpiry: false,
    procNetTcp,
  }],
  ["deno client, node (Deno compat) server", {
    ...node,
    client: deno.client,
    bulk: false,
    keepAliveOverTls: deno.keepAliveOverTls,
    mutualServer: node.server,
    namesExpiry: true,
    procNetTcp,
  }],
  ["node (Deno compat) client, deno server", {
    ...deno,
    client: node.client,
    bulk: false,
    keepAliveOverTls: node.keepAliveOverTls,
    mutualServer: node.server,
    namesExpiry: false,
    procNetTcp,
  }],
];

let pems: TlsPems | undefined;
async function certs(): Promise<TlsPems> {
  return pems ??= await makeCerts();
}

for (const [label, setup] of SETUPS) {
  for (const c of tlsCases) {
    Deno.test({
      name: `${label} transport: ${c.name}`,
      ignore: !hasOpenssl || (c.mutual === true && setup.mutualServer === undefined) ||
        (c.bulk === true && setup.bulk === false),
      fn: async () => c.run(setup, await certs()),
    });
  }
}

for (
  const [label, transport] of [["deno", denoTransport], [
    "node (Deno compat)",
    nodeTransport,
  ]] as const
) {
  for (const c of keepAliveCases) {
    Deno.test(`${label} transport: ${c.name}`, () => c.run(transport, procNetTcp));
  }
}

// Every conformance case of the plaintext transports, over TLS.
const CONFORMANCE = [...transportCases, ...socketCases, ...directCases];

/**
 * Deno 2.9.6's `node:tls` has no write backpressure: `write()` returns
 * `false` yet `drain` follows at once whether or not the peer reads, so a
 * peer that reads nothing does not stall the writer (the bytes pile up in
 * memory) and a bulk transfer both ways at once can stall. These cases
 * check exactly that, so they are ignored for the Node adapter under Deno
 * over TLS (they pass over plaintext under Deno, and over TLS on real Node).
 */
const NO_TLS_BACKPRESSURE_UNDER_DENO_NODE_LAYER = new Set([
  "8 MiB both ways at once, chunks kept and checked",
  "close() rejects a pending write and later writes",
  "backpressure: a peer that does not read stalls the writer, then all bytes arrive",
  "direct: pause() holds data back and the peer's writer stalls; resume() delivers all",
]);

let denoTls: Transport | undefined;
let nodeTls: Transport | undefined;
for (const c of CONFORMANCE) {
  Deno.test({
    name: `deno transport over TLS: ${c.name}`,
    ignore: !hasOpenssl,
    fn: async () => {
      const p = await certs();
      denoTls ??= new DenoTransport({ listenTls: p.server, connectTls: { ca: p.ca } });
      await c.run(denoTls);
    },
  });
  Deno.test({
    name: `node (Deno compat) transport over TLS: ${c.name}`,
    ignore: !hasOpenssl || NO_TLS_BACKPRESSURE_UNDER_DENO_NODE_LAYER.has(c.name),
    fn: async () => {
      const p = await certs();
      nodeTls ??= new NodeTransport({ listenTls: p.server, connectTls: { ca: p.ca } });
      await c.run(nodeTls);
    },
  });
}

Deno.test("deno transport: listenTls.clientCa is refused, naming the way to mutual TLS", () => {
  const e = assertThrows(
    () => new DenoTransport({ listenTls: { cert: "C", key: "K", clientCa: "CA" } }),
    TypeError,
  );
  assert(e.message.includes("NodeTransport"), e.message);
});

Deno.test("deno transport: connectTls.serverName with a client certificate is refused", () => {
  assertThrows(
    () => new DenoTransport({ connectTls: { serverName: "x", cert: "C", key: "K" } }),
    TypeError,
    "serverName",
  );
  // Each alone is fine.
  assert(new DenoTransport({ connectTls: { serverName: "x" } }).connectsTls);
  assert(new DenoTransport({ connectTls: { cert: "C", key: "K" } }).connectsTls);
});

Deno.test("TLS options are checked by both adapters; plaintext is the default", () => {
  for (const make of [(o: object) => new DenoTransport(o), (o: object) => new NodeTransport(o)]) {
    assertEquals(make({}).servesTls, false);
    assertEquals(make({}).connectsTls, false);
    assertThrows(() => make({ listenTls: { cert: "C" } }), TypeError, "listenTls.key");
    assertThrows(() => make({ listenTls: { cert: "", key: "K" } }), TypeError, "listenTls.cert");
    assertThrows(
      () => make({ listenTls: { cert: "C", key: "K", handshakeTimeoutMs: 0 } }),
      RangeError,
      "handshakeTimeoutMs",
    );
    assertThrows(() => make({ connectTls: { cert: "C" } }), TypeError, "both cert and key");
    assertThrows(() => make({ connectTls: { ca: [] } }), TypeError, "connectTls.ca");
    assertThrows(() => make({ connectTls: { serverName: "" } }), TypeError, "serverName");
    assertThrows(
      () => make({ connectTls: { handshakeTimeoutMs: 1.5 } }),
      RangeError,
      "handshakeTimeoutMs",
    );
  }
});

Deno.test({
  name: "deno transport: an unusable certificate or key makes listen reject with TypeError",
  ignore: !hasOpenssl,
  async fn() {
    const p = await certs();
    for (
      const listenTls of [{ cert: "not a certificate", key: p.server.key }, {
        cert: p.server.cert,
        key: p.client.key,
      }]
    ) {
      await assertRejects(
        () => new DenoTransport({ listenTls }).listen({ hostname: "127.0.0.1", port: 0 }),
        TypeError,
        "listenTls: unusable certificate or key",
      );
    }
  },
});
