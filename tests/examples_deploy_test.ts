/**
 * examples/deploy.ts (the Deno Deploy entry) run as a user does: a real
 * `deno run` process with only the permissions the README gives it, its
 * settings from the environment, in front of a state server and a proxy this
 * test starts on 127.0.0.1 (port 0) over real sockets.
 */
import {
  InMemoryLocationRegistry,
  InMemoryValueState,
  JobId,
  JobVertexId,
  KvStateClientProxy,
  KvStateServer,
  TYPE_SERIALIZERS as T,
} from "../mod.ts";
import { formatAddress } from "../src/oracle/locations_file.ts";
import { denoTransport } from "../src/transport/deno.ts";
import { assert, assertEquals } from "./_assert.ts";
import { JOB } from "./_examples.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PERMS = [
  "--allow-net=127.0.0.1",
  "--allow-env=QS_PROXY,QS_HTTP_TOKEN,QS_CORS_ORIGIN,PORT",
];
/** How long the example may take to start, and to exit once killed. */
const START_MS = 20_000;
const EXIT_MS = 5_000;

/** A port that was free a moment ago on 127.0.0.1. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** `examples/deploy.ts` running with `env` (and nothing of ours else). */
interface Child {
  readonly process: Deno.ChildProcess;
  readonly output: string[];
  /** Resolves with the first output line matching `re`; rejects on exit or after `ms`. */
  waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray>;
  /** SIGTERM by pid, SIGKILL after {@linkcode EXIT_MS}; resolves with the status. */
  kill(): Promise<Deno.CommandStatus>;
}

function spawnDeploy(env: Record<string, string>): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, "examples/deploy.ts"],
    cwd: ROOT,
    clearEnv: true,
    env: {
      NO_COLOR: "1",
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) output.push(text);
  };
  const pumped = Promise.all([pump(process.stdout), pump(process.stderr)]);
  let exited = false;
  const status = process.status.then(async (s) => {
    exited = true;
    await pumped;
    return s;
  });
  return {
    process,
    output,
    async waitFor(re, ms) {
      const deadline = Date.now() + ms;
      for (let i = 0; i < 10_000; i++) {
        const m = output.join("").match(re);
        if (m) return m;
        if (exited || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no output matching ${re} (exited: ${exited}):\n${output.join("")}`);
    },
    async kill() {
      if (!exited) {
        try {
          Deno.kill(process.pid, "SIGTERM");
        } catch (e) {
          // Exited between the check and the signal (its status not read yet): what we wanted.
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), EXIT_MS));
      const first = await Promise.race([status, late]);
      clearTimeout(timer);
      if (first === "late") {
        Deno.kill(process.pid, "SIGKILL");
        await status;
        throw new Error(`examples/deploy.ts did not exit within ${EXIT_MS} ms of SIGTERM`);
      }
      return first;
    },
  };
}

Deno.test("examples/deploy.ts: Deno.serve gateway over a real proxy: value, 404, token, CORS", async () => {
  const server = new KvStateServer({ transport: denoTransport, host: "127.0.0.1", port: 0 });
  const proxy = new KvStateClientProxy({ transport: denoTransport, host: "127.0.0.1", port: 0 });
  let child: Child | undefined;
  try {
    const kvStateId = server.registry.register(
      new InMemoryValueState(T.string, T.long).set("hello", 42n),
    );
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
      address: await server.start(),
    });
    proxy.updateKvStateLocationOracle(jobId, locations);
    const proxyAddress = formatAddress(await proxy.start());

    const port = freePort();
    child = spawnDeploy({
      QS_PROXY: proxyAddress,
      QS_HTTP_TOKEN: "s3cret",
      QS_CORS_ORIGIN: "https://page.test",
      PORT: String(port),
    });
    const [, listening] = await child.waitFor(/http listening on (\S+)/, START_MS);
    assertEquals(listening, `127.0.0.1:${port}`);
    const base = `http://127.0.0.1:${port}/v1/jobs/${JOB}/states/word-counts`;
    const auth = { authorization: "Bearer s3cret", origin: "https://page.test" };

    const value = await fetch(`${base}?key=hello&keyType=string&valueType=long`, {
      headers: auth,
    });
    assertEquals(value.status, 200);
    assertEquals(value.headers.get("access-control-allow-origin"), "https://page.test");
    assertEquals(await value.text(), '{"value":"42"}');

    const missing = await fetch(`${base}?key=nope&keyType=string&valueType=long`, {
      headers: auth,
    });
    assertEquals(missing.status, 404);
    const error = (await missing.json()).error;
    assertEquals(error.type, "UnknownKeyOrNamespaceError");

    const noToken = await fetch(`${base}?key=hello&keyType=string&valueType=long`);
    assertEquals(noToken.status, 401);
    await noToken.body?.cancel();

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assertEquals(health.status, 200);
    await health.body?.cancel();

    const status = await child.kill();
    child = undefined;
    assert(status.signal === "SIGTERM" || status.code !== 0, JSON.stringify(status));
  } finally {
    if (child) await child.kill().catch(() => {});
    await proxy.close();
    await server.close();
  }
});

Deno.test("examples/deploy.ts: without QS_PROXY, or with a bad one, exits 2 naming it", async () => {
  for (
    const [env, expected] of [
      [{}, /QS_PROXY is not set/],
      [{ QS_PROXY: "127.0.0.1:99999" }, /QS_PROXY is not a list of host:port/],
      [{ QS_PROXY: "127.0.0.1:9069,:1" }, /QS_PROXY is not a list of host:port/],
      [{ QS_PROXY: "127.0.0.1:9069", PORT: "80x" }, /PORT is not a port number/],
    ] as const
  ) {
    const child = spawnDeploy(env as Record<string, string>);
    let status: Deno.CommandStatus;
    try {
      await child.waitFor(/error: /, START_MS);
    } finally {
      status = await child.kill();
    }
    assertEquals(status.code, 2, child.output.join(""));
    assert(expected.test(child.output.join("")), child.output.join(""));
  }
});
