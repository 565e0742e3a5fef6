import {
  decodeKvStateInternalRequest,
  decodeKvStateRequest,
  decodeKvStateRequestAt,
  decodeKvStateResponse,
  decodeMessage,
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  encodeKvStateResponse,
  encodeRequestFailure,
  encodeServerFailure,
  fromHex,
  JobId,
  KvStateId,
  MessageType,
  ProtocolError,
  toHex,
  VERSION,
} from "../../src/wire/mod.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";

// PROTOCOL §2.7 worked examples (hex computed from the spec, independent of the vectors).
const REQ_HEX = "0000003e79a1b71000000000" + "0000000000000000" +
  "fd72014d4c864993a2e5a9287b4a9c5d" + "0000000a" + "71756572792d6e616d65" +
  "05e918d2" + "00000008" + "0668656c6c6f2a00";
const IREQ_HEX = "0000002c79a1b71000000000" + "0000000000000005" +
  "0123456789abcdef0011223344556677" + "00000008" + "0668656c6c6f2a00";
const RES_HEX = "0000001c79a1b71000000001" + "0000000000000000" + "00000008" +
  "000000000000002a";

Deno.test("KvStateRequest: encodes PROTOCOL §2.7 and decodes it back", () => {
  const frame = encodeKvStateRequest(0n, {
    jobId: JobId.fromHex("fd72014d4c864993a2e5a9287b4a9c5d"),
    stateName: "query-name",
    keyHashCode: 99162322,
    serializedKeyAndNamespace: fromHex("0668656c6c6f2a00"),
  });
  assertEquals(toHex(frame), REQ_HEX);
  const m = decodeMessage(frame.subarray(4));
  assertEquals(m.type, MessageType.REQUEST);
  assert(m.type !== 3);
  assertEquals(m.requestId, 0n);
  const req = decodeKvStateRequest(m.body);
  assertEquals(req.jobId.toString(), "fd72014d4c864993a2e5a9287b4a9c5d");
  assertEquals(req.stateName, "query-name");
  assertEquals(req.keyHashCode, 99162322);
  assertEquals(toHex(req.serializedKeyAndNamespace), "0668656c6c6f2a00");
});

Deno.test("KvStateRequest: non-ASCII names are UTF-8; unpaired surrogates become '?'", () => {
  for (const [name, hex] of [["zähler-€", "7ac3a4686c65722de282ac"], ["a\uD800b", "613f62"]]) {
    const frame = encodeKvStateRequest(-1n, {
      jobId: JobId.DEFAULT,
      stateName: name,
      keyHashCode: -5,
      serializedKeyAndNamespace: new Uint8Array(0),
    });
    const m = decodeMessage(frame.subarray(4));
    assert(m.type === 0);
    assertEquals(m.requestId, -1n);
    const body = m.body;
    assertEquals(toHex(body.subarray(20, 20 + hex.length / 2)), hex);
    const req = decodeKvStateRequest(body);
    assertEquals(req.keyHashCode, -5);
    assertEquals(req.serializedKeyAndNamespace.length, 0);
  }
});

Deno.test("KvStateRequest: negative lengths and truncation give Flink's errors", () => {
  const good = encodeKvStateRequest(1n, {
    jobId: JobId.DEFAULT,
    stateName: "s",
    keyHashCode: 0,
    serializedKeyAndNamespace: new Uint8Array([1, 42, 0]),
  });
  const body = good.subarray(20);
  const negName = body.slice();
  new DataView(negName.buffer).setInt32(16, -1);
  const e1 = assertThrows(() => decodeKvStateRequest(negName), ProtocolError);
  assertEquals(
    e1.message,
    "Negative length for state name. This indicates a serialization error.",
  );
  assertEquals(e1.javaClassName, "java.lang.IllegalArgumentException");
  const negKn = body.slice();
  new DataView(negKn.buffer).setInt32(16 + 4 + 1 + 4, -7);
  assertThrows(
    () => decodeKvStateRequest(negKn),
    ProtocolError,
    "Negative length for key and namespace. This indicates a serialization error.",
  );
  for (let cut = 0; cut < body.length; cut++) {
    const e = assertThrows(() => decodeKvStateRequest(body.subarray(0, cut)), ProtocolError);
    assertEquals(e.javaClassName, "java.lang.IndexOutOfBoundsException", `cut ${cut}`);
  }
  // Huge declared name length: an error, not an allocation.
  const huge = body.slice();
  new DataView(huge.buffer).setInt32(16, 0x7fffffff);
  assertThrows(() => decodeKvStateRequest(huge), ProtocolError, "exceeds");
  // Trailing bytes after the body are ignored, as Flink does.
  const trailing = new Uint8Array([...body, 1, 2, 3]);
  assertEquals(decodeKvStateRequest(trailing).stateName, "s");
});

