/**
 * Cross-check against a real JVM (tests/java/TypesInterop.java, JDK classes
 * only): for seeded random values and edge values of each kind, Java
 * computes the texts (`toString()`), hash codes and bytes, in one JVM run
 * for all cases, and our descriptors must agree: the text our decoder
 * gives from the same parts (unscaled and scale, seconds and nanos,
 * fields, millis), our `hashCode`, and reading Java's text back (through
 * `fromJsonValue` and the descriptor's serialize, then deserialize) gives
 * the same parts and bytes. Ignored, with a message, when java/javac are
 * absent.
 */

import { haveJava } from "../_java.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { Prng } from "../_prng.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { deserializeValue, serializeValue } from "../../src/wire/type_serializers.ts";
import { bigIntegerBytes, bigIntegerHashCode } from "../../src/types/big_integer_type.ts";
import { formatDecimal, parseDecimal } from "../../src/types/decimal_type.ts";
import {
  daysInMonth,
  epochDayOf,
  formatInstant,
  formatLocalDate,
  formatLocalDateTime,
  formatLocalTime,
  INSTANT_MAX_SECONDS,
  INSTANT_MIN_SECONDS,
  parseInstant,
  parseLocalDate,
  parseLocalDateTime,
  parseLocalTime,
} from "../../src/types/iso_time_text.ts";
import { fromJsonValue } from "../../src/types/json_form.ts";
import type { TypeDescriptor } from "../../src/types/type_descriptor.ts";
import { TypeDecodeError, TypeValueError } from "../../src/types/type_errors.ts";
import { types } from "../../src/types/types.ts";

const HAVE_JAVA = await haveJava("jdk-interop", "the JDK cross-check of src/types");

const SOURCE = decodeURIComponent(new URL("../java/TypesInterop.java", import.meta.url).pathname);

