/**
 * The request filter of the server base (`ServerOptions.requestFilter` with
 * `describeRequest`): what it sees, how a refusal is answered and counted,
 * synchronous and asynchronous verdicts, on the fast and the regular path,
 * over the in-memory and the Deno transports, and through `requestStream()`.
 */

import {
  AbstractServer,
  type AccessRequest,
  type FastCall,
  JobId,
  KvStateId,
  type RequestDescription,
  type RequestFilter,
  requestIdOf,
  resultFrameFor,
} from "../../mod.ts";
import {
  BAD_REQUEST_EXCEPTION,
  decodeKvStateInternalRequest,
  decodeMessage,
  encodeKvStateInternalRequest,
  type KvStateInternalRequest,
  MessageType,
  readJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { RawPeer, TRANSPORTS } from "../_harness.ts";

const JOB = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
const STATE = KvStateId.fromHex("00112233445566778899aabbccddeeff");
const text = new TextDecoder();

/** Names its requests by their key bytes; names ending in `!fast` take the fast path. */
class Named extends AbstractServer<KvStateInternalRequest> {
  protected decodeRequest(body: Uint8Array): KvStateInternalRequest {
    return decodeKvStateInternalRequest(body);
  }
  protected handleRequest(): Uint8Array {
    return new Uint8Array([0x52]);
  }
  protected override respondFast(call: FastCall<KvStateInternalRequest>): boolean {
    if (!nameOf(call.request).endsWith("!fast")) return false;
    call.send(resultFrameFor(call.frame, new Uint8Array([0x46])));
    return true;
  }
  protected override describeRequest(request: KvStateInternalRequest): RequestDescription {
    return { jobId: JOB, stateName: nameOf(request), kvStateId: request.kvStateId };
  }
}

const nameOf = (r: KvStateInternalRequest) => text.decode(r.serializedKeyAndNamespace);

const request = (id: number, name: string) =>
  encodeKvStateInternalRequest(BigInt(id), {
    kvStateId: STATE,
    serializedKeyAndNamespace: new TextEncoder().encode(name),
  });

/** allow… / deny… / throw… / async-allow… / async-deny… / reject… */
const filter: RequestFilter = (r) => {
  const name = r.stateName ?? "";
  if (name.startsWith("allow")) return true;
  if (name.startsWith("throw")) throw new Error("filter threw");
  if (name.startsWith("async-allow")) return Promise.resolve(true);
  if (name.startsWith("async-deny")) return Promise.resolve(false);
  if (name.startsWith("reject")) return Promise.reject(new Error("filter rejected"));
  if (name.startsWith("truthy")) return 1 as unknown as boolean;
  return false;
};

function decoded(f: Uint8Array) {
  const m = decodeMessage(f.subarray(4));
  const id = requestIdOf(f.subarray(4));
  if (m.type === MessageType.REQUEST_FAILURE) {
    const t = readJavaThrowable(m.body);
    return { id, ok: false, className: t.className, message: t.message ?? "", last: -1 };
  }
  assertEquals(m.type, MessageType.REQUEST_RESULT);
  return { id, ok: true, className: "", message: "", last: f[f.length - 1] };
}

for (const tc of TRANSPORTS.filter((t) => t.name !== "node")) {
  Deno.test(`request filter [${tc.name}]: allowed requests are answered, refused ones fail naming the refusal`, async () => {
    const transport = tc.make();
    const seen: AccessRequest[] = [];
    await using server = new Named("Named Server", {
      transport,
      requestFilter: (r) => {
        seen.push(r);
        return filter(r);
      },
    });
    await server.start();
    const peer = await RawPeer.connect(transport, server.address);
    const names = [
      "allow",
      "allow!fast",
      "deny",
      "deny!fast",
      "throw",
      "async-allow",
      "async-allow!fast",
      "async-deny",
      "reject!fast",
      "truthy",
      "deny-" + "x".repeat(5000),
    ];
    try {
      await peer.send(...names.map((n, i) => request(i + 1, n)));
      const byId = new Map<bigint, ReturnType<typeof decoded>>();
      for (const f of await peer.frames(names.length)) {
        const d = decoded(f);
        byId.set(d.id, d);
      }
      const port = peer.conn.localAddress.port;
      names.forEach((name, i) => {
        const a = byId.get(BigInt(i + 1))!;
        const allowed = name.startsWith("allow") || name.startsWith("async-allow");
        assertEquals(a.ok, allowed, name);
        if (allowed) {
          assertEquals(a.last, name.endsWith("!fast") ? 0x46 : 0x52, `${name}: its path`);
          return;
        }
        assertEquals(a.className, BAD_REQUEST_EXCEPTION, name);
        const quotedName = JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
        assertEquals(
          a.message,
          `Named Server : Access denied: request ${
            i + 1
          } for job ${JOB} state ${quotedName} (state id ${STATE}) from "127.0.0.1"`,
        );
      });
      // What the filter saw: this connection's address, the description.
      assertEquals(seen.length, names.length);
      for (const r of seen) {
        assertEquals(r.remoteAddress.hostname, "127.0.0.1");
        assertEquals(r.remoteAddress.port, port);
        assertEquals(r.jobId?.toString(), JOB.toString());
        assertEquals(r.kvStateId?.toString(), STATE.toString());
      }
      const refused = names.length - 4;
      const stats = server.stats;
      assertEquals(stats.deniedRequests, refused);
      assertEquals(stats.failedRequests, refused);
      assertEquals(stats.successfulRequests, 4);
      assertEquals(stats.internalErrors, 0);
    } finally {
      await peer.close();
    }
  });
}

Deno.test("request filter: an asynchronous verdict that never comes is bounded by the request deadline", async () => {
  const transport = TRANSPORTS[0].make();
  await using server = new Named("Named Server", {
    transport,
    requestTimeoutMs: 50,
    requestFilter: () => new Promise<boolean>(() => {}),
  });
  await server.start();
  const peer = await RawPeer.connect(transport, server.address);
  try {
    await peer.send(request(9, "allow!fast"));
    const a = decoded((await peer.frame())!);
    assertEquals(a.id, 9n);
    assertEquals(a.ok, false);
    assert(a.message.includes("did not complete within 50 ms"), a.message);
  } finally {
    await peer.close();
  }
});

Deno.test("request filter: requestStream() has no peer: the filter sees an empty address", async () => {
  const seen: AccessRequest[] = [];
  await using server = new Named("Named Server", {
    requestFilter: (r) => {
      seen.push(r);
      return r.stateName === "allow";
    },
  });
  const frames = [request(1, "allow"), request(2, "deny")].map((f) => f.subarray(4));
  const out = await Array.fromAsync(
    ReadableStream.from([frames]).pipeThrough(server.requestStream()),
  );
  const answers = out.flat().map(decoded).sort((a, b) => Number(a.id - b.id));
  assertEquals(answers.map((a) => a.ok), [true, false]);
  assertEquals(
    answers[1].message,
    `Named Server : Access denied: request 2 for job ${JOB} state "deny" (state id ${STATE}) from an unknown peer`,
  );
  assertEquals(seen.map((r) => r.remoteAddress), [{ hostname: "", port: 0 }, {
    hostname: "",
    port: 0,
  }]);
});

Deno.test("request filter: a describeRequest that throws refuses the request", async () => {
  class Broken extends Named {
    protected override describeRequest(): RequestDescription {
      throw new Error("describe threw");
    }
  }
  await using server = new Broken("Broken Server", { requestFilter: () => true });
  const out = await Array.fromAsync(
    ReadableStream.from([[request(5, "allow").subarray(4)]]).pipeThrough(server.requestStream()),
  );
  const a = decoded(out.flat()[0]);
  assertEquals(a.ok, false);
  assertEquals(a.message, "Broken Server : Access denied: request 5 from an unknown peer");
  assertEquals(server.stats.deniedRequests, 1);
});
