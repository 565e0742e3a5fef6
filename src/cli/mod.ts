/**
 * The command-line programs: a queryable-state client proxy (with the
 * HTTP/JSON gateway beside it: `--http HOST:PORT`, on by default for the
 * demo), a state server with fixture data, a one-shot client, and the
 * HTTP/JSON gateway alone in front of any proxy, runnable straight from
 * JSR:
 *
 * ```sh
 * deno run -A jsr:@kvstate/queryable-state/cli proxy            # the embedded demo
 * deno run -A jsr:@kvstate/queryable-state/cli proxy --locations locations.json --port 9069
 * deno run -A jsr:@kvstate/queryable-state/cli server --data fixtures.json --write-locations locations.json
 * deno run -A jsr:@kvstate/queryable-state/cli client --proxy 127.0.0.1:9069 \
 *   --job 0102030405060708a1a2a3a4a5a6a7a8 --state word-counts --key-type string --key hello --value-type long
 * deno run -A jsr:@kvstate/queryable-state/cli gateway --proxy 127.0.0.1:9069 --http 127.0.0.1:8080
 * deno run -A jsr:@kvstate/queryable-state/cli --help             # every flag, default and variable
 * ```
 *
 * Every flag can also come from an environment variable (`--foo-bar` is
 * `QS_FOO_BAR`, read when `--allow-env` or `-A` grants it) and from
 * `--config FILE`, a JSON object keyed by flag name; a flag beats its
 * variable, which beats the file, which beats the default. The proxy
 * reloads its `--locations` file and its `--allow` file on SIGHUP, keeping
 * the old one when the new one is bad.
 *
 * This module uses `Deno.*` (files, signals, environment, the Deno
 * transport); the library itself is at `@kvstate/queryable-state`.
 *
 * @module
 */

import { JSR_CONTEXT, runMain } from "./run.ts";
import { VERSION as PACKAGE_VERSION } from "./version.ts";

/**
 * The version of the package, as `--version` prints it.
 *
 * @example
 * ```ts
 * import { VERSION } from "@kvstate/queryable-state/cli";
 *
 * /^\d+\.\d+\.\d+/.test(VERSION); // => true
 * ```
 */
export const VERSION: string = PACKAGE_VERSION;

/**
 * Runs the CLI with its arguments and returns the exit code (it does not
 * exit): `proxy|server|client|gateway [flags]`, `help [command]`, `--help`,
 * `--version`. The long-running commands return after SIGINT or SIGTERM.
 *
 * @example
 * ```ts
 * import { main } from "@kvstate/queryable-state/cli";
 *
 * await main(["--version"]); // => 0
 * await main(["proxy", "--no-such-flag"]); // => 2
 * ```
 *
 * @param args The arguments, e.g. `Deno.args`.
 * @returns The exit code: 0, 1 on a failure, 2 on a usage error.
 */
export function main(args: readonly string[]): Promise<number> {
  return runMain(args, JSR_CONTEXT);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
