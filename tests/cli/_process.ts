/**
 * The CLI as a process: `deno run -A src/cli/mod.ts ...` from the repository
 * root, with a controlled environment (no inherited `QS_*` variables), its
 * output lines collected as they come, waits bounded in time, and signals
 * sent to its pid.
 */

import { assertEquals } from "../_assert.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const DENO = Deno.execPath();
const CLI = "src/cli/mod.ts";

/** The environment of a child: this process's, minus `QS_*`, plus `extra`. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("QS_")),
  );
  return { ...env, NO_COLOR: "1", ...extra };
}

/** What a finished run printed and how it exited. */
export interface CliRan {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end (bounded: killed after `ms`). */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  ms = 30_000,
): Promise<CliRan> {
  const child = new Deno.Command(DENO, {
    args: ["run", "-A", CLI, ...args],
    cwd: ROOT,
    clearEnv: true,
    env: childEnv(env),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, ms);
  try {
    const out = await child.output();
    const d = new TextDecoder();
    return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** A running CLI. */
export interface CliProcess {
  /** Its pid. */
  readonly pid: number;
  /** Stdout lines as they come. */
  readonly stdout: string[];
  /** Stderr lines as they come. */
  readonly stderr: string[];
  /** The first line of `stream` at index `from` or later matching `re`; throws after `ms` or on exit. */
  waitFor(
    stream: "stdout" | "stderr",
    re: RegExp,
    from?: number,
    ms?: number,
  ): Promise<RegExpMatchArray>;
  /** Sends a signal to its pid. */
  signal(sig: Deno.Signal): void;
  /** Its exit status, once all its output is read; sends no signal (bound it yourself). */
  exit(): Promise<Deno.CommandStatus>;
  /** Sends SIGTERM (unless gone), waits for the exit and all output; SIGKILL after 10 s. */
  stop(): Promise<Deno.CommandStatus>;
}

/** Stops `p` (SIGTERM) and checks that it exited with 0 (its stderr in the message otherwise). */
export async function stopCleanly(p: CliProcess): Promise<void> {
  const status = await p.stop();
  assertEquals(status.code, 0, p.stderr.join("\n"));
}

/** Starts the CLI with `args`. */
export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = new Deno.Command(DENO, {
    args: ["run", "-A", CLI, ...args],
    cwd: ROOT,
    clearEnv: true,
    env: childEnv(env),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { stdout: [] as string[], stderr: [] as string[] };
  const pump = async (stream: ReadableStream<Uint8Array>, into: string[]) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        into.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    }
    if (buf) into.push(buf);
  };
  const pumps = Promise.all([pump(child.stdout, out.stdout), pump(child.stderr, out.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    pid: child.pid,
    stdout: out.stdout,
    stderr: out.stderr,
    async waitFor(stream, re, from = 0, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const lines = out[stream];
        for (let i = from; i < lines.length; i++) {
          const m = lines[i].match(re);
          if (m) return m;
        }
        if (exited || Date.now() > deadline) {
          throw new Error(
            `no ${stream} line matching ${re} (exited: ${exited});\nstdout:\n${
              out.stdout.join("\n")
            }\nstderr:\n${out.stderr.join("\n")}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    signal(sig) {
      Deno.kill(child.pid, sig);
    },
    async exit() {
      const s = await status;
      await pumps;
      return s;
    },
    async stop() {
      if (!exited) {
        try {
          Deno.kill(child.pid, "SIGTERM");
        } catch { /* gone */ }
      }
      const timer = setTimeout(() => {
        try {
          if (!exited) Deno.kill(child.pid, "SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      try {
        const s = await status;
        await pumps;
        return s;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
