/**
 * The CLI as a user runs it (`deno run -A src/cli/mod.ts ...`): help,
 * version, the demo proxy answering a query, flags from the environment and
 * a config file, and SIGHUP reloads accepted and rejected. Real processes,
 * real sockets on 127.0.0.1, every wait bounded, stopped by pid.
 */
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";
import {
  BadRequestError,
  parseAddress,
  QueryableStateClient,
  QueryableStateError,
  UnknownLocationError,
} from "../../mod.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { type CliProcess, runCli, startCli } from "./_process.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const WORD_COUNTS = { keyType: "string", valueType: "long", timeoutMs: 10_000 } as const;

async function listening(p: CliProcess): Promise<string> {
  return (await p.waitFor("stdout", /^listening on (\S+)$/))[1];
}

/** Queries word-counts/hello through the proxy at `address`. */
async function hello(address: string): Promise<bigint> {
  await using client = new QueryableStateClient({
    transport: denoTransport,
    proxy: parseAddress(address),
  });
  return await client.getKvState(JOB, "word-counts", "hello", WORD_COUNTS) as bigint;
}

Deno.test("cli process: --help, help <command>, --version, unknown commands", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const version = await runCli(["--version"]);
  assertEquals([version.code, version.stdout], [0, `${denoJson.version}\n`]);
  const proxyVersion = await runCli(["proxy", "--version"]);
  assertEquals(proxyVersion.stdout, `${denoJson.version}\n`);

  const help = await runCli(["--help"]);
  assertEquals(help.code, 0, help.stderr);
  for (const c of ["proxy", "server", "client"]) {
    assert(help.stdout.includes(`usage: queryable-state ${c} `), c);
  }
  assert(help.stdout.includes("default: 9069-9079; env: QS_PORT"), help.stdout);

  const helpProxy = await runCli(["help", "proxy"]);
  assertEquals(helpProxy.code, 0);
  assert(helpProxy.stdout.startsWith("usage: queryable-state proxy [--locations FILE|URL]"));
  assert(helpProxy.stdout.includes("env: QS_LOCATIONS"), helpProxy.stdout);
  const proxyHelp = await runCli(["proxy", "--help"]);
  assertEquals(proxyHelp.stdout, helpProxy.stdout);

  const unknown = await runCli(["proxi"]);
  assertEquals(unknown.code, 2);
  assert(unknown.stderr.includes('unknown command "proxi"; commands: proxy, server, client'));
  const badFlag = await runCli(["server", "--prot", "1"]);
  assertEquals(badFlag.code, 2);
  assert(badFlag.stderr.startsWith("unknown flag --prot\nusage: queryable-state server"));
});

Deno.test("cli process: the demo proxy answers the query it prints", async () => {
  const proxy = startCli(["proxy", "--port", "0"]);
  try {
    const address = await listening(proxy);
    const [, hint] = await proxy.waitFor("stdout", /\/cli client (.*)$/);
    assert(
      proxy.stdout.some((l) =>
        l.includes("deno run --allow-net=127.0.0.1 jsr:@kvstate/queryable-state@")
      ),
      proxy.stdout.join("\n"),
    );
    const args = hint.split(" ");
    assertEquals(args[args.indexOf("--proxy") + 1], address);
    const client = await runCli(["client", ...args]);
    assertEquals([client.code, client.stdout.trim()], [0, "42"], client.stderr);
    assertEquals(await hello(address), 42n);
  } finally {
    const status = await proxy.stop();
    assertEquals(status.code, 0, proxy.stderr.join("\n"));
  }
  assert(proxy.stdout.includes("SIGTERM: shutting down"));
});

