import { assertEquals } from "../_assert.ts";
import { KvStateClientProxy, MemoryTransport } from "../../mod.ts";

Deno.test("KvStateClientProxy: upstreamOptions reach the client it makes; deadline and frame bound default to the proxy's", async () => {
  const transport = new MemoryTransport();
  await using proxy = new KvStateClientProxy({
    transport,
    requestTimeoutMs: 1234,
    upstreamOptions: { maxQueuedBytesPerConnection: 4096, connectTimeoutMs: 777 },
  });
  assertEquals(proxy.client.maxQueuedBytesPerConnection, 4096);
  assertEquals(proxy.client.connectTimeoutMs, 777);
  assertEquals(proxy.client.requestTimeoutMs, 1234);

  await using plain = new KvStateClientProxy({ transport });
  assertEquals(plain.client.maxQueuedBytesPerConnection, 16 * 1024 * 1024);
  assertEquals(plain.client.requestTimeoutMs, 30_000);

  await using overridden = new KvStateClientProxy({
    transport,
    upstreamOptions: { requestTimeoutMs: 50 },
  });
  assertEquals(overridden.client.requestTimeoutMs, 50);
});
