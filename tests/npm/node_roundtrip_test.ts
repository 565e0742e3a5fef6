/**
 * The package as npm users get it (built by `tools/build_npm.ts`, the shape
 * JSR serves to npm), run for real: `tests/npm/_roundtrip.mjs`, plain
 * JavaScript importing the package by its subpaths from a temporary project
 * (`node_modules/@kvstate/queryable-state` links to the build), under the
 * machine's `node` and under Bun (the npm package `bun`); and a TypeScript
 * consumer compiled by `tsc --noEmit` with `"lib": ["ES2022"]` and
 * `@types/node` only (no DOM lib).
 *
 * Ignored, saying so, without `node` or `npm`, or when npm cannot install
 * `typescript@5` and `@types/node@20`; the Bun step is ignored, saying so,
 * when neither `bun` is on the PATH nor `npm install bun@1` works.
 */

import { assert, assertEquals } from "../_assert.ts";
import { toolVersion } from "../transport/_tool_version.ts";
import { buildNpm, installTools, NPM_SUBPATHS } from "../../tools/build_npm.ts";
import type { RequestHandlerStream } from "../../src/streams/request_handler_stream.ts";

// RequestHandlerStream no longer says `implements ReadableWritablePair` (a
// DOM-lib name Node's types lack); under Deno's types it still is one.
const _isPair: (s: RequestHandlerStream) => ReadableWritablePair<Uint8Array[], Uint8Array[]> = (
  s,
) => s;

const NODE_VERSION = await toolVersion("node", ["--version"]);
const NPM_VERSION = await toolVersion("npm", ["--version"]);
const INSTALL_TIMEOUT_MS = 240_000;
const RUN_TIMEOUT_MS = 60_000;
const decoder = new TextDecoder();

