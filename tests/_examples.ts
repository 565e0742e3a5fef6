/**
 * Shared plumbing for the tests that run the examples as a user does: real
 * `deno run` processes from the repository root, their output collected line
 * by line, and the client example as a one-shot command.
 */
import { assertEquals } from "./_assert.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const decoder = new TextDecoder();

/** The network permission every example is given. */
export const NET = "--allow-net=127.0.0.1";
/** The job the examples' demo data and fixtures use. */
export const JOB = "0102030405060708a1a2a3a4a5a6a7a8";

/** A running example. */
export interface Running {
  /** Its stdout and stderr lines, in arrival order, as they come. */
  lines: string[];
  /** The first line matching `re`; throws if the process exits or `ms` passes first. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (unless it exited already), then waits for its exit and all its output. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** What a finished example printed and how it exited. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts `deno run ...args` from the repository root; its output lines are collected as they come. */
export function start(args: string[]): Running {
  const child = new Deno.Command(DENO, {
    args: ["run", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        wake();
      }
    }
    if (buf) lines.push(buf);
    wake();
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    lines,
    async waitFor(re, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        for (const l of lines) {
          const m = l.match(re);
          if (m) return m;
        }
        if (exited || Date.now() > deadline) {
          throw new Error(
            `no line matching ${re} (exited: ${exited}); output:\n${lines.join("\n")}`,
          );
        }
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch { /* already gone */ }
      }
      const s = await status;
      await pumps;
      return s;
    },
  };
}

/** Runs `deno run ...args` from the repository root to its end. */
export async function run(args: string[]): Promise<Ran> {
  const out = await new Deno.Command(DENO, {
    args: ["run", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * Runs examples/client.ts against the proxy at `address` for `job`; `args` is
 * the rest of its command line, space-separated, `extra` goes after it as is,
 * `perms` replaces the default network permission.
 */
export function query(
  address: string,
  job: string,
  args: string,
  extra: string[] = [],
  perms: string[] = [NET],
): Promise<Ran> {
  return run([
    ...perms,
    "examples/client.ts",
    "--proxy",
    address,
    "--job",
    job,
    ...args.split(" "),
    ...extra,
  ]);
}

/** Stops `example` (SIGTERM unless `signal` says otherwise) and asserts that it exited with 0. */
export async function stopClean(example: Running, signal?: Deno.Signal): Promise<void> {
  const status = await example.stop(signal);
  assertEquals(status.code, 0, example.lines.join("\n"));
}

/** A running example that has said where it listens. */
export interface Listening extends Running {
  /** The `host:port` from its "listening on" line. */
  address: string;
}

/**
 * Starts `example` (say "examples/proxy.ts") with the permissions `perms`, on
 * a free port, with `args` after; resolves once it says where it listens. If
 * it does not, it is stopped and the error names its output.
 */
export async function startListening(
  perms: string[],
  example: string,
  args: string[] = [],
): Promise<Listening> {
  const running = start([...perms, example, "--port", "0", ...args]);
  try {
    const [, address] = await running.waitFor(/^listening on (\S+)$/);
    return { ...running, address };
  } catch (e) {
    await running.stop();
    throw e;
  }
}

/**
 * Starts examples/server.ts (as {@linkcode startListening}) writing its
 * locations file to `locations`, with `args` after.
 */
export function startServer(
  perms: string[],
  locations: string,
  args: string[] = [],
): Promise<Listening> {
  return startListening(
    [...perms, `--allow-write=${locations}`],
    "examples/server.ts",
    ["--write-locations", locations, ...args],
  );
}
