/**
 * The public API's map, asserted so that it cannot regress silently: `.`
 * holds what users reach for, `./wire` the protocol machinery, `./streams`
 * the framing streams; the names they share (ids, errors, the type
 * serializers a query names) are the same objects; every entry point is in
 * the check task's lists and in the npm build (or left out on purpose); and
 * every entry point's module doc opens with an example of what it is for.
 */

import * as root from "../../mod.ts";
import * as wire from "../../src/wire/mod.ts";
import * as streams from "../../src/streams/mod.ts";
import * as errors from "../../src/wire/errors.ts";
import * as ids from "../../src/wire/ids.ts";
import { DENO_ONLY_SUBPATHS, NPM_SUBPATHS } from "../../tools/build_npm.ts";
import { assert, assertEquals } from "../_assert.ts";

const ROOT_DIR = new URL("../../", import.meta.url);
const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT_DIR))) as {
  exports: Record<string, string>;
  tasks: Record<string, string>;
};

/** Runtime names `.` shares with `./wire`: ids, errors, and the type serializers queries name. */
const SHARED_WITH_WIRE = new Set([
  ...Object.keys(errors),
  ...Object.keys(ids),
  "TYPE_SERIALIZERS",
  "serializerFor",
]);

Deno.test("public API map: '.' does not export the protocol machinery or the streams", () => {
  for (
    const name of [
      "encodeKvStateRequest",
      "decodeMessage",
      "ByteWriter",
      "ByteReader",
      "toHex",
      "fromHex",
      "readJavaThrowable",
      "writeJavaThrowable",
      "javaThrowable",
      "stringHashCode",
      "keyGroupForKeyHash",
      "serializeKeyAndNamespace",
      "decodeValueContent",
      "tickNow",
      "FrameDecoderStream",
      "FrameEncoderStream",
      "RequestHandlerStream",
      "FrameBudget",
      "SharedFlowLimit",
      "DecoderState",
    ]
  ) {
    assert(!(name in root), `"." exports ${name}`);
  }
  // Whatever ./wire and ./streams add later stays out of "." too.
  for (const name of Object.keys(wire)) {
    if (!SHARED_WITH_WIRE.has(name)) assert(!(name in root), `"." exports ./wire's ${name}`);
  }
  for (const name of Object.keys(streams)) {
    if (!(name in errors)) assert(!(name in root), `"." exports ./streams' ${name}`);
  }
});

Deno.test("public API map: '.' exports the roles, states, oracles, transports, errors, ids and types", () => {
  for (
    const name of [
      "QueryableStateClient",
      "NetworkClient",
      "KvStateClientProxy",
      "KvStateServer",
      "AbstractServer",
      "KvStateRegistry",
      "InMemoryValueState",
      "InMemoryListState",
      "InMemoryMapState",
      "KvStateLocation",
      "KvStateLocationOracleRegistry",
      "InMemoryLocationRegistry",
      "StaticLocationOracle",
      "HttpLocationOracle",
      "parseLocations",
      "MemoryTransport",
      "listenOnPorts",
      "BindError",
      "ProtocolError",
      "UnknownKvStateLocationError",
      "JobId",
      "JobVertexId",
      "KvStateId",
      "SILENT_LOGGER",
      "IncompleteFrameTimeoutError",
      "TYPE_SERIALIZERS",
      "serializerFor",
    ]
  ) {
    assert(name in root, `"." lacks ${name}`);
  }
});

Deno.test("public API map: './wire' holds the codecs, './streams' the streams, and neither a role", () => {
  for (
    const name of [
      "encodeKvStateRequest",
      "decodeKvStateResponse",
      "decodeMessage",
      "ByteWriter",
      "ByteReader",
      "toHex",
      "fromHex",
      "readJavaThrowable",
      "writeJavaThrowable",
      "stringHashCode",
      "keyGroupForKeyHash",
      "KeyGroupRange",
      "serializeKeyAndNamespace",
      "decodeMapContent",
      "TYPE_SERIALIZERS",
      "JobId",
      "ProtocolError",
    ]
  ) {
    assert(name in wire, `./wire lacks ${name}`);
  }
  for (
    const name of [
      "FrameDecoderStream",
      "FrameEncoderStream",
      "RequestHandlerStream",
      "DecoderState",
      "FrameBudget",
      "FrameBudgetError",
      "SharedFlowLimit",
    ]
  ) {
    assert(name in streams, `./streams lacks ${name}`);
    assert(!(name in wire), `./wire exports ./streams' ${name}`);
  }
  assert(!("encodeKvStateRequest" in streams), "./streams exports a codec");
  for (const name of ["QueryableStateClient", "KvStateClientProxy", "KvStateServer"]) {
    assert(!(name in wire) && !(name in streams), `a machinery entry point exports ${name}`);
  }
});

