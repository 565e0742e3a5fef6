/**
 * The watch route over MemoryTransport: the first event is the current
 * value, a change of the in-memory state sends an event, an unchanged state
 * sends none, an absent key sends the documented `failure`, the watcher
 * bound answers 503, and a client that goes away ends the stream with
 * nothing left running (the sanitizers check timers and ops).
 */

import type { QueryableStateClient } from "../../mod.ts";
import {
  createQueryHandler,
  createWatchRoute,
  DEFAULT_MAX_WATCHERS,
  DEFAULT_WATCH_INTERVAL_MS,
  DEFAULT_WATCH_MIN_INTERVAL_MS,
  type WatchClient,
  type WatchRoute,
} from "../../src/http/mod.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { read } from "./_plane.ts";
import {
  BASE,
  JOB,
  type LivePlane,
  SseReader,
  startLivePlane,
  waitFor,
  watchUrl,
} from "./_live_plane.ts";

const HELLO = "key=hello&keyType=string&valueType=long";

/** A client that counts the watch route's polls (bytes API, or `getKvState` only). */
function counting(client: QueryableStateClient, bytesApi = true) {
  const counter = { polls: 0 };
  const wrapped: WatchClient = bytesApi
    ? {
      getKvState: client.getKvState.bind(client) as WatchClient["getKvState"],
      getKvStateBytesIfPresent: (...a: Parameters<QueryableStateClient["getKvStateBytes"]>) => {
        counter.polls++;
        return client.getKvStateBytesIfPresent(...a);
      },
    }
    : {
      getKvState: ((...a: Parameters<typeof client.getKvState>) => {
        counter.polls++;
        return client.getKvState(...a);
      }) as WatchClient["getKvState"],
    };
  return { counter, wrapped };
}

/** A plane whose handler has its own watch route (to see `active`) over a counting client. */
async function withRoute(
  options: Parameters<typeof createWatchRoute>[0] extends infer O ? Omit<O, "client"> : never,
  bytesApi = true,
): Promise<{ plane: LivePlane; route: WatchRoute; counter: { polls: number } }> {
  let route!: WatchRoute;
  let counter!: { polls: number };
  const plane = await startLivePlane((client) => {
    const c = counting(client, bytesApi);
    counter = c.counter;
    route = createWatchRoute({ client: c.wrapped, ...options });
    return { client, watch: false, routes: [route] };
  });
  return { plane, route, counter };
}

async function open(plane: LivePlane, url: string, init?: RequestInit): Promise<SseReader> {
  const res = await plane.handler(new Request(url, init));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream");
  assertEquals(res.headers.get("cache-control"), "no-store");
  return new SseReader(res.body!);
}

Deno.test("watch: the first event is the value; a change sends one event; an unchanged state none", async () => {
  const { plane, route, counter } = await withRoute({ minIntervalMs: 5 });
  try {
    const sse = await open(plane, watchUrl("live", `${HELLO}&intervalMs=10`));
    assertEquals(await sse.next(), { event: "value", data: '{"value":"42"}' });
    assertEquals(route.active, 1);
    // Several polls of the unchanged state: none sends an event, so the next
    // event read is the change below, not a repeat of 42.
    const seen = counter.polls;
    await waitFor(() => counter.polls >= seen + 4, 5000, "4 more polls");
    plane.values.set("hello", 9007199254740993n);
    assertEquals(await sse.next(), { event: "value", data: '{"value":"9007199254740993"}' });
    plane.values.set("hello", 43n);
    assertEquals(await sse.next(), { event: "value", data: '{"value":"43"}' });
    await sse.cancel();
    assertEquals(route.active, 0);
  } finally {
    await plane.close();
  }
});

