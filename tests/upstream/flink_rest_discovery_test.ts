/**
 * Discovery of Queryable State proxies from Flink's REST API, against a fake
 * JobManager that serves Flink 1.19's `TaskManagersInfo` shape over real
 * HTTP (Deno.serve, 127.0.0.1, port 0), with real listeners for the probed
 * ports. Refreshes are driven by `refresh()`; nothing asserts on timing.
 */
import { assert, assertEquals, assertInstanceOf, assertRejects, assertThrows } from "../_assert.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import type {
  Connection,
  ConnectOptions,
  Listener,
  NetAddress,
  Transport,
} from "../../src/transport/types.ts";
import { ClosedError, ConnectError } from "../../src/wire/errors.ts";
import { FlinkRestDiscovery } from "../../src/upstream/flink_rest_discovery.ts";
import {
  FlinkRestBodyTooLargeError,
  FlinkRestError,
  FlinkRestShapeError,
  FlinkRestStatusError,
  FlinkRestTimeoutError,
  FlinkRestTooManyHostsError,
} from "../../src/upstream/flink_rest_errors.ts";
import {
  parseRpcAddress,
  parseTaskManagersInfo,
} from "../../src/upstream/flink_rest_taskmanagers.ts";
import { parsePortRange, PortRangeError } from "../../src/upstream/port_range.ts";
import { type FakeTaskManager, serveFakeFlinkRest, taskManagerInfo } from "./_fake_flink_rest.ts";
import { recorder } from "./_log_recorder.ts";
import { watchTimers } from "./_timers.ts";

const text = (ms: readonly NetAddress[]): string[] => ms.map((m) => `${m.hostname}:${m.port}`);

/** `p`, or a failure when it has not settled within `ms` (a bound against hangs, not a timing assert). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Listeners on three successive free ports p, p+1, p+2: p and p+1 kept, p+2 released. */
async function successivePorts(): Promise<{ start: number; listeners: Listener[] }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const a = await denoTransport.listen({ hostname: "127.0.0.1", port: 0 });
    const p = a.address.port;
    if (p + 2 > 65535) {
      await a.close();
      continue;
    }
    let b: Listener | undefined;
    let c: Listener | undefined;
    try {
      b = await denoTransport.listen({ hostname: "127.0.0.1", port: p + 1 });
      c = await denoTransport.listen({ hostname: "127.0.0.1", port: p + 2 });
      await c.close();
      return { start: p, listeners: [a, b] };
    } catch {
      await a.close();
      await b?.close();
      await c?.close();
    }
  }
  throw new Error("no three successive free ports found in 50 attempts");
}

/** A transport over another that counts connects in flight and can hold some hosts forever. */
class CountingTransport implements Transport {
  readonly name = "counting";
  inFlight = 0;
  maxInFlight = 0;
  attempts = 0;
  readonly #inner: Transport;
  readonly #hanging: Set<string>;

  constructor(inner: Transport, hanging: string[] = []) {
    this.#inner = inner;
    this.#hanging = new Set(hanging);
  }

  listen(address: NetAddress): Promise<Listener> {
    return this.#inner.listen(address);
  }

  async connect(options: ConnectOptions): Promise<Connection> {
    this.attempts++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.#hanging.has(options.hostname)) {
        // Like a host that drops SYNs: only the signal ends the attempt.
        await new Promise<never>((_, reject) => {
          const signal = options.signal!;
          if (signal.aborted) reject(new ConnectError("aborted"));
          signal.addEventListener("abort", () => reject(new ConnectError("aborted")), {
            once: true,
          });
        });
      }
      // A turn of the event loop, so that connects overlap.
      await new Promise((r) => setTimeout(r, 1));
      return await this.#inner.connect(options);
    } finally {
      this.inFlight--;
    }
  }
}

const TM_A: FakeTaskManager = { host: "10.0.0.5" };
const TM_B: FakeTaskManager = { host: "10.0.0.6", scheme: "akka.tcp" };
const TM_C: FakeTaskManager = { host: "fd00::7", blocked: true };

