/**
 * The load generator: its own process, raw `Deno.connect` sockets (Nagle
 * off), one hand-written read loop per connection into a reused buffer, no
 * Web Streams and no library client, so its own cost per request stays
 * small.
 *
 *   deno run -A bench/load.ts --target 127.0.0.1:9069 --mode proxy \
 *     --connections 16 --depth 32 --duration 3 --warmup 1 --seed 1 [--json]
 *   deno run -A bench/load.ts --target 127.0.0.1:9067 --mode direct \
 *     --locations loc.json --connections 1 --depth 128 --requests 100000
 *
 * It pre-encodes a deterministic request mix from the seed (`--hit-ratio`
 * 0.9 by default: present keys; the rest absent keys, answered by a
 * `UnknownKeyOrNamespaceException` failure; uniformly over the four states of
 * the bench data set), keeps `--depth` requests in flight per connection,
 * matches responses by request id, checks every answer (content of a hit,
 * failure class of a miss), and measures each request's latency into a
 * histogram. After `--warmup` seconds it measures for `--duration` seconds
 * (or until `--requests` answers), then stops issuing, drains for at most
 * `--grace` seconds, and prints requests/s, latency percentiles, outcomes and
 * failures by Java class (the class name is read from the serialization
 * stream header; the first failure of each class is parsed in full with
 * `readJavaThrowable` for its message). With `--pids name=PID,...` it also
 * reports those processes' CPU (over the measured window) and RSS.
 *
 * `--mode proxy` sends `KvStateRequest` frames (client to proxy);
 * `--mode direct` sends `KvStateInternalRequest` frames to a state server,
 * with the kvStateIds of `--locations` (a locations file as written by
 * `serve.ts server --write-locations`), or the data set's own ids.
 *
 * Every run is bounded in time: the whole run ends after
 * warmup + duration + grace seconds (`--max-seconds` with `--requests`).
 *
 * @module
 */

import { parseLocations } from "../mod.ts";
import { readJavaThrowable } from "../src/wire/mod.ts";
import { LatencyHistogram } from "./_histogram.ts";
import { BENCH_JOB_ID, buildBenchStates, buildRequestMix, type MixRequest } from "./_dataset.ts";
import { hostPort, num, parseArgs, str } from "./_flags.ts";
import { cpuPercent, type ProcSample, sampleProc } from "./_proc.ts";

const FLAGS = [
  "target",
  "mode",
  "connections",
  "depth",
  "requests",
  "duration",
  "warmup",
  "seed",
  "json",
  "pids",
  "locations",
  "keys",
  "hit-ratio",
  "mix-size",
  "grace",
  "max-seconds",
  "help",
];

const USAGE = "usage: load.ts --target HOST:PORT --mode proxy|direct [--connections K] " +
  "[--depth D] [--requests N | --duration S] [--warmup S] [--seed X] [--json] " +
  "[--pids name=PID,...] [--locations FILE] [--keys N] [--hit-ratio R] [--mix-size N] " +
  "[--grace S] [--max-seconds S]";

const UNKNOWN_KEY_CLASS =
  "org.apache.flink.queryablestate.exceptions.UnknownKeyOrNamespaceException";
const MAX_FRAME = 64 * 1024 * 1024;

/** The report `--json` prints. */
export interface LoadReport {
  /** The target address. */
  target: string;
  /** proxy or direct. */
  mode: string;
  /** Connections asked for. */
  connections: number;
  /** Connections that connected. */
  connected: number;
  /** Requests in flight per connection. */
  depth: number;
  /** The seed. */
  seed: number;
  /** Warm-up, s. */
  warmupS: number;
  /** The measured window, s. */
  windowS: number;
  /** Answers received in the window. */
  completed: number;
  /** completed / windowS. */
  rps: number;
  /** Latency of the answers of the window, µs. */
  latencyUs: ReturnType<LatencyHistogram["summary"]>;
  /** Requests sent over the whole run. */
  sent: number;
  /** Answers received over the whole run. */
  received: number;
  /** Correct hits and correct misses over the whole run. */
  outcomes: { hit: number; miss: number };
  /** REQUEST_FAILURE / SERVER_FAILURE frames by Java class (whole run). */
  failuresByClass: Record<string, number>;
  /** The first message seen per failure class. */
  failureMessages: Record<string, string>;
  /** Wrong or unexpected answers and connection problems, by kind. */
  errors: Record<string, number>;
  /** Sum of `errors`. */
  errorCount: number;
  /** Requests never answered (abandoned at the end). */
  lost: number;
  /** The watched processes over the window. */
  processes: Array<{ name: string; pid: number; cpuPct: number; rssKiB: number; hwmKiB: number }>;
  /** This process's own CPU over the window, % of a core. */
  selfCpuPct: number;
}

