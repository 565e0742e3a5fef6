import { JobId, MemoryTransport, QueryableStateClient } from "../../mod.ts";
import { assert, assertEquals } from "../_assert.ts";

Deno.test("QueryableStateClient.getKvState: bad arguments reject, never throw, and send nothing", async () => {
  const transport = new MemoryTransport();
  const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = new QueryableStateClient({ transport, proxy: listener.address });
  const job = JobId.random();
  const cases: [string, () => Promise<unknown>, string][] = [
    [
      "unknown state kind",
      () =>
        client.getKvState(job, "s", "k", {
          keyType: "string",
          valueType: "long",
          stateKind: "bogus" as "value",
        }),
      "Unknown state kind",
    ],
    [
      "unknown type name",
      () => client.getKvState(job, "s", "k", { keyType: "nope" as "string", valueType: "long" }),
      "nope",
    ],
    [
      "job id that is not hex",
      () => client.getKvState("zz", "s", "k", { keyType: "string", valueType: "long" }),
      "",
    ],
  ];
  for (const [what, call, includes] of cases) {
    let result: Promise<unknown> | undefined;
    try {
      result = call();
    } catch (e) {
      throw new Error(`${what}: threw instead of rejecting: ${e}`);
    }
    const outcome = await result.then(() => "resolved", (e: unknown) => e);
    assert(outcome instanceof Error, `${what}: ${String(outcome)}`);
    assert(outcome.message.includes(includes), `${what}: ${outcome.message}`);
  }
  // Nothing was sent: the client never connected.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const accepted = await Promise.race([
    listener.accept().then(() => true, () => false),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), 50))),
  ]);
  clearTimeout(timer);
  assertEquals(accepted, false);
  await listener.close();
});
