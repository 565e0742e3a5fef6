/**
 * The examples' `--allow FILE`: real processes, real sockets. A bad file is a
 * usage error naming the line; a good one lets through what it lists and
 * refuses the rest with Flink's BadRequestException.
 */
import { assert, assertEquals } from "./_assert.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const NET = "--allow-net=127.0.0.1";
const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const BAD_REQUEST = "org.apache.flink.queryablestate.network.BadRequestException";

interface Running {
  lines: string[];
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  stop(): Promise<Deno.CommandStatus>;
}

/** Starts an example; its output lines are collected as they come. */
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
          throw new Error(
            `no line matching ${re} (exited: ${exited}); output:\n${lines.join("\n")}`,
          );
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
  })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** examples/client.ts against a proxy; `args` space-separated. */
function query(address: string, args: string) {
  return run([NET, "examples/client.ts", "--proxy", address, "--job", JOB, ...args.split(" ")]);
}

const WORD_COUNTS = "--state word-counts --key-type string --key hello --value-type long";
const EVENTS = "--state recent-events --key-type int --key 1 --value-type string --state-kind list";

/** A refusal as the client example prints it: Flink's class, then a message naming it. */
function assertRefusal(r: { code: number; stderr: string }, server: string) {
  assertEquals(r.code, 1, r.stderr);
  const text = r.stderr.trim();
  assert(text.startsWith(`${BAD_REQUEST}: ${server} : Access denied: request `), text);
}

Deno.test("examples --allow: a bad or missing file is a usage error naming the line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = `${dir}/allow.txt`;
    await Deno.writeTextFile(
      bad,
      `# allow list\njob * state * from 127.0.0.1\n\njob * state * from 10.0.0.0/40\n`,
    );
    for (const example of ["examples/server.ts", "examples/proxy.ts"]) {
      const r = await run([NET, `--allow-read=${dir}`, example, "--port", "0", "--allow", bad]);
      assertEquals(r.code, 2, `${example}: ${r.stderr}`);
      assert(
        r.stderr.includes(`--allow ${bad}: Access rules line 4: from: Not an address block`),
        r.stderr,
      );
      assert(r.stderr.includes("the prefix length must be 0..32"), r.stderr);
      assert(r.stderr.includes("[--allow FILE]"), "the usage text names the flag");
      const missing = await run([
        NET,
        `--allow-read=${dir}`,
        example,
        "--port",
        "0",
        "--allow",
        `${dir}/nope.txt`,
      ]);
      assertEquals(missing.code, 2, missing.stderr);
      assert(missing.stderr.includes(`--allow ${dir}/nope.txt: cannot read it`), missing.stderr);
      const noValue = await run([NET, example, "--port", "0", "--allow"]);
      assertEquals(noValue.code, 2);
      assert(noValue.stderr.includes("--allow needs a value"), noValue.stderr);
    }
    const help = await run([NET, "examples/proxy.ts", "--help"]);
    assert(help.stdout.includes("[--allow FILE]"), help.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples --allow: the proxy demo answers the listed state and refuses the others", async () => {
  const dir = await Deno.makeTempDir();
  const allow = `${dir}/allow.txt`;
  await Deno.writeTextFile(allow, `job ${JOB}  state word-counts  from 127.0.0.0/8\n`);
  const proxy = start([
    NET,
    `--allow-read=${allow}`,
    "examples/proxy.ts",
    "--port",
    "0",
    "--allow",
    allow,
  ]);
  try {
    const [, address] = await proxy.waitFor(/^listening on (\S+)$/);
    await proxy.waitFor(new RegExp(`^allowing 1 rule from ${allow}$`));
    const ok = await query(address, WORD_COUNTS);
    assertEquals(ok.stdout.trim(), "42", ok.stderr);
    assertRefusal(await query(address, EVENTS), "Queryable State Proxy Server");
  } finally {
    assertEquals((await proxy.stop()).code, 0, proxy.lines.join("\n"));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples --allow: the state server refuses by state name; the open proxy relays it", async () => {
  const dir = await Deno.makeTempDir();
  const allow = `${dir}/allow.txt`;
  const locations = `${dir}/locations.json`;
  // The proxy is the state server's peer: rules name it by address.
  await Deno.writeTextFile(
    allow,
    `# the proxy may read the counts\nstate word-counts  from 127.0.0.1  job ${JOB}\n`,
  );
  const server = start([
    NET,
    `--allow-read=${allow}`,
    `--allow-write=${locations}`,
    "examples/server.ts",
    "--port",
    "0",
    "--write-locations",
    locations,
    "--allow",
    allow,
  ]);
  let proxy: Running | undefined;
  try {
    await server.waitFor(/^listening on /);
    await server.waitFor(new RegExp(`^allowing 1 rule from ${allow}$`));
    proxy = start([
      NET,
      `--allow-read=${locations}`,
      "examples/proxy.ts",
      "--locations",
      locations,
      "--port",
      "0",
    ]);
    const [, address] = await proxy.waitFor(/^listening on (\S+)$/);
    const ok = await query(address, WORD_COUNTS);
    assertEquals(ok.stdout.trim(), "42", ok.stderr);
    const refused = await query(address, EVENTS);
    assertRefusal(refused, "Queryable State Server"); // the state server's, relayed
    assert(refused.stderr.includes(`for job ${JOB} state "recent-events"`), refused.stderr);
  } finally {
    if (proxy) assertEquals((await proxy.stop()).code, 0, proxy.lines.join("\n"));
    assertEquals((await server.stop()).code, 0, server.lines.join("\n"));
    await Deno.remove(dir, { recursive: true });
  }
});
