/**
 * Small helpers shared by the examples: flag parsing, typed values from text
 * or JSON, and printing.
 *
 * @module
 */

import { fromHex, toHex, type TypeName } from "../mod.ts";

/** The types the examples accept on the command line and in JSON. */
export const CLI_TYPES = ["string", "int", "long", "double", "boolean", "bytes"] as const;
/** One of {@linkcode CLI_TYPES}. */
export type CliType = typeof CLI_TYPES[number];

/** Parsed flags: `--name value` and `--flag` (true). */
export type Flags = Record<string, string | true>;

/** A bad command line: reported with the usage text, exit code 2. */
export class UsageError extends Error {}

/**
 * Runs an example's main function: parses the flags (answering `--help`),
 * reports a {@linkcode UsageError} with the usage text (exit 2), and exits
 * with the code `main` returns.
 *
 * @param usage The usage line.
 * @param known The flag names accepted (`help` is added).
 * @param main The program.
 */
export async function runCli(
  usage: string,
  known: readonly string[],
  main: (flags: Flags) => Promise<number>,
): Promise<never> {
  let code: number;
  try {
    const flags = parseFlags(Deno.args, [...known, "help"]);
    if (flags.help) {
      console.log(usage);
      code = 0;
    } else {
      code = await main(flags);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${usage}`);
    code = 2;
  }
  Deno.exit(code);
}

/**
 * Parses `--name value`, `--name=value` and bare `--flag`.
 *
 * @param args The arguments.
 * @param known The flag names accepted (without dashes).
 * @returns The flags.
 * @throws {Error} On an unknown flag or a stray argument.
 */
export function parseFlags(args: readonly string[], known: readonly string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.includes(name)) throw new UsageError(`unknown flag --${name}`);
    if (eq >= 0) flags[name] = a.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith("--")) flags[name] = args[++i];
    else flags[name] = true;
  }
  return flags;
}

/**
 * A string flag's value.
 *
 * @param flags The flags.
 * @param name The flag.
 * @param fallback The default; without one the flag is required.
 * @returns The value.
 */
export function stringFlag(flags: Flags, name: string, fallback?: string): string {
  const v = flags[name];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`--${name} is required`);
  }
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

/**
 * An integer flag's value.
 *
 * @param flags The flags.
 * @param name The flag.
 * @param fallback The default.
 * @returns The value.
 */
export function intFlag<F extends number | undefined>(
  flags: Flags,
  name: string,
  fallback: F,
): number | F {
  if (flags[name] === undefined) return fallback;
  const n = Number(stringFlag(flags, name));
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(`--${name} must be a non-negative integer`);
  }
  return n;
}

/**
 * Checks a type name.
 *
 * @param name The name.
 * @param field Where it came from, for the error.
 * @returns The type.
 */
export function cliType(name: unknown, field: string): CliType {
  if (typeof name !== "string" || !(CLI_TYPES as readonly string[]).includes(name)) {
    throw new Error(
      `${field}: expected one of ${CLI_TYPES.join(", ")}, got ${JSON.stringify(name)}`,
    );
  }
  return name as CliType;
}

/**
 * Converts a JSON or command-line value to the JavaScript value of a type.
 *
 * @param type The type.
 * @param v The value (a string from the command line, or JSON).
 * @param field Where it came from, for the error.
 * @returns The value for the serializer.
 */
export function toTyped(type: CliType, v: unknown, field: string): unknown {
  const bad = (what: string) =>
    new Error(`${field}: expected ${what} for type ${type}, got ${JSON.stringify(v)}`);
  switch (type) {
    case "string":
      if (typeof v !== "string") throw bad("a string");
      return v;
    case "int": {
      const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
        throw bad("a 32-bit integer");
      }
      return n;
    }
    case "long": {
      if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
      if (typeof v === "string" && /^-?\d+$/.test(v.trim())) {
        const b = BigInt(v.trim());
        if (b >= -(2n ** 63n) && b < 2n ** 63n) return b;
      }
      throw bad("a 64-bit integer (a JSON number or a decimal string)");
    }
    case "double": {
      const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
      if (typeof n !== "number" || Number.isNaN(n) && v !== "NaN") throw bad("a number");
      return n;
    }
    case "boolean":
      if (v === true || v === "true") return true;
      if (v === false || v === "false") return false;
      throw bad("true or false");
    case "bytes":
      if (typeof v !== "string") throw bad("a hex string");
      try {
        return fromHex(v);
      } catch {
        throw bad("a hex string");
      }
  }
}

/** @returns The serializer type name of a CLI type (they coincide). */
export function typeName(t: CliType): TypeName {
  return t;
}

/**
 * Renders a decoded value as JSON: bigints as decimal strings' digits
 * unquoted, byte arrays as hex strings.
 *
 * @param v The value.
 * @returns The text.
 */
export function show(v: unknown): string {
  const marker = "__bigint__:";
  const json = JSON.stringify(v, (_k, x) => {
    if (typeof x === "bigint") return marker + x.toString();
    if (x instanceof Uint8Array) return toHex(x);
    return x;
  });
  return json.replace(new RegExp(`"${marker}(-?\\d+)"`, "g"), "$1");
}

/**
 * Resolves when SIGINT or SIGTERM arrives.
 *
 * @returns The signal's name.
 */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handlers: Array<[Deno.Signal, () => void]> = [];
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      const h = () => {
        for (const [s, f] of handlers) Deno.removeSignalListener(s, f);
        resolve(sig);
      };
      handlers.push([sig, h]);
      Deno.addSignalListener(sig, h);
    }
  });
}
