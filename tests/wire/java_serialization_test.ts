import {
  DEFAULT_JAVA_SERIALIZATION_LIMITS,
  readJavaThrowable,
  writeJavaThrowable,
} from "../../src/wire/java_serialization.ts";
import {
  JAVA_EXCEPTION_CLASSES,
  type JavaThrowable,
  javaThrowable,
} from "../../src/wire/java_throwable.ts";
import { JavaSerializationError } from "../../src/wire/errors.ts";
import { fromHex, toHex } from "../../src/wire/bytes.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { entries, readVector, type VectorEntry, vectorTest } from "../_vectors.ts";

// ---------------------------------------------------------------------------
// Hex building blocks for hand-made streams (ASCII strings only).

const enc = new TextEncoder();
const asciiHex = (s: string): string => toHex(enc.encode(s));
const u16 = (n: number): string => n.toString(16).padStart(4, "0");
const i32 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");
/** A u16-length-prefixed UTF (as in class and field names). */
const utf = (s: string): string => u16(enc.encode(s).length) + asciiHex(s);
/** A new TC_STRING object. */
const str = (s: string): string => "74" + utf(s);
/** TC_REFERENCE to handle index `h` (0 = 0x7e0000). */
const ref = (h: number): string => "71" + i32(0x7e0000 + h);
const HEADER = "aced0005";
/** java.lang.Throwable's descriptor, ending with TC_NULL as its superclass: 5 handles. */
const THROWABLE_DESC = "72" + utf("java.lang.Throwable") + "d5c635273977b8cb" + "03" + "0004" +
  "4c" + utf("cause") + str("Ljava/lang/Throwable;") +
  "4c" + utf("detailMessage") + str("Ljava/lang/String;") +
  "5b" + utf("stackTrace") + str("[Ljava/lang/StackTraceElement;") +
  "4c" + utf("suppressedExceptions") + str("Ljava/util/List;") +
  "78" + "70";
/** A plain serializable class descriptor without fields (1 handle), superclass to follow. */
const desc = (name: string, suid: string): string => "72" + utf(name) + suid + "02" + "0000" + "78";
const RUNTIME_DESC = desc("java.lang.RuntimeException", "9e5f06470a3483e5");
const EXCEPTION_DESC = desc("java.lang.Exception", "d0fd1f3e1a3b1cc4");

// ---------------------------------------------------------------------------
// PROTOCOL §3.3 golden streams (our own constants)

const UKN = "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";
const UKN_MESSAGE = "Queryable State Server : No state for the specified key/namespace.";

/** The 470-byte UnknownKeyOrNamespaceException of §3.3: self cause, TC_NULL stack and list. */
const GOLDEN_470 =
  "aced0005737200496f72672e6170616368652e666c696e6b2e717565727961626c6573746174652e" +
  "657863657074696f6e732e556e6b6e6f776e4b65794f724e616d657370616365457863657074696f6e0000" +
  "0000000000010200007872003b6f72672e6170616368652e666c696e6b2e717565727961626c6573746174" +
  "652e6e6574776f726b2e42616452657175657374457863657074696f6e2fffed4cac499c07020000787200" +
  "136a6176612e6c616e672e457863657074696f6ed0fd1f3e1a3b1cc4020000787200136a6176612e6c616e" +
  "672e5468726f7761626c65d5c635273977b8cb0300044c000563617573657400154c6a6176612f6c616e67" +
  "2f5468726f7761626c653b4c000d64657461696c4d6573736167657400124c6a6176612f6c616e672f5374" +
  "72696e673b5b000a737461636b547261636574001e5b4c6a6176612f6c616e672f537461636b5472616365" +
  "456c656d656e743b4c001473757070726573736564457863657074696f6e737400104c6a6176612f757469" +
  "6c2f4c6973743b787071007e0008740042517565727961626c6520537461746520536572766572203a204e" +
  "6f20737461746520666f722074686520737065636966696564206b65792f6e616d6573706163652e707078";

/** The 313-byte RuntimeException of §3.3, built from its annotated structure (cause TC_NULL). */
const GOLDEN_313 = HEADER + "73" + RUNTIME_DESC + EXCEPTION_DESC + THROWABLE_DESC +
  "70" + str("Failed request 7.\n Caused by: boom") + "70" + "70" + "78";

