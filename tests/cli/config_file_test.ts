/**
 * The `--config` file, read as the flags are resolved (synchronously) and
 * again on SIGHUP (asynchronously): both give the parsed JSON, and both
 * refuse a missing file and a file that is not JSON with the same
 * `CliUsageError` naming the file.
 */

import { assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { readConfigJson, readConfigJsonSync } from "../../src/cli/config_file.ts";
import { CliUsageError } from "../../src/cli/flags.ts";

Deno.test("config file: both readings parse the same JSON and refuse a missing or non-JSON file alike", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/good.json`;
    await Deno.writeTextFile(good, '{"port": 0, "upstream-proxies": "127.0.0.1:9069"}');
    const want = { port: 0, "upstream-proxies": "127.0.0.1:9069" };
    assertEquals(readConfigJsonSync(good), want);
    assertEquals(await readConfigJson(good), want);

    const missing = `${dir}/nope.json`;
    const syncMissing = assertThrows(() => readConfigJsonSync(missing), CliUsageError);
    const asyncMissing = await assertRejects(() => readConfigJson(missing), CliUsageError);
    assertEquals(syncMissing.message.startsWith(`--config ${missing}: cannot read it: `), true);
    assertEquals(asyncMissing.message, syncMissing.message);

    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(bad, "{port: 0");
    const syncBad = assertThrows(() => readConfigJsonSync(bad), CliUsageError);
    const asyncBad = await assertRejects(() => readConfigJson(bad), CliUsageError);
    assertEquals(syncBad.message.startsWith(`--config ${bad}: not JSON: `), true);
    assertEquals(asyncBad.message, syncBad.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
