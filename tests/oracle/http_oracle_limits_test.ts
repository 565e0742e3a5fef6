/**
 * HttpLocationOracle's bound on the response body (maxResponseBytes): a body
 * past the bound is refused without being read whole, on its Content-Length
 * when it declares one, by counting the bytes read when it does not.
 */

import {
  HttpLocationOracle,
  LocationsResponseTooLargeError,
} from "../../src/oracle/static_oracle.ts";
import { LocationsFileError } from "../../src/oracle/locations_file.ts";
import { JobId } from "../../src/wire/ids.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { serveHttp } from "./_http.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const ID = "2122232425262728313233343536373a";
const DOC = JSON.stringify({
  jobs: [{
    jobId: JOB,
    states: [{
      name: "word-counts",
      numKeyGroups: 128,
      keyGroups: [{ start: 0, end: 127, kvStateId: ID, address: "127.0.0.1:9067" }],
    }],
  }],
});
const URL_ = "http://locations.test/locations.json";
const CHUNK = 64 * 1024;

/**
 * A body of `total` bytes made lazily, CHUNK bytes per pull: a valid document padded with
 * whitespace (so only its size can make it fail). Counts what was pulled and whether it was
 * cancelled.
 */
function lazyBody(total: number) {
  const state = { pulled: 0, cancelled: false };
  const head = new TextEncoder().encode(DOC);
  const pad = new Uint8Array(CHUNK).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) return controller.close();
      let chunk: Uint8Array;
      if (state.pulled === 0) {
        chunk = new Uint8Array(Math.min(CHUNK, total));
        chunk.fill(0x20);
        chunk.set(head.subarray(0, chunk.length));
      } else {
        chunk = pad.subarray(0, Math.min(CHUNK, total - state.pulled));
      }
      state.pulled += chunk.length;
      controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

function oracleServing(
  total: number,
  opts: { contentLength?: boolean; maxResponseBytes?: number } = {},
) {
  const body = lazyBody(total);
  const oracle = new HttpLocationOracle(URL_, {
    maxResponseBytes: opts.maxResponseBytes,
    fetch: () =>
      Promise.resolve(
        new Response(body.stream, {
          headers: opts.contentLength ? { "content-length": String(total) } : {},
        }),
      ),
  });
  return { oracle, state: body.state };
}

const lookup = (oracle: HttpLocationOracle) =>
  oracle.requestKvStateLocation(JobId.fromHex(JOB), "word-counts");

Deno.test("HttpLocationOracle: maxResponseBytes defaults to 16 MiB and is validated", () => {
  assertEquals(new HttpLocationOracle(URL_).maxResponseBytes, 16 * 1024 * 1024);
  assertEquals(new HttpLocationOracle(URL_, { maxResponseBytes: 10 }).maxResponseBytes, 10);
  assertThrows(() => new HttpLocationOracle(URL_, { maxResponseBytes: -1 }), RangeError);
  assertThrows(() => new HttpLocationOracle(URL_, { maxResponseBytes: NaN }), RangeError);
});

Deno.test("HttpLocationOracle: a body up to the bound is read; one byte more is refused", async () => {
  const max = 200_000;
  for (const contentLength of [false, true]) {
    const ok = oracleServing(max, { maxResponseBytes: max, contentLength });
    assertEquals((await lookup(ok.oracle)).numKeyGroups, 128);
    assertEquals(ok.state.pulled, max);
    const over = oracleServing(max + 1, { maxResponseBytes: max, contentLength });
    const e = await assertRejects(() => lookup(over.oracle), LocationsResponseTooLargeError);
    assertEquals([e.url, e.maxResponseBytes], [URL_, max]);
    assert(over.state.cancelled, "the body is cancelled");
  }
});

Deno.test("HttpLocationOracle: a 256 MiB streamed body without Content-Length stops at the bound", async () => {
  const { oracle, state } = oracleServing(256 << 20);
  const e = await assertRejects(() => lookup(oracle), LocationsResponseTooLargeError);
  assert(e instanceof LocationsFileError);
  assert(e.message.includes(URL_), e.message);
  assert(e.message.includes("maxResponseBytes (16777216)"), e.message);
  // Read up to the first chunk past the bound, not one chunk more.
  assertEquals(state.pulled, (16 << 20) + CHUNK);
  assertEquals(e.bytes, state.pulled);
  assert(state.cancelled);
});

Deno.test("HttpLocationOracle: a Content-Length above the bound is refused before the body is read", async () => {
  const { oracle, state } = oracleServing(256 << 20, { contentLength: true });
  const e = await assertRejects(
    () => lookup(oracle),
    LocationsResponseTooLargeError,
    "the response declares 268435456 bytes (Content-Length), more than maxResponseBytes (16777216)",
  );
  assertEquals(e.bytes, 256 << 20);
  assertEquals(state.pulled, 0);
  assert(state.cancelled);
});

Deno.test("HttpLocationOracle: over real HTTP, a huge body is refused without being sent whole", async () => {
  const served = { pulled: 0, cancelled: 0 };
  const total = 256 << 20;
  const pad = new Uint8Array(CHUNK).fill(0x20);
  const server = serveHttp((req) => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        sent += CHUNK;
        served.pulled += CHUNK;
        controller.enqueue(pad);
      },
      cancel() {
        served.cancelled++;
      },
    }, { highWaterMark: 0 });
    const headers = new URL(req.url).pathname === "/declared"
      ? { "content-length": String(total) }
      : undefined;
    return new Response(body, { headers });
  });
  const { base } = server;
  try {
    const cap = 1 << 20;
    for (const path of ["/chunked", "/declared"]) {
      const before = served.pulled;
      const oracle = new HttpLocationOracle(base + path, {
        maxResponseBytes: cap,
        timeoutMs: 5000,
      });
      const e = await assertRejects(() => lookup(oracle), LocationsResponseTooLargeError);
      assert(e.message.includes(base + path), e.message);
      // Only the bound and what sockets buffer was produced of the 256 MiB body.
      const produced = served.pulled - before;
      assert(produced < 32 << 20, `${path}: ${produced} bytes produced`);
    }
  } finally {
    await server.close();
  }
});
