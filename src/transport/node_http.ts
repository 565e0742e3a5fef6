/**
 * The gateway (or any fetch handler) behind `node:http`: for Node, where
 * there is no `Deno.serve`. {@linkcode toNodeListener} turns a
 * `(request: Request) => Promise<Response>` into a `node:http` request
 * listener, and {@linkcode serveNode} starts a server with it. It uses
 * nothing but `node:http` and web APIs, so it runs under Node (20+) and
 * under Deno's Node compatibility layer alike.
 *
 * Each `IncomingMessage` becomes a web `Request`: the method, a URL built
 * from the `Host` header (`http:`, or `https:` on a TLS socket; a missing
 * or malformed `Host` reads as `localhost`), the headers as received, and
 * the body (not for `GET` and `HEAD`) as a stream that pauses the socket
 * while it holds 64 KiB unread, so a handler that reads slowly, or stops
 * reading, slows the client down through TCP instead of buffering. The
 * request's `signal` aborts when the client goes away before the answer is
 * complete.
 *
 * The `Response` is written back as it comes: status, headers (each
 * `set-cookie` on its own; sent at once for `text/event-stream`, else with
 * the first chunk), then the body chunk by chunk, each one sent at
 * once (a server-sent events stream reaches the client event by event) and
 * the next one read only when Node's buffer has room (`drain`). When the
 * client goes away, the body is cancelled, which ends a watch stream.
 * A handler that throws gets a bare 500; a body that fails midway cuts the
 * connection (the client sees an incomplete answer, never a clean end).
 *
 * A method that a web `Request` refuses (`TRACE`, `TRACK`, `CONNECT`: the
 * Fetch standard forbids them) cannot reach the handler. The adapter asks
 * the handler `OPTIONS` on the same URL (with the same headers) what the
 * route allows, and answers 405 with that `allow` list (from the answer's
 * `allow` header, else its `access-control-allow-methods`) and the
 * gateway's JSON error body (`MethodNotAllowedError`), as the gateway's
 * own 405s; when the answer names no methods (e.g. an unknown route), 501
 * `MethodNotImplementedError`.
 *
 * @example Serve a fetch handler with node:http
 * ```ts
 * import { serveNode } from "@kvstate/queryable-state/http/node";
 *
 * const served = await serveNode({
 *   handler: (req) => Promise.resolve(Response.json({ path: new URL(req.url).pathname })),
 *   hostname: "127.0.0.1",
 *   port: 0,
 * });
 * const res = await fetch(`http://127.0.0.1:${served.address.port}/healthz`);
 * await res.json(); // => { path: "/healthz" }
 * await served.close();
 * ```
 *
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { cutText, errorAnswer, errorJson } from "../http/error_body.ts";
import { GatewayError } from "../http/gateway_errors.ts";
import { BindError } from "../wire/errors.ts";
import { checkPort, formatAddress } from "./net_address.ts";
import type { NetAddress } from "./types.ts";

export type { NetAddress } from "./types.ts";

/** A fetch handler, as `Deno.serve` and Workers take it (the gateway's `QueryHandler` is one). */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A `node:http` request listener. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Options of {@linkcode toNodeListener}.
 *
 * @example
 * ```ts
 * import type { NodeListenerOptions } from "@kvstate/queryable-state/http/node";
 *
 * const options: NodeListenerOptions = { bodyHighWaterMark: 16 * 1024 };
 * options.bodyHighWaterMark; // => 16384
 * ```
 */
export interface NodeListenerOptions {
  /**
   * The bytes of request body read ahead of the handler: past it, the
   * socket is paused until the handler reads. Default 64 KiB (65,536).
   */
  readonly bodyHighWaterMark?: number;
  /**
   * Told of a handler that threw or of a response body that failed midway
   * (the client got a 500, or a cut connection). Default: nothing.
   */
  readonly onError?: (error: unknown) => void;
}

/** The default of {@linkcode NodeListenerOptions.bodyHighWaterMark}: 64 KiB. */
const DEFAULT_BODY_HIGH_WATER_MARK = 64 * 1024;

/**
 * Makes a `node:http` request listener of a fetch handler (see the module
 * documentation for how requests and responses are carried).
 *
 * @example With createServer
 * ```ts
 * import { createServer } from "node:http";
 * import { toNodeListener } from "@kvstate/queryable-state/http/node";
 *
 * const server = createServer(toNodeListener(async (req) =>
 *   new Response(`${req.method} ${await req.text()}`, { status: 201 })
 * ));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const res = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "hi" });
 * res.status; // => 201
 * await res.text(); // => "POST hi"
 * await new Promise((resolve) => server.close(resolve));
 * ```
 *
 * @param handler The fetch handler, e.g. `createQueryHandler({ client })`.
 * @param options The body read-ahead, an error hook.
 * @returns The listener, for `createServer` or `server.on("request", …)`.
 * @throws {RangeError} When `bodyHighWaterMark` is not a positive integer.
 */
