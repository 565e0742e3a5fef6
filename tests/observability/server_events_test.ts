/**
 * The log events of a server, from real scenarios over every transport:
 * start and stop, a framing error, a bad frame, connections refused by a
 * bound, the watchdog's timeouts, an internal error, the rate limit of a
 * flood, nothing per request, and nothing at all (nothing built) without a
 * logger.
 */

import {
  InMemoryValueState,
  type KvStateId,
  KvStateServer,
  type KvStateServerOptions,
  type Transport,
  TYPE_SERIALIZERS as S,
} from "../../mod.ts";
import {
  encodeKvStateInternalRequest,
  MessageType,
  serializeKeyAndNamespace,
} from "../../src/wire/mod.ts";
import type { Logger, LogLevel } from "../../src/observability/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { delay, RawPeer, TRANSPORTS } from "../_harness.ts";
import { Capture, hostPort } from "./_capture.ts";

const SERVER = "Queryable State Server";

async function stateServer(
  transport: Transport,
  options: Partial<KvStateServerOptions> = {},
): Promise<{ server: KvStateServer; id: KvStateId }> {
  const server = new KvStateServer({ transport, ...options });
  const id = server.registry.register(
    new InMemoryValueState(S.string, S.long).set("hello", 42n),
  );
  await server.start();
  return { server, id };
}

const request = (n: number, id: KvStateId) =>
  encodeKvStateInternalRequest(BigInt(n), {
    kvStateId: id,
    serializedKeyAndNamespace: serializeKeyAndNamespace("hello", S.string),
  });

/** Sends request `n` and checks that it is answered with a result. */
async function roundTrip(peer: RawPeer, n: number, id: KvStateId): Promise<void> {
  await peer.send(request(n, id));
  const f = await peer.frame();
  assert(f !== null, "answered");
  assertEquals(f[11], MessageType.REQUEST_RESULT);
}

/** Four bytes that are not a frame length (negative). */
const GARBAGE = new Uint8Array([0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4]);

