/**
 * A Deno Deploy entry: the HTTP/JSON gateway (`createQueryHandler`) under
 * `Deno.serve`, over a `QueryableStateClient` that connects out to a
 * Queryable State proxy (ours, or a Flink TaskManager's, port 9069 by
 * default) through `denoTransport`. Only the client side runs here: Deploy
 * gives a program no listening sockets but the HTTP one, so the proxy and
 * the state servers run elsewhere and must be reachable from Deploy.
 *
 * Environment:
 * - `QS_PROXY` (required): the proxy's `host:port` (`host` alone means port
 *   9069), or several, comma-separated (`h1:9069,h2:9069`: the client then
 *   fails over between them, as a `QueryableStateClient` given several
 *   proxies does);
 * - `QS_HTTP_TOKEN` (optional): every route but `/healthz` and `/readyz`
 *   then requires `authorization: Bearer <token>` (set it as a secret);
 * - `QS_CORS_ORIGIN` (optional): the origin(s) browsers may call from,
 *   `*`, one origin, or a comma-separated list;
 * - `PORT` (local runs): the port to listen on, on 127.0.0.1; default 8000.
 *   Where Deno's `DENO_SERVE_ADDRESS` is set (a hosting platform's
 *   override of every `Deno.serve` address), it decides instead.
 *
 * Locally:
 *
 *   QS_PROXY=127.0.0.1:9069 deno run --allow-net=127.0.0.1 \
 *     --allow-env=QS_PROXY,QS_HTTP_TOKEN,QS_CORS_ORIGIN,PORT examples/deploy.ts
 *
 * It prints `http listening on HOST:PORT` once ready. Without `QS_PROXY` it
 * exits with code 2 and a message naming the variable.
 *
 * @module
 */

import { QueryableStateClient } from "../mod.ts";
import { denoTransport } from "../src/transport/deno.ts";
import { createQueryHandler, type QueryHandlerOptions } from "../src/http/mod.ts";

/** The port of a local run when `PORT` is not set. */
const DEFAULT_PORT = 8000;

/** `name`'s value, or `undefined` when it is unset or empty. */
function env(name: string): string | undefined {
  const value = Deno.env.get(name)?.trim();
  return value ? value : undefined;
}

/** The gateway's options from the environment; throws a message naming the bad variable. */
function optionsFromEnv(): QueryHandlerOptions {
  const proxy = env("QS_PROXY");
  if (proxy === undefined) {
    throw new Error(
      "QS_PROXY is not set: give the Queryable State proxy's address as host:port (or several, comma-separated)",
    );
  }
  let client: QueryableStateClient;
  try {
    client = new QueryableStateClient({ transport: denoTransport, proxy });
  } catch (e) {
    throw new Error(`QS_PROXY is not a list of host:port: ${e instanceof Error ? e.message : e}`);
  }
  const token = env("QS_HTTP_TOKEN");
  const cors = env("QS_CORS_ORIGIN");
  const origins = cors?.split(",").map((o) => o.trim()).filter((o) => o !== "");
  return {
    client,
    ...(token === undefined ? {} : { bearerToken: token }),
    ...(origins === undefined || origins.length === 0
      ? {}
      : { corsOrigin: origins.length === 1 ? origins[0] : origins }),
  };
}

/** The local port from `PORT` (default 8000); throws when it is not a port number. */
function portFromEnv(): number {
  const text = env("PORT");
  if (text === undefined) return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new Error(`PORT is not a port number: ${JSON.stringify(text)}`);
  }
  return port;
}

if (import.meta.main) {
  let options: QueryHandlerOptions;
  let port: number;
  try {
    options = optionsFromEnv();
    port = portFromEnv();
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ hostname, port }) => console.log(`http listening on ${hostname}:${port}`),
  }, createQueryHandler(options));
}
