/**
 * The upstream-mode benchmark (issue 14), in one command:
 *
 *   deno run -A bench/upstream_bench.ts [--rounds 3] [--duration 2] [--warmup 1] \
 *     [--shapes 1x1,1x128,16x32] [--targets ours-deno,upstream-1,upstream-2] \
 *     [--failover-shape 16x32] [--no-failover] [--out results.json]
 *
 * Every process its own, on loopback: the native upstream
 * (`native/upstream.c`, as `run_proxy_bench.ts --server native` builds and
 * starts it), two of our proxies in front of it (`serve.ts proxy`, Deno
 * transport: the members M1 and M2), our proxy in upstream mode
 * (`serve_upstream.ts`) with a pool of M1 (the front F1) and one with a pool
 * of M1 and M2 (the front F2), and the load generator (`load.ts`). Targets:
 *
 * - `ours-deno`: the load generator → M1 → native (the proxy as issue 10
 *   measured it; the reference of the ratios);
 * - `upstream-1`: load → F1 → M1 → native (one more hop: a proxy of ours in
 *   upstream mode in front of `ours-deno`);
 * - `upstream-2`: load → F2 → M1 or M2 → native (the pool spreads by least
 *   outstanding requests);
 * - `upstream-cli` (only when named): load → the CLI
 *   (`examples/proxy.ts --upstream-proxies M1,M2`) → M1 or M2 → native.
 *
 * Round after round, each target at each shape (connections × depth), the
 * order rotated every round. It prints medians of the rounds: requests/s,
 * p50/p99/p99.9, CPU per answered request of the front (the target) and of
 * the whole chain (front + members + native upstream), then ratios against
 * `ours-deno`, each the median of per-round ratios (both sides from the same
 * round).
 *
 * Then, unless `--no-failover`: a member killed under load. A fresh member
 * M3 and a front F3 with the pool [M1, M3]; one run of `--failover-shape`
 * without a kill (the baseline), then one in which M3 gets SIGKILL about
 * 1 s into the measured window. It reports, for both: errors and requests
 * lost (the load generator checks every answer, and counts requests never
 * answered), p50/p99/p99.9/max over the 2 s window, where the kill fell in
 * it, and the front's pool afterwards (failovers, members up). The window
 * holds the failover and a steady state after it: its p99.9 and max are what
 * the failover costs.
 *
 * Bounded: each load run ends after warm-up + duration + 2 s (killed 15 s
 * later), and the whole command takes about rounds × shapes × targets ×
 * (warm-up + duration + ~0.7 s) plus ~10 s for the failover. It kills only the
 * processes it started, by pid.
 *
 * @module
 */

import {
  parseArgs,
  parseShape,
  ROUND_FLAGS,
  roundFlags,
  type Shape,
  str,
  targetsFlag,
} from "./_flags.ts";
import type { LoadReport } from "./load.ts";
import {
  BENCH_DIR,
  DENO,
  type ListeningProcess,
  loadArgs,
  openHarness,
  type ProcessGroup,
  runLoadProcess,
} from "./_procs.ts";
import {
  type Column,
  fmt1,
  fmt2,
  fmtInt,
  loadCells,
  machineLine,
  median,
  pad,
  perRoundRatios,
  printSetup,
  ratioLine,
  type RoundResult,
  tableHeader,
  tableLine,
  writeReport,
} from "./_report.ts";
import { buildNativeOrSay, startNativeUpstream } from "./native/_build.ts";

const ALL_TARGETS = ["ours-deno", "upstream-1", "upstream-2", "upstream-cli"] as const;
type TargetName = typeof ALL_TARGETS[number];
const DEFAULT_TARGETS = "ours-deno,upstream-1,upstream-2";

const EXAMPLES_PROXY = new URL("../examples/proxy.ts", import.meta.url).pathname;

/** CPU µs per answered request of the watched processes whose names pass `pick`. */
function cpuPerRequest(r: LoadReport, pick: (name: string) => boolean): number {
  if (!(r.rps > 0)) return NaN;
  let pct = 0;
  let any = false;
  for (const p of r.processes) {
    if (!pick(p.name)) continue;
    if (p.cpuPct < 0) return NaN;
    pct += p.cpuPct;
    any = true;
  }
  return any ? (pct / 100) * 1e6 / r.rps : NaN;
}

const front = (r: LoadReport) => cpuPerRequest(r, (n) => n === "target");
const members = (r: LoadReport) => cpuPerRequest(r, (n) => n.startsWith("member"));
const native = (r: LoadReport) => cpuPerRequest(r, (n) => n === "server");
const chain = (r: LoadReport) => cpuPerRequest(r, () => true);

type Result = RoundResult<TargetName>;

