import {
  computeDefaultMaxParallelism,
  computeKeyGroupRangeForOperatorIndex,
  computeKeyGroupRanges,
  computeOperatorIndexForKeyGroup,
  DEFAULT_LOWER_BOUND_MAX_PARALLELISM,
  keyGroupForKeyHash,
  KeyGroupRange,
  murmurHash,
  UPPER_BOUND_MAX_PARALLELISM,
} from "../../src/wire/key_group.ts";
import {
  booleanHashCode,
  doubleHashCode,
  intHashCode,
  longHashCode,
  stringHashCode,
} from "../../src/wire/java_hash_code.ts";
import { ProtocolError } from "../../src/wire/errors.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { readVectorJson, vectorTest } from "../_vectors.ts";

// PROTOCOL 4.4 worked examples: keyHashCode, murmurHash, kg@128, kg@256, kg@32768.
const PROTOCOL_TABLE: ReadonlyArray<readonly [number, number, number, number, number]> = [
  [1, 68075478, 86, 214, 16342],
  [42, 1134849565, 29, 29, 28189],
  [0, 593689054, 94, 222, 31198],
  [99162322, 1715862179, 35, 163, 31395],
  [101943363, 23124534, 54, 54, 23094],
  [1231, 1090530765, 77, 205, 11725],
  [1237, 1530821891, 3, 3, 32003],
  [1072693248, 1409882055, 71, 199, 6087],
  [-2147483648, 1718298732, 108, 108, 10348],
  [2147483647, 1653689534, 62, 190, 19646],
];

Deno.test("murmurHash and key groups: PROTOCOL 4.4 table", () => {
  for (const [hash, murmur, kg128, kg256, kg32768] of PROTOCOL_TABLE) {
    assertEquals(murmurHash(hash), murmur, `murmurHash(${hash})`);
    assertEquals(keyGroupForKeyHash(hash, 128), kg128, `kg@128 of ${hash}`);
    assertEquals(keyGroupForKeyHash(hash, 256), kg256, `kg@256 of ${hash}`);
    assertEquals(keyGroupForKeyHash(hash, 32768), kg32768, `kg@32768 of ${hash}`);
  }
});

Deno.test("key groups: PROTOCOL 4.4 table rows from the Java keys", () => {
  // Integer 0 / String "" / Long -1 / Double 0.0 all hash to 0.
  for (const h of [intHashCode(0), stringHashCode(""), longHashCode(-1n), doubleHashCode(0)]) {
    assertEquals(h, 0);
    assertEquals(keyGroupForKeyHash(h, 128), 94);
  }
  assertEquals(keyGroupForKeyHash(intHashCode(1), 256), 214);
  assertEquals(keyGroupForKeyHash(longHashCode(4294967296n), 32768), 16342);
  assertEquals(keyGroupForKeyHash(stringHashCode("hello"), 128), 35);
  assertEquals(keyGroupForKeyHash(stringHashCode("key-1"), 32768), 23094);
  assertEquals(keyGroupForKeyHash(booleanHashCode(true), 128), 77);
  assertEquals(keyGroupForKeyHash(booleanHashCode(false), 32768), 32003);
  assertEquals(keyGroupForKeyHash(doubleHashCode(1.0), 256), 199);
  assertEquals(keyGroupForKeyHash(doubleHashCode(-0), 128), 108);
  assertEquals(keyGroupForKeyHash(intHashCode(-2147483648), 32768), 10348);
  assertEquals(keyGroupForKeyHash(intHashCode(2147483647), 128), 62);
});

/** The step-by-step computation of PROTOCOL 4.4, to check its trace tables. */
function murmurTrace(code: number): number[] {
  const steps: number[] = [code];
  let h = Math.imul(code, 0xcc9e2d51);
  steps.push(h);
  h = (h << 15) | (h >>> 17);
  steps.push(h);
  h = Math.imul(h, 0x1b873593);
  steps.push(h);
  h = (h << 13) | (h >>> 19);
  steps.push(h);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  steps.push(h);
  h ^= 4;
  steps.push(h);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  steps.push(h);
  return steps.map((v) => v >>> 0);
}