/** What JDK 17 writes after the message of a stream's first throwable (100 bytes). */
const JDK_TAIL = "75" + "72" + utf("[Ljava.lang.StackTraceElement;") + "02462a3c3cfd2239" +
  "020000" + "78" + "70" + "00000000" +
  "73" + "72" + utf("java.util.Collections$EmptyList") + "7ab817b43ca79ede" + "020000" + "78" +
  "70" + "78";

Deno.test("golden §3.3: the 470-byte UnknownKeyOrNamespaceException reads back", () => {
  assertEquals(GOLDEN_470.length, 940);
  const t = readJavaThrowable(fromHex(GOLDEN_470));
  assertEquals(t, javaThrowable(UKN, UKN_MESSAGE));
  assertEquals(t.classHierarchy, [
    UKN,
    "org.apache.flink.queryablestate.network.BadRequestException",
    "java.lang.Exception",
    "java.lang.Throwable",
  ]);
});

Deno.test("golden §3.3: the 313-byte RuntimeException (TC_NULL cause) reads back", () => {
  assertEquals(GOLDEN_313.length, 626);
  const t = readJavaThrowable(fromHex(GOLDEN_313));
  assertEquals(
    t,
    javaThrowable("java.lang.RuntimeException", "Failed request 7.\n Caused by: boom"),
  );
});

Deno.test("golden §3.3: the writer emits the 470-byte prefix, then JDK 17's tail", () => {
  const out = toHex(writeJavaThrowable(javaThrowable(UKN, UKN_MESSAGE)));
  assertEquals(JDK_TAIL.length, 200);
  assertEquals(out, GOLDEN_470.slice(0, -6) + JDK_TAIL);
  assertEquals(out.length / 2, 567);
  // The 313-byte one, with the faithful self cause (handle 7e0007) instead of TC_NULL.
  const rt = toHex(
    writeJavaThrowable(
      javaThrowable("java.lang.RuntimeException", "Failed request 7.\n Caused by: boom"),
    ),
  );
  assertEquals(
    rt,
    HEADER + "73" + RUNTIME_DESC + EXCEPTION_DESC + THROWABLE_DESC + ref(7) +
      str("Failed request 7.\n Caused by: boom") + JDK_TAIL,
  );
});

Deno.test("golden §2.7: the 490-byte REQUEST_FAILURE frame body reads back", () => {
  const frame = fromHex("000001e6" + "79a1b710" + "00000002" + "0000000000000000" + GOLDEN_470);
  assertEquals(frame.length, 490);
  assertEquals(readJavaThrowable(frame.subarray(20)).message, UKN_MESSAGE);
});

// ---------------------------------------------------------------------------
// Flink vectors

interface ManifestThrowable {
  class: string;
  message: string | null;
  stackTraceDepth: number;
  classHierarchy: { class: string }[];
  causes: { class: string; message: string | null; stackTraceDepth: number }[];
}

function causesOf(
  t: JavaThrowable,
): { class: string; message: string | null; stackTraceDepth: number }[] {
  const out = [];
  for (let c = t.cause; c !== null; c = c.cause) {
    out.push({ class: c.className, message: c.message, stackTraceDepth: c.stackTrace.length });
  }
  return out;
}

function checkAgainstManifest(t: JavaThrowable, m: ManifestThrowable, file: string): void {
  assertEquals(t.className, m.class, file);
  assertEquals(t.message, m.message, file);
  assertEquals(t.stackTrace.length, m.stackTraceDepth, file);
  assertEquals(t.classHierarchy, m.classHierarchy.map((c) => c.class), file);
  assertEquals(causesOf(t), m.causes, file);
  for (let c: JavaThrowable | null = t; c !== null; c = c.cause) {
    for (const f of c.stackTrace) {
      assert(f.declaringClass.length > 0 && f.methodName.length > 0, `${file}: empty frame`);
      assert(f.lineNumber > 0 || f.lineNumber === -2, `${file}: frame line ${f.lineNumber}`);
    }
  }
}

function allClassesKnown(t: JavaThrowable): boolean {
  for (let c: JavaThrowable | null = t; c !== null; c = c.cause) {
    if (!JAVA_EXCEPTION_CLASSES.has(c.className)) return false;
  }
  return true;
}

