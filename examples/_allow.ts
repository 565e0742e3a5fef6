/**
 * The `--allow FILE` flag of the proxy and server examples: an allow list in
 * the text form of `parseAccessRules` (lines `job JOBID|*  state NAME|*  from
 * CIDR|*`), made into the server's request filter.
 *
 * @module
 */

import { accessFilter, AccessRulesError, parseAccessRules, type RequestFilter } from "../mod.ts";
import { type Flags, stringFlag, UsageError } from "./_cli.ts";

/** The allow list a server runs with, if `--allow` is given. */
export interface AllowFlag {
  /** The request filter. */
  readonly filter: RequestFilter;
  /** A line to print at start-up, e.g. `allowing 3 rules from allow.txt`. */
  readonly summary: string;
}

/**
 * Reads and parses the `--allow` file.
 *
 * @param flags The flags.
 * @returns The filter, or `undefined` without `--allow`.
 * @throws {UsageError} When the file cannot be read or a line does not
 * parse (naming the file, the line and the problem).
 */
export async function allowFlag(flags: Flags): Promise<AllowFlag | undefined> {
  if (flags.allow === undefined) return undefined;
  const file = stringFlag(flags, "allow");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new UsageError(`--allow ${file}: cannot read it: ${(e as Error).message}`);
  }
  try {
    const rules = parseAccessRules(text);
    return {
      filter: accessFilter(rules),
      summary: `allowing ${rules.length} rule${rules.length === 1 ? "" : "s"} from ${file}` +
        (rules.length === 0 ? " (every request is refused)" : ""),
    };
  } catch (e) {
    if (e instanceof AccessRulesError) throw new UsageError(`--allow ${file}: ${e.message}`);
    throw e;
  }
}
