/**
 * The CLI's flags from their three sources, pure (no I/O): the command line
 * (`--name value`, `--name=value`, bare `--flag`), environment variables
 * (`--foo-bar` ↔ `QS_FOO_BAR`) and a JSON config object keyed by flag name.
 * Each source is parsed and typed on its own, so an error names where the
 * bad value came from; {@linkcode resolveFlags} merges them with the
 * precedence flag > environment > config > default.
 *
 * @module
 */

/** How a flag's value is typed. */
export type FlagKind = "string" | "integer" | "boolean";

/** A typed flag value. */
export type FlagValue = string | number | boolean;

/** One flag of a command: its name, type, default and help. */
export interface FlagSpec {
  /** The name without dashes, e.g. `max-frame-length`. */
  readonly name: string;
  /** `string`; `integer` (a non-negative safe integer); `boolean` (takes no value on the command line). */
  readonly kind: FlagKind;
  /** What the value looks like in the help, e.g. `FILE`, `N`, `HOST:PORT`. */
  readonly placeholder?: string;
  /** The default; absent when the flag is optional or required. */
  readonly default?: FlagValue;
  /** The default as the help shows it when there is no typed default, e.g. `none (the demo)`. */
  readonly defaultText?: string;
  /** Whether the command cannot run without it. */
  readonly required?: boolean;
  /** Only on the command line (no environment variable, no config key): `--help`, `--version`, `--config`'s own key. */
  readonly commandLineOnly?: boolean;
  /** Not read from the config file (only `--config` itself). */
  readonly notInConfig?: boolean;
  /**
   * A string flag that may be given several times on the command line: the
   * values are joined with commas (`--proxy a --proxy b` is `--proxy a,b`).
   */
  readonly repeatable?: boolean;
  /** One line of help. */
  readonly description: string;
}

/** A bad command line, environment variable or config file: reported with the usage text, exit code 2. */
export class CliUsageError extends Error {
  /** The class name, as `Error.prototype.name` reports it. */
  override get name(): string {
    return "CliUsageError";
  }
}

/** A value with the place it came from (`--port`, `QS_PORT`, `proxy.json: port`), for error messages. */
export interface SourcedValue {
  /** The typed value. */
  readonly value: FlagValue;
  /** Where it came from. */
  readonly source: string;
}

/** The prefix of the environment variables. */
export const ENV_PREFIX = "QS_";

/**
 * The environment variable of a flag: `QS_` and the name in upper case with
 * dashes as underscores (`max-frame-length` → `QS_MAX_FRAME_LENGTH`).
 *
 * @param flag The flag name, without dashes.
 * @returns The variable's name.
 */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
}

function typedFromText(spec: FlagSpec, text: string, source: string): FlagValue {
  switch (spec.kind) {
    case "string":
      return text;
    case "integer": {
      const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n)) {
        throw new CliUsageError(
          `${source} must be a non-negative integer, got ${JSON.stringify(text)}`,
        );
      }
      return n;
    }
    case "boolean":
      if (text === "true" || text === "1") return true;
      if (text === "false" || text === "0") return false;
      throw new CliUsageError(`${source} must be true or false, got ${JSON.stringify(text)}`);
  }
}

/**
 * Parses a command line: `--name value`, `--name=value`, and bare `--flag`
 * for boolean flags (which never take the next argument; `--flag=false`
 * turns one off). A later occurrence of a flag replaces an earlier one, but
 * for a `repeatable` flag, whose occurrences are joined with commas.
 *
 * @param args The arguments after the command.
 * @param specs The flags the command accepts.
 * @returns The typed values given, by flag name.
 * @throws {CliUsageError} On an unknown flag (`unknown flag --what`), a
 * stray argument, a missing value (`--allow needs a value`) or a bad one.
 */