Deno.test("KvStateInternalRequest: PROTOCOL §2.7 bytes, round trip, errors", () => {
  const frame = encodeKvStateInternalRequest(5n, {
    kvStateId: KvStateId.fromHex("0123456789abcdef0011223344556677"),
    serializedKeyAndNamespace: fromHex("0668656c6c6f2a00"),
  });
  assertEquals(toHex(frame), IREQ_HEX);
  const m = decodeMessage(frame.subarray(4));
  assert(m.type === 0);
  assertEquals(m.requestId, 5n);
  const req = decodeKvStateInternalRequest(m.body);
  assertEquals(req.kvStateId.toString(), "0123456789abcdef0011223344556677");
  assertEquals(toHex(req.serializedKeyAndNamespace), "0668656c6c6f2a00");
  const neg = m.body.slice();
  new DataView(neg.buffer).setInt32(16, -1);
  assertThrows(() => decodeKvStateInternalRequest(neg), ProtocolError, "Negative length");
  for (let cut = 0; cut < m.body.length; cut++) {
    assertThrows(() => decodeKvStateInternalRequest(m.body.subarray(0, cut)), ProtocolError);
  }
});

Deno.test("KvStateResponse and failures: bytes and decoding", () => {
  const frame = encodeKvStateResponse(0n, fromHex("000000000000002a"));
  assertEquals(toHex(frame), RES_HEX);
  const m = decodeMessage(frame.subarray(4));
  assert(m.type === 1);
  assertEquals(toHex(decodeKvStateResponse(m.body)), "000000000000002a");
  assertThrows(
    () => decodeKvStateResponse(fromHex("ffffffff")),
    ProtocolError,
    "Negative length for state content. This indicates a serialization error.",
  );
  assertThrows(() => decodeKvStateResponse(fromHex("0000000501")), ProtocolError);
  assertThrows(() => decodeKvStateResponse(fromHex("0000")), ProtocolError);

  const stream = fromHex("aced0005");
  const rf = encodeRequestFailure(7n, stream);
  assertEquals(toHex(rf), "0000001479a1b71000000002" + "0000000000000007" + "aced0005");
  const rfm = decodeMessage(rf.subarray(4));
  assert(rfm.type === 2);
  assertEquals(rfm.requestId, 7n);
  assertEquals(toHex(rfm.body), "aced0005");
  const sf = encodeServerFailure(stream);
  assertEquals(toHex(sf), "0000000c79a1b71000000003aced0005");
  const sfm = decodeMessage(sf.subarray(4));
  assertEquals(sfm.type, 3);
  assertEquals(toHex(sfm.body), "aced0005");
});

Deno.test("decodeMessage: Flink's header errors", () => {
  const bad = fromHex("00a1b71000000000" + "0000000000000000");
  const e = assertThrows(() => decodeMessage(bad), ProtocolError);
  assertEquals(e.message, "Version Mismatch:  Found 10598160, Expected: 2040641296.");
  assertEquals(e.javaClassName, "java.lang.IllegalStateException");
  const view = new DataView(new ArrayBuffer(16));
  view.setInt32(0, VERSION);
  for (const t of [4, -1, 99]) {
    view.setInt32(4, t);
    assertThrows(
      () => decodeMessage(new Uint8Array(view.buffer)),
      ProtocolError,
      `Illegal message type with index ${t}.`,
    );
  }
  assertThrows(() => decodeMessage(new Uint8Array(0)), ProtocolError, "exceeds");
  assertThrows(() => decodeMessage(fromHex("79a1b710000000")), ProtocolError);
  // A request-id-bearing type with a short id.
  assertThrows(() => decodeMessage(fromHex("79a1b71000000001000000")), ProtocolError);
  // SERVER_FAILURE has no id: 8 bytes is a whole (empty-bodied) message.
  assertEquals(decodeMessage(fromHex("79a1b71000000003")).body.length, 0);
});

Deno.test("request ids: full signed 64-bit range", () => {
  for (const id of [0n, 1n, -1n, 9223372036854775807n, -9223372036854775808n]) {
    const m = decodeMessage(encodeKvStateResponse(id, new Uint8Array(0)).subarray(4));
    assert(m.type === 1);
    assertEquals(m.requestId, id);
  }
});

function frameBody(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(4);
}

vectorTest("frames/request: decode to the manifest fields, re-encode to identical bytes", () => {
  const list = entries("frame").filter((e) => e.file.startsWith("frames/request/"));
  assert(list.length >= 10);
  for (const e of list) {
    const bytes = readVector(e.file);
    assertEquals(new DataView(bytes.buffer).getInt32(0), e.decoded.frameLengthField, e.file);
    const m = decodeMessage(frameBody(bytes));
    assert(m.type === 0, e.file);
    assertEquals(m.requestId, BigInt(e.fields.requestId), e.file);
    const req = decodeKvStateRequest(m.body);
    assertEquals(req.jobId.toString(), e.fields.jobId.hex, e.file);
    assertEquals(req.stateName, e.fields.stateName, e.file);
    assertEquals(req.keyHashCode, e.fields.keyHashCode, e.file);
    assertEquals(req.serializedKeyAndNamespace.length, e.fields.serializedKeyAndNamespaceLength);
    if (e.fields.serializedKeyAndNamespaceHex !== null) {
      assertEquals(toHex(req.serializedKeyAndNamespace), e.fields.serializedKeyAndNamespaceHex);
    }
    assertEquals(toHex(encodeKvStateRequest(m.requestId, req)), toHex(bytes), e.file);
  }
});

