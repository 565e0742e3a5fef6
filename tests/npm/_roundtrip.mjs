// The npm-shaped build under a real JS runtime (Node 20+, Bun): plain
// JavaScript importing the package by its subpaths, as an npm user would.
// Run by tests/npm/node_roundtrip_test.ts from a temporary project where
// node_modules/@kvstate/queryable-state links to the build. Prints one line
// per fact; the test asserts on them. Node-20-safe: no `await using`.
import {
  BindError,
  FrameLengthError,
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  parseType,
  ProtocolError,
  QueryableStateClient,
  TlsError,
  toJsonValue,
  TYPE_SERIALIZERS,
  types,
} from "@kvstate/queryable-state";
import { nodeTransport, TlsError as NodeTlsError } from "@kvstate/queryable-state/node";
import { createQueryHandler, errorAnswer } from "@kvstate/queryable-state/http";
import { serveNode } from "@kvstate/queryable-state/http/node";
import { createLogger } from "@kvstate/queryable-state/observability";
import * as wire from "@kvstate/queryable-state/wire";
import { FrameDecoderStream } from "@kvstate/queryable-state/streams";

console.log(`runtime: ${globalThis.Bun ? "bun" : "node"}, Deno global: ${typeof globalThis.Deno}`);
const transport = nodeTransport;
const server = new KvStateServer({ transport, port: 0 });
const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set(
  "hello",
  42n,
);
const kvStateId = server.registry.register(counts);
// A Flink-shaped composite state (issue 13): a POJO value keyed by Tuple2<String, Long>.
const orderKey = types.tuple(types.string, types.long);
const order = types.pojo({ orderId: types.long, customer: types.string, amount: types.double });
const orders = new InMemoryValueState(orderKey, order).set(["acme", 1001n], {
  orderId: 1001n,
  customer: "Ada",
  amount: 99.5,
});
const ordersId = server.registry.register(orders);
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
locations.notifyKvStateRegistered({
  jobId,
  jobVertexId: JobVertexId.random(),
  registrationName: "orders",
  numKeyGroups: 128,
  start: 0,
  end: 127,
  kvStateId: ordersId,
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

  const o = await client.getKvState(jobId, "orders", ["acme", 1001n], {
    keyType: orderKey,
    valueType: parseType("pojo<amount:double,customer:string,orderId:long>"),
  });
  console.log(`orders: ${JSON.stringify(toJsonValue(order, o))}`);

  served = await serveNode({ handler: createQueryHandler({ client }), port: 0 });
  const ordersUrl = `http://127.0.0.1:${served.address.port}/v1/jobs/${jobId}/states/orders?` +
    new URLSearchParams({
      key: '["acme",1001]',
      keyType: "tuple<string,long>",
      valueType: order.text,
    });
  const ordersResponse = await fetch(ordersUrl);
  console.log(`orders http: ${ordersResponse.status} ${await ordersResponse.text()}`);
  const url = `http://127.0.0.1:${served.address.port}/v1/jobs/0102030405060708a1a2a3a4a5a6a7a8` +
    "/states/word-counts?key=hello&keyType=string&valueType=long";
  const response = await fetch(url);
  console.log(`http: ${response.status} ${await response.text()}`);

  // One copy of each error class across subpaths: a BindError thrown
  // through ./node and through ./http/node is the one of "." and of ./wire,
  // and ./http's error answers know it (a copy would be an "InternalError").
  try {
    const listener = await transport.listen(serverAddress);
    await listener.close();
    console.log("node bind: no error");
  } catch (err) {
    console.log(
      `node bind: ${err instanceof BindError} ${err instanceof wire.BindError} ` +
        `${errorAnswer(err).error.type}`,
    );
  }
  try {
    const again = await serveNode({ handler: () => new Response("x"), port: served.address.port });
    await again.close();
    console.log("http bind: no error");
  } catch (err) {
    console.log(`http bind: ${err instanceof BindError} ${err?.constructor?.name}`);
  }
  console.log(`same TlsError: ${TlsError === NodeTlsError}`);
  // A ProtocolError thrown by ./wire's decoder is the one of "." and ./http.
  try {
    wire.decodeMessage(new Uint8Array(16));
    console.log("wire decode: no error");
  } catch (err) {
    console.log(
      `wire decode: ${err instanceof ProtocolError} ${errorAnswer(err).error.type}`,
    );
  }
  // A FrameLengthError failing a ./streams decoder is the one of "." and ./wire.
  try {
    const bytes = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array([0, 0, 0, 9, 1])); // a length of 9 over the bound
        controller.close();
      },
    });
    for await (const _ of bytes.pipeThrough(new FrameDecoderStream({ maxFrameLength: 4 }))) {
      // no frame comes
    }
    console.log("streams decode: no error");
  } catch (err) {
    const inWire = err instanceof wire.FrameLengthError && err instanceof wire.ProtocolError;
    console.log(`streams decode: ${err instanceof FrameLengthError} ${inWire}`);
  }
  const frame = wire.encodeKvStateRequest(0n, {
    jobId: wire.JobId.fromHex("fd72014d4c864993a2e5a9287b4a9c5d"),
    stateName: "query-name",
    keyHashCode: wire.stringHashCode("hello"),
    serializedKeyAndNamespace: wire.serializeKeyAndNamespace("hello", TYPE_SERIALIZERS.string),
  });
  console.log(`wire frame: ${wire.toHex(frame.subarray(0, 12))} ${wire.JobId === JobId}`);
  console.log(`logger: ${typeof createLogger}`);
} finally {
  await served?.close();
  await client.close();
  await proxy.close();
  await server.close();
}
console.log("closed");
