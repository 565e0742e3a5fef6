/**
 * The HTTP side of the `proxy` and `gateway` commands (CLI glue): the
 * gateway's fetch handler from the flags, served with `Deno.serve`.
 *
 * @module
 */

import type { QueryableStateClient } from "../client/queryable_state_client.ts";
import {
  type ClosableQueryHandler,
  createQueryHandler,
  type QueryHandler,
} from "../http/query_handler.ts";
import type { Route } from "../http/route_table.ts";
import { formatAddress, parseAddress } from "../oracle/locations_file.ts";
import type { NetAddress } from "../transport/types.ts";
import { CliUsageError, type ResolvedFlags } from "./flags.ts";

/** How long a stop waits for open answers (a watch stream) before it gives up on them. */
const STOP_GRACE_MS = 2_000;

/** An HTTP server of the CLI. */
export interface CliHttpServer {
  /** Where it listens (the real port when 0 was asked). */
  readonly address: NetAddress;
  /**
   * Stops it: closes the handler first (its watch streams end at once), then
   * takes no new connections; answers in flight get {@linkcode STOP_GRACE_MS}
   * to finish, after which it stops waiting (the CLI's exit cuts the rest).
   */
  close(): Promise<void>;
}

/**
 * Parses an `--http` value, `HOST:PORT` (`[v6]:PORT`; port 0 for any).
 *
 * @param text The value.
 * @returns The address.
 * @throws {CliUsageError} Naming the flag.
 */
export function httpAddress(text: string): NetAddress {
  try {
    return parseAddress(text);
  } catch {
    throw new CliUsageError(`--http: expected HOST:PORT, got ${JSON.stringify(text)}`);
  }
}

/**
 * The gateway's handler over `client`, with the flags' CORS origin and
 * bearer token.
 *
 * @param client The client of the Queryable State proxy.
 * @param flags The resolved flags (`cors-origin`, `http-token`, `deadline-ms`).
 * @param ready The readiness probe, for `/readyz`.
 * @param routes More routes (`/metrics`), behind the same token.
 * @returns The handler.
 */
export function gatewayHandler(
  client: QueryableStateClient,
  flags: ResolvedFlags,
  ready?: () => boolean | Promise<boolean>,
  routes?: readonly Route[],
): ClosableQueryHandler {
  const cors = flags.string("cors-origin");
  const deadlineMs = flags.integer("deadline-ms");
  if (deadlineMs === 0) throw new CliUsageError("--deadline-ms must be positive");
  return createQueryHandler({
    client,
    ready,
    deadlineMs,
    bearerToken: flags.string("http-token"),
    routes,
    corsOrigin: cors === undefined
      ? undefined
      : cors.includes(",")
      ? cors.split(",").map((s) => s.trim()).filter((s) => s !== "")
      : cors,
  });
}

/**
 * The handler as `Deno.serve` gets it: each request is handed on as a new
 * `Request` with the same method, URL, headers and body, and a signal of
 * its own. Reading the original's `signal` makes Deno 2.9 print a warning
 * on stderr (its signal also aborts after a successful answer, "legacy
 * behavior"); so a client that goes away is not seen by a pending query,
 * which the deadline (`--deadline-ms`) still bounds, while a streamed
 * answer (a watch) is cancelled by Deno itself and ends.
 */
function withOwnSignal(handler: QueryHandler): (request: Request) => Promise<Response> {
  return (request) => {
    const init: RequestInit & { duplex?: "half" } = {
      method: request.method,
      headers: request.headers,
      signal: new AbortController().signal,
    };
    if (request.body !== null) {
      init.body = request.body;
      init.duplex = "half";
    }
    return handler(new Request(request.url, init));
  };
}

/**
 * Serves `handler` with `Deno.serve` on `address`. Stopping the server
 * closes the handler first, so that open watch streams end at once instead
 * of holding the stop for its whole grace.
 *
 * @param handler The fetch handler (closed by the server's `close()`).
 * @param address Where to listen.
 * @returns The server, listening.
 * @throws {Error} When the address cannot be bound (the message says why).
 */
export function serveHttp(handler: ClosableQueryHandler, address: NetAddress): CliHttpServer {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: address.hostname,
      port: address.port,
      onListen: () => {},
    }, withOwnSignal(handler));
  } catch (e) {
    throw new Error(`http: cannot listen on ${formatAddress(address)}: ${(e as Error).message}`);
  }
  let closing: Promise<void> | undefined;
  return {
    address: { hostname: server.addr.hostname, port: server.addr.port },
    close() {
      closing ??= (async () => {
        // The watch streams end first (cleanly: their body ends), else they hold the grace.
        handler.close();
        // Graceful: no new connections; answers in flight finish, each body to its end.
        // Past the grace it gives up waiting: the process's exit cuts what is left.
        // (Aborting Deno.serve's signal once shutdown() has begun throws BadResource.)
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          server.shutdown().catch(() => {}),
          new Promise<void>((r) => timer = setTimeout(r, STOP_GRACE_MS)),
        ]);
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

/**
 * The address to dial to reach a server listening on `address`: loopback
 * for a wildcard address.
 *
 * @param address Where the server listens.
 * @returns Where to dial it.
 */
export function dialAddress(address: NetAddress): NetAddress {
  if (address.hostname === "0.0.0.0") return { hostname: "127.0.0.1", port: address.port };
  if (address.hostname === "::" || address.hostname === "[::]") {
    return { hostname: "::1", port: address.port };
  }
  return address;
}

/**
 * The base URL of an HTTP server (loopback for a wildcard address).
 *
 * @param address Where it listens.
 * @returns E.g. `http://127.0.0.1:8080`.
 */
export function httpBase(address: NetAddress): string {
  return `http://${formatAddress(dialAddress(address))}`;
}
