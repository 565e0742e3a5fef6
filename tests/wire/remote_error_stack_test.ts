import {
  BadRequestError,
  errorFromJavaThrowable,
  FlinkJobNotFoundError,
  type JavaStackFrame,
  type JavaThrowable,
  javaThrowable,
  QueryableStateError,
  readJavaThrowable,
  RemoteError,
  surfacedFrom,
  toJavaThrowable,
  UnknownKeyOrNamespaceError,
  UnknownKvStateIdError,
  UnknownKvStateKeyGroupLocationError,
  UnknownKvStateLocationError,
  UnknownLocationError,
} from "../../src/wire/mod.ts";
import { assert, assertEquals, assertInstanceOf, assertThrows } from "../_assert.ts";
import { entries, readVector, vectorTest } from "../_vectors.ts";

/** A JavaScript frame in a V8 stack: `    at fn (file:///...:1:2)` or `    at file:///...:1:2`. */
const JS_FRAME = /^ {4}at .*(file:|ext:|node:|\.ts:\d|\.js:\d)/m;

/** Runs `fn` with a high `Error.stackTraceLimit`, so that any captured JavaScript frame shows. */
function withDeepJsStacks<T>(fn: () => T): T {
  const before = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = before;
  }
}

const frame = (i: number): JavaStackFrame => ({
  declaringClass: "org.example.Handler",
  methodName: `step${i}`,
  fileName: "Handler.java",
  lineNumber: 100 + i,
});

Deno.test("errorFromJavaThrowable: no JavaScript frame in the stack; name, message, then the remote frames", () => {
  withDeepJsStacks(() => {
    const bare = errorFromJavaThrowable(javaThrowable(
      "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
      "Queryable State Server : No state for the specified key/namespace.",
    ));
    assertInstanceOf(bare, UnknownKeyOrNamespaceError);
    assertEquals(
      bare.stack,
      "UnknownKeyOrNamespaceError: Queryable State Server : No state for the specified key/namespace.",
    );
    const t: JavaThrowable = {
      ...javaThrowable("java.lang.RuntimeException", "boom"),
      stackTrace: [frame(1), frame(2)],
    };
    const e = errorFromJavaThrowable(t);
    assertInstanceOf(e, RemoteError);
    assertEquals(
      e.stack,
      "RemoteError: boom\n\tat org.example.Handler.step1(Handler.java:101)" +
        "\n\tat org.example.Handler.step2(Handler.java:102)",
    );
    // An empty message: the name alone, as V8 writes it.
    assertEquals(
      errorFromJavaThrowable(javaThrowable("java.lang.RuntimeException", null)).stack,
      "RemoteError",
    );
    // Errors built by the user keep their JavaScript stack.
    assert(JS_FRAME.test(new UnknownKeyOrNamespaceError("mine").stack!));
    assertEquals(Error.stackTraceLimit, 50, "restored");
  });
});

Deno.test("errorFromJavaThrowable: each RemoteError of a cause chain has its own remote frames", () => {
  const inner: JavaThrowable = {
    ...javaThrowable("java.lang.IllegalStateException", "inner"),
    stackTrace: [frame(7)],
  };
  const outer: JavaThrowable = {
    ...javaThrowable("java.lang.RuntimeException", "outer", inner),
    stackTrace: [frame(1)],
  };
  const e = withDeepJsStacks(() => errorFromJavaThrowable(outer));
  assertEquals(e.stack, "RemoteError: outer\n\tat org.example.Handler.step1(Handler.java:101)");
  assertInstanceOf(e.cause, RemoteError);
  assertEquals(
    e.cause.stack,
    "RemoteError: inner\n\tat org.example.Handler.step7(Handler.java:107)",
  );
});

Deno.test("errorFromJavaThrowable: a Java cause of a known class is surfaced, the RemoteError kept as its cause", () => {
  const inner: JavaThrowable = {
    ...javaThrowable(
      "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
      "inner",
    ),
    stackTrace: [frame(7)],
  };
  const outer = javaThrowable("java.lang.RuntimeException", "outer", inner);
  const e = errorFromJavaThrowable(outer);
  assertInstanceOf(e, UnknownKeyOrNamespaceError);
  assertEquals([e.message, e.javaClassName], ["inner", inner.className]);
  // The stack is the cause's own: its name, message and frames.
  assertEquals(
    e.stack,
    "UnknownKeyOrNamespaceError: inner\n\tat org.example.Handler.step7(Handler.java:107)",
  );
  // The remote error, as new RemoteError builds it (its causes RemoteErrors too), is the cause.
  assertInstanceOf(e.cause, RemoteError);
  assert(surfacedFrom(e) === e.cause);
  assertEquals(shape(e.cause as object), shape(new RemoteError(outer)));
  assertInstanceOf((e.cause as RemoteError).cause, RemoteError);
  assert(!((e.cause as RemoteError).cause instanceof UnknownKeyOrNamespaceError));
  assertEquals(toJavaThrowable(e), outer, "the throwable as received");
  assertInstanceOf(new RemoteError(outer).cause, RemoteError);
});

