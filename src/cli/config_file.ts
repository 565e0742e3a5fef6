/**
 * The `--config` file (CLI glue: reads the file): read once as the flags
 * are resolved, and again after start-up for what SIGHUP reloads from it (a
 * static upstream list). Both readings parse and refuse it the same way.
 *
 * @module
 */

import { CliUsageError } from "./flags.ts";

function cannotRead(file: string, e: unknown): CliUsageError {
  return new CliUsageError(`--config ${file}: cannot read it: ${(e as Error).message}`);
}

function parseConfig(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliUsageError(`--config ${file}: not JSON: ${(e as Error).message}`);
  }
}

/**
 * Reads a config file and parses its JSON, as the flags are resolved
 * (synchronously: before the command starts).
 *
 * @param file The file `--config` (or `QS_CONFIG`) named.
 * @returns The parsed document (checked by the caller).
 * @throws {CliUsageError} When it cannot be read or is not JSON (naming the file).
 */
export function readConfigJsonSync(file: string): unknown {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    throw cannotRead(file, e);
  }
  return parseConfig(file, text);
}

/**
 * Reads a config file and parses its JSON, as at start-up.
 *
 * @param file The file `--config` (or `QS_CONFIG`) named.
 * @returns The parsed document (checked by the caller).
 * @throws {CliUsageError} When it cannot be read or is not JSON (naming the file).
 */
export async function readConfigJson(file: string): Promise<unknown> {
  const text = await Deno.readTextFile(file).catch((e) => {
    throw cannotRead(file, e);
  });
  return parseConfig(file, text);
}