Deno.test("murmurHash: PROTOCOL 4.4 step traces", () => {
  assertEquals(murmurTrace(42), [
    0x0000002a,
    0x91f36f4a,
    0xb7a548f9,
    0x6a5373fb,
    0x6e7f6d4a,
    0x0ed18dd6,
    0x0ed18dd2,
    0xbc5b91e3,
  ]);
  assertEquals(0xbc5b91e3 | 0, -1134849565);
  assertEquals(murmurHash(42), 1134849565); // abs
  assertEquals(murmurTrace(99162322).slice(1), [
    0x81b9c472,
    0xe23940dc,
    0x2951ca54,
    0x394a852a,
    0x04c90536,
    0x04c90532,
    0x6645faa3,
  ]);
  assertEquals(murmurHash(99162322), 0x6645faa3);
});

Deno.test("murmurHash: result is always non-negative, INT_MIN maps to 0", () => {
  // Find inputs whose fmix result is negative; their hash must be its negation.
  let negatives = 0;
  let x = 0x9e3779b9;
  for (let i = 0; i < 20000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    const raw = murmurTrace(x)[7] | 0;
    const h = murmurHash(x);
    assert(h >= 0 && h <= 0x7fffffff, `murmurHash(${x}) = ${h}`);
    if (raw < 0) {
      negatives++;
      assertEquals(h, raw === -2147483648 ? 0 : -raw);
    } else {
      assertEquals(h, raw);
    }
  }
  assert(negatives > 5000, "the sample should contain negative raw hashes");
});

Deno.test("murmurHash: rejects non-int32 input with a TypeError", () => {
  for (const bad of [1.5, 2 ** 31, -(2 ** 31) - 1, NaN, Infinity]) {
    assertThrows(() => murmurHash(bad), TypeError, "int32");
  }
  assertThrows(() => murmurHash("1" as unknown as number), TypeError);
  assertEquals(murmurHash(-0), murmurHash(0));
});

Deno.test("keyGroupForKeyHash: numKeyGroups 0 is Java's ArithmeticException", () => {
  const e = assertThrows(() => keyGroupForKeyHash(42, 0), ProtocolError);
  assertEquals(e.message, "/ by zero");
  assertEquals(e.javaClassName, "java.lang.ArithmeticException");
});

Deno.test("keyGroupForKeyHash: rejects negative and non-int32 arguments", () => {
  const e = assertThrows(() => keyGroupForKeyHash(42, -128), ProtocolError, "-128");
  assertEquals(e.javaClassName, "java.lang.IllegalArgumentException");
  assertThrows(() => keyGroupForKeyHash(42, 1.5), TypeError, "numKeyGroups");
  assertThrows(() => keyGroupForKeyHash(42, 2 ** 31), TypeError, "numKeyGroups");
  assertThrows(() => keyGroupForKeyHash(1.5, 128), TypeError, "int32");
  assertThrows(() => keyGroupForKeyHash(2 ** 32 + 1, 128), TypeError, "int32");
});

Deno.test("keyGroupForKeyHash: always in [0, numKeyGroups)", () => {
  let x = 12345;
  for (const n of [1, 2, 3, 7, 10, 127, 128, 1000, 4096, 32768, 2147483647]) {
    for (let i = 0; i < 2000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      const kg = keyGroupForKeyHash(x, n);
      assert(kg >= 0 && kg < n && Number.isInteger(kg), `kg ${kg} for n ${n}`);
    }
  }
});

Deno.test("KeyGroupRange: size, contains, equals, iteration, text form", () => {
  const r = new KeyGroupRange(43, 85);
  assertEquals(r.start, 43);
  assertEquals(r.end, 85);
  assertEquals(r.size, 43);
  assert(r.contains(43) && r.contains(85) && r.contains(60));
  assert(!r.contains(42) && !r.contains(86) && !r.contains(-1));
  assert(r.equals(new KeyGroupRange(43, 85)));
  assert(!r.equals(new KeyGroupRange(43, 86)) && !r.equals(null) && !r.equals(undefined));
  assertEquals([...new KeyGroupRange(5, 8)], [5, 6, 7, 8]);
  assertEquals(new KeyGroupRange(7, 7).size, 1);
  assertEquals(r.toString(), "KeyGroupRange{startKeyGroup=43, endKeyGroup=85}");
  assert(Object.isFrozen(r));
});

Deno.test("KeyGroupRange: EMPTY", () => {
  const e = KeyGroupRange.EMPTY;
  assert(e instanceof KeyGroupRange);
  assertEquals(e.start, 0);
  assertEquals(e.end, -1);
  assertEquals(e.size, 0);
  assert(!e.contains(0) && !e.contains(-1));
  assertEquals([...e], []);
  assert(Object.isFrozen(e));
  assertEquals(e.toString(), "KeyGroupRange{startKeyGroup=0, endKeyGroup=-1}");
});

