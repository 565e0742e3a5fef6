import {
  createLogger,
  DEFAULT_LOG_RATE_INTERVAL_MS,
  DEFAULT_LOG_RATE_MAX_EVENTS,
  DEFAULT_MAX_FIELD_LENGTH,
  DEFAULT_MAX_FIELDS,
  formatJson,
  formatText,
  LogRateLimiter,
  OTHER_EVENTS,
  parseLogLevel,
  SILENT_LOGGER,
  SUPPRESSED_EVENT,
} from "../../src/observability/mod.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";

function capture(options: Omit<Parameters<typeof createLogger>[0], "write"> = {}) {
  const lines: string[] = [];
  let now = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  const logger = createLogger({ now: () => now, write: (l) => lines.push(l), ...options });
  return {
    lines,
    logger,
    advance(ms: number) {
      now += ms;
    },
  };
}

Deno.test("logger: levels below the threshold are dropped; off drops everything", () => {
  const { lines, logger } = capture({ level: "warn", rateLimit: false });
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  assertEquals(lines, ["2026-01-02T03:04:05.006Z WARN w", "2026-01-02T03:04:05.006Z ERROR e"]);
  assertEquals([logger.enabled("info"), logger.enabled("warn")], [false, true]);
  const off = capture({ level: "off" });
  off.logger.error("e");
  assertEquals(off.lines, []);
  assertEquals(off.logger.enabled("error"), false);
  const all = capture({ level: "debug" });
  all.logger.debug("d");
  assertEquals(all.lines.length, 1);
  assertEquals(capture().logger.level, "info");
  assertThrows(() => createLogger({ write: () => {}, level: "loud" as never }), RangeError);
  assertThrows(() => createLogger({ write: () => {}, format: "xml" as never }), RangeError);
  assertThrows(() => createLogger({ write: undefined as never }), TypeError);
});

Deno.test("parseLogLevel: any case, off, and a clear error", () => {
  assertEquals(parseLogLevel(" Debug "), "debug");
  assertEquals(parseLogLevel("ERROR"), "error");
  assertEquals(parseLogLevel("off"), "off");
  assertThrows(() => parseLogLevel("verbose"), RangeError, 'Unknown log level "verbose"');
});

Deno.test("text format: fields as name=value, quoted and escaped when needed", () => {
  const line = formatText({
    time: 0,
    level: "error",
    event: "frame_error",
    fields: {
      peer: "10.0.0.2:5000",
      empty: "",
      spaced: "a b",
      eq: "a=b",
      quote: 'say "hi"',
      backslash: "c:\\dir",
      forged: "x\n1970-01-01T00:00:00.000Z INFO fake",
      cr: "a\rb\tc",
      ctl: "\u0000\u001b[31m\u007f\u0085\u2028",
      unicode: "é✓",
      n: 1.5,
      big: 12345678901234567890n,
      yes: true,
      nothing: null,
      left_out: undefined,
      err: new RangeError("too big"),
      bytes: new Uint8Array([0, 1, 0xab]),
      obj: { a: [1, 2n] },
      date: new Date(0),
      nan: NaN,
    },
  });
  assertEquals(
    line,
    '1970-01-01T00:00:00.000Z ERROR frame_error peer=10.0.0.2:5000 empty="" spaced="a b"' +
      ' eq="a=b" quote="say \\"hi\\"" backslash="c:\\\\dir"' +
      ' forged="x\\n1970-01-01T00:00:00.000Z INFO fake" cr="a\\rb\\tc"' +
      ' ctl="\\u0000\\u001b[31m\\u007f\\u0085\\u2028" unicode=é✓ n=1.5 big=12345678901234567890' +
      ' yes=true nothing=null err="RangeError: too big" bytes=0001ab obj="{\\"a\\":[1,\\"2\\"]}"' +
      " date=1970-01-01T00:00:00.000Z nan=NaN",
  );
  assert(!line.includes("\n") && !line.includes("\r") && !line.includes("\u2028"));
});

Deno.test("text and JSON formats: names are sanitized; reserved JSON names prefixed", () => {
  const record = {
    time: 0,
    level: "info" as const,
    event: "bad event\nname",
    fields: { "a b": 1, "x\ny": 2, time: 3, level: 4, event: 5, __proto__x: 6, "1": 7 },
  };
  assertEquals(
    formatText(record),
    "1970-01-01T00:00:00.000Z INFO bad_event_name 1=7 a_b=1 x_y=2 _time=3 _level=4 _event=5 __proto__x=6",
  );
  const json = formatJson(record);
  assertEquals(
    json,
    '{"time":"1970-01-01T00:00:00.000Z","level":"info","event":"bad_event_name","1":7,"a_b":1,' +
      '"x_y":2,"_time":3,"_level":4,"_event":5,"__proto__x":6}',
  );
  const long = formatText({ time: 0, level: "info", event: "e".repeat(500), fields: {} });
  assertEquals(long, `1970-01-01T00:00:00.000Z INFO ${"e".repeat(64)}`);
});

