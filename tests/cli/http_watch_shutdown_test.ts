/**
 * Stopping the CLI's HTTP side with a watch stream open: SIGTERM closes the
 * gateway's handler first, so the open watch stream ends cleanly at once
 * (the body's end, not a cut connection) and the process exits 0 well
 * inside the 2 s grace its HTTP server gives open answers. Real processes,
 * real sockets on 127.0.0.1, every wait bounded, signalled by pid.
 */
import { assert, assertEquals } from "../_assert.ts";
import { startCli, stopCleanly } from "./_process.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const WATCH = `/v1/jobs/${JOB}/states/word-counts/watch?key=hello&keyType=string&valueType=long`;
/** The grace of the CLI's HTTP stop (`STOP_GRACE_MS` in src/cli/http_serve.ts). */
const GRACE_MS = 2_000;

/** A CLI process whose exit can be awaited without signalling it again. */
interface Child {
  readonly pid: number;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Its exit status (SIGKILLed 10 s after `kill()` if still running). */
  readonly status: Promise<Deno.CommandStatus>;
  /** The first stdout line matching `re` (bounded: 20 s). */
  line(re: RegExp): Promise<RegExpMatchArray>;
  /** SIGKILL unless gone (for `finally`); then waits for its output. */
  kill(): Promise<void>;
}

/** `deno run -A src/cli/mod.ts ...args` from the repository root, output collected by line. */
function spawnCli(args: string[]): Child {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/cli/mod.ts", ...args],
    cwd: ROOT,
    clearEnv: true,
    // This process's environment minus the CLI's own QS_* variables.
    env: {
      ...Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("QS_")),
      ),
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { stdout: [] as string[], stderr: [] as string[] };
  const pump = async (stream: ReadableStream<Uint8Array>, into: string[]) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        into.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    if (buf) into.push(buf);
  };
  const pumps = Promise.all([pump(child.stdout, out.stdout), pump(child.stderr, out.stderr)]);
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await pumps;
    return s;
  });
  return {
    pid: child.pid,
    ...out,
    status,
    async line(re) {
      const deadline = Date.now() + 20_000;
      for (let round = 0; round < 1000; round++) {
        for (const l of out.stdout) {
          const m = l.match(re);
          if (m) return m;
        }
        if (exited || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(
        `no stdout line matching ${re};\n${[...out.stdout, ...out.stderr].join("\n")}`,
      );
    },
    async kill() {
      if (!exited) {
        try {
          Deno.kill(child.pid, "SIGKILL");
        } catch { /* gone */ }
      }
      await status;
    },
  };
}

async function httpListening(p: Child): Promise<string> {
  return `http://${(await p.line(/^http listening on (\S+)$/))[1]}`;
}

/** What a watch stream did after its first event. */
interface WatchEnd {
  /** `"end"` when the body ended cleanly, else the error that cut it. */
  readonly outcome: string;
  /** The text that came after the first event. */
  readonly rest: string;
  /** Ms from `from` to the end or the error. */
  readonly ms: number;
}

/** Reads `reader` to its end (at most 100 chunks), timing from `from`. */
async function readToEnd(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  from: number,
): Promise<WatchEnd> {
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for (let i = 0; i < 100; i++) {
      const r = await reader.read();
      if (r.done) return { outcome: "end", rest, ms: performance.now() - from };
      rest += decoder.decode(r.value, { stream: true });
    }
    return { outcome: "too many chunks", rest, ms: performance.now() - from };
  } catch (e) {
    return {
      outcome: `cut: ${(e as Error).name}: ${(e as Error).message}`,
      rest,
      ms: performance.now() - from,
    };
  }
}

/** Opens a watch on `base`, checks its first event, SIGTERMs `target`, and checks the stop. */
async function watchThenTerm(base: string, target: Child): Promise<void> {
  const watch = await fetch(base + WATCH, { signal: AbortSignal.timeout(15_000) });
  assertEquals(watch.status, 200);
  assertEquals(watch.headers.get("content-type"), "text/event-stream");
  const reader = watch.body!.getReader();
  try {
    const first = new TextDecoder().decode((await reader.read()).value);
    assertEquals(first, 'event: value\ndata: {"value":"42"}\n\n');
    const t0 = performance.now();
    Deno.kill(target.pid, "SIGTERM");
    const end = await readToEnd(reader, t0);
    // The stream got its end (not cut by the process exiting), with nothing after the value.
    assertEquals(end.outcome, "end", `after ${Math.round(end.ms)} ms`);
    assertEquals(end.rest, "");
    // Its exit, without a second signal (which would kill it: the first removed the handlers).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      target.status,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no exit within 10 s of SIGTERM")), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assertEquals(status.code, 0, target.stderr.join("\n"));
    assert(target.stdout.includes("SIGTERM: shutting down"), target.stdout.join("\n"));
    // Without the handler closed first, the stream lives until the grace is out.
    assert(
      end.ms < GRACE_MS * 0.75,
      `the watch stream ended ${Math.round(end.ms)} ms after SIGTERM`,
    );
  } finally {
    await reader.cancel().catch(() => {});
  }
}

Deno.test("cli http: SIGTERM ends an open watch stream of proxy --http at once, exit 0", async () => {
  const proxy = spawnCli(["proxy", "--port", "0", "--http", "127.0.0.1:0"]);
  try {
    await watchThenTerm(await httpListening(proxy), proxy);
  } finally {
    await proxy.kill();
  }
});

Deno.test("cli http: SIGTERM ends an open watch stream of the gateway at once, exit 0", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "off"]);
  let gateway: Child | undefined;
  try {
    const at = (await proxy.waitFor("stdout", /^listening on (\S+)$/))[1];
    gateway = spawnCli(["gateway", "--proxy", at, "--http", "127.0.0.1:0"]);
    await watchThenTerm(await httpListening(gateway), gateway);
  } finally {
    await gateway?.kill();
    await stopCleanly(proxy);
  }
});
