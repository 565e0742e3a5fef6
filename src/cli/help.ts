/**
 * The CLI's help texts, pure: the usage line, and every flag with its
 * default and its environment variable.
 *
 * @module
 */

import { COMMANDS, type CommandSpec } from "./commands.ts";
import { envName, type FlagSpec } from "./flags.ts";

/**
 * The usage line of a command.
 *
 * @param prog How the command is run, e.g. `proxy.ts` or `queryable-state proxy`.
 * @param command The command.
 * @returns `usage: PROG SYNOPSIS`.
 */
export function usageLine(prog: string, command: CommandSpec): string {
  return `usage: ${prog} ${command.synopsis}`;
}

function defaultOf(spec: FlagSpec): string {
  if (spec.default !== undefined) return String(spec.default);
  if (spec.required) return "none (required)";
  return spec.defaultText ?? "none";
}

/** How the flags combine, printed under every command's flags. */
export const SOURCES_NOTE: readonly string[] = [
  "Every flag can also be set by its environment variable (--foo-bar is QS_FOO_BAR; read when",
  "Deno may read it: --allow-env or -A; an empty variable counts as unset) and by --config FILE",
  '(or QS_CONFIG), a JSON object keyed by flag name, e.g. {"port": 9069, "retries": 5}.',
  "A flag beats its variable, which beats the config file, which beats the default.",
  "Unknown flags and unknown config keys are errors.",
];

/**
 * The help of one command: usage, summary, every flag (default,
 * environment variable), notes.
 *
 * @param prog How the command is run.
 * @param command The command.
 * @param withSources Whether to end with {@linkcode SOURCES_NOTE} (default `true`).
 * @returns The text.
 */
export function commandHelp(prog: string, command: CommandSpec, withSources = true): string {
  const lines = [usageLine(prog, command), "", command.summary, "", "Flags:"];
  for (const spec of command.flags) {
    const head = `  --${spec.name}${spec.placeholder ? ` ${spec.placeholder}` : ""}`;
    lines.push(head, `      ${spec.description}`);
    if (spec.commandLineOnly) continue;
    lines.push(`      default: ${defaultOf(spec)}; env: ${envName(spec.name)}`);
  }
  lines.push("", ...command.notes);
  if (withSources) lines.push("", ...SOURCES_NOTE);
  return lines.join("\n");
}

/**
 * The overview: the commands, then each command's help.
 *
 * @param prog How the CLI is run, e.g. `queryable-state`.
 * @param version The version.
 * @returns The text.
 */
export function overviewHelp(prog: string, version: string): string {
  const lines = [
    `usage: ${prog} <command> [flags]   (${prog} help <command>, ${prog} --version)`,
    "",
    `@kvstate/queryable-state ${version}: Apache Flink's Queryable State protocol.`,
    "",
    "Commands:",
  ];
  for (const c of COMMANDS.values()) lines.push(`  ${c.name.padEnd(8)}${c.summary}`);
  for (const c of COMMANDS.values()) {
    lines.push("", `== ${c.name}`, commandHelp(`${prog} ${c.name}`, c, false));
  }
  lines.push("", ...SOURCES_NOTE);
  return lines.join("\n");
}