export function toNodeListener(
  handler: FetchHandler,
  options: NodeListenerOptions = {},
): NodeRequestListener {
  const highWaterMark = options.bodyHighWaterMark ?? DEFAULT_BODY_HIGH_WATER_MARK;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark <= 0) {
    throw new RangeError(`bodyHighWaterMark must be a positive integer, got ${highWaterMark}`);
  }
  const onError = options.onError ?? (() => {});
  return (req, res) => {
    serveOne(handler, req, res, highWaterMark, onError).catch((e) => {
      onError(e);
      if (!res.destroyed) res.destroy();
    });
  };
}

async function serveOne(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  highWaterMark: number,
  onError: (error: unknown) => void,
): Promise<void> {
  const aborter = new AbortController();
  const gone = () => {
    if (!res.writableFinished) {
      aborter.abort(new DOMException("The client went away", "AbortError"));
    }
  };
  res.once("close", gone);
  if (REFUSED_METHODS.has((req.method ?? "GET").toUpperCase())) {
    await refuseMethod(handler, req, res, aborter.signal, onError);
    return;
  }
  let response: Response;
  try {
    response = await handler(toRequest(req, aborter.signal, highWaterMark));
  } catch (e) {
    onError(e);
    if (res.destroyed || aborter.signal.aborted) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = "Internal Server Error\n";
    res.writeHead(500, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": String(text.length),
    });
    res.end(text);
    return;
  }
  await writeResponse(response, req, res, aborter.signal, onError);
}

/** The web `Request` of an `IncomingMessage`. */
function toRequest(req: IncomingMessage, signal: AbortSignal, highWaterMark: number): Request {
  const method = (req.method ?? "GET").toUpperCase();
  const hasBody = method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method, headers: headersOf(req), signal };
  if (hasBody) {
    init.body = bodyStream(req, highWaterMark);
    init.duplex = "half";
  }
  return new Request(urlOf(req), init);
}

/** The URL of an `IncomingMessage` (see {@linkcode requestUrl}). */
function urlOf(req: IncomingMessage): string {
  const secure = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  return requestUrl(secure ? "https" : "http", req.headers.host, req.url ?? "/");
}

/** The headers of an `IncomingMessage` as a fetch `Headers`. */
function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    // HTTP/2 pseudo-headers (`:path`, ...) are not headers of a fetch Request.
    if (raw[i].startsWith(":")) continue;
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch {
      // A name or value fetch refuses (Node let it through): dropped.
    }
  }
  return headers;
}

/** The methods a web `Request` refuses: the Fetch standard's forbidden methods. */
const REFUSED_METHODS: ReadonlySet<string> = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * Answers a request whose method a web `Request` refuses: 405 with the
 * `allow` list the handler gives for `OPTIONS` on the same URL, else 501;
 * the gateway's JSON error body either way.
 */
async function refuseMethod(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): Promise<void> {
  req.resume(); // its body (if any) is not read: discarded
  let allow: string | null = null;
  try {
    const probe = await handler(
      new Request(urlOf(req), { method: "OPTIONS", headers: headersOf(req), signal }),
    );
    allow = probe.headers.get("allow") ?? probe.headers.get("access-control-allow-methods");
    await probe.body?.cancel().catch(() => {});
  } catch (e) {
    onError(e);
  }
  if (res.destroyed || signal.aborted) return;
  const method = cutText(req.method ?? "", 16);
  const error = allow === null || allow.trim() === ""
    ? new GatewayError(
      501,
      "MethodNotImplementedError",
      `${method} cannot be served here (a fetch Request refuses it)`,
    )
    : new GatewayError(
      405,
      "MethodNotAllowedError",
      `${method} is not allowed on this route (allowed: ${allow})`,
    );
  const body = new TextEncoder().encode(JSON.stringify(errorJson(errorAnswer(error))));
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(body.byteLength),
  };
  if (error.status === 405) headers.allow = allow!;
  if (!req.complete) headers.connection = "close";
  res.writeHead(error.status, headers);
  res.end(body);
}

function requestUrl(scheme: string, host: string | undefined, path: string): string {
  const target = path.startsWith("/") ? path : `/${path}`;
  if (host !== undefined && host !== "") {
    try {
      const url = new URL(`${scheme}://${host}${target}`);
      if (url.host.toLowerCase() === host.toLowerCase()) return url.href;
    } catch {
      // Fall back to localhost below.
    }
  }
  try {
    return new URL(`${scheme}://localhost${target}`).href;
  } catch {
    return `${scheme}://localhost/`;
  }
}

/**
 * The request body as a web stream that pauses the socket while
 * `highWaterMark` bytes wait unread, and resumes it when the reader pulls.
 */
