/**
 * The HTTP gateway as a Cloudflare Worker under the real workerd runtime
 * (the npm package `@cloudflare/workerd-linux-64`, installed with npm into a
 * temporary folder): the Worker's `fetch` is `createQueryHandler` over a
 * `QueryableStateClient` whose transport is `cloudflareTransport`
 * (`connect()` of `cloudflare:sockets`), made per request as Workers
 * require (an I/O object belongs to the request that made it) and closed
 * before the response is returned. The Worker runs the npm-shaped build
 * (`tools/build_npm.ts`: plain JavaScript, one module per source file, each
 * listed in the workerd config) and queries a proxy and a state server that
 * this test runs in Deno on loopback; workerd's `internet` network service
 * allows local addresses so that the socket can reach them.
 *
 * Ignored, saying so, without `node`/`npm`, on a machine that is not Linux
 * x64, or when npm cannot install workerd (or TypeScript for the build), or
 * the binary does not run.
 */

import { assert, assertEquals } from "../_assert.ts";
import { toolVersion } from "../transport/_tool_version.ts";
import { buildNpm, installTools } from "../../tools/build_npm.ts";
import {
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  TYPE_SERIALIZERS,
} from "../../mod.ts";
import { denoTransport } from "../../src/transport/deno.ts";

/** The whole test's budget, installs included: every step is bounded by what is left of it. */
const BUDGET_MS = 90_000;
const STARTED = Date.now();
/** What is left of the budget (at least 1 s, so that a late step still fails by its own bound). */
const left = (): number => Math.max(1_000, STARTED + BUDGET_MS - Date.now());
/** Bound on workerd's start (until its HTTP socket answers). */
const START_TIMEOUT_MS = 20_000;
/** Bound on each request to the Worker. */
const FETCH_TIMEOUT_MS = 10_000;
const JOB = "0102030405060708a1a2a3a4a5a6a7a8";

/** The Worker (an ES module): the gateway, with a client per request. */
const WORKER_JS = `
import { QueryableStateClient } from "./pkg/mod.js";
import { cloudflareTransport } from "./pkg/src/transport/cloudflare.js";
import { createQueryHandler } from "./pkg/src/http/mod.js";

export default {
  async fetch(request, env) {
    // Per request: a socket made in one request cannot serve another.
    const client = new QueryableStateClient({ transport: cloudflareTransport, proxy: env.PROXY });
    try {
      return await createQueryHandler({ client })(request);
    } finally {
      await client.close();
    }
  },
};
`;

/** The workerd config (capnp text): the Worker, its HTTP socket, outbound to local addresses. */
function workerdConfig(modules: string[], httpPort: number, proxy: string): string {
  const moduleLines = modules.map((m) => `      (name = "${m}", esModule = embed "${m}"),`);
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .gateway),
    # The Worker's globalOutbound (fetch and cloudflare:sockets connect).
    # workerd's default allows "public" only, which excludes loopback (the
    # test fails with a 502 ConnectError then): local addresses are allowed.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${httpPort}", http = (), service = "main")],
);

const gateway :Workerd.Worker = (
  modules = [
${moduleLines.join("\n")}
  ],
  bindings = [(name = "PROXY", text = "${proxy}")],
  compatibilityDate = "2025-01-01",
);
`;
}

async function npmInstall(dir: string, spec: string): Promise<string | null> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/package.json`, '{ "private": true }\n');
  try {
    const out = await new Deno.Command("npm", {
      args: ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", spec],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(left()),
    }).output();
    if (out.success) return null;
    return new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? `exit ${out.code}`;
  } catch (e) {
    return String(e).split("\n")[0];
  }
}

async function listJs(root: string, dir = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir === "" ? root : `${root}/${dir}`)) {
    const rel = dir === "" ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await listJs(root, rel));
    else if (e.name.endsWith(".js")) out.push(rel);
  }
  return out.sort();
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function fetchText(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  return { status: res.status, body: await res.text() };
}

