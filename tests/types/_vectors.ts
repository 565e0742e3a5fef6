/**
 * The issue-13 type vectors (`../shared/flink-vectors/types/`): bytes that
 * Flink 1.19's real serializers wrote, with the values and type
 * descriptions of `manifest.json`.
 *
 * - {@linkcode loadTypeVectors}: every entry with its `.bin` bytes (length
 *   and sha256 checked against the manifest), or `null` when the folder is
 *   absent (tests then `ignore`, saying so, as the other vector tests do).
 * - {@linkcode descriptorOfManifestType}: a manifest `type` object as one of
 *   our descriptors, built with the `types` builders.
 * - {@linkcode expectedValue}: a manifest JSON value as our JS value for a
 *   descriptor (the manifest's JSON conventions are in its `notes`).
 *
 * The vectors are read at test time and never copied into the project.
 */

import { createHash } from "node:crypto";
import { types } from "../../src/types/types.ts";
import type { DescriptorParts, TypeDescriptor } from "../../src/types/type_descriptor.ts";
import { exists } from "../_vectors.ts";

/**
 * The vectors' `com.example.Event` POJO (fields in declaration order; Flink
 * serializes them sorted by name), as the POJO and state-content tests build it.
 */
export const EVENT = types.pojo({
  id: types.long,
  name: types.string,
  count: types.int,
  score: types.double,
  active: types.boolean,
  rank: types.int,
}, { className: "com.example.Event" });

const ROOT = new URL("../../../shared/flink-vectors/types/", import.meta.url);

/** One manifest entry (fields vary by group) with its bytes. */
export interface TypeVector {
  /** Path under `types/`, e.g. `java/01-bigdecimal.bin`. */
  readonly file: string;
  /** `value` or `keyAndNamespace`. */
  readonly kind: string;
  /** `java`, `tuple`, `pojo`, `row`, `array`, `nullable`, `either`, `collection`, `keyns`, `state`. */
  readonly group: string;
  /** What the vector is. */
  readonly description: string;
  /** The manifest's type description (`{ kind, ... }`). */
  readonly type: ManifestType;
  /** The type in our descriptor syntax, when the type has one. */
  readonly typeText?: string;
  /** The value written, in the manifest's JSON conventions. */
  readonly value: unknown;
  /** What deserializing gives (`deserializesTo` when present, else `value`). */
  readonly expected: unknown;
  /** Whether the manifest has a `deserializesTo` (the bytes do not re-encode from `value`). */
  readonly hasDeserializesTo: boolean;
  /** The `.bin` contents (for `keyns`: key and namespace). */
  readonly bytes: Uint8Array;
  /** The bucket of the manifest's `counts` this vector is counted in. */
  readonly countKey: string;
  /** The whole manifest entry (`keyHashCode`, `serializedKeyHex`, `stateKey`, …). */
  readonly entry: Readonly<Record<string, unknown>>;
}

/** A manifest type description. */
export interface ManifestType {
  readonly kind: string;
  readonly [k: string]: unknown;
}

/** The manifest itself (the parts tests read). */
export interface TypeManifest {
  readonly counts: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
  readonly entries: readonly Record<string, unknown>[];
}

/** Whether `../shared/flink-vectors/types/manifest.json` is there. */
export const HAVE_TYPE_VECTORS: boolean = exists(new URL("manifest.json", ROOT));

/** The message tests print (and their `ignore` reason) when the vectors are absent. */
export const NO_TYPE_VECTORS_MESSAGE =
  `[conformance] ../shared/flink-vectors/types not found at ${ROOT.pathname}: type vector tests are skipped`;

if (!HAVE_TYPE_VECTORS) console.warn(NO_TYPE_VECTORS_MESSAGE);

let manifestCache: TypeManifest | undefined;
let vectorsCache: TypeVector[] | undefined;

