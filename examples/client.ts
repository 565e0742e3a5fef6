/**
 * Queries one key through a client proxy (ours or Flink's own) and prints the
 * value, or the error's Java class and message (exit code 1).
 *
 *   deno run --allow-net=127.0.0.1 examples/client.ts --proxy 127.0.0.1:9069 \
 *     --job 0102030405060708a1a2a3a4a5a6a7a8 --state word-counts \
 *     --key-type string --key hello --value-type long [--state-kind value|list|map] \
 *     [--map-key-type T] [--timeout-ms 5000]
 *
 * Several proxies, separated by commas (`host` alone is port 9069): the query
 * goes to another one when one does not answer (connect failure, connection
 * closed), within --timeout-ms: `--proxy tm-1:9069,tm-2:9069`.
 *
 * Types: string, int, long, double, boolean, bytes (hex), or any type in the
 * type syntax (`--key-type 'tuple<string,long>' --key '["acme",1001]'`,
 * `--value-type 'pojo<id:long,name:string>'`; a POJO key needs --key-hash N).
 *
 * TLS (plaintext by default; give the files to --allow-read): --tls-ca FILE
 * trusts that CA (in addition to Deno's default roots), --tls alone uses the
 * default roots, --tls-cert FILE --tls-key FILE present a client
 * certificate (for a proxy that requires one).
 *
 * The program is `src/cli/` (also `deno run -A jsr:@kvstate/queryable-state/cli client`);
 * `--help` lists every flag with its default and environment variable.
 *
 * @module
 */

import { runCommand } from "../src/cli/run.ts";
import { EXAMPLES_CONTEXT } from "./_cli.ts";

if (import.meta.main) {
  Deno.exit(await runCommand("client", Deno.args, EXAMPLES_CONTEXT));
}