let workDir: string | null = null;
let workerd: string | null = null;
let whyIgnored: string | null = null;
if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
  whyIgnored = `workerd-linux-64 does not run on ${Deno.build.os}/${Deno.build.arch}`;
} else if ((await toolVersion("node", ["--version"])) === null) {
  whyIgnored = "no `node` binary on the PATH (the npm-shaped build needs it)";
} else if ((await toolVersion("npm", ["--version"])) === null) {
  whyIgnored = "no `npm` on the PATH";
} else {
  workDir = await Deno.makeTempDir({ prefix: "kvstate_workerd_test_" });
  const dir = workDir;
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* removed already */ }
  });
  const failed = await npmInstall(`${dir}/workerd_tools`, "@cloudflare/workerd-linux-64");
  const binary = `${dir}/workerd_tools/node_modules/@cloudflare/workerd-linux-64/bin/workerd`;
  const version = failed === null ? await toolVersion(binary, ["--version"]) : null;
  if (failed !== null) {
    whyIgnored = `npm could not install @cloudflare/workerd-linux-64 (${failed})`;
  } else if (version === null) whyIgnored = "the installed workerd binary does not run here";
  else {
    workerd = binary;
    console.log(`worker_test: ${version}`);
    try {
      await installTools(`${dir}/npm_tools`, left());
    } catch (e) {
      whyIgnored = `npm could not install the build's tools (${String(e).split("\n")[0]})`;
    }
  }
}
if (whyIgnored !== null) {
  console.log(`worker_test: ${whyIgnored}: the Cloudflare Worker test is ignored`);
}

Deno.test({
  name: "cloudflare: the HTTP gateway as a Worker under workerd queries a proxy on loopback",
  ignore: whyIgnored !== null,
  async fn() {
    const dir = workDir!;
    const site = `${dir}/site`;
    const built = await buildNpm({
      outDir: `${site}/pkg`,
      toolsDir: `${dir}/npm_tools`,
      timeoutMs: left(),
    });
    await Deno.writeTextFile(`${site}/worker.js`, WORKER_JS);
    const modules = ["worker.js", ...(await listJs(built.outDir)).map((f) => `pkg/${f}`)];
    assert(modules.includes("pkg/src/transport/cloudflare.js"), "the build has ./cloudflare");

    const server = new KvStateServer({ transport: denoTransport, host: "127.0.0.1", port: 0 });
    const counts = new InMemoryValueState(TYPE_SERIALIZERS.string, TYPE_SERIALIZERS.long).set(
      "hello",
      42n,
    );
    const kvStateId = server.registry.register(counts);
    const proxy = new KvStateClientProxy({ transport: denoTransport, host: "127.0.0.1", port: 0 });
    let child: Deno.ChildProcess | undefined;
    try {
      const serverAddress = await server.start();
      const jobId = JobId.fromHex(JOB);
      const locations = new InMemoryLocationRegistry();
      locations.notifyKvStateRegistered({
        jobId,
        jobVertexId: JobVertexId.random(),
        registrationName: "word-counts",
        numKeyGroups: 128,
        start: 0,
        end: 127,
        kvStateId,
        address: serverAddress,
      });
      proxy.updateKvStateLocationOracle(jobId, locations);
      const proxyAddress = await proxy.start();

      const httpPort = freePort();
      await Deno.writeTextFile(
        `${site}/config.capnp`,
        workerdConfig(modules, httpPort, `127.0.0.1:${proxyAddress.port}`),
      );
      child = new Deno.Command(workerd!, {
        args: ["serve", "config.capnp"],
        cwd: site,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const base = `http://127.0.0.1:${httpPort}`;
      const deadline = Date.now() + Math.min(START_TIMEOUT_MS, left());
      let up = false;
      for (let i = 0; i < 400 && Date.now() < deadline && !up; i++) {
        try {
          up = (await fetchText(`${base}/healthz`)).status === 200;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      assert(up, `workerd did not answer on ${base} within ${START_TIMEOUT_MS} ms`);

      const query = (key: string) =>
        `${base}/v1/jobs/${JOB}/states/word-counts?key=${key}&keyType=string&valueType=long`;
      const found = await fetchText(query("hello"));
      assertEquals(found, { status: 200, body: '{"value":"42"}' });
      const unknown = await fetchText(query("nope"));
      assertEquals(unknown.status, 404, unknown.body);
      // A second request gets its own client and socket: still answered.
      assertEquals(await fetchText(query("hello")), { status: 200, body: '{"value":"42"}' });
    } finally {
      if (child !== undefined) {
        try {
          child.kill("SIGTERM");
        } catch { /* exited already */ }
        const out = await child.output();
        const stderr = new TextDecoder().decode(out.stderr).trim();
        if (stderr !== "") console.log(`workerd stderr:\n${stderr.slice(0, 4000)}`);
      }
      await proxy.close();
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
