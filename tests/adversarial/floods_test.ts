/**
 * Floods over real sockets, against the proxy and the state server, each
 * while a well-behaved client checks its answers byte for byte: tens of
 * thousands of distinct unknown state names (the proxy's location cache
 * stays within its bounds), connections beyond the per-address cap (refused,
 * the others served), a peer that breaks the framing and keeps sending
 * (it still reads the SERVER_FAILURE frame), idle and slow peers (closed at
 * their timeouts), and many partial frames at once (the shared budget of
 * incomplete frames holds).
 */
import { JobId, type ServerOptions } from "../../mod.ts";
import { encodeKvStateRequest, readJavaThrowable, toHex } from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { delay, RawPeer } from "../_harness.ts";
import { Prng } from "../_prng.ts";
import { JOB } from "../proxy/_plane.ts";
import {
  checkAnswers,
  Checker,
  exchange,
  HostileSocket,
  makeDataset,
  seedFor,
  startHostileTarget,
  type Target,
  TARGET_NAMES,
  type TargetName,
  transport,
  within,
} from "./_hostile.ts";

const SEED = seedFor("floods_test", 4242);

/** The targets of the floods, each with 32 keys of a state named "flooded". */
function startTarget(
  name: TargetName,
  seed: number,
  bounds: Partial<ServerOptions>,
): Promise<Target> {
  return startHostileTarget(name, makeDataset(new Prng(seed), 32), "flooded", bounds);
}

/** Whether the server answered `bytes` bytes (true) or closed without (false), within `ms`. */
async function servedOrRefused(s: HostileSocket, bytes: number, ms: number): Promise<boolean> {
  let ended = false;
  const watch = s.ended.then(() => (ended = true));
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (s.receivedBytes >= bytes) return true;
    if (ended) {
      await watch;
      return s.receivedBytes >= bytes;
    }
    await delay(5);
  }
  throw new Error(`a connection neither served nor closed within ${ms} ms`);
}

Deno.test(`adversarial: tens of thousands of distinct unknown state names keep the proxy's location cache within its bounds (seed ${SEED})`, async () => {
  const rng = new Prng(SEED);
  const target = await startTarget("proxy", SEED, {});
  const plane = target.plane!;
  const checker = await Checker.connect(target.address, target.cases, SEED);
  const peers = await Promise.all([0, 1, 2].map(() => RawPeer.connect(transport, target.address)));
  try {
    await checker.round(64);
    const names = 30_000;
    let maxEntries = 0;
    let maxBytes = 0;
    const flood = Promise.all(peers.map(async (peer, p) => {
      const frames: Uint8Array[] = [];
      for (let i = p; i < names; i += peers.length) {
        // Distinct names of every length up to the bound (1024 bytes).
        const name = `unknown-${i}-` + "x".repeat(rng.int(1000));
        frames.push(encodeKvStateRequest(BigInt(i), {
          jobId: rng.int(4) === 0 ? JobId.random() : JOB,
          stateName: name,
          keyHashCode: rng.int(2 ** 31),
          serializedKeyAndNamespace: rng.bytes(8),
        }));
      }
      for (let i = 0; i < frames.length; i += 1000) {
        const answers = await exchange(peer, frames.slice(i, i + 1000), 250, 30_000);
        for (const f of answers.values()) assertEquals(f[11], 2, "a REQUEST_FAILURE");
        const size = plane.proxy.locationCacheSize;
        maxEntries = Math.max(maxEntries, size.entries);
        maxBytes = Math.max(maxBytes, size.bytes);
      }
    }));
    const checked = await checker.alongside(flood);
    await flood;
    console.log(
      `${names} unknown names: ${plane.lookups} oracle lookups; cache at most ${maxEntries} ` +
        `entries, ${maxBytes} bytes; ${checked} well-behaved answers checked`,
    );
    assert(maxEntries <= 10_000, `the cache kept to 10,000 entries (${maxEntries})`);
    assert(maxBytes <= 16 * 1024 * 1024, `the cache kept to 16 MiB (${maxBytes})`);
    assert(plane.lookups >= names * 0.7, "the names were looked up (the oracle was asked)");

    // A name over maxStateNameLength is refused without a lookup.
    const before = plane.lookups;
    const long = await exchange(peers[0], [
      encodeKvStateRequest(1n, {
        jobId: JOB,
        stateName: "y".repeat(100_000),
        keyHashCode: 1,
        serializedKeyAndNamespace: new Uint8Array(1),
      }),
    ]);
    const t = readJavaThrowable(long.get(1n)!.subarray(20));
    assert(t.message!.includes("maxStateNameLength"), `the refusal names the bound: ${t.message}`);
    assert(t.message!.length < 2000, "the refusal does not echo the whole name");
    // The same unknown name again and again: one lookup (the failure is remembered).
    await exchange(
      peers[1],
      Array.from({ length: 100 }, (_, i) =>
        encodeKvStateRequest(BigInt(i), {
          jobId: JOB,
          stateName: "unknown-once-more",
          keyHashCode: 1,
          serializedKeyAndNamespace: new Uint8Array(1),
        })),
      100,
    );
    assertEquals(plane.lookups - before, 1, "no lookup for the long name, one for the repeated");
    await checker.round(200, 32);
  } finally {
    await Promise.all(peers.map((p) => p.close()));
    await checker.close();
    await target.close();
  }
});

