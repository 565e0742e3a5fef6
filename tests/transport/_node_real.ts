/**
 * Runs a `tests/node/*.node.ts` file under the real `node` binary: bundles
 * it with `deno bundle` (`node:*` stays external), checks the bundle does
 * not reference Deno APIs, runs `node --test` on it and checks the TAP
 * summary.
 */

import { assert } from "../_assert.ts";
import { toolVersion } from "./_tool_version.ts";

const decoder = new TextDecoder();

/** The `node --version` line, or `null` without `node` on the PATH. */
export const NODE_VERSION: string | null = await toolVersion("node", ["--version"]);

/** What {@linkcode runUnderNode} runs and expects. */
export interface NodeRun {
  /** The `.node.ts` file, relative to `tests/node/`. */
  readonly file: string;
  /** The temporary directory: holds the bundle; `node` runs in it. */
  readonly dir: string;
  /** The run fails unless more than this many tests pass. */
  readonly morePassesThan: number;
  /** Extra environment for `node`. */
  readonly env?: Record<string, string>;
}

/** Bundles `run.file` into `run.dir` and runs it under `node --test`. */
export async function runUnderNode(run: NodeRun): Promise<void> {
  const entry = new URL(`../node/${run.file}`, import.meta.url).pathname;
  const bundle = `${run.dir}/${run.file.replace(/\.ts$/, ".mjs")}`;
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform=deno", "--format=esm", "-o", bundle, entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(
    bundled.success,
    `deno bundle failed:\n${decoder.decode(bundled.stdout)}${decoder.decode(bundled.stderr)}`,
  );
  const source = await Deno.readTextFile(bundle);
  assert(!/\bDeno\.[a-z]/.test(source), "the bundle references Deno APIs");

  const node = await new Deno.Command("node", {
    args: ["--test", "--test-reporter=tap", bundle],
    stdout: "piped",
    stderr: "piped",
    cwd: run.dir,
    ...(run.env === undefined ? {} : { env: run.env }),
  }).output();
  const output = decoder.decode(node.stdout) + decoder.decode(node.stderr);
  assert(node.code === 0, `node --test exited with ${node.code}:\n${output}`);
  const pass = /^# pass (\d+)$/m.exec(output);
  const fail = /^# fail (\d+)$/m.exec(output);
  assert(
    pass !== null && Number(pass[1]) > run.morePassesThan && fail?.[1] === "0",
    `unexpected:\n${output}`,
  );
}
