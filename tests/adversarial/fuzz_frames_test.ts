/**
 * Fuzzed frames over real sockets: hostile connections send mutated
 * requests (flipped bits, wrong versions and types, corrupt inner lengths,
 * truncated and padded bodies, random bodies), cut into random pieces, and
 * some end by breaking the framing, against the proxy and against the state
 * server, while a well-behaved client on its own connection checks every
 * answer byte for byte. Every hostile frame must get exactly one
 * well-formed answer, a broken framing a SERVER_FAILURE then the end of the
 * connection, and the well-behaved client every answer, right.
 *
 * ADVERSARIAL_SEED replays a run; ADVERSARIAL_SCALE multiplies the number of
 * hostile connections.
 */
import { JobId, type KvStateId, type NetAddress } from "../../mod.ts";
import {
  concatBytes,
  encodeKvStateInternalRequest,
  encodeKvStateRequest,
  encodeKvStateResponse,
  encodeServerFailure,
  javaThrowable,
  writeJavaThrowable,
} from "../../src/wire/mod.ts";
import { assert, assertEquals } from "../_assert.ts";
import { delay } from "../_harness.ts";
import { Prng } from "../_prng.ts";
import { JOB } from "../proxy/_plane.ts";
import {
  checkAnswers,
  Checker,
  HostileSocket,
  type KeyCase,
  makeDataset,
  seedFor,
  startHostileTarget,
  within,
} from "./_hostile.ts";

const SEED = seedFor("fuzz_frames_test", 20261129);
const SCALE = Math.max(0.1, Number(Deno.env.get("ADVERSARIAL_SCALE") ?? 1));
const CONNECTIONS = Math.round(400 * SCALE);
const AT_ONCE = 8;

/** Request-like frames (length prefix included) to mutate. */
function baseFrames(rng: Prng, keys: readonly KeyCase[], kvStateId: KvStateId): Uint8Array[] {
  const out: Uint8Array[] = [];
  const id = () => BigInt(rng.int(1 << 30));
  for (let i = 0; i < 8; i++) {
    const k = rng.pick(keys);
    out.push(encodeKvStateRequest(id(), {
      jobId: JOB,
      stateName: "fuzzed",
      keyHashCode: k.hash,
      serializedKeyAndNamespace: k.kn,
    }));
    out.push(encodeKvStateInternalRequest(id(), { kvStateId, serializedKeyAndNamespace: k.kn }));
  }
  out.push(encodeKvStateRequest(id(), {
    jobId: JobId.random(),
    stateName: "no-such-state",
    keyHashCode: 1,
    serializedKeyAndNamespace: rng.bytes(9),
  }));
  out.push(encodeKvStateResponse(id(), rng.bytes(12)));
  out.push(encodeServerFailure(writeJavaThrowable(javaThrowable("java.lang.Exception", "x"))));
  return out;
}

const EXTREMES = [-1, 0x7fffffff, -0x80000000, 0x10000, 0];

/** A mutated copy of a frame, with a length prefix that matches its body. */
function mutateFrame(rng: Prng, frame: Uint8Array): Uint8Array {
  let body: Uint8Array = frame.slice(4);
  const v = () => new DataView(body.buffer, body.byteOffset, body.length);
  switch (rng.int(9)) {
    case 0: // flip bits
      for (let i = 1 + rng.int(4); i > 0 && body.length > 0; i--) {
        body[rng.int(body.length)] ^= 1 << rng.int(8);
      }
      break;
    case 1: // an extreme inner int
      if (body.length >= 4) v().setInt32(rng.int(body.length - 3), rng.pick(EXTREMES));
      break;
    case 2: // truncated
      body = body.slice(0, rng.int(body.length + 1));
      break;
    case 3: // padded
      body = new Uint8Array([...body, ...rng.bytes(1 + rng.int(64))]);
      break;
    case 4: // another version
      if (body.length >= 4) v().setInt32(0, rng.int(2 ** 31));
      break;
    case 5: // another message type
      if (body.length >= 8) v().setInt32(4, rng.int(3) === 0 ? rng.int(2 ** 31) : rng.int(6));
      break;
    case 6: // a random body
      body = rng.bytes(rng.int(200));
      break;
    case 7: { // a region repeated
      const at = rng.int(body.length + 1);
      const n = rng.int(Math.min(32, body.length - at) + 1);
      body = new Uint8Array([...body.subarray(0, at + n), ...body.subarray(at)]);
      break;
    }
    default: // as is
  }
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, body.length);
  out.set(body, 4);
  return out;
}

/** A length prefix no server accepts (negative, or over the 64 MiB default). */
function brokenPrefix(rng: Prng): Uint8Array {
  const out = new Uint8Array(4);
  const len = rng.pick([-1, -0x80000000, 0x7fffffff, 64 * 1024 * 1024 + 1 + rng.int(1000)]);
  new DataView(out.buffer).setInt32(0, len);
  return out;
}

