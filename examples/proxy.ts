/**
 * A queryable-state client proxy (Flink's KvStateClientProxy).
 *
 * With no arguments it starts an embedded demo state plane (a state server
 * holding a few demo states, and an in-memory location registry as the
 * oracle) and the proxy on 127.0.0.1:9069 (or the next free port up to 9079):
 *
 *   deno run --allow-net=127.0.0.1 examples/proxy.ts
 *
 * With --locations it serves the locations of a file or URL instead:
 *
 *   deno run --allow-net=127.0.0.1 --allow-read=locations.json examples/proxy.ts --locations locations.json
 *
 * In front of a Flink cluster (upstream mode, instead of --locations): each
 * request is forwarded whole to a pool of Queryable State proxies (Flink's,
 * one per TaskManager, or ours), to the one with the fewest requests in
 * flight, and sent to another one when a member does not answer (connect
 * failure, connection closed, no answer in 10 s) within the 30 s deadline;
 * a definite answer (a value, an unknown key, any failure a member sends) is
 * never sent again. Members from a static list (`host` alone is port 9069):
 *
 *   deno run --allow-net examples/proxy.ts --upstream-proxies tm-1:9069,tm-2:9069
 *
 * or from Flink's REST API (GET /taskmanagers, refreshed every
 * --flink-rest-refresh-ms, default 10 s, and on SIGHUP; the last good list
 * is kept while it fails), each TaskManager's host with --proxy-port
 * (default 9069; with a range, the ports of it that accept a connection):
 *
 *   deno run --allow-net examples/proxy.ts --flink-rest http://jobmanager:8081 --proxy-port 9069-9075
 *
 * Other flags: --host, --port (a port, a range like 9069-9079, or 0 for any),
 * --max-frame-length, --retries. It prints `listening on HOST:PORT` once
 * ready and exits cleanly on SIGINT/SIGTERM.
 *
 * With --allow FILE the proxy answers only the requests an allow list admits
 * (lines `job JOBID|*  state NAME|*  from CIDR|*`; see
 * src/server/access_rules.ts); others get a BadRequestException naming the
 * refusal. The embedded demo state server is not filtered.
 *
 * TLS, each side on its own (plaintext by default; give the files to
 * --allow-read): --tls-cert FILE --tls-key FILE serve TLS to clients, and
 * --tls-client-ca FILE requires client certificates from that CA (mutual
 * TLS, through the Node adapter). Towards the state servers (with
 * --locations): --upstream-tls-ca FILE trusts that CA, --upstream-tls uses
 * the default roots, --upstream-tls-cert FILE --upstream-tls-key FILE
 * present a client certificate.
 *
 * HTTP: --http HOST:PORT (port 0 for any) serves the HTTP/JSON gateway
 * beside the binary protocol (see examples/gateway.ts for the routes) and
 * prints `http listening on HOST:PORT`; the demo does so on 127.0.0.1 on a
 * free port unless --http off, and prints a link to the state explorer.
 *
 * The program is `src/cli/` (also `deno run -A jsr:@kvstate/queryable-state/cli proxy`);
 * `--help` lists every flag with its default and environment variable.
 *
 * @module
 */

import { runCommand } from "../src/cli/run.ts";
import { EXAMPLES_CONTEXT } from "./_cli.ts";

if (import.meta.main) {
  Deno.exit(await runCommand("proxy", Deno.args, EXAMPLES_CONTEXT));
}
