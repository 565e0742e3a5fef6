/**
 * Flag parsing for the bench scripts (runtime-neutral, so the Node entry
 * points can be bundled with it): `--name value`, `--name=value`, bare
 * `--flag`, and leading positional words.
 *
 * @module
 */

/** Parsed arguments. */
export interface Args {
  /** Words before the first flag. */
  readonly positional: string[];
  /** Flags by name (without dashes); `true` for a bare flag. */
  readonly flags: Record<string, string | true>;
}

/**
 * Parses arguments.
 *
 * @param argv The arguments.
 * @param known The flag names accepted.
 * @returns The positional words and the flags.
 * @throws {Error} On an unknown flag.
 */
export function parseArgs(argv: readonly string[], known: readonly string[]): Args {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.includes(name)) throw new Error(`unknown flag --${name}`);
    if (eq >= 0) flags[name] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags[name] = argv[++i];
    else flags[name] = true;
  }
  return { positional, flags };
}

/**
 * A string flag.
 *
 * @param a The parsed arguments.
 * @param name The flag.
 * @param fallback The default; without one the flag is required.
 * @returns The value.
 */
export function str(a: Args, name: string, fallback?: string): string {
  const v = a.flags[name];
  if (v === undefined || v === true) {
    if (v === undefined && fallback !== undefined) return fallback;
    throw new Error(v === true ? `--${name} needs a value` : `--${name} is required`);
  }
  return v;
}

/**
 * A numeric flag (integer or decimal, >= 0).
 *
 * @param a The parsed arguments.
 * @param name The flag.
 * @param fallback The default.
 * @returns The value.
 */
export function num(a: Args, name: string, fallback: number): number {
  if (a.flags[name] === undefined) return fallback;
  const n = Number(str(a, name));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number >= 0`);
  return n;
}

/**
 * Splits `host:port` (or `[v6]:port`).
 *
 * @param text The address.
 * @returns Host and port.
 */
export function hostPort(text: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  if (m === null) throw new Error(`expected host:port, got ${JSON.stringify(text)}`);
  return { hostname: m[1] ?? m[2], port: Number(m[3]) };
}