/** The parsed manifest, or `null` when absent. */
export function loadTypeManifest(): TypeManifest | null {
  if (!HAVE_TYPE_VECTORS) return null;
  manifestCache ??= JSON.parse(Deno.readTextFileSync(new URL("manifest.json", ROOT)));
  return manifestCache!;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Which `counts` bucket an entry is in: java by type kind, state by state kind, else the group. */
function countKeyOf(e: Record<string, unknown>): string {
  if (e.group === "java") return (e.type as ManifestType).kind;
  if (e.group === "state") return `state-${e.stateKind}`;
  return e.group as string;
}

/**
 * Every vector with its bytes, or `null` when the vectors folder is absent.
 * Throws when a `.bin` does not match its manifest length or sha256.
 */
export function loadTypeVectors(): TypeVector[] | null {
  const manifest = loadTypeManifest();
  if (manifest === null) return null;
  if (vectorsCache) return vectorsCache;
  const out: TypeVector[] = [];
  for (const e of manifest.entries) {
    const file = e.file as string;
    const bytes = Deno.readFileSync(new URL(file, ROOT));
    if (bytes.length !== e.length) {
      throw new Error(`${file}: ${bytes.length} bytes, the manifest says ${e.length}`);
    }
    const hash = sha256Hex(bytes);
    if (hash !== e.sha256) {
      throw new Error(`${file}: sha256 ${hash}, the manifest says ${e.sha256}`);
    }
    const hasDeserializesTo = Object.hasOwn(e, "deserializesTo");
    out.push(Object.freeze({
      file,
      kind: e.kind as string,
      group: e.group as string,
      description: (e.description as string | undefined) ?? "",
      type: e.type as ManifestType,
      typeText: e.typeText as string | undefined,
      value: e.value,
      expected: hasDeserializesTo ? e.deserializesTo : e.value,
      hasDeserializesTo,
      bytes,
      countKey: countKeyOf(e),
      entry: e,
    }));
  }
  vectorsCache = out;
  return out;
}

/** The vectors of one group (empty when absent). */
export function typeVectorsOf(group: string): TypeVector[] {
  return (loadTypeVectors() ?? []).filter((v) => v.group === group);
}

/** `Deno.test` that is ignored (and says why) when the vectors are absent. */
export function typeVectorTest(
  name: string,
  fn: (vectors: TypeVector[]) => void | Promise<void>,
): void {
  Deno.test({
    name: `[flink-vectors] ${name}`,
    ignore: !HAVE_TYPE_VECTORS,
    fn: () => fn(loadTypeVectors()!),
  });
}

// ---------------------------------------------------------------------------
// Manifest type → descriptor

type AnyDescriptor = TypeDescriptor<unknown>;
// deno-lint-ignore no-explicit-any
type AnyBuilder = (...args: any[]) => AnyDescriptor;

/** A `types` member by name, or a clear error while it is not built yet. */
function member(name: string): unknown {
  const v = (types as unknown as Record<string, unknown>)[name];
  if (v === undefined) throw new Error(`types.${name} is not built yet`);
  return v;
}
function leaf(name: string): AnyDescriptor {
  return member(name) as AnyDescriptor;
}
function builder(name: string): AnyBuilder {
  return member(name) as AnyBuilder;
}

const LEAVES: Readonly<Record<string, string>> = {
  string: "string",
  long: "long",
  int: "int",
  short: "short",
  byte: "byte",
  char: "char",
  boolean: "boolean",
  float: "float",
  double: "double",
  bigInteger: "biginteger",
  bigDecimal: "decimal",
  date: "date",
  sqlTimestamp: "timestamp",
  instant: "instant",
  localDate: "localdate",
  localTime: "localtime",
  localDateTime: "localdatetime",
};

/**
 * A manifest `type` as our descriptor. `valueState` gives its inner type;
 * `listState` / `mapState` (state content, not one serializer) and
 * `generic` (Kryo) throw. A row is the 1.19 format: for a vector with
 * `legacyMode`, use {@linkcode descriptorOfVector}.
 */
export function descriptorOfManifestType(type: unknown): AnyDescriptor {
  const t = type as ManifestType;
  const leafName = LEAVES[t.kind];
  if (leafName !== undefined) return leaf(leafName);
  const sub = (x: unknown) => descriptorOfManifestType(x);
  switch (t.kind) {
    case "enum":
      return builder("enumOf")(...(t.constants as string[]));
    case "array": {
      const element = t.element as ManifestType;
      switch (t.format) {
        case "primitive":
          return element.kind === "byte" ? leaf("bytes") : builder("array")(sub(element));
        case "stringArray":
          return builder("array")(leaf("string"));
        case "generic":
          return builder("array")(builder("nullable")(sub(element)));
        default:
          throw new Error(`unknown array format ${String(t.format)}`);
      }
    }
    case "tuple":
      return builder("tuple")(...(t.fields as unknown[]).map(sub));
    case "tuple0":
      return builder("tuple")();
    case "pojo": {
      const fields: Record<string, AnyDescriptor> = {};
      for (const f of t.fields as { name: string; type: unknown }[]) fields[f.name] = sub(f.type);
      return builder("pojo")(fields, { className: t.class as string });
    }
    case "row":
      return builder("row")(...(t.fields as unknown[]).map(sub));
    case "list":
      return builder("list")(sub(t.element));
    case "map":
      return builder("map")(sub(t.key), sub(t.value));
    case "either":
      return builder("either")(sub(t.left), sub(t.right));
    case "nullable":
      return builder("nullable")(sub(t.inner), { padded: t.padNullValue === true });
    case "valueState":
      return sub(t.inner);
    case "listState":
    case "mapState":
      throw new Error(
        `${t.kind} is state content, not one serializer: use its element / key and value`,
      );
    default:
      throw new Error(`no descriptor for manifest type kind ${JSON.stringify(t.kind)}`);
  }
}

/**
 * The descriptor of a vector's bytes: its type's, with the legacy row
 * format when the vector says `legacyMode`, and the element / inner type
 * of state content is left to the caller (throws as above).
 */
export function descriptorOfVector(v: TypeVector): AnyDescriptor {
  if (v.entry.legacyMode === true && v.type.kind === "row") {
    return builder("rowLegacy")(...(v.type.fields as unknown[]).map(descriptorOfManifestType));
  }
  return descriptorOfManifestType(v.type);
}

// ---------------------------------------------------------------------------
// Manifest JSON value → our JS value

function specialFloat(json: unknown, key: "float" | "double"): number | undefined {
  if (typeof json !== "object" || json === null || !(key in json)) return undefined;
  const s = (json as Record<string, string>)[key];
  switch (s) {
    case "NaN":
      return NaN;
    case "Infinity":
      return Infinity;
    case "-Infinity":
      return -Infinity;
    case "-0.0":
      return -0;
    default:
      throw new Error(`unknown ${key} marker ${s}`);
  }
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// An independent ISO-8601 printer (civil-from-days on bigints) so the test
// oracle does not share code with src/types/iso_time_text.ts.
function pad(n: bigint, width: number): string {
  return n.toString().padStart(width, "0");
}
function isoYear(y: bigint): string {
  if (y < 0n) return "-" + pad(-y, 4);
  return y > 9999n ? "+" + y.toString() : pad(y, 4);
}
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}
/** Instant.toString() of (epoch seconds, nanos). */
export function oracleInstantText(seconds: bigint, nanos: number): string {
  const days = floorDiv(seconds, 86400n);
  const sod = seconds - days * 86400n;
  // Days since 1970-01-01 → proleptic Gregorian (era-based).
  const z = days + 719468n;
  const era = floorDiv(z, 146097n);
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = doy - (153n * mp + 2n) / 5n + 1n;
  const m = mp < 10n ? mp + 3n : mp - 9n;
  const y = yoe + era * 400n + (m <= 2n ? 1n : 0n);
  let frac = "";
  if (nanos !== 0) {
    let digits = String(nanos).padStart(9, "0");
    while (digits.endsWith("000")) digits = digits.slice(0, -3);
    frac = "." + digits;
  }
  return `${isoYear(y)}-${pad(m, 2)}-${pad(d, 2)}T${pad(sod / 3600n, 2)}:${
    pad((sod / 60n) % 60n, 2)
  }:${pad(sod % 60n, 2)}${frac}Z`;
}

/**
 * The manifest's JSON value `json` as our JS value for `descriptor`
 * (`null` stays `null` at every level).
 */
export function expectedValue(descriptor: TypeDescriptor<unknown>, json: unknown): unknown {
  if (json === null) return null;
  const d = descriptor as DescriptorParts;
  switch (d.kind) {
    case "string":
    case "char":
    case "boolean":
    case "int":
    case "short":
    case "byte":
    case "enum":
    case "decimal":
      return json;
    case "long":
    case "biginteger":
      return BigInt(json as string);
    case "double":
      return specialFloat(json, "double") ?? (json as number);
    case "float":
      return specialFloat(json, "float") ?? Math.fround(json as number);
    case "bytes":
      return hexBytes(json as string);
    case "tuple":
      return (json as unknown[]).map((v, i) => expectedValue(d.fields[i], v));
    case "row": {
      const r = json as { kindShort: string; fields: unknown[] };
      return Object.assign(r.fields.map((v, i) => expectedValue(d.fields[i], v)), {
        kind: r.kindShort,
      });
    }
    case "pojo": {
      const o = json as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of d.fields) {
        if (!Object.hasOwn(o, f.name)) throw new Error(`the vector has no field ${f.name}`);
        out[f.name] = expectedValue(f.type, o[f.name]);
      }
      return out;
    }
    case "nullable":
      return expectedValue(d.inner, json);
    case "array":
    case "list":
      return (json as unknown[]).map((v) => expectedValue(d.element, v));
    case "map":
      return (json as [unknown, unknown][]).map((
        [k, v],
      ) => [expectedValue(d.key, k), expectedValue(d.value, v)]);
    case "either": {
      const e = json as { left?: unknown; right?: unknown };
      return Object.hasOwn(e, "left")
        ? { left: expectedValue(d.left, e.left) }
        : { right: expectedValue(d.right, e.right) };
    }
    case "date": {
      const ms = BigInt(json as string);
      const s = floorDiv(ms, 1000n);
      return oracleInstantText(s, Number(ms - s * 1000n) * 1_000_000);
    }
    case "timestamp": {
      const t = json as { epochMillis: string; nanos: number };
      return oracleInstantText(floorDiv(BigInt(t.epochMillis), 1000n), t.nanos);
    }
    case "instant":
    case "localdate":
    case "localtime":
    case "localdatetime":
      return (json as { iso: string }).iso;
    default:
      throw new Error(`expectedValue: unknown kind ${(d as { kind: string }).kind}`);
  }
}
