import { nodeTransport } from "../../src/transport/node.ts";
import { registerTransportCases } from "./_register.ts";
import { NodeTransport } from "../../src/transport/node.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { exchangePatterns, HOST, verifyPattern } from "./_cases.ts";
registerTransportCases("node (Deno compat)", nodeTransport);

Deno.test("node (Deno compat) transport: a 1-byte high-water mark still moves 1 MiB both ways", async () => {
  const t = new NodeTransport({ highWaterMark: 1 });
  const listener = await t.listen({ hostname: HOST, port: 0 });
  const accepted = listener.accept();
  const client = await t.connect({ hostname: HOST, port: listener.address.port });
  const server = (await accepted)!;
  const total = 1024 * 1024;
  const [toServer, toClient] = await exchangePatterns(client, server, total, 21, 22);
  assertEquals(verifyPattern(21, toServer), total);
  assertEquals(verifyPattern(22, toClient), total);
  assert(
    toServer.every((c) => Object.getPrototypeOf(c) === Uint8Array.prototype),
    "plain Uint8Array chunks, not Buffers",
  );
  await client.close();
  await server.close();
  await listener.close();
});

Deno.test("node (Deno compat) transport: invalid options", () => {
  assertThrows(() => new NodeTransport({ highWaterMark: 0 }), RangeError);
});
