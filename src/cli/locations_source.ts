/**
 * The proxy's `--locations FILE|URL` (CLI glue: reads the file): the
 * oracles it gives the proxy, and a reload (SIGHUP) that swaps them in
 * place, keeping the old ones when the new file is bad.
 *
 * A file's jobs each get the file's oracle; a reload registers the new
 * file's oracle for each of its jobs (dropping their cached locations) and
 * removes the jobs the new file no longer lists. A URL is one oracle for
 * every job (the all-zero default job); a reload replaces it with a fresh
 * one, which drops every cached location.
 *
 * @module
 */

import { HttpLocationOracle, StaticLocationOracle } from "../oracle/static_oracle.ts";
import { JobId } from "../wire/ids.ts";
import type { KvStateClientProxy } from "../proxy/kv_state_client_proxy.ts";
import { CliUsageError } from "./flags.ts";

const isUrl = (source: string) => /^https?:\/\//.test(source);

async function readStatic(source: string): Promise<StaticLocationOracle> {
  let text: string;
  try {
    text = await Deno.readTextFile(source);
  } catch (e) {
    throw new CliUsageError(`--locations ${source}: cannot read it: ${(e as Error).message}`);
  }
  try {
    return new StaticLocationOracle(JSON.parse(text));
  } catch (e) {
    throw new CliUsageError(`--locations ${source}: ${(e as Error).message}`);
  }
}

/** The locations a proxy serves, bound to it. */
export class LocationsSource {
  readonly #source: string;
  readonly #proxy: KvStateClientProxy;
  #jobs: string[] = [];

  private constructor(source: string, proxy: KvStateClientProxy) {
    this.#source = source;
    this.#proxy = proxy;
  }

  /**
   * Reads the locations and registers their oracles with the proxy.
   *
   * @param source A locations file, or an `http(s)://` URL serving one.
   * @param proxy The proxy.
   * @returns The source, for reloads.
   * @throws {CliUsageError} When the file cannot be read or parsed (naming the field).
   */
  static async open(source: string, proxy: KvStateClientProxy): Promise<LocationsSource> {
    const s = new LocationsSource(source, proxy);
    await s.#load();
    return s;
  }

  async #load(): Promise<number> {
    if (isUrl(this.#source)) {
      // Jobs are not known up front: the oracle answers for every job.
      this.#proxy.updateKvStateLocationOracle(
        JobId.DEFAULT,
        new HttpLocationOracle(this.#source),
      );
      return 0;
    }
    const oracle = await readStatic(this.#source);
    const jobs = oracle.jobIds();
    for (const hex of jobs) this.#proxy.updateKvStateLocationOracle(JobId.fromHex(hex), oracle);
    for (const hex of this.#jobs) {
      if (!jobs.includes(hex)) this.#proxy.updateKvStateLocationOracle(JobId.fromHex(hex), null);
    }
    this.#jobs = jobs;
    return jobs.length;
  }

  /**
   * Reads the locations again and swaps them in; on failure the proxy keeps
   * the old ones.
   *
   * @returns A line describing the outcome, e.g. `reloaded --locations l.json: 2 jobs`.
   * @throws {CliUsageError} When the new file cannot be read or parsed.
   */
  async reload(): Promise<string> {
    const n = await this.#load();
    return isUrl(this.#source)
      ? `reloaded --locations ${this.#source}: cached locations dropped`
      : `reloaded --locations ${this.#source}: ${n} job${n === 1 ? "" : "s"}`;
  }
}
