/**
 * The examples as a new user runs them: real processes, real sockets.
 */
import { assert, assertEquals } from "./_assert.ts";
import {
  JOB,
  type Listening,
  NET,
  query,
  run,
  startListening,
  startServer,
  stopClean,
} from "./_examples.ts";

Deno.test("examples: proxy demo, then the client command it prints", async () => {
  const proxy = await startListening([NET], "examples/proxy.ts");
  const { address } = proxy;
  try {
    const hint = await proxy.waitFor(/examples\/client\.ts (.*)$/);
    const args = hint[1].split(" ");
    assertEquals(args[args.indexOf("--proxy") + 1], address);
    const value = await run([NET, "examples/client.ts", ...args]);
    assertEquals(value.stdout.trim(), "42", value.stderr);
    assertEquals(value.code, 0);
    const list = await query(
      address,
      JOB,
      "--state recent-events --key-type int --key 1 --value-type string --state-kind list",
    );
    assertEquals(list.stdout.trim(), `["login","view","logout"]`, list.stderr);
    const map = await query(
      address,
      JOB,
      "--state user-prefs --key-type long --key 7 --map-key-type string --value-type double --state-kind map",
    );
    assertEquals(map.stdout.trim(), `[["volume",0.8],["speed",1.25],["theme",null]]`, map.stderr);
    const big = await query(
      address,
      JOB,
      "--state word-counts --key-type string --key world --value-type long",
    );
    assertEquals(big.stdout.trim(), "9007199254740993", "longs beyond 2^53 survive");
    const missing = await query(
      address,
      JOB,
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
    // The proxy's "Failed request N." RuntimeException, shown as the cause it names.
    assert(
      noJob.stderr.startsWith(
        "org.apache.flink.queryablestate.exceptions.UnknownLocationException: Could not retrieve location of state=word-counts of job=00000000000000000000000000000001.",
      ),
      noJob.stderr,
    );
  } finally {
    await stopClean(proxy, "SIGINT");
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
      jobId: JOB,
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
  let server: Listening | undefined;
  let proxy: Listening | undefined;
  try {
    server = await startServer([NET, `--allow-read=${data}`], locations, ["--data", data]);
    const doc = JSON.parse(await Deno.readTextFile(locations));
    assertEquals(doc.jobs[0].states.length, 4);
    assertEquals(doc.jobs[0].states[0].keyGroups, [{
      start: 0,
      end: 127,
      kvStateId: "2122232425262728313233343536373a",
      address: doc.jobs[0].states[0].keyGroups[0].address,
    }]);
    proxy = await startListening([NET, `--allow-read=${locations}`], "examples/proxy.ts", [
      "--locations",
      locations,
    ]);
    const { address } = proxy;
    const q = (args: string) => query(address, JOB, args);
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
    if (proxy) await stopClean(proxy);
    if (server) await stopClean(server);
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
        jobId: JOB,
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
          jobId: JOB,
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