Deno.test("watch: an absent key sends a 404 failure once, then the value when it appears", async () => {
  const { plane, counter } = await withRoute({ minIntervalMs: 5 });
  try {
    const sse = await open(
      plane,
      watchUrl("live", "key=later&keyType=string&valueType=long&intervalMs=5"),
    );
    const first = await sse.next();
    assertEquals(first?.event, "failure");
    assertEquals(JSON.parse(first!.data), {
      error: {
        type: "UnknownKeyOrNamespaceError",
        javaClass: "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
        message: "No state for the specified key/namespace.",
        status: 404,
      },
    });
    const seen = counter.polls;
    await waitFor(() => counter.polls >= seen + 3, 5000, "3 more polls");
    plane.values.set("later", -1n);
    assertEquals(await sse.next(), { event: "value", data: '{"value":"-1"}' });
    plane.values.delete("later");
    assertEquals((await sse.next())?.event, "failure");
    plane.values.set("later", -1n);
    // The same value as before the miss: sent again, the outcome changed.
    assertEquals(await sse.next(), { event: "value", data: '{"value":"-1"}' });
    await sse.cancel();
  } finally {
    await plane.close();
  }
});

Deno.test("watch: list and map state decode like the value route; an unknown state is a 404 failure", async () => {
  const { plane } = await withRoute({ minIntervalMs: 5 });
  try {
    const list = await open(
      plane,
      watchUrl("livelist", "key=a&keyType=string&valueType=string&stateKind=list&intervalMs=5"),
    );
    assertEquals(await list.next(), { event: "value", data: '{"value":["x"]}' });
    plane.lists.add("a", "y");
    assertEquals(await list.next(), { event: "value", data: '{"value":["x","y"]}' });
    await list.cancel();

    const map = await open(
      plane,
      watchUrl(
        "livemap",
        "key=m&keyType=string&valueType=long&stateKind=map&mapKeyType=string&intervalMs=5",
      ),
    );
    assertEquals(await map.next(), { event: "value", data: '{"value":[["k","1"]]}' });
    plane.maps.put("m", "k", 2n);
    assertEquals(await map.next(), { event: "value", data: '{"value":[["k","2"]]}' });
    await map.cancel();

    const none = await open(plane, watchUrl("no-such-state", HELLO));
    const e = await none.next();
    assertEquals(e?.event, "failure");
    assertEquals(JSON.parse(e!.data).error.status, 404);
    await none.cancel();
  } finally {
    await plane.close();
  }
});

Deno.test("watch: a client without the bytes API is watched by comparing the JSON", async () => {
  const { plane, counter } = await withRoute({ minIntervalMs: 5 }, false);
  try {
    const sse = await open(plane, watchUrl("live", `${HELLO}&intervalMs=5`));
    assertEquals(await sse.next(), { event: "value", data: '{"value":"42"}' });
    const seen = counter.polls;
    await waitFor(() => counter.polls >= seen + 3, 5000, "3 more polls");
    plane.values.set("hello", 7n);
    assertEquals(await sse.next(), { event: "value", data: '{"value":"7"}' });
    plane.values.delete("hello");
    const miss = await sse.next();
    assertEquals(JSON.parse(miss!.data).error.type, "UnknownKeyOrNamespaceError");
    await sse.cancel();
  } finally {
    await plane.close();
  }
});

Deno.test("watch: at most maxWatchers streams; one more answers 503; a closed one frees its place", async () => {
  const { plane, route } = await withRoute({ maxWatchers: 2 });
  try {
    const a = await open(plane, watchUrl("live", HELLO));
    const b = await open(plane, watchUrl("live", HELLO));
    const refused = await read(await plane.handler(new Request(watchUrl("live", HELLO))));
    assertEquals(refused.status, 503);
    assertEquals(refused.type, "application/json; charset=utf-8");
    assertEquals(refused.body.error.type, "TooManyWatchersError");
    assertEquals(refused.body.error.message, "Too many watch streams open (at most 2)");
    assertEquals(route.active, 2);
    await a.cancel();
    assertEquals(route.active, 1);
    const c = await open(plane, watchUrl("live", HELLO));
    assertEquals((await c.next())?.event, "value");
    await b.cancel();
    await c.cancel();
    assertEquals(route.active, 0);
  } finally {
    await plane.close();
  }
});

