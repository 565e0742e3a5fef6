/**
 * SIGHUP and a static upstream list from the `--config` file: the list is
 * read from the file again and given to the pool (`setMembers`); a file
 * without the list, a bad list or too many members change nothing; a list
 * from a flag or a variable is not reloaded. In process (the pool on a
 * memory transport, the file read by a stub), then as an operator runs it:
 * `proxy --config FILE` in front of two proxies of ours, the file rewritten,
 * SIGHUP, queries going to the new member.
 */

import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { GATEWAY_COMMAND, PROXY_COMMAND } from "../../src/cli/commands.ts";
import { CliUsageError, type FlagSources, resolveFlags } from "../../src/cli/flags.ts";
import {
  startUpstreamPool,
  type UpstreamChoice,
  upstreamChoice,
} from "../../src/cli/upstream_pool.ts";
import { MetricsRegistry } from "../../src/observability/registry.ts";
import { SILENT_LOGGER } from "../../src/observability/logger.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { formatAddress } from "../../src/oracle/locations_file.ts";
import { Plane, queryAll } from "../upstream/_members.ts";
import { startCli, stopCleanly } from "./_process.ts";

const proxyChoice = (sources: FlagSources) =>
  upstreamChoice(resolveFlags(PROXY_COMMAND.flags, sources), "upstream-proxies", ["locations"])!;

function startPool(choice: UpstreamChoice, readConfig?: (file: string) => Promise<unknown>) {
  return startUpstreamPool(choice, {
    transport: new MemoryTransport(),
    logger: SILENT_LOGGER,
    metrics: new MetricsRegistry(),
    role: "upstream",
    name: "test pool",
    readConfig,
  });
}

Deno.test("cli upstream config reload: SIGHUP's work reads the list from the config file again", async () => {
  let doc: unknown = { "upstream-proxies": "tm-1:9070,tm-2" };
  const read: string[] = [];
  const readConfig = (file: string) => {
    read.push(file);
    return Promise.resolve(doc);
  };
  const choice = proxyChoice({ args: ["--config", "p.json"], readConfig: () => doc });
  const up = await startPool(choice, readConfig);
  const addresses = () => up.pool.members.map((m) => (m.draining ? "-" : "") + m.address);
  try {
    assertEquals(up.reloads, "upstream-proxies");
    assertEquals(addresses(), ["tm-1:9070", "tm-2:9069"]);

    doc = { "upstream-proxies": "tm-2, tm-3:9071", port: 9069 };
    assertEquals(await up.reload(), "upstream: 2 proxies from p.json: tm-2:9069,tm-3:9071");
    assertEquals(read, ["p.json"]);
    assertEquals(addresses(), ["tm-2:9069", "tm-3:9071"]);

    // Bad files change nothing: the previous list stays.
    const bad: Array<[unknown, string]> = [
      [{ "flink-rest": "http://jm:8081" }, "p.json: upstream-proxies: expected the list"],
      [[], "p.json: upstream-proxies: expected the list"],
      [{ "upstream-proxies": "tm-4,9069" }, "p.json: upstream-proxies: a port without its host"],
      [{ "upstream-proxies": "" }, "p.json: upstream-proxies: no proxy address given"],
    ];
    for (const [next, message] of bad) {
      doc = next;
      await assertRejects(() => up.reload(), CliUsageError, message);
      assertEquals(addresses(), ["tm-2:9069", "tm-3:9071"], message);
    }
    doc = {
      "upstream-proxies": Array.from({ length: 65 }, (_, i) => `tm-${i}`).join(","),
    };
    await assertRejects(() => up.reload(), RangeError, "more than maxMembers (64)");
    assertEquals(addresses(), ["tm-2:9069", "tm-3:9071"]);
    // A file that no longer reads: its error, nothing changed.
    const failing = await startPool(
      choice,
      () => Promise.reject(new CliUsageError("--config p.json: cannot read it")),
    );
    await assertRejects(() => failing.reload(), CliUsageError, "cannot read it");
    assertEquals(failing.pool.members.length, 2);
    await failing.close();
  } finally {
    await up.close();
  }
});

