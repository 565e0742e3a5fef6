/**
 * Seeded fuzzing of the Java serialization reader: random and mutated streams
 * must only ever end in a result or a JavaSerializationError, quickly.
 *
 * FUZZ_SEED and FUZZ_ITERATIONS (environment) override the defaults for a
 * longer exploratory run; the default run is deterministic.
 */

import {
  type JavaSerializationLimits,
  readJavaThrowable,
  writeJavaThrowable,
} from "../../src/wire/java_serialization.ts";
import { javaThrowable } from "../../src/wire/java_throwable.ts";
import { JavaSerializationError } from "../../src/wire/errors.ts";
import { fromHex } from "../../src/wire/bytes.ts";
import { assert } from "../_assert.ts";
import { entries, HAVE_VECTORS, readVector } from "../_vectors.ts";
import { Prng } from "../_prng.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed1234);
const ITERATIONS = Number(Deno.env.get("FUZZ_ITERATIONS") ?? 100_000);
/** Per-input bound; generous, as a slow CI machine may pause for GC. */
const MAX_MS_PER_INPUT = 1_000;

function corpus(): Uint8Array[] {
  const own = [
    javaThrowable("java.lang.RuntimeException", "Failed request 7.\n Caused by: boom"),
    javaThrowable("java.lang.Throwable", null),
    javaThrowable(
      "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException",
      "Queryable State Server : No registered state with ID 00.",
    ),
    javaThrowable(
      "java.lang.RuntimeException",
      "zähler € \u0000 😀",
      javaThrowable(
        "java.lang.IllegalStateException",
        null,
        javaThrowable(
          "org.apache.flink.queryablestate.exceptions.UnknownLocationException",
          "root",
        ),
      ),
    ),
  ].map(writeJavaThrowable);
  // PROTOCOL §3.3 form: TC_NULL cause, stack trace and suppressed list.
  own.push(fromHex(
    "aced0005737200136a6176612e6c616e672e5468726f7761626c65d5c635273977b8cb0300044c00056361" +
      "7573657400154c6a6176612f6c616e672f5468726f7761626c653b4c000d64657461696c4d65737361676574" +
      "00124c6a6176612f6c616e672f537472696e673b5b000a737461636b547261636574001e5b4c6a6176612f6c" +
      "616e672f537461636b5472616365456c656d656e743b4c001473757070726573736564457863657074696f6e" +
      "737400104c6a6176612f7574696c2f4c6973743b7870707400016d707078",
  ));
  if (HAVE_VECTORS) {
    for (const e of entries("javaSerializedThrowable")) own.push(readVector(e.file));
  }
  return own;
}

const INTERESTING_8 = [
  0x00,
  0x01,
  0x7f,
  0x80,
  0xff,
  ...Array.from({ length: 15 }, (_, i) => 0x70 + i),
];
const INTERESTING_32 = [
  0,
  1,
  -1,
  0x7f,
  0xff,
  0xffff,
  0x10000,
  0x7fffffff,
  -0x80000000,
  0x7e0000,
  0x7e0001,
  0x7e0005,
  0x7e0008,
  0x7e00ff,
  0x7dffff,
];

class Mutator {
  readonly #rnd: () => number;
  readonly #corpus: Uint8Array[];

  constructor(rnd: () => number, corpus: Uint8Array[]) {
    this.#rnd = rnd;
    this.#corpus = corpus;
  }

