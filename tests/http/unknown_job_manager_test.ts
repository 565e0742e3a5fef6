/**
 * The gateway's status for `UnknownJobManagerError` (Flink 1.4's proxy knew
 * no JobManager): 503, "retry later", on the value route, in a batch and in
 * a watch stream's `failure`, also when it is only a cause (read out of a
 * wrapping RuntimeException's text or a Java cause chain).
 */

import {
  errorFromJavaThrowable,
  javaThrowable,
  RemoteError,
  UnknownJobManagerError,
  UnknownKvStateLocationError,
} from "../../src/wire/mod.ts";
import { createQueryHandler, errorAnswer, type StateQueryClient } from "../../src/http/mod.ts";
import { assertEquals } from "../_assert.ts";
import { BASE, batchRequest, JOB, read, valueUrl } from "./_plane.ts";

const VALUE = "key=hello&keyType=string&valueType=long";
const CLASS = "org.apache.flink.queryablestate.exceptions.UnknownJobManagerException";

/** A client whose every query rejects with `err`. */
function failing(err: unknown): StateQueryClient {
  return { getKvState: () => Promise.reject(err) };
}

const CASES: Array<[string, () => unknown, string]> = [
  ["typed", () => new UnknownJobManagerError("Unknown JobManager."), "UnknownJobManagerError"],
  [
    // Flink 1.4 behind its proxy: the cause only in the text.
    "named in a RuntimeException's text",
    () =>
      errorFromJavaThrowable(
        javaThrowable(
          "java.lang.RuntimeException",
          "Failed request 3.\n Caused by: " + CLASS + ": Unknown JobManager.\n",
        ),
      ),
    "UnknownJobManagerError",
  ],
  [
    // A RemoteError built as is, with a Java cause: the gateway finds it.
    "a Java cause of a RemoteError",
    () =>
      new RemoteError(
        javaThrowable(
          "java.lang.RuntimeException",
          "Failed request 3.",
          javaThrowable(CLASS, "Unknown JobManager."),
        ),
      ),
    "RemoteError",
  ],
];

Deno.test("UnknownJobManagerError: 503 on the value route (typed, or as a cause), its Java class and message shown", async () => {
  for (const [name, make, type] of CASES) {
    const handler = createQueryHandler({ client: failing(make()) });
    const r = await read(await handler(new Request(valueUrl("counts", VALUE))));
    assertEquals(r.status, 503, name);
    assertEquals(r.body.error.type, type, name);
    assertEquals(r.body.error.javaClass, CLASS, name);
    assertEquals(r.body.error.message, "Unknown JobManager.", name);
  }
});

Deno.test("UnknownJobManagerError in a batch: the query's result has status 503", async () => {
  const handler = createQueryHandler({ client: failing(CASES[1][1]()) });
  const query = {
    jobId: JOB,
    stateName: "counts",
    key: "hello",
    keyType: "string",
    valueType: "long",
  };
  const r = await read(await handler(batchRequest({ queries: [query] })));
  assertEquals(r.status, 200);
  assertEquals(r.body.results[0].error.status, 503);
  assertEquals(r.body.results[0].error.type, "UnknownJobManagerError");
});

Deno.test("UnknownJobManagerError in a watch stream: a failure event with status 503", async () => {
  const handler = createQueryHandler({ client: failing(new UnknownJobManagerError("No JM.")) });
  const res = await handler(
    new Request(`${BASE}/v1/jobs/${JOB}/states/counts/watch?${VALUE}`),
  );
  assertEquals(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const first = (await reader.read()).value ?? "";
    const lines = first.split("\n");
    assertEquals(lines[0], "event: failure");
    const data = JSON.parse(lines[1].slice("data: ".length));
    assertEquals(data.error.status, 503);
    assertEquals(data.error.type, "UnknownJobManagerError");
  } finally {
    await reader.cancel();
  }
});

Deno.test("an unknown state or job as a cause still wins (404) over the 503 of an unknown JobManager around it", () => {
  // An unknown JobManager whose own cause names an unknown state: the 404 is what is known.
  const inner = UnknownKvStateLocationError.forName("x");
  const outer = new UnknownJobManagerError("Unknown JobManager.", { cause: inner });
  const a = errorAnswer(outer);
  assertEquals(a.status, 404);
  assertEquals(a.error.type, "UnknownKvStateLocationError");
  // Alone, 503; other remote failures stay 502.
  assertEquals(errorAnswer(new UnknownJobManagerError("x")).status, 503);
  const other = errorFromJavaThrowable(javaThrowable("java.lang.IllegalStateException", "boom"));
  assertEquals(errorAnswer(other).status, 502);
});
