/**
 * The examples as a new user runs them: real processes, real sockets.
 */
import { assert, assertEquals } from "./_assert.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();

interface Running {
  child: Deno.ChildProcess;
  lines: string[];
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
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
  const waiters: Array<() => void> = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        for (const w of waiters.splice(0)) w();
      }
    }
    if (buf) lines.push(buf);
    for (const w of waiters.splice(0)) w();
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    child,
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
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
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

const NET = "--allow-net=127.0.0.1";

/** Runs examples/client.ts against a proxy; `args` is the rest of the command line, space-separated. */
function query(address: string, job: string, args: string) {
  return run([NET, "examples/client.ts", "--proxy", address, "--job", job, ...args.split(" ")]);
}

Deno.test("examples: proxy demo, then the client command it prints", async () => {
  const proxy = start([NET, "examples/proxy.ts", "--port", "0"]);
  try {
    const [, address] = await proxy.waitFor(/^listening on (\S+)$/);
    const hint = await proxy.waitFor(/examples\/client\.ts (.*)$/);
    const args = hint[1].split(" ");
    assertEquals(args[args.indexOf("--proxy") + 1], address);
    const value = await run([NET, "examples/client.ts", ...args]);
    assertEquals(value.stdout.trim(), "42", value.stderr);
    assertEquals(value.code, 0);
    const list = await query(
      address,
      "0102030405060708a1a2a3a4a5a6a7a8",
      "--state recent-events --key-type int --key 1 --value-type string --state-kind list",
    );
    assertEquals(list.stdout.trim(), `["login","view","logout"]`, list.stderr);
    const map = await query(
      address,
      "0102030405060708a1a2a3a4a5a6a7a8",
      "--state user-prefs --key-type long --key 7 --map-key-type string --value-type double --state-kind map",
    );
    assertEquals(map.stdout.trim(), `[["volume",0.8],["speed",1.25],["theme",null]]`, map.stderr);
    const big = await query(
      address,
      "0102030405060708a1a2a3a4a5a6a7a8",
      "--state word-counts --key-type string --key world --value-type long",
    );
    assertEquals(big.stdout.trim(), "9007199254740993", "longs beyond 2^53 survive");
    const missing = await query(
      address,
      "0102030405060708a1a2a3a4a5a6a7a8",
      "--state word-counts --key-type string --key nope --value-type long",
    );
    assertEquals(missing.code, 1);
    assertEquals(
      missing.stderr.trim(),
      "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException: Queryable State Server : No state for the specified key/namespace.",
    );
    const noJob = await query(
      address,
      "00000000000000000000000000000001",
      "--state word-counts --key-type string --key hello --value-type long",
    );
    assertEquals(noJob.code, 1);
    assert(noJob.stderr.startsWith("java.lang.RuntimeException: Failed request "), noJob.stderr);
    assert(noJob.stderr.includes("UnknownLocationException"), noJob.stderr);
  } finally {
    const status = await proxy.stop("SIGINT");
    assertEquals(status.code, 0, proxy.lines.join("\n"));
  }
  assert(proxy.lines.some((l) => l.includes("SIGINT: shutting down")));
});

Deno.test("examples: server --write-locations, proxy --locations, client", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/fixtures.json`;
  const locations = `${dir}/locations.json`;
  await Deno.writeTextFile(
    data,
    JSON.stringify({
      jobId: "0102030405060708a1a2a3a4a5a6a7a8",
      states: [
        {
          name: "word-counts",
          kvStateId: "2122232425262728313233343536373a",
          keyType: "string",
          valueType: "long",
          stateKind: "value",
          numKeyGroups: 128,
          entries: [["hello", 42], ["world", "9007199254740993"]],
        },
        { name: "flags", keyType: "bytes", valueType: "boolean", entries: [["cafe", true]] },
        {
          name: "tags",
          keyType: "long",
          valueType: "string",
          stateKind: "list",
          entries: [[5, ["a", "b"]]],
        },
        {
          name: "scores",
          keyType: "string",
          mapKeyType: "int",
          valueType: "double",
          stateKind: "map",
          entries: [["x", [[1, 2.5], [2, null]]]],
        },
      ],
    }),
  );
  const server = start([
    NET,
    `--allow-read=${data}`,
    `--allow-write=${locations}`,
    "examples/server.ts",
    "--data",
    data,
    "--port",
    "0",
    "--write-locations",
    locations,
  ]);
  let proxy: Running | undefined;
  try {
    await server.waitFor(/^listening on /);
    const doc = JSON.parse(await Deno.readTextFile(locations));
    assertEquals(doc.jobs[0].states.length, 4);
    assertEquals(doc.jobs[0].states[0].keyGroups, [{
      start: 0,
      end: 127,
      kvStateId: "2122232425262728313233343536373a",
      address: doc.jobs[0].states[0].keyGroups[0].address,
    }]);
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
    const q = (args: string) => query(address, "0102030405060708a1a2a3a4a5a6a7a8", args);
    assertEquals(
      (await q("--state word-counts --key-type string --key hello --value-type long")).stdout
        .trim(),
      "42",
    );
    assertEquals(
      (await q("--state flags --key-type bytes --key CAFE --value-type boolean")).stdout.trim(),
      "true",
    );
    assertEquals(
      (await q("--state tags --key-type long --key 5 --value-type string --state-kind list")).stdout
        .trim(),
      `["a","b"]`,
    );
    assertEquals(
      (await q(
        "--state scores --key-type string --key x --map-key-type int --value-type double --state-kind map",
      )).stdout.trim(),
      `[[1,2.5],[2,null]]`,
    );
  } finally {
    if (proxy) assertEquals((await proxy.stop()).code, 0, proxy.lines.join("\n"));
    assertEquals((await server.stop()).code, 0, server.lines.join("\n"));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples: bad input is rejected with a message naming the field", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/bad.json`;
    await Deno.writeTextFile(
      data,
      JSON.stringify({
        jobId: "0102030405060708a1a2a3a4a5a6a7a8",
        states: [{ name: "s", keyType: "string", valueType: "long", entries: [["a", "x"]] }],
      }),
    );
    const s = await run([NET, `--allow-read=${data}`, "examples/server.ts", "--data", data]);
    assertEquals(s.code, 2);
    assert(s.stderr.includes("states[0].entries[0][1]"), s.stderr);
    const loc = `${dir}/loc.json`;
    await Deno.writeTextFile(
      loc,
      JSON.stringify({
        jobs: [{
          jobId: "0102030405060708a1a2a3a4a5a6a7a8",
          states: [{
            name: "s",
            numKeyGroups: 4,
            keyGroups: [{ start: 0, end: 9, kvStateId: "00".repeat(16), address: "127.0.0.1:1" }],
          }],
        }],
      }),
    );
    const p = await run([NET, `--allow-read=${loc}`, "examples/proxy.ts", "--locations", loc]);
    assertEquals(p.code, 2);
    assert(p.stderr.includes("jobs[0].states[0].keyGroups[0].end"), p.stderr);
    const c = await run([
      NET,
      "examples/client.ts",
      "--proxy",
      "127.0.0.1:1",
      "--job",
      "xyz",
      "--state",
      "s",
      "--key-type",
      "string",
      "--key",
      "k",
      "--value-type",
      "long",
    ]);
    assertEquals(c.code, 1);
    assert(c.stderr.includes("JobID"), c.stderr);
    const flags = await run([NET, "examples/client.ts", "--what"]);
    assertEquals(flags.code, 2);
    assert(flags.stderr.includes("unknown flag --what"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