Deno.test("KeyGroupRange: constructor rejects invalid bounds", () => {
  const neg = assertThrows(() => new KeyGroupRange(-1, 3), ProtocolError, "-1");
  assertEquals(neg.javaClassName, "java.lang.IllegalArgumentException");
  assertThrows(() => new KeyGroupRange(5, 4), ProtocolError, "before");
  assertThrows(() => new KeyGroupRange(0.5, 4), TypeError);
  assertThrows(() => new KeyGroupRange(0, 2 ** 31), TypeError);
});

Deno.test("key group ranges: 128 over 3 (Flink's split) and bounds", () => {
  assertEquals(
    computeKeyGroupRanges(128, 3).map((r) => [r.start, r.end]),
    [[0, 42], [43, 85], [86, 127]],
  );
  assertEquals(computeKeyGroupRanges(1, 1).map((r) => [r.start, r.end]), [[0, 0]]);
  assertEquals(
    computeKeyGroupRanges(4, 4).map((r) => [r.start, r.end]),
    [[0, 0], [1, 1], [2, 2], [3, 3]],
  );
  assertEquals(computeOperatorIndexForKeyGroup(128, 3, 127), 2);
  assertEquals(UPPER_BOUND_MAX_PARALLELISM, 32768);
  assertEquals(DEFAULT_LOWER_BOUND_MAX_PARALLELISM, 128);
});

Deno.test("key group ranges: partition 0..max-1 and agree with computeOperatorIndexForKeyGroup", () => {
  const maxes = [1, 2, 3, 7, 10, 128, 129, 1000, 4096, 32768];
  const ps = [1, 2, 3, 4, 5, 7, 10, 13, 64, 100, 127, 128, 1000, 32768];
  for (const max of maxes) {
    for (const p of ps) {
      if (p > max) continue;
      const ranges = computeKeyGroupRanges(max, p);
      assertEquals(ranges.length, p);
      let next = 0;
      let minSize = Infinity;
      let maxSize = 0;
      for (let i = 0; i < p; i++) {
        const r = ranges[i];
        assertEquals(r.start, next, `range ${i} of ${max}/${p} starts where the last ended`);
        minSize = Math.min(minSize, r.size);
        maxSize = Math.max(maxSize, r.size);
        next = r.end + 1;
        assert(r.equals(computeKeyGroupRangeForOperatorIndex(max, p, i)));
      }
      assertEquals(next, max, `ranges of ${max}/${p} cover every key group`);
      assert(maxSize - minSize <= 1, `balanced ${max}/${p}`);
      if (max * p <= 4_000_000) {
        for (let kg = 0; kg < max; kg++) {
          const op = computeOperatorIndexForKeyGroup(max, p, kg);
          assert(ranges[op].contains(kg), `kg ${kg} of ${max}/${p} -> ${op}`);
        }
      }
    }
  }
});

Deno.test("key group ranges: Flink's precondition errors", () => {
  const cases: Array<[() => unknown, string]> = [
    [() => computeKeyGroupRanges(128, 0), "Operator parallelism not within bounds: 0"],
    [() => computeKeyGroupRanges(0, 1), "Operator parallelism not within bounds: 0"],
    [() => computeKeyGroupRanges(32769, 1), "Operator parallelism not within bounds: 32769"],
    [
      () => computeKeyGroupRanges(2, 3),
      "Maximum parallelism must not be smaller than parallelism.",
    ],
    [() => computeKeyGroupRangeForOperatorIndex(128, 3, 3), "Operator index 3"],
    [() => computeKeyGroupRangeForOperatorIndex(128, 3, -1), "Operator index -1"],
    [() => computeOperatorIndexForKeyGroup(128, 3, 128), "Key group 128"],
    [() => computeOperatorIndexForKeyGroup(128, 3, -1), "Key group -1"],
    [() => computeDefaultMaxParallelism(0), "Operator parallelism not within bounds: 0"],
    [() => computeDefaultMaxParallelism(-5), "Operator parallelism not within bounds: -5"],
    [
      () => computeDefaultMaxParallelism(32769),
      "Operator parallelism not within bounds: 32769",
    ],
  ];
  for (const [fn, message] of cases) {
    const e = assertThrows(fn, ProtocolError, message);
    assertEquals(e.javaClassName, "java.lang.IllegalArgumentException");
  }
  assertThrows(() => computeKeyGroupRanges(128, 1.5), TypeError);
  assertThrows(() => computeKeyGroupRangeForOperatorIndex(128, 2, 0.5), TypeError);
  assertThrows(() => computeOperatorIndexForKeyGroup(128, 2, NaN), TypeError);
  assertThrows(() => computeDefaultMaxParallelism(2.5), TypeError);
});