/** The columns of the summary table. */
const SUMMARY: readonly Column[] = [
  ["shape", 6, true],
  ["target", 12, true],
  ["req/s", 9],
  ["p50 µs", 8],
  ["p99 µs", 8],
  ["p99.9 µs", 9],
  ["front µs", 8],
  ["members µs", 10],
  ["native µs", 9],
  ["chain µs", 8],
  ["load CPU%", 9],
  ["front RSS", 9],
  ["errors", 6],
];

/** Starts a Deno script that prints `listening on`. */
function spawnDeno(
  group: ProcessGroup,
  name: string,
  args: string[],
  description: string,
  onOutput?: (text: string) => void,
): Promise<ListeningProcess> {
  return group.spawnListening(
    name,
    DENO,
    ["run", "-A", ...args],
    description,
    onOutput === undefined ? undefined : (t) => onOutput(t),
  );
}

async function main(): Promise<number> {
  const a = parseArgs(Deno.args, [...ROUND_FLAGS, "failover-shape", "no-failover"]);
  if (a.flags.help) {
    console.log(
      "usage: upstream_bench.ts [--rounds 3] [--duration 2] [--warmup 1] " +
        `[--shapes 1x1,1x128,16x32] [--targets ${ALL_TARGETS.join(",")}] ` +
        "[--failover-shape 16x32] [--no-failover] [--out FILE]",
    );
    return 0;
  }
  const { rounds, duration, warmup, seed0, shapes } = roundFlags(a, 2);
  const targets = targetsFlag(a, ALL_TARGETS, DEFAULT_TARGETS);
  const failoverShape = parseShape(str(a, "failover-shape", "16x32"), "failover-shape");
  const failover = a.flags["no-failover"] === undefined;

  const harness = await openHarness("qs-upstream-bench-");
  const { tmp, group } = harness;
  try {
    const build = await buildNativeOrSay(tmp);
    if (build === null) return 2;
    const loc = `${tmp}/locations.json`;
    const server = await startNativeUpstream(group, build, loc);
    const member = (name: string) =>
      spawnDeno(
        group,
        name,
        [`${BENCH_DIR}serve.ts`, "proxy", "--locations", loc, "--transport", "deno"],
        "our proxy (oracle mode), Deno transport, in front of the native upstream",
      );
    const m1 = await member("M1");
    const needM2 = targets.includes("upstream-2") || targets.includes("upstream-cli");
    const m2 = needM2 ? await member("M2") : undefined;
    const frontOf = (name: string, pool: ListeningProcess[], onOutput?: (t: string) => void) =>
      spawnDeno(
        group,
        name,
        [`${BENCH_DIR}serve_upstream.ts`, "--upstream", pool.map((p) => p.address).join(",")],
        `our proxy in upstream mode, Deno transport, pool [${pool.map((p) => p.name)}]`,
        onOutput,
      );
    // The process each target is reached at, and the processes of its chain.
    const chains = new Map<TargetName, { target: ListeningProcess; pids: [string, number][] }>();
    for (const t of targets) {
      if (t === "ours-deno") {
        chains.set(t, { target: m1, pids: [["target", m1.pid], ["server", server.pid]] });
      } else if (t === "upstream-1") {
        const f = await frontOf("F1", [m1]);
        chains.set(t, {
          target: f,
          pids: [["target", f.pid], ["member1", m1.pid], ["server", server.pid]],
        });
      } else {
        const f = t === "upstream-2" ? await frontOf("F2", [m1, m2!]) : await spawnDeno(
          group,
          "CLI",
          [EXAMPLES_PROXY, "--port", "0", "--upstream-proxies", `${m1.address},${m2!.address}`],
          "the CLI (examples/proxy.ts --upstream-proxies M1,M2)",
        );
        chains.set(t, {
          target: f,
          pids: [["target", f.pid], ["member1", m1.pid], ["member2", m2!.pid], [
            "server",
            server.pid,
          ]],
        });
      }
    }
    console.log(machineLine());
    const shown = [server, m1, ...(m2 ? [m2] : []), ...[...chains.values()].map((c) => c.target)];
    printSetup(new Set(shown), 6, {
      rounds,
      shapes: shapes.length,
      targets: targets.length,
      warmup,
      duration,
    });

    const results: Result[] = [];
    const bound = warmup + duration + 2 + 15;
    for (let round = 0; round < rounds; round++) {
      for (const [si, shape] of shapes.entries()) {
        const order = targets.map((_, i) => targets[(i + round + si) % targets.length]);
        for (const t of order) {
          const c = chains.get(t)!;
          const r = await runLoadProcess(
            group,
            loadArgs({
              target: c.target.address,
              mode: "proxy",
              shape,
              duration,
              warmup,
              seed: seed0 + round,
              pids: c.pids,
            }),
            bound,
          );
          if (typeof r === "string") {
            results.push({ round, target: t, shape: shape.label, report: null, error: r });
            console.log(`round ${round + 1} ${shape.label} ${t}: ${r}`);
            continue;
          }
          results.push({ round, target: t, shape: shape.label, report: r });
          console.log(
            `round ${round + 1} ${pad(shape.label, 6, true)} ${pad(t, 12, true)} ` +
              `${pad(fmtInt(r.rps), 9)} req/s  p50 ${pad(fmt1(r.latencyUs.p50), 7)} µs  ` +
              `p99 ${pad(fmt1(r.latencyUs.p99), 8)} µs  front ${fmt2(front(r))} µs/req  ` +
              `chain ${fmt2(chain(r))} µs/req  errors ${r.errorCount}  lost ${r.lost}`,
          );
        }
      }
    }

    // ---- summary ----
    console.log(
      `\nmedians of ${rounds} rounds (µs CPU per answered request over the measured window; ` +
        `"front" is the process the load generator talks to; chain = front + members + native)`,
    );
    console.log(tableHeader(SUMMARY));
    const summary: Record<string, Record<string, Record<string, number>>> = {};
    for (const shape of shapes) {
      for (const t of targets) {
        const rs = results.filter((r) => r.target === t && r.shape === shape.label && r.report)
          .map((r) => r.report!);
        if (rs.length === 0) continue;
        const row = {
          rps: median(rs.map((r) => r.rps)),
          p50: median(rs.map((r) => r.latencyUs.p50)),
          p99: median(rs.map((r) => r.latencyUs.p99)),
          p999: median(rs.map((r) => r.latencyUs.p999)),
          frontUs: median(rs.map(front)),
          // ours-deno: its "front" is the member itself.
          membersUs: median(rs.map(members)),
          nativeUs: median(rs.map(native)),
          chainUs: median(rs.map(chain)),
          loadCpu: median(rs.map((r) => r.selfCpuPct)),
          frontRssMiB: median(
            rs.map((r) => (r.processes.find((p) => p.name === "target")?.rssKiB ?? NaN) / 1024),
          ),
          errors: rs.reduce((s, r) => s + r.errorCount + r.lost, 0),
          runs: rs.length,
        };
        (summary[shape.label] ??= {})[t] = row;
        console.log(tableLine(SUMMARY, [
          ...loadCells(shape.label, t, row),
          fmt2(row.frontUs),
          fmt2(row.membersUs),
          fmt2(row.nativeUs),
          fmt2(row.chainUs),
          fmt1(row.loadCpu),
          fmt1(row.frontRssMiB),
          String(row.errors),
        ]));
      }
    }

    const ratios: Array<{ name: string; xs: number[] }> = [];
    const perRound = (
      num: TargetName,
      den: TargetName,
      shape: string,
      f: (r: LoadReport) => number,
    ) => perRoundRatios(results, rounds, num, den, shape, f);
    const metrics: Array<[string, (r: LoadReport) => number]> = [
      ["req/s", (r) => r.rps],
      ["p50", (r) => r.latencyUs.p50],
      ["p99", (r) => r.latencyUs.p99],
      ["front µs/req", front],
      ["chain µs/req", chain],
    ];
    for (const shape of shapes) {
      for (const t of targets) {
        if (t === "ours-deno") continue;
        for (const [name, f] of metrics) {
          const xs = perRound(t, "ours-deno", shape.label, f);
          if (xs.length > 0) {
            ratios.push({ name: `${t} / ours-deno ${name} at ${shape.label}`, xs });
          }
        }
      }
      const xs = perRound("upstream-2", "upstream-1", shape.label, (r) => r.rps);
      if (xs.length > 0) {
        ratios.push({ name: `upstream-2 / upstream-1 req/s at ${shape.label}`, xs });
      }
    }
    console.log("\nratios (median of per-round ratios [min–max])");
    for (const r of ratios) console.log(ratioLine(r.name, r.xs, 48));

    let failoverResult: Record<string, unknown> | undefined;
    if (failover) failoverResult = await runFailover(group, server, m1, failoverShape, seed0);

    if (a.flags.out !== undefined) {
      await writeReport(str(a, "out"), {
        rounds,
        duration,
        warmup,
        summary,
        ratios: ratios.map((r) => ({ ...r, median: median(r.xs) })),
        failover: failoverResult,
        results,
      });
    }
    const failoverOk = failoverResult === undefined || failoverResult.ok === true;
    return results.every((r) => r.report !== null) && failoverOk ? 0 : 1;
  } finally {
    await harness.close();
  }

  async function runFailover(
    group: ProcessGroup,
    server: ListeningProcess,
    m1: ListeningProcess,
    shape: Shape,
    seed: number,
  ): Promise<Record<string, unknown>> {
    const fDuration = 2;
    const fWarmup = 1;
    const m3 = await spawnDeno(
      group,
      "M3",
      [`${BENCH_DIR}serve.ts`, "proxy", "--locations", `${tmp}/locations.json`],
      "our proxy (oracle mode), the member to kill",
    );
    let poolText = "";
    let poolLine: ((line: string) => void) | undefined;
    const f3 = await spawnDeno(
      group,
      "F3",
      [`${BENCH_DIR}serve_upstream.ts`, "--upstream", `${m1.address},${m3.address}`],
      "our proxy in upstream mode, pool [M1, M3]",
      (text) => {
        poolText += text;
        const m = /^pool (.*)$/m.exec(poolText);
        if (m !== null && poolLine !== undefined) {
          poolText = "";
          poolLine(m[1]);
        }
      },
    );
    const poolState = async () => {
      const got = new Promise<string>((ok) => (poolLine = ok));
      Deno.kill(f3.pid, "SIGUSR2");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const text = await Promise.race([
        got,
        new Promise<string>((ok) => (timer = setTimeout(() => ok("{}"), 3000))),
      ]);
      clearTimeout(timer);
      poolLine = undefined;
      return JSON.parse(text) as {
        failovers?: number;
        members?: Array<{ address: string; up: boolean; requests: number; failures: number }>;
      };
    };
    const pids: [string, number][] = [
      ["target", f3.pid],
      ["member1", m1.pid],
      ["member3", m3.pid],
      ["server", server.pid],
    ];
    const args = loadArgs({
      target: f3.address,
      mode: "proxy",
      shape,
      duration: fDuration,
      warmup: fWarmup,
      seed,
      pids,
    });
    const bound = fWarmup + fDuration + 2 + 15;
    console.log(
      `\nfailover: load ${shape.label} on F3 (pool [M1 ${m1.address}, M3 ${m3.address}]), ` +
        `${fWarmup} s warm-up + ${fDuration} s; first without a kill, then M3 killed (SIGKILL)`,
    );
    const base = await runLoadProcess(group, args, bound);
    const before = await poolState();
    // The kill: ~1 s into the window (the load generator takes ~0.2–0.4 s to start).
    const startedAt = performance.now();
    const killDelay = fWarmup * 1000 + 1300;
    let killedAt = NaN;
    const killer = setTimeout(() => {
      killedAt = performance.now();
      Deno.kill(m3.pid, "SIGKILL");
    }, killDelay);
    const hit = await runLoadProcess(group, args, bound);
    const exitedAt = performance.now();
    clearTimeout(killer);
    const after = await poolState();
    const out: Record<string, unknown> = { shape: shape.label, before, after };
    const row = (name: string, r: LoadReport | string) => {
      if (typeof r === "string") {
        console.log(`  ${name}: ${r}`);
        return;
      }
      const l = r.latencyUs;
      console.log(
        `  ${pad(name, 14, true)} ${pad(fmtInt(r.rps), 9)} req/s  p50 ${pad(fmt1(l.p50), 7)}  ` +
          `p99 ${pad(fmt1(l.p99), 8)}  p99.9 ${pad(fmt1(l.p999), 8)}  max ${
            pad(fmt1(l.max), 8)
          } µs  ` +
          `answered ${r.received}/${r.sent}  errors ${r.errorCount}` +
          (r.errorCount > 0 ? ` ${JSON.stringify(r.errors)}` : "") + `  lost ${r.lost}`,
      );
    };
    row("no kill", base);
    row("M3 killed", hit);
    out.base = base;
    out.killed = hit;
    if (typeof hit !== "string") {
      const windowFrom = exitedAt - hit.windowS * 1000;
      const into = (killedAt - windowFrom) / 1000;
      out.killIntoWindowS = into;
      console.log(
        `  the kill fell ${into.toFixed(2)} s into the ${hit.windowS} s window ` +
          `(${((killedAt - startedAt) / 1000).toFixed(2)} s after the load generator was started)`,
      );
      out.ok = hit.errorCount === 0 && hit.lost === 0 && hit.received === hit.sent &&
        into >= 0 && into <= hit.windowS;
    } else out.ok = false;
    const show = (s: typeof after) =>
      `failovers ${s.failovers ?? "?"}; ` +
      (s.members ?? []).map((m) =>
        `${m.address} ${m.up ? "up" : "down"} (${m.requests} requests, ${m.failures} failures)`
      ).join(", ");
    console.log(`  pool before the kill run: ${show(before)}`);
    console.log(`  pool after it:            ${show(after)}`);
    console.log(`  requests lost = 0 and no error: ${out.ok ? "yes" : "NO"}`);
    await group.stop(f3.child);
    return out;
  }
}

if (import.meta.main) Deno.exit(await main());