class Conn {
  readonly conn: Deno.TcpConn;
  rbuf: Uint8Array = new Uint8Array(1 << 16);
  rlen = 0;
  wbuf: Uint8Array;
  wlen = 0;
  readonly slotId: Float64Array;
  readonly slotSent: Float64Array;
  readonly slotReq: Int32Array;
  readonly free: Int32Array;
  freeTop: number;
  seq = 0;
  cursor: number;
  outstanding = 0;
  dead = false;

  constructor(conn: Deno.TcpConn, depth: number, cursor: number, maxReq: number) {
    this.conn = conn;
    this.wbuf = new Uint8Array(Math.max(1 << 12, depth * maxReq));
    this.slotId = new Float64Array(depth).fill(-1);
    this.slotSent = new Float64Array(depth);
    this.slotReq = new Int32Array(depth);
    this.free = new Int32Array(depth);
    for (let i = 0; i < depth; i++) this.free[i] = depth - 1 - i;
    this.freeTop = depth;
    this.cursor = cursor;
  }
}

function i32(b: Uint8Array, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}

function u32(b: Uint8Array, p: number): number {
  return i32(b, p) >>> 0;
}

const utf8 = new TextDecoder();

/** Options of {@linkcode runLoad}. */
export interface LoadOptions {
  /** host:port. */
  readonly target: string;
  /** proxy or direct. */
  readonly mode: "proxy" | "direct";
  /** Connections. */
  readonly connections: number;
  /** In flight per connection. */
  readonly depth: number;
  /** Measure this many answers (instead of a duration), or 0. */
  readonly requests: number;
  /** Measured window, s (when `requests` is 0). */
  readonly duration: number;
  /** Warm-up, s. */
  readonly warmup: number;
  /** The mix's seed. */
  readonly seed: number;
  /** Fraction of hits. */
  readonly hitRatio: number;
  /** Distinct requests in the mix. */
  readonly mixSize: number;
  /** Keys per state (as the server). */
  readonly keys: number;
  /** Drain time at the end, s. */
  readonly grace: number;
  /** Bound of a `requests` run, s. */
  readonly maxSeconds: number;
  /** A locations document (direct mode). */
  readonly locations?: unknown;
  /** Processes to watch. */
  readonly pids: ReadonlyArray<{ name: string; pid: number }>;
}

