import { JobId, JobVertexId, KvStateId } from "../../mod.ts";
import { toHex } from "../../src/wire/bytes.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { readVectorJson, vectorTest } from "../_vectors.ts";

Deno.test("JobId: PROTOCOL §2.1 example, parts and bytes", () => {
  const id = JobId.fromHex("fd72014d4c864993a2e5a9287b4a9c5d");
  assertEquals(id.lowerPart, -184083203260790381n);
  assertEquals(id.upperPart, -6708770078566212515n);
  assertEquals(toHex(id.bytes), "fd72014d4c864993a2e5a9287b4a9c5d");
  assert(JobId.fromParts(id.lowerPart, id.upperPart).equals(id));
  assertEquals(JobId.fromHex("FD72014D4C864993A2E5A9287B4A9C5D").toString(), id.toString());
  assertEquals(JSON.stringify({ id }), `{"id":"fd72014d4c864993a2e5a9287b4a9c5d"}`);
});

Deno.test("ids: validation, immutability, kinds", () => {
  assertThrows(() => JobId.fromHex("abc"), TypeError, "32 hex characters");
  assertThrows(() => JobId.fromHex("zz".repeat(16)), TypeError);
  assertThrows(() => KvStateId.fromHex("0".repeat(33)), TypeError);
  assertThrows(() => new KvStateId(new Uint8Array(15)), TypeError, "16 bytes");
  const src = new Uint8Array(16);
  const id = new KvStateId(src);
  src[0] = 1;
  assertEquals(id.bytes[0], 0, "constructor copies");
  id.bytes[0] = 9;
  assertEquals(id.bytes[0], 0, "getter copies");
  assert(!JobVertexId.fromHex("0".repeat(32)).equals(JobId.DEFAULT), "different kinds differ");
  assert(JobId.DEFAULT.equals(JobId.fromParts(0n, 0n)));
  assert(!KvStateId.random().equals(KvStateId.random()));
  assertEquals(JobId.fromParts(-1n, 1n).toString(), "ffffffffffffffff0000000000000001");
});

vectorTest("ids.json: hex, parts and wire bytes", () => {
  const { vectors } = readVectorJson<{ vectors: Record<string, string>[] }>("ids.json");
  assert(vectors.length > 0);
  for (const v of vectors) {
    const id = v.class.endsWith("JobID") ? JobId.fromHex(v.hex) : KvStateId.fromHex(v.hex);
    assertEquals(id.lowerPart, BigInt(v.lowerPart), v.hex);
    assertEquals(id.upperPart, BigInt(v.upperPart), v.hex);
    if (v.bytesHex) assertEquals(toHex(id.bytes), v.bytesHex);
    assertEquals(id.toString(), v.hex.toLowerCase());
  }
});
