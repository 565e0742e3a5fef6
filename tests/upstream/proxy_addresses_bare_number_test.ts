/**
 * parseProxyAddresses refuses a host that is all digits: `"9069"` is a port
 * without its host (a resolver would read it as the IPv4 address
 * 0.0.35.109), whether alone, with a port or in a list; names and addresses
 * with digits in them are still hosts.
 */

import { assertEquals, assertThrows } from "../_assert.ts";
import { parseProxyAddresses } from "../../src/upstream/proxy_addresses.ts";

Deno.test("parseProxyAddresses: a bare number is a port without its host, a TypeError saying so", () => {
  assertThrows(
    () => parseProxyAddresses("9069"),
    TypeError,
    "a port without its host: write host:9069",
  );
  assertThrows(
    () => parseProxyAddresses("tm-1:9069, 9070"),
    TypeError,
    "a port without its host: write host:9070",
  );
  assertThrows(() => parseProxyAddresses(["tm-1", "9069"]), TypeError, "write host:9069");
  assertThrows(
    () => parseProxyAddresses("9069:9070"),
    TypeError,
    'the host "9069" of "9069:9070" is a bare number: write a name or an IP address',
  );
  // Only the first 20 digits are echoed.
  const long = "1".repeat(40);
  assertEquals(
    assertThrows(() => parseProxyAddresses(long), TypeError).message,
    `a port without its host: write host:${"1".repeat(20)}`,
  );
});

Deno.test("parseProxyAddresses: hosts with digits in them are still hosts", () => {
  assertEquals(parseProxyAddresses("10.0.0.1, tm1, 1tm:9070, [::1]:9069, 0x10"), [
    { hostname: "10.0.0.1", port: 9069 },
    { hostname: "tm1", port: 9069 },
    { hostname: "1tm", port: 9070 },
    { hostname: "::1", port: 9069 },
    { hostname: "0x10", port: 9069 },
  ]);
});