Deno.test("errorFromJavaThrowable: the stack lists at most 100 remote frames and 16 Ki characters", () => {
  const many: JavaThrowable = {
    ...javaThrowable("java.lang.RuntimeException", "deep"),
    stackTrace: Array.from({ length: 1000 }, (_, i) => frame(i)),
  };
  const lines = errorFromJavaThrowable(many).stack!.split("\n");
  assertEquals(lines.length, 1 + 100 + 1);
  assertEquals(lines[100], "\tat org.example.Handler.step99(Handler.java:199)");
  assertEquals(lines[101], "\t... 900 more");
  const long: JavaThrowable = {
    ...javaThrowable("java.lang.RuntimeException", "long"),
    stackTrace: Array.from(
      { length: 100 },
      (_, i) => ({ ...frame(i), methodName: "m".repeat(1000) }),
    ),
  };
  const stack = errorFromJavaThrowable(long).stack!;
  assert(stack.length <= "RemoteError: long".length + 16 * 1024, `${stack.length} characters`);
});

Deno.test("errorFromJavaThrowable: a throwable whose fields throw builds nothing and changes nothing", () => {
  withDeepJsStacks(() => {
    const hostile = {
      className: "java.lang.RuntimeException",
      get message(): string {
        throw new TypeError("hostile message");
      },
      cause: null,
      stackTrace: [],
      classHierarchy: [],
    } as JavaThrowable;
    assertThrows(() => errorFromJavaThrowable(hostile), TypeError, "hostile message");
    assertEquals(Error.stackTraceLimit, 50);
  });
});

/** Own properties as `Object.getOwnPropertyDescriptors` has them, `stack` by its attributes only. */
function shape(e: object): unknown[] {
  return Reflect.ownKeys(e).map((k) => {
    const d = Object.getOwnPropertyDescriptor(e, k)!;
    return k === "stack"
      ? [k, d.enumerable, d.configurable]
      : [k, d.value, d.writable, d.enumerable, d.configurable];
  });
}

Deno.test("errorFromJavaThrowable: each class gets the prototype and own properties its constructor gives", () => {
  const cases: [string, new (m: string) => QueryableStateError][] = [
    ["org.apache.flink.queryablestate.exceptions.UnknownKvStateIdException", UnknownKvStateIdError],
    [
      "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException",
      UnknownKeyOrNamespaceError,
    ],
    [
      "org.apache.flink.queryablestate.exceptions.UnknownKvStateKeyGroupLocationException",
      UnknownKvStateKeyGroupLocationError,
    ],
    ["org.apache.flink.queryablestate.network.BadRequestException", BadRequestError],
    ["org.apache.flink.queryablestate.exceptions.UnknownLocationException", UnknownLocationError],
    ["org.apache.flink.runtime.query.UnknownKvStateLocation", UnknownKvStateLocationError],
    ["org.apache.flink.runtime.messages.FlinkJobNotFoundException", FlinkJobNotFoundError],
  ];
  for (const [javaClass, cls] of cases) {
    const t = javaThrowable(javaClass, "the message");
    const built = errorFromJavaThrowable(t);
    const constructed = new cls("the message");
    assertEquals(Object.getPrototypeOf(built), cls.prototype, javaClass);
    assert(built instanceof Error && built instanceof QueryableStateError, javaClass);
    // The constructed one has no remote throwable attached: compare the string keys.
    const strings = (e: object) => shape(e).filter((p) => typeof (p as unknown[])[0] === "string");
    assertEquals(strings(built), strings(constructed), javaClass);
    assertEquals([built.name, String(built)], [cls.name, `${cls.name}: the message`]);
    assertEquals(toJavaThrowable(built), t, "the remote throwable stays attached");
  }
  for (const cause of [null, javaThrowable("java.lang.IllegalStateException", "inner")]) {
    const t = javaThrowable("java.lang.RuntimeException", "outer", cause);
    const built = errorFromJavaThrowable(t);
    assertInstanceOf(built, RemoteError);
    assertEquals(shape(built), shape(new RemoteError(t)), `cause ${cause?.message}`);
    if (cause !== null) assertEquals(shape(built.cause as object), shape(new RemoteError(cause)));
  }
});

vectorTest(
  "errorFromJavaThrowable: Flink's throwables give stacks without JavaScript frames",
  () => {
    let withFrames = 0;
    for (const v of entries("javaSerializedThrowable")) {
      const t = readJavaThrowable(readVector(v.file));
      const e = withDeepJsStacks(() => errorFromJavaThrowable(t));
      const stack = e.stack!;
      assert(!JS_FRAME.test(stack), `${v.file}: ${stack}`);
      assert(stack.startsWith(e.message === "" ? e.name : `${e.name}: ${e.message}`), v.file);
      // A cause read out of a text has no frames of its own: the remote error it came from has them.
      const remote = surfacedFrom(e);
      if (remote !== undefined) {
        assertEquals(stack.split("\n\tat ").length - 1, 0, v.file);
        assert(!JS_FRAME.test(remote.stack!), v.file);
      }
      const framed = remote?.stack ?? stack;
      assertEquals(framed.split("\n\tat ").length - 1, t.stackTrace.length, v.file);
      if (t.stackTrace.length > 0) withFrames++;
    }
    assert(withFrames >= 10, `only ${withFrames} vectors with frames`);
  },
);