vectorTest("frames/internal-request: decode and re-encode identically", () => {
  const list = entries("frame").filter((e) => e.file.startsWith("frames/internal-request/"));
  assert(list.length >= 5);
  for (const e of list) {
    const bytes = readVector(e.file);
    const m = decodeMessage(frameBody(bytes));
    assert(m.type === 0, e.file);
    assertEquals(m.requestId, BigInt(e.fields.requestId), e.file);
    const req = decodeKvStateInternalRequest(m.body);
    assertEquals(req.kvStateId.toString(), e.fields.kvStateId.hex, e.file);
    assertEquals(req.serializedKeyAndNamespace.length, e.fields.serializedKeyAndNamespaceLength);
    if (e.fields.serializedKeyAndNamespaceHex !== null) {
      assertEquals(toHex(req.serializedKeyAndNamespace), e.fields.serializedKeyAndNamespaceHex);
    }
    assertEquals(toHex(encodeKvStateInternalRequest(m.requestId, req)), toHex(bytes), e.file);
  }
});

vectorTest("frames/result: decode and re-encode identically (incl. 100000-byte content)", () => {
  const list = entries("frame").filter((e) => e.file.startsWith("frames/result/"));
  assert(list.length >= 5);
  for (const e of list) {
    const bytes = readVector(e.file);
    const m = decodeMessage(frameBody(bytes));
    assert(m.type === 1, e.file);
    assertEquals(m.requestId, BigInt(e.fields.requestId), e.file);
    const content = decodeKvStateResponse(m.body);
    assertEquals(content.length, e.fields.contentLength, e.file);
    if (e.fields.contentHex !== null) assertEquals(toHex(content), e.fields.contentHex);
    assertEquals(toHex(encodeKvStateResponse(m.requestId, content)), toHex(bytes), e.file);
  }
});

vectorTest("frames/request-failure and server-failure: headers, ids, re-encoding", () => {
  const list = entries("frame").filter((e) =>
    e.file.startsWith("frames/request-failure/") || e.file.startsWith("frames/server-failure/")
  );
  assert(list.length >= 20);
  for (const e of list) {
    const bytes = readVector(e.file);
    const m = decodeMessage(frameBody(bytes));
    if (e.messageType === "SERVER_FAILURE") {
      assertEquals(m.type, 3, e.file);
      assertEquals(toHex(encodeServerFailure(m.body)), toHex(bytes), e.file);
    } else {
      assert(m.type === 2, e.file);
      assertEquals(m.requestId, BigInt(e.fields.requestId), e.file);
      assertEquals(toHex(encodeRequestFailure(m.requestId, m.body)), toHex(bytes), e.file);
    }
    const ser = e.fields.javaSerializedThrowableFile;
    if (ser) assertEquals(toHex(m.body), toHex(readVector(ser)), e.file);
  }
});

Deno.test("decodeKvStateRequestAt: a body inside a larger buffer decodes as the body alone, errors included", () => {
  const good = encodeKvStateRequest(1n, {
    jobId: JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8"),
    stateName: "state-ü",
    keyHashCode: -77,
    serializedKeyAndNamespace: new Uint8Array([3, 1, 2, 3, 42, 0]),
  });
  const body = good.subarray(20);
  const negName = body.slice();
  new DataView(negName.buffer).setInt32(16, -1);
  const cases = [body, negName];
  for (let cut = 0; cut < body.length; cut++) cases.push(body.subarray(0, cut));
  for (const c of cases) {
    // The body between unrelated bytes: 0xee before, 0xdd after.
    const padded = new Uint8Array(7 + c.length + 5).fill(0xee);
    padded.set(c, 7);
    padded.fill(0xdd, 7 + c.length);
    let expected: unknown;
    try {
      expected = decodeKvStateRequest(c.slice());
    } catch (e) {
      const err = assertThrows(
        () => decodeKvStateRequestAt(padded, 7, 7 + c.length),
        ProtocolError,
      );
      assertEquals(err.message, (e as Error).message);
      continue;
    }
    const got = decodeKvStateRequestAt(padded, 7, 7 + c.length);
    const plain = (r: typeof got) => ({
      ...r,
      jobId: r.jobId.toString(),
      serializedKeyAndNamespace: Array.from(r.serializedKeyAndNamespace),
    });
    assertEquals(plain(got), plain(expected as typeof got));
  }
});
