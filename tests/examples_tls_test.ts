/**
 * The examples with their TLS flags, as a user runs them: real processes,
 * real sockets, certificates made by `openssl` at test time (ignored,
 * saying so, without it).
 */
import { assert, assertEquals } from "./_assert.ts";
import {
  JOB,
  type Listening,
  query,
  run,
  startListening,
  startServer,
  stopClean,
} from "./_examples.ts";
import { hasOpenssl, makeCerts, sayWhenIgnored, type TlsFixture } from "./transport/_tls_certs.ts";

sayWhenIgnored("examples_tls_test");

/** The flags that make an example serve TLS with the server certificate. */
const serveTls = (
  c: TlsFixture,
): string[] => ["--tls-cert", c.server.certFile, "--tls-key", c.server.keyFile];

Deno.test({
  name:
    "examples over TLS: server with mutual TLS, proxy with TLS on both sides, client with a certificate",
  ignore: !hasOpenssl,
  async fn() {
    const c = await makeCerts();
    const locations = `${c.dir}/locations.json`;
    const perms = ["--allow-net=127.0.0.1", `--allow-read=${c.dir}`];
    let server: Listening | undefined;
    let proxy: Listening | undefined;
    try {
      server = await startServer(perms, locations, [...serveTls(c), "--tls-client-ca", c.caFile]);
      await server.waitFor(/^TLS: serving .*client certificates .* required \(Node adapter\)$/);
      proxy = await startListening(perms, "examples/proxy.ts", [
        "--locations",
        locations,
        ...serveTls(c),
        "--tls-client-ca",
        c.caFile,
        "--upstream-tls-ca",
        c.caFile,
        "--upstream-tls-cert",
        c.client.certFile,
        "--upstream-tls-key",
        c.client.keyFile,
      ]);
      const { address } = proxy;
      await proxy.waitFor(/^TLS upstream: trusting .*ca\.crt, presenting .*client\.crt$/);
      const ask = (tls: string[], key = "hello") =>
        query(
          address,
          JOB,
          `--state word-counts --key-type string --key ${key} --value-type long`,
          tls,
          perms,
        );
      const withCert = ["--tls-ca", c.caFile, "--tls-cert", c.client.certFile];
      withCert.push("--tls-key", c.client.keyFile);
      const ok = await ask(withCert);
      assertEquals(ok.stdout.trim(), "42", ok.stderr);
      assertEquals(ok.code, 0);
      const big = await ask(withCert, "world");
      assertEquals(big.stdout.trim(), "9007199254740993", big.stderr);

      // No client certificate: the proxy's "certificate required" alert.
      const noCert = await ask(["--tls-ca", c.caFile]);
      assertEquals(noCert.code, 1);
      assert(noCert.stderr.startsWith("javax.net.ssl.SSLHandshakeException: "), noCert.stderr);
      assert(/certificate ?required/i.test(noCert.stderr), noCert.stderr);

      // Trusting another CA: the proxy's certificate is refused.
      const wrongCa = await ask(["--tls-ca", c.otherCaFile, ...withCert.slice(2)]);
      assertEquals(wrongCa.code, 1);
      assert(wrongCa.stderr.startsWith("javax.net.ssl.SSLHandshakeException: "), wrongCa.stderr);
      assert(wrongCa.stderr.includes("UnknownIssuer"), wrongCa.stderr);
    } finally {
      if (proxy) await stopClean(proxy);
      if (server) await stopClean(server);
    }
  },
});

Deno.test({
  name:
    "examples over TLS: the demo proxy serving TLS (plaintext to its state server), a client with --tls-ca",
  ignore: !hasOpenssl,
  async fn() {
    const c = await makeCerts();
    const perms = ["--allow-net=127.0.0.1", `--allow-read=${c.dir}`];
    const proxy = await startListening(perms, "examples/proxy.ts", serveTls(c));
    try {
      const { address } = proxy;
      await proxy.waitFor(/over TLS: add --tls-ca/);
      const hint = await proxy.waitFor(/examples\/client\.ts (.*)$/);
      const value = await run([
        ...perms,
        "examples/client.ts",
        ...hint[1].split(" "),
        "--tls-ca",
        c.caFile,
      ]);
      assertEquals(value.stdout.trim(), "42", value.stderr);
      // A plaintext client gets a clear failure and no hang.
      const plain = await run([...perms, "examples/client.ts", ...hint[1].split(" ")]);
      assertEquals(plain.code, 1, plain.stdout);
      assert(plain.stderr.length > 0);
      assert(hint[1].includes(`--proxy ${address}`), hint[1]);
    } finally {
      await stopClean(proxy);
    }
  },
});

Deno.test({
  name: "examples: TLS flags that do not fit are usage errors (exit 2)",
  ignore: !hasOpenssl,
  async fn() {
    const c = await makeCerts();
    const perms = ["--allow-net=127.0.0.1", `--allow-read=${c.dir}`];
    const certOnly = await run([
      ...perms,
      "examples/server.ts",
      "--tls-cert",
      c.server.certFile,
    ]);
    assertEquals(certOnly.code, 2);
    assert(certOnly.stderr.includes("--tls-cert and --tls-key go together"), certOnly.stderr);
    assert(certOnly.stderr.includes("usage: server.ts"), certOnly.stderr);

    const upstreamWithoutLocations = await run([
      ...perms,
      "examples/proxy.ts",
      "--upstream-tls-ca",
      c.caFile,
    ]);
    assertEquals(upstreamWithoutLocations.code, 2);
    assert(upstreamWithoutLocations.stderr.includes("need --locations"));

    const missing = await run([
      ...perms,
      "examples/client.ts",
      ...`--proxy 127.0.0.1:1 --job ${JOB} --state s --key-type string --key k --value-type long`
        .split(" "),
      "--tls-ca",
      `${c.dir}/no-such.crt`,
    ]);
    assertEquals(missing.code, 2);
    assert(missing.stderr.includes(`--tls-ca ${c.dir}/no-such.crt: cannot read it`));

    const badCert = await run([
      ...perms,
      "examples/server.ts",
      "--tls-cert",
      c.caFile,
      "--tls-key",
      c.client.keyFile,
    ]);
    assertEquals(badCert.code, 1, badCert.stdout + badCert.stderr);
    assert(badCert.stderr.includes("listenTls: unusable certificate or key"), badCert.stderr);
  },
});
