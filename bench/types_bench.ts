/**
 * `deno bench` suite for the type descriptors (`src/types/`), next to the
 * basic serializers as the reference:
 *
 *   deno bench --allow-read bench/types_bench.ts
 *
 * One iteration is one value (or one key), so `iter/s` is values/s, except
 * where the name says `×16` (a list or map of 16 elements: one iteration
 * handles them all). Groups:
 *
 * - `key`: what the client does per query with a key: its bytes with
 *   VoidNamespace (`serializeKeyAndNamespace`) and its Java `hashCode()`.
 *   A `Tuple2<String, Long>` against a plain `String` key.
 * - `decode` / `encode`: one value through its descriptor: the `Order` POJO
 *   of `tests/types/_orders.ts` (a nested POJO and a `list<string>`), a
 *   `row<int,string,string,long>`, the content of a list state of
 *   `tuple<string,long>` (`src/wire/state_content.ts`), a
 *   `map<string,long>` field, a `decimal`, an `instant`; references: a
 *   basic `long`, a basic `string`, a list state of basic `long`s.
 * - `json`: `toJsonValue` of the Order (what the HTTP gateway does per
 *   answered value), against `JSON.stringify` of the same JS value's JSON
 *   form (what follows it).
 *
 * @module
 */

import { TYPE_SERIALIZERS as S, type TypeSerializer } from "../src/wire/type_serializers.ts";
import { ByteReader, ByteWriter } from "../src/wire/bytes.ts";
import { serializeKeyAndNamespace } from "../src/wire/key_and_namespace.ts";
import {
  decodeListContent,
  decodeValueContent,
  encodeListContent,
  encodeValueContent,
} from "../src/wire/state_content.ts";
import { types } from "../src/types/types.ts";
import { toJsonValue } from "../src/types/json_form.ts";
import { ADA, ADA_JSON, ORDER, ORDER_KEY } from "../tests/types/_orders.ts";

const N = 16;

// --- the values -----------------------------------------------------------

const orderKey: [string, bigint] = ["acme", 1001n];
const stringKey = "acme:1001";

const ROW = types.row(types.int, types.string, types.string, types.long);
const rowValue = Object.assign([42, "alpha", "beta", 123456789n] as [
  number,
  string,
  string,
  bigint,
], { kind: "+I" as const });

const LIST_ELEMENT = types.tuple(types.string, types.long);
const listValue: [string, bigint][] = Array.from(
  { length: N },
  (_, i) => [`item-${i}`, BigInt(i * 1000)],
);
const longList: bigint[] = Array.from({ length: N }, (_, i) => BigInt(i * 1000));

const MAP = types.map(types.string, types.long);
const mapValue: [string, bigint][] = Array.from(
  { length: N },
  (_, i) => [`key-${i}`, BigInt(i)],
);

const decimal = "12345.67";
const instant = "2024-03-28T12:00:00.123456789Z";

function bytesOf<T>(s: TypeSerializer<T>, v: T): Uint8Array {
  return encodeValueContent(s, v);
}

const orderBytes = bytesOf(ORDER, ADA);
const rowBytes = bytesOf(ROW, rowValue);
const listBytes = encodeListContent(LIST_ELEMENT, listValue);
const longListBytes = encodeListContent(S.long, longList);
const mapBytes = bytesOf(MAP, mapValue);
const decimalBytes = bytesOf(types.decimal, decimal);
const instantBytes = bytesOf(types.instant, instant);
const longBytes = bytesOf(S.long, 1001n);
const stringBytes = bytesOf(S.string, stringKey);

/** Keeps results alive so that nothing is optimized away. */
let sink: unknown;

/**
 * Writes one value into a shared writer, so that `encode` measures the
 * serializer and not a new writer's buffer (`encodeValueContent` would
 * allocate one per value): the writer is replaced, never grown, before 1 MiB.
 */
