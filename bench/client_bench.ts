/**
 * The client benchmark: one `QueryableStateClient` pipelining queries over
 * one connection to our proxy, for keys that are present (hits) and keys
 * that are absent (misses): through `getKvState` (a miss rejects with
 * `UnknownKeyOrNamespaceError`) and through `getKvStateIfPresent` (a miss
 * resolves `undefined`, no error built).
 *
 *   deno run -A bench/client_bench.ts [--rounds 5] [--queries 100000] [--window 128] \
 *     [--warmup 20000] [--keys 1000] [--api typed|bytes] [--phases LIST] \
 *     [--upstream proxy|fast] [--json]
 *
 * It starts, each as its own process, the state server with the bench data
 * set (`serve.ts server`, in-memory states) and our proxy in front of it
 * (`serve.ts proxy`); the client runs in this process. A round runs four
 * phases of `--queries` queries each: hits and misses through `getKvState`
 * (`hit`, `miss`) and through `getKvStateIfPresent` (`hit-if-present`,
 * `miss-if-present`), their order rotated by one every round, each phase with
 * at most `--window` queries
 * outstanding at once (that many loops, each awaiting its query before the
 * next). Queries go to the value state `word-counts` (string keys, long
 * values), keys drawn round-robin over `--keys` present or absent keys.
 *
 * `--upstream fast` puts `fast_client_proxy.ts` in place of the proxy and
 * the state server: one process answering from pre-encoded frames (the same
 * bytes), at about the same cost for a hit and a miss, so that the client's
 * own cost per hit and per miss is compared at the same pace (the server
 * column is then empty).
 *
 * `--phases` runs only the phases listed (comma-separated, e.g.
 * `hit-if-present,miss-if-present`, to profile one with `--cpu-prof`); the
 * ratios to `hit` are then left out.
 *
 * `--api typed` (default) calls `getKvState` (key serialized and hashed per
 * query, the value decoded); `--api bytes` calls `getKvStateBytes` with
 * pre-serialized keys (and `getKvStateBytesIfPresent`), so that the client's
 * own network path is what is measured.
 *
 * Reported per phase, as medians over the rounds: queries/s, CPU of this
 * process per query (`Deno.cpuUsage()`, user + system, every thread; else
 * `/proc/self/stat`), and
 * the CPU per query of the proxy and of the state server (`/proc/PID/stat`);
 * then the medians of the per-round ratios of the client CPU per query of
 * each phase to that of `hit`. Every phase is bounded (60 s); the processes started here are
 * stopped by pid at the end, whatever happens.
 *
 * @module
 */

import { QueryableStateClient, UnknownKeyOrNamespaceError } from "../mod.ts";
import { denoTransport } from "../src/transport/deno.ts";
import { BENCH_JOB_ID, buildBenchStates } from "./_dataset.ts";
import { num, parseArgs, str } from "./_flags.ts";
import { BENCH_DIR, cpuModel, DENO, ProcessGroup } from "./_procs.ts";

const FLAGS = [
  "rounds",
  "queries",
  "window",
  "warmup",
  "keys",
  "api",
  "phases",
  "upstream",
  "json",
] as const;
/** A phase that runs longer than this is abandoned (the bench fails). */
const PHASE_BOUND_MS = 60_000;

type Kind = "hit" | "miss";
/** A phase: hits or misses, through `getKvState` or `getKvStateIfPresent`. */
type PhaseName = Kind | "hit-if-present" | "miss-if-present";
const ALL_PHASES: readonly PhaseName[] = ["hit", "miss", "hit-if-present", "miss-if-present"];
const kindOf = (p: PhaseName): Kind => p.startsWith("hit") ? "hit" : "miss";

/** One phase's figures. */
interface PhaseResult {
  readonly kind: PhaseName;
  readonly queries: number;
  readonly seconds: number;
  readonly qps: number;
  /** CPU µs per query of this process. */
  readonly clientCpuUs: number;
  /** The system (kernel) part of `clientCpuUs` (NaN without `Deno.cpuUsage`). */
  readonly clientSysCpuUs: number;
  /** CPU µs per query of the proxy process. */
  readonly proxyCpuUs: number;
  /** CPU µs per query of the state server process. */
  readonly serverCpuUs: number;
}

/** CPU time of a process (user + system), in µs, from `/proc/PID/stat`. */
function procCpuUs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) start after ")".
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    return ticks * 10_000; // USER_HZ = 100 on Linux
  } catch {
    return NaN;
  }
}

/** `Deno.cpuUsage` (µs, not in the stable type declarations), where the runtime has it. */
const cpuUsage = (Deno as unknown as { cpuUsage?: () => { user: number; system: number } })
  .cpuUsage;