vectorTest("javaSerializedThrowable: every vector reads back as the manifest says", () => {
  const list = entries("javaSerializedThrowable");
  assert(list.length >= 30, `only ${list.length} vectors`);
  for (const e of list) {
    checkAgainstManifest(readJavaThrowable(readVector(e.file)), e.fields.throwable, e.file);
  }
});

vectorTest(
  "javaSerializedThrowable: writer output equals every -nostack vector of known classes",
  () => {
    let compared = 0;
    for (const e of entries("javaSerializedThrowable")) {
      if (!e.file.includes("-nostack")) continue;
      const bytes = readVector(e.file);
      const t = readJavaThrowable(bytes);
      if (!allClassesKnown(t)) continue;
      assertEquals(toHex(writeJavaThrowable(t)), toHex(bytes), e.file);
      compared++;
    }
    assert(compared >= 10, `only ${compared} vectors compared`);
  },
);

function failureFrames(): { e: VectorEntry; body: Uint8Array }[] {
  return entries("frame").filter((e) => /^frames\/(request|server)-failure\//.test(e.file)).map(
    (e) => {
      const frame = readVector(e.file);
      const header = e.messageType === "SERVER_FAILURE" ? 12 : 20;
      return { e, body: frame.subarray(header) };
    },
  );
}

vectorTest("frames: every request-failure/server-failure body reads back", () => {
  const frames = failureFrames();
  assert(frames.length >= 30, `only ${frames.length} frames`);
  for (const { e, body } of frames) {
    checkAgainstManifest(readJavaThrowable(body), e.fields.throwable, e.file);
    if (e.fields.javaSerializedThrowableFile) {
      assertEquals(toHex(body), toHex(readVector(e.fields.javaSerializedThrowableFile)), e.file);
    }
  }
});

vectorTest("frames: writer output equals every -nostack failure body of known classes", () => {
  let compared = 0;
  for (const { e, body } of failureFrames()) {
    if (!e.file.includes("-nostack")) continue;
    const t = readJavaThrowable(body);
    if (!allClassesKnown(t)) continue;
    assertEquals(toHex(writeJavaThrowable(t)), toHex(body), e.file);
    compared++;
  }
  assert(compared >= 10, `only ${compared} frames compared`);
});

vectorTest("captured frames: failures captured from Flink read back", () => {
  let n = 0;
  for (const e of entries("capturedFrame")) {
    const d = e.decoded;
    if (d?.throwable === undefined || d.trailingBytes !== 0) continue;
    const frame = readVector(e.file);
    const body = frame.subarray(d.messageType === "SERVER_FAILURE" ? 12 : 20);
    checkAgainstManifest(readJavaThrowable(body), d.throwable, e.file);
    n++;
  }
  assert(n > 0, "no captured failure frames");
});

vectorTest("stack frames: Java 9+ fields, as StackTraceElement.toString() shows them", () => {
  const t = readJavaThrowable(readVector("throwables/RuntimeException-stack.ser"));
  assertEquals(t.stackTrace.length, 3);
  for (const f of t.stackTrace) {
    assertEquals(f.fileName !== null && f.fileName.endsWith(".java"), true);
    // The vector's frames come from the application class loader ("app", format bit 1).
    assertEquals(f.classLoaderName, null);
    assertEquals(f.moduleName, null);
    assertEquals(f.moduleVersion, null);
  }
});

// ---------------------------------------------------------------------------
// Round trips of our own

const EVERY_CLASS = [...JAVA_EXCEPTION_CLASSES.keys()];

function roundTrip(t: JavaThrowable): JavaThrowable {
  const back = readJavaThrowable(writeJavaThrowable(t));
  assertEquals(back, t);
  return back;
}

Deno.test("round trip: every class of the table, with and without message and cause", () => {
  assertEquals(EVERY_CLASS.length, 11);
  for (const c of EVERY_CLASS) {
    roundTrip(javaThrowable(c, "message of " + c));
    roundTrip(javaThrowable(c, null));
    for (const inner of EVERY_CLASS) {
      roundTrip(javaThrowable(c, "outer", javaThrowable(inner, "inner")));
    }
  }
});

