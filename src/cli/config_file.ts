/**
 * The `--config` file read again after start-up (CLI glue: reads the file),
 * for what SIGHUP reloads from it (a static upstream list).
 *
 * @module
 */

import { CliUsageError } from "./flags.ts";

/**
 * Reads a config file and parses its JSON, as at start-up.
 *
 * @param file The file `--config` (or `QS_CONFIG`) named.
 * @returns The parsed document (checked by the caller).
 * @throws {CliUsageError} When it cannot be read or is not JSON (naming the file).
 */
export async function readConfigJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new CliUsageError(`--config ${file}: cannot read it: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliUsageError(`--config ${file}: not JSON: ${(e as Error).message}`);
  }
}
