/**
 * The examples with their TLS flags, as a user runs them: real processes,
 * real sockets, certificates made by `openssl` at test time (ignored,
 * saying so, without it).
 */
import { assert, assertEquals } from "./_assert.ts";
import { hasOpenssl, makeCerts, sayWhenIgnored } from "./transport/_tls_certs.ts";

sayWhenIgnored("examples_tls_test");

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const decoder = new TextDecoder();

interface Running {
  lines: string[];
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  stop(): Promise<Deno.CommandStatus>;
}

function start(args: string[]): Running {
  const child = new Deno.Command(DENO, {
    args: ["run", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    if (buf) lines.push(buf);
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    lines,
    async waitFor(re, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        for (const l of lines) {
          const m = l.match(re);
          if (m) return m;
        }
        if (exited || Date.now() > deadline) {
          throw new Error(`no line matching ${re} (exited: ${exited}):\n${lines.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
      }
      const s = await status;
      await pumps;
      return s;
    },
  };
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(DENO, {
    args: ["run", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test({
  name:
    "examples over TLS: server with mutual TLS, proxy with TLS on both sides, client with a certificate",
  ignore: !hasOpenssl,
  async fn() {
    const c = await makeCerts();
    const locations = `${c.dir}/locations.json`;
    const perms = ["--allow-net=127.0.0.1", `--allow-read=${c.dir}`];
    const server = start([
      ...perms,
      `--allow-write=${locations}`,
      "examples/server.ts",
      "--port",
      "0",
      "--write-locations",
      locations,
      "--tls-cert",
      c.server.certFile,
      "--tls-key",
      c.server.keyFile,
      "--tls-client-ca",
      c.caFile,
    ]);
    let proxy: Running | undefined;
    try {
      await server.waitFor(/^listening on /);
      await server.waitFor(/^TLS: serving .*client certificates .* required \(Node adapter\)$/);
      proxy = start([
        ...perms,
        "examples/proxy.ts",
        "--port",
        "0",
        "--locations",
        locations,
        "--tls-cert",
        c.server.certFile,
        "--tls-key",
        c.server.keyFile,
        "--tls-client-ca",
        c.caFile,
        "--upstream-tls-ca",
        c.caFile,
        "--upstream-tls-cert",
        c.client.certFile,
        "--upstream-tls-key",
        c.client.keyFile,
      ]);
      const [, address] = await proxy.waitFor(/^listening on (\S+)$/);
      await proxy.waitFor(/^TLS upstream: trusting .*ca\.crt, presenting .*client\.crt$/);
      const query = (tls: string[], key = "hello") =>
        run([
          ...perms,
          "examples/client.ts",
          "--proxy",
          address,
          "--job",
          JOB,
          ...`--state word-counts --key-type string --key ${key} --value-type long`.split(" "),
          ...tls,
        ]);
      const withCert = ["--tls-ca", c.caFile, "--tls-cert", c.client.certFile];
      withCert.push("--tls-key", c.client.keyFile);
      const ok = await query(withCert);
      assertEquals(ok.stdout.trim(), "42", ok.stderr);
      assertEquals(ok.code, 0);
      const big = await query(withCert, "world");
      assertEquals(big.stdout.trim(), "9007199254740993", big.stderr);

      // No client certificate: the proxy's "certificate required" alert.
      const noCert = await query(["--tls-ca", c.caFile]);
      assertEquals(noCert.code, 1);
      assert(noCert.stderr.startsWith("javax.net.ssl.SSLHandshakeException: "), noCert.stderr);
      assert(/certificate ?required/i.test(noCert.stderr), noCert.stderr);

      // Trusting another CA: the proxy's certificate is refused.
      const wrongCa = await query(["--tls-ca", c.otherCaFile, ...withCert.slice(2)]);
      assertEquals(wrongCa.code, 1);
      assert(wrongCa.stderr.startsWith("javax.net.ssl.SSLHandshakeException: "), wrongCa.stderr);
      assert(wrongCa.stderr.includes("UnknownIssuer"), wrongCa.stderr);
    } finally {
      if (proxy) assertEquals((await proxy.stop()).code, 0, proxy.lines.join("\n"));
      assertEquals((await server.stop()).code, 0, server.lines.join("\n"));
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
    const proxy = start([
      ...perms,
      "examples/proxy.ts",
      "--port",
      "0",
      "--tls-cert",
      c.server.certFile,
      "--tls-key",
      c.server.keyFile,
    ]);
    try {
      const [, address] = await proxy.waitFor(/^listening on (\S+)$/);
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
      assertEquals((await proxy.stop()).code, 0, proxy.lines.join("\n"));
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