Deno.test("JSON format: one parseable line; special numbers as strings; control characters escaped", () => {
  const { lines, logger } = capture({ format: "json", rateLimit: false });
  logger.warn("upstream_failed", {
    address: "h:1",
    text: 'line\nfeed "q" \u2028 \u0007',
    inf: Infinity,
    nan: NaN,
    n: -2,
    big: -5n,
    err: new Error("boom"),
    bytes: new Uint8Array([255]),
    __proto__: { inherited: true },
  });
  assertEquals(lines.length, 1);
  assert(!lines[0].includes("\n"));
  const o = JSON.parse(lines[0]);
  assertEquals(o, {
    time: "2026-01-02T03:04:05.006Z",
    level: "warn",
    event: "upstream_failed",
    address: "h:1",
    text: 'line\nfeed "q" \u2028 \u0007',
    inf: "Infinity",
    nan: "NaN",
    n: -2,
    big: "-5",
    err: "Error: boom",
    bytes: "ff",
  });
});

Deno.test("bounds: a field is cut at 1024 characters by default, with the count of the rest", () => {
  assertEquals(DEFAULT_MAX_FIELD_LENGTH, 1024);
  assertEquals(DEFAULT_MAX_FIELDS, 32);
  const { lines, logger } = capture({ format: "json", rateLimit: false });
  const remote = "x".repeat(100_000);
  logger.info("frame", {
    remote,
    err: new Error(remote),
    bytes: new Uint8Array(5000),
    obj: { s: remote },
  });
  const o = JSON.parse(lines[0]);
  assertEquals(o.remote, "x".repeat(1024) + `…(${100_000 - 1024} more)`);
  assertEquals(o.err.length, 1024 + `…(${100_000 + 7 - 1024} more)`.length);
  assertEquals(o.bytes, "00".repeat(512) + `…(${5000 - 512} more bytes)`);
  assert(o.obj.startsWith('{"s":"xxx') && o.obj.endsWith(" more)"));
  assert(lines[0].length < 5 * 1024 + 400, `line length ${lines[0].length}`);

  const small = capture({ limits: { maxFieldLength: 4, maxFields: 2 }, rateLimit: false });
  // A surrogate pair is never split.
  small.logger.info("e", { a: "abc😀def", b: "ok", c: "dropped", d: "dropped too" });
  assertEquals(
    small.lines[0],
    '2026-01-02T03:04:05.006Z INFO e a="abc…(5 more)" b=ok fields_dropped=2',
  );
});

Deno.test("logger: child fields, a throwing write or value never escapes", () => {
  const { lines, logger } = capture({ fields: { role: "proxy" }, rateLimit: false });
  const child = logger.child({ upstream: "h:1" });
  child.info("connected", { attempt: 2 });
  child.info("connected", { role: "overridden" });
  logger.info("plain");
  assertEquals(lines, [
    "2026-01-02T03:04:05.006Z INFO connected role=proxy upstream=h:1 attempt=2",
    "2026-01-02T03:04:05.006Z INFO connected role=overridden upstream=h:1",
    "2026-01-02T03:04:05.006Z INFO plain role=proxy",
  ]);
  const hostile = {
    toJSON() {
      throw new Error("no");
    },
  };
  const getterThrows = Object.defineProperty({}, "x", {
    enumerable: true,
    get() {
      throw new Error("getter");
    },
  });
  logger.info("hostile", { v: hostile });
  assertEquals(lines[3], "2026-01-02T03:04:05.006Z INFO hostile role=proxy v=[unprintable]");
  logger.info("hostile", getterThrows); // a field whose read throws: the event is lost, not thrown
  let calls = 0;
  const failing = createLogger({
    write: () => {
      calls++;
      throw new Error("stderr closed");
    },
  });
  failing.error("e");
  failing.child({}).error("e");
  assertEquals(calls, 2);
  assertEquals(failing.writeErrors, 2);
  SILENT_LOGGER.error("nothing", { a: 1 });
  assertEquals(SILENT_LOGGER.enabled("error"), false);
});

