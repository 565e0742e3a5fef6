/**
 * The `client` command's `--proxy` is parsed before anything is dialled: a
 * bare number (a port without its host) or a port out of range is a usage
 * error naming the flag (exit code 2), not an uncaught TypeError.
 */

import { assert, assertEquals } from "../_assert.ts";
import { runCli } from "./_process.ts";

const QUERY = [
  "--job",
  "0102030405060708a1a2a3a4a5a6a7a8",
  "--state",
  "word-counts",
  "--key-type",
  "string",
  "--key",
  "hello",
  "--value-type",
  "long",
];

Deno.test("cli client --proxy: a bare number or a bad port is a usage error naming the flag", async () => {
  for (
    const [proxy, message] of [
      ["9069", "--proxy: a port without its host: write host:9069"],
      ["127.0.0.1:1,9070", "--proxy: a port without its host: write host:9070"],
      ["a:99999", '--proxy: expected "host", "host:port" or "[v6]:port"'],
    ]
  ) {
    const ran = await runCli(["client", "--proxy", proxy, ...QUERY]);
    assertEquals(ran.code, 2, ran.stderr);
    assertEquals(ran.stdout, "");
    assert(ran.stderr.startsWith(message), ran.stderr);
    assert(ran.stderr.includes("usage: "), ran.stderr);
    assert(!ran.stderr.includes("Uncaught"), ran.stderr);
  }
});
