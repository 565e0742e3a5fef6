/**
 * The CLI's help and version, pure: every flag with its default and its
 * variable; the version constant matches deno.json.
 */
import { assert, assertEquals } from "../_assert.ts";
import { COMMANDS, PROXY_COMMAND } from "../../src/cli/commands.ts";
import { envName } from "../../src/cli/flags.ts";
import { commandHelp, overviewHelp, usageLine } from "../../src/cli/help.ts";
import { VERSION } from "../../src/cli/version.ts";
import { VERSION as EXPORTED } from "../../src/cli/mod.ts";
import { SwappableFilter } from "../../src/cli/swappable_filter.ts";
import type { AccessRequest } from "../../mod.ts";

Deno.test("cli version: the constant is deno.json's version", async () => {
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  assertEquals(VERSION, denoJson.version);
  assertEquals(EXPORTED, denoJson.version);
  assertEquals(denoJson.exports["./cli"], "./src/cli/mod.ts");
});

Deno.test("cli help: every flag of every command, with its default and its variable", () => {
  for (const command of COMMANDS.values()) {
    const text = commandHelp(`queryable-state ${command.name}`, command);
    const lines = text.split("\n");
    assertEquals(lines[0], usageLine(`queryable-state ${command.name}`, command));
    for (const f of command.flags) {
      const i = lines.findIndex((l) => l === `  --${f.name}` || l.startsWith(`  --${f.name} `));
      assert(i > 0, `${command.name}: --${f.name} is listed`);
      if (f.commandLineOnly) continue;
      const detail = lines[i + 2];
      assert(detail.includes(`env: ${envName(f.name)}`), `${f.name}: ${detail}`);
      const shown = f.default !== undefined
        ? String(f.default)
        : f.required
        ? "none (required)"
        : f.defaultText ?? "none";
      assert(detail.includes(`default: ${shown};`), `${f.name}: ${detail}`);
    }
  }
  const proxy = commandHelp("proxy.ts", PROXY_COMMAND);
  assert(proxy.includes("default: 9069-9079; env: QS_PORT"), proxy);
  assert(proxy.includes("default: 3; env: QS_RETRIES"), proxy);
  assert(proxy.includes("[--allow FILE]"), "the usage line names --allow");
  assert(proxy.includes("SIGHUP"), "the help says what SIGHUP does");
  assert(proxy.includes("flag beats its variable"), "the help states the precedence");
});

Deno.test("cli help: the overview lists the commands and each one's flags", () => {
  const text = overviewHelp("queryable-state", VERSION);
  assert(text.startsWith("usage: queryable-state <command> [flags]"), text);
  assert(text.includes(VERSION));
  assertEquals(text.split("flag beats its variable").length, 2, "the precedence is told once");
  for (const c of COMMANDS.values()) {
    assert(text.includes(`\n  ${c.name} `), c.name);
    assert(text.includes(usageLine(`queryable-state ${c.name}`, c)), c.name);
  }
});

Deno.test("cli: a swappable filter answers with the rules of the moment", async () => {
  const request = { jobId: "j", stateName: "s" } as unknown as AccessRequest;
  const f = new SwappableFilter(() => true);
  const held = f.filter;
  assertEquals(await held(request), true);
  f.swap(() => false);
  assertEquals(await held(request), false, "the filter the server holds follows the swap");
  assertEquals(f.filter, held);
});
