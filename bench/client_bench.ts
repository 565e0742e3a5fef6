/**
 * The client benchmark: one `QueryableStateClient` pipelining queries over
 * one connection to our proxy, for keys that are present (hits) and keys
 * that are absent (misses, answered with `UnknownKeyOrNamespaceError`).
 *
 *   deno run -A bench/client_bench.ts [--rounds 5] [--queries 100000] [--window 128] \
 *     [--warmup 20000] [--keys 1000] [--api typed|bytes] [--json]
 *
 * It starts, each as its own process, the state server with the bench data
 * set (`serve.ts server`, in-memory states) and our proxy in front of it
 * (`serve.ts proxy`); the client runs in this process. A round runs
 * `--queries` hits and `--queries` misses, the order of the two swapped every
 * round (H/M, M/H, ...), each phase with at most `--window` queries
 * outstanding at once (that many loops, each awaiting its query before the
 * next). Queries go to the value state `word-counts` (string keys, long
 * values), keys drawn round-robin over `--keys` present or absent keys.
 *
 * `--api typed` (default) calls `getKvState` (key serialized and hashed per
 * query, the value decoded); `--api bytes` calls `getKvStateBytes` with
 * pre-serialized keys, so that the client's own network path is what is
 * measured.
 *
 * Reported per phase, as medians over the rounds: queries/s, CPU of this
 * process per query (`Deno.cpuUsage()`, user + system, every thread; else
 * `/proc/self/stat`), and
 * the CPU per query of the proxy and of the state server (`/proc/PID/stat`);
 * then the median of the per-round ratios miss/hit of the client CPU per
 * query. Every phase is bounded (60 s); the processes started here are
 * stopped by pid at the end, whatever happens.
 *
 * @module
 */

import { QueryableStateClient, UnknownKeyOrNamespaceError } from "../mod.ts";
import { denoTransport } from "../src/transport/deno.ts";
import { BENCH_JOB_ID, buildBenchStates } from "./_dataset.ts";
import { num, parseArgs, str } from "./_flags.ts";
import { BENCH_DIR, cpuModel, DENO, ProcessGroup } from "./_procs.ts";

const FLAGS = ["rounds", "queries", "window", "warmup", "keys", "api", "json"] as const;
/** A phase that runs longer than this is abandoned (the bench fails). */
const PHASE_BOUND_MS = 60_000;

type Kind = "hit" | "miss";

