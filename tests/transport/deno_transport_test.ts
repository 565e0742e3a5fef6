import { denoTransport } from "../../src/transport/deno.ts";
import { registerTransportCases } from "./_register.ts";
import { DenoTransport } from "../../src/transport/deno.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { delay } from "../_harness.ts";
import { exchangePatterns, HOST, readChunks, verifyPattern, writePattern } from "./_cases.ts";
registerTransportCases("deno", denoTransport);

Deno.test("deno transport: a tiny read buffer (7 bytes) still moves 1 MiB both ways", async () => {
  const t = new DenoTransport({ readBufferSize: 7 });
  const listener = await t.listen({ hostname: HOST, port: 0 });
  const accepted = listener.accept();
  const client = await t.connect({ hostname: HOST, port: listener.address.port });
  const server = (await accepted)!;
  const total = 1024 * 1024;
  const [toServer, toClient] = await exchangePatterns(client, server, total, 11, 12);
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

Deno.test("deno transport: by default an accepted connection reads at most 16 KiB at once, a dialled one 64 KiB", async () => {
  const listener = await denoTransport.listen({ hostname: HOST, port: 0 });
  const accepted = listener.accept();
  const client = await denoTransport.connect({ hostname: HOST, port: listener.address.port });
  const server = (await accepted)!;
  const total = 2 * 1024 * 1024;
  const [toServer, toClient] = await exchangePatterns(client, server, total, 21, 22);
  assertEquals(verifyPattern(21, toServer), total);
  assertEquals(verifyPattern(22, toClient), total);
  const most = (chunks: Uint8Array[]) => Math.max(...chunks.map((c) => c.length));
  assertEquals(most(toServer), 16 * 1024, "accepted: grows to 16 KiB, no more");
  assert(most(toClient) > 16 * 1024 && most(toClient) <= 64 * 1024, `dialled: ${most(toClient)}`);
  await client.close();
  await server.close();
  await listener.close();
});

/**
 * The kernel's receive and send queues of the socket from port `local` to
 * port `remote`, from /proc/net/tcp (read through `cat`: Deno asks for
 * --allow-all to read it directly); `undefined` where it cannot be read.
 */
async function queued(
  local: number,
  remote: number,
): Promise<{ rx: number; tx: number } | undefined> {
  let text: string;
  try {
    const out = await new Deno.Command("cat", {
      args: ["/proc/net/tcp"],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    if (!out.success) return undefined;
    text = new TextDecoder().decode(out.stdout);
  } catch {
    return undefined;
  }
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, "0");
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    if (cols[1].endsWith(`:${hex(local)}`) && cols[2].endsWith(`:${hex(remote)}`)) {
      const [tx, rx] = cols[4].split(":").map((h) => parseInt(h, 16));
      return { rx, tx };
    }
  }
  return undefined;
}

Deno.test("deno transport: a paused direct connection reads nothing more (what was sent stays in the kernel's queues) until resumed", async () => {
  const listener = await denoTransport.listen({ hostname: HOST, port: 0 });
  const accepted = listener.accept();
  const client = await denoTransport.connect({ hostname: HOST, port: listener.address.port });
  const server = (await accepted)!;
  let delivered = 0;
  let calls = 0;
  let ended = false;
  const io = server.direct!({
    data(chunk) {
      calls++;
      delivered += chunk.length;
      if (calls === 1) io.pause();
    },
    end() {
      ended = true;
    },
    drain() {},
  });
  const total = 48 * 1024;
  const writer = client.writable.getWriter();
  await writer.write(new Uint8Array(total).fill(7));
  for (let i = 0; i < 100 && calls === 0; i++) await delay(5);
  await delay(100);
  assertEquals(calls, 1, "one chunk, then paused");
  const sPort = server.localAddress.port;
  const cPort = server.remoteAddress.port;
  const serverSide = await queued(sPort, cPort);
  const clientSide = await queued(cPort, sPort);
  if (serverSide === undefined || clientSide === undefined) {
    console.warn("/proc/net/tcp unreadable: the kernel's queues are not checked");
  } else {
    // Nothing was read past the pause: every byte not delivered is still
    // in the kernel (none held by the adapter).
    assertEquals(serverSide.rx + clientSide.tx, total - delivered);
  }
  io.resume();
  for (let i = 0; i < 200 && delivered < total; i++) await delay(5);
  assertEquals(delivered, total, "everything once resumed");
  await writer.close();
  for (let i = 0; i < 200 && !ended; i++) await delay(5);
  assert(ended);
  writer.releaseLock();
  await client.close();
  await server.close();
  await listener.close();
});
