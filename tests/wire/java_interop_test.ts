/**
 * Interop with a real JVM: streams from our writer are read by Java's
 * ObjectInputStream (and written back by its ObjectOutputStream, which must
 * give the same bytes), and streams Java writes with every feature of the
 * grammar are read by our reader. Uses tests/java/ThrowableInterop.java and
 * stand-ins of Flink's exception classes (same names, superclasses and
 * serialVersionUIDs). Ignored, with a message, when java/javac are absent.
 */

import { haveJava } from "../_java.ts";
import { readJavaThrowable, writeJavaThrowable } from "../../src/wire/java_serialization.ts";
import {
  JAVA_EXCEPTION_CLASSES,
  type JavaThrowable,
  javaThrowable,
  stringifyJavaThrowable,
} from "../../src/wire/java_throwable.ts";
import { JavaSerializationError } from "../../src/wire/errors.ts";
import { toHex } from "../../src/wire/bytes.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";

const JAVA_SOURCES = new URL("../java/", import.meta.url);

const HAVE_JAVA = await haveJava("java-interop", "the JVM interop tests");

async function javaSources(dir: URL): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await javaSources(new URL(e.name + "/", dir)));
    else if (e.name.endsWith(".java")) out.push(decodeURIComponent(new URL(e.name, dir).pathname));
  }
  return out;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")}… failed: ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

/** One throwable of a cause chain as the JVM reports it. */
interface JavaLink {
  class?: string;
  message?: string | null;
  stackDepth?: number;
  suppressed?: number;
  loopsTo?: number;
}

/** The chain we expect the JVM to see for a throwable we wrote. */
function expectedChain(t: JavaThrowable): JavaLink[] {
  const out: JavaLink[] = [];
  const seen = new Map<JavaThrowable, number>();
  for (let c: JavaThrowable | null = t; c !== null; c = c.cause === c ? null : c.cause) {
    const before = seen.get(c);
    if (before !== undefined) {
      out.push({ loopsTo: before });
      break;
    }
    seen.set(c, seen.size);
    out.push({ class: c.className, message: c.message, stackDepth: 0, suppressed: 0 });
  }
  return out;
}

function ourCases(): JavaThrowable[] {
  const classes = [...JAVA_EXCEPTION_CLASSES.keys()];
  const cases: JavaThrowable[] = [];
  classes.forEach((c, i) => {
    cases.push(javaThrowable(c, `message of ${c}: zähler € ✓`));
    cases.push(javaThrowable(c, null));
    const inner = classes[(i + 1) % classes.length];
    cases.push(javaThrowable(c, "outer", javaThrowable(inner, "inner 😀")));
  });
  for (
    const message of [
      "",
      "a\u0000b",
      "😀 \ud83d\ude00",
      "lone \ud800 and \udfff",
      "x".repeat(65535),
      "€".repeat(30000), // 90 000 bytes: TC_LONGSTRING
      "Failed request 7.\n Caused by: org.apache.flink.runtime.query.UnknownKvStateLocation: x\n",
    ]
  ) {
    cases.push(javaThrowable("java.lang.RuntimeException", message));
  }
  cases.push(javaThrowable(
    "java.lang.RuntimeException",
    "top",
    javaThrowable(
      "java.lang.IllegalStateException",
      null,
      javaThrowable(
        "org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException",
        "Queryable State Server : No registered state with ID 00.",
      ),
    ),
  ));
  // A cause chain that loops back to the top.
  const a: { -readonly [K in keyof JavaThrowable]: JavaThrowable[K] } = {
    ...javaThrowable("java.lang.IllegalArgumentException", "a"),
  };
  a.cause = javaThrowable("org.apache.flink.util.FlinkException", "b", a);
  cases.push(a);
  return cases;
}

Deno.test({
  name: "java interop: the JVM reads our streams, and we read the JVM's",
  ignore: !HAVE_JAVA,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "kvstate-java-interop-" });
    try {
      const classes = `${dir}/classes`;
      await run("javac", ["-nowarn", "-d", classes, ...await javaSources(JAVA_SOURCES)]);

      await t.step("ObjectInputStream reads what writeJavaThrowable wrote", async () => {
        const cases = ourCases();
        const files: string[] = [];
        const written: Uint8Array[] = [];
        for (const [i, c] of cases.entries()) {
          const bytes = writeJavaThrowable(c);
          const file = `${dir}/case-${i}.ser`;
          await Deno.writeFile(file, bytes);
          files.push(file);
          written.push(bytes);
        }
        const lines = (await run("java", ["-cp", classes, "ThrowableInterop", "read", ...files]))
          .trim().split("\n").map((l) => JSON.parse(l));
        assertEquals(lines.length, cases.length);
        assert(cases.length >= 40);
        for (const [i, line] of lines.entries()) {
          const what = `case ${i} (${cases[i].className})`;
          assertEquals(line.file, `case-${i}.ser`);
          assertEquals(line.ok, true, `${what}: ${line.error}`);
          assertEquals(line.chain, expectedChain(cases[i]), what);
          assertEquals(line.trailing, 0, what);
          // Java's ObjectOutputStream writes the object it read back to the same bytes.
          assertEquals(line.reserialized, toHex(written[i]), what);
        }
      });

      await t.step("readJavaThrowable reads every feature the JVM writes", async () => {
        const out = `${dir}/from-java`;
        await Deno.mkdir(out);
        const lines = (await run("java", ["-cp", classes, "ThrowableInterop", "write", out]))
          .trim().split("\n").map((l) => JSON.parse(l));
        assert(lines.length >= 7);
        for (const line of lines) {
          const bytes = await Deno.readFile(`${out}/${line.file}`);
          const deep = line.file === "deep100.ser";
          if (deep) {
            assertThrows(() => readJavaThrowable(bytes), JavaSerializationError, "maxDepth (64)");
          }
          const got = readJavaThrowable(bytes, deep ? { maxDepth: 200 } : undefined);
          const chain: JavaLink[] = [];
          for (let c: JavaThrowable | null = got; c !== null; c = c.cause) {
            chain.push({ class: c.className, message: c.message, stackDepth: c.stackTrace.length });
          }
          const want = (line.chain as JavaLink[]).map((l) => ({
            class: l.class,
            message: l.message,
            stackDepth: l.stackDepth,
          }));
          assertEquals(chain, want, line.file);
          assertEquals(got.classHierarchy, line.hierarchy, line.file);
          if (line.printed !== undefined) {
            // Frames, "... n more" and JDK module / class loader prefixes as printStackTrace prints them.
            assertEquals(stringifyJavaThrowable(got), line.printed, line.file);
          }
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
