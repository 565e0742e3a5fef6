import {
  DeadlineExceededError,
  FlinkJobNotFoundError,
  formatAddress,
  HttpLocationOracle,
  InMemoryLocationRegistry,
  JobId,
  JobVertexId,
  KvStateId,
  KvStateLocation,
  LocationsFileError,
  locationsToJson,
  parseAddress,
  parseLocations,
  StaticLocationOracle,
  UnknownKvStateLocationError,
} from "../../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { serveHttp } from "./_http.ts";

const JOB = "0102030405060708a1a2a3a4a5a6a7a8";
const ID = "2122232425262728313233343536373a";
const doc = () => ({
  jobs: [{
    jobId: JOB,
    states: [{
      name: "word-counts",
      numKeyGroups: 128,
      keyGroups: [
        { start: 0, end: 63, kvStateId: ID, address: "127.0.0.1:9067" },
        { start: 64, end: 126, kvStateId: ID, address: "[::1]:9068" },
      ],
    }],
  }],
});

Deno.test("KvStateLocation: register, unregister, completeness, bounds", () => {
  const loc = new KvStateLocation(JobId.random(), JobVertexId.random(), 8, "s");
  const id = KvStateId.random();
  assertEquals(loc.isComplete, false);
  loc.registerKvState(0, 3, id, { hostname: "h", port: 1 });
  loc.registerKvState(2, 7, id, { hostname: "h", port: 2 });
  assertEquals(loc.numRegisteredKeyGroups, 8);
  assert(loc.isComplete);
  assertEquals(loc.getAddress(2)?.port, 2, "a later registration wins");
  loc.unregisterKvState(0, 1);
  assertEquals(loc.numRegisteredKeyGroups, 6);
  assertEquals(loc.getKvStateId(0), null);
  assertThrows(() => loc.unregisterKvState(0, 0), RangeError, "Not registered");
  assertThrows(() => loc.getAddress(8), RangeError, "Key group index 8");
  assertThrows(() => loc.registerKvState(5, 4, id, { hostname: "h", port: 1 }), RangeError);
  assertThrows(
    () => new KvStateLocation(JobId.random(), JobVertexId.random(), -1, "s"),
    RangeError,
  );
  assertEquals(loc.ranges().map((r) => [r.start, r.end, r.address.port]), [[2, 7, 2]]);
});

Deno.test("locations file: parse, round trip, and errors naming the bad field", () => {
  const jobs = parseLocations(doc());
  const loc = jobs.get(JOB)!.get("word-counts")!;
  assertEquals(loc.numRegisteredKeyGroups, 127);
  assertEquals(loc.getAddress(127), null, "a group no range covers has no location");
  assertEquals(loc.getAddress(100), { hostname: "::1", port: 9068 });
  const back = locationsToJson([loc]);
  assertEquals(back, doc());
  const cases: Array<[(d: ReturnType<typeof doc>) => unknown, string]> = [
    [() => null, "(root)"],
    [() => ({}), "jobs"],
    [(d) => (d.jobs[0].jobId = "xyz", d), "jobs[0].jobId"],
    [(d) => ((d.jobs[0] as { states: unknown }).states = 5, d), "jobs[0].states"],
    [(d) => ((d.jobs[0].states[0] as { name: unknown }).name = 3, d), "jobs[0].states[0].name"],
    [(d) => (d.jobs[0].states[0].numKeyGroups = 0, d), "jobs[0].states[0].numKeyGroups"],
    [(d) => (d.jobs[0].states[0].keyGroups[1].end = 128, d), "jobs[0].states[0].keyGroups[1].end"],
    [
      (d) => (d.jobs[0].states[0].keyGroups[1].start = -1, d),
      "jobs[0].states[0].keyGroups[1].start",
    ],
    [(d) => (d.jobs[0].states[0].keyGroups[0].end = 70, d), "jobs[0].states[0].keyGroups[1]"],
    [
      (d) => (d.jobs[0].states[0].keyGroups[0].kvStateId = "00", d),
      "jobs[0].states[0].keyGroups[0].kvStateId",
    ],
    [
      (d) => (d.jobs[0].states[0].keyGroups[0].address = "nohost", d),
      "jobs[0].states[0].keyGroups[0].address",
    ],
    [
      (d) => (d.jobs[0].states[0].keyGroups[0].address = "h:70000", d),
      "jobs[0].states[0].keyGroups[0].address",
    ],
    [(d) => (d.jobs.push(d.jobs[0]), d), "jobs[1].jobId"],
  ];
  for (const [mutate, field] of cases) {
    const e = assertThrows(() => parseLocations(mutate(doc())), LocationsFileError);
    assertEquals(e.field, field, e.message);
    assert(e.message.includes(field));
  }
  assertEquals(parseAddress("example.org:1"), { hostname: "example.org", port: 1 });
  assertEquals(formatAddress({ hostname: "::1", port: 5 }), "[::1]:5");
});

