/**
 * Cases for the `node:http` adapter (`src/transport/node_http.ts`), free of
 * `Deno.*` so that the same cases run under Deno's Node compatibility layer
 * (`node_http_test.ts`) and under the real `node` binary
 * (`tests/node/node_http.node.ts`). Servers bind 127.0.0.1 port 0; every
 * wait is bounded.
 */

import { once } from "node:events";
import { connect as netConnect, type Socket } from "node:net";
import { type NodeHttpServer, serveNode } from "../../src/transport/node_http.ts";
import { BindError } from "../../src/wire/errors.ts";
import { check, checkEquals } from "../transport/_cases.ts";
import { JOB, startPlane } from "./_plane.ts";

/** One case. */
export interface NodeHttpCase {
  readonly name: string;
  run(): Promise<void>;
}

const HOST = "127.0.0.1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function base(served: NodeHttpServer): string {
  return `http://${HOST}:${served.address.port}`;
}

/** Resolves when `cond()` holds; throws after `ms`. */
async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A promise with its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => open = r);
  return { promise, open };
}

/** Sends raw bytes on a fresh connection and reads until the server closes it (bounded). */
async function rawExchange(port: number, text: string, ms = 5_000): Promise<string> {
  const socket = netConnect({ host: HOST, port });
  await once(socket, "connect");
  const chunks: Uint8Array[] = [];
  socket.on("data", (c: Uint8Array) => chunks.push(c));
  const ended = once(socket, "close");
  socket.write(text);
  const timer = setTimeout(() => socket.destroy(), ms);
  try {
    await ended;
  } finally {
    clearTimeout(timer);
  }
  return chunks.map((c) => decoder.decode(c)).join("");
}