Deno.test("public API map: a name exported by several entry points is one object", () => {
  const all: Record<string, unknown>[] = [root, wire, streams];
  let shared = 0;
  for (const name of new Set(all.flatMap((m) => Object.keys(m)))) {
    const values = all.filter((m) => name in m).map((m) => m[name]);
    if (values.length < 2) continue;
    shared++;
    for (const v of values) assert(v === values[0], `two objects named ${name}`);
  }
  assert(shared > 20, `only ${shared} shared names`);
});

Deno.test("public API map: every entry point is checked, doc-linted and in the npm build or left out on purpose", () => {
  const subpaths = Object.keys(denoJson.exports);
  for (const s of ["./wire", "./streams"]) assert(subpaths.includes(s), `no ${s} export`);
  assertEquals(denoJson.exports["./wire"], "./src/wire/mod.ts");
  assertEquals(denoJson.exports["./streams"], "./src/streams/mod.ts");
  const check = denoJson.tasks.check;
  const typeChecked = check.match(/deno check (?!--doc-only)([^&]*)&&/)![1].trim().split(/\s+/);
  const docLinted = check.match(/deno doc --lint ([^&]*)&&/)![1].trim().split(/\s+/);
  for (const s of subpaths) {
    const file = denoJson.exports[s].replace(/^\.\//, "");
    assert(typeChecked.includes(file), `deno check does not list ${file}`);
    assert(docLinted.includes(file), `deno doc --lint does not list ${file}`);
  }
  assertEquals([...NPM_SUBPATHS, ...DENO_ONLY_SUBPATHS].sort(), [...subpaths].sort());
});

/** The first fenced code block of a source file's module doc. */
async function firstModuleExample(file: string): Promise<string> {
  const text = await Deno.readTextFile(new URL(file, ROOT_DIR));
  const doc = text.split("*/").find((block) => block.includes("@module"));
  assert(doc !== undefined, `${file} has no module doc`);
  const fence = doc.match(/```[^\n]*\n([\s\S]*?)```/);
  assert(fence !== null, `${file}'s module doc has no example`);
  return fence[1];
}

Deno.test("public API map: each entry point's module doc opens with an example of its own subpath", async () => {
  for (const [subpath, file] of Object.entries(denoJson.exports)) {
    const example = await firstModuleExample(file);
    const specifier = subpath === "."
      ? '"@kvstate/queryable-state"'
      : `@kvstate/queryable-state${subpath.slice(1)}`;
    assert(example.includes(specifier), `${subpath}'s first example does not use ${specifier}`);
  }
  // The root's: a Flink proxy queried in three lines.
  const rootExample = (await firstModuleExample("mod.ts")).split("\n")
    .map((l) => l.replace(/^\s*\*\s?/, "")).filter((l) => l !== "" && !l.startsWith("import "));
  assertEquals(rootExample.length, 3, rootExample.join("\n"));
  assert(rootExample[0].includes("new QueryableStateClient("));
  assert(rootExample[1].includes("client.getKvState("));
  assert(rootExample[2].includes("client.close()"));
  const wireExample = await firstModuleExample("src/wire/mod.ts");
  assert(
    wireExample.includes("encodeKvStateRequest(") && wireExample.includes("decodeValueContent("),
  );
  const streamsExample = await firstModuleExample("src/streams/mod.ts");
  assert(/ReadableStream[\s\S]*pipeThrough\(new FrameDecoderStream/.test(streamsExample));
});

Deno.test("public API map: every entry point passes deno doc --lint on its own", async () => {
  // The check task lints them together, which lets one entry point lean on
  // another's exports; a user (and JSR's page of that subpath) sees one alone.
  for (const [subpath, file] of Object.entries(denoJson.exports)) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["doc", "--lint", file],
      cwd: ROOT_DIR,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    assert(out.success, `deno doc --lint ${file} (${subpath}):\n${text.slice(0, 2000)}`);
  }
});