Deno.test("watch: the request's signal ends the stream, also during a poll, with nothing left running", async () => {
  const { plane, route } = await withRoute({});
  try {
    const ac = new AbortController();
    const sse = await open(plane, watchUrl("live", HELLO), { signal: ac.signal });
    assertEquals((await sse.next())?.event, "value");
    ac.abort();
    assertEquals(route.active, 0);
    assertEquals(await sse.next(), null);

    // A poll in flight (the slow state holds it) is abandoned at once.
    const ac2 = new AbortController();
    const slow = await open(plane, watchUrl("slow", HELLO), { signal: ac2.signal });
    await waitFor(() => plane.slowHeld === 1, 5000, "the slow poll");
    ac2.abort();
    assertEquals(route.active, 0);
    assertEquals(await slow.next(), null);

    // A request aborted before its stream starts gets an empty stream.
    const ac3 = new AbortController();
    ac3.abort();
    const gone = await open(plane, watchUrl("live", HELLO), { signal: ac3.signal });
    assertEquals(await gone.next(), null);
    assertEquals(route.active, 0);
  } finally {
    await plane.close();
  }
});

Deno.test("watch: closeAll ends every stream", async () => {
  const { plane, route } = await withRoute({});
  try {
    const a = await open(plane, watchUrl("live", HELLO));
    const b = await open(
      plane,
      watchUrl("livelist", "key=a&keyType=string&valueType=string&stateKind=list"),
    );
    assertEquals((await a.next())?.event, "value");
    route.closeAll();
    assertEquals(route.active, 0);
    assertEquals(await a.next(), null);
    // b's first event may or may not have been queued before the close.
    const first = await b.next();
    assert(first === null || first.event === "value");
    if (first !== null) assertEquals(await b.next(), null);
  } finally {
    await plane.close();
  }
});

Deno.test("watch: a poll past pollTimeoutMs is a 504 failure; a keep-alive comment comes when idle", async () => {
  const { plane } = await withRoute({ pollTimeoutMs: 30, keepAliveMs: 20 });
  try {
    const sse = await open(plane, watchUrl("slow", HELLO));
    const e = await sse.next();
    assertEquals(e?.event, "failure");
    const body = JSON.parse(e!.data);
    assertEquals([body.error.status, body.error.type], [504, "DeadlineExceededError"]);
    assertEquals(await sse.next(), { event: ":", data: "keep-alive" });
    await sse.cancel();
  } finally {
    await plane.close();
  }
});

Deno.test("watch: intervalMs below the floor is raised to it; a bad intervalMs or key answers 400", async () => {
  const { plane, counter } = await withRoute({ minIntervalMs: 100 });
  try {
    const sse = await open(plane, watchUrl("live", `${HELLO}&intervalMs=1`));
    assertEquals((await sse.next())?.event, "value");
    const start = counter.polls;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 250));
    const elapsed = performance.now() - t0;
    // At 1 ms there would be ~250 polls; at the 100 ms floor at most elapsed/100 + 1.
    const polls = counter.polls - start;
    assert(polls <= Math.floor(elapsed / 100) + 1, `${polls} polls in ${elapsed} ms`);
    await sse.cancel();

    for (const bad of ["0", "-5", "abc", "1.5", "3600001", ""]) {
      const r = await read(
        await plane.handler(new Request(watchUrl("live", `${HELLO}&intervalMs=${bad}`))),
      );
      assertEquals([r.status, r.body.error.parameter], [400, "intervalMs"], bad);
    }
    const noKey = await read(
      await plane.handler(new Request(watchUrl("live", "keyType=string&valueType=long"))),
    );
    assertEquals([noKey.status, noKey.body.error.parameter], [400, "key"]);
    const badJob = await read(await plane.handler(new Request(watchUrl("live", HELLO, "x1"))));
    assertEquals([badJob.status, badJob.body.error.parameter], [400, "jobId"]);
    const post = await plane.handler(new Request(watchUrl("live", HELLO), { method: "POST" }));
    assertEquals([post.status, post.headers.get("allow")], [405, "GET"]);
    await post.body?.cancel();
  } finally {
    await plane.close();
  }
});

Deno.test("watch: a client that reads nothing is dropped after 64 queued events", async () => {
  const { plane, route } = await withRoute({ keepAliveMs: 1 });
  try {
    const res = await plane.handler(new Request(watchUrl("live", HELLO)));
    assertEquals(route.active, 1);
    // Nothing reads: the keep-alives queue up until the bound ends the stream.
    await waitFor(() => route.active === 0, 10_000, "the unread stream to be dropped");
    const text = await res.text();
    assert(text.startsWith('event: value\ndata: {"value":"42"}\n\n'), text.slice(0, 60));
    const keepAlives = text.split(": keep-alive\n\n").length - 1;
    assert(keepAlives >= 64 && keepAlives <= 66, `${keepAlives} keep-alives`);
  } finally {
    await plane.close();
  }
});

