/**
 * How the CLI was started, for the texts it prints (pure).
 *
 * @module
 */

/** How the CLI was started: the names its texts use. */
export interface CliContext {
  /**
   * How a command is run, for the usage line, given the command's name:
   * e.g. `(c) => "queryable-state " + c`, or `(c) => c + ".ts"` for the
   * examples.
   */
  readonly prog: (command: string) => string;
  /** The command line that runs the client, for the demo's hint. */
  readonly clientCommand: string;
}
