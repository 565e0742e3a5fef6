/**
 * The package version, as the CLI's `--version` prints it. A test checks it
 * against `deno.json` ("version"), so a release bumps both.
 *
 * @module
 */

/** The version of `@kvstate/queryable-state` (the same as `deno.json`'s). */
export const VERSION = "0.1.0";