/** One phase's figures. */
interface PhaseResult {
  readonly kind: Kind;
  readonly queries: number;
  readonly seconds: number;
  readonly qps: number;
  /** CPU µs per query of this process. */
  readonly clientCpuUs: number;
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

/** CPU time of this process, every thread, in µs. */
function selfCpuUs(): number {
  if (cpuUsage === undefined) return procCpuUs(Deno.pid);
  const u = cpuUsage();
  return u.user + u.system;
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
 * answer (a hit must resolve, a miss must reject with
 * `UnknownKeyOrNamespaceError`).
 */
async function phase(
  client: QueryableStateClient,
  kind: Kind,
  queries: readonly Query[],
  count: number,
  window: number,
  api: "typed" | "bytes",
): Promise<void> {
  let issued = 0;
  let wrong: unknown = undefined;
  const deadline = performance.now() + PHASE_BOUND_MS;
  const query = { keyType: "string", valueType: "long" } as const;
  const loop = async () => {
    while (issued < count && wrong === undefined) {
      const q = queries[issued++ % queries.length];
      try {
        if (api === "typed") {
          await client.getKvState(BENCH_JOB_ID, "word-counts", q.key, query);
        } else {
          await client.getKvStateBytes(BENCH_JOB_ID, "word-counts", q.hash, q.kn);
        }
        if (kind === "miss") wrong = new Error(`a miss resolved (key ${q.key})`);
      } catch (e) {
        if (kind === "hit" || !(e instanceof UnknownKeyOrNamespaceError)) wrong = e;
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
  kind: Kind,
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
    clientCpuUs: (c1 - c0) / count,
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

  const group = new ProcessGroup();
  const dir = await Deno.makeTempDir({ prefix: "client_bench_" });
  const stopOnSignal = () => {
    group.killAllNow();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", stopOnSignal);
  try {
    const locations = `${dir}/locations.json`;
    const server = await group.spawnListening(
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
    const proxy = await group.spawnListening(
      "proxy",
      DENO,
      ["run", "-A", `${BENCH_DIR}serve.ts`, "proxy", "--locations", locations],
      "KvStateClientProxy (Deno)",
    );
    const pids = { proxy: proxy.pid, server: server.pid };
    await using client = new QueryableStateClient({
      transport: denoTransport,
      proxy: proxy.address,
    });
    const hits = keysOf("hit", keys);
    const misses = keysOf("miss", keys);
    if (warmup > 0) {
      await phase(client, "hit", hits, warmup, window, api);
      await phase(client, "miss", misses, warmup, window, api);
    }
    const results: { hit: PhaseResult; miss: PhaseResult }[] = [];
    for (let r = 0; r < rounds; r++) {
      const order: Kind[] = r % 2 === 0 ? ["hit", "miss"] : ["miss", "hit"];
      const round: Partial<Record<Kind, PhaseResult>> = {};
      for (const kind of order) {
        round[kind] = await measured(
          client,
          kind,
          kind === "hit" ? hits : misses,
          count,
          window,
          api,
          pids,
        );
      }
      results.push({ hit: round.hit!, miss: round.miss! });
      if (!json) {
        const f = (p: PhaseResult) =>
          `${p.kind} ${Math.round(p.qps)} q/s, client ${p.clientCpuUs.toFixed(2)} µs/q`;
        console.error(`round ${r + 1}/${rounds}: ${f(round.hit!)}; ${f(round.miss!)}`);
      }
    }
    const med = (kind: Kind, field: keyof Omit<PhaseResult, "kind">) =>
      median(results.map((r) => r[kind][field]));
    const summary = {
      cpu: cpuModel(),
      deno: Deno.version.deno,
      api,
      window,
      queriesPerPhase: count,
      rounds,
      hit: {
        qps: med("hit", "qps"),
        clientCpuUs: med("hit", "clientCpuUs"),
        proxyCpuUs: med("hit", "proxyCpuUs"),
        serverCpuUs: med("hit", "serverCpuUs"),
      },
      miss: {
        qps: med("miss", "qps"),
        clientCpuUs: med("miss", "clientCpuUs"),
        proxyCpuUs: med("miss", "proxyCpuUs"),
        serverCpuUs: med("miss", "serverCpuUs"),
      },
      missOverHitClientCpu: median(results.map((r) => r.miss.clientCpuUs / r.hit.clientCpuUs)),
      rawRounds: results,
    };
    if (json) {
      console.log(JSON.stringify(summary));
    } else {
      console.log(
        `client bench: ${api} API, window ${window}, ${count} queries per phase, ` +
          `medians of ${rounds} rounds (${summary.cpu}, Deno ${summary.deno})`,
      );
      console.log(
        "| phase | queries/s | client CPU µs/query | proxy CPU µs/query | server CPU µs/query |",
      );
      console.log("|---|---|---|---|---|");
      for (const kind of ["hit", "miss"] as const) {
        const s = summary[kind];
        console.log(
          `| ${kind} | ${Math.round(s.qps)} | ${s.clientCpuUs.toFixed(2)} | ` +
            `${s.proxyCpuUs.toFixed(2)} | ${s.serverCpuUs.toFixed(2)} |`,
        );
      }
      console.log(
        `miss/hit client CPU per query: ${summary.missOverHitClientCpu.toFixed(2)} ` +
          "(median of the per-round ratios)",
      );
    }
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", stopOnSignal);
    await group.stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