  int(n: number): number {
    return Math.floor(this.#rnd() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** A stream of random bytes behind a valid header, heavy on type codes. */
  random(): Uint8Array {
    const out = new Uint8Array(4 + this.int(160));
    out.set([0xac, 0xed, 0x00, 0x05]);
    for (let i = 4; i < out.length; i++) {
      out[i] = this.#rnd() < 0.5 ? 0x70 + this.int(15) : this.int(256);
    }
    return out;
  }

  mutate(): Uint8Array {
    let b: Uint8Array = this.pick(this.#corpus).slice();
    const rounds = 1 + this.int(3);
    for (let r = 0; r < rounds; r++) b = this.#once(b);
    return b;
  }

  #once(b: Uint8Array): Uint8Array {
    const n = b.length;
    if (n === 0) return this.random();
    const at = this.int(n);
    switch (this.int(8)) {
      case 0: { // bit flips
        const flips = 1 + this.int(4);
        for (let i = 0; i < flips; i++) b[this.int(n)] ^= 1 << this.int(8);
        return b;
      }
      case 1: // interesting byte
        b[at] = this.pick(INTERESTING_8);
        return b;
      case 2: // truncation
        return b.subarray(0, this.int(n));
      case 3: { // insertion
        const ins = new Uint8Array(1 + this.int(8)).map(() => this.pick(INTERESTING_8));
        const out = new Uint8Array(n + ins.length);
        out.set(b.subarray(0, at));
        out.set(ins, at);
        out.set(b.subarray(at), at + ins.length);
        return out;
      }
      case 4: { // deletion
        const len = 1 + this.int(Math.min(16, n - at));
        const out = new Uint8Array(n - len);
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + len), at);
        return out;
      }
      case 5: { // a 16/32/64-bit field overwritten: lengths, counts, handles, sizes
        const width = this.pick([2, 4, 8]);
        if (at + width > n) return b;
        const v = this.pick(INTERESTING_32);
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        if (width === 2) view.setUint16(at, v & 0xffff);
        else if (width === 4) view.setInt32(at, v);
        else view.setBigInt64(at, BigInt(v));
        return b;
      }
      case 6: { // the field right after a type code (length, handle, size) corrupted
        const tags = [0x71, 0x72, 0x74, 0x75, 0x77, 0x7a, 0x7c];
        for (let i = 0; i < 32; i++) {
          const p = this.int(n);
          if (tags.includes(b[p]) && p + 5 <= n) {
            new DataView(b.buffer, b.byteOffset, b.byteLength).setInt32(
              p + 1,
              this.pick(INTERESTING_32),
            );
            break;
          }
        }
        return b;
      }
      default: { // splice with another stream
        const other = this.pick(this.#corpus);
        const cut = this.int(other.length);
        const out = new Uint8Array(at + other.length - cut);
        out.set(b.subarray(0, at));
        out.set(other.subarray(cut), at);
        return out;
      }
    }
  }
}

const TIGHT: Partial<JavaSerializationLimits>[] = [
  { maxDepth: 4 },
  { maxHandles: 12 },
  { maxStringLength: 16 },
  { maxArrayLength: 1 },
  { maxBytes: 256 },
];

Deno.test(`fuzz: ${ITERATIONS} seeded random and mutated streams only give JavaSerializationError`, () => {
  const generator = new Prng(SEED);
  const rnd = () => generator.next();
  const m = new Mutator(rnd, corpus());
  let parsed = 0;
  let rejected = 0;
  let slowest = 0;
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const input = i % 10 === 0 ? m.random() : m.mutate();
    const limits = i % 7 === 0 ? m.pick(TIGHT) : undefined;
    const t0 = performance.now();
    try {
      const t = readJavaThrowable(input, limits);
      assert(typeof t.className === "string" && t.classHierarchy.includes("java.lang.Throwable"));
      parsed++;
    } catch (e) {
      if (!(e instanceof JavaSerializationError)) {
        throw new Error(`iteration ${i} (seed ${SEED}): ${e} for input ${hex(input)}`);
      }
      if (e.message.includes("internal error") || e.message.includes("call stack")) {
        throw new Error(`iteration ${i} (seed ${SEED}): ${e.message} for input ${hex(input)}`);
      }
      rejected++;
    }
    const ms = performance.now() - t0;
    if (ms > slowest) slowest = ms;
    if (ms > MAX_MS_PER_INPUT) {
      throw new Error(`iteration ${i} (seed ${SEED}) took ${ms.toFixed(0)} ms: ${hex(input)}`);
    }
  }
  assert(parsed > 0 && rejected > 0, `parsed ${parsed}, rejected ${rejected}`);
  console.log(
    `fuzz seed ${SEED}: ${parsed} parsed, ${rejected} rejected in ${
      (performance.now() - started).toFixed(0)
    } ms (slowest input ${slowest.toFixed(1)} ms)`,
  );
});

function hex(b: Uint8Array): string {
  return Array.from(b.subarray(0, 400), (x) => x.toString(16).padStart(2, "0")).join("") +
    (b.length > 400 ? "…" : "");
}