Deno.test("round trip: 3-deep cause chains reuse descriptors, arrays and the empty list", () => {
  const t = javaThrowable(
    "java.lang.RuntimeException",
    "top",
    javaThrowable(
      "java.lang.IllegalStateException",
      null,
      javaThrowable("org.apache.flink.queryablestate.exceptions.UnknownLocationException", "root"),
    ),
  );
  const bytes = writeJavaThrowable(t);
  roundTrip(t);
  const hex = toHex(bytes);
  // Each descriptor appears once; the later objects refer to it.
  for (const name of ["java.lang.Throwable", "java.lang.Exception", "java.lang.RuntimeException"]) {
    assertEquals(hex.split(asciiHex(name)).length, 2, name);
  }
  assertEquals(hex.split(asciiHex("[Ljava.lang.StackTraceElement;")).length, 2);
  assertEquals(hex.split(asciiHex("java.util.Collections$EmptyList")).length, 2);
});

Deno.test("round trip: non-ASCII, U+0000, surrogates and modified UTF-8 bytes", () => {
  const cases: [string, string][] = [
    ["zähler-€", "7ac3a4686c65722de282ac"],
    ["a\u0000b", "61c08062"],
    ["😀", "eda0bdedb880"], // a surrogate pair: two 3-byte sequences, not UTF-8's 4 bytes
    ["\ud800x\udfff", "eda08078edbfbf"], // lone surrogates survive
    ["", ""],
  ];
  for (const [message, hex] of cases) {
    const bytes = writeJavaThrowable(javaThrowable("java.lang.RuntimeException", message));
    assert(toHex(bytes).includes("74" + u16(hex.length / 2) + hex), JSON.stringify(message));
    roundTrip(javaThrowable("java.lang.IllegalStateException", message));
  }
});

Deno.test("round trip: TC_STRING up to 65535 bytes, TC_LONGSTRING above", () => {
  const prefixLen = writeJavaThrowable(javaThrowable("java.lang.Exception", null)).length - 1 -
    JDK_TAIL.length / 2;
  for (
    const [message, tag] of [
      ["x".repeat(65535), "74ffff"],
      ["x".repeat(65536), "7c0000000000010000"],
      ["€".repeat(21845), "74ffff"], // 65535 bytes
      ["€".repeat(21846), "7c0000000000010002"], // 65538 bytes
      ["\u0000".repeat(40000), "7c0000000000013880"], // 80000 bytes
    ] as const
  ) {
    const bytes = writeJavaThrowable(javaThrowable("java.lang.Exception", message));
    assertEquals(toHex(bytes.subarray(prefixLen, prefixLen + tag.length / 2)), tag);
    roundTrip(javaThrowable("java.lang.Exception", message));
    roundTrip(
      javaThrowable("java.lang.Exception", "outer", javaThrowable("java.lang.Exception", message)),
    );
  }
});

Deno.test("writer: classes outside the table are a TypeError, also as a cause", () => {
  assertThrows(() => writeJavaThrowable(javaThrowable("java.io.IOException", "x")), TypeError);
  assertThrows(
    () =>
      writeJavaThrowable(
        javaThrowable("java.lang.RuntimeException", "x", javaThrowable("java.io.IOException", "y")),
      ),
    TypeError,
    "java.io.IOException",
  );
});

Deno.test("writer: a cause that is the throwable itself means no cause; a loop is a back-reference", () => {
  const self: { -readonly [K in keyof JavaThrowable]: JavaThrowable[K] } = {
    ...javaThrowable("java.lang.RuntimeException", "me"),
  };
  self.cause = self;
  assertEquals(
    toHex(writeJavaThrowable(self)),
    toHex(writeJavaThrowable(javaThrowable("java.lang.RuntimeException", "me"))),
  );

  const a: { -readonly [K in keyof JavaThrowable]: JavaThrowable[K] } = {
    ...javaThrowable("java.lang.RuntimeException", "a"),
  };
  const b = javaThrowable("java.lang.IllegalStateException", "b", a);
  a.cause = b;
  const hex = toHex(writeJavaThrowable(a));
  // a = handle 7 (3 descriptors + 4 strings), b = 9 (its descriptor is 8); b's cause refers to a.
  assert(hex.includes(ref(0) + ref(7)), hex);
  const back = readJavaThrowable(fromHex(hex));
  assertEquals(back.message, "a");
  assertEquals(back.cause?.message, "b");
  assertEquals(back.cause?.cause, null); // the loop is cut
});

