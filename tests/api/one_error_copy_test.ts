/**
 * One copy of each error class, whatever entry points a user imports: an
 * error thrown through one entry point (`./node`, `./wire`, `./streams`) is
 * `instanceof` the class imported from the others (`.`, `./wire`), and
 * `./http`'s error answers recognise it (a second copy of a class would be
 * answered as an internal error). The same for the npm-shaped build under
 * Node: `tests/npm/_roundtrip.mjs`.
 */

import * as root from "../../mod.ts";
import * as wire from "../../src/wire/mod.ts";
import * as streams from "../../src/streams/mod.ts";
import * as node from "../../src/transport/node.ts";
import * as http from "../../src/http/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertRejects } from "../_assert.ts";

Deno.test("one error copy: a BindError from ./node is the class of '.' and './wire', known to './http'", async () => {
  const taken = await node.nodeTransport.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const err = await assertRejects(() => node.nodeTransport.listen(taken.address));
    assertInstanceOf(err, root.BindError);
    assertInstanceOf(err, wire.BindError);
    assertInstanceOf(err, root.QueryableStateError);
    const answer = http.errorAnswer(err);
    assertEquals(answer.error.type, "BindError");
    assertEquals(answer.status, 502);
  } finally {
    await taken.close();
  }
});

Deno.test("one error copy: a ProtocolError from ./wire's decoder is the class of '.' and './streams'", () => {
  let err: unknown;
  try {
    wire.decodeMessage(new Uint8Array(16)); // version 0: not the protocol's
  } catch (e) {
    err = e;
  }
  assertInstanceOf(err, root.ProtocolError);
  assertInstanceOf(err, streams.ProtocolError);
  assertEquals(http.errorAnswer(err).error.type, "ProtocolError");
});

Deno.test("one error copy: a FrameLengthError failing a ./streams decoder is the class of '.' and './wire'", async () => {
  const bytes = ReadableStream.from([new Uint8Array([0, 0, 0, 9, 1])]); // length 9, over the bound
  const err = await assertRejects(() =>
    Array.fromAsync(bytes.pipeThrough(new streams.FrameDecoderStream({ maxFrameLength: 4 })))
  );
  assertInstanceOf(err, root.FrameLengthError);
  assertInstanceOf(err, wire.FrameLengthError);
  assertInstanceOf(err, wire.ProtocolError);
  assertEquals(http.errorAnswer(err).error.type, "FrameLengthError");
});

Deno.test("one error copy: every error class any entry point exports is the one of './wire'", () => {
  const entryPoints: Record<string, Record<string, unknown>> = { root, streams, node, http };
  let compared = 0;
  for (const [name, value] of Object.entries(wire)) {
    if (typeof value !== "function" || !(value.prototype instanceof Error)) continue;
    for (const [entry, mod] of Object.entries(entryPoints)) {
      if (!(name in mod)) continue;
      assert(mod[name] === value, `${entry}'s ${name} is another class than ./wire's`);
      compared++;
    }
  }
  assert(compared >= 20, `only ${compared} classes compared`);
  assert(node.TlsError === root.TlsError, "./node's TlsError");
});