Deno.test("parsePortRange: Flink's port grammar, in order, each port once, bounded", () => {
  assertEquals(parsePortRange(9069), [9069]);
  assertEquals(parsePortRange("9069"), [9069]);
  assertEquals(parsePortRange(" 9069-9071 , 9080,9070"), [9069, 9070, 9071, 9080]);
  assertEquals(parsePortRange("9069-9069"), [9069]);
  for (const bad of ["", "abc", "9069-", "-9069", "9071-9069", "0", "65536", "9069,,9070", "1.5"]) {
    const e = assertThrows(() => parsePortRange(bad), PortRangeError);
    assertEquals(e.tooLarge, false, bad);
  }
  assertEquals(parsePortRange("9000-9063").length, 64);
  assertEquals(assertThrows(() => parsePortRange("9000-9064"), PortRangeError).tooLarge, true);
  assertEquals(
    assertThrows(() => parsePortRange("9000-9002,9010-9011", { maxPorts: 4 }), PortRangeError)
      .tooLarge,
    true,
  );
  assertThrows(() => parsePortRange("9000", { maxPorts: 0 }), RangeError);
});

Deno.test("parseRpcAddress: the hosts of akka/pekko, TCP/TLS, IPv4/IPv6/names; local; garbage", () => {
  assertEquals(parseRpcAddress("pekko.tcp://flink@10.0.0.5:6122/user/rpc/taskmanager_0"), {
    local: false,
    host: "10.0.0.5",
    port: 6122,
  });
  assertEquals(
    parseRpcAddress("akka.tcp://flink@tm-1.flink.svc.cluster.local:6122/user/rpc/taskmanager_0")
      ?.host,
    "tm-1.flink.svc.cluster.local",
  );
  assertEquals(
    parseRpcAddress("pekko.ssl.tcp://flink@[fd00::7]:6122/user/rpc/taskmanager_1")?.host,
    "fd00::7",
  );
  assertEquals(parseRpcAddress("akka.ssl.tcp://flink@10.0.0.5:40000/user/rpc/tm")?.port, 40000);
  assertEquals(parseRpcAddress("pekko://flink/user/rpc/taskmanager_0"), { local: true });
  for (
    const bad of [
      "",
      "10.0.0.5:6122",
      "pekko.tcp://flink@:6122/x",
      "pekko.tcp://flink@h:0/x",
      "x y",
    ]
  ) {
    assertEquals(parseRpcAddress(bad), undefined, bad);
  }
});

Deno.test("parseTaskManagersInfo: Flink 1.19's full TaskManagerInfo is read; wrong shapes are typed", () => {
  const body = JSON.parse(JSON.stringify({
    taskmanagers: [TM_A, TM_B, TM_C].map(taskManagerInfo),
  }));
  // Every field 1.19 writes is there (blocked only when true).
  assertEquals(Object.keys(body.taskmanagers[2]).sort(), [
    "blocked",
    "dataPort",
    "freeResource",
    "freeSlots",
    "hardware",
    "id",
    "jmxPort",
    "memoryConfiguration",
    "path",
    "slotsNumber",
    "timeSinceLastHeartbeat",
    "totalResource",
  ]);
  const tms = parseTaskManagersInfo(body, "u");
  assertEquals(tms.map((t) => t.address?.host), ["10.0.0.5", "10.0.0.6", "fd00::7"]);
  assertEquals(tms[0].id, "10.0.0.5:6122-4e7a1c");
  for (
    const [bad, reason] of [
      [[], "not a JSON object"],
      [null, "not a JSON object"],
      [{}, "taskmanagers is not an array"],
      [{ taskmanagers: {} }, "taskmanagers is not an array"],
      [{ taskmanagers: [7] }, "taskmanagers[0] is not an object"],
      [{ taskmanagers: [{ path: "p" }] }, "taskmanagers[0].id is not a string"],
      [{ taskmanagers: [{ id: "x", path: 3 }] }, "taskmanagers[0].path is not a string"],
    ] as const
  ) {
    assertThrows(() => parseTaskManagersInfo(bad, "u"), FlinkRestShapeError, reason);
  }
});