for (const name of TARGET_NAMES) {
  Deno.test(`adversarial: a connection flood past the per-address cap is refused while a well-behaved client is served [${name}]`, async () => {
    const cap = 8;
    const flood = 40;
    const target = await startTarget(name, SEED + 1, { maxConnectionsPerAddress: cap });
    const checker = await Checker.connect(target.address, target.cases, SEED + 1);
    const sockets: HostileSocket[] = [];
    try {
      await checker.round(32);
      const ask = target.cases[0];
      const want = ask.answer(1n);
      const attempt = async () => {
        const s = await HostileSocket.open(target.address);
        sockets.push(s);
        await s.write(ask.request(1n));
        return servedOrRefused(s, want.length, 5_000);
      };
      const outcomes = checker.alongside(
        Promise.all(Array.from({ length: flood }, attempt)),
        32,
      );
      await outcomes;
      const served = sockets.filter((s) => s.receivedBytes > 0);
      assertEquals(served.length, cap - 1, "the cap counts the well-behaved client's connection");
      for (const s of served) assertEquals(toHex(s.received), toHex(want));
      assertEquals(sockets.length - served.length, flood - (cap - 1), "the rest were refused");
      await Promise.all(sockets.map((s) => s.close()));
      sockets.length = 0;
      // Their places are free again.
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        ok = await attempt();
        if (!ok) await delay(20);
      }
      assert(ok, "a new connection is served once the flood is gone");
      await checker.round(100, 16);
    } finally {
      await Promise.all(sockets.map((s) => s.close()));
      await checker.close();
      await target.close();
    }
  });

  Deno.test(`adversarial: a peer that sends a bad length prefix and keeps sending reads the SERVER_FAILURE frame [${name}]`, async () => {
    const rng = new Prng(SEED + 2);
    const target = await startTarget(name, SEED + 2, {});
    const checker = await Checker.connect(target.address, target.cases, SEED + 2);
    const s = await HostileSocket.open(target.address);
    try {
      const ask = target.cases[1];
      assert(await s.write(ask.request(9n)));
      assert(await servedOrRefused(s, ask.answer(9n).length, 5_000), "the request is answered");
      // The framing breaks, and the peer goes on sending as if nothing happened.
      const sending = (async () => {
        const started = performance.now();
        let ok = await s.write(new Uint8Array([0x80, 0, 0, 7]));
        for (let i = 0; ok && i < 256 && performance.now() - started < 1_500; i++) {
          ok = await within(s.write(rng.bytes(8192)), 2_000, "a write").catch(() => false);
        }
      })();
      await checker.alongside(sending, 16);
      const end = await within(s.ended, 5_000, "the server closing the broken connection");
      await sending;
      const got = checkAnswers(s.received);
      assertEquals(got.frames.length, 2, `the answer, then the failure (${end})`);
      assertEquals(toHex(got.frames[0]), toHex(ask.answer(9n)));
      assertEquals(got.serverFailures, 1);
      assert(
        got.serverFailureMessages[0].includes("Exception in server pipeline") &&
          got.serverFailureMessages[0].includes("-2147483641"),
        `the framing failure names the length: ${got.serverFailureMessages[0]}`,
      );
      await checker.round(100, 16);
    } finally {
      await s.close();
      await checker.close();
      await target.close();
    }
  });

  Deno.test(`adversarial: idle and slow peers are closed at their timeouts, a busy client is not [${name}]`, async () => {
    const idleTimeoutMs = 300;
    const target = await startTarget(name, SEED + 3, {
      idleTimeoutMs,
      incompleteFrameTimeoutMs: idleTimeoutMs,
    });
    const checker = await Checker.connect(target.address, target.cases, SEED + 3);
    const idle = await HostileSocket.open(target.address);
    const slow = await HostileSocket.open(target.address);
    try {
      const started = performance.now();
      // slowloris: a frame announced, then a byte every 50 ms
      let slowClosed = false;
      const trickle = (async () => {
        let ok = await slow.write(new Uint8Array([0, 0, 1, 0]));
        for (let i = 0; ok && !slowClosed && i < 60; i++) {
          await delay(50);
          ok = await slow.write(new Uint8Array([i]));
        }
      })();
      // The well-behaved client keeps busy past both timeouts.
      const busy = (async () => {
        while (performance.now() - started < 4 * idleTimeoutMs) {
          await checker.round(8, 8);
          await delay(idleTimeoutMs / 4);
        }
      })();
      const closedAt = async (s: HostileSocket, what: string) => {
        const end = await within(s.ended, 10 * idleTimeoutMs, what);
        return { end, at: performance.now() - started };
      };
      const [idleEnd, slowEnd] = await Promise.all([
        closedAt(idle, "the idle connection closed"),
        closedAt(slow, "the slow connection closed").finally(() => (slowClosed = true)),
      ]);
      await trickle;
      await busy;
      await checker.round(50, 16); // served all along, and still
      for (const [what, e] of [["idle", idleEnd], ["slow", slowEnd]] as const) {
        assert(e.at >= idleTimeoutMs * 0.9, `${what}: not before the timeout (${e.at} ms)`);
      }
      assertEquals(idle.receivedBytes, 0, `nothing sent to the idle peer (${idleEnd.end})`);
      const slowAnswers = checkAnswers(slow.received);
      assertEquals(slowAnswers.serverFailures, 1, `the slow peer is told why (${slowEnd.end})`);
      assert(
        slowAnswers.serverFailureMessages[0].includes(
          `Frame incomplete for more than ${idleTimeoutMs} ms`,
        ),
        slowAnswers.serverFailureMessages[0],
      );
    } finally {
      await idle.close();
      await slow.close();
      await checker.close();
      await target.close();
    }
  });

  Deno.test(`adversarial: many partial frames at once stay within the server's budget of incomplete frames [${name}]`, async () => {
    const budget = 1 << 20;
    const target = await startTarget(name, SEED + 4, { maxIncompleteFrameBytes: budget });
    const checker = await Checker.connect(target.address, target.cases, SEED + 4);
    const sockets: HostileSocket[] = [];
    try {
      // 16 peers each announce a 512 KiB frame and send 192 KiB of it: 3 MiB asked for.
      const hold = async () => {
        const s = await HostileSocket.open(target.address);
        sockets.push(s);
        const head = new Uint8Array(192 * 1024);
        new DataView(head.buffer).setInt32(0, 512 * 1024);
        await s.write(head);
      };
      await checker.alongside(Promise.all(Array.from({ length: 16 }, hold)), 16);
      await delay(200);
      // Past the budget, peers are told why and closed; the others wait.
      const closed = sockets.filter((s) => s.receivedBytes > 0);
      assert(closed.length >= 16 - Math.ceil(budget / (192 * 1024)), `peers past the budget`);
      for (const s of closed) {
        await within(s.ended, 3_000, "a peer past the budget closed");
        const got = checkAnswers(s.received);
        assertEquals(got.serverFailures, 1, "one SERVER_FAILURE saying why");
        assert(
          got.serverFailureMessages[0].includes(
            `incomplete frames of all connections are limited to ${budget} bytes`,
          ),
          got.serverFailureMessages[0],
        );
      }
      await checker.round(100, 16);
    } finally {
      await Promise.all(sockets.map((s) => s.close()));
      await checker.close();
      await target.close();
    }
  });
}
