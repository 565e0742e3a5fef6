/**
 * DirectSession on a scripted channel: frames not started wait as the chunk
 * they were read in (counted in the shared budget), requests in progress
 * keep their chunk counted until they finish, a spent budget stops reading
 * on connections that have a request in progress, and a framing error
 * answers the requests in progress before the failure frame, with every
 * shared counter back to zero.
 */

import { type Connection, type DirectChannel, FrameLengthError } from "../../mod.ts";
import { FrameBudget, SharedFlowLimit } from "../../src/streams/mod.ts";
import { DirectSession, PENDING } from "../../src/server/direct_session.ts";
import type { InputHold } from "../../src/server/input_hold.ts";
import { connectionOver } from "./_direct_conn.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { delay } from "../_harness.ts";

/** A channel that records what the session does with it. */
function scripted() {
  const io = {
    written: [] as Uint8Array[],
    paused: false,
    pauses: 0,
    finSent: false,
  };
  const channel: DirectChannel = {
    write(bytes) {
      io.written.push(bytes);
      return true;
    },
    closeWrite() {
      io.finSent = true;
      return Promise.resolve();
    },
    pause() {
      io.paused = true;
      io.pauses++;
    },
    resume() {
      io.paused = false;
    },
  };
  const conn = connectionOver(channel);
  return { conn, io };
}

/** Frames of one byte each (the byte is the frame's number), prefixes included. */
function frames(...ids: number[]): Uint8Array {
  const out = new Uint8Array(ids.length * 5);
  ids.forEach((id, i) => {
    out[i * 5 + 3] = 1;
    out[i * 5 + 4] = id;
  });
  return out;
}

const FAILURE = new Uint8Array([0xee, 0xee]);

interface Started {
  readonly id: number;
  readonly hold: InputHold;
}

/** A session whose handler keeps every request in progress until `finish`. */
function slowSession(
  budget: FrameBudget,
  limit: SharedFlowLimit,
  options: { maxInFlight?: number; failureGraceMs?: number } = {},
) {
  const { conn, io } = scripted();
  return { ...slowSessionOn(conn, budget, limit, options), io };
}

function slowSessionOn(
  conn: Connection,
  budget: FrameBudget,
  limit: SharedFlowLimit,
  options: { maxInFlight?: number; failureGraceMs?: number } = {},
) {
  const started: Started[] = [];
  const session: DirectSession = new DirectSession(conn, (bytes, start) => {
    // As the server's fast path does: the request keeps its chunk counted.
    started.push({ id: bytes[start], hold: session.retainInput() });
    return PENDING;
  }, {
    maxFrameLength: 1024,
    maxInFlight: options.maxInFlight ?? 1024,
    maxBufferedBytes: 1 << 20,
    framingFailure: () => FAILURE,
    budget,
    limit,
    internalError: (e) => {
      throw e;
    },
    failureGraceMs: options.failureGraceMs ?? 5_000,
    lingerMs: 50,
    lingerBytes: 1 << 20,
  });
  const done = session.start();
  const finish = (id: number): void => {
    const i = started.findIndex((s) => s.id === id);
    assert(i >= 0, `request ${id} was started`);
    const [s] = started.splice(i, 1);
    s.hold.release();
    session.settle(new Uint8Array([0xaa, id]));
  };
  return { session, started, finish, done };
}

const ids = (started: readonly Started[]) => started.map((s) => s.id);
const answered = (written: readonly Uint8Array[]) =>
  written.flatMap((w) => {
    const out: number[] = [];
    for (let i = 0; i + 1 < w.length; i += 2) if (w[i] === 0xaa) out.push(w[i + 1]);
    return out;
  });

Deno.test("DirectSession: frames wait as their chunk, counted in the budget until the last request read from it finishes", async () => {
  const budget = new FrameBudget(1 << 20);
  const limit = new SharedFlowLimit(1000, 1 << 20, budget);
  const s = slowSession(budget, limit, { maxInFlight: 2 });
  const chunk = frames(1, 2, 3, 4, 5);
  s.session.data(chunk);
  assertEquals(ids(s.started), [1, 2], "two in progress, the bound");
  assert(s.io.paused, "not read while the others wait");
  assertEquals(budget.used, chunk.length, "the chunk counts while its frames wait");
  s.finish(1);
  await delay(0);
  assertEquals(ids(s.started), [2, 3]);
  s.finish(2);
  s.finish(3);
  await delay(0);
  assertEquals(ids(s.started), [4, 5]);
  assert(s.io.paused, "every frame started, but no room for another: not read");
  assertEquals(budget.used, chunk.length, "requests in progress keep their chunk counted");
  s.finish(4);
  assertEquals(budget.used, chunk.length);
  await delay(0);
  assert(!s.io.paused, "room for another: read on");
  s.finish(5);
  assertEquals(budget.used, 0, "the last request gives the chunk back");
  await delay(0);
  assertEquals(answered(s.io.written), [1, 2, 3, 4, 5]);
  s.session.end();
  assertEquals((await s.done).error, undefined);
  assertEquals([budget.used, limit.inFlight, limit.heldBytes], [0, 0, 0]);
});