Deno.test("writer: stack frames and hierarchy of the input are ignored", () => {
  const t: JavaThrowable = {
    ...javaThrowable("java.lang.RuntimeException", "m"),
    stackTrace: [{ declaringClass: "A", methodName: "b", fileName: "A.java", lineNumber: 1 }],
    classHierarchy: ["nonsense"],
  };
  assertEquals(
    toHex(writeJavaThrowable(t)),
    toHex(writeJavaThrowable(javaThrowable("java.lang.RuntimeException", "m"))),
  );
});

// ---------------------------------------------------------------------------
// Reader features and error paths

/** A Throwable with a new Throwable descriptor (handles 0-4), object handle 5. */
const plainThrowable = (fields: string): string => HEADER + "73" + THROWABLE_DESC + fields;

function rejects(bytes: Uint8Array | string, msgIncludes?: string, limits?: object): void {
  const b = typeof bytes === "string" ? fromHex(bytes) : bytes;
  assertThrows(() => readJavaThrowable(b, limits), JavaSerializationError, msgIncludes);
}

Deno.test("reader: TC_NULL everywhere is accepted; TC_RESET before the object; trailing bytes ignored", () => {
  const t = readJavaThrowable(fromHex(plainThrowable("70" + "70" + "70" + "70" + "78")));
  assertEquals(t, javaThrowable("java.lang.Throwable", null));
  const bytes = writeJavaThrowable(javaThrowable("java.lang.Exception", "x"));
  const withReset = fromHex(HEADER + "7979" + toHex(bytes.subarray(4)) + "deadbeef");
  assertEquals(readJavaThrowable(withReset).message, "x");
});

Deno.test("reader: a one-null-element stack trace is Java's 'no trace' sentinel", () => {
  const arrayDesc = "72" + utf("[Ljava.lang.StackTraceElement;") + "02462a3c3cfd2239" + "020000" +
    "78" + "70";
  const t = readJavaThrowable(
    fromHex(plainThrowable(ref(5) + "70" + "75" + arrayDesc + i32(1) + "70" + "70" + "78")),
  );
  assertEquals(t.stackTrace, []);
  rejects(
    plainThrowable(ref(5) + "70" + "75" + arrayDesc + i32(2) + "70" + "70" + "70" + "78"),
    "stackTrace holds null",
  );
});

Deno.test("reader: a cause chain built from back-references is followed, and bounded", () => {
  // Class X's annotation holds throwables T1..Tn, each caused by the one before, all at
  // depth 2; the top X object's cause is Tn.
  const chain = (n: number): string => {
    let s = HEADER + "73" + "72" + utf("X") + "0000000000000001" + "02" + "0000"; // X = 0
    s += "73" + THROWABLE_DESC + "70" + str("T1") + "70" + "70" + "78"; // desc 1, obj 6, msg 7
    let last = 6;
    let next = 8;
    for (let i = 2; i <= n; i++) {
      s += "73" + ref(1) + ref(last) + "70" + "70" + "70" + "78";
      last = next++;
    }
    s += "78" + ref(1); // end of X's annotation; superclass Throwable
    return s + ref(last) + str("top") + "70" + "70" + "78";
  };
  const t = readJavaThrowable(fromHex(chain(10)));
  assertEquals(t.className, "X");
  assertEquals(t.classHierarchy, ["X", "java.lang.Throwable"]);
  assertEquals(causesOf(t).length, 10);
  assertEquals(causesOf(t).at(-1)?.message, "T1");
  rejects(chain(100), "cause chain longer than maxDepth (64)");
  assertEquals(causesOf(readJavaThrowable(fromHex(chain(100)), { maxDepth: 200 })).length, 100);
});

Deno.test("reader: a cause that loops back through an object under construction is cut", () => {
  // A (handle 5) caused by B (6), caused by A again.
  const hex = plainThrowable(
    "73" + ref(0) + ref(5) + str("b") + "70" + "70" + "78" + str("a") + "70" + "70" + "78",
  );
  const t = readJavaThrowable(fromHex(hex));
  assertEquals([t.message, t.cause?.message, t.cause?.cause], ["a", "b", null]);
});

Deno.test("errors: truncation at every offset is a JavaSerializationError", () => {
  const streams = [
    writeJavaThrowable(
      javaThrowable(
        "java.lang.RuntimeException",
        "ü\u0000😀",
        javaThrowable("java.lang.Exception", "c"),
      ),
    ),
    fromHex(GOLDEN_470),
  ];
  for (const bytes of streams) {
    for (let n = 0; n < bytes.length; n++) {
      assertThrows(
        () => readJavaThrowable(bytes.subarray(0, n)),
        JavaSerializationError,
        undefined,
      );
    }
  }
});