Deno.test("StaticLocationOracle: unknown job and unknown state", async () => {
  const oracle = new StaticLocationOracle(doc());
  assertEquals(oracle.jobIds(), [JOB]);
  const loc = await oracle.requestKvStateLocation(JobId.fromHex(JOB), "word-counts");
  assertEquals(loc.numKeyGroups, 128);
  await assertRejects(
    () => oracle.requestKvStateLocation(JobId.random(), "word-counts"),
    FlinkJobNotFoundError,
    "Could not find Flink job",
  );
  await assertRejects(
    () => oracle.requestKvStateLocation(JobId.fromHex(JOB), "nope"),
    UnknownKvStateLocationError,
    "No KvStateLocation found for KvState instance with name 'nope'.",
  );
  assertThrows(() => new StaticLocationOracle({ jobs: "no" }), LocationsFileError);
});

Deno.test("InMemoryLocationRegistry: registrations, clashes, unregistration", async () => {
  const r = new InMemoryLocationRegistry();
  const job = JobId.random();
  const v = JobVertexId.random();
  await assertRejects(() => r.requestKvStateLocation(job, "s"), FlinkJobNotFoundError);
  r.addJob(job);
  await assertRejects(() => r.requestKvStateLocation(job, "s"), UnknownKvStateLocationError);
  const reg = {
    jobId: job,
    jobVertexId: v,
    registrationName: "s",
    numKeyGroups: 4,
    kvStateId: KvStateId.random(),
    address: { hostname: "h", port: 1 },
  };
  r.notifyKvStateRegistered({ ...reg, start: 0, end: 1 });
  r.notifyKvStateRegistered({ ...reg, start: 2, end: 3 });
  assert((await r.requestKvStateLocation(job, "s")).isComplete);
  assertThrows(
    () =>
      r.notifyKvStateRegistered({ ...reg, jobVertexId: JobVertexId.random(), start: 0, end: 0 }),
    TypeError,
    "Registration name clash",
  );
  r.notifyKvStateUnregistered(job, "s", 0, 3);
  await assertRejects(
    () => r.requestKvStateLocation(job, "s"),
    UnknownKvStateLocationError,
    "No KvStateLocation found",
  ); // dropped with its last key group
  assert(r.removeJob(job));
});

Deno.test("HttpLocationOracle: fetches, validates, times out, reports HTTP errors", async () => {
  let mode: "ok" | "bad" | "404" | "hang" = "ok";
  const hangs: Array<() => void> = [];
  const server = serveHttp((req) => {
    if (mode === "404") return new Response("no", { status: 404 });
    if (mode === "bad") return Response.json({ jobs: [{ jobId: JOB, states: [{ name: 1 }] }] });
    if (mode === "hang") {
      return new Promise<Response>((resolve) => {
        const done = () => resolve(new Response("late"));
        hangs.push(done);
        req.signal.addEventListener("abort", done);
      });
    }
    return Response.json(doc());
  });
  const url = `${server.base}/locations.json`;
  try {
    const oracle = new HttpLocationOracle(url, { timeoutMs: 200 });
    const loc = await oracle.requestKvStateLocation(JobId.fromHex(JOB), "word-counts");
    assertEquals(loc.getAddress(0)?.port, 9067);
    await assertRejects(
      () => oracle.requestKvStateLocation(JobId.random(), "word-counts"),
      FlinkJobNotFoundError,
    );
    mode = "bad";
    await assertRejects(
      () => oracle.requestKvStateLocation(JobId.fromHex(JOB), "word-counts"),
      LocationsFileError,
      "jobs[0].states[0].name",
    );
    mode = "404";
    await assertRejects(
      () => oracle.requestKvStateLocation(JobId.fromHex(JOB), "word-counts"),
      Error,
      "HTTP 404",
    );
    mode = "hang";
    await assertRejects(
      () => oracle.requestKvStateLocation(JobId.fromHex(JOB), "word-counts"),
      DeadlineExceededError,
      "timed out after 200 ms",
    );
  } finally {
    for (const h of hangs) h();
    await server.close();
  }
});
