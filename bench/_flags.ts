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

/** A load shape: connections × requests in flight on each. */
export interface Shape {
  /** `KxD`. */
  readonly label: string;
  /** Connections. */
  readonly connections: number;
  /** Requests in flight per connection. */
  readonly depth: number;
}

/**
 * Parses a shape `KxD`.
 *
 * @param text The shape.
 * @param flag The flag it came from, for the error.
 * @returns The shape.
 * @throws {Error} When it is not `KxD`.
 */
export function parseShape(text: string, flag: string): Shape {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (m === null) throw new Error(`--${flag}: expected KxD, got ${text}`);
  return { label: `${m[1]}x${m[2]}`, connections: Number(m[1]), depth: Number(m[2]) };
}

/**
 * `--targets`: a comma-separated list of names, each one of `known`.
 *
 * @param a The parsed arguments.
 * @param known The targets there are.
 * @param fallback The default list.
 * @returns The targets, in the order given.
 * @throws {Error} On an unknown target.
 */
export function targetsFlag<T extends string>(a: Args, known: readonly T[], fallback: string): T[] {
  return str(a, "targets", fallback).split(",").map((t) => {
    if (!(known as readonly string[]).includes(t)) throw new Error(`unknown target ${t}`);
    return t as T;
  });
}

/** The flags every round-based harness takes (see {@linkcode roundFlags}). */
export const ROUND_FLAGS: readonly string[] = [
  "rounds",
  "duration",
  "warmup",
  "shapes",
  "targets",
  "seed",
  "out",
  "help",
];

/** What {@linkcode roundFlags} reads. */
export interface RoundFlags {
  /** `--rounds` (3; at least 1). */
  readonly rounds: number;
  /** `--duration`, seconds of each measured window. */
  readonly duration: number;
  /** `--warmup`, seconds before each window (1). */
  readonly warmup: number;
  /** `--seed` of the first round (1; each round adds 1). */
  readonly seed0: number;
  /** `--shapes` (1x1,1x128,16x32). */
  readonly shapes: Shape[];
}

/**
 * Reads the flags of a round-based harness.
 *
 * @param a The parsed arguments.
 * @param duration The default of `--duration`.
 * @returns The rounds, times, seed and shapes.
 */
export function roundFlags(a: Args, duration: number): RoundFlags {
  return {
    rounds: Math.max(1, Math.floor(num(a, "rounds", 3))),
    duration: num(a, "duration", duration),
    warmup: num(a, "warmup", 1),
    seed0: Math.floor(num(a, "seed", 1)),
    shapes: str(a, "shapes", "1x1,1x128,16x32").split(",").map((s) => parseShape(s, "shapes")),
  };
}
