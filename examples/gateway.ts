/**
 * The HTTP/JSON gateway alone, in front of any queryable-state client proxy
 * (ours, or a Flink TaskManager's, which listens on 9069 by default):
 *
 *   deno run --allow-net examples/gateway.ts --proxy 127.0.0.1:9069 --http 127.0.0.1:8080
 *
 * In front of several proxies (a pool with failover: a query goes to
 * another proxy when one does not answer), repeat --proxy or list them
 * (`host` alone is port 9069), or discover them from Flink's REST API:
 *
 *   deno run --allow-net examples/gateway.ts --proxy tm-1:9069 --proxy tm-2:9069
 *   deno run --allow-net examples/gateway.ts --flink-rest http://jobmanager:8081 --proxy-port 9069
 *
 * then, e.g.:
 *
 *   curl 'http://127.0.0.1:8080/v1/jobs/0102030405060708a1a2a3a4a5a6a7a8/states/word-counts?key=hello&keyType=string&valueType=long'
 *
 * Routes: GET /v1/jobs/{jobId}/states/{stateName}?key=K&keyType=T&valueType=T
 * [&stateKind=value|list|map][&mapKeyType=T], POST /v1/query (a batch),
 * GET /healthz, GET /readyz (200 while the proxy accepts connections; with several, while a member is up),
 * GET /openapi.json. Other flags: --cors-origin, --http-token (or
 * QS_HTTP_TOKEN), --deadline-ms, and --tls/--tls-ca/--tls-cert/--tls-key
 * towards the proxy. It prints `http listening on HOST:PORT` once ready and
 * exits cleanly on SIGINT/SIGTERM.
 *
 * The program is `src/cli/` (also `deno run -A jsr:@kvstate/queryable-state/cli gateway`);
 * `--help` lists every flag with its default and environment variable.
 *
 * @module
 */

import { runCommand } from "../src/cli/run.ts";
import { EXAMPLES_CONTEXT } from "./_cli.ts";

if (import.meta.main) {
  Deno.exit(await runCommand("gateway", Deno.args, EXAMPLES_CONTEXT));
}
