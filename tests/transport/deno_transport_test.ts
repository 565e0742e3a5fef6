import { denoTransport } from "../../src/transport/deno.ts";
import { registerTransportCases } from "./_register.ts";
import { DenoTransport } from "../../src/transport/deno.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { HOST, readChunks, verifyPattern, writePattern } from "./_cases.ts";
registerTransportCases("deno", denoTransport);

Deno.test("deno transport: a tiny read buffer (7 bytes) still moves 1 MiB both ways", async () => {
  const t = new DenoTransport({ readBufferSize: 7 });
  const listener = await t.listen({ hostname: HOST, port: 0 });
  const accepted = listener.accept();
  const client = await t.connect({ hostname: HOST, port: listener.address.port });
  const server = (await accepted)!;
  const total = 1024 * 1024;
  const [toServer, toClient] = await Promise.all([
    readChunks(server.readable),
    readChunks(client.readable),
    writePattern(client.writable, 11, total),
    writePattern(server.writable, 12, total),
  ]);
  assertEquals(verifyPattern(11, toServer), total);
  assertEquals(verifyPattern(12, toClient), total);
  assert(toServer.every((c) => c.length <= 7), "no chunk larger than the read buffer");
  await client.close();
  await server.close();
  await listener.close();
});

Deno.test("deno transport: each chunk owns exactly its bytes (no 64 KiB buffer retained)", async () => {
  const listener = await denoTransport.listen({ hostname: HOST, port: 0 });
  const accepted = listener.accept();
  const client = await denoTransport.connect({ hostname: HOST, port: listener.address.port });
  const server = (await accepted)!;
  const [chunks] = await Promise.all([
    readChunks(server.readable),
    writePattern(client.writable, 13, 300_000),
  ]);
  assertEquals(verifyPattern(13, chunks), 300_000);
  for (const c of chunks) {
    assertEquals(c.byteOffset, 0);
    assertEquals(c.buffer.byteLength, c.byteLength);
  }
  await client.close();
  await server.close();
  await listener.close();
});

Deno.test("deno transport: invalid options", () => {
  assertThrows(() => new DenoTransport({ readBufferSize: 0 }), RangeError);
  assertThrows(() => new DenoTransport({ readBufferSize: 1.5 }), RangeError);
});