let workDir: string | null = null;
let whyIgnored: string | null = null;
if (NODE_VERSION === null) whyIgnored = "no `node` binary on the PATH";
else if (NPM_VERSION === null) whyIgnored = "no `npm` on the PATH";
else {
  workDir = await Deno.makeTempDir({ prefix: "kvstate_npm_test_" });
  try {
    await installTools(`${workDir}/npm_tools`, INSTALL_TIMEOUT_MS);
  } catch (err) {
    whyIgnored = `npm could not install typescript@5 and @types/node@20 (${
      String(err).split("\n")[0]
    })`;
  }
  // Removed here too when the test is filtered out.
  const dir = workDir;
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* removed already */ }
  });
}
if (whyIgnored !== null) {
  console.log(`node_roundtrip_test: ${whyIgnored}: the npm-shaped build's tests are ignored`);
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function runTool(cmd: string, args: string[], cwd: string): Promise<Ran> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** What `_roundtrip.mjs` prints when every fact holds, after its runtime line. */
const EXPECTED_LINES = [
  "value: 42",
  "absent: undefined",
  'orders: {"amount":99.5,"customer":"Ada","orderId":"1001"}',
  'orders http: 200 {"value":{"amount":99.5,"customer":"Ada","orderId":"1001"}}',
  'http: 200 {"value":"42"}',
  "node bind: true true BindError",
  "http bind: true BindError",
  "same TlsError: true",
  "wire decode: true ProtocolError",
  "streams decode: true true",
  "wire frame: 0000003e79a1b71000000000 true",
  "logger: function",
  "closed",
];

function assertRoundTrip(ran: Ran, runtime: string): void {
  assertEquals(ran.code, 0, `exit code ${ran.code}; stderr:\n${ran.stderr}`);
  const lines = ran.stdout.trim().split("\n");
  assertEquals(lines[0], `runtime: ${runtime}, Deno global: undefined`);
  assertEquals(lines.slice(1), EXPECTED_LINES);
}

const CONSUMER_TS = `
import { BindError, JobId, QueryableStateClient } from "@kvstate/queryable-state";
import { nodeTransport, type NodeTransportOptions } from "@kvstate/queryable-state/node";
import { createQueryHandler, type StateKind } from "@kvstate/queryable-state/http";
import { type NodeHttpServer, serveNode } from "@kvstate/queryable-state/http/node";
import { createLogger } from "@kvstate/queryable-state/observability";
import {
  cloudflareTransport,
  type CloudflareTransportOptions,
} from "@kvstate/queryable-state/cloudflare";
import {
  ByteWriter,
  decodeValueContent,
  encodeKvStateRequest,
  type KvStateRequest,
  serializeKeyAndNamespace,
  stringHashCode,
  TYPE_SERIALIZERS,
} from "@kvstate/queryable-state/wire";
import {
  FrameDecoderStream,
  FrameEncoderStream,
  RequestHandlerStream,
} from "@kvstate/queryable-state/streams";

/** A request frame by hand (./wire), decoded back to frames (./streams). */
export async function frames(): Promise<Uint8Array[]> {
  const request: KvStateRequest = {
    jobId: JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8"),
    stateName: "word-counts",
    keyHashCode: stringHashCode("hello"),
    serializedKeyAndNamespace: serializeKeyAndNamespace("hello", TYPE_SERIALIZERS.string),
  };
  const writer = new ByteWriter();
  writer.writeBytes(encodeKvStateRequest(1n, request));
  const value: bigint = decodeValueContent(TYPE_SERIALIZERS.long, new Uint8Array(8));
  void value;
  const out: Uint8Array[] = [];
  const bytes = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(writer.toBytes());
      controller.close();
    },
  });
  const echoed = bytes
    .pipeThrough(new FrameDecoderStream())
    .pipeThrough(new RequestHandlerStream((frame) => frame))
    .pipeThrough(new FrameEncoderStream());
  for await (const chunk of echoed) out.push(chunk);
  return out;
}

/** A Worker's client (./cloudflare): a type and a transport, not run here. */
export function workerClient(proxy: string): QueryableStateClient {
  const options: CloudflareTransportOptions = {};
  void options;
  return new QueryableStateClient({ transport: cloudflareTransport, proxy });
}

export async function main(): Promise<bigint | undefined> {
  const options: NodeTransportOptions = {};
  const kind: StateKind = "value";
  const client = new QueryableStateClient({ transport: nodeTransport, proxy: "127.0.0.1:9069" });
  const served: NodeHttpServer = await serveNode({ handler: createQueryHandler({ client }) });
  try {
    const jobId = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
    const value: bigint = await client.getKvState(jobId, "word-counts", "hello", {
      keyType: "string",
      valueType: "long",
    });
    return value;
  } catch (err) {
    if (err instanceof BindError) return undefined;
    throw err;
  } finally {
    void options;
    void kind;
    void createLogger;
    await served.close();
    await client.close();
  }
}
`;

/** The same consumer with one type error, to show the check can fail. */
const BROKEN_CONSUMER_TS = `
import { JobId } from "@kvstate/queryable-state";
export const jobId: string = JobId.fromHex("0102030405060708a1a2a3a4a5a6a7a8");
`;

async function tscConsumer(project: string, tscJs: string, source: string): Promise<Ran> {
  await Deno.writeTextFile(`${project}/consumer.ts`, source);
  return await runTool("node", [tscJs, "-p", "tsconfig.json"], project);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** `bun` from the PATH, else from `npm install bun@1` into `dir`; `null` when neither works. */
async function findOrInstallBun(dir: string): Promise<string | null> {
  if ((await toolVersion("bun", ["--version"])) !== null) return "bun";
  const bunDir = `${dir}/bun_tools`;
  await Deno.mkdir(bunDir);
  await Deno.writeTextFile(`${bunDir}/package.json`, '{ "private": true }\n');
  try {
    const installed = await new Deno.Command("npm", {
      args: ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "bun@1"],
      cwd: bunDir,
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(INSTALL_TIMEOUT_MS),
    }).output();
    if (!installed.success) return null;
  } catch {
    return null;
  }
  const candidate = `${bunDir}/node_modules/.bin/bun`;
  return (await toolVersion(candidate, ["--version"])) === null ? null : candidate;
}

Deno.test({
  name: `npm-shaped build under node ${NODE_VERSION ?? "(absent)"} and Bun`,
  ignore: whyIgnored !== null,
  async fn(t) {
    const dir = workDir!;
    try {
      const built = await buildNpm({
        outDir: `${dir}/package`,
        toolsDir: `${dir}/npm_tools`,
        timeoutMs: INSTALL_TIMEOUT_MS,
      });
      console.log(`built ${built.jsFiles} .js files in ${built.ms} ms`);

      const project = `${dir}/project`;
      await Deno.mkdir(`${project}/node_modules/@kvstate`, { recursive: true });
      await Deno.symlink(built.outDir, `${project}/node_modules/@kvstate/queryable-state`);
      await Deno.copyFile(
        new URL("./_roundtrip.mjs", import.meta.url),
        `${project}/roundtrip.mjs`,
      );
      await Deno.writeTextFile(`${project}/package.json`, '{ "type": "module" }\n');

      await t.step("package.json: type module, types and default for every subpath", async () => {
        const pkg = JSON.parse(await Deno.readTextFile(`${built.outDir}/package.json`));
        assertEquals(pkg.type, "module");
        assertEquals(Object.keys(pkg.exports), [...NPM_SUBPATHS]);
        for (const subpath of NPM_SUBPATHS) {
          const entry = pkg.exports[subpath];
          for (const file of [entry.types, entry.default]) {
            assert((await Deno.stat(`${built.outDir}/${file}`)).isFile, `${subpath}: ${file}`);
          }
        }
        assertEquals(pkg.dependencies, undefined);
        // The Deno-only subpaths are left out, and nothing imports them.
        for (const left of ["src/transport/deno.js", "src/cli/mod.js"]) {
          assert(!(await exists(`${built.outDir}/${left}`)), `${left} is not built`);
        }
        // Relative imports point at .js files, in code and declarations.
        const mod = await Deno.readTextFile(`${built.outDir}/mod.js`);
        assert(mod.includes('from "./src/wire/errors.js"'), "mod.js imports .js files");
        assert(!/from "\.[^"]*\.ts"/.test(mod), "mod.js imports no .ts file");
        const dts = await Deno.readTextFile(`${built.outDir}/mod.d.ts`);
        assert(!/from "\.[^"]*\.ts"/.test(dts), "mod.d.ts imports no .ts file");
      });

      await t.step("round trip under the real node binary", async () => {
        assertRoundTrip(await runTool("node", ["roundtrip.mjs"], project), "node");
      });

      await t.step(
        "TypeScript consumer with ES2022 and @types/node only (no DOM lib)",
        async () => {
          await Deno.writeTextFile(
            `${project}/tsconfig.json`,
            JSON.stringify({
              compilerOptions: {
                target: "ES2022",
                module: "NodeNext",
                moduleResolution: "NodeNext",
                lib: ["ES2022"],
                types: ["node"],
                typeRoots: [`${built.toolsDir}/node_modules/@types`],
                strict: true,
                noEmit: true,
                skipLibCheck: false,
              },
              files: ["consumer.ts"],
            }),
          );
          const ok = await tscConsumer(project, built.tscJs, CONSUMER_TS);
          assertEquals(ok.code, 0, `tsc:\n${ok.stdout}${ok.stderr}`);
          assertEquals(ok.stdout, "");
          const broken = await tscConsumer(project, built.tscJs, BROKEN_CONSUMER_TS);
          assert(broken.code !== 0, "a type error fails the check");
          assert(broken.stdout.includes("TS2322"), broken.stdout);
        },
      );

      const bun = await findOrInstallBun(dir);
      if (bun === null) {
        console.log(
          "node_roundtrip_test: bun could not be installed: the Bun round trip is ignored",
        );
      }
      await t.step({
        name: "round trip under Bun",
        ignore: bun === null,
        async fn() {
          console.log(`bun ${await toolVersion(bun!, ["--version"])}`);
          assertRoundTrip(await runTool(bun!, ["roundtrip.mjs"], project), "bun");
        },
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