function bodyStream(req: IncomingMessage, highWaterMark: number): ReadableStream<Uint8Array> {
  let done = false;
  const detach = () => {
    done = true;
    req.off("data", onData);
    req.off("end", onEnd);
    req.off("error", onFail);
    req.off("aborted", onAborted);
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  function onData(chunk: Uint8Array | string) {
    if (done) return;
    const bytes = typeof chunk === "string"
      ? new TextEncoder().encode(chunk)
      : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    controller.enqueue(bytes);
    if ((controller.desiredSize ?? 0) <= 0) req.pause();
  }
  function onEnd() {
    if (done) return;
    detach();
    controller.close();
  }
  function onFail(e: unknown) {
    if (done) return;
    detach();
    controller.error(e);
  }
  function onAborted() {
    onFail(new DOMException("The client went away", "AbortError"));
  }
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      req.on("data", onData);
      req.on("end", onEnd);
      req.on("error", onFail);
      req.on("aborted", onAborted);
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      // The handler wants no more: stop feeding the stream and let Node
      // discard the rest of the body (the connection is not kept alive).
      detach();
      req.resume();
    },
  }, { highWaterMark, size: (chunk) => chunk.byteLength });
}

async function writeResponse(
  response: Response,
  req: IncomingMessage,
  res: ServerResponse,
  gone: AbortSignal,
  onError: (error: unknown) => void,
): Promise<void> {
  const body = response.body;
  if (gone.aborted || res.destroyed) {
    await body?.cancel().catch(() => {});
    return;
  }
  res.statusCode = response.status;
  if (response.statusText !== "") res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name === "set-cookie") continue;
    res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (!req.complete) {
    // The handler did not read the whole body: do not reuse the connection.
    res.setHeader("connection", "close");
  }
  if (body === null || req.method === "HEAD") {
    await body?.cancel().catch(() => {});
    res.end();
    return;
  }
  // An event stream's headers go out at once, even before its first event;
  // other answers' headers go with their first chunk (one packet, not two).
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) res.flushHeaders();
  const reader = body.getReader();
  const stop = () => reader.cancel().catch(() => {});
  gone.addEventListener("abort", stop, { once: true });
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value)) await drained(res);
    }
    if (!res.destroyed) res.end();
  } catch (e) {
    if (gone.aborted) return;
    onError(e);
    res.destroy();
  } finally {
    gone.removeEventListener("abort", stop);
    reader.releaseLock();
  }
}

/** Resolves on `drain`, or when the response closes. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Options of {@linkcode serveNode}.
 *
 * @example
 * ```ts
 * import type { ServeNodeOptions } from "@kvstate/queryable-state/http/node";
 *
 * const options: ServeNodeOptions = {
 *   handler: () => new Response("ok"),
 *   hostname: "127.0.0.1",
 *   port: 0,
 * };
 * options.port; // => 0
 * ```
 */
export interface ServeNodeOptions extends NodeListenerOptions {
  /** The fetch handler, e.g. `createQueryHandler({ client })`. */
  readonly handler: FetchHandler;
  /** The address to listen on. Default `127.0.0.1`. */
  readonly hostname?: string;
  /** The port; 0 picks a free one. Default 0. */
  readonly port?: number;
}

/**
 * A server started by {@linkcode serveNode}.
 *
 * @example
 * ```ts
 * import { type NodeHttpServer, serveNode } from "@kvstate/queryable-state/http/node";
 *
 * const served: NodeHttpServer = await serveNode({ handler: () => new Response("ok") });
 * served.address.hostname; // => "127.0.0.1"
 * await served.close();
 * ```
 */
export interface NodeHttpServer {
  /** The `node:http` server. */
  readonly server: Server;
  /** The address it listens on (the real port when 0 was asked). */
  readonly address: NetAddress;
  /**
   * Stops listening and closes every connection, open streams (a watch)
   * included; resolves when the server is closed.
   */
  close(): Promise<void>;
}

/**
 * Serves a fetch handler with `node:http` (see {@linkcode toNodeListener}).
 *
 * @example
 * ```ts
 * import { serveNode } from "@kvstate/queryable-state/http/node";
 *
 * const served = await serveNode({ handler: () => new Response("ok"), port: 0 });
 * (await (await fetch(`http://127.0.0.1:${served.address.port}/`)).text()); // => "ok"
 * await served.close();
 * ```
 *
 * @param options The handler, where to listen, the listener's options.
 * @returns The server, once it listens.
 * @throws {BindError} When the address cannot be bound (`addressInUse`
 *   when the port is taken).
 * @throws {TypeError} On a port outside 0..65535.
 */
export async function serveNode(options: ServeNodeOptions): Promise<NodeHttpServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  checkPort(port);
  const server = createServer(toNodeListener(options.handler, options));
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error & { code?: string }) => {
      server.off("listening", ok);
      const where = formatAddress(hostname, port);
      reject(
        e.code === "EADDRINUSE"
          ? new BindError(`Address already in use: ${where}`, true, { cause: e })
          : new BindError(`Cannot bind ${where}: ${e.message}`, false, { cause: e }),
      );
    };
    const ok = () => {
      server.off("error", fail);
      resolve();
    };
    server.once("error", fail);
    server.once("listening", ok);
    server.listen(port, hostname);
  });
  const bound = server.address();
  const address: NetAddress = typeof bound === "object" && bound !== null
    ? { hostname: bound.address, port: bound.port }
    : { hostname, port };
  let closing: Promise<void> | undefined;
  return {
    server,
    address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      return closing;
    },
  };
}
