/**
 * The CLI's entry (CLI glue): picks the command, resolves its flags from the
 * command line, the environment and `--config`, answers `--help` and
 * `--version`, reports usage errors (exit 2) and runs the command.
 *
 * @module
 */

import { COMMANDS, type CommandSpec } from "./commands.ts";
import type { CliContext } from "./context.ts";
import { readConfigJsonSync } from "./config_file.ts";
import { CliUsageError, type ResolvedFlags, resolveFlags } from "./flags.ts";
import { commandHelp, overviewHelp, usageLine } from "./help.ts";
import { VERSION } from "./version.ts";
import { proxyCommand } from "./proxy_command.ts";
import { serverCommand } from "./server_command.ts";
import { clientCommand } from "./client_command.ts";
import { gatewayCommand } from "./gateway_command.ts";

/** How the published module is run: `deno run -A jsr:@kvstate/queryable-state/cli`. */
export const JSR_CONTEXT: CliContext = {
  prog: (command) => `queryable-state ${command}`,
  clientCommand:
    `deno run --allow-net=127.0.0.1 jsr:@kvstate/queryable-state@${VERSION}/cli client`,
};

const RUNNERS: Record<string, (flags: ResolvedFlags, context: CliContext) => Promise<number>> = {
  proxy: proxyCommand,
  server: serverCommand,
  client: clientCommand,
  gateway: gatewayCommand,
};

/**
 * An environment variable, when Deno may read it without asking (granted by
 * `--allow-env` or `-A`); `undefined` otherwise, so a run without the
 * permission never prompts.
 */
function readableEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * Runs one command with its arguments.
 *
 * @param command The command's name: `proxy`, `server`, `client` or `gateway`.
 * @param args The arguments after it.
 * @param context How the CLI was started.
 * @returns The exit code: 0, 1 on a failure, 2 on a usage error.
 */
export async function runCommand(
  command: string,
  args: readonly string[],
  context: CliContext,
): Promise<number> {
  const spec: CommandSpec | undefined = COMMANDS.get(command);
  if (spec === undefined) throw new TypeError(`no command ${command}`);
  const prog = context.prog(command);
  try {
    // --help and --version win over anything else on the line, even a bad flag.
    if (args.includes("--help")) {
      console.log(commandHelp(prog, spec));
      return 0;
    }
    if (args.includes("--version")) {
      console.log(VERSION);
      return 0;
    }
    const flags = resolveFlags(spec.flags, {
      args,
      getEnv: readableEnv,
      readConfig: readConfigJsonSync,
    });
    return await RUNNERS[command](flags, context);
  } catch (e) {
    if (!(e instanceof CliUsageError)) throw e;
    console.error(`${e.message}\n${usageLine(prog, spec)}\n(--help lists every flag)`);
    return 2;
  }
}

/**
 * The CLI: `<command> [flags]`, `help [command]`, `--help`, `--version`.
 *
 * @param args The arguments (`Deno.args`).
 * @param context How the CLI was started.
 * @returns The exit code.
 */
export async function runMain(args: readonly string[], context: CliContext): Promise<number> {
  const [first, ...rest] = args;
  const prog = context.prog("").trimEnd();
  if (first === "--version" || first === "version") {
    console.log(VERSION);
    return 0;
  }
  if (first === "--help" || first === "-h" || (first === "help" && rest.length === 0)) {
    console.log(overviewHelp(prog, VERSION));
    return 0;
  }
  if (first === "help") {
    const spec = COMMANDS.get(rest[0]);
    if (spec === undefined || rest.length > 1) {
      console.error(
        `help: unknown command ${JSON.stringify(rest.join(" "))}; ` +
          `commands: ${[...COMMANDS.keys()].join(", ")}`,
      );
      return 2;
    }
    console.log(commandHelp(context.prog(spec.name), spec));
    return 0;
  }
  if (first === undefined || !COMMANDS.has(first)) {
    console.error(
      (first === undefined ? "no command" : `unknown command ${JSON.stringify(first)}`) +
        `; commands: ${[...COMMANDS.keys()].join(", ")}\n` +
        `usage: ${prog} <command> [flags]   (${prog} --help lists every flag)`,
    );
    return 2;
  }
  return await runCommand(first, rest, context);
}