/** CPU time of this process, every thread, in µs: user + system, and system alone. */
function selfCpuUs(): { total: number; system: number } {
  if (cpuUsage === undefined) return { total: procCpuUs(Deno.pid), system: NaN };
  const u = cpuUsage();
  return { total: u.user + u.system, system: u.system };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Query {
  readonly key: string;
  readonly kn: Uint8Array;
  readonly hash: number;
}

function keysOf(kind: Kind, keys: number): Query[] {
  const s = buildBenchStates(Math.min(keys, 1))[0]; // word-counts: string -> long
  const out: Query[] = [];
  for (let i = 0; i < keys; i++) {
    const key = kind === "hit" ? `word-${i}` : `absent-${i}`;
    const { kn, hash } = kind === "hit" ? s.presentKey(i) : s.absentKey(i);
    out.push({ key, kn, hash });
  }
  return out;
}

/**
 * Runs `count` queries with at most `window` outstanding; checks every
 * answer (a hit must resolve a value; a miss must reject with
 * `UnknownKeyOrNamespaceError`, or resolve `undefined` through
 * `getKvStateIfPresent`).
 */
async function phase(
  client: QueryableStateClient,
  name: PhaseName,
  queries: readonly Query[],
  count: number,
  window: number,
  api: "typed" | "bytes",
): Promise<void> {
  let issued = 0;
  let wrong: unknown = undefined;
  const deadline = performance.now() + PHASE_BOUND_MS;
  const query = { keyType: "string", valueType: "long" } as const;
  const kind = kindOf(name);
  const ifPresent = name !== kind;
  const loop = async () => {
    while (issued < count && wrong === undefined) {
      const q = queries[issued++ % queries.length];
      try {
        let v: unknown;
        if (ifPresent) {
          v = api === "typed"
            ? await client.getKvStateIfPresent(BENCH_JOB_ID, "word-counts", q.key, query)
            : await client.getKvStateBytesIfPresent(BENCH_JOB_ID, "word-counts", q.hash, q.kn);
        } else if (api === "typed") {
          v = await client.getKvState(BENCH_JOB_ID, "word-counts", q.key, query);
        } else {
          v = await client.getKvStateBytes(BENCH_JOB_ID, "word-counts", q.hash, q.kn);
        }
        if ((kind === "miss") !== (v === undefined)) {
          wrong = new Error(`${name}: key ${q.key} answered ${String(v)}`);
        }
      } catch (e) {
        if (kind === "hit" || ifPresent || !(e instanceof UnknownKeyOrNamespaceError)) wrong = e;
      }
      if ((issued & 1023) === 0 && performance.now() > deadline) {
        wrong = new Error(`phase over its bound of ${PHASE_BOUND_MS} ms`);
      }
    }
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < window; i++) loops.push(loop());
  await Promise.all(loops);
  if (wrong !== undefined) throw wrong;
}

async function measured(
  client: QueryableStateClient,
  kind: PhaseName,
  queries: readonly Query[],
  count: number,
  window: number,
  api: "typed" | "bytes",
  pids: { proxy: number; server: number },
): Promise<PhaseResult> {
  const p0 = procCpuUs(pids.proxy);
  const s0 = procCpuUs(pids.server);
  const c0 = selfCpuUs();
  const t0 = performance.now();
  await phase(client, kind, queries, count, window, api);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = selfCpuUs();
  const p1 = procCpuUs(pids.proxy);
  const s1 = procCpuUs(pids.server);
  return {
    kind,
    queries: count,
    seconds,
    qps: count / seconds,
    clientCpuUs: (c1.total - c0.total) / count,
    clientSysCpuUs: (c1.system - c0.system) / count,
    proxyCpuUs: (p1 - p0) / count,
    serverCpuUs: (s1 - s0) / count,
  };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(Deno.args, FLAGS);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const rounds = Math.max(1, Math.floor(num(args, "rounds", 5)));
  const count = Math.max(1, Math.floor(num(args, "queries", 100_000)));
  const window = Math.max(1, Math.floor(num(args, "window", 128)));
  const warmup = Math.floor(num(args, "warmup", 20_000));
  const keys = Math.max(1, Math.floor(num(args, "keys", 1000)));
  const api = str(args, "api", "typed");
  if (api !== "typed" && api !== "bytes") {
    console.error(`--api: expected typed or bytes, got ${JSON.stringify(api)}`);
    return 2;
  }
  const json = args.flags.json === true;
  const upstream = str(args, "upstream", "proxy");
  if (upstream !== "proxy" && upstream !== "fast") {
    console.error(`--upstream: expected proxy or fast, got ${JSON.stringify(upstream)}`);
    return 2;
  }
  const listed = str(args, "phases", ALL_PHASES.join(",")).split(",");
  const unknown = listed.filter((p) => !ALL_PHASES.includes(p as PhaseName));
  if (unknown.length > 0 || listed.length === 0) {
    console.error(`--phases: expected some of ${ALL_PHASES.join(",")}, got ${unknown.join(",")}`);
    return 2;
  }
  const PHASES = ALL_PHASES.filter((p) => listed.includes(p));
  const withHit = PHASES.includes("hit");

  const group = new ProcessGroup();
  const dir = await Deno.makeTempDir({ prefix: "client_bench_" });
  const stopOnSignal = () => {
    group.killAllNow();
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", stopOnSignal);
  try {
    let proxy;
    let server;
    if (upstream === "fast") {
      proxy = await group.spawnListening(
        "proxy",
        DENO,
        ["run", "-A", `${BENCH_DIR}fast_client_proxy.ts`, "--keys", String(keys)],
        "fast_client_proxy.ts: pre-encoded answers (Deno)",
      );
    } else {
      const locations = `${dir}/locations.json`;
      server = await group.spawnListening(
        "server",
        DENO,
        [
          "run",
          "-A",
          `${BENCH_DIR}serve.ts`,
          "server",
          "--keys",
          String(keys),
          "--write-locations",
          locations,
        ],
        "KvStateServer, in-memory states (Deno)",
      );
      proxy = await group.spawnListening(
        "proxy",
        DENO,
        ["run", "-A", `${BENCH_DIR}serve.ts`, "proxy", "--locations", locations],
        "KvStateClientProxy (Deno)",
      );
    }
    const pids = { proxy: proxy.pid, server: server?.pid ?? -1 };
    await using client = new QueryableStateClient({
      transport: denoTransport,
      proxy: proxy.address,
    });
    const hits = keysOf("hit", keys);
    const misses = keysOf("miss", keys);
    if (warmup > 0) {
      for (const name of PHASES) {
        await phase(client, name, kindOf(name) === "hit" ? hits : misses, warmup, window, api);
      }
    }
    const results: Record<PhaseName, PhaseResult>[] = [];
    for (let r = 0; r < rounds; r++) {
      // Rotated by one every round, so that no phase always runs first or after the same one.
      const order = PHASES.map((_, i) => PHASES[(i + r) % PHASES.length]);
      const round: Partial<Record<PhaseName, PhaseResult>> = {};
      for (const name of order) {
        round[name] = await measured(
          client,
          name,
          kindOf(name) === "hit" ? hits : misses,
          count,
          window,
          api,
          pids,
        );
      }
      results.push(round as Record<PhaseName, PhaseResult>);
      if (!json) {
        const f = (p: PhaseResult) =>
          `${p.kind} ${Math.round(p.qps)} q/s, client ${p.clientCpuUs.toFixed(2)} µs/q`;
        console.error(`round ${r + 1}/${rounds}: ${order.map((n) => f(round[n]!)).join("; ")}`);
      }
    }
    const med = (kind: PhaseName, field: keyof Omit<PhaseResult, "kind">) =>
      median(results.map((r) => r[kind][field]));
    const phaseSummary = (kind: PhaseName) =>
      PHASES.includes(kind)
        ? {
          qps: med(kind, "qps"),
          clientCpuUs: med(kind, "clientCpuUs"),
          clientSysCpuUs: med(kind, "clientSysCpuUs"),
          proxyCpuUs: med(kind, "proxyCpuUs"),
          serverCpuUs: med(kind, "serverCpuUs"),
        }
        : null;
    const overHit = (kind: PhaseName) =>
      withHit && PHASES.includes(kind)
        ? median(results.map((r) => r[kind].clientCpuUs / r.hit.clientCpuUs))
        : null;
    const summary = {
      cpu: cpuModel(),
      deno: Deno.version.deno,
      api,
      upstream,
      window,
      queriesPerPhase: count,
      rounds,
      hit: phaseSummary("hit"),
      miss: phaseSummary("miss"),
      hitIfPresent: phaseSummary("hit-if-present"),
      missIfPresent: phaseSummary("miss-if-present"),
      missOverHitClientCpu: overHit("miss"),
      hitIfPresentOverHitClientCpu: overHit("hit-if-present"),
      missIfPresentOverHitClientCpu: overHit("miss-if-present"),
      rawRounds: results,
    };
    if (json) {
      console.log(JSON.stringify(summary));
    } else {
      console.log(
        `client bench: ${api} API, upstream ${upstream}, window ${window}, ` +
          `${count} queries per phase, ` +
          `medians of ${rounds} rounds (${summary.cpu}, Deno ${summary.deno})`,
      );
      console.log(
        "| phase | queries/s | client CPU µs/query (of which system) | proxy CPU µs/query | " +
          "server CPU µs/query |",
      );
      console.log("|---|---|---|---|---|");
      for (const kind of PHASES) {
        const s = phaseSummary(kind)!;
        console.log(
          `| ${kind} | ${Math.round(s.qps)} | ${s.clientCpuUs.toFixed(2)} ` +
            `(${s.clientSysCpuUs.toFixed(2)}) | ` +
            `${s.proxyCpuUs.toFixed(2)} | ${s.serverCpuUs.toFixed(2)} |`,
        );
      }
      const ratios = PHASES.filter((p) => p !== "hit" && withHit).map((p) =>
        `${p} ${overHit(p)!.toFixed(2)}`
      );
      if (ratios.length > 0) {
        console.log(
          `client CPU per query over hit's (medians of the per-round ratios): ${ratios.join(", ")}`,
        );
      }
    }
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", stopOnSignal);
    await group.stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