/**
 * Runs the load and returns the report.
 *
 * @param o The options.
 * @returns The report.
 */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const states = buildBenchStates(o.keys);
  let kvStateIdFor;
  if (o.mode === "direct" && o.locations !== undefined) {
    const locs = parseLocations(o.locations).get(BENCH_JOB_ID.toString());
    kvStateIdFor = (name: string, kg: number) => locs?.get(name)?.getKvStateId(kg) ?? null;
  }
  const pool: MixRequest[] = buildRequestMix(states, {
    seed: o.seed,
    size: o.mixSize,
    hitRatio: o.hitRatio,
    keys: o.keys,
    mode: o.mode,
    kvStateIdFor,
  });
  const frames = pool.map((r) => r.frame);
  const expected = pool.map((r) => r.expected);
  const maxReq = Math.max(...frames.map((f) => f.length));
  const D = o.depth;
  const { hostname, port } = hostPort(o.target);

  const hist = new LatencyHistogram();
  const outcomes = { hit: 0, miss: 0 };
  const failuresByClass: Record<string, number> = {};
  const failureMessages: Record<string, string> = {};
  const errors: Record<string, number> = {};
  const err = (kind: string) => (errors[kind] = (errors[kind] ?? 0) + 1);
  let sent = 0;
  let received = 0;
  let completed = 0;

  // Connect all.
  const conns: Conn[] = [];
  await Promise.all(
    Array.from({ length: o.connections }, async (_, i) => {
      try {
        const c = await Deno.connect({ hostname, port });
        c.setNoDelay(true);
        const cursor = Math.floor((i * pool.length) / o.connections);
        conns.push(new Conn(c, D, cursor, maxReq));
      } catch (e) {
        err(`connect: ${(e as Error).name}`);
      }
    }),
  );

  const t0 = performance.now();
  const tWarmEnd = t0 + o.warmup * 1000;
  let tEnd = o.requests > 0 ? t0 + o.maxSeconds * 1000 : tWarmEnd + o.duration * 1000;
  const hardEnd = (o.requests > 0 ? t0 + o.maxSeconds * 1000 : tEnd) + o.grace * 1000;
  let stopIssuing = false;
  let windowClosed = false;
  let startSamples: Array<ProcSample | null> = [];
  let endSamples: Array<ProcSample | null> = [];
  let selfStart: ProcSample | null = null;
  let selfEnd: ProcSample | null = null;
  let started = false;
  const sampleAll = () => o.pids.map((p) => sampleProc(p.pid));

  const phase = (now: number) => {
    if (!started && now >= tWarmEnd) {
      started = true;
      startSamples = sampleAll();
      selfStart = sampleProc(Deno.pid);
    }
    if (!windowClosed && (now >= tEnd || (o.requests > 0 && completed >= o.requests))) {
      windowClosed = true;
      stopIssuing = true;
      if (o.requests > 0) tEnd = now;
      endSamples = sampleAll();
      selfEnd = sampleProc(Deno.pid);
    }
  };

  // Failure class names, cached by their serialized bytes.
  const classCache: Array<{ bytes: Uint8Array; name: string }> = [];
  const classOf = (b: Uint8Array, start: number, end: number): string => {
    // AC ED 00 05 | 73 TC_OBJECT | 72 TC_CLASSDESC | u16 length | name
    if (
      end - start < 8 || b[start] !== 0xac || b[start + 1] !== 0xed || b[start + 4] !== 0x73 ||
      b[start + 5] !== 0x72
    ) return "(unparsed)";
    const n = (b[start + 6] << 8) | b[start + 7];
    const s = start + 8;
    if (s + n > end) return "(unparsed)";
    outer: for (const e of classCache) {
      if (e.bytes.length !== n) continue;
      for (let i = 0; i < n; i++) if (e.bytes[i] !== b[s + i]) continue outer;
      return e.name;
    }
    const bytes = b.slice(s, s + n);
    const name = utf8.decode(bytes);
    classCache.push({ bytes, name });
    return name;
  };
  const noteFailure = (cls: string, b: Uint8Array, start: number, end: number) => {
    failuresByClass[cls] = (failuresByClass[cls] ?? 0) + 1;
    if (failureMessages[cls] === undefined) {
      try {
        failureMessages[cls] = readJavaThrowable(b.subarray(start, end)).message ?? "";
      } catch (e) {
        failureMessages[cls] = `(unreadable: ${(e as Error).message})`;
      }
    }
  };

  const fill = (c: Conn, now: number) => {
    const n = pool.length;
    while (c.freeTop > 0 && !stopIssuing) {
      const slot = c.free[--c.freeTop];
      const idx = c.cursor;
      c.cursor = idx + 1 === n ? 0 : idx + 1;
      const f = frames[idx];
      if (c.wlen + f.length > c.wbuf.length) {
        const g = new Uint8Array(c.wbuf.length * 2 + f.length);
        g.set(c.wbuf.subarray(0, c.wlen));
        c.wbuf = g;
      }
      const w = c.wbuf;
      const p = c.wlen;
      w.set(f, p);
      const id = c.seq++ * D + slot;
      const hi = Math.floor(id / 4294967296);
      const lo = id >>> 0;
      w[p + 12] = hi >>> 24;
      w[p + 13] = hi >>> 16;
      w[p + 14] = hi >>> 8;
      w[p + 15] = hi;
      w[p + 16] = lo >>> 24;
      w[p + 17] = lo >>> 16;
      w[p + 18] = lo >>> 8;
      w[p + 19] = lo;
      c.wlen = p + f.length;
      c.slotId[slot] = id;
      c.slotSent[slot] = now;
      c.slotReq[slot] = idx;
      c.outstanding++;
      sent++;
    }
  };

  const flush = async (c: Conn) => {
    let off = 0;
    const end = c.wlen;
    while (off < end) off += await c.conn.write(c.wbuf.subarray(off, end));
    c.wlen = 0;
  };

  const onFrame = (c: Conn, b: Uint8Array, p: number, len: number, now: number) => {
    const type = i32(b, p + 8);
    const end = p + 4 + len;
    if (type === 3) {
      const cls = classOf(b, p + 12, end);
      noteFailure(`SERVER_FAILURE ${cls}`, b, p + 12, end);
      err("SERVER_FAILURE");
      return;
    }
    if ((type !== 1 && type !== 2) || len < 16) {
      err(`unexpected message type ${type}`);
      return;
    }
    const id = u32(b, p + 12) * 4294967296 + u32(b, p + 16);
    const slot = id % D;
    if (c.slotId[slot] !== id) {
      err("unmatched request id");
      return;
    }
    c.slotId[slot] = -1;
    c.free[c.freeTop++] = slot;
    c.outstanding--;
    received++;
    const want = expected[c.slotReq[slot]];
    if (type === 1) {
      const n = i32(b, p + 20);
      if (want === null) err("answer for an absent key");
      else if (n !== want.length || 24 + n > 4 + len) err("wrong content");
      else {
        let same = true;
        const s = p + 24;
        for (let i = 0; i < n; i++) {
          if (b[s + i] !== want[i]) {
            same = false;
            break;
          }
        }
        if (same) outcomes.hit++;
        else err("wrong content");
      }
    } else {
      const cls = classOf(b, p + 20, end);
      noteFailure(cls, b, p + 20, end);
      if (want === null && cls === UNKNOWN_KEY_CLASS) outcomes.miss++;
      else err(`failure for a present key: ${cls}`);
    }
    if (started && !windowClosed) {
      hist.record(now - c.slotSent[slot]);
      completed++;
    }
  };

  const run = async (c: Conn) => {
    try {
      fill(c, performance.now());
      await flush(c);
      for (;;) {
        if (stopIssuing && c.outstanding === 0) return;
        if (c.rlen === c.rbuf.length) {
          const g = new Uint8Array(c.rbuf.length * 2);
          g.set(c.rbuf);
          c.rbuf = g;
        }
        const n = await c.conn.read(c.rbuf.subarray(c.rlen));
        if (n === null) {
          if (!c.dead) err("connection closed by peer");
          return;
        }
        const now = performance.now();
        const b = c.rbuf;
        const total = c.rlen + n;
        let p = 0;
        while (total - p >= 4) {
          const len = i32(b, p);
          if (len < 0 || len > MAX_FRAME) {
            err("bad frame length");
            return;
          }
          if (total - p < 4 + len) {
            if (4 + len > b.length) {
              const g = new Uint8Array(4 + len);
              g.set(b.subarray(p, total));
              c.rbuf = g;
              c.rlen = total - p;
              p = -1;
            }
            break;
          }
          onFrame(c, b, p, len, now);
          p += 4 + len;
        }
        if (p >= 0) {
          if (p > 0 && p < total) b.copyWithin(0, p, total);
          c.rlen = total - p;
        }
        phase(now);
        if (!stopIssuing && c.freeTop > 0) {
          fill(c, now);
          await flush(c);
        }
      }
    } catch (e) {
      if (!c.dead) err(`connection error: ${(e as Error).name}`);
    } finally {
      c.dead = true;
    }
  };

  let hardTimer: ReturnType<typeof setTimeout> | undefined;
  const ended = new Promise<void>((resolve) => {
    hardTimer = setTimeout(() => {
      phase(performance.now());
      stopIssuing = true;
      for (const c of conns) {
        if (!c.dead) {
          c.dead = true;
          try {
            c.conn.close();
          } catch {
            // already closed
          }
        }
      }
      resolve();
    }, Math.max(0, hardEnd - performance.now()));
  });
  // A timer also closes the window when no answer arrives to notice it.
  const windowTimer = o.requests > 0
    ? undefined
    : setTimeout(() => phase(performance.now()), Math.max(0, tEnd - performance.now()));
  const warmTimer = setTimeout(() => phase(performance.now()), Math.max(0, tWarmEnd - t0));
  await Promise.race([Promise.all(conns.map(run)), ended]);
  clearTimeout(hardTimer);
  clearTimeout(windowTimer);
  clearTimeout(warmTimer);
  phase(performance.now());
  let lost = 0;
  for (const c of conns) {
    lost += c.outstanding;
    if (!c.dead) {
      c.dead = true;
      try {
        c.conn.close();
      } catch {
        // already closed
      }
    }
  }
  const windowS = started ? (tEnd - tWarmEnd) / 1000 : 0;
  return {
    target: o.target,
    mode: o.mode,
    connections: o.connections,
    connected: conns.length,
    depth: D,
    seed: o.seed,
    warmupS: o.warmup,
    windowS: Math.round(windowS * 1000) / 1000,
    completed,
    rps: windowS > 0 ? Math.round(completed / windowS) : 0,
    latencyUs: hist.summary(),
    sent,
    received,
    outcomes,
    failuresByClass,
    failureMessages,
    errors,
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
    lost,
    processes: o.pids.map((p, i) => {
      const a = startSamples[i];
      const b = endSamples[i];
      return {
        name: p.name,
        pid: p.pid,
        cpuPct: a && b ? Math.round(cpuPercent(a, b) * 10) / 10 : -1,
        rssKiB: b?.rssKiB ?? -1,
        hwmKiB: b?.hwmKiB ?? -1,
      };
    }),
    selfCpuPct: selfStart && selfEnd ? Math.round(cpuPercent(selfStart, selfEnd) * 10) / 10 : -1,
  };
}

