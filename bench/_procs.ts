/**
 * Child processes for the bench harnesses: start one and wait for its
 * `listening on HOST:PORT` line, bundle the Node entry points, and stop
 * exactly the processes started here, by pid. Deno only.
 *
 * @module
 */

import type { Shape } from "./_flags.ts";
import type { LoadReport } from "./load.ts";

/** The bench folder (with a trailing slash). */
export const BENCH_DIR: string = new URL(".", import.meta.url).pathname;

/** The Deno executable running this script. */
export const DENO: string = Deno.execPath();

/** A started server process. */
export interface ListeningProcess {
  /** A short name. */
  readonly name: string;
  /** The process. */
  readonly child: Deno.ChildProcess;
  /** Its pid. */
  readonly pid: number;
  /** `host:port` it printed. */
  readonly address: string;
  /** What it is, for the report. */
  readonly description: string;
  /** When it was spawned (`performance.now()`). */
  readonly spawnedAt: number;
  /** Settles once its stdout has ended (after its exit). */
  readonly drained: Promise<void>;
}

/** Receives a process's stdout, with the arrival time (`performance.now()`) of each chunk. */
export type OutputListener = (text: string, at: number) => void;

/** The processes one harness started; `stopAll` ends them, by pid. */
export class ProcessGroup {
  readonly #children = new Set<Deno.ChildProcess>();

