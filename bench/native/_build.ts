/**
 * Builds and starts the native upstream (`upstream.c`) for the bench
 * harnesses: compiles it with `gcc -O2` into a folder, writes its table file
 * (`write_table.ts`), starts it and writes the locations file of the bench
 * data set for its address. Deno only.
 *
 * @module
 */

import { benchLocations, buildBenchStates } from "../_dataset.ts";
import type { ListeningProcess, ProcessGroup } from "../_procs.ts";
import { encodeTable } from "./write_table.ts";

/** The C source. */
export const UPSTREAM_SOURCE: string = new URL("./upstream.c", import.meta.url).pathname;

/** A compiled upstream and its table. */
export interface NativeBuild {
  /** The executable. */
  readonly binary: string;
  /** The table file. */
  readonly table: string;
  /** The `gcc --version` first line. */
  readonly compiler: string;
}

/** Thrown when gcc is missing or the compile fails. */
export class NativeBuildError extends Error {
  override readonly name = "NativeBuildError";
}

/**
 * Compiles the upstream and writes its table into `dir`.
 *
 * @param dir A folder to write into.
 * @param keys Keys per state (the load generator's `--keys`).
 * @returns The executable and the table.
 * @throws {NativeBuildError} When gcc is missing or fails.
 */
export async function buildNativeUpstream(dir: string, keys = 1000): Promise<NativeBuild> {
  let version: Deno.CommandOutput;
  try {
    version = await new Deno.Command("gcc", { args: ["--version"], stdout: "piped" }).output();
  } catch {
    throw new NativeBuildError(
      "--server native needs gcc (a C compiler) on PATH to build bench/native/upstream.c; " +
        "none was found",
    );
  }
  const binary = `${dir}/qs-native-upstream`;
  const r = await new Deno.Command("gcc", {
    args: ["-O2", "-Wall", "-o", binary, UPSTREAM_SOURCE],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new NativeBuildError(
      `gcc failed on ${UPSTREAM_SOURCE}:\n${new TextDecoder().decode(r.stderr)}`,
    );
  }
  const table = `${dir}/qs-native-table.bin`;
  await Deno.writeFile(table, encodeTable(keys).bytes);
  return {
    binary,
    table,
    compiler: new TextDecoder().decode(version.stdout).split("\n")[0],
  };
}

/**
 * Compiles the upstream for a harness: on a {@linkcode NativeBuildError},
 * prints its message to stderr and returns `null` (the harness exits 2).
 *
 * @param dir A folder to write into.
 * @returns The build, or `null` when gcc is missing or fails.
 */
export async function buildNativeOrSay(dir: string): Promise<NativeBuild | null> {
  try {
    return await buildNativeUpstream(dir);
  } catch (e) {
    if (!(e instanceof NativeBuildError)) throw e;
    console.error(e.message);
    return null;
  }
}

/**
 * Starts the upstream and, when asked, writes the bench locations for it.
 *
 * @param group The process group to start it in.
 * @param build The compiled upstream.
 * @param locations Where to write the locations document, or `null`.
 * @returns The process.
 */
export async function startNativeUpstream(
  group: ProcessGroup,
  build: NativeBuild,
  locations: string | null,
): Promise<ListeningProcess> {
  const p = await group.spawnListening(
    "server",
    build.binary,
    ["--table", build.table],
    `state server (native upstream.c, pre-encoded answers; ${build.compiler})`,
  );
  if (locations !== null) {
    const i = p.address.lastIndexOf(":");
    const address = { hostname: p.address.slice(0, i), port: Number(p.address.slice(i + 1)) };
    // The states only give the ids and names here: one key each is enough.
    await Deno.writeTextFile(
      locations,
      JSON.stringify(benchLocations(buildBenchStates(1), address)),
    );
  }
  return p;
}
