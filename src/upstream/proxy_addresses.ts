/**
 * The addresses of Queryable State proxies as users write them: `host`,
 * `host:port`, `[v6]` or `[v6]:port`, several separated by commas, or
 * address objects.
 *
 * @module
 */

import { addressKey } from "../client/server_connection.ts";
import type { NetAddress } from "../transport/types.ts";

/** The port of a Flink Queryable State proxy when none is given: 9069 (`queryable-state.proxy.ports`). */
export const DEFAULT_PROXY_PORT = 9069;

/** The most addresses one text may list (a bound on what is parsed). */
const MAX_LISTED = 1024;

/** One or several proxies: `"h1:p1,h2"`, an address, or an array of either. */
export type ProxyAddresses = string | NetAddress | readonly (string | NetAddress)[];

/**
 * Parses one proxy address: `host` (port `defaultPort`), `host:port`,
 * `[v6]` or `[v6]:port`. An IPv6 address needs its brackets. A host that
 * is all digits (`9069`) is refused: it is a port without its host, not a
 * name (resolvers would read `9069` as the IPv4 address 0.0.35.109).
 */
function parseOne(text: string, defaultPort: number): NetAddress {
  const m = /^(?:\[([^\]\s]+)\]|([^:\s[\]]+))(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
  if (!m || port < 1 || port > 65535) {
    throw new TypeError(
      `expected "host", "host:port" or "[v6]:port" (ports 1 to 65535), got ${
        JSON.stringify(text.slice(0, 200))
      }`,
    );
  }
  if (m[2] !== undefined && /^\d+$/.test(m[2])) {
    const digits = m[2].slice(0, 20);
    throw new TypeError(
      m[3] === undefined
        ? `a port without its host: write host:${digits}`
        : `the host ${JSON.stringify(digits)} of ${
          JSON.stringify(text.slice(0, 200))
        } is a bare number: write a name or an IP address`,
    );
  }
  return { hostname: m[1] ?? m[2], port };
}

/**
 * The proxies a text or a list names, in order, without duplicates (the
 * first of equal `host:port` kept). In text, entries are separated by commas
 * (spaces around them are ignored); an entry is `host`, `host:port`, `[v6]`
 * or `[v6]:port`, and one without a port gets `defaultPort`; a host that
 * is all digits is refused (`"9069"` is a port without its host). Address
 * objects are taken as they are (checked: a non-empty host name and a port
 * from 1 to 65535).
 *
 * @example
 * ```ts
 * import { parseProxyAddresses } from "@kvstate/queryable-state";
 *
 * parseProxyAddresses("tm-1:9070, tm-2, [::1]");
 * // => [{ hostname: "tm-1", port: 9070 }, { hostname: "tm-2", port: 9069 }, { hostname: "::1", port: 9069 }]
 * parseProxyAddresses([{ hostname: "10.0.0.5", port: 9069 }, "10.0.0.5:9069"]).length; // => 1
 * try {
 *   parseProxyAddresses("9069");
 * } catch (e) {
 *   (e as TypeError).message; // => "a port without its host: write host:9069"
 * }
 * ```
 *
 * @param addresses A text, an address, or an array of either.
 * @param defaultPort The port of an entry without one. Default {@linkcode DEFAULT_PROXY_PORT}.
 * @returns The addresses (at least one).
 * @throws {TypeError} On an entry that is not an address (a bare number
 * among them), or when none is given.
 * @throws {RangeError} When more than 1,024 addresses are listed.
 */
export function parseProxyAddresses(
  addresses: ProxyAddresses,
  defaultPort: number = DEFAULT_PROXY_PORT,
): NetAddress[] {
  const items: readonly (string | NetAddress)[] = typeof addresses === "string" ||
      !Array.isArray(addresses)
    ? [addresses as string | NetAddress]
    : addresses;
  const out: NetAddress[] = [];
  const seen = new Set<string>();
  const add = (a: NetAddress): void => {
    const key = addressKey(a);
    if (seen.has(key)) return;
    if (out.length >= MAX_LISTED) {
      throw new RangeError(`more than ${MAX_LISTED} proxy addresses`);
    }
    seen.add(key);
    out.push(a);
  };
  for (const item of items) {
    if (typeof item === "string") {
      for (const part of item.split(",")) {
        const text = part.trim();
        if (text !== "") add(parseOne(text, defaultPort));
      }
    } else {
      add(checked(item));
    }
  }
  if (out.length === 0) throw new TypeError("no proxy address given");
  return out;
}

/** `a` when it is a usable address, else a `TypeError`. */
function checked(a: NetAddress): NetAddress {
  if (
    typeof a !== "object" || a === null || typeof a.hostname !== "string" ||
    a.hostname === "" || !Number.isInteger(a.port) || a.port < 1 || a.port > 65535
  ) {
    throw new TypeError(
      "expected an address { hostname, port } with a host name and a port from 1 to 65535",
    );
  }
  return { hostname: a.hostname, port: a.port };
}