Deno.test("cli upstream config reload: a list from a flag or a variable is not reloaded", async () => {
  let readCalls = 0;
  const readConfig = () => {
    readCalls++;
    return Promise.resolve({ "upstream-proxies": "x:1" });
  };
  const fromFlag = proxyChoice({ args: ["--upstream-proxies", "a:1,b:2"] });
  assertEquals(fromFlag.kind === "static" && fromFlag.configKey, undefined);
  // The command line beats the config file: the file's list is not the one in use.
  const beaten = proxyChoice({
    args: ["--config", "p.json", "--upstream-proxies", "a:1,b:2"],
    readConfig: () => ({ "upstream-proxies": "c:3" }),
  });
  assertEquals(beaten.kind === "static" && beaten.configKey, undefined);
  const fromEnv = proxyChoice({
    args: [],
    getEnv: (n) => n === "QS_UPSTREAM_PROXIES" ? "a:1,b:2" : undefined,
  });
  for (const choice of [fromFlag, beaten, fromEnv]) {
    const up = await startPool(choice, readConfig);
    try {
      assertEquals(up.reloads, undefined);
      assert((await up.reload()).endsWith("is not reloaded (restart to change it)"));
      assertEquals(up.pool.members.map((m) => m.address), ["a:1", "b:2"]);
    } finally {
      await up.close();
    }
  }
  assertEquals(readCalls, 0);
  // The gateway's --proxy list from the config file reloads the same way.
  const gateway = upstreamChoice(
    resolveFlags(GATEWAY_COMMAND.flags, {
      args: ["--config", "g.json"],
      readConfig: () => ({ proxy: "a:1,b:2" }),
    }),
    "proxy",
  )!;
  const up = await startPool(gateway, () => Promise.resolve({ proxy: "b:2" }));
  try {
    assertEquals(up.reloads, "proxy");
    assertEquals(await up.reload(), "upstream: 1 proxy from g.json: b:2");
  } finally {
    await up.close();
  }
});

Deno.test("cli upstream config reload: proxy --config, the file rewritten, SIGHUP: queries go to the new list", async () => {
  const plane = await Plane.start(2);
  const [a, b] = plane.addresses.map(formatAddress);
  const dir = await Deno.makeTempDir();
  const config = `${dir}/proxy.json`;
  const write = (list: string) =>
    Deno.writeTextFile(config, JSON.stringify({ "upstream-proxies": list, port: 0 }));
  await write(a);
  const cli = startCli(["proxy", "--config", config, "--http", "off"]);
  let client: QueryableStateClient | undefined;
  try {
    await cli.waitFor("stdout", new RegExp(`^upstream: 1 proxy: ${a}$`));
    const address = (await cli.waitFor("stdout", /^listening on (\S+)$/))[1];
    client = new QueryableStateClient({ transport: denoTransport, proxy: address });
    await queryAll(client, 4);
    assertEquals(plane.requestsPerProxy(), [4, 0]);

    await write(b);
    const out = cli.stdout.length;
    cli.signal("SIGHUP");
    await cli.waitFor(
      "stdout",
      new RegExp(`^SIGHUP: upstream: 1 proxy from ${config}: ${b}$`),
      out,
    );
    await queryAll(client, 4);
    assertEquals(plane.requestsPerProxy(), [4, 4]);

    // A bad list: reported, the previous list kept.
    await write(`${b},9069`);
    const err = cli.stderr.length;
    cli.signal("SIGHUP");
    await cli.waitFor(
      "stderr",
      /^SIGHUP: .*upstream-proxies: a port without its host: write host:9069; keeping the previous member list$/,
      err,
    );
    await queryAll(client, 2);
    assertEquals(plane.requestsPerProxy(), [4, 6]);
  } finally {
    await client?.close();
    await stopCleanly(cli);
    await plane.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli upstream config reload: the help of proxy and gateway says what SIGHUP reloads", () => {
  const text = (spec: typeof PROXY_COMMAND) => spec.notes.join(" ");
  assert(
    text(PROXY_COMMAND).includes(
      "reads an --upstream-proxies list given in the --config file again (a list given by the " +
        "flag or its variable needs a restart)",
    ),
  );
  assert(text(GATEWAY_COMMAND).includes("reads several --proxy values given in the --config file"));
});