Deno.test("single port: each TaskManager host is a member, unprobed; headers sent; unchanged lists are not reported", async () => {
  const rest = serveFakeFlinkRest([TM_A, TM_B, TM_C, {
    host: "10.0.0.5",
    index: 1,
    rpcPort: 6123,
  }]);
  const calls: string[][] = [];
  try {
    await using discovery = new FlinkRestDiscovery(rest.base, {
      proxyPort: 9070,
      headers: { authorization: "Bearer s3cret" },
      onMembers: (m) => calls.push(text(m)),
    });
    assertEquals(text(await discovery.refresh()), [
      "10.0.0.5:9070",
      "10.0.0.6:9070",
      "fd00::7:9070",
    ]);
    await discovery.refresh();
    assertEquals(calls, [["10.0.0.5:9070", "10.0.0.6:9070", "fd00::7:9070"]]);
    assertEquals(rest.requests.length, 2);
    assertEquals(rest.requests[0], {
      method: "GET",
      path: "/taskmanagers",
      authorization: "Bearer s3cret",
    });
    assertEquals(discovery.url, `${rest.base}/taskmanagers`);
    assertEquals(discovery.ports, [9070]);
  } finally {
    await rest.close();
  }
});

Deno.test("default port 9069, a path prefix kept, user information kept out of url", async () => {
  const seen: string[] = [];
  await using discovery = new FlinkRestDiscovery("https://u:p@gateway.example/flink", {
    fetch: (input) => {
      seen.push(String(input));
      return Promise.resolve(Response.json({ taskmanagers: [taskManagerInfo(TM_A, 0)] }));
    },
  });
  assertEquals(text(await discovery.refresh()), ["10.0.0.5:9069"]);
  // The credentials travel as a Basic authorization header: fetch refuses them in a URL.
  assertEquals(seen, ["https://gateway.example/flink/taskmanagers"]);
  assertEquals(discovery.url, "https://gateway.example/flink/taskmanagers");
});

Deno.test("port range: two TaskManagers sharing 127.0.0.1 on successive ports are found; closed ports are not", async () => {
  const { start, listeners } = await successivePorts();
  const rest = serveFakeFlinkRest([
    { host: "127.0.0.1", rpcPort: 6122 },
    { host: "127.0.0.1", rpcPort: 6123 },
  ]);
  try {
    await using discovery = new FlinkRestDiscovery(rest.base, {
      proxyPort: `${start}-${start + 2}`,
      transport: denoTransport,
      probeTimeoutMs: 5_000,
    });
    assertEquals(text(await discovery.refresh()), [
      `127.0.0.1:${start}`,
      `127.0.0.1:${start + 1}`,
    ]);
    // One proxy goes away: its port is no longer a member at the next refresh.
    await listeners[1].close();
    assertEquals(text(await discovery.refresh()), [`127.0.0.1:${start}`]);
  } finally {
    for (const l of listeners) await l.close();
    await rest.close();
  }
});

Deno.test("port range: probes are bounded by probeConcurrency; a host that never answers times out alone", async () => {
  const net = new MemoryTransport();
  const up = await net.listen({ hostname: "10.0.0.5", port: 9070 });
  const transport = new CountingTransport(net, ["10.0.0.9"]);
  const body = {
    taskmanagers: ["10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9"].map((host, i) =>
      taskManagerInfo({ host }, i)
    ),
  };
  try {
    await using discovery = new FlinkRestDiscovery("http://jm:8081", {
      proxyPort: "9069-9072",
      transport,
      probeConcurrency: 3,
      probeTimeoutMs: 50,
      fetch: () => Promise.resolve(Response.json(body)),
    });
    assertEquals(text(await discovery.refresh()), ["10.0.0.5:9070"]);
    assertEquals(transport.attempts, 20);
    assertEquals(transport.maxInFlight, 3);
    assertEquals(transport.inFlight, 0);
  } finally {
    await up.close();
  }
});

Deno.test("a TaskManager added, then one removed, between refreshes: onMembers gets each new list", async () => {
  const rest = serveFakeFlinkRest([TM_A, TM_B]);
  const calls: string[][] = [];
  const { logger, events } = recorder();
  try {
    await using discovery = new FlinkRestDiscovery(rest.base, {
      onMembers: (m) => calls.push(text(m)),
      logger,
    });
    await discovery.refresh();
    rest.taskManagers = [TM_A, TM_B, { host: "10.0.0.8" }];
    await discovery.refresh();
    rest.taskManagers = [TM_B, { host: "10.0.0.8" }];
    await discovery.refresh();
    assertEquals(calls, [
      ["10.0.0.5:9069", "10.0.0.6:9069"],
      ["10.0.0.5:9069", "10.0.0.6:9069", "10.0.0.8:9069"],
      ["10.0.0.6:9069", "10.0.0.8:9069"],
    ]);
    const changed = events.filter((e) => e.event === "flink_rest_members_changed");
    assertEquals(changed.map((e) => [e.fields.added, e.fields.removed]), [
      ["10.0.0.5:9069,10.0.0.6:9069", ""],
      ["10.0.0.8:9069", ""],
      ["", "10.0.0.5:9069"],
    ]);
  } finally {
    await rest.close();
  }
});

