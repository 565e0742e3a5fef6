/**
 * Stopping the CLI's HTTP side with a watch stream open: SIGTERM closes the
 * gateway's handler first, so the open watch stream ends cleanly at once
 * (the body's end, not a cut connection) and the process exits 0 well
 * inside the 2 s grace its HTTP server gives open answers. Real processes,
 * real sockets on 127.0.0.1, every wait bounded, signalled by pid.
 */
import { assert, assertEquals } from "../_assert.ts";
import { type CliProcess, startCli, stopCleanly } from "./_process.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const WATCH = `/v1/jobs/${JOB}/states/word-counts/watch?key=hello&keyType=string&valueType=long`;
/** The grace of the CLI's HTTP stop (`STOP_GRACE_MS` in src/cli/http_serve.ts). */
const GRACE_MS = 2_000;

async function httpListening(p: CliProcess): Promise<string> {
  return `http://${(await p.waitFor("stdout", /^http listening on (\S+)$/))[1]}`;
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
async function watchThenTerm(base: string, target: CliProcess): Promise<void> {
  const watch = await fetch(base + WATCH, { signal: AbortSignal.timeout(15_000) });
  assertEquals(watch.status, 200);
  assertEquals(watch.headers.get("content-type"), "text/event-stream");
  const reader = watch.body!.getReader();
  try {
    const first = new TextDecoder().decode((await reader.read()).value);
    assertEquals(first, 'event: value\ndata: {"value":"42"}\n\n');
    const t0 = performance.now();
    target.signal("SIGTERM");
    const end = await readToEnd(reader, t0);
    // The stream got its end (not cut by the process exiting), with nothing after the value.
    assertEquals(end.outcome, "end", `after ${Math.round(end.ms)} ms`);
    assertEquals(end.rest, "");
    // Its exit, without a second signal (which would kill it: the first removed the handlers).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      target.exit(),
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
  const proxy = startCli(["proxy", "--port", "0", "--http", "127.0.0.1:0"]);
  try {
    await watchThenTerm(await httpListening(proxy), proxy);
  } finally {
    await proxy.stop();
  }
});

Deno.test("cli http: SIGTERM ends an open watch stream of the gateway at once, exit 0", async () => {
  const proxy = startCli(["proxy", "--port", "0", "--http", "off"]);
  let gateway: CliProcess | undefined;
  try {
    const at = (await proxy.waitFor("stdout", /^listening on (\S+)$/))[1];
    gateway = startCli(["gateway", "--proxy", at, "--http", "127.0.0.1:0"]);
    await watchThenTerm(await httpListening(gateway), gateway);
  } finally {
    await gateway?.stop();
    await stopCleanly(proxy);
  }
});
