/**
 * The state server's in-place path (`answerInPlace`, for states with
 * `getSerializedValueNow`) answers byte for byte as the regular path
 * (`decodeRequest` → `handleRequest` → `getSerializedValue`) does, for good
 * and bad requests alike, on every transport and on the stream pipeline.
 */

import {
  InMemoryValueState,
  type KvStateId,
  KvStateServer,
  type QueryableState,
  TYPE_SERIALIZERS,
} from "../../mod.ts";
import {
  encodeKvStateInternalRequest,
  serializeKeyAndNamespace,
  toHex,
} from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { RawPeer, TRANSPORTS } from "../_harness.ts";

const S = TYPE_SERIALIZERS;

/** A request frame for `id` with the raw body after the id (key length and key bytes, or anything). */
function rawRequest(requestId: bigint, id: KvStateId, rest: Uint8Array): Uint8Array {
  const body = encodeKvStateInternalRequest(requestId, {
    kvStateId: id,
    serializedKeyAndNamespace: new Uint8Array(0),
  }).subarray(0, 36); // [len][version][type][request id][kvStateId]
  const frame = new Uint8Array(36 + rest.length);
  frame.set(body);
  frame.set(rest, 36);
  new DataView(frame.buffer).setInt32(0, frame.length - 4);
  return frame;
}

function withLength(kn: Uint8Array, declared = kn.length): Uint8Array {
  const out = new Uint8Array(4 + kn.length);
  new DataView(out.buffer).setInt32(0, declared);
  out.set(kn, 4);
  return out;
}

const hello = serializeKeyAndNamespace("hello", S.string);
/** The request bodies (after the id) both paths must answer alike. */
const BODIES: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["a hit", withLength(hello)],
  ["a miss", withLength(serializeKeyAndNamespace("absent", S.string))],
  ["key bytes that do not deserialize", withLength(new Uint8Array([0x7f, 0x2a, 0]))],
  // VoidNamespace reads one byte whatever it is, as Flink's serializer does: a hit.
  ["another namespace byte", withLength(new Uint8Array([...hello.subarray(0, -1), 9]))],
  ["trailing bytes after the key", new Uint8Array([...withLength(hello), 1, 2, 3])],
  ["a negative key length", withLength(hello, -1)],
  ["a key length past the end", withLength(hello, hello.length + 5)],
  ["no key length", new Uint8Array([0, 0])],
  ["an empty key", withLength(new Uint8Array(0))],
];

for (const tc of TRANSPORTS) {
  Deno.test(`KvStateServer [${tc.name}]: the in-place path answers as the regular path, byte for byte`, async () => {
    const values = new InMemoryValueState(S.string, S.long).set("hello", 42n);
    let regularCalls = 0;
    let nowCalls = 0;
    // The same data behind both paths: one state with the synchronous method, one without.
    const inPlace: QueryableState = {
      getSerializedValue: () => {
        regularCalls++;
        throw new Error("not on the in-place path");
      },
      getSerializedValueNow: (kn) => {
        nowCalls++;
        return values.getSerializedValueNow(kn);
      },
    };
    const regular: QueryableState = {
      getSerializedValue: (kn) => values.getSerializedValue(kn),
    };
    const transport = tc.make();
    const server = new KvStateServer({ transport });
    const fastId = server.registry.register(inPlace);
    const slowId = server.registry.register(regular);
    await server.start();
    try {
      const peer = await RawPeer.connect(transport, server.address);
      let requestId = 0n;
      for (const [what, rest] of BODIES) {
        await peer.send(rawRequest(++requestId, fastId, rest), rawRequest(requestId, slowId, rest));
        const [a, b] = [await peer.frame(), await peer.frame()];
        assert(a !== null && b !== null, what);
        assertEquals(toHex(a), toHex(b), what);
      }
      await peer.close();
      assertEquals(regularCalls, 0, "a state with getSerializedValueNow is asked through it");
      // A bad body shape never reaches the state: the regular path refuses it for both.
      assertEquals(nowCalls, 6);
      // The three bodies that do not decode are not requests (Flink's "Failed incoming message").
      const { requests, successfulRequests, failedRequests } = server.stats;
      assertEquals([requests, successfulRequests, failedRequests], [2 * 6, 2 * 3, 2 * 3]);
    } finally {
      await server.close();
    }
  });
}
