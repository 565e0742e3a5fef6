/**
 * The gateway handler's `close()`: open watch streams of its own watch
 * route end at once (cleanly, after the events already sent; one waiting
 * on a held poll too), later watch requests answer 503
 * `GatewayClosedError` in the gateway's JSON error body, other routes keep
 * answering, a second close does nothing, and `await using` closes it. The
 * sanitizers check that no poll timer or op is left behind.
 */

import { createQueryHandler } from "../../src/http/query_handler.ts";
import type { QueryHandler } from "../../src/http/query_handler.ts";
import { assert, assertEquals } from "../_assert.ts";
import { read, valueUrl } from "./_plane.ts";
import { SseReader, startLivePlane, watchUrl } from "./_live_plane.ts";

const HELLO = "key=hello&keyType=string&valueType=long";

async function openWatch(handler: QueryHandler, url: string): Promise<SseReader> {
  const res = await handler(new Request(url));
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream");
  return new SseReader(res.body!);
}

Deno.test("query handler: close() ends its open watch streams at once and refuses new ones with 503", async () => {
  const plane = await startLivePlane();
  try {
    const handler = createQueryHandler({ client: plane.client });
    assertEquals(handler.closed, false);
    const a = await openWatch(handler, watchUrl("live", HELLO));
    const b = await openWatch(
      handler,
      watchUrl("livelist", "key=a&keyType=string&valueType=string&stateKind=list"),
    );
    // Held: its first poll has no answer yet when the handler closes.
    const held = await openWatch(handler, watchUrl("slow", HELLO));
    assertEquals(await a.next(), { event: "value", data: '{"value":"42"}' });
    assertEquals(await b.next(), { event: "value", data: '{"value":["x"]}' });
    await waitHeld(plane, 1);

    handler.close();
    assertEquals(handler.closed, true);
    // Each stream ends (done), within a short bound: none waits for a poll or a timer.
    assertEquals(await a.next(500), null);
    assertEquals(await b.next(500), null);
    assertEquals(await held.next(500), null);

    const refused = await read(await handler(new Request(watchUrl("live", HELLO))));
    assertEquals(refused.status, 503);
    assertEquals(refused.type, "application/json; charset=utf-8");
    assertEquals(refused.body.error.type, "GatewayClosedError");
    assert(refused.body.error.message.includes("shutting down"), refused.body.error.message);
    // The other routes still answer: requests in flight finish.
    const value = await read(await handler(new Request(valueUrl("live", HELLO))));
    assertEquals([value.status, value.body], [200, { value: "42" }]);
    assertEquals(
      (await handler(new Request(`${new URL(watchUrl("live", "")).origin}/healthz`)))
        .status,
      200,
    );
    handler.close(); // again: nothing
    assertEquals(handler.closed, true);
  } finally {
    plane.releaseSlow();
    await plane.close();
  }
});

Deno.test("query handler: await using closes it; with watch: false close() is harmless", async () => {
  const plane = await startLivePlane();
  try {
    let sse: SseReader;
    {
      await using handler = createQueryHandler({ client: plane.client });
      sse = await openWatch(handler, watchUrl("live", HELLO));
      assertEquals((await sse.next())?.event, "value");
    }
    assertEquals(await sse.next(500), null);

    const noWatch = createQueryHandler({ client: plane.client, watch: false });
    noWatch.close();
    assertEquals(noWatch.closed, true);
    assertEquals((await noWatch(new Request(watchUrl("live", HELLO)))).status, 404);
    const value = await read(await noWatch(new Request(valueUrl("live", HELLO))));
    assertEquals(value.status, 200);
  } finally {
    await plane.close();
  }
});

/** Waits (bounded) until the plane's slow state holds `n` requests. */
async function waitHeld(plane: { readonly slowHeld: number }, n: number): Promise<void> {
  for (let i = 0; i < 200 && plane.slowHeld < n; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assertEquals(plane.slowHeld, n);
}
