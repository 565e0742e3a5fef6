/**
 * The proxy in front of a state server that answers with a wrapper whose
 * text or Java cause names a retryable or bad-request class: the client
 * side of the proxy reads it as a typed cause, but the proxy judges by the
 * class received, as Flink's proxy does: no retry, and the failure wrapped
 * (`Failed request <id>.<LS> Caused by: java.lang.RuntimeException: …`), on
 * the fast path and on the regular path alike. A plain
 * UnknownKvStateIdException is still retried.
 */

import {
  type JavaThrowable,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateId,
  KvStateLocation,
  MemoryTransport,
} from "../../mod.ts";
import {
  encodeKvStateRequest,
  encodeRequestFailure,
  javaThrowable,
  readJavaThrowable,
  toHex,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { RawPeer } from "../_harness.ts";
import { idOfFrame, ScriptedUpstream } from "../_scripted_upstream.ts";

const JOB = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
const RTE = "java.lang.RuntimeException";
const STATE_ID = "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException";
const KEY_GROUP =
  "org.apache.flink.queryablestate.exceptions.UnknownKvStateKeyGroupLocationException";

function request(id: bigint): Uint8Array {
  return encodeKvStateRequest(id, {
    jobId: JOB,
    stateName: "s",
    keyHashCode: 7,
    serializedKeyAndNamespace: new Uint8Array([1, 2, 3]),
  });
}

/** One proxy in front of a state server answering every request with `body`. */
async function ask(body: Uint8Array, times: number) {
  const transport = new MemoryTransport();
  const upstream = await ScriptedUpstream.start(
    transport,
    (f) => encodeRequestFailure(idOfFrame(f), body),
  );
  const proxy = new KvStateClientProxy({ transport, retries: 3, retryBackoffMs: 1 });
  const location = new KvStateLocation(JOB, JobVertexId.random(), 128, "s");
  location.registerKvState(0, 127, KvStateId.random(), upstream.address);
  let lookups = 0;
  proxy.updateKvStateLocationOracle(JOB, {
    requestKvStateLocation: () => {
      lookups++;
      return Promise.resolve(location);
    },
  });
  const peer = await RawPeer.connect(transport, await proxy.start());
  try {
    const answers: Uint8Array[] = [];
    for (let i = 0; i < times; i++) {
      await peer.send(request(BigInt(40 + i)));
      const f = await peer.frame();
      assert(f !== null, "answered");
      assertEquals(idOfFrame(f), BigInt(40 + i));
      answers.push(f);
    }
    return { answers, requests: upstream.requests, lookups };
  } finally {
    await peer.close();
    await proxy.close();
    await upstream.close();
  }
}

Deno.test("proxy: a wrapper naming a retryable class (text or Java cause) is not retried, and is wrapped as Flink wraps it", async () => {
  const wrappers: Array<[string, JavaThrowable]> = [
    [
      "UnknownKvStateIdException in the text",
      javaThrowable(RTE, `Failed request 3.\n Caused by: ${STATE_ID}: gone\n`),
    ],
    [
      "UnknownKvStateKeyGroupLocationException in the text",
      javaThrowable(RTE, `Failed request 3.\n Caused by: ${KEY_GROUP}: no group\n`),
    ],
    [
      "UnknownKvStateIdException as the Java cause",
      javaThrowable(RTE, "Failed request 3.", javaThrowable(STATE_ID, "gone")),
    ],
  ];
  for (const [what, t] of wrappers) {
    const body = writeJavaThrowable(t);
    // Three times: the regular path, then the fast path (location cached), twice.
    const { answers, requests, lookups } = await ask(body, 3);
    assertEquals(requests, 3, `${what}: one upstream request each, no retry`);
    assertEquals(lookups, 1, `${what}: no forced re-lookup`);
    for (const [i, f] of answers.entries()) {
      assert(toHex(f.subarray(20)) !== toHex(body), `${what}: not relayed as is`);
      const sent = readJavaThrowable(f.subarray(20));
      assertEquals(sent.className, RTE, what);
      assert(
        sent.message!.startsWith(`Failed request ${40 + i}.\n Caused by: ${RTE}: `),
        `${what}: ${sent.message}`,
      );
      assert(sent.message!.includes(t.message!), `${what}: the upstream text, whole`);
    }
    // The same text on the fast and the regular path, but for the request id.
    const text = (f: Uint8Array) =>
      readJavaThrowable(f.subarray(20)).message!.replace(/^[^\n]*/, "");
    assertEquals(text(answers[0]), text(answers[1]), what);
    assertEquals(text(answers[1]), text(answers[2]), what);
  }
});

Deno.test("proxy: a plain UnknownKvStateIdException is still retried with a fresh lookup", async () => {
  const body = writeJavaThrowable(javaThrowable(STATE_ID, "Queryable State Server : gone"));
  const { answers, requests, lookups } = await ask(body, 1);
  assertEquals(requests, 4, "the first attempt and 3 retries");
  assertEquals(lookups, 4, "each retry looks the location up again");
  assertEquals(toHex(answers[0].subarray(20)), toHex(body), "then relayed as it came");
});