Deno.test("REST failures keep the last good list and report a typed error each (onError, logger, lastError, refresh)", async () => {
  const rest = serveFakeFlinkRest([TM_A, TM_B]);
  const errors: FlinkRestError[] = [];
  const calls: string[][] = [];
  const { logger, events } = recorder();
  try {
    await using discovery = new FlinkRestDiscovery(rest.base, {
      onMembers: (m) => calls.push(text(m)),
      onError: (e) => errors.push(e),
      logger,
      maxBodyBytes: 4096,
      requestTimeoutMs: 300,
      maxHosts: 2,
    });
    const good = ["10.0.0.5:9069", "10.0.0.6:9069"];
    assertEquals(text(await discovery.refresh()), good);
    // deno-lint-ignore no-explicit-any
    const cases: [() => void, new (...a: any[]) => FlinkRestError, string][] = [
      [() => (rest.mode = { kind: "status", status: 500 }), FlinkRestStatusError, "HTTP 500"],
      [() => (rest.mode = { kind: "garbage" }), FlinkRestShapeError, "the body is not JSON"],
      [
        () => (rest.mode = { kind: "json", body: { taskmanagers: { id: "x" } } }),
        FlinkRestShapeError,
        "taskmanagers is not an array",
      ],
      [
        () => (rest.mode = { kind: "json", body: { taskmanagers: [{ id: "tm", path: "?" }] } }),
        FlinkRestShapeError,
        "no TaskManager path is an RPC address with a host",
      ],
      [
        () => (rest.mode = { kind: "oversized", bytes: 10_000, declared: true }),
        FlinkRestBodyTooLargeError,
        "declares",
      ],
      [
        () => (rest.mode = { kind: "oversized", bytes: 10_000, declared: false }),
        FlinkRestBodyTooLargeError,
        "the rest was not read",
      ],
      [() => (rest.mode = { kind: "hang" }), FlinkRestTimeoutError, "within 300 ms"],
      [() => (rest.mode = { kind: "stall-body" }), FlinkRestTimeoutError, "within 300 ms"],
      [
        () => {
          rest.mode = { kind: "ok" };
          rest.taskManagers = [TM_A, TM_B, { host: "10.0.0.8" }];
        },
        FlinkRestTooManyHostsError,
        "more than maxHosts (2)",
      ],
    ];
    for (const [arrange, type, message] of cases) {
      arrange();
      const e = await assertRejects(() => discovery.refresh(), type, message);
      assertEquals(errors.at(-1), e);
      assertEquals(discovery.lastError, e);
      assertEquals(text(discovery.members), good, type.name);
      const ev = events.at(-1)!;
      assertEquals([ev.level, ev.event, ev.fields.error_class], [
        "warn",
        "flink_rest_refresh_failed",
        type.name,
      ]);
      assertEquals(ev.fields.members_kept, 2);
    }
    assertEquals(errors.length, cases.length);
    const tooLarge = errors.filter((e) => e instanceof FlinkRestBodyTooLargeError);
    assertEquals(tooLarge.map((e) => [e.declared, e.maxBodyBytes, e.bytes > 4096]), [
      [true, 4096, true],
      [false, 4096, true],
    ]);
    // The REST API is back: the new list is taken, the recovery logged.
    rest.taskManagers = [TM_B];
    assertEquals(text(await discovery.refresh()), ["10.0.0.6:9069"]);
    assertEquals(discovery.lastError, undefined);
    assertEquals(calls, [good, ["10.0.0.6:9069"]]);
    const recovered = events.find((e) => e.event === "flink_rest_refresh_recovered")!;
    assertEquals(recovered.fields.failures, cases.length);
  } finally {
    await rest.close();
  }
});

Deno.test("a failed request (connection refused) is a FlinkRestError with the cause", async () => {
  const rest = serveFakeFlinkRest([]);
  const base = rest.base;
  await rest.close();
  await using discovery = new FlinkRestDiscovery(base);
  const e = await assertRejects(() => discovery.refresh(), FlinkRestError, "request failed");
  assertEquals(e.constructor, FlinkRestError);
  assert(e.cause !== undefined);
});

