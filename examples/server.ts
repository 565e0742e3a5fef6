/**
 * A state server (Flink's KvStateServer) serving fixture data.
 *
 *   deno run --allow-net=127.0.0.1 --allow-read --allow-write examples/server.ts \
 *     --data fixtures.json [--host 127.0.0.1] [--port 0] [--write-locations locations.json]
 *
 * With --allow FILE it answers only the requests an allow list admits (lines
 * `job JOBID|*  state NAME|*  from CIDR|*`; see src/server/access_rules.ts);
 * others get a BadRequestException naming the refusal.
 *
 * TLS (plaintext by default): --tls-cert FILE --tls-key FILE serve TLS
 * (give the files to --allow-read); --tls-client-ca FILE also requires
 * client certificates from that CA (mutual TLS, through the Node adapter).
 *
 * Without --data it serves the demo data. It prints `listening on HOST:PORT`
 * once ready and exits cleanly on SIGINT/SIGTERM.
 *
 * The program is `src/cli/` (also `deno run -A jsr:@kvstate/queryable-state/cli server`);
 * `--help` lists every flag with its default and environment variable.
 *
 * @module
 */

import { runCommand } from "../src/cli/run.ts";
import { EXAMPLES_CONTEXT } from "./_cli.ts";

if (import.meta.main) {
  Deno.exit(await runCommand("server", Deno.args, EXAMPLES_CONTEXT));
}
