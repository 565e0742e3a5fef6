import { listenOnPorts, parsePortSpec } from "../../src/transport/listen.ts";
import { MemoryTransport } from "../../src/transport/memory.ts";
import type { Connection, Listener, NetAddress, Transport } from "../../src/transport/types.ts";
import { BindError, ConnectError } from "../../src/wire/errors.ts";
import { assertEquals, assertInstanceOf, assertRejects, assertThrows } from "../_assert.ts";

Deno.test("parsePortSpec: Flink's examples and the grammar's corners", () => {
  assertEquals(parsePortSpec("9123"), [9123]);
  assertEquals(parsePortSpec("50100-50103"), [50100, 50101, 50102, 50103]);
  assertEquals(parsePortSpec("50100-50101,50300-50302,51234"), [
    50100,
    50101,
    50300,
    50301,
    50302,
    51234,
  ]);
  assertEquals(parsePortSpec("  9069 , 9070-9071 "), [9069, 9070, 9071], "items are trimmed");
  assertEquals(parsePortSpec("9069 - 9070"), [9069, 9070], "blanks around the dash");
  assertEquals(parsePortSpec("0"), [0], "0 = any free port");
  assertEquals(parsePortSpec("65534-65535"), [65534, 65535]);
  assertEquals(parsePortSpec("7,5-8"), [7, 5, 6, 8], "configuration order, each port once");
  assertEquals(parsePortSpec(9069), [9069]);
  assertEquals(parsePortSpec(0), [0]);
  assertEquals(parsePortSpec("0-65535").length, 65536);
});

Deno.test("parsePortSpec: invalid specs throw a clear TypeError", () => {
  const cases: [string | number, string][] = [
    ["", "empty item"],
    [" ", "empty item"],
    ["9069,", "empty item"],
    [",9069", "empty item"],
    ["9069,,9070", "empty item"],
    ["abc", 'cannot parse "abc"'],
    ["90a9", "cannot parse"],
    ["-1", "cannot parse"],
    ["+9069", "cannot parse"],
    ["9069.5", "cannot parse"],
    ["9069-", "cannot parse"],
    ["-9069", "cannot parse"],
    ["1-2-3", "cannot parse"],
    ["9070-9069", "must have start < end"],
    ["9069-9069", "must have start < end"],
    ["65536", "between 0 and 65535, but was 65536"],
    ["65535-65536", "between 0 and 65535, but was 65536"],
    ["99999999999999999999", "between 0 and 65535"],
    [-1, "but was -1"],
    [65536, "but was 65536"],
    [1.5, "but was 1.5"],
    [NaN, "but was NaN"],
  ];
  for (const [spec, message] of cases) {
    assertThrows(() => parsePortSpec(spec), TypeError, message);
  }
  // deno-lint-ignore no-explicit-any
  assertThrows(() => parsePortSpec(null as any), TypeError);
});

/** A transport whose ports answer as scripted; records the ports tried. */
class ScriptedTransport implements Transport {
  readonly name = "scripted";
  readonly tried: number[] = [];
  constructor(readonly answer: (port: number) => Error | null) {}
  listen(address: NetAddress): Promise<Listener> {
    this.tried.push(address.port);
    const e = this.answer(address.port);
    if (e !== null) return Promise.reject(e);
    const listener: Listener = {
      address,
      accept: () => Promise.resolve(null),
      close: () => Promise.resolve(),
      async *[Symbol.asyncIterator](): AsyncIterator<Connection> {},
    };
    return Promise.resolve(listener);
  }
  connect(): Promise<Connection> {
    return Promise.reject(new ConnectError("no"));
  }
}

const inUse = (port: number) => new BindError(`Address already in use: 127.0.0.1:${port}`, true);

Deno.test("listenOnPorts: tries ports in configuration order, skipping those in use", async () => {
  const t = new ScriptedTransport((p) => p === 9072 ? null : inUse(p));
  const l = await listenOnPorts(t, "127.0.0.1", "9074,9069-9072,9080", "Queryable State Server");
  assertEquals(l.address, { hostname: "127.0.0.1", port: 9072 });
  assertEquals(t.tried, [9074, 9069, 9070, 9071, 9072]);
});

Deno.test("listenOnPorts: a number, a list, and the first port free", async () => {
  const t = new ScriptedTransport(() => null);
  assertEquals((await listenOnPorts(t, "h", 0, "S")).address.port, 0);
  assertEquals((await listenOnPorts(t, "h", [5, 4], "S")).address.port, 5);
  assertEquals(t.tried, [0, 5]);
});

Deno.test("listenOnPorts: all in use gives Flink's message, the last failure as cause", async () => {
  const t = new ScriptedTransport(inUse);
  const e = await assertRejects(
    () => listenOnPorts(t, "127.0.0.1", "9069-9071", "Queryable State Proxy Server"),
    BindError,
  );
  assertEquals(
    e.message,
    "Unable to start Queryable State Proxy Server. All ports in provided range are occupied.",
  );
  assertEquals(e.addressInUse, true);
  assertEquals(e.javaClassName, "java.net.BindException");
  assertInstanceOf(e.cause, BindError);
  assertEquals((e.cause as Error).message, "Address already in use: 127.0.0.1:9071");
  assertEquals(t.tried, [9069, 9070, 9071]);
});

Deno.test("listenOnPorts: any other failure is rethrown at once", async () => {
  const denied = new BindError("Cannot bind 127.0.0.1:80: Permission denied", false);
  const t1 = new ScriptedTransport((p) => p === 80 ? denied : inUse(p));
  const e1 = await assertRejects(() => listenOnPorts(t1, "127.0.0.1", "79-81", "S"), BindError);
  assertEquals(e1 === denied, true);
  assertEquals(t1.tried, [79, 80]);

  const boom = new Error("boom");
  const t2 = new ScriptedTransport(() => boom);
  const e2 = await assertRejects(() => listenOnPorts(t2, "127.0.0.1", [1, 2], "S"));
  assertEquals(e2 === boom, true);
  assertEquals(t2.tried, [1]);
});

Deno.test("listenOnPorts: malformed ports are a TypeError before any bind", async () => {
  const t = new ScriptedTransport(() => null);
  await assertRejects(() => listenOnPorts(t, "h", "9069-", "S"), TypeError);
  await assertRejects(() => listenOnPorts(t, "h", [], "S"), TypeError, "no port");
  await assertRejects(() => listenOnPorts(t, "h", [1, 70000], "S"), TypeError, "70000");
  await assertRejects(() => listenOnPorts(t, "h", -3, "S"), TypeError);
  assertEquals(t.tried, []);
});

Deno.test("listenOnPorts: over the memory transport", async () => {
  const t = new MemoryTransport();
  const a = await t.listen({ hostname: "127.0.0.1", port: 7000 });
  const b = await listenOnPorts(t, "127.0.0.1", "7000-7001", "Queryable State Server");
  assertEquals(b.address.port, 7001);
  await assertRejects(
    () => listenOnPorts(t, "127.0.0.1", "7000-7001", "Queryable State Server"),
    BindError,
    "Unable to start Queryable State Server. All ports in provided range are occupied.",
  );
  await a.close();
  const c = await listenOnPorts(t, "127.0.0.1", "7000-7001", "Queryable State Server");
  assertEquals(c.address.port, 7000, "a closed listener frees its port");
  await b.close();
  await c.close();
});
