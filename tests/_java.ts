/**
 * Whether a JDK is here: the JVM interop tests (tests/wire/java_interop_test.ts,
 * tests/types/jdk_interop_test.ts) run `javac` and `java`, and are ignored,
 * saying so, without them.
 */

/** Whether `cmd -version` runs and succeeds. */
async function runs(cmd: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args: ["-version"], stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Whether `javac` and `java` both run; warns with `tag` when they do not.
 *
 * @param tag The test's tag for the warning, e.g. `jdk-interop`.
 * @param what What is skipped without them.
 * @returns Whether the JDK is there.
 */
export async function haveJava(tag: string, what: string): Promise<boolean> {
  const have = (await runs("javac")) && (await runs("java"));
  if (!have) console.warn(`[${tag}] java/javac not found: ${what} is skipped`);
  return have;
}