vectorTest("errors: truncation at every offset of real vectors is a JavaSerializationError", () => {
  for (
    const file of [
      "throwables/IllegalStateException-with-cause-stack.ser",
      "throwables/RuntimeException-stack.ser",
    ]
  ) {
    const bytes = readVector(file);
    for (let n = 0; n < bytes.length; n++) {
      const e = assertThrows(() => readJavaThrowable(bytes.subarray(0, n)), JavaSerializationError);
      assert(!e.message.includes("internal error"), e.message);
    }
  }
});

Deno.test("errors: bad magic, version, handles and type codes", () => {
  rejects("acee0005" + "70", "bad stream magic 0xacee");
  rejects("aced0004" + "70", "unsupported stream version 4");
  rejects("", "Truncated");
  rejects(plainThrowable(ref(99)), "reference to unknown handle 0x7e0063");
  rejects(plainThrowable("71" + "00000001"), "reference to unknown handle 0x1");
  rejects(HEADER + "73" + ref(0), "unknown handle");
  rejects(plainThrowable(ref(5) + "70" + "70" + "70" + "79"), "TC_RESET inside an object");
  rejects(plainThrowable("7b"), "TC_EXCEPTION");
  rejects(plainThrowable("77" + "01" + "00"), "unexpected block data marker 0x77");
  rejects(plainThrowable("00"), "invalid type code 0x00");
  rejects(HEADER + "73" + "74" + utf("x"), "expected a class descriptor, found 0x74");
  rejects(HEADER + "73" + "70", "null class descriptor");
  // A reference to a string where a class descriptor belongs.
  rejects(plainThrowable(ref(5) + "70" + "70" + "73" + ref(1)), "reference to a string");
  // A field type that is a reference to a class descriptor.
  rejects(
    HEADER + "73" + "72" + utf("Y") + "0000000000000001" + "02" + "0001" + "4c" + utf("f") + ref(0),
    "expected a string",
  );
  rejects(
    HEADER + "73" + "72" + utf("Y") + "0000000000000001" + "02" + "0001" + "51" + utf("f"),
    "invalid type code 0x51",
  );
  rejects(
    HEADER + "73" + "72" + utf("Y") + "0000000000000001" + "02" + "0001" + "4c" + utf("f") +
      str("Q"),
    "invalid type",
  );
});

Deno.test("errors: malformed modified UTF-8", () => {
  for (const bad of ["80", "c0", "c041", "e08080".slice(0, 4), "e0c080", "f0808080"]) {
    rejects(plainThrowable(ref(5) + "74" + u16(bad.length / 2) + bad), "malformed modified UTF-8");
  }
  // Java accepts overlong forms: C0 80 is U+0000, E0 80 80 too.
  const t = readJavaThrowable(
    fromHex(plainThrowable(ref(5) + "74" + "0005" + "c080e08080" + "707078")),
  );
  assertEquals(t.message, "\u0000\u0000");
});

Deno.test("errors: descriptor cycles, flag conflicts, negative sizes", () => {
  // Y's superclass is Y itself (handle 0, not complete yet).
  rejects(
    HEADER + "73" + "72" + utf("Y") + "0000000000000001" + "02" + "0000" + "78" + ref(0),
    "not complete",
  );
  rejects(
    HEADER + "73" + "72" + utf("Y") + "0000000000000001" + "06" + "0000" + "78" + "70",
    "flags conflict",
  );
  rejects(
    HEADER + "73" + "72" + utf("Y") + "0000000000000001" + "04" + "0000" + "78" + "70",
    "without block data",
  );
  const objectArray = "75" + "72" + utf("[Ljava.lang.Object;") + "90ce589f1073296c" + "020000" +
    "78" + "70";
  rejects(HEADER + objectArray + i32(-1), "negative array size -1");
  rejects(
    HEADER + "75" + "72" + utf("Q") + "0000000000000001" + "020000" + "78" + "70",
    "not an array class",
  );
  rejects(
    HEADER + "75" + "72" + utf("[Q") + "0000000000000001" + "020000" + "78" + "70" + i32(0),
    "invalid element type",
  );
  rejects(
    HEADER + "73" + "72" + utf("Y") + "0000000000000001" + "02" + "0000" + "7a" + i32(-5),
    "negative block data length",
  );
  rejects(HEADER + "73" + "7d" + i32(-1), "proxy class with -1 interfaces");
});

