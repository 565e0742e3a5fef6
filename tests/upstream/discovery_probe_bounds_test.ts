/**
 * The bound on the probes of one discovery refresh (`maxProbesPerRefresh`,
 * default 1024 = hosts × ports of the range): a refresh over it probes
 * nothing, fails with a `FlinkRestTooManyProbesError` naming both numbers,
 * and keeps the last good list. The REST API is the fake JobManager
 * (Flink 1.19's `TaskManagersInfo` over real HTTP, 127.0.0.1, port 0); the
 * probes go through an in-memory network whose connects are counted.
 */
import { assert, assertEquals, assertInstanceOf, assertRejects, assertThrows } from "../_assert.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import type {
  Connection,
  ConnectOptions,
  Listener,
  NetAddress,
  Transport,
} from "../../src/transport/types.ts";
import { FlinkRestDiscovery } from "../../src/upstream/flink_rest_discovery.ts";
import {
  type FlinkRestError,
  FlinkRestTooManyProbesError,
} from "../../src/upstream/flink_rest_errors.ts";
import { type FakeTaskManager, serveFakeFlinkRest } from "./_fake_flink_rest.ts";

const text = (ms: readonly NetAddress[]): string[] => ms.map((m) => `${m.hostname}:${m.port}`);

/** `n` TaskManagers on distinct hosts 10.1.x.y, the first being 10.1.0.1. */
function hosts(n: number): FakeTaskManager[] {
  const out: FakeTaskManager[] = [];
  for (let i = 1; i <= n; i++) out.push({ host: `10.1.${i >> 8}.${i & 255}` });
  return out;
}

/** A transport that counts the connects made through it. */
class CountingTransport implements Transport {
  readonly name = "counting";
  connects = 0;
  readonly #inner: Transport;

  constructor(inner: Transport) {
    this.#inner = inner;
  }

  listen(address: NetAddress): Promise<Listener> {
    return this.#inner.listen(address);
  }

  connect(options: ConnectOptions): Promise<Connection> {
    this.connects++;
    return this.#inner.connect(options);
  }
}

Deno.test("default bound 1024: 513 hosts × 2 ports probes nothing, fails typed, keeps the list; 512 × 2 probes", async () => {
  const rest = serveFakeFlinkRest(hosts(2));
  const transport = new CountingTransport(new MemoryTransport());
  const up = await transport.listen({ hostname: "10.1.0.1", port: 9070 });
  const errors: FlinkRestError[] = [];
  const changes: string[][] = [];
  try {
    await using discovery = new FlinkRestDiscovery(rest.base, {
      proxyPort: "9069-9070",
      transport,
      onError: (e) => errors.push(e),
      onMembers: (m) => changes.push(text(m)),
    });
    assertEquals(text(await discovery.refresh()), ["10.1.0.1:9070"]);
    assertEquals(transport.connects, 4);

    rest.taskManagers = hosts(513);
    const e = await assertRejects(() => discovery.refresh(), FlinkRestTooManyProbesError);
    assertEquals([e.maxProbes, e.probes, e.hosts, e.ports], [1024, 1026, 513, 2]);
    assert(
      e.message.endsWith(
        "513 hosts × 2 ports = 1026 probes, more than maxProbesPerRefresh (1024)",
      ),
      e.message,
    );
    assertEquals(transport.connects, 4, "no probe made");
    assertEquals(text(discovery.members), ["10.1.0.1:9070"]);
    assert(discovery.lastError === e);
    assertEquals(errors.length, 1);
    assert(errors[0] === e);

    // Exactly at the bound: every probe made, the list follows.
    rest.taskManagers = hosts(512);
    assertEquals(text(await discovery.refresh()), ["10.1.0.1:9070"]);
    assertEquals(transport.connects, 4 + 1024);
    assertEquals(discovery.lastError, undefined);
    assertEquals(changes, [["10.1.0.1:9070"]]);
  } finally {
    await up.close();
    await rest.close();
  }
});

Deno.test("maxProbesPerRefresh: hosts × ports at the bound passes, one host more fails; the list is kept", async () => {
  const rest = serveFakeFlinkRest(hosts(2));
  const transport = new CountingTransport(new MemoryTransport());
  const a = await transport.listen({ hostname: "10.1.0.1", port: 9069 });
  const b = await transport.listen({ hostname: "10.1.0.2", port: 9071 });
  try {
    await using discovery = new FlinkRestDiscovery(rest.base, {
      proxyPort: "9069-9071",
      transport,
      maxProbesPerRefresh: 6,
    });
    assertEquals(text(await discovery.refresh()), ["10.1.0.1:9069", "10.1.0.2:9071"]);
    assertEquals(transport.connects, 6);

    rest.taskManagers = hosts(3);
    const e = await assertRejects(() => discovery.refresh(), FlinkRestTooManyProbesError);
    assertEquals([e.maxProbes, e.probes, e.hosts, e.ports], [6, 9, 3, 3]);
    assertEquals(transport.connects, 6);
    assertEquals(text(discovery.members), ["10.1.0.1:9069", "10.1.0.2:9071"]);

    // The next good answer is taken again.
    rest.taskManagers = hosts(1);
    assertEquals(text(await discovery.refresh()), ["10.1.0.1:9069"]);
    assertEquals(transport.connects, 9);
    assertEquals(discovery.lastError, undefined);
  } finally {
    await a.close();
    await b.close();
    await rest.close();
  }
});

Deno.test("maxProbesPerRefresh: a single port is not probed, so the bound does not apply", async () => {
  const rest = serveFakeFlinkRest(hosts(5));
  const transport = new CountingTransport(new MemoryTransport());
  try {
    await using discovery = new FlinkRestDiscovery(rest.base, {
      proxyPort: 9069,
      transport,
      maxProbesPerRefresh: 1,
    });
    assertEquals((await discovery.refresh()).length, 5);
    assertEquals(transport.connects, 0);
  } finally {
    await rest.close();
  }
});

Deno.test("maxProbesPerRefresh: checked by the constructor (a positive integer, at least the ports of the range)", () => {
  const transport = new MemoryTransport();
  for (const bad of [0, -1, 1.5, NaN]) {
    assertThrows(
      () => new FlinkRestDiscovery("http://jm:8081", { maxProbesPerRefresh: bad }),
      RangeError,
      "maxProbesPerRefresh",
    );
  }
  const e = assertThrows(
    () =>
      new FlinkRestDiscovery("http://jm:8081", {
        proxyPort: "9069-9072",
        transport,
        maxProbesPerRefresh: 3,
      }),
    RangeError,
  );
  assertEquals(
    e.message,
    "maxProbesPerRefresh (3) is less than the 4 ports of proxyPort: not one host could be probed",
  );
  assertInstanceOf(
    new FlinkRestDiscovery("http://jm:8081", {
      proxyPort: "9069-9072",
      transport,
      maxProbesPerRefresh: 4,
    }),
    FlinkRestDiscovery,
  );
});