function parsePids(text: string): Array<{ name: string; pid: number }> {
  if (text === "") return [];
  return text.split(",").map((item, i) => {
    const eq = item.indexOf("=");
    const name = eq >= 0 ? item.slice(0, eq) : `pid${i}`;
    const pid = Number(eq >= 0 ? item.slice(eq + 1) : item);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`--pids: bad pid in ${item}`);
    return { name, pid };
  });
}

function printHuman(r: LoadReport): void {
  const l = r.latencyUs;
  console.log(
    `${r.mode} ${r.target} ${r.connected}/${r.connections}x${r.depth}: ` +
      `${r.rps.toLocaleString("en-US")} req/s over ${r.windowS} s (${r.completed} answers); ` +
      `latency p50 ${l.p50} µs, p99 ${l.p99} µs, p99.9 ${l.p999} µs, max ${l.max} µs`,
  );
  console.log(
    `  outcomes: ${r.outcomes.hit} hits, ${r.outcomes.miss} misses; sent ${r.sent}, ` +
      `received ${r.received}, lost ${r.lost}; errors ${r.errorCount}` +
      (r.errorCount > 0 ? ` ${JSON.stringify(r.errors)}` : ""),
  );
  for (const [cls, n] of Object.entries(r.failuresByClass)) {
    console.log(`  failures ${cls}: ${n} (${JSON.stringify(r.failureMessages[cls])})`);
  }
  for (const p of r.processes) {
    console.log(
      `  ${p.name} (pid ${p.pid}): CPU ${p.cpuPct}% of a core, RSS ${p.rssKiB} KiB ` +
        `(peak ${p.hwmKiB} KiB)`,
    );
  }
  console.log(`  load generator CPU ${r.selfCpuPct}% of a core`);
}