export function parseCommandLine(
  args: readonly string[],
  specs: readonly FlagSpec[],
): Map<string, SourcedValue> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out = new Map<string, SourcedValue>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) throw new CliUsageError(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const spec = byName.get(name);
    if (spec === undefined) throw new CliUsageError(`unknown flag --${name}`);
    const source = `--${name}`;
    let text: string;
    if (eq >= 0) text = a.slice(eq + 1);
    else if (spec.kind === "boolean") text = "true";
    else if (i + 1 < args.length && !args[i + 1].startsWith("--")) text = args[++i];
    else throw new CliUsageError(`--${name} needs a value`);
    const earlier = spec.repeatable ? out.get(name) : undefined;
    if (earlier !== undefined) text = `${earlier.value},${text}`;
    out.set(name, { value: typedFromText(spec, text, source), source });
  }
  return out;
}

/**
 * Reads the flags' environment variables (see {@linkcode envName}); an
 * empty variable counts as unset. Flags marked `commandLineOnly` have none.
 *
 * @param specs The flags.
 * @param getEnv Returns a variable's value, or `undefined` (when unset or
 * not readable).
 * @returns The typed values found, by flag name.
 * @throws {CliUsageError} On a bad value, naming the variable.
 */
export function parseEnvironment(
  specs: readonly FlagSpec[],
  getEnv: (name: string) => string | undefined,
): Map<string, SourcedValue> {
  const out = new Map<string, SourcedValue>();
  for (const spec of specs) {
    if (spec.commandLineOnly) continue;
    const variable = envName(spec.name);
    const text = getEnv(variable);
    if (text === undefined || text === "") continue;
    out.set(spec.name, { value: typedFromText(spec, text, variable), source: variable });
  }
  return out;
}

/**
 * Reads a config document: a JSON object whose keys are flag names
 * (`{"port": 9069, "locations": "locations.json", "upstream-tls": true}`).
 * Strings may also be given as numbers (`"port": 9069`), integers as
 * decimal strings.
 *
 * @param doc The parsed JSON.
 * @param specs The flags of the command.
 * @param file The file's name, for the errors.
 * @returns The typed values, by flag name.
 * @throws {CliUsageError} When the document is not an object, on an unknown
 * key (naming it) or a value of the wrong type.
 */
export function parseConfig(
  doc: unknown,
  specs: readonly FlagSpec[],
  file: string,
): Map<string, SourcedValue> {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new CliUsageError(`${file}: expected a JSON object keyed by flag name`);
  }
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out = new Map<string, SourcedValue>();
  for (const [key, raw] of Object.entries(doc)) {
    const spec = byName.get(key);
    const source = `${file}: ${key}`;
    if (spec === undefined || spec.commandLineOnly || spec.notInConfig) {
      throw new CliUsageError(`${file}: unknown key ${JSON.stringify(key)}`);
    }
    let value: FlagValue;
    if (spec.kind === "boolean") {
      if (typeof raw !== "boolean") throw new CliUsageError(`${source} must be true or false`);
      value = raw;
    } else if (typeof raw === "string") {
      value = typedFromText(spec, raw, source);
    } else if (typeof raw === "number" && Number.isFinite(raw)) {
      value = typedFromText(spec, String(raw), source);
    } else {
      throw new CliUsageError(
        `${source} must be ${spec.kind === "integer" ? "a non-negative integer" : "a string"}`,
      );
    }
    out.set(key, { value, source });
  }
  return out;
}

/**
 * The flags of one run, merged: a value from the command line beats one
 * from the environment, which beats the config file, which beats the
 * flag's default.
 */
export class ResolvedFlags {
  readonly #specs: Map<string, FlagSpec>;
  readonly #values: Map<string, SourcedValue>;