Deno.test("DirectSession: with the budget spent, a session with a request in progress stops reading; one with none starts one", async () => {
  const budget = new FrameBudget(8);
  const limit = new SharedFlowLimit(1000, 1 << 20, budget);
  const a = slowSession(budget, limit);
  const b = slowSession(budget, limit);
  a.session.data(frames(1, 2, 3));
  assertEquals(ids(a.started), [1], "a starts one; then the budget (15 bytes of 8) is spent");
  assert(a.io.paused);
  b.session.data(frames(9));
  assertEquals(ids(b.started), [9], "b had none in progress: it starts one");
  assert(b.io.paused, "and then waits too: it has one in progress and the budget is spent");
  b.finish(9);
  await delay(0);
  assert(!b.io.paused, "b has none in progress again: it reads");
  assertEquals(ids(a.started), [1], "a still waits: its chunk keeps the budget spent");
  a.finish(1);
  await delay(0);
  assertEquals(ids(a.started), [2]);
  a.finish(2);
  await delay(0);
  a.finish(3);
  await delay(0);
  assertEquals(answered(a.io.written), [1, 2, 3]);
  assertEquals(answered(b.io.written), [9]);
  assert(!a.io.paused);
  assertEquals(budget.used, 0);
  a.session.end();
  b.session.end();
  await a.done;
  await b.done;
  assertEquals([limit.inFlight, limit.heldBytes, limit.waiting], [0, 0, 0]);
});

Deno.test("DirectSession: a framing error answers the requests in progress first, then the failure frame and FIN; every counter back to zero", async () => {
  const budget = new FrameBudget(1 << 20);
  const limit = new SharedFlowLimit(1000, 1 << 20, budget);
  const s = slowSession(budget, limit);
  s.session.data(concatAll(frames(1, 2, 3), new Uint8Array([0xff, 0xff, 0xff, 0xfe, 7, 7])));
  assertEquals(ids(s.started), [1, 2, 3]);
  assertEquals(s.io.written.length, 0, "no failure frame while requests are in progress");
  assert(!s.io.paused, "what the peer still sends is read (and discarded)");
  s.session.data(new Uint8Array(1000)); // discarded
  assertEquals(ids(s.started), [1, 2, 3]);
  s.finish(2);
  s.finish(1);
  await delay(0);
  assertEquals(answered(s.io.written), [2, 1]);
  assert(!s.io.finSent);
  s.finish(3);
  await delay(0);
  assertEquals(answered(s.io.written), [2, 1, 3]);
  assertEquals(s.io.written.at(-1)!.subarray(-2), FAILURE, "the failure frame last");
  await delay(0);
  assert(s.io.finSent, "then FIN");
  s.session.end();
  assertInstanceOf((await s.done).error, FrameLengthError);
  assertEquals([budget.used, limit.inFlight, limit.heldBytes], [0, 0, 0]);
});

Deno.test("DirectSession: after a framing error, a request slower than the grace is dropped: the failure frame goes at the grace's end", async () => {
  const budget = new FrameBudget(1 << 20);
  const limit = new SharedFlowLimit(1000, 1 << 20, budget);
  const s = slowSession(budget, limit, { failureGraceMs: 40 });
  s.session.data(concatAll(frames(1, 2), new Uint8Array([0xff, 0xff, 0xff, 0xfe])));
  s.finish(1);
  await delay(0);
  assertEquals(answered(s.io.written), [1]);
  const t0 = performance.now();
  while (!s.io.finSent && performance.now() - t0 < 2000) await delay(5);
  assert(performance.now() - t0 >= 30, "not before the grace");
  assert(s.io.finSent);
  assertEquals(s.io.written.at(-1), FAILURE);
  s.finish(2); // too late: dropped
  await delay(0);
  assertEquals(answered(s.io.written), [1]);
  s.session.end();
  assertInstanceOf((await s.done).error, FrameLengthError);
  assertEquals([budget.used, limit.inFlight, limit.heldBytes], [0, 0, 0]);
});

function concatAll(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("DirectSession: answers waiting for a write gather in one batch, and leave in order, byte for byte", async () => {
  const budget = new FrameBudget(1 << 20);
  const limit = new SharedFlowLimit(1000, 1 << 20, budget);
  const { conn, io } = scripted();
  const direct = conn.direct!;
  let handler: { drain(): void } | undefined;
  // A channel whose writes wait for `drain` (as the Deno adapter's do).
  (conn as { direct: Connection["direct"] }).direct = (h) => {
    handler = h;
    const channel = direct(h);
    return { ...channel, write: (b: Uint8Array) => (channel.write(b), false) };
  };
  const s = slowSessionOn(conn, budget, limit);
  const ids = Array.from({ length: 200 }, (_, i) => i % 250);
  s.session.data(frames(...ids));
  assertEquals(s.started.length, 200);
  s.finish(ids[0]);
  await delay(0);
  assertEquals(io.written.length, 1, "the first answer is written; the others wait for drain");
  for (let i = 1; i < 200; i++) {
    s.finish(ids[i]);
    if (i % 7 === 0) await delay(0); // answers come in several turns
  }
  await delay(0);
  assertEquals(io.written.length, 1);
  handler!.drain();
  assertEquals(io.written.length, 2, "one write for all that waited");
  assertEquals(answered(io.written), ids);
  s.session.end();
  handler!.drain();
  await s.done;
  assertEquals([budget.used, limit.inFlight, limit.heldBytes], [0, 0, 0]);
});
