/**
 * The examples' `--allow FILE`: real processes, real sockets. A bad file is a
 * usage error naming the line; a good one lets through what it lists and
 * refuses the rest with Flink's BadRequestException.
 */
import { assert, assertEquals } from "./_assert.ts";
import {
  JOB,
  type Listening,
  NET,
  query,
  type Ran,
  run,
  startListening,
  startServer,
  stopClean,
} from "./_examples.ts";

const BAD_REQUEST = "org.apache.flink.queryablestate.network.BadRequestException";

/** examples/client.ts against a proxy for the demo job; `args` space-separated. */
const ask = (address: string, args: string) => query(address, JOB, args);

const WORD_COUNTS = "--state word-counts --key-type string --key hello --value-type long";
const EVENTS = "--state recent-events --key-type int --key 1 --value-type string --state-kind list";

/** A refusal as the client example prints it: Flink's class, then a message naming it. */
function assertRefusal(r: Ran, server: string) {
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
  let proxy: Listening | undefined;
  try {
    proxy = await startListening([NET, `--allow-read=${allow}`], "examples/proxy.ts", [
      "--allow",
      allow,
    ]);
    const { address } = proxy;
    await proxy.waitFor(new RegExp(`^allowing 1 rule from ${allow}$`));
    const ok = await ask(address, WORD_COUNTS);
    assertEquals(ok.stdout.trim(), "42", ok.stderr);
    assertRefusal(await ask(address, EVENTS), "Queryable State Proxy Server");
  } finally {
    if (proxy) await stopClean(proxy);
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
  let server: Listening | undefined;
  let proxy: Listening | undefined;
  try {
    server = await startServer([NET, `--allow-read=${allow}`], locations, ["--allow", allow]);
    await server.waitFor(new RegExp(`^allowing 1 rule from ${allow}$`));
    proxy = await startListening([NET, `--allow-read=${locations}`], "examples/proxy.ts", [
      "--locations",
      locations,
    ]);
    const { address } = proxy;
    const ok = await ask(address, WORD_COUNTS);
    assertEquals(ok.stdout.trim(), "42", ok.stderr);
    const refused = await ask(address, EVENTS);
    assertRefusal(refused, "Queryable State Server"); // the state server's, relayed
    assert(refused.stderr.includes(`for job ${JOB} state "recent-events"`), refused.stderr);
  } finally {
    if (proxy) await stopClean(proxy);
    if (server) await stopClean(server);
    await Deno.remove(dir, { recursive: true });
  }
});
