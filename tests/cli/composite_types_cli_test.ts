/**
 * The CLI with composite types (issue 13): the `client` command (and
 * examples/pojo_state.ts) reads the demo proxy's POJO-valued, tuple-keyed
 * state `orders` (a real process, real sockets on 127.0.0.1), a POJO key with `--key-hash` against an in-process
 * plane built from a fixture document, usage errors naming the position in
 * bad type text and the path in a bad key; fixture documents with type text
 * and values in the JSON form, and their errors' paths.
 */

import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { parseFixtures, registerFixtures } from "../../src/cli/fixtures.ts";
import { QueryableStateClient } from "../../src/client/queryable_state_client.ts";
import { InMemoryLocationRegistry } from "../../src/oracle/in_memory_location_registry.ts";
import { KvStateClientProxy } from "../../src/proxy/kv_state_client_proxy.ts";
import { KvStateServer } from "../../src/server/kv_state_server.ts";
import type { InMemoryValueState } from "../../src/server/in_memory_states.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { types } from "../../src/types/types.ts";
import { JobVertexId } from "../../src/wire/ids.ts";
import { runCli, startCli } from "./_process.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const ORDER_TYPE =
  "pojo<amount:double,customer:pojo<age:int,name:string>,orderId:long,tags:list<string>>";

const FIXTURES = {
  jobId: JOB,
  states: [
    {
      name: "orders",
      keyType: "tuple<string,long>",
      // Fields as a user declares them; the library orders them by name.
      valueType: "pojo<orderId:long,customer:pojo<name:string,age:int>,amount:double," +
        "tags:list<string>>",
      entries: [
        [["acme", 1001], {
          orderId: "1001",
          customer: { name: "Ada", age: 42 },
          amount: 99.5,
          tags: ["new"],
        }],
      ],
    },
    {
      name: "by-customer",
      keyType: "pojo<id:long,region:string>",
      valueType: "tuple<string,double>",
      stateKind: "list",
      entries: [[{ id: 7, region: "eu" }, [["acme", 99.5], ["globex", "Infinity"]]]],
    },
  ],
};

Deno.test("fixtures: type text and values in the JSON form build the states", async () => {
  const f = parseFixtures(FIXTURES);
  assertEquals(f.states.map((s) => [s.name, s.keyType, s.valueType]), [
    ["orders", "tuple<string,long>", ORDER_TYPE],
    ["by-customer", "pojo<id:long,region:string>", "tuple<string,double>"],
  ]);
  const key = types.tuple(types.string, types.long);
  const order = types.pojo({
    amount: types.double,
    customer: types.pojo({ age: types.int, name: types.string }),
    orderId: types.long,
    tags: types.list(types.string),
  });
  const { serializeKeyAndNamespace } = await import("../../src/wire/key_and_namespace.ts");
  const { serializeValue } = await import("../../src/wire/type_serializers.ts");
  const state = f.states[0].state as InMemoryValueState<unknown, unknown>;
  const content = state.getSerializedValue(serializeKeyAndNamespace(["acme", 1001n], key));
  assertEquals(
    content,
    serializeValue(order, {
      amount: 99.5,
      customer: { age: 42, name: "Ada" },
      orderId: 1001n,
      tags: ["new"],
    }),
  );
});

Deno.test("fixtures: bad type text names the field and the position; a bad value its path", () => {
  const withState = (patch: Record<string, unknown>) => ({
    jobId: JOB,
    states: [{ ...FIXTURES.states[0], ...patch }],
  });
  const t = assertThrows(() => parseFixtures(withState({ keyType: "tuple<string,lon>" })));
  assert((t as Error).message.startsWith("states[0].keyType: "), (t as Error).message);
  const v = assertThrows(() =>
    parseFixtures(withState({
      entries: [[["acme", 1], {
        orderId: "1",
        customer: { name: "Ada", age: "old" },
        amount: 1,
        tags: [],
      }]],
    }))
  );
  assert(
    (v as Error).message.startsWith("states[0].entries[0][1].customer.age: "),
    (v as Error).message,
  );
  const k = assertThrows(() => parseFixtures(withState({ entries: [[["acme"], null]] })));
  assert((k as Error).message.startsWith("states[0].entries[0][0]: "), (k as Error).message);
});

