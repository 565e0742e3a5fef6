/**
 * TLS, keepalive and accept failures of the Node adapter under the real
 * `node` binary. Bundled and run with `node --test` by
 * `tests/transport/node_real_tls_test.ts`, which makes the certificates
 * (with `openssl`) and passes their directory in `KVSTATE_TLS_DIR`.
 *
 * Run with `KVSTATE_EMFILE_CHILD=1` (under a low `ulimit -n`) the bundle is
 * instead the child of the EMFILE test below: it prints one JSON report.
 * Nothing here, nor in what it imports, may touch `Deno`.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { Server } from "node:net";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { NodeTransport, nodeTransport } from "../../src/transport/node.ts";
import type { TlsClientOptions, TlsServerOptions } from "../../src/transport/tls_options.ts";
import type { Transport } from "../../src/transport/types.ts";
import { ConnectError, RemoteError, TlsError } from "../../src/wire/errors.ts";
import { directCases, HOST, socketCases, transportCases } from "../transport/_cases.ts";
import { type EmfileReport, emfileScenario } from "../transport/_emfile_scenario.ts";
import { keepAliveCases, tlsCases, type TlsPems, type TlsSetup } from "../transport/_tls_cases.ts";
import { type PlaneTransports, startTlsPlane } from "../transport/_tls_plane.ts";

if (process.env.KVSTATE_EMFILE_CHILD === "1") {
  const fds: number[] = [];
  const report = await emfileScenario(nodeTransport, {
    fill() {
      try {
        for (let i = 0; i < 100_000; i++) fds.push(openSync("/dev/null", "r"));
      } catch {
        // Out of descriptors.
      }
      return fds.length;
    },
    freeOne() {
      const fd = fds.pop();
      if (fd !== undefined) closeSync(fd);
    },
    freeAll() {
      for (const fd of fds.splice(0)) closeSync(fd);
    },
  });
  console.log(JSON.stringify(report));
  process.exit(0);
}

const dir = process.env.KVSTATE_TLS_DIR;
if (dir === undefined) throw new Error("KVSTATE_TLS_DIR is not set");
const read = (name: string): string => readFileSync(`${dir}/${name}`, "utf8");
const pems: TlsPems = {
  ca: read("ca.crt"),
  otherCa: read("other_ca.crt"),
  server: { cert: read("server.crt"), key: read("server.key") },
  serverFromOtherCa: { cert: read("server_from_other_ca.crt"), key: read("server.key") },
  expired: { cert: read("expired.crt"), key: read("server.key") },
  client: { cert: read("client.crt"), key: read("client.key") },
  clientFromOtherCa: { cert: read("client_from_other_ca.crt"), key: read("client.key") },
};

function procNetTcp(): string | null {
  try {
    return readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return null;
  }
}

const serving = (o: TlsServerOptions): Transport => new NodeTransport({ listenTls: o });
const dialling = (o?: TlsClientOptions): Transport =>
  o === undefined ? nodeTransport : new NodeTransport({ connectTls: o });

const setup: TlsSetup = {
  server: serving,
  client: dialling,
  plainServer: () => nodeTransport,
  mutualServer: serving,
  namesExpiry: true,
  bulk: true,
  dropsSilentClients: true,
  keepAliveOverTls: () => true,
  procNetTcp,
};

for (const c of tlsCases) {
  test(`node transport: ${c.name}`, () => c.run(setup, pems));
}

for (const c of keepAliveCases) {
  test(`node transport: ${c.name}`, () => c.run(nodeTransport, procNetTcp));
}

const overTls = new NodeTransport({ listenTls: pems.server, connectTls: { ca: pems.ca } });
for (const c of [...transportCases, ...socketCases, ...directCases]) {
  test(`node transport over TLS: ${c.name}`, () => c.run(overTls));
}

async function roundTrip(t: PlaneTransports): Promise<void> {
  const plane = await startTlsPlane(t);
  try {
    assert.equal(await plane.query("hello"), 42n);
    assert.equal(await plane.query("world"), 7n);
  } finally {
    await plane.close();
  }
}

const mutual = serving({ ...pems.server, clientCa: pems.ca });
const withCert = dialling({ ca: pems.ca, ...pems.client });

test("TLS plane under Node: TLS on every hop", () =>
  roundTrip({
    server: serving(pems.server),
    proxy: serving(pems.server),
    upstream: dialling({ ca: pems.ca }),
    client: dialling({ ca: pems.ca }),
  }));

test("TLS plane under Node: TLS to the proxy, plaintext to the state server", () =>
  roundTrip({
    server: nodeTransport,
    proxy: serving(pems.server),
    upstream: nodeTransport,
    client: dialling({ ca: pems.ca }),
  }));

test("TLS plane under Node: mutual TLS on every hop", () =>
  roundTrip({ server: mutual, proxy: mutual, upstream: withCert, client: withCert }));

test("TLS plane under Node: no client certificate at a mutual-TLS proxy fails with TlsError", async () => {
  const plane = await startTlsPlane({
    server: nodeTransport,
    proxy: mutual,
    upstream: nodeTransport,
    client: dialling({ ca: pems.ca }),
  });
  try {
    await assert.rejects(plane.query(), (e: unknown) => {
      assert.ok(e instanceof TlsError && e instanceof ConnectError, String(e));
      assert.match(e.message, /certificate required/i);
      return true;
    });
  } finally {
    await plane.close();
  }
});

test("TLS plane under Node: an expired state server certificate: the proxy's failure names it", async () => {
  const plane = await startTlsPlane({
    server: serving(pems.expired),
    proxy: nodeTransport,
    upstream: dialling({ ca: pems.ca }),
    client: nodeTransport,
  });
  try {
    await assert.rejects(plane.query(), (e: unknown) => {
      assert.ok(e instanceof RemoteError, String(e));
      assert.match(e.message, /javax\.net\.ssl\.SSLHandshakeException/);
      assert.match(e.message, /certificate has expired/);
      return true;
    });
  } finally {
    await plane.close();
  }
});

test("node transport: unusable PEM text is a TypeError (constructor for connectTls, listen for listenTls)", async () => {
  assert.throws(
    () =>
      new NodeTransport({
        connectTls: { ca: pems.ca, cert: pems.client.cert, key: pems.server.key },
      }),
    TypeError,
  );
  await assert.rejects(
    new NodeTransport({ listenTls: { cert: "not a certificate", key: pems.server.key } }).listen({
      hostname: HOST,
      port: 0,
    }),
    TypeError,
  );
});

test("node transport: out of file descriptors, accepting neither spins nor hangs, and goes on", async () => {
  const self = fileURLToPath(import.meta.url);
  const child = spawn("sh", ["-c", 'ulimit -n 128 && exec "$0" "$1"', process.execPath, self], {
    env: { ...process.env, KVSTATE_EMFILE_CHILD: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => out += d);
  child.stderr.on("data", (d) => err += d);
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  assert.equal(code, 0, `child: ${out}${err}`);
  const report: EmfileReport = JSON.parse(out.trim().split("\n").pop()!);
  assert.ok(report.filled > 0);
  // libuv copes with EMFILE itself (it closes the connection it cannot take,
  // reporting nothing); when Node does report a failure, accept() rejects.
  if (report.firstAccept === "pending") assert.equal(report.peer, "closed");
  else assert.equal(report.firstAccept, "rejected EMFILE");
  assert.equal(report.afterFreeing, "accepted");
});

test("node transport: an accept failure Node reports rejects accept(); the listener goes on", async () => {
  const original = Server.prototype.listen;
  let server: Server | undefined;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    server = this;
    return (original as (...a: unknown[]) => Server).apply(this, args);
  } as typeof original;
  let listener;
  try {
    listener = await nodeTransport.listen({ hostname: HOST, port: 0 });
  } finally {
    Server.prototype.listen = original;
  }
  try {
    const pending = listener.accept();
    server!.emit("error", Object.assign(new Error("accept EMFILE"), { code: "EMFILE" }));
    await assert.rejects(pending, /EMFILE/);
    const next = listener.accept();
    const client = await nodeTransport.connect({ hostname: HOST, port: listener.address.port });
    const conn = await next;
    assert.ok(conn !== null);
    await client.close();
    await conn.close();
  } finally {
    await listener.close();
  }
});