Deno.test("an empty list keeps a non-empty one by default; keepOnEmpty false takes it", async () => {
  for (const keepOnEmpty of [true, false]) {
    let body: unknown = { taskmanagers: [taskManagerInfo(TM_A, 0)] };
    const { logger, events } = recorder();
    await using discovery = new FlinkRestDiscovery("http://jm:8081", {
      fetch: () => Promise.resolve(Response.json(body)),
      keepOnEmpty,
      logger,
    });
    await discovery.refresh();
    body = { taskmanagers: [] };
    const after = await discovery.refresh();
    assertEquals(text(after), keepOnEmpty ? ["10.0.0.5:9069"] : []);
    assertEquals(events.some((e) => e.event === "flink_rest_empty_kept"), keepOnEmpty);
    assertEquals(discovery.lastError, undefined);
  }
});

Deno.test("a MiniCluster's local RPC address stands for the REST API's host; unreadable ones are logged", async () => {
  const { logger, events } = recorder();
  await using discovery = new FlinkRestDiscovery("http://127.0.0.1:8081", {
    fetch: () =>
      Promise.resolve(Response.json({
        taskmanagers: [
          { ...taskManagerInfo(TM_A, 0), path: "pekko://flink/user/rpc/taskmanager_0" },
          { ...taskManagerInfo(TM_B, 1), id: "odd", path: "somewhere else" },
        ],
      })),
    logger,
  });
  assertEquals(text(await discovery.refresh()), ["127.0.0.1:9069"]);
  const ev = events.find((e) => e.event === "flink_rest_address_unreadable")!;
  assertEquals([ev.fields.unreadable, ev.fields.id, ev.fields.path], [1, "odd", "somewhere else"]);
});

Deno.test("close during a refresh: the request is aborted, the refresh rejects ClosedError, nothing is reported", async () => {
  const rest = serveFakeFlinkRest([TM_A]);
  const calls: unknown[] = [];
  try {
    const discovery = new FlinkRestDiscovery(rest.base, {
      onMembers: (m) => calls.push(m),
      onError: (e) => calls.push(e),
      requestTimeoutMs: 60_000,
    });
    rest.mode = { kind: "hang" };
    const running = discovery.refresh();
    await rest.held();
    // Far less than the 60 s request timeout: close aborted the request.
    await within(discovery.close(), 10_000, "close");
    await assertRejects(() => running, ClosedError);
    await assertRejects(() => discovery.refresh(), ClosedError);
    await assertRejects(() => discovery.start(), ClosedError);
    assertEquals(calls, []);
    assertEquals(discovery.lastError, undefined);
    await discovery.close(); // idempotent
  } finally {
    await rest.close();
  }
});

