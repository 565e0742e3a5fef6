/**
 * The version line of a command-line tool on the PATH, for tests that need
 * one (`node`, `openssl`) and are ignored, saying so, without it.
 */

const decoder = new TextDecoder();

/**
 * Runs `command args` and answers its trimmed standard output, or `null`
 * when the tool is missing or fails.
 */
export async function toolVersion(command: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(command, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? decoder.decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}