Deno.test("cli process: client reads the demo's POJO-valued, tuple-keyed state", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "off"]);
  try {
    const address = (await proxy.waitFor("stdout", /^listening on (\S+)$/))[1];
    const common = ["client", "--proxy", address, "--job", JOB, "--state", "orders"];
    const ran = await runCli([
      ...common,
      "--key-type",
      "tuple<string,long>",
      "--key",
      '["acme",1001]',
      "--value-type",
      ORDER_TYPE,
    ]);
    assertEquals(ran.code, 0, ran.stderr);
    assertEquals(
      ran.stdout,
      '{"amount":99.5,"customer":{"age":42,"name":"Ada"},"orderId":"1001",' +
        '"tags":["new","priority"]}\n',
    );
    const absent = await runCli([
      ...common,
      "--key-type",
      "tuple<string,long>",
      "--key",
      '["acme",1]',
      "--value-type",
      ORDER_TYPE,
    ]);
    assertEquals(absent.code, 1);
    assert(absent.stderr.includes("UnknownKeyOrNamespaceException"), absent.stderr);
    // examples/pojo_state.ts, the typed client reading the same state.
    const example = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", "examples/pojo_state.ts", "--proxy", address],
      cwd: new URL("../..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const out = new TextDecoder().decode(example.stdout);
    assertEquals(example.code, 0, new TextDecoder().decode(example.stderr));
    assertEquals(out.split("\n").filter((l) => l.startsWith("  ")), [
      "  acme/1001: Ada paid 99.5",
      "  acme/1002: Grace paid 12.25",
      "  globex/7: (no customer) paid 1500",
    ]);
  } finally {
    assertEquals((await proxy.stop()).code, 0, proxy.stderr.join("\n"));
  }
});

Deno.test("cli process: bad type text names the position; a bad key its path; a POJO key needs --key-hash", async () => {
  const common = ["client", "--proxy", "127.0.0.1:1", "--job", JOB, "--state", "orders"];
  const badType = await runCli([
    ...common,
    "--key-type",
    "tuple<string,lon>",
    "--key",
    "[]",
    "--value-type",
    "long",
  ]);
  assertEquals(badType.code, 2);
  assert(badType.stderr.startsWith("--key-type: "), badType.stderr);
  const badKey = await runCli([
    ...common,
    "--key-type",
    "tuple<string,long>",
    "--key",
    '["acme","x"]',
    "--value-type",
    "long",
  ]);
  assertEquals(badKey.code, 2);
  assert(badKey.stderr.startsWith("--key[1]: "), badKey.stderr);
  const noHash = await runCli([
    ...common,
    "--key-type",
    "pojo<id:long,region:string>",
    "--key",
    '{"id":7,"region":"eu"}',
    "--value-type",
    "long",
  ]);
  assertEquals(noHash.code, 2);
  assert(noHash.stderr.startsWith("--key-hash: required"), noHash.stderr);
  // A POJO inside a tuple: the tuple's hash needs the POJO's, so the same usage error.
  const nestedNoHash = await runCli([
    ...common,
    "--key-type",
    "tuple<string,pojo<id:long>>",
    "--key",
    '["acme",{"id":7}]',
    "--value-type",
    "long",
  ]);
  assertEquals(nestedNoHash.code, 2, nestedNoHash.stderr);
  assert(nestedNoHash.stderr.startsWith("--key-hash: required"), nestedNoHash.stderr);
});

Deno.test("cli process: a POJO key with --key-hash, from fixtures served in process", async () => {
  const fixtures = parseFixtures(FIXTURES);
  await using server = new KvStateServer({ transport: denoTransport, host: "127.0.0.1", port: 0 });
  const serverAddress = await server.start();
  registerFixtures(server.registry, fixtures);
  const locations = new InMemoryLocationRegistry();
  for (const s of fixtures.states) {
    locations.notifyKvStateRegistered({
      jobId: fixtures.jobId,
      jobVertexId: JobVertexId.random(),
      registrationName: s.name,
      numKeyGroups: s.numKeyGroups,
      start: 0,
      end: s.numKeyGroups - 1,
      kvStateId: s.kvStateId,
      address: serverAddress,
    });
  }
  await using proxy = new KvStateClientProxy({
    transport: denoTransport,
    host: "127.0.0.1",
    port: 0,
  });
  proxy.updateKvStateLocationOracle(fixtures.jobId, locations);
  const address = await proxy.start();
  const ran = await runCli([
    "client",
    "--proxy",
    `${address.hostname}:${address.port}`,
    "--job",
    JOB,
    "--state",
    "by-customer",
    "--key-type",
    "pojo<region:string,id:long>",
    "--key",
    '{"region":"eu","id":"7"}',
    "--key-hash=-123456",
    "--value-type",
    "tuple<string,double>",
    "--state-kind",
    "list",
  ]);
  assertEquals(ran.code, 0, ran.stderr);
  assertEquals(ran.stdout, '[["acme",99.5],["globex","Infinity"]]\n');
  // The same through the typed client, with the hash given by the descriptor.
  await using client = new QueryableStateClient({ transport: denoTransport, proxy: address });
  const region = types.pojo({ id: types.long, region: types.string }, { hashCode: () => 1 });
  const list = await client.getKvState(JOB, "by-customer", { id: 7n, region: "eu" }, {
    keyType: region,
    valueType: types.tuple(types.string, types.double),
    stateKind: "list",
  });
  assertEquals(list, [["acme", 99.5], ["globex", Infinity]]);
});