for (const tc of TRANSPORTS) {
  /** One transport per case (an in-memory one is its own network). */
  const t = tc.make();

  Deno.test(`server events [${tc.name}]: server_started with its address, server_stopped on close, nothing else`, async () => {
    const cap = new Capture();
    const { server } = await stateServer(t, { logger: cap.logger });
    const started = cap.named("server_started");
    assertEquals(started.length, 1);
    assertEquals(started[0].level, "info");
    assertEquals(started[0].server, SERVER);
    assertEquals(started[0].address, hostPort(server.address));
    assertEquals(cap.named("server_stopped").length, 0);
    await server.close();
    await server.close();
    assertEquals(cap.events.map((e) => `${e.level} ${e.event}`), [
      "info server_started",
      "info server_stopped",
    ]);
  });

  Deno.test(`server events [${tc.name}]: a bad length prefix logs framing_error with the error class and the peer; the peer still reads the failure, then EOF`, async () => {
    const cap = new Capture();
    const { server } = await stateServer(t, { logger: cap.logger });
    try {
      const peer = await RawPeer.connect(t, server.address);
      try {
        await peer.send(GARBAGE);
        const f = await peer.frame();
        assert(f !== null);
        assertEquals(f[11], MessageType.SERVER_FAILURE);
        assert(await peer.closedWithin(3000), "closed after the failure");
        const e = await cap.waitFor("framing_error");
        assertEquals(e.level, "warn");
        assertEquals(e.server, SERVER);
        assertEquals(e.error, "FrameLengthError");
        assert(String(e.message).includes("-2"), String(e.message));
        assertEquals(e.peer, hostPort(peer.conn.localAddress));
      } finally {
        await peer.close();
      }
    } finally {
      await server.close();
    }
  });

  Deno.test(`server events [${tc.name}]: a frame with a bad header logs bad_frame; the connection goes on unlogged`, async () => {
    const cap = new Capture();
    const { server, id } = await stateServer(t, { logger: cap.logger });
    try {
      const peer = await RawPeer.connect(t, server.address);
      try {
        const bad = request(1, id);
        bad[7] = 0x09; // version 0x79e9 instead of 0x79e0… any other version
        await peer.send(bad);
        const f = await peer.frame();
        assert(f !== null);
        assertEquals(f[11], MessageType.SERVER_FAILURE);
        await roundTrip(peer, 2, id);
        const e = await cap.waitFor("bad_frame");
        assertEquals(e.level, "warn");
        assertEquals(e.peer, hostPort(peer.conn.localAddress));
        assert(typeof e.error === "string" && e.error.length > 0);
        for (let i = 3; i < 20; i++) await roundTrip(peer, i, id);
        assertEquals(cap.named("bad_frame").length, 1);
        assertEquals(cap.named("framing_error").length, 0);
      } finally {
        await peer.close();
      }
    } finally {
      await server.close();
    }
  });

  for (const bound of ["maxConnections", "maxConnectionsPerAddress"] as const) {
    Deno.test(`server events [${tc.name}]: ${bound} 1, a second connection is refused and logged with that bound`, async () => {
      const cap = new Capture();
      const { server, id } = await stateServer(t, { logger: cap.logger, [bound]: 1 });
      const a = await RawPeer.connect(t, server.address);
      const peers = [a];
      try {
        await roundTrip(a, 1, id);
        const b = await RawPeer.connect(t, server.address);
        peers.push(b);
        assert(await b.closedWithin(3000), "the second connection is closed");
        const e = await cap.waitFor("connection_refused");
        assertEquals(e.level, "warn");
        assertEquals(e.bound, bound);
        assertEquals(e.limit, 1);
        assertEquals(e.peer, hostPort(b.conn.localAddress));
        await roundTrip(a, 2, id);
      } finally {
        await Promise.all(peers.map((p) => p.close().catch(() => {})));
        await server.close();
      }
      assertEquals(cap.named("connection_refused").length, 1);
    });
  }

  Deno.test(`server events [${tc.name}]: the watchdog logs connection_timed_out: incomplete_frame (warn, not a framing_error) and idle (info)`, async () => {
    const cap = new Capture();
    const { server, id } = await stateServer(t, {
      logger: cap.logger,
      incompleteFrameTimeoutMs: 80,
      idleTimeoutMs: 150,
    });
    const partial = await RawPeer.connect(t, server.address);
    const idle = await RawPeer.connect(t, server.address);
    try {
      await roundTrip(idle, 1, id);
      await partial.send(request(2, id).subarray(0, 10));
      const f = await partial.frame();
      assert(f !== null);
      assertEquals(f[11], MessageType.SERVER_FAILURE);
      assert(await idle.closedWithin(3000), "the idle connection is closed");
      const timedOut = cap.named("connection_timed_out");
      const byReason = new Map(timedOut.map((e) => [e.reason, e]));
      assertEquals(timedOut.length, 2);
      const inc = byReason.get("incomplete_frame")!;
      assertEquals(inc.level, "warn");
      assertEquals(inc.timeout_ms, 80);
      assertEquals(inc.peer, hostPort(partial.conn.localAddress));
      const idl = byReason.get("idle")!;
      assertEquals(idl.level, "info");
      assertEquals(idl.timeout_ms, 150);
      assertEquals(idl.peer, hostPort(idle.conn.localAddress));
      assertEquals(cap.named("framing_error").length, 0);
    } finally {
      await Promise.all([partial.close(), idle.close()].map((p) => p.catch(() => {})));
      await server.close();
    }
  });

  Deno.test(`server events [${tc.name}]: an exception of a stats hook is logged as internal_error (class and message); the request is still answered`, async () => {
    const cap = new Capture();
    const { server, id } = await stateServer(t, {
      logger: cap.logger,
      stats: {
        reportRequest() {
          throw new RangeError("hook broke");
        },
        reportSuccessfulRequest() {},
        reportFailedRequest() {},
        reportActiveConnection() {},
        reportInactiveConnection() {},
      },
    });
    const peer = await RawPeer.connect(t, server.address);
    try {
      await roundTrip(peer, 1, id);
      const e = await cap.waitFor("internal_error");
      assertEquals(e.level, "error");
      assertEquals(e.error, "RangeError");
      assertEquals(e.message, "hook broke");
      assertEquals(server.stats.internalErrors, 1);
    } finally {
      await peer.close();
      await server.close();
    }
  });

  Deno.test(`server events [${tc.name}]: 12 garbage connections log 3 framing_error events (rate limit 3 per interval), then one log_events_suppressed counting 9`, async () => {
    const cap = new Capture({ maxEvents: 3, intervalMs: 60_000 }, true);
    const { server } = await stateServer(t, { logger: cap.logger });
    try {
      for (let i = 0; i < 12; i++) {
        const peer = await RawPeer.connect(t, server.address);
        try {
          await peer.send(GARBAGE);
          assert(await peer.closedWithin(3000), "failed and closed");
        } finally {
          await peer.close();
        }
      }
      // Every connection was failed: wait until the last failure was handled.
      for (let i = 0; i < 200 && server.stats.activeConnections > 0; i++) await delay(5);
      assertEquals(cap.named("framing_error").length, 3);
      assertEquals(cap.named("log_events_suppressed").length, 0);
      // The next event after the interval reports what was left out first.
      cap.now = 60_000;
      const peer = await RawPeer.connect(t, server.address);
      try {
        await peer.send(GARBAGE);
        assert(await peer.closedWithin(3000));
      } finally {
        await peer.close();
      }
      await cap.waitFor("log_events_suppressed");
      const names = cap.events.map((e) => e.event);
      assertEquals(names.slice(-2), ["log_events_suppressed", "framing_error"]);
      const s = cap.named("log_events_suppressed")[0];
      assertEquals(s.suppressed_event, "framing_error");
      assertEquals(s.suppressed, 9);
      assertEquals(s.level, "warn");
    } finally {
      await server.close();
    }
  });

  Deno.test(`server events [${tc.name}]: nothing is logged per request (200 answered)`, async () => {
    const cap = new Capture();
    const { server, id } = await stateServer(t, { logger: cap.logger });
    const peer = await RawPeer.connect(t, server.address);
    try {
      for (let i = 0; i < 200; i++) await roundTrip(peer, i, id);
      assertEquals(cap.events.map((e) => e.event), ["server_started"]);
    } finally {
      await peer.close();
      await server.close();
    }
  });
}