async function main(): Promise<number> {
  let o: LoadOptions;
  let json = false;
  try {
    const a = parseArgs(Deno.args, FLAGS);
    if (a.flags.help) {
      console.log(USAGE);
      return 0;
    }
    const mode = str(a, "mode", "proxy");
    if (mode !== "proxy" && mode !== "direct") throw new Error("--mode: proxy or direct");
    const locations = a.flags.locations === undefined
      ? undefined
      : JSON.parse(await Deno.readTextFile(str(a, "locations")));
    json = a.flags.json === true;
    o = {
      target: str(a, "target"),
      mode,
      connections: Math.max(1, Math.floor(num(a, "connections", 1))),
      depth: Math.max(1, Math.floor(num(a, "depth", 1))),
      requests: Math.floor(num(a, "requests", 0)),
      duration: num(a, "duration", 3),
      warmup: num(a, "warmup", 1),
      seed: Math.floor(num(a, "seed", 1)),
      hitRatio: Math.min(1, num(a, "hit-ratio", 0.9)),
      mixSize: Math.max(1, Math.floor(num(a, "mix-size", 4096))),
      keys: Math.max(1, Math.floor(num(a, "keys", 1000))),
      grace: num(a, "grace", 2),
      maxSeconds: num(a, "max-seconds", 60),
      locations,
      pids: parsePids(str(a, "pids", "")),
    };
    hostPort(o.target);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const report = await runLoad(o);
  if (json) console.log(JSON.stringify(report));
  else printHuman(report);
  return report.connected === 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