export const nodeHttpCases: readonly NodeHttpCase[] = [
  {
    name: "the gateway: value, unknown key, bad parameter, wrong method, batch",
    async run() {
      const plane = await startPlane();
      const served = await serveNode({ handler: plane.handler, hostname: HOST, port: 0 });
      try {
        checkEquals(served.address, { hostname: HOST, port: served.address.port }, "address");
        const url = `${base(served)}/v1/jobs/${JOB}/states/counts?keyType=string&valueType=long`;
        const value = await fetch(`${url}&key=big`);
        checkEquals(value.status, 200, "value status");
        checkEquals(
          value.headers.get("content-type"),
          "application/json; charset=utf-8",
          "content type",
        );
        checkEquals(await value.text(), '{"value":"9007199254740993"}', "value body");

        const missing = await fetch(`${url}&key=nope`);
        checkEquals(missing.status, 404, "unknown key status");
        const err = (await missing.json()).error;
        checkEquals(
          [err.type, err.javaClass],
          [
            "UnknownKeyOrNamespaceError",
            "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
          ],
          "unknown key error",
        );

        const bad = await fetch(`${base(served)}/v1/jobs/${JOB}/states/counts?key=a&keyType=x`);
        checkEquals(bad.status, 400, "bad parameter status");
        checkEquals((await bad.json()).error.parameter, "keyType", "bad parameter named");

        const wrong = await fetch(`${base(served)}/v1/query`);
        checkEquals(wrong.status, 405, "wrong method");
        checkEquals(wrong.headers.get("allow"), "POST", "allow header");
        await wrong.body?.cancel();

        const batch = await fetch(`${base(served)}/v1/query`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            queries: [
              {
                jobId: JOB,
                stateName: "counts",
                key: "hello",
                keyType: "string",
                valueType: "long",
              },
              {
                jobId: JOB,
                stateName: "lists",
                key: "a",
                keyType: "string",
                valueType: "long",
                stateKind: "list",
              },
              {
                jobId: JOB,
                stateName: "counts",
                key: "nope",
                keyType: "string",
                valueType: "long",
              },
            ],
          }),
        });
        checkEquals(batch.status, 200, "batch status");
        const results = (await batch.json()).results;
        checkEquals(results[0], { value: "42" }, "batch[0]");
        checkEquals(results[1], { value: ["1", "2", "9007199254740993"] }, "batch[1]");
        checkEquals(
          [results[2].error.status, results[2].error.type],
          [404, "UnknownKeyOrNamespaceError"],
          "batch[2]",
        );
      } finally {
        await served.close();
        await plane.close();
      }
    },
  },
  {
    name: "the request as received: method, URL from Host, headers, body",
    async run() {
      const seen: string[] = [];
      const served = await serveNode({
        hostname: HOST,
        port: 0,
        handler: async (req) => {
          const body = await req.text();
          seen.push(
            `${req.method} ${req.url} x-multi=${req.headers.get("x-multi")} body=${body}`,
          );
          return new Response("ok", { headers: { connection: "close" } });
        },
      });
      try {
        const put = await rawExchange(
          served.address.port,
          "PUT /p/q%20r?a=1&b=%2F HTTP/1.1\r\nHost: example.test:8080\r\nX-Multi: one\r\n" +
            "X-Multi: two\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        );
        check(put.startsWith("HTTP/1.1 200 "), `PUT answered: ${put}`);
        checkEquals(
          seen.shift(),
          "PUT http://example.test:8080/p/q%20r?a=1&b=%2F x-multi=one, two body=hello",
          "PUT as received",
        );

        // HTTP/1.0 without Host, then a malformed Host: both read as localhost.
        await rawExchange(served.address.port, "GET /old HTTP/1.0\r\n\r\n");
        checkEquals(seen.shift(), "GET http://localhost/old x-multi=null body=", "no Host");
        await rawExchange(
          served.address.port,
          "GET /x HTTP/1.1\r\nHost: a/b@c\r\nConnection: close\r\n\r\n",
        );
        checkEquals(seen.shift(), "GET http://localhost/x x-multi=null body=", "bad Host");

        // A chunked body (no length) arrives whole.
        const chunked = await rawExchange(
          served.address.port,
          "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        check(chunked.startsWith("HTTP/1.1 200 "), `chunked answered: ${chunked}`);
        checkEquals(seen.shift(), "POST http://h/c x-multi=null body=abcde", "chunked body");
      } finally {
        await served.close();
      }
    },
  },
  {
    name: "the response as given: status, text, headers, cookies, HEAD and empty bodies",
    async run() {
      const served = await serveNode({
        hostname: HOST,
        port: 0,
        handler: (req) => {
          const path = new URL(req.url).pathname;
          if (path === "/empty") return new Response(null, { status: 204 });
          const headers = new Headers({ "x-one": "1", "content-type": "text/plain" });
          headers.append("set-cookie", "a=1; Path=/");
          headers.append("set-cookie", "b=2; Path=/");
          return new Response("created!", { status: 201, statusText: "Made It", headers });
        },
      });
      try {
        const raw = await rawExchange(
          served.address.port,
          "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        );
        check(raw.startsWith("HTTP/1.1 201 Made It\r\n"), `status line: ${raw}`);
        const lower = raw.toLowerCase();
        check(lower.includes("\r\nset-cookie: a=1; path=/\r\n"), `first cookie: ${raw}`);
        check(lower.includes("\r\nset-cookie: b=2; path=/\r\n"), `second cookie: ${raw}`);
        check(lower.includes("\r\nx-one: 1\r\n"), `header: ${raw}`);
        check(raw.endsWith("created!") || raw.includes("\r\n\r\n8\r\ncreated!\r\n"), raw);

        const head = await fetch(`${base(served)}/`, { method: "HEAD" });
        checkEquals([head.status, await head.text()], [201, ""], "HEAD");
        const empty = await fetch(`${base(served)}/empty`);
        checkEquals([empty.status, await empty.text()], [204, ""], "204");
      } finally {
        await served.close();
      }
    },
  },
  {
    name: "the gateway's body bound: 413 for a streamed body and for a declared length",
    async run() {
      const plane = await startPlane({ maxBodyBytes: 1024 });
      const served = await serveNode({ handler: plane.handler, hostname: HOST, port: 0 });
      try {
        let pulls = 0;
        const big = new ReadableStream<Uint8Array>({
          pull(c) {
            // 1 MiB at most, in 16 KiB chunks; the handler stops after 1 KiB.
            if (++pulls > 64) c.close();
            else c.enqueue(new Uint8Array(16 * 1024).fill(0x20));
          },
        });
        const streamed = await fetch(`${base(served)}/v1/query`, {
          method: "POST",
          body: big,
          duplex: "half",
        } as RequestInit);
        checkEquals(streamed.status, 413, "streamed body status");
        checkEquals((await streamed.json()).error.type, "BodyTooLargeError", "streamed body error");

        const declared = await rawExchange(
          served.address.port,
          "POST /v1/query HTTP/1.1\r\nHost: h\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n{",
        );
        check(declared.startsWith("HTTP/1.1 413 "), `declared length: ${declared}`);
        check(declared.includes('"BodyTooLargeError"'), declared);

        const after = await fetch(
          `${base(served)}/v1/jobs/${JOB}/states/counts?key=hello&keyType=string&valueType=long`,
        );
        checkEquals(await after.text(), '{"value":"42"}', "served after the refusals");
      } finally {
        await served.close();
        await plane.close();
      }
    },
  },
  {
    name: "a handler that does not read the body pauses the socket (backpressure)",
    async run() {
      const release = gate();
      let read = -1;
      let readError = "";
      const served = await serveNode({
        hostname: HOST,
        port: 0,
        bodyHighWaterMark: 16 * 1024,
        handler: async (req) => {
          await release.promise;
          read = 0;
          try {
            for await (const c of req.body!) read += c.byteLength;
          } catch (e) {
            readError = (e as Error).name;
          }
          return new Response("done");
        },
      });
      const TOTAL = 64 * 1024 * 1024;
      const socket: Socket = netConnect({ host: HOST, port: served.address.port });
      try {
        await once(socket, "connect");
        socket.write(
          `POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: ${TOTAL}\r\n\r\n`,
        );
        // Write, ignoring the socket's own backpressure, until 1 MiB waits in
        // its buffer: the kernel buffers are full because the server stopped
        // reading. Without the pause, Node would read the 64 MiB into memory.
        const CH = 64 * 1024;
        const chunk = new Uint8Array(CH).fill(0x61);
        let written = 0;
        const deadline = Date.now() + 10_000;
        while (socket.writableLength < 1024 * 1024) {
          check(written < TOTAL, `all ${TOTAL} bytes went through: nothing paused the socket`);
          check(Date.now() < deadline, "timed out before the writes backed up");
          socket.write(chunk);
          written += CH;
          if (socket.writableLength > 0) await new Promise((r) => setTimeout(r, 1));
        }
        check(written < TOTAL / 2, `the writes backed up only after ${written} bytes`);
        release.open();
        // The handler now reads: the rest flows, then the answer comes.
        while (written < TOTAL) {
          if (!socket.write(chunk)) await once(socket, "drain");
          written += CH;
        }
        await until(() => read === TOTAL, `the handler to read ${TOTAL} bytes (read ${read})`);
        checkEquals(readError, "", "no read error");
      } finally {
        release.open();
        socket.destroy();
        await served.close();
      }
    },
  },
  {
    name: "the gateway's watch route over node:http: the first event, then the client leaves",
    async run() {
      const plane = await startPlane();
      const served = await serveNode({ handler: plane.handler, hostname: HOST, port: 0 });
      try {
        const ac = new AbortController();
        const res = await fetch(
          `${base(served)}/v1/jobs/${JOB}/states/counts/watch?key=hello&keyType=string` +
            "&valueType=long&intervalMs=100",
          { signal: ac.signal },
        );
        checkEquals(res.status, 200, "watch status");
        check(
          res.headers.get("content-type")?.startsWith("text/event-stream") === true,
          `watch content type: ${res.headers.get("content-type")}`,
        );
        const reader = res.body!.getReader();
        let text = "";
        for (let i = 0; i < 10 && !text.includes("\n\n"); i++) {
          const r = await reader.read();
          if (r.done) break;
          text += decoder.decode(r.value);
        }
        checkEquals(text, 'event: value\ndata: {"value":"42"}\n\n', "the first event");
        ac.abort();
        await reader.read().catch(() => {});
      } finally {
        // Closing waits for no watcher: the client's leaving ended it.
        await served.close();
        await plane.close();
      }
    },
  },
  {
    name: "a streamed response reaches the client chunk by chunk, its headers first",
    async run() {
      const headersFirst = gate();
      const next = gate();
      const served = await serveNode({
        hostname: HOST,
        port: 0,
        handler: () => {
          const body = new ReadableStream<Uint8Array>({
            async start(c) {
              await headersFirst.promise;
              c.enqueue(encoder.encode("data: 1\n\n"));
              await next.promise;
              c.enqueue(encoder.encode("data: 2\n\n"));
              c.close();
            },
          });
          return new Response(body, { headers: { "content-type": "text/event-stream" } });
        },
      });
      try {
        // The headers of an event stream come before its first event.
        const res = await fetch(`${base(served)}/watch`, { signal: AbortSignal.timeout(5_000) });
        checkEquals(res.headers.get("content-type"), "text/event-stream", "content type");
        headersFirst.open();
        const reader = res.body!.getReader();
        // The first event arrives while the handler still holds the second.
        const first = await reader.read();
        checkEquals(decoder.decode(first.value), "data: 1\n\n", "first event, before the second");
        next.open();
        let rest = "";
        for (let i = 0; i < 10; i++) {
          const r = await reader.read();
          if (r.done) break;
          rest += decoder.decode(r.value);
        }
        checkEquals(rest, "data: 2\n\n", "second event, then the end");
      } finally {
        headersFirst.open();
        next.open();
        await served.close();
      }
    },
  },
  {
    name: "a client that goes away aborts the request's signal and cancels the body",
    async run() {
      let cancelled = false;
      let aborted = false;
      const served = await serveNode({
        hostname: HOST,
        port: 0,
        handler: (req) => {
          req.signal.addEventListener("abort", () => aborted = true);
          let n = 0;
          let timer: ReturnType<typeof setTimeout> | undefined;
          const body = new ReadableStream<Uint8Array>({
            pull(c) {
              return new Promise<void>((resolve) => {
                timer = setTimeout(() => {
                  c.enqueue(encoder.encode(`data: ${n++}\n\n`));
                  resolve();
                }, n === 0 ? 0 : 20);
              });
            },
            cancel() {
              clearTimeout(timer);
              cancelled = true;
            },
          }, { highWaterMark: 0 });
          return new Response(body, { headers: { "content-type": "text/event-stream" } });
        },
      });
      try {
        const ac = new AbortController();
        const res = await fetch(`${base(served)}/watch`, { signal: ac.signal });
        const reader = res.body!.getReader();
        const first = await reader.read();
        checkEquals(decoder.decode(first.value), "data: 0\n\n", "first event");
        ac.abort();
        await reader.read().catch(() => {});
        await until(() => cancelled && aborted, `cancel (${cancelled}) and abort (${aborted})`);
      } finally {
        await served.close();
      }
    },
  },
  {
    name: "a handler that throws gets a 500 and onError; a body that fails cuts the answer",
    async run() {
      const errors: string[] = [];
      const served = await serveNode({
        hostname: HOST,
        port: 0,
        onError: (e) => errors.push((e as Error).message),
        handler: (req) => {
          if (new URL(req.url).pathname === "/throw") throw new Error("boom");
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(encoder.encode("partial"));
              setTimeout(() => c.error(new Error("midway")), 10);
            },
          });
          return new Response(body);
        },
      });
      try {
        const res = await fetch(`${base(served)}/throw`);
        checkEquals([res.status, await res.text()], [500, "Internal Server Error\n"], "500");
        const cut = await fetch(`${base(served)}/cut`);
        checkEquals(cut.status, 200, "cut status");
        let failed = false;
        await cut.text().catch(() => failed = true);
        check(failed, "the cut body ends in an error, not a clean end");
        await until(() => errors.length === 2, "two errors reported");
        checkEquals(errors, ["boom", "midway"], "errors reported");
      } finally {
        await served.close();
      }
    },
  },
  {
    name: "serveNode: a taken port is a BindError; close() ends open streams",
    async run() {
      const served = await serveNode({
        hostname: HOST,
        port: 0,
        handler: () =>
          new Response(
            new ReadableStream<Uint8Array>({
              start(c) {
                c.enqueue(encoder.encode("data: forever\n\n"));
              },
            }),
            { headers: { "content-type": "text/event-stream" } },
          ),
      });
      try {
        let bindError: unknown;
        try {
          const twice = await serveNode({
            handler: () => new Response(),
            hostname: HOST,
            port: served.address.port,
          });
          await twice.close();
        } catch (e) {
          bindError = e;
        }
        check(bindError instanceof BindError, `a BindError, got ${bindError}`);
        checkEquals((bindError as BindError).addressInUse, true, "addressInUse");
        let badPort: unknown;
        await serveNode({ handler: () => new Response(), port: 70_000 }).catch((e) => badPort = e);
        check(badPort instanceof TypeError, `a TypeError, got ${badPort}`);

        const res = await fetch(`${base(served)}/`);
        const reader = res.body!.getReader();
        await reader.read();
        const closing = served.close();
        let ended = false;
        for (let i = 0; i < 10 && !ended; i++) {
          ended = await reader.read().then((r) => r.done, () => true);
        }
        check(ended, "the open stream ended when the server closed");
        await closing;
      } finally {
        await served.close();
      }
    },
  },
  {
    name: "a method fetch refuses (TRACE) gets 405 with allow and the JSON error body, not 500",
    async run() {
      /** Status line, lower-cased header map and body of a raw HTTP/1.1 answer. */
      const parse = (raw: string) => {
        const [head, body] = [
          raw.slice(0, raw.indexOf("\r\n\r\n")),
          raw.slice(raw.indexOf("\r\n\r\n") + 4),
        ];
        const [status, ...lines] = head.split("\r\n");
        const headers = new Map(lines.map((l) => {
          const c = l.indexOf(":");
          return [l.slice(0, c).toLowerCase(), l.slice(c + 1).trim()] as const;
        }));
        return { status, headers, body };
      };
      const trace = (port: number, path: string, extra = "") =>
        rawExchange(
          port,
          `TRACE ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`,
        ).then(parse);
      const errors: unknown[] = [];
      const plane = await startPlane();
      const cors = await startPlane({ corsOrigin: "https://app.example" });
      const served = await serveNode({
        handler: plane.handler,
        hostname: HOST,
        port: 0,
        onError: (e) => errors.push(e),
      });
      const servedCors = await serveNode({ handler: cors.handler, hostname: HOST, port: 0 });
      try {
        const port = served.address.port;
        // As the gateway's own 405 for another method (GET /v1/query), with TRACE named.
        const own = await fetch(`${base(served)}/v1/query`);
        checkEquals([own.status, own.headers.get("allow")], [405, "POST"], "the gateway's 405");
        const ownBody = await own.json();
        const a = await trace(port, "/v1/query");
        checkEquals(a.status, "HTTP/1.1 405 Method Not Allowed", "TRACE status");
        checkEquals(a.headers.get("allow"), "POST", "allow");
        checkEquals(a.headers.get("content-type"), "application/json; charset=utf-8", "type");
        checkEquals(
          JSON.parse(a.body),
          {
            error: {
              ...ownBody.error,
              message: ownBody.error.message.replace(/^GET /, "TRACE "),
            },
          },
          "the gateway's 405 body, naming TRACE",
        );
        const b = await trace(port, `/v1/jobs/${JOB}/states/counts?key=hello`);
        checkEquals([b.status.split(" ")[1], b.headers.get("allow")], ["405", "GET"], "value");
        // An unknown route names no methods: 501, the same JSON shape.
        const c = await trace(port, "/nowhere");
        checkEquals(c.status, "HTTP/1.1 501 Not Implemented", "unknown route status");
        checkEquals(c.headers.get("allow"), undefined, "no allow on 501");
        checkEquals(
          JSON.parse(c.body).error.type,
          "MethodNotImplementedError",
          "501 error type",
        );
        // Behind CORS the handler's OPTIONS answer lists the methods in its own header.
        const d = await trace(
          servedCors.address.port,
          "/v1/query",
          "Origin: https://app.example\r\n",
        );
        checkEquals(
          [d.status.split(" ")[1], d.headers.get("allow")],
          ["405", "POST, OPTIONS"],
          "cors",
        );
        checkEquals(errors, [], "nothing reported as an error");
        // The server still answers after them.
        checkEquals(
          await (await fetch(`${base(served)}/healthz`)).json(),
          { status: "ok" },
          "after",
        );
      } finally {
        await served.close();
        await servedCors.close();
        await plane.close();
        await cors.close();
      }
    },
  },
];