  /**
   * Starts a server process and waits (up to 30 s) for its
   * `listening on HOST:PORT` line; its later output is drained (and given
   * to `onOutput` when there is one, from the start).
   *
   * @param name A short name.
   * @param cmd The executable.
   * @param args Its arguments.
   * @param description What it is.
   * @param onOutput Receives its stdout, chunk by chunk, with arrival times.
   * @returns The process and its address.
   */
  async spawnListening(
    name: string,
    cmd: string,
    args: string[],
    description: string,
    onOutput?: OutputListener,
  ): Promise<ListeningProcess> {
    const spawnedAt = performance.now();
    const child = new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    this.#children.add(child);
    child.status.then(() => this.#children.delete(child));
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const deadline = setTimeout(() => reader.cancel().catch(() => {}), 30_000);
    try {
      for (;;) {
        const m = /listening on (\S+)/.exec(text);
        if (m !== null) {
          // Keep draining its output so that it never blocks on a full pipe.
          const drained = (async () => {
            try {
              for (;;) {
                const r = await reader.read();
                if (r.done) break;
                onOutput?.(r.value, performance.now());
              }
            } catch {
              // gone
            }
          })();
          return { name, child, pid: child.pid, address: m[1], description, spawnedAt, drained };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`${name} did not start (output: ${JSON.stringify(text)})`);
        onOutput?.(value, performance.now());
        text += value;
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  /**
   * Runs a process to its end, killed after `boundSeconds`.
   *
   * @param cmd The executable.
   * @param args Its arguments.
   * @param boundSeconds The time bound.
   * @returns Its output.
   */
  async run(cmd: string, args: string[], boundSeconds: number): Promise<Deno.CommandOutput> {
    const child = new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    this.#children.add(child);
    const timer = setTimeout(() => kill(child, "SIGKILL"), boundSeconds * 1000);
    try {
      return await child.output();
    } finally {
      clearTimeout(timer);
      this.#children.delete(child);
    }
  }

  /**
   * Stops one process: SIGTERM, then SIGKILL after 3 s.
   *
   * @param child The process.
   */
  async stop(child: Deno.ChildProcess): Promise<void> {
    kill(child, "SIGTERM");
    const timer = setTimeout(() => kill(child, "SIGKILL"), 3000);
    await child.status.catch(() => {});
    clearTimeout(timer);
    this.#children.delete(child);
  }

  /** Stops every process started here. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#children].map((c) => this.stop(c)));
  }

  /** Kills every process started here at once (for a signal handler). */
  killAllNow(): void {
    for (const c of this.#children) kill(c, "SIGKILL");
  }
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/**
 * Bundles a bench entry point for Node (`deno bundle`).
 *
 * @param entry The file in `bench/`.
 * @param out The output `.mjs`.
 * @returns Whether it worked.
 */
export async function bundleForNode(entry: string, out: string): Promise<boolean> {
  const r = await new Deno.Command(DENO, {
    args: ["bundle", "--platform", "deno", "-o", out, `${BENCH_DIR}${entry}`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) console.error(new TextDecoder().decode(r.stderr));
  return r.success;
}

/** @returns Whether `node` runs. */
export async function hasNode(): Promise<boolean> {
  try {
    return (await new Deno.Command("node", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/** @returns The `node --version` text, or `null`. */
export async function nodeVersion(): Promise<string | null> {
  try {
    const r = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
    return r.success ? new TextDecoder().decode(r.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** @returns The CPU model from /proc/cpuinfo. */
export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"));
    return m?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** A harness's temporary folder and processes, cleaned up by `close()` or on SIGINT. */
export interface Harness {
  /** The temporary folder. */
  readonly tmp: string;
  /** The processes started. */
  readonly group: ProcessGroup;
  /** Stops every process and removes the folder (and the SIGINT handler). */
  close(): Promise<void>;
}

/**
 * Makes a temporary folder and a process group; on SIGINT, kills the
 * processes, removes the folder and exits with 130.
 *
 * @param prefix The folder's name prefix.
 * @returns The harness.
 */
export async function openHarness(prefix: string): Promise<Harness> {
  const tmp = await Deno.makeTempDir({ prefix });
  const group = new ProcessGroup();
  const onSignal = () => {
    group.killAllNow();
    Deno.removeSync(tmp, { recursive: true });
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  return {
    tmp,
    group,
    async close() {
      Deno.removeSignalListener("SIGINT", onSignal);
      await group.stopAll();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    },
  };
}

/** One run of the load generator (`load.ts`), as {@linkcode loadArgs} words it. */
export interface LoadRun {
  /** The address it loads. */
  readonly target: string;
  /** `proxy` (client requests) or `direct` (internal requests to the state server). */
  readonly mode: "proxy" | "direct";
  /** Connections and depth. */
  readonly shape: Shape;
  /** Seconds measured. */
  readonly duration: number;
  /** Seconds before the window. */
  readonly warmup: number;
  /** The seed of its keys. */
  readonly seed: number;
  /** The processes it watches (CPU, RSS), by name. */
  readonly pids: ReadonlyArray<readonly [string, number]>;
}

/**
 * The arguments of `load.ts` for one run.
 *
 * @param run The run.
 * @returns The arguments (without `--json`).
 */
export function loadArgs(run: LoadRun): string[] {
  return [
    "--target",
    run.target,
    "--mode",
    run.mode,
    "--connections",
    String(run.shape.connections),
    "--depth",
    String(run.shape.depth),
    "--duration",
    String(run.duration),
    "--warmup",
    String(run.warmup),
    "--seed",
    String(run.seed),
    "--pids",
    run.pids.map(([n, p]) => `${n}=${p}`).join(","),
  ];
}

/**
 * Runs the load generator (`load.ts --json`) as its own process.
 *
 * @param group The harness's processes.
 * @param args Its arguments.
 * @param boundSeconds When it is killed.
 * @returns Its report, or why it failed.
 */
export async function runLoadProcess(
  group: ProcessGroup,
  args: string[],
  boundSeconds: number,
): Promise<LoadReport | string> {
  const out = await group.run(
    DENO,
    ["run", "-A", `${BENCH_DIR}load.ts`, ...args, "--json"],
    boundSeconds,
  );
  const text = new TextDecoder().decode(out.stdout).trim();
  try {
    return JSON.parse(text.split("\n").pop()!) as LoadReport;
  } catch {
    return `load.ts failed (code ${out.code}): ${new TextDecoder().decode(out.stderr).trim()}`;
  }
}

/**
 * For a bench target process: settles on SIGINT or SIGTERM (then no longer
 * listens for them).
 *
 * @returns When to stop.
 */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
}