Deno.test("watch in createQueryHandler: on by default, behind the token; watch: false turns it off", async () => {
  const plane = await startLivePlane((client) => ({ client, bearerToken: "s3cret" }));
  try {
    const noToken = await read(await plane.handler(new Request(watchUrl("live", HELLO))));
    assertEquals([noToken.status, noToken.body.error.type], [401, "UnauthorizedError"]);
    const sse = await open(plane, watchUrl("live", HELLO), {
      headers: { authorization: "Bearer s3cret" },
    });
    assertEquals(await sse.next(), { event: "value", data: '{"value":"42"}' });
    await sse.cancel();
  } finally {
    await plane.close();
  }
  const off = await startLivePlane((client) => ({ client, watch: false }));
  try {
    const r = await read(await off.handler(new Request(watchUrl("live", HELLO))));
    assertEquals([r.status, r.body.error.type], [404, "RouteNotFoundError"]);
  } finally {
    await off.close();
  }
  const bounded = await startLivePlane((client) => ({ client, watch: { maxWatchers: 1 } }));
  try {
    const one = await open(bounded, watchUrl("live", HELLO));
    const two = await bounded.handler(new Request(watchUrl("live", HELLO)));
    assertEquals(two.status, 503);
    await two.body?.cancel();
    await one.cancel();
  } finally {
    await bounded.close();
  }
});

Deno.test("watch options: defaults documented; a bound that is not a positive integer throws", () => {
  assertEquals(
    [DEFAULT_WATCH_INTERVAL_MS, DEFAULT_WATCH_MIN_INTERVAL_MS, DEFAULT_MAX_WATCHERS],
    [1000, 100, 64],
  );
  const client = { getKvState: () => Promise.resolve(null) } as unknown as WatchClient;
  for (const bad of [0, -1, 1.5, NaN]) {
    assertThrows(() => createWatchRoute({ client, maxWatchers: bad }), RangeError, "maxWatchers");
    assertThrows(() => createWatchRoute({ client, minIntervalMs: bad }), RangeError);
    assertThrows(() => createWatchRoute({ client, keepAliveMs: bad }), RangeError);
    assertThrows(() => createWatchRoute({ client, pollTimeoutMs: bad }), RangeError);
  }
  assertThrows(
    () => createWatchRoute({ client, minIntervalMs: 500, defaultIntervalMs: 200 }),
    RangeError,
    "defaultIntervalMs",
  );
  assertThrows(() => createQueryHandler({ client, watch: { maxWatchers: 0 } }), RangeError);
  assertEquals(createWatchRoute({ client }).path, "/v1/jobs/{jobId}/states/{stateName}/watch");
  assertEquals(BASE.startsWith("http://"), true);
});

Deno.test("watch over Deno.serve and real sockets: fetch reads the events; aborting the fetch ends the stream", async () => {
  let route!: WatchRoute;
  const plane = await startLivePlane((client) => {
    route = createWatchRoute({ client, minIntervalMs: 5 });
    return { client, watch: false, routes: [route] };
  }, denoTransport);
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    plane.handler,
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/v1/jobs/${JOB}/states/live/watch?` +
      `${HELLO}&intervalMs=5`;
    const gone = new AbortController();
    const res = await fetch(url, { signal: gone.signal });
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "text/event-stream");
    const sse = new SseReader(res.body!);
    assertEquals(await sse.next(), { event: "value", data: '{"value":"42"}' });
    plane.values.set("hello", 5n);
    assertEquals(await sse.next(), { event: "value", data: '{"value":"5"}' });
    assertEquals(route.active, 1);
    gone.abort();
    await sse.cancel().catch(() => {});
    await waitFor(() => route.active === 0, 5000, "the server to see the client go");
  } finally {
    route.closeAll();
    ac.abort();
    await server.finished;
    await plane.close();
  }
});