let writer = new ByteWriter(2 << 20);
function encode<T>(s: TypeSerializer<T>, v: T): void {
  if (writer.length > 1 << 20) writer = new ByteWriter(2 << 20);
  s.serialize(v, writer);
}

// --- key ------------------------------------------------------------------

Deno.bench("key: string (basic)", { group: "key", baseline: true }, () => {
  sink = serializeKeyAndNamespace(stringKey, S.string);
  sink = S.string.hashCode(stringKey);
});
Deno.bench("key: tuple<string,long>", { group: "key" }, () => {
  sink = serializeKeyAndNamespace(orderKey, ORDER_KEY);
  sink = ORDER_KEY.hashCode(orderKey);
});

// --- decode ---------------------------------------------------------------

Deno.bench("decode: long (basic)", { group: "decode", baseline: true }, () => {
  sink = decodeValueContent(S.long, longBytes);
});
Deno.bench("decode: string (basic)", { group: "decode" }, () => {
  sink = decodeValueContent(S.string, stringBytes);
});
Deno.bench("decode: pojo Order", { group: "decode" }, () => {
  sink = decodeValueContent(ORDER, orderBytes);
});
Deno.bench("decode: row<int,string,string,long>", { group: "decode" }, () => {
  sink = decodeValueContent(ROW, rowBytes);
});
Deno.bench("decode: list state of long (basic) ×16", { group: "decode" }, () => {
  sink = decodeListContent(S.long, longListBytes);
});
Deno.bench("decode: list state of tuple<string,long> ×16", { group: "decode" }, () => {
  sink = decodeListContent(LIST_ELEMENT, listBytes);
});
Deno.bench("decode: map<string,long> ×16", { group: "decode" }, () => {
  sink = decodeValueContent(MAP, mapBytes);
});
Deno.bench("decode: decimal", { group: "decode" }, () => {
  sink = decodeValueContent(types.decimal, decimalBytes);
});
Deno.bench("decode: instant", { group: "decode" }, () => {
  sink = decodeValueContent(types.instant, instantBytes);
});

// --- encode ---------------------------------------------------------------

Deno.bench("encode: long (basic)", { group: "encode", baseline: true }, () => {
  encode(S.long, 1001n);
});
Deno.bench("encode: string (basic)", { group: "encode" }, () => {
  encode(S.string, stringKey);
});
Deno.bench("encode: pojo Order", { group: "encode" }, () => {
  encode(ORDER, ADA);
});
Deno.bench("encode: row<int,string,string,long>", { group: "encode" }, () => {
  encode(ROW, rowValue);
});
// The list state's content comes from encodeListContent (a new writer each time).
Deno.bench("encode: list state of long (basic) ×16", { group: "encode" }, () => {
  sink = encodeListContent(S.long, longList);
});
Deno.bench("encode: list state of tuple<string,long> ×16", { group: "encode" }, () => {
  sink = encodeListContent(LIST_ELEMENT, listValue);
});
Deno.bench("encode: map<string,long> ×16", { group: "encode" }, () => {
  encode(MAP, mapValue);
});
Deno.bench("encode: decimal", { group: "encode" }, () => {
  encode(types.decimal, decimal);
});
Deno.bench("encode: instant", { group: "encode" }, () => {
  encode(types.instant, instant);
});

// --- json -----------------------------------------------------------------

Deno.bench(
  "json: JSON.stringify of the Order's JSON form",
  { group: "json", baseline: true },
  () => {
    sink = JSON.stringify(ADA_JSON);
  },
);
Deno.bench("json: toJsonValue(Order)", { group: "json" }, () => {
  sink = toJsonValue(ORDER, ADA);
});
Deno.bench("json: decode + toJsonValue + JSON.stringify (Order)", { group: "json" }, () => {
  sink = JSON.stringify(toJsonValue(ORDER, ORDER.deserialize(new ByteReader(orderBytes))));
});

globalThis.addEventListener("unload", () => {
  if (sink === Symbol.for("never")) console.log(sink);
});
