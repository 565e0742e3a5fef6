/**
 * DirectSession counts every answer byte it holds once in the shared bound
 * of answer bytes, however the answers arrive: written in place by the
 * handler, returned, or settled (even from inside another frame's handler).
 */

import type { DirectChannel } from "../../mod.ts";
import { FrameBudget, SharedFlowLimit } from "../../src/streams/mod.ts";
import { DirectSession, PENDING } from "../../src/server/direct_session.ts";
import { connectionOver } from "./_direct_conn.ts";
import { assertEquals } from "../_assert.ts";
import { delay } from "../_harness.ts";

Deno.test("DirectSession: an answer settled while another frame is answered in place is counted once", async () => {
  const written: Uint8Array[] = [];
  const channel: DirectChannel = {
    write(bytes) {
      written.push(bytes.slice());
      return true;
    },
    closeWrite: () => Promise.resolve(),
    pause() {},
    resume() {},
  };
  const budget = new FrameBudget(1 << 20);
  const limit = new SharedFlowLimit(1000, 1 << 20, budget);
  const session: DirectSession = new DirectSession(
    connectionOver(channel),
    (bytes, start, _end, out) => {
      // Frame 1 is answered later; frame 2's handler settles it, then answers in place.
      if (bytes[start] === 1) return PENDING;
      session.settle(new Uint8Array([0xaa, 1]));
      const b = out.reserve(2);
      b[out.length++] = 0xaa;
      b[out.length++] = 2;
      return null;
    },
    {
      maxFrameLength: 1024,
      maxInFlight: 1024,
      maxBufferedBytes: 1 << 20,
      framingFailure: () => new Uint8Array([0xee]),
      budget,
      limit,
      internalError: (e) => {
        throw e;
      },
      failureGraceMs: 5_000,
      lingerMs: 50,
      lingerBytes: 1 << 20,
    },
  );
  const done = session.start();
  session.data(new Uint8Array([0, 0, 0, 1, 1, 0, 0, 0, 1, 2]));
  await delay(0);
  assertEquals(written.flatMap((w) => Array.from(w)), [0xaa, 1, 0xaa, 2]);
  assertEquals(limit.heldBytes, 0, "every answer byte written is given back");
  session.end();
  await done;
  assertEquals([limit.heldBytes, limit.inFlight, budget.used], [0, 0, 0]);
});