Deno.test("computeDefaultMaxParallelism: PROTOCOL 4.5 formula for every parallelism", () => {
  assertEquals(computeDefaultMaxParallelism(1), 128);
  assertEquals(computeDefaultMaxParallelism(85), 128);
  assertEquals(computeDefaultMaxParallelism(86), 256);
  assertEquals(computeDefaultMaxParallelism(32768), 32768);
  for (let p = 1; p <= 32768; p++) {
    const wanted = p + Math.floor(p / 2);
    const pow2 = 2 ** Math.ceil(Math.log2(wanted));
    assertEquals(computeDefaultMaxParallelism(p), Math.min(Math.max(pow2, 128), 32768), `p=${p}`);
  }
});

// ---------------------------------------------------------------------------
// Conformance with Flink's own KeyGroupRangeAssignment and MathUtils

interface KeyGroupsJson {
  numKeyGroups: number[];
  vectors: Array<{
    keyHashCode: number;
    keyHashCodeHex: string;
    murmurHash: number;
    keyGroupByNumKeyGroups: Record<string, number>;
  }>;
  operatorRanges: Array<{
    maxParallelism: number;
    parallelism: number;
    ranges: Array<{ operatorIndex: number; startKeyGroup: number; endKeyGroup: number }>;
    operatorIndexForKeyGroup: Array<{ keyGroup: number; operatorIndex: number }>;
  }>;
  defaultMaxParallelism: Array<{ parallelism: number; defaultMaxParallelism: number }>;
}

vectorTest("keygroups.json: murmurHash and key group for every vector and numKeyGroups", () => {
  const json = readVectorJson<KeyGroupsJson>("keygroups.json");
  assert(json.vectors.length > 0 && json.numKeyGroups.length > 0);
  for (const v of json.vectors) {
    assertEquals(
      parseInt(v.keyHashCodeHex, 16) | 0,
      v.keyHashCode,
      `hex of ${v.keyHashCode}`,
    );
    assertEquals(murmurHash(v.keyHashCode), v.murmurHash, `murmurHash(${v.keyHashCode})`);
    assertEquals(
      Object.keys(v.keyGroupByNumKeyGroups).map(Number).sort((a, b) => a - b),
      [...json.numKeyGroups].sort((a, b) => a - b),
      "every listed numKeyGroups is present",
    );
    for (const n of json.numKeyGroups) {
      assertEquals(
        keyGroupForKeyHash(v.keyHashCode, n),
        v.keyGroupByNumKeyGroups[String(n)],
        `key group of ${v.keyHashCode} @ ${n}`,
      );
    }
  }
});

vectorTest("keygroups.json: operator ranges and operator index for key group", () => {
  const json = readVectorJson<KeyGroupsJson>("keygroups.json");
  assert(json.operatorRanges.length > 0);
  for (const o of json.operatorRanges) {
    const ranges = computeKeyGroupRanges(o.maxParallelism, o.parallelism);
    assertEquals(
      ranges.map((r, i) => ({ operatorIndex: i, startKeyGroup: r.start, endKeyGroup: r.end })),
      o.ranges,
      `${o.maxParallelism}/${o.parallelism}`,
    );
    for (const r of o.ranges) {
      const one = computeKeyGroupRangeForOperatorIndex(
        o.maxParallelism,
        o.parallelism,
        r.operatorIndex,
      );
      assertEquals([one.start, one.end], [r.startKeyGroup, r.endKeyGroup]);
    }
    for (const { keyGroup, operatorIndex } of o.operatorIndexForKeyGroup) {
      assertEquals(
        computeOperatorIndexForKeyGroup(o.maxParallelism, o.parallelism, keyGroup),
        operatorIndex,
        `operator of kg ${keyGroup} @ ${o.maxParallelism}/${o.parallelism}`,
      );
    }
  }
});

vectorTest("keygroups.json: default max parallelism", () => {
  const json = readVectorJson<KeyGroupsJson>("keygroups.json");
  assert(json.defaultMaxParallelism.length > 0);
  for (const d of json.defaultMaxParallelism) {
    assertEquals(
      computeDefaultMaxParallelism(d.parallelism),
      d.defaultMaxParallelism,
      `p=${d.parallelism}`,
    );
  }
});
