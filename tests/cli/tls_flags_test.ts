/**
 * The CLI's TLS flags: a PEM file the transport refuses (an empty one) is a
 * usage error naming TLS (exit 2), for the dialling flags as for the
 * serving ones, not an uncaught TypeError.
 */

import { CLIENT_COMMAND, PROXY_COMMAND } from "../../src/cli/commands.ts";
import { CliUsageError, resolveFlags } from "../../src/cli/flags.ts";
import { diallingTransport, servingTransport } from "../../src/cli/tls_flags.ts";
import { assertEquals, assertRejects } from "../_assert.ts";

const COMMON = ["--job", "0102030405060708a1a2a3a4a5a6a7a8", "--state", "s", "--key", "k"];

Deno.test("cli tls flags: an empty PEM file is a usage error when dialling (client and proxy upstream) and serving", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const empty = `${dir}/empty.pem`;
    await Deno.writeTextFile(empty, "");
    const client = resolveFlags(CLIENT_COMMAND.flags, {
      args: [...COMMON, "--key-type", "string", "--value-type", "long", "--tls-ca", empty],
    });
    const e1 = await assertRejects(() => diallingTransport(client), CliUsageError);
    assertEquals(e1.message, "TLS: connectTls.ca[0] must be a non-empty PEM string");
    const proxy = resolveFlags(PROXY_COMMAND.flags, {
      args: ["--upstream-tls-cert", empty, "--upstream-tls-key", empty],
    });
    const e2 = await assertRejects(() => diallingTransport(proxy, "upstream-"), CliUsageError);
    assertEquals(e2.message, "TLS: connectTls.cert must be a non-empty PEM string");
    const serving = resolveFlags(PROXY_COMMAND.flags, {
      args: ["--tls-cert", empty, "--tls-key", empty],
    });
    const e3 = await assertRejects(() => servingTransport(serving), CliUsageError);
    assertEquals(e3.message, "TLS: listenTls.cert must be a non-empty PEM string");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