Deno.test("errors: the first object must be a Throwable", () => {
  rejects(HEADER + "70", "holds null");
  rejects(HEADER + str("abc"), "holds a string");
  rejects(
    HEADER + "75" + "72" + utf("[I") + "4dba602676eab2a5" + "020000" + "78" + "70" + i32(1) +
      i32(7),
    "holds an array of [I",
  );
  const integer = HEADER + "73" + "72" + utf("java.lang.Integer") + "12e2a0a4f7818738" + "02" +
    "0001" +
    "49" + utf("value") + "78" + "72" + utf("java.lang.Number") + "86ac951d0b94e08b" + "020000" +
    "78" +
    "70" + i32(42);
  rejects(integer, "java.lang.Integer is not a java.lang.Throwable");
});

Deno.test("errors: Throwable fields of the wrong type", () => {
  rejects(plainThrowable(str("no") + "70" + "70" + "70" + "78"), "cause holds a string");
  rejects(
    plainThrowable(ref(5) + ref(0) + "70" + "70" + "78"),
    "detailMessage holds a class descriptor",
  );
  rejects(plainThrowable(ref(5) + "70" + str("x") + "70" + "78"), "stackTrace holds a string");
});

Deno.test("limits: each limit, exceeded, is a JavaSerializationError", () => {
  const bytes = writeJavaThrowable(
    javaThrowable(
      "java.lang.RuntimeException",
      "x".repeat(100),
      javaThrowable("java.lang.Exception", "c"),
    ),
  );
  readJavaThrowable(bytes, { maxBytes: bytes.length, maxStringLength: 100 });
  rejects(bytes, "exceeds maxBytes", { maxBytes: bytes.length - 1 });
  rejects(bytes, "exceeds maxStringLength (99)", { maxStringLength: 99 });
  rejects(bytes, "maxHandles (10)", { maxHandles: 10 });
  rejects(bytes, "maxDepth (3)", { maxDepth: 3 });
  const arrayDesc = "72" + utf("[Ljava.lang.StackTraceElement;") + "02462a3c3cfd2239" + "020000" +
    "78" + "70";
  rejects(plainThrowable(ref(5) + "70" + "75" + arrayDesc + i32(3)), "exceeds maxArrayLength (2)", {
    maxArrayLength: 2,
  });
  rejects(
    plainThrowable(ref(5) + "7c" + "0000000000100001"),
    "long string length 1048577 out of range",
  );
  rejects(plainThrowable(ref(5) + "7c" + "ffffffffffffffff"), "long string length -1 out of range");
  // A hierarchy of 70 classes.
  let deep = HEADER + "73";
  for (let i = 0; i < 70; i++) {
    deep += "72" + utf("C" + i) + "0000000000000001" + "02" + "0000" + "78";
  }
  rejects(deep + "70", "maxDepth (64)");
  assertThrows(() => readJavaThrowable(bytes, { maxDepth: -1 }), RangeError);
  assertEquals(DEFAULT_JAVA_SERIALIZATION_LIMITS, {
    maxBytes: 16777216,
    maxDepth: 64,
    maxHandles: 100000,
    maxStringLength: 1048576,
    maxArrayLength: 100000,
  });
});

Deno.test("limits: deeply nested input never overflows the stack", () => {
  const objectArrayDesc = "72" + utf("[Ljava.lang.Object;") + "90ce589f1073296c" + "020000" + "78" +
    "70";
  const nested = (n: number): Uint8Array => {
    const parts = [HEADER, "75", objectArrayDesc, i32(1)];
    for (let i = 1; i < n; i++) parts.push("75" + ref(0) + i32(1));
    parts.push("70");
    return fromHex(parts.join(""));
  };
  rejects(nested(1000), "nesting deeper than maxDepth (64)");
  // Even with the limit lifted, a 300 000-deep stream ends in a JavaSerializationError.
  const e = assertThrows(
    () =>
      readJavaThrowable(nested(300_000), { maxDepth: 1e9, maxHandles: 1e9, maxArrayLength: 1e9 }),
    JavaSerializationError,
  );
  assert(e.message.includes("nested too deeply for the call stack"), e.message);
});
