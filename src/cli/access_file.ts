/**
 * The `--allow FILE` flag of the proxy and the server (CLI glue: reads the
 * file): an allow list in the text form of `parseAccessRules` (lines `job
 * JOBID|*  state NAME|*  from CIDR|*`), made into the server's request
 * filter, and reloaded on demand (SIGHUP) with the old rules kept when the
 * new file is bad.
 *
 * @module
 */

import { accessFilter, AccessRulesError, parseAccessRules } from "../server/access_rules.ts";
import type { RequestFilter } from "../server/access_control.ts";
import { CliUsageError } from "./flags.ts";
import { SwappableFilter } from "./swappable_filter.ts";

/** An allow list read from a file. */
export interface AllowList {
  /** The request filter of the rules. */
  readonly filter: RequestFilter;
  /** A line to print, e.g. `allowing 3 rules from allow.txt`. */
  readonly summary: string;
}

/**
 * Reads and parses an allow-list file.
 *
 * @param file The file.
 * @returns The filter and a summary line.
 * @throws {CliUsageError} When the file cannot be read or a line does not
 * parse (naming the file, the line and the problem).
 */
export async function readAllowList(file: string): Promise<AllowList> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new CliUsageError(`--allow ${file}: cannot read it: ${(e as Error).message}`);
  }
  try {
    const rules = parseAccessRules(text);
    return {
      filter: accessFilter(rules),
      summary: `allowing ${rules.length} rule${rules.length === 1 ? "" : "s"} from ${file}` +
        (rules.length === 0 ? " (every request is refused)" : ""),
    };
  } catch (e) {
    if (e instanceof AccessRulesError) throw new CliUsageError(`--allow ${file}: ${e.message}`);
    throw e;
  }
}

/** The allow list a server runs with: its filter, and how to reload it. */
export class AllowFile {
  readonly #file: string;
  readonly #swappable: SwappableFilter;
  /** The summary of the rules read at start-up. */
  readonly summary: string;

  private constructor(file: string, first: AllowList) {
    this.#file = file;
    this.#swappable = new SwappableFilter(first.filter);
    this.summary = first.summary;
  }

  /**
   * Reads the file for the first time.
   *
   * @param file The file.
   * @returns The allow list.
   * @throws {CliUsageError} As {@linkcode readAllowList}.
   */
  static async open(file: string): Promise<AllowFile> {
    return new AllowFile(file, await readAllowList(file));
  }

  /** The filter to give the server; it follows reloads. */
  get filter(): RequestFilter {
    return this.#swappable.filter;
  }

  /**
   * Reads the file again; on success the new rules apply to the requests
   * filtered from now on, on failure the old ones stay.
   *
   * @returns The new summary.
   * @throws {CliUsageError} When the new file is bad (the old rules stay).
   */
  async reload(): Promise<string> {
    const next = await readAllowList(this.#file);
    this.#swappable.swap(next.filter);
    return next.summary;
  }
}