/** Runs the JVM once over all the lines; one answer line per case. */
async function askJava(lines: string[]): Promise<string[][]> {
  const dir = await Deno.makeTempDir({ prefix: "kvstate-jdk-types-" });
  try {
    const javac = await new Deno.Command("javac", {
      args: ["-nowarn", "-d", dir, SOURCE],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!javac.success) throw new Error(`javac failed: ${new TextDecoder().decode(javac.stderr)}`);
    const input = `${dir}/cases.txt`;
    await Deno.writeTextFile(input, lines.join("\n") + "\n");
    const result = await new Deno.Command("java", {
      args: ["-cp", dir, "TypesInterop", input],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!result.success) throw new Error(`java failed: ${new TextDecoder().decode(result.stderr)}`);
    const text = new TextDecoder().decode(result.stdout);
    return text.split("\n").slice(0, -1).map((l) => l.split("\t"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------- values

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

const rng = new Prng(20261129);

/** A random bigint of up to `bits` bits of magnitude, either sign. */
function randomBig(bits: number): bigint {
  const n = rng.int(bits + 1);
  let v = 0n;
  for (let i = 0; i < n; i += 30) v = (v << 30n) | BigInt(rng.int(1 << 30));
  v &= (1n << BigInt(n)) - 1n;
  return rng.int(2) === 0 ? -v : v;
}

/** A uniform bigint in [lo, hi]. */
function randomBetween(lo: bigint, hi: bigint): bigint {
  const span = hi - lo + 1n;
  let v = 0n;
  for (let i = 0; i < span.toString(2).length + 30; i += 30) {
    v = (v << 30n) | BigInt(rng.int(1 << 30));
  }
  return lo + v % span;
}

function randomInt(lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

function randomNanos(): number {
  return rng.pick([
    () => 0,
    () => 1,
    () => 999_999_999,
    () => randomInt(0, 999) * 1_000_000,
    () => randomInt(0, 999_999) * 1000,
    () => randomInt(0, 999_999_999),
  ])();
}

/** A Java string, as the hex of its UTF-16 code units ("~" = null). */
function javaStringHex(s: string | null): string {
  if (s === null) return "~";
  let out = "";
  for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(4, "0");
  return out;
}

function randomString(): string {
  const n = rng.int(6);
  let s = "";
  for (let i = 0; i < n; i++) {
    s += rng.pick([
      () => String.fromCharCode(randomInt(0x20, 0x7e)),
      () => String.fromCharCode(randomInt(0, 0xffff)),
      () => "😀",
      () => "\ud800",
      () => "é",
    ])();
  }
  return s;
}

function randomLong(): bigint {
  return rng.pick([
    () => randomBetween(LONG_MIN, LONG_MAX),
    () => BigInt(randomInt(-1000, 1000)),
    () => rng.pick([LONG_MIN, LONG_MAX, 0n, -1n, 1n << 32n, -(1n << 32n)]),
  ])();
}

// ---------------------------------------------------------------- cases

/** One case: the line Java reads, and how our side checks Java's answer (throws on a mismatch). */
interface Case {
  kind: string;
  line: string[];
  check(answer: string[]): void;
  /** Whether `check` takes Java's refusal ("ERR", the exception's class) too. */
  refusals: boolean;
}

const cases: Case[] = [];
function add(
  kind: string,
  line: string[],
  check: (answer: string[]) => void,
  refusals = false,
  step = kind,
): void {
  cases.push({ kind: step, line: [kind, ...line], check, refusals });
}

/**
 * Bytes as Flink would read them: our decoder refuses them (a
 * TypeDecodeError) exactly when Java's constructor refuses the fields, and
 * otherwise gives Java's text (with Java's hash code).
 */
function decodesAsJava(d: TypeDescriptor<unknown>, hex: string, answer: string[]): void {
  const bytes = fromHex(hex);
  if (answer[0] === "ERR") {
    let threw: unknown = null;
    try {
      deserializeValue(d, bytes);
    } catch (e) {
      threw = e;
    }
    assert(threw instanceof TypeDecodeError, `Java refuses (${answer[1]}), we read ${hex}`);
    return;
  }
  assertEquals(deserializeValue(d, bytes), answer[0], "decoder's text");
  assertEquals(d.hashCode(answer[0]), Number(answer[1]), "hashCode");
}

function int32Hex(v: number): string {
  return (v >>> 0).toString(16).padStart(8, "0");
}
function int64Hex(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, "0");
}
function bigIntegerCodeHex(v: bigint): string {
  if (v === 0n) return "00000001";
  if (v === 1n) return "00000002";
  if (v === 10n) return "00000003";
  const bytes = bigIntegerBytes(v);
  return int32Hex(bytes.length + 4) + toHex(bytes);
}

/** Java's text read back through the JSON form and the descriptor's bytes. */
function roundTrip(d: TypeDescriptor<unknown>, text: string): string {
  const v = fromJsonValue(d, text);
  const bytes = serializeValue(d, v);
  assertEquals(deserializeValue(d, bytes), text, "serialize then deserialize");
  return toHex(bytes);
}

// BigInteger: hashCode and toByteArray.
{
  const edges: bigint[] = [0n, 1n, 10n, -1n, -10n, 2n, 9n, 11n, 127n, 128n, -128n, -129n, 255n];
  for (const k of [31, 32, 63, 64, 127, 128, 1000, 32767]) {
    const p = 1n << BigInt(k);
    edges.push(p, p - 1n, -p, -p + 1n, -p - 1n);
  }
  const values = [...edges];
  while (values.length < 3000) values.push(randomBig(rng.pick([16, 64, 200, 2000])));
  for (const v of values) {
    add("biginteger", [v.toString()], ([hash, bytes]) => {
      assertEquals(bigIntegerHashCode(v), Number(hash), "bigIntegerHashCode");
      assertEquals(types.biginteger.hashCode(v), Number(hash), "types.biginteger.hashCode");
      assertEquals(toHex(bigIntegerBytes(v)), bytes, "bigIntegerBytes");
      const long = fromHex(int32Hex(bytes.length / 2 + 4) + bytes);
      if (bytes.length / 2 > types.biginteger.maxBytes) {
        // Past the default bound (2^32767 has 4097 bytes): refused both ways.
        assertThrows(() => serializeValue(types.biginteger, v), TypeValueError, "maxBytes");
        assertThrows(() => deserializeValue(types.biginteger, long), TypeDecodeError, "maxBytes");
        return;
      }
      assertEquals(toHex(serializeValue(types.biginteger, v)), bigIntegerCodeHex(v), "bytes");
      // The long form (how Java writes 0, 1 and 10 that are not the constants) reads too.
      assertEquals(deserializeValue(types.biginteger, long), v, "long form read");
    });
  }
}

const parts0: Array<[bigint, number]> = [];
// BigDecimal: toString, the unscaled bytes, scale, hashCode, and new BigDecimal(toString()).
{
  // At the default bound (4096 bytes) too.
  const unscaledEdges = [0n, 1n, 10n, -1n, -10n, 5n, 123n, 100n, LONG_MAX, LONG_MIN, 1n << 64n];
  for (
    const [u, sc] of [[(1n << 32767n) - 1n, 0], [-(1n << 32767n), 9870], [
      (1n << 32767n) - 1n,
      -3,
    ]] as const
  ) {
    parts0.push([u, sc]);
  }
  const scaleEdges = [
    0,
    1,
    -1,
    2,
    6,
    7,
    -6,
    -7,
    INT_MIN,
    INT_MIN + 1,
    INT_MIN + 5,
    INT_MAX,
    INT_MAX - 1,
    INT_MAX - 30,
  ];
  const parts: Array<[bigint, number]> = [...parts0];
  for (const u of unscaledEdges) for (const s of scaleEdges) parts.push([u, s]);
  while (parts.length < 4000) {
    const u = randomBig(rng.pick([8, 40, 64, 130, 400]));
    const s = rng.pick([
      () => randomInt(-12, 30),
      () => randomInt(INT_MIN, INT_MAX),
      () => INT_MIN + randomInt(0, 40),
      () => INT_MAX - randomInt(0, 40),
    ])();
    parts.push([u, s]);
  }
  for (const [u, s] of parts) {
    add("decimal", [u.toString(), String(s)], (answer) => {
      const [text, unscaledBytes, scale, hash, backUnscaled, backScale] = answer;
      assertEquals(formatDecimal({ unscaled: u, scale: s }), text, "formatDecimal");
      assertEquals(toHex(bigIntegerBytes(u)), unscaledBytes, "unscaled bytes");
      assertEquals(Number(scale), s, "scale");
      assertEquals(types.decimal.hashCode(text), Number(hash), "hashCode");
      if (backUnscaled === "ERR") {
        // new BigDecimal(String) refuses an exponent past the int range, which toString()
        // prints for the scales nearest -2^31; parseDecimal reads it (any scale that fits).
        assert(-s + (u < 0n ? -u : u).toString().length - 1 > INT_MAX, "only past the int range");
      } else {
        assertEquals(
          parseDecimal(text),
          { unscaled: BigInt(backUnscaled), scale: Number(backScale) },
          "parseDecimal of Java's text",
        );
      }
      assertEquals(parseDecimal(text), { unscaled: u, scale: s }, "the scale is kept");
      assertEquals(roundTrip(types.decimal, text), bigIntegerCodeHex(u) + int32Hex(s), "bytes");
      assertEquals(
        deserializeValue(types.decimal, fromHex(bigIntegerCodeHex(u) + int32Hex(s))),
        text,
        "decoder's text",
      );
    });
  }
}

// new BigDecimal(String) on texts of every form (and some that are not decimals).
{
  const texts = [
    "",
    ".",
    "+",
    "-",
    "e5",
    "1e",
    "1e+",
    "--1",
    "+-1",
    "1..2",
    " 1",
    "1 ",
    "1_0",
    "NaN",
    "Infinity",
    "0x10",
    "1.e5",
    ".5",
    "-.5e-2",
    "+10",
    "00.010",
    "1E+2147483647",
    "1E-2147483648",
    "1E-2147483647",
    "0.1E-2147483647",
    "1E2147483648",
    "10E2147483648",
    "1.5E2147483649",
    "1.5E2147483650",
    "1e00000000000000002",
    "1e-000000000002147483648",
    "1e99999999999",
    "1.5E3",
    "1.5e+03",
  ];
  while (texts.length < 1500) {
    const digits = (n: number) => {
      let s = "";
      for (let i = 0; i < n; i++) s += String(rng.int(10));
      return s;
    };
    let t = rng.pick(["", "+", "-"]) + digits(rng.int(20));
    if (rng.int(2) === 0) t += "." + digits(rng.int(20));
    if (rng.int(2) === 0) {
      t += rng.pick(["e", "E"]) + rng.pick(["", "+", "-"]) + "0".repeat(rng.int(3)) +
        rng.pick([() => digits(1 + rng.int(3)), () => String(randomInt(INT_MIN, INT_MAX))])()
          .replace("-", "");
    }
    texts.push(t);
  }
  for (const t of texts) {
    add("decimaltext", [javaStringHex(t)], (answer) => {
      const exponent = /e\+?(\d+)$/i.exec(t);
      const fraction = /\.(\d*)/.exec(t.split(/e/i)[0])?.[1] ?? "";
      const scale = exponent === null ? 0 : fraction.length - Number(exponent[1]);
      if (answer[0] === "ERR" && Number(exponent?.[1]) > INT_MAX && scale >= INT_MIN) {
        // What parseDecimal reads and Java refuses: an exponent past the int range whose
        // scale (the fraction's digits minus it) still fits, as toString() prints scale -2^31.
        assertEquals(parseDecimal(t).scale, scale);
        return;
      }
      if (answer[0] === "ERR") {
        let threw = false;
        try {
          parseDecimal(t);
        } catch (e) {
          assert(e instanceof TypeValueError, `not a TypeValueError: ${e}`);
          threw = true;
        }
        assert(threw, `Java refuses ${JSON.stringify(t)} (${answer[1]}), parseDecimal accepts it`);
        return;
      }
      assertEquals(parseDecimal(t), { unscaled: BigInt(answer[0]), scale: Number(answer[1]) });
    }, true);
  }
}

const YEAR_EDGES = [0, 1, -1, 1969, 1970, 1600, 1900, 2000, 2100, 9999, 10000, -9999, -10000];

// Instant: toString and hashCode, over Instant.MIN..Instant.MAX.
{
  const seconds: bigint[] = [
    INSTANT_MIN_SECONDS,
    INSTANT_MAX_SECONDS,
    0n,
    -1n,
    1n,
    INSTANT_MIN_SECONDS + 1n,
    INSTANT_MAX_SECONDS - 1n,
  ];
  for (const year of YEAR_EDGES) {
    const s = epochDayOf({ year, month: 1, day: 1 }) * 86400n;
    seconds.push(s, s - 1n, s + 1n);
  }
  const pairs: Array<[bigint, number]> = [];
  for (const s of seconds) for (const n of [0, 1, 999_999_999, 1000, 1_000_000]) pairs.push([s, n]);
  while (pairs.length < 4000) {
    const s = rng.pick([
      () => randomBetween(INSTANT_MIN_SECONDS, INSTANT_MAX_SECONDS),
      () => randomBetween(-400_000_000_000n, 400_000_000_000n), // years -10700..14600
      () => randomBetween(-10_000_000_000n, 10_000_000_000n),
    ])();
    pairs.push([s, randomNanos()]);
  }
  for (const [s, n] of pairs) {
    add("instant", [String(s), String(n)], ([text, hash]) => {
      assertEquals(formatInstant(s, n), text, "formatInstant");
      assertEquals(types.instant.hashCode(text), Number(hash), "hashCode");
      assertEquals(parseInstant(text), { seconds: s, nanos: n }, "parseInstant");
      assertEquals(roundTrip(types.instant, text), int64Hex(s) + int32Hex(n), "bytes");
    });
  }
}

function randomDate(): { year: number; month: number; day: number } {
  const year = rng.pick([
    () => randomInt(-999_999_999, 999_999_999),
    () => randomInt(-12000, 12000),
    () => rng.pick(YEAR_EDGES),
    () => rng.pick([-999_999_999, 999_999_999]),
  ])();
  const month = randomInt(1, 12);
  const day = rng.int(4) === 0 ? daysInMonth(year, month) : randomInt(1, daysInMonth(year, month));
  return { year, month, day };
}

function randomTime(): { hour: number; minute: number; second: number; nano: number } {
  const zero = rng.int(4) === 0;
  return {
    hour: randomInt(0, 23),
    minute: randomInt(0, 59),
    second: zero ? 0 : randomInt(0, 59),
    nano: zero ? 0 : randomNanos(),
  };
}

function dateHex(d: { year: number; month: number; day: number }): string {
  return int32Hex(d.year) + d.month.toString(16).padStart(2, "0") +
    d.day.toString(16).padStart(2, "0");
}
function timeHex(t: { hour: number; minute: number; second: number; nano: number }): string {
  return [t.hour, t.minute, t.second].map((v) => v.toString(16).padStart(2, "0")).join("") +
    int32Hex(t.nano);
}

// LocalDate, LocalTime, LocalDateTime: toString and hashCode over their whole ranges.
{
  const dates = [
    { year: -999_999_999, month: 1, day: 1 },
    { year: 999_999_999, month: 12, day: 31 },
    { year: 0, month: 2, day: 29 },
    { year: -4, month: 2, day: 29 },
    { year: 1900, month: 2, day: 28 },
    { year: 2000, month: 2, day: 29 },
    { year: 1969, month: 12, day: 31 },
    { year: 1970, month: 1, day: 1 },
  ];
  while (dates.length < 3000) dates.push(randomDate());
  for (const d of dates) {
    add("localdate", [d.year, d.month, d.day].map(String), ([text, hash]) => {
      assertEquals(formatLocalDate(d), text, "formatLocalDate");
      assertEquals(types.localdate.hashCode(text), Number(hash), "hashCode");
      assertEquals(parseLocalDate(text), d, "parseLocalDate");
      assertEquals(roundTrip(types.localdate, text), dateHex(d), "bytes");
    });
  }

  const times = [
    { hour: 0, minute: 0, second: 0, nano: 0 },
    { hour: 23, minute: 59, second: 59, nano: 999_999_999 },
    { hour: 0, minute: 0, second: 0, nano: 1 },
    { hour: 12, minute: 0, second: 1, nano: 0 },
    { hour: 12, minute: 30, second: 0, nano: 1_000_000 },
    { hour: 12, minute: 30, second: 0, nano: 1000 },
  ];
  while (times.length < 3000) times.push(randomTime());
  for (const t of times) {
    add("localtime", [t.hour, t.minute, t.second, t.nano].map(String), ([text, hash]) => {
      assertEquals(formatLocalTime(t), text, "formatLocalTime");
      assertEquals(types.localtime.hashCode(text), Number(hash), "hashCode");
      assertEquals(parseLocalTime(text), t, "parseLocalTime");
      assertEquals(roundTrip(types.localtime, text), timeHex(t), "bytes");
    });
  }

  const both: Array<[typeof dates[0], typeof times[0]]> = [
    [{ year: -999_999_999, month: 1, day: 1 }, { hour: 0, minute: 0, second: 0, nano: 0 }],
    [{ year: 999_999_999, month: 12, day: 31 }, {
      hour: 23,
      minute: 59,
      second: 59,
      nano: 999_999_999,
    }],
    [{ year: -1, month: 12, day: 31 }, { hour: 23, minute: 59, second: 59, nano: 1 }],
  ];
  while (both.length < 3000) both.push([randomDate(), randomTime()]);
  for (const [d, t] of both) {
    const fields = [d.year, d.month, d.day, t.hour, t.minute, t.second, t.nano].map(String);
    add("localdatetime", fields, ([text, hash]) => {
      assertEquals(formatLocalDateTime(d, t), text, "formatLocalDateTime");
      assertEquals(types.localdatetime.hashCode(text), Number(hash), "hashCode");
      assertEquals(parseLocalDateTime(text), { date: d, time: t }, "parseLocalDateTime");
      assertEquals(roundTrip(types.localdatetime, text), dateHex(d) + timeHex(t), "bytes");
    });
  }
}

// java.util.Date: the instant and hashCode of every long of millis (but the null marker).
{
  const millis: bigint[] = [LONG_MIN + 1n, LONG_MAX, 0n, -1n, 1n, -999n, -1000n, -1001n, 999n];
  for (const year of YEAR_EDGES) {
    const m = epochDayOf({ year, month: 1, day: 1 }) * 86_400_000n;
    millis.push(m, m - 1n, m + 1n);
  }
  while (millis.length < 3000) {
    millis.push(
      rng.pick([
        () => randomBetween(LONG_MIN + 1n, LONG_MAX),
        () => randomBetween(-400_000_000_000_000n, 400_000_000_000_000n),
      ])(),
    );
  }
  for (const m of millis) {
    add("date", [String(m)], ([text, hash, time]) => {
      assertEquals(BigInt(time), m);
      assertEquals(deserializeValue(types.date, fromHex(int64Hex(m))), text, "decoder's text");
      assertEquals(types.date.hashCode(text), Number(hash), "hashCode");
      assertEquals(roundTrip(types.date, text), int64Hex(m), "bytes");
    });
  }
}

// java.sql.Timestamp as a reader builds it: new Timestamp(millis), then setNanos(nanos).
// (Within a second of the long range's ends Timestamp's own arithmetic overflows.)
{
  const pairs: Array<[bigint, number]> = [];
  for (const m of [0n, -1n, 1n, -999n, -1000n, -1001n, LONG_MIN + 2000n, LONG_MAX - 2000n]) {
    for (const n of [0, 1, 999_999_999, 500_000_000]) pairs.push([m, n]);
  }
  while (pairs.length < 3000) {
    const m = rng.pick([
      () => randomBetween(LONG_MIN + 2000n, LONG_MAX - 2000n),
      () => randomBetween(-400_000_000_000_000n, 400_000_000_000_000n),
    ])();
    pairs.push([m, randomNanos()]);
  }
  for (const [m, n] of pairs) {
    add("timestamp", [String(m), String(n)], ([text, hash, time, nanos]) => {
      const bytes = fromHex(int64Hex(m) + int32Hex(n));
      assertEquals(deserializeValue(types.timestamp, bytes), text, "decoder's text");
      assertEquals(types.timestamp.hashCode(text), Number(hash), "hashCode");
      assertEquals(
        roundTrip(types.timestamp, text),
        int64Hex(BigInt(time)) + int32Hex(Number(nanos)),
        "bytes: getTime() and getNanos()",
      );
    });
  }
}

// Character.hashCode.
{
  const units = [0, 1, 0x7f, 0x80, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffe, 0xffff];
  while (units.length < 3000) units.push(rng.int(0x10000));
  for (const u of units) {
    add("char", [String(u)], ([hash]) => {
      assertEquals(types.char.hashCode(String.fromCharCode(u)), Number(hash));
    });
  }
}

// List.hashCode (List.of, or an ArrayList when an element is null), Map.hashCode (HashMap).
{
  const longs = types.list(types.long);
  const strings = types.list(types.string);
  for (let i = 0; i < 2000; i++) {
    const v = Array.from({ length: rng.int(7) }, randomLong);
    add("list", ["long", ...v.map(String)], ([hash]) => {
      assertEquals(longs.hashCode(v), Number(hash));
    });
    const s = Array.from({ length: rng.int(7) }, () => rng.int(8) === 0 ? null : randomString());
    add("list", ["string", ...s.map(javaStringHex)], ([hash]) => {
      assertEquals(strings.hashCode(s), Number(hash));
    });
  }
  const longToString = types.map(types.long, types.string);
  const stringToLong = types.map(types.string, types.long);
  for (let i = 0; i < 2000; i++) {
    const a = new Map<bigint, string | null>();
    for (let j = rng.int(6); j > 0; j--) {
      a.set(randomLong(), rng.int(6) === 0 ? null : randomString());
    }
    const entriesA = [...a];
    add(
      "map",
      ["long", "string", ...entriesA.flatMap(([k, v]) => [String(k), javaStringHex(v)])],
      ([
        size,
        hash,
      ]) => {
        assertEquals(Number(size), entriesA.length);
        assertEquals(longToString.hashCode(entriesA), Number(hash));
      },
    );
    const b = new Map<string, bigint>();
    for (let j = rng.int(6); j > 0; j--) b.set(randomString(), randomLong());
    const entriesB = [...b];
    add(
      "map",
      ["string", "long", ...entriesB.flatMap(([k, v]) => [javaStringHex(k), String(v)])],
      ([
        size,
        hash,
      ]) => {
        assertEquals(Number(size), entriesB.length);
        assertEquals(stringToLong.hashCode(entriesB), Number(hash));
      },
    );
  }
}

// Either: Left / Right hash as the value they hold.
{
  const e = types.either(types.long, types.string);
  for (let i = 0; i < 1500; i++) {
    const l = randomLong();
    add("either", ["long", String(l)], ([hash]) => {
      assertEquals(e.hashCode({ left: l }), Number(hash));
    });
    const r = randomString();
    add("either", ["string", javaStringHex(r)], ([hash]) => {
      assertEquals(e.hashCode({ right: r }), Number(hash));
    });
  }
}

// Raw fields as a reader meets them in bytes: Instant.ofEpochSecond(seconds, nanos) (which
// normalizes the nanos), new Timestamp(millis).setNanos(nanos), LocalDate.of, LocalTime.of.
{
  const int8 = (v: number) => (v & 0xff).toString(16).padStart(2, "0");
  const rawNanos = () =>
    rng.pick([
      () => randomInt(INT_MIN + 1, INT_MAX),
      () => rng.pick([INT_MAX, INT_MIN + 1, -1, 1_000_000_000, -1_000_000_000, 1_999_999_999]),
      () => randomInt(-2_000_000_000, 2_000_000_000),
    ])();
  for (let i = 0; i < 1500; i++) {
    const s = rng.pick([
      () => INSTANT_MIN_SECONDS + BigInt(randomInt(-3, 3)),
      () => INSTANT_MAX_SECONDS + BigInt(randomInt(-3, 3)),
      () => randomBetween(LONG_MIN + 1n, LONG_MAX),
      () => LONG_MAX - BigInt(randomInt(0, 2)),
      () => randomBetween(-10_000_000_000n, 10_000_000_000n),
    ])();
    const n = rawNanos();
    add(
      "instant",
      [String(s), String(n)],
      (answer) => {
        decodesAsJava(types.instant, int64Hex(s) + int32Hex(n), answer);
      },
      true,
      "instant (raw bytes)",
    );
  }
  for (let i = 0; i < 1500; i++) {
    const m = randomBetween(-400_000_000_000_000n, 400_000_000_000_000n);
    const n = rawNanos();
    add(
      "timestamp",
      [String(m), String(n)],
      (answer) => {
        decodesAsJava(types.timestamp, int64Hex(m) + int32Hex(n), answer);
      },
      true,
      "timestamp (raw bytes)",
    );
  }
  for (let i = 0; i < 2000; i++) {
    const y = rng.pick([
      () => randomInt(INT_MIN + 1, INT_MAX),
      () => rng.pick([999_999_999, -999_999_999, 1_000_000_000, -1_000_000_000, INT_MAX]),
      () => randomInt(-3000, 3000),
    ])();
    const m = rng.int(3) === 0 ? randomInt(-128, 127) : randomInt(-1, 14);
    const d = rng.int(3) === 0 ? randomInt(-128, 127) : randomInt(-1, 33);
    add(
      "localdate",
      [y, m, d].map(String),
      (answer) => {
        decodesAsJava(types.localdate, int32Hex(y) + int8(m) + int8(d), answer);
      },
      true,
      "localdate (raw bytes)",
    );
  }
  for (let i = 0; i < 2000; i++) {
    const small = (hi: number) => rng.int(3) === 0 ? randomInt(-127, 127) : randomInt(-1, hi + 1);
    const [h, mi, sec] = [small(23), small(59), small(59)];
    const n = rng.int(2) === 0 ? rawNanos() : randomNanos();
    add(
      "localtime",
      [h, mi, sec, n].map(String),
      (answer) => {
        decodesAsJava(types.localtime, int8(h) + int8(mi) + int8(sec) + int32Hex(n), answer);
      },
      true,
      "localtime (raw bytes)",
    );
  }
}

// ---------------------------------------------------------------- the test

Deno.test({
  name: "jdk interop: src/types texts, hash codes and bytes agree with the JDK's classes",
  ignore: !HAVE_JAVA,
  async fn(t) {
    const answers = await askJava(cases.map((c) => c.line.join("\t")));
    assertEquals(answers.length, cases.length, "one answer per case");
    const kinds = [...new Set(cases.map((c) => c.kind))];
    for (const kind of kinds) {
      await t.step(kind, () => {
        const failures: string[] = [];
        let count = 0;
        let refused = 0;
        for (const [i, c] of cases.entries()) {
          if (c.kind !== kind) continue;
          count++;
          const answer = answers[i];
          if (answer[0] === "ERR") refused++;
          try {
            if (answer[0] === "ERR" && !c.refusals) {
              throw new Error(`Java threw ${answer[1]}`);
            }
            c.check(answer);
          } catch (e) {
            if (failures.length < 8) {
              failures.push(`${c.line.join(" ")} -> ${answer.join(" ")}: ${(e as Error).message}`);
            } else if (failures.length === 8) failures.push("…");
          }
        }
        assertEquals(failures, [], `${kind}: disagreements with the JDK`);
        assert(count >= 1000, `${kind}: only ${count} cases`);
        // Steps of raw fields see both outcomes; the others none refused (checked above).
        assert(count - refused >= 100, `${kind}: Java refused ${refused} of ${count}`);
      });
    }
  },
});

Deno.test("jdk interop: toString() of scale -2^31, which new BigDecimal(String) refuses, writes back", () => {
  // BigDecimal(1, Integer.MIN_VALUE).toString() is "1E+2147483648": its exponent is past the
  // int range, so Java's parser refuses it, but a value read must be writable.
  const bytes = fromHex("00000002" + int32Hex(INT_MIN));
  assertEquals(deserializeValue(types.decimal, bytes), "1E+2147483648");
  assertEquals(parseDecimal("1E+2147483648"), { unscaled: 1n, scale: INT_MIN });
  assertEquals(toHex(serializeValue(types.decimal, "1E+2147483648")), toHex(bytes));
  assertEquals(parseDecimal("1.5E2147483649"), { unscaled: 15n, scale: INT_MIN });
  assertThrows(() => parseDecimal("1.5E2147483650"), TypeValueError, "out of the int range");
});