interface FuzzTotals {
  connections: number;
  frames: number;
  results: number;
  failures: number;
  serverFailures: number;
  broken: number;
}

/**
 * One hostile connection: fuzzed frames in random pieces, maybe a broken
 * prefix and junk after it, then FIN; checks what came back.
 */
async function fuzzConnection(
  address: NetAddress,
  rng: Prng,
  bases: readonly Uint8Array[],
  totals: FuzzTotals,
): Promise<void> {
  const count = 5 + rng.int(60);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) parts.push(mutateFrame(rng, rng.pick(bases)));
  const broken = rng.int(3) === 0;
  if (broken) parts.push(brokenPrefix(rng), rng.bytes(rng.int(512)));
  const stream = concatBytes(parts);

  const s = await HostileSocket.open(address);
  try {
    for (let at = 0; at < stream.length;) {
      const n = 1 + rng.int(rng.int(4) === 0 ? 8 : 2048);
      if (!(await s.write(stream.subarray(at, at + n)))) break;
      at += n;
      if (rng.int(16) === 0) await delay(1);
    }
    await s.closeWrite();
    const end = await within(s.ended, 10_000, "the server ending a fuzzed connection");
    const got = checkAnswers(s.received);
    const context = `connection of ${count} frames${broken ? " + broken prefix" : ""}, ${end}`;
    if (broken) {
      // Every frame before the broken prefix is answered, those still in
      // progress when the framing breaks (the proxy's forwarded requests)
      // too, before the SERVER_FAILURE.
      const answers = got.frames.length - 1;
      assertEquals(answers, count, `one answer per frame (${context})`);
      assertEquals(got.frames.at(-1)![11], 3, `a SERVER_FAILURE last (${context})`);
      assert(
        got.serverFailureMessages.at(-1)!.includes("Exception in server pipeline"),
        `the framing failure: ${got.serverFailureMessages.at(-1)}`,
      );
      totals.broken++;
    } else {
      assertEquals(got.frames.length, count, `one answer per frame (${context})`);
      assertEquals(end, "eof", `an orderly end after FIN (${context})`);
    }
    totals.connections++;
    totals.frames += count;
    totals.results += got.results;
    totals.failures += got.failures;
    totals.serverFailures += got.serverFailures;
  } finally {
    await s.close();
  }
}

/** Runs the hostile connections, a few at once, each with its own seeded PRNG. */
async function fuzzAll(
  address: NetAddress,
  seed: number,
  bases: readonly Uint8Array[],
): Promise<FuzzTotals> {
  const totals: FuzzTotals = {
    connections: 0,
    frames: 0,
    results: 0,
    failures: 0,
    serverFailures: 0,
    broken: 0,
  };
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < CONNECTIONS && errors.length === 0) {
      const i = next++;
      try {
        await fuzzConnection(address, new Prng(seed * 1000 + i), bases, totals);
      } catch (e) {
        errors.push(new Error(`hostile connection ${i}: ${(e as Error).message}`, { cause: e }));
      }
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  if (errors.length > 0) throw errors[0];
  return totals;
}

function report(target: string, t: FuzzTotals, checked: number): void {
  console.log(
    `${target}: ${t.connections} hostile connections, ${t.frames} fuzzed frames answered ` +
      `(${t.results} results, ${t.failures} request failures, ${t.serverFailures} server failures, ` +
      `${t.broken} broken framings); ${checked} well-behaved answers checked byte for byte`,
  );
  assertEquals(t.connections, CONNECTIONS);
  assert(t.results > 0 && t.failures > 0 && t.serverFailures > 0, "every kind of answer was seen");
  assert(t.broken > 0, "broken framings were exercised");
}

for (const [name, seed] of [["proxy", SEED], ["state server", SEED + 1]] as const) {
  Deno.test(`adversarial: fuzzed frames against the ${name} while a well-behaved client checks every answer (seed ${SEED})`, async () => {
    const rng = new Prng(seed);
    const dataset = makeDataset(rng, 48);
    const target = await startHostileTarget(name, dataset, "fuzzed");
    let checker: Checker | undefined;
    try {
      checker = await Checker.connect(target.address, target.cases, seed);
      // The location is cached: the proxy's fast path too.
      if (name === "proxy") await checker.round(32);
      const frames = baseFrames(rng, dataset.keys, target.kvStateId);
      // Both answer every frame before a broken framing.
      const hostile = fuzzAll(target.address, seed, frames);
      const checked = await checker.alongside(hostile);
      report(name, await hostile, checked);
      await checker.round(200, 32);
    } finally {
      await checker?.close();
      await target.close();
    }
  });
}
