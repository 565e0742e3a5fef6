// The npm-shaped build under a real JS runtime (Node 20+, Bun): plain
// JavaScript importing the package by its subpaths, as an npm user would.
// Run by tests/npm/node_roundtrip_test.ts from a temporary project where
// node_modules/@kvstate/queryable-state links to the build. Prints one line
// per fact; the test asserts on them. Node-20-safe: no `await using`.
import {
  BindError,
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  QueryableStateClient,
  TlsError,
  TYPE_SERIALIZERS,
} from "@kvstate/queryable-state";
import { nodeTransport, TlsError as NodeTlsError } from "@kvstate/queryable-state/node";
import { createQueryHandler } from "@kvstate/queryable-state/http";
import { serveNode } from "@kvstate/queryable-state/http/node";
import { createLogger } from "@kvstate/queryable-state/observability";

console.log(`runtime: ${globalThis.Bun ? "bun" : "node"}, Deno global: ${typeof globalThis.Deno}`);
const transport = nodeTransport;
const server = new KvStateServer({ transport, port: 0 });
const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set(
  "hello",
  42n,
);
const kvStateId = server.registry.register(counts);
const serverAddress = await server.start();
const jobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
const locations = new InMemoryLocationRegistry();
locations.notifyKvStateRegistered({
  jobId,
  jobVertexId: JobVertexId.random(),
  registrationName: "word-counts",
  numKeyGroups: 128,
  start: 0,
  end: 127,
  kvStateId,
  address: serverAddress,
});
const proxy = new KvStateClientProxy({ transport, port: 0 });
proxy.updateKvStateLocationOracle(jobId, locations);
const proxyAddress = await proxy.start();
const client = new QueryableStateClient({ transport, proxy: proxyAddress });
let served;
try {
  const types = { keyType: "string", valueType: "long" };
  console.log(`value: ${await client.getKvState(jobId, "word-counts", "hello", types)}`);
  console.log(
    `absent: ${await client.getKvStateIfPresent(jobId, "word-counts", "nope", types)}`,
  );

  served = await serveNode({ handler: createQueryHandler({ client }), port: 0 });
  const url = `http://127.0.0.1:${served.address.port}/v1/jobs/0102030405060708a1a2a3a4a5a6a7a8` +
    "/states/word-counts?key=hello&keyType=string&valueType=long";
  const response = await fetch(url);
  console.log(`http: ${response.status} ${await response.text()}`);

  // One copy of each error class across subpaths: a BindError thrown
  // through ./node and through ./http/node is the one of ".".
  try {
    const listener = await transport.listen(serverAddress);
    await listener.close();
    console.log("node bind: no error");
  } catch (err) {
    console.log(`node bind: ${err instanceof BindError} ${err?.constructor?.name}`);
  }
  try {
    const again = await serveNode({ handler: () => new Response("x"), port: served.address.port });
    await again.close();
    console.log("http bind: no error");
  } catch (err) {
    console.log(`http bind: ${err instanceof BindError} ${err?.constructor?.name}`);
  }
  console.log(`same TlsError: ${TlsError === NodeTlsError}`);
  console.log(`logger: ${typeof createLogger}`);
} finally {
  await served?.close();
  await client.close();
  await proxy.close();
  await server.close();
}
console.log("closed");