/** A logger that is off, counting what is asked of it. */
function offLogger(): { logger: Logger; enabledCalls: number; writes: number } {
  const spy = { logger: undefined as unknown as Logger, enabledCalls: 0, writes: 0 };
  const write = () => {
    spy.writes++;
  };
  spy.logger = {
    enabled: (_level: LogLevel) => {
      spy.enabledCalls++;
      return false;
    },
    debug: write,
    info: write,
    warn: write,
    error: write,
  };
  return spy;
}

Deno.test("server events: a logger that is off is only asked enabled(), never written to, and never per request", async () => {
  const transport = TRANSPORTS[0].make();
  const spy = offLogger();
  const { server, id } = await stateServer(transport, { logger: spy.logger, maxConnections: 1 });
  const a = await RawPeer.connect(transport, server.address);
  try {
    const before = spy.enabledCalls;
    for (let i = 0; i < 100; i++) await roundTrip(a, i, id);
    assertEquals(spy.enabledCalls, before, "no check per request");
    const b = await RawPeer.connect(transport, server.address);
    assert(await b.closedWithin(3000));
    await b.close();
    assert(spy.enabledCalls > before, "asked at the bound");
  } finally {
    await a.close();
  }
  for (let i = 0; i < 200 && server.stats.activeConnections > 0; i++) await delay(5);
  const garbage = await RawPeer.connect(transport, server.address);
  await garbage.send(GARBAGE);
  assert(await garbage.closedWithin(3000));
  await garbage.close();
  await server.close();
  assertEquals(spy.writes, 0);
});

Deno.test("server events: a logger that throws changes nothing: requests, refusals and framing failures behave as without one", async () => {
  const transport = TRANSPORTS[0].make();
  const boom = () => {
    throw new Error("logger down");
  };
  const logger: Logger = { enabled: () => true, debug: boom, info: boom, warn: boom, error: boom };
  const { server, id } = await stateServer(transport, { logger, maxConnections: 1 });
  const a = await RawPeer.connect(transport, server.address);
  try {
    await roundTrip(a, 1, id);
    const b = await RawPeer.connect(transport, server.address);
    assert(await b.closedWithin(3000));
    await b.close();
    await a.send(GARBAGE);
    const f = await a.frame();
    assert(f !== null);
    assertEquals(f[11], MessageType.SERVER_FAILURE);
    assertEquals(server.stats.internalErrors, 0);
  } finally {
    await a.close();
    await server.close();
  }
});