Deno.test("close during probing: the probes are aborted, no timer or socket is left", async () => {
  const transport = new CountingTransport(new MemoryTransport(), ["10.0.0.5"]);
  let probing!: () => void;
  const started = new Promise<void>((r) => (probing = r));
  const counting = {
    name: "watch",
    listen: (a: NetAddress) => transport.listen(a),
    connect: (o: ConnectOptions) => {
      probing();
      return transport.connect(o);
    },
  };
  const discovery = new FlinkRestDiscovery("http://jm:8081", {
    proxyPort: "9069-9070",
    transport: counting,
    probeTimeoutMs: 60_000,
    fetch: () => Promise.resolve(Response.json({ taskmanagers: [taskManagerInfo(TM_A, 0)] })),
  });
  const running = discovery.refresh();
  await started;
  // Far less than the 60 s probe timeout: close aborted the probes.
  await within(discovery.close(), 10_000, "close");
  await assertRejects(() => running, ClosedError);
  // Let the aborted connects settle.
  for (let i = 0; i < 20 && transport.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assertEquals(transport.inFlight, 0);
  assertEquals(discovery.members, []);
});

Deno.test("close during probing: a connect that ignores the abort leaves no probe timer behind", async () => {
  let connects = 0;
  let probing!: () => void;
  const started = new Promise<void>((r) => (probing = r));
  // Never settles and never looks at its signal: only the probe's own timer or abort ends it.
  const deaf = {
    name: "deaf",
    listen: (): Promise<Listener> => Promise.reject(new Error("unused")),
    connect: (): Promise<Connection> => {
      connects++;
      probing();
      return new Promise<Connection>(() => {});
    },
  };
  // The probe timers (60 s, no other timer here has that delay) neither cleared nor fired.
  using timers = watchTimers((ms) => ms === 60_000);
  const discovery = new FlinkRestDiscovery("http://jm:8081", {
    proxyPort: "9069-9070",
    transport: deaf,
    probeTimeoutMs: 60_000,
    fetch: () => Promise.resolve(Response.json({ taskmanagers: [taskManagerInfo(TM_A, 0)] })),
  });
  const running = discovery.refresh();
  await started;
  await new Promise((r) => timers.setTimeout(r, 0)); // both probes started
  assertEquals(timers.pending.size, 2);
  await within(discovery.close(), 10_000, "close");
  await assertRejects(() => running, ClosedError);
  assertEquals(connects, 2);
  assertEquals(discovery.members, []);
  assertEquals(timers.pending.size, 0, "a probe timer outlived close()");
});

Deno.test("start(): a first refresh, then more on the timer until close (a change is picked up)", async () => {
  const rest = serveFakeFlinkRest([TM_A]);
  const lists: string[][] = [];
  let changed!: () => void;
  const second = new Promise<void>((r) => (changed = r));
  // The refresh timer (10 ms: no other timer here has that delay).
  using timers = watchTimers((ms) => ms === 10);
  try {
    await using discovery = new FlinkRestDiscovery(rest.base, {
      refreshIntervalMs: 10,
      onMembers: (m) => {
        lists.push(text(m));
        if (lists.length === 2) changed();
      },
    });
    const first = discovery.start();
    assertEquals(discovery.start(), first);
    assertEquals(text(await first), ["10.0.0.5:9069"]);
    rest.taskManagers = [TM_B];
    // Event-driven wait, bounded in case the timer never fires.
    await within(second, 10_000, "a refresh on the timer");
    assertEquals(lists, [["10.0.0.5:9069"], ["10.0.0.6:9069"]]);
    // Closed while the next refresh waits on its timer (bounded wait for that moment).
    for (let i = 0; i < 1_000 && timers.pending.size === 0; i++) {
      await new Promise((r) => timers.setTimeout(r, 1));
    }
    assertEquals(timers.pending.size, 1, "a refresh waits on the timer");
    const closing = discovery.close();
    assertEquals(timers.pending.size, 0, "the refresh timer outlived close()");
    await closing;
  } finally {
    await rest.close();
  }
});

Deno.test("a throwing onMembers is logged and does not stop the discovery", async () => {
  const { logger, events } = recorder();
  await using discovery = new FlinkRestDiscovery("http://jm:8081", {
    fetch: () => Promise.resolve(Response.json({ taskmanagers: [taskManagerInfo(TM_A, 0)] })),
    onMembers: () => {
      throw new Error("pool says no");
    },
    logger,
  });
  assertEquals(text(await discovery.refresh()), ["10.0.0.5:9069"]);
  const ev = events.find((e) => e.event === "flink_rest_callback_failed")!;
  assertEquals([ev.level, ev.fields.callback, ev.fields.error], [
    "error",
    "onMembers",
    "pool says no",
  ]);
});

Deno.test("options are checked: URL scheme, range without transport, too many ports, bounds, headers", () => {
  assertThrows(() => new FlinkRestDiscovery("ftp://jm:8081"), TypeError, "http(s)");
  assertThrows(
    () => new FlinkRestDiscovery("http://jm:8081", { proxyPort: "9069-9070" }),
    TypeError,
    "transport",
  );
  const e = assertThrows(
    () =>
      new FlinkRestDiscovery("http://jm:8081", {
        proxyPort: "1000-2000",
        transport: denoTransport,
      }),
    PortRangeError,
  );
  assertEquals(e.tooLarge, true);
  for (
    const key of [
      "refreshIntervalMs",
      "requestTimeoutMs",
      "maxBodyBytes",
      "maxHosts",
      "probeTimeoutMs",
      "probeConcurrency",
    ]
  ) {
    assertThrows(() => new FlinkRestDiscovery("http://jm:8081", { [key]: 0 }), RangeError, key);
  }
  assertThrows(
    () => new FlinkRestDiscovery("http://jm:8081", { headers: { "bad header": "x" } }),
    TypeError,
  );
  assertInstanceOf(new FlinkRestDiscovery("http://jm:8081"), FlinkRestDiscovery);
});