  /**
   * Merges the sources.
   *
   * @param specs The flags of the command.
   * @param sources The sources, highest precedence first.
   */
  constructor(specs: readonly FlagSpec[], sources: readonly Map<string, SourcedValue>[]) {
    this.#specs = new Map(specs.map((s) => [s.name, s]));
    this.#values = new Map();
    for (const source of sources) {
      for (const [name, v] of source) if (!this.#values.has(name)) this.#values.set(name, v);
    }
  }

  #spec(name: string): FlagSpec {
    const spec = this.#specs.get(name);
    if (spec === undefined) throw new TypeError(`no flag --${name} in this command`);
    return spec;
  }

  /**
   * Whether a source gave the flag (its default does not count).
   *
   * @param name The flag.
   * @returns `true` when given.
   */
  has(name: string): boolean {
    this.#spec(name);
    return this.#values.has(name);
  }

  /**
   * Where the flag's value came from: `--port`, `QS_PORT`, `proxy.json:
   * port`, or `default`.
   *
   * @param name The flag.
   * @returns The source.
   */
  source(name: string): string {
    this.#spec(name);
    return this.#values.get(name)?.source ?? "default";
  }

  /**
   * The flag's value, or its default.
   *
   * @param name The flag.
   * @returns The value, or `undefined` when neither given nor defaulted.
   */
  value(name: string): FlagValue | undefined {
    return this.#values.get(name)?.value ?? this.#spec(name).default;
  }

  /**
   * A string flag's value, or its default.
   *
   * @param name The flag.
   * @returns The value, `undefined` when absent without a default.
   * @throws {CliUsageError} When the flag is required and absent (`--proxy is required`).
   */
  string(name: string): string | undefined {
    const v = this.value(name);
    if (v === undefined && this.#spec(name).required) {
      throw new CliUsageError(`--${name} is required`);
    }
    return v === undefined ? undefined : String(v);
  }

  /**
   * A required string flag's value.
   *
   * @param name The flag.
   * @returns The value.
   * @throws {CliUsageError} When absent (`--proxy is required`).
   */
  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw new CliUsageError(`--${name} is required`);
    return v;
  }

  /**
   * An integer flag's value, or its default.
   *
   * @param name The flag.
   * @returns The value, `undefined` when absent without a default.
   */
  integer(name: string): number | undefined {
    const v = this.value(name);
    return v === undefined ? undefined : Number(v);
  }

  /**
   * A boolean flag's value (`false` when absent without a default).
   *
   * @param name The flag.
   * @returns The value.
   */
  boolean(name: string): boolean {
    return this.value(name) === true;
  }
}

/** Where a command's flags come from, for {@linkcode resolveFlags}. */
export interface FlagSources {
  /** The command line after the command. */
  readonly args: readonly string[];
  /** Reads an environment variable (`undefined` when unset or unreadable). Default: none. */
  readonly getEnv?: (name: string) => string | undefined;
  /** Reads the config file named by `--config`/`QS_CONFIG` and parses its JSON. Default: none. */
  readonly readConfig?: (file: string) => unknown;
}

/**
 * Resolves a command's flags from the command line, the environment and the
 * config file (`--config FILE`, or `QS_CONFIG`), with the precedence flag >
 * environment > config > default.
 *
 * @param specs The flags of the command (including `config`).
 * @param sources The sources.
 * @returns The merged flags.
 * @throws {CliUsageError} From any source, naming it.
 */
export function resolveFlags(specs: readonly FlagSpec[], sources: FlagSources): ResolvedFlags {
  const commandLine = parseCommandLine(sources.args, specs);
  const env = parseEnvironment(specs, sources.getEnv ?? (() => undefined));
  let config = new Map<string, SourcedValue>();
  const configFile = commandLine.get("config") ?? env.get("config");
  if (configFile !== undefined && specs.some((s) => s.name === "config")) {
    const file = String(configFile.value);
    if (sources.readConfig === undefined) {
      throw new CliUsageError(`${configFile.source} ${file}: config files are not available`);
    }
    config = parseConfig(sources.readConfig(file), specs, file);
  }
  return new ResolvedFlags(specs, [commandLine, env, config]);
}