Deno.test("cli process: flags from QS_* variables and --config, the flag winning", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/proxy.json`;
    // The config asks for a port that cannot be bound; the variable overrides it.
    await Deno.writeTextFile(config, JSON.stringify({ port: "not-a-port", retries: 1 }));
    const proxy = startCli(["proxy", "--config", config], { QS_PORT: "0" });
    try {
      const address = await listening(proxy);
      assertEquals(await hello(address), 42n);
    } finally {
      assertEquals((await proxy.stop()).code, 0);
    }
    // QS_CONFIG names the file; a bad key in it is a usage error naming it.
    await Deno.writeTextFile(config, JSON.stringify({ port: 0, retires: 1 }));
    const bad = await runCli(["proxy"], { QS_CONFIG: config });
    assertEquals(bad.code, 2);
    assert(bad.stderr.startsWith(`${config}: unknown key "retires"`), bad.stderr);
    // A bad variable names itself, even when a flag overrides it.
    const badEnv = await runCli(["proxy", "--retries", "1"], { QS_RETRIES: "many" });
    assertEquals(badEnv.code, 2);
    assert(badEnv.stderr.startsWith('QS_RETRIES must be a non-negative integer, got "many"'));
    // The flag beats the variable: QS_PORT is not a port, --port 0 is.
    const flagWins = startCli(["proxy", "--port", "0"], { QS_PORT: "not-a-port" });
    try {
      assertEquals(await hello(await listening(flagWins)), 42n);
    } finally {
      assertEquals((await flagWins.stop()).code, 0);
    }
    const missing = await runCli(["proxy", "--config", `${dir}/nope.json`]);
    assertEquals(missing.code, 2);
    assert(missing.stderr.startsWith(`--config ${dir}/nope.json: cannot read it`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli process: SIGHUP reloads --locations and --allow; a bad file keeps the old one", async () => {
  const dir = await Deno.makeTempDir();
  const locations = `${dir}/locations.json`;
  const allow = `${dir}/allow.txt`;
  let server: CliProcess | undefined;
  let proxy: CliProcess | undefined;
  try {
    server = startCli(["server", "--port", "0", "--write-locations", locations]);
    await listening(server);
    const good = await Deno.readTextFile(locations);
    await Deno.writeTextFile(allow, "job * state * from 127.0.0.1\n");
    proxy = startCli([
      "proxy",
      "--port",
      "0",
      "--locations",
      locations,
      "--allow",
      allow,
      "--log-format",
      "json",
    ]);
    const address = await listening(proxy);
    assert(proxy.stdout.includes(`allowing 1 rule from ${allow}`), proxy.stdout.join("\n"));
    assertEquals(await hello(address), 42n);

    // A bad locations file and a bad allow list: both rejected, both old ones kept.
    await Deno.writeTextFile(locations, `{"jobs": [{"jobId": "nope", "states": []}]}`);
    await Deno.writeTextFile(allow, "job * state * from 10.0.0.0/40\n");
    let err = proxy.stderr.length;
    proxy.signal("SIGHUP");
    const [badLocations] = await proxy.waitFor("stderr", /^SIGHUP: --locations .*/, err);
    assertEquals(
      badLocations,
      `SIGHUP: --locations ${locations}: Invalid locations: jobs[0].jobId: expected 32 hex ` +
        `characters, got "nope"; keeping the previous locations`,
    );
    const [badAllow] = await proxy.waitFor("stderr", /^SIGHUP: --allow .*/, err);
    assert(badAllow.includes(`--allow ${allow}: Access rules line 1`), badAllow);
    assert(badAllow.endsWith("; keeping the previous rules"), badAllow);
    // ... and each logged as a warning event.
    for (const flag of ["locations", "allow"]) {
      const [line] = await proxy.waitFor(
        "stderr",
        new RegExp(`^\\{.*"event":"config_reload_rejected","flag":"${flag}".*$`),
        err,
      );
      const event = JSON.parse(line);
      assertEquals(event.level, "warn");
      assert(event.message.startsWith(`--${flag} `), event.message);
    }
    assertEquals(await hello(address), 42n, "the old locations and rules still serve");

    // An allow list that no longer admits word-counts: accepted, and it bites.
    await Deno.writeTextFile(allow, "job * state recent-events from *\n");
    let out = proxy.stdout.length;
    proxy.signal("SIGHUP");
    await proxy.waitFor("stdout", new RegExp(`^SIGHUP: allowing 1 rule from ${allow}$`), out);
    const refused = await assertRejects(() => hello(address), BadRequestError);
    assert(refused.message.includes("Access denied"), refused.message);

    // Locations without the job: accepted, the job is gone.
    await Deno.writeTextFile(locations, `{"jobs": []}`);
    await Deno.writeTextFile(allow, "job * state * from *\n");
    out = proxy.stdout.length;
    proxy.signal("SIGHUP");
    await proxy.waitFor(
      "stdout",
      new RegExp(`^SIGHUP: reloaded --locations ${locations}: 0 jobs$`),
      out,
    );
    await proxy.waitFor("stdout", /^SIGHUP: allowing 1 rule from /, out);
    // Flink's proxy reports an unknown job as "Failed request N." caused by
    // UnknownLocationException; the client surfaces that cause, the proxy's error as its cause.
    const gone = await assertRejects(() => hello(address), UnknownLocationError);
    assert(gone.message.startsWith("Could not retrieve location"), `${gone.name}: ${gone.message}`);
    assertInstanceOf(gone.cause, QueryableStateError);
    assert(gone.cause.message.includes("UnknownLocationException"), gone.cause.message);

    // The good file again: served again.
    await Deno.writeTextFile(locations, good);
    out = proxy.stdout.length;
    err = proxy.stderr.length;
    proxy.signal("SIGHUP");
    await proxy.waitFor(
      "stdout",
      new RegExp(`^SIGHUP: reloaded --locations ${locations}: 1 job$`),
      out,
    );
    assertEquals(await hello(address), 42n);
    await proxy.waitFor("stderr", /"event":"config_reloaded","flag":"allow"/, err);
    // A good reload says nothing on stderr but its info events.
    assertEquals(
      proxy.stderr.slice(err).map((l) => {
        const { level, event, flag } = JSON.parse(l);
        return [level, event, flag];
      }),
      [["info", "config_reloaded", "locations"], ["info", "config_reloaded", "allow"]],
    );
  } finally {
    if (proxy) assertEquals((await proxy.stop()).code, 0, proxy.stderr.join("\n"));
    if (server) assertEquals((await server.stop()).code, 0, server.stderr.join("\n"));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli process: the server reloads --allow on SIGHUP", async () => {
  const dir = await Deno.makeTempDir();
  const allow = `${dir}/allow.txt`;
  await Deno.writeTextFile(allow, "job * state word-counts from *\n");
  const server = startCli(["server", "--port", "0", "--allow", allow]);
  try {
    const address = await listening(server);
    // The demo proxy's own state server is unfiltered; ask this one through a proxy over it.
    const locations = `${dir}/locations.json`;
    await Deno.writeTextFile(
      locations,
      JSON.stringify({
        jobs: [{
          jobId: JOB,
          states: [{
            name: "word-counts",
            numKeyGroups: 128,
            keyGroups: [{
              start: 0,
              end: 127,
              kvStateId: "2122232425262728313233343536373a",
              address,
            }],
          }],
        }],
      }),
    );
    const proxy = startCli(["proxy", "--port", "0", "--locations", locations]);
    try {
      const proxyAddress = await listening(proxy);
      assertEquals(await hello(proxyAddress), 42n);
      await Deno.writeTextFile(allow, "job * state nothing-else from *\n");
      const out = server.stdout.length;
      server.signal("SIGHUP");
      await server.waitFor("stdout", /^SIGHUP: allowing 1 rule from /, out);
      const e = await assertRejects(() => hello(proxyAddress), QueryableStateError);
      assertInstanceOf(e, QueryableStateError);
      assert(e.message.includes("Access denied"), e.message);
    } finally {
      assertEquals((await proxy.stop()).code, 0);
    }
  } finally {
    assertEquals((await server.stop()).code, 0, server.stderr.join("\n"));
    await Deno.remove(dir, { recursive: true });
  }
});
