import {
  formatAddress,
  InMemoryLocationRegistry,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
} from "../../mod.ts";
import { denoTransport } from "../../src/transport/deno.ts";
import { assert, assertEquals } from "../_assert.ts";
import { runCli } from "./_process.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";

Deno.test("cli client: a failure's message from the proxy reaches stderr with its escape sequences escaped", async () => {
  const transport = denoTransport;
  const server = new KvStateServer({ transport, host: "127.0.0.1", port: 0 });
  const kvStateId = server.registry.register({
    getSerializedValue: () => {
      throw new Error("boom\u001b]0;owned\u0007\u001b[2J\u009b1mdone\n\tat the next line");
    },
  } as never);
  const locations = new InMemoryLocationRegistry();
  const proxy = new KvStateClientProxy({ transport, host: "127.0.0.1", port: 0 });
  try {
    locations.notifyKvStateRegistered({
      jobId: JobId.fromHex(JOB),
      jobVertexId: JobVertexId.random(),
      registrationName: "hostile",
      numKeyGroups: 128,
      start: 0,
      end: 127,
      kvStateId,
      address: await server.start(),
    });
    proxy.updateKvStateLocationOracle(JobId.fromHex(JOB), locations);
    const address = formatAddress(await proxy.start());
    const ran = await runCli([
      "client",
      ...["--proxy", address, "--job", JOB, "--state", "hostile"],
      ...["--key-type", "string", "--key", "k", "--value-type", "long"],
    ]);
    assertEquals(ran.code, 1, ran.stderr);
    assert(ran.stderr.includes("boom\\u001b]0;owned\\u0007\\u001b[2J\\u009b1mdone\n"), ran.stderr);
    assert(
      // deno-lint-ignore no-control-regex
      !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(ran.stderr),
      JSON.stringify(ran.stderr),
    );
  } finally {
    await proxy.close();
    await server.close();
  }
});