Deno.test("rate limit: at most N events per name per interval; the rest reported as one summary", () => {
  assertEquals(DEFAULT_LOG_RATE_MAX_EVENTS, 10);
  assertEquals(DEFAULT_LOG_RATE_INTERVAL_MS, 10_000);
  const { lines, logger, advance } = capture({
    format: "json",
    rateLimit: { maxEvents: 3, intervalMs: 1000 },
  });
  for (let i = 0; i < 100; i++) logger.warn("frame_error", { i });
  logger.info("other_event"); // another name has its own limit
  advance(500);
  for (let i = 0; i < 5; i++) logger.error("frame_error", { i: 100 + i });
  advance(499); // 999 ms after the interval started: not over yet
  logger.info("other_event");
  const events = () => lines.map((l) => JSON.parse(l));
  assertEquals(events().map((e) => `${e.event}:${e.i ?? ""}`), [
    "frame_error:0",
    "frame_error:1",
    "frame_error:2",
    "other_event:",
    "other_event:",
  ]);
  advance(1); // the interval of both names ended
  logger.info("tick");
  const [summary, tick] = events().slice(5);
  assertEquals(summary, {
    time: "2026-01-02T03:04:06.006Z",
    level: "error", // the most severe level left out
    event: SUPPRESSED_EVENT,
    suppressed_event: "frame_error",
    suppressed: 102,
    interval_ms: 1000,
  });
  assertEquals(tick.event, "tick");
  assertEquals(lines.length, 7); // no summary for other_event: nothing was left out
  // A new interval: written again.
  logger.warn("frame_error", { i: 200 });
  assertEquals(events()[7].i, 200);
});

Deno.test("rate limit: flush reports what was left out at once; events below the level do not count", () => {
  const { lines, logger, advance } = capture({
    level: "info",
    rateLimit: { maxEvents: 1, intervalMs: 60_000 },
  });
  for (let i = 0; i < 50; i++) logger.debug("noisy"); // dropped by level, not counted
  logger.info("noisy");
  logger.info("noisy");
  logger.info("noisy");
  advance(10);
  logger.flush();
  logger.flush(); // nothing more to report
  assertEquals(lines, [
    "2026-01-02T03:04:05.006Z INFO noisy",
    "2026-01-02T03:04:05.016Z INFO log_events_suppressed suppressed_event=noisy suppressed=2 interval_ms=10",
  ]);
  logger.info("noisy"); // the flush ended the interval
  assertEquals(lines.length, 3);
  const unlimited = capture({ rateLimit: false });
  for (let i = 0; i < 50; i++) unlimited.logger.info("noisy");
  unlimited.logger.flush();
  assertEquals(unlimited.lines.length, 50);
});

Deno.test("rate limit: past maxTrackedEvents names, new names share one limit", () => {
  const { lines, logger, advance } = capture({
    rateLimit: { maxEvents: 1, intervalMs: 100, maxTrackedEvents: 2 },
  });
  for (const name of ["a", "b", "c", "d", "e"]) logger.warn(name);
  assertEquals(lines.map((l) => l.split(" ")[2]), ["a", "b", "c"]);
  advance(100);
  logger.warn("f");
  assertEquals(
    lines[3],
    `2026-01-02T03:04:05.106Z WARN log_events_suppressed suppressed_event=${OTHER_EVENTS} suppressed=2 interval_ms=100`,
  );
  assertEquals(lines[4], "2026-01-02T03:04:05.106Z WARN f");
});

Deno.test("LogRateLimiter: no timer, ended intervals found by time only; options checked", () => {
  const limiter = new LogRateLimiter({ maxEvents: 0, intervalMs: 10 });
  assertEquals(limiter.admit("x", "info", 0), false);
  assertEquals(limiter.admit("x", "debug", 5), false);
  assertEquals(limiter.takeEnded(9), []);
  assertEquals(limiter.tracked, 1);
  assertEquals(limiter.takeEnded(10), [{ event: "x", suppressed: 2, level: "info", since: 0 }]);
  assertEquals(limiter.tracked, 0);
  assertEquals(limiter.takeEnded(1e9), []);
  assertThrows(() => new LogRateLimiter({ maxEvents: -1 }), RangeError);
  assertThrows(() => new LogRateLimiter({ maxEvents: 1.5 }), RangeError);
  assertThrows(() => new LogRateLimiter({ intervalMs: 0 }), RangeError);
  assertThrows(() => new LogRateLimiter({ maxTrackedEvents: 0 }), RangeError);
  assertThrows(() => createLogger({ write: () => {}, rateLimit: { intervalMs: -5 } }), RangeError);
});
