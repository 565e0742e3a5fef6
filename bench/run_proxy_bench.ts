/**
 * The proxy benchmark, in one command:
 *
 *   deno run -A bench/run_proxy_bench.ts [--rounds 3] [--duration 3] [--warmup 1] \
 *     [--shapes 1x1,1x128,16x32] [--targets ours-deno,ours-node,base-deno,base-node,direct] \
 *     [--server ours|fast|native] [--gc] [--verify] [--out results.json]
 *
 * It starts, each as its own process: the state server with the bench data
 * set (`serve.ts server`, Deno transport), our proxy on the Deno transport
 * (`serve.ts proxy`), our proxy on the Node transport under real Node
 * (`serve_node.ts`, bundled with `deno bundle`), the baseline forwarder on
 * Deno and on Node (`baseline_forwarder*.ts`); then, round after round, runs
 * the load generator (`load.ts`, its own process) against each target at
 * each shape (connections × depth), the targets' order rotating every round
 * so that no target always runs first (A/B/C/A/B/C...). `direct` is the load
 * generator talking to the state server itself (`KvStateInternalRequest`s).
 *
 * Every run is bounded (warm-up + duration + 2 s grace, killed after 15 s
 * more); the whole command takes about rounds × shapes × targets ×
 * (warm-up + duration + ~0.5 s). It prints one table of medians (requests/s,
 * p50, p99, CPU of the target and of the state server, RSS, errors) and the
 * ratios of issue 5, each the median of the per-round ratios (both figures
 * of a ratio come from the same round). It kills only the processes it
 * started, by pid, and always cleans up.
 *
 * `--server fast` replaces our `KvStateServer` by `fast_state_server.ts`
 * (hand-written, the same answers byte for byte), so that the state server
 * is not what limits the forwarders. `--server native` replaces it by
 * `native/upstream.c` (compiled with `gcc -O2` into a temporary folder once
 * per run; the same answers again, from a table file written by
 * `native/write_table.ts`), which costs far less CPU per request than any
 * proxy, so that the proxies alone are compared; `direct` then measures the
 * load generator against it. With `--verify` the harness first checks that
 * the native upstream answers byte for byte what `fast_state_server.ts`
 * answers (`native/verify.ts`).
 *
 * Each target's resident memory is sampled every 20 ms during each run; the
 * table shows the peak over the measured window ("peak RSS"). The measured
 * window is placed on the harness's clock as the `windowS` seconds that end
 * when the load generator exits (it exits right after its window closes and
 * its last answers arrive: its end is 10–30 ms late, judged from the GC
 * timeline of a busy target).
 *
 * `--gc` starts the Deno targets (`ours-deno`, `base-deno`, and the state
 * server when it is ours) with `--v8-flags=--trace-gc-nvp`, collects their
 * collections (`_gc_trace.ts`) and reports, per target and shape, the
 * scavenges, mark-compacts, the sum of pauses in the window and the GC share:
 * pause ms / the target's CPU ms in the window (issue 10: ≤ 5%). The tracing
 * costs the traced targets some CPU (one ~2 KB line per collection).
 *
 * The ratios end with the targets of issue 10 as verdicts: p99 ours/base ≤ 2
 * and peak RSS ours/base ≤ 1.5 at 1x128 and 16x32, CPU per request of
 * ours-deno ≤ 1.5 µs, 1x1 p50 ours/base ≤ 1.1, and with `--gc` the GC share
 * of ours-deno ≤ 5%.
 *
 * If `node` is missing or the bundle fails, the Node targets run our proxy
 * on the Node transport under Deno instead, and say so.
 *
 * @module
 */

import { parseArgs, ROUND_FLAGS, roundFlags, str, targetsFlag } from "./_flags.ts";
import type { LoadReport } from "./load.ts";
import {
  BENCH_DIR,
  bundleForNode,
  DENO,
  hasNode,
  type ListeningProcess,
  loadArgs,
  nodeVersion,
  openHarness,
  type OutputListener,
  runLoadProcess,
} from "./_procs.ts";
import {
  type Column,
  fmt1,
  fmt2,
  fmtInt,
  fmtPct,
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
import { GcTrace, type GcWindow } from "./_gc_trace.ts";
import { type ProcSample, sampleProc } from "./_proc.ts";
import { buildNativeOrSay, startNativeUpstream } from "./native/_build.ts";
import { printVerify, verifyNative } from "./native/verify.ts";

const ALL_TARGETS = ["ours-deno", "ours-node", "base-deno", "base-node", "direct"] as const;
type TargetName = typeof ALL_TARGETS[number];

/** GC of one process over one run's window. */
interface GcFigures extends GcWindow {
  /** The process's CPU time in the window, ms. */
  readonly cpuMs: number;
  /** pauseMs / cpuMs. */
  readonly share: number;
}

interface Result extends RoundResult<TargetName> {
  /** The measured window on the harness clock (`performance.now()`, ms). */
  window?: { from: number; to: number };
  /** Peak VmRSS over the window, sampled every 20 ms, KiB (target, state server). */
  peakRssKiB?: { target: number; server: number };
  /** With `--gc`: the traced processes' collections in the window. */
  gc?: { target?: GcFigures; server?: GcFigures };
}

/** The columns of the summary table. */
const SUMMARY: readonly Column[] = [
  ["shape", 6, true],
  ["target", 10, true],
  ["req/s", 10],
  ["p50 µs", 9],
  ["p99 µs", 9],
  ["p99.9 µs", 9],
  ["tgt CPU", 8],
  ["µs CPU/req", 10],
  ["srv CPU", 8],
  ["srv µs/req", 10],
  ["load CPU", 8],
  ["tgt RSS MiB", 11],
  ["peak RSS", 8],
  ["errors", 7],
];

/** The columns of the GC table (`--gc`). */
const GC_TABLE: readonly Column[] = [
  ["shape", 6, true],
  ["target", 10, true],
  ["scavenges", 9],
  ["mark-cmp", 8],
  ["pause ms", 8],
  ["max ms", 7],
  ["incr ms", 7],
  ["CPU ms", 8],
  ["GC share", 8],
  ["srv GC share", 12],
];

/** The interval of the RSS samples, ms. */
const RSS_SAMPLE_MS = 20;

/** Samples the VmRSS of some processes until stopped. */
class RssSampler {
  readonly samples: Array<{ at: number; rss: number[] }> = [];
  readonly #timer: ReturnType<typeof setInterval>;
  constructor(pids: readonly number[]) {
    const take = () => {
      const at = performance.now();
      this.samples.push({
        at,
        rss: pids.map((pid) => (sampleProc(pid) as ProcSample | null)?.rssKiB ?? NaN),
      });
    };
    take();
    this.#timer = setInterval(take, RSS_SAMPLE_MS);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
  /** The peak of process `i` in [from, to], or NaN without a sample there. */
  peak(i: number, from: number, to: number): number {
    let m = NaN;
    for (const s of this.samples) {
      if (s.at < from || s.at > to || !(s.rss[i] > 0)) continue;
      if (!(s.rss[i] <= m)) m = s.rss[i];
    }
    return m;
  }
}

async function main(): Promise<number> {
  const a = parseArgs(Deno.args, [...ROUND_FLAGS, "server", "gc", "verify"]);
  if (a.flags.help) {
    console.log(
      "usage: run_proxy_bench.ts [--rounds 3] [--duration 3] [--warmup 1] " +
        "[--shapes 1x1,1x128,16x32] [--targets " + ALL_TARGETS.join(",") + "] " +
        "[--server ours|fast|native] [--gc] [--verify] [--out FILE]",
    );
    return 0;
  }
  const { rounds, duration, warmup, seed0, shapes } = roundFlags(a, 3);
  const targets = targetsFlag(a, ALL_TARGETS, ALL_TARGETS.join(","));

  const gc = a.flags.gc !== undefined;
  const serverKind = str(a, "server", "ours");
  if (serverKind !== "ours" && serverKind !== "fast" && serverKind !== "native") {
    throw new Error("--server: ours, fast or native");
  }
  const harness = await openHarness("qs-bench-");
  const { tmp, group } = harness;
  const procs = new Map<string, ListeningProcess>();
  const results: Result[] = [];
  // With --gc: the GC trace of each traced process, by process name.
  const gcTraces = new Map<string, GcTrace>();
  /** Starts a Deno script; with --gc and `traced`, under --trace-gc-nvp. */
  const spawnDeno = (name: string, args: string[], description: string, traced: boolean) => {
    let listener: OutputListener | undefined;
    if (gc && traced) {
      const trace = new GcTrace(performance.now());
      gcTraces.set(name, trace);
      listener = (text, at) => trace.feed(text, at);
    }
    return group.spawnListening(
      name,
      DENO,
      ["run", ...(listener ? ["--v8-flags=--trace-gc-nvp"] : []), "-A", ...args],
      description + (listener ? "; --trace-gc-nvp" : ""),
      listener,
    );
  };
  try {
    const loc = `${tmp}/locations.json`;
    let server: ListeningProcess;
    if (serverKind === "native") {
      const build = await buildNativeOrSay(tmp);
      if (build === null) return 2;
      if (a.flags.verify !== undefined) {
        const v = await verifyNative(build, 2000, 1000);
        printVerify(v);
        if (v.mismatches > 0) return 1;
      }
      server = await startNativeUpstream(group, build, loc);
    } else {
      if (a.flags.verify !== undefined) console.error("--verify applies to --server native only");
      server = serverKind === "ours"
        ? await spawnDeno(
          "server",
          [`${BENCH_DIR}serve.ts`, "server", "--write-locations", loc],
          "state server (our KvStateServer, Deno transport)",
          true,
        )
        : await spawnDeno(
          "server",
          [`${BENCH_DIR}fast_state_server.ts`, "--write-locations", loc],
          "state server (hand-written fast_state_server.ts, same answers)",
          false,
        );
    }
    procs.set("server", server);

    const wantNode = targets.includes("ours-node") || targets.includes("base-node");
    let node = wantNode && await hasNode();
    if (node) {
      node = await bundleForNode("serve_node.ts", `${tmp}/serve_node.mjs`) &&
        await bundleForNode("baseline_forwarder_node.ts", `${tmp}/baseline_forwarder_node.mjs`);
    }
    for (const t of targets) {
      if (t === "direct") continue;
      let p: ListeningProcess;
      if (t === "ours-deno") {
        p = await spawnDeno(
          t,
          [`${BENCH_DIR}serve.ts`, "proxy", "--locations", loc, "--transport", "deno"],
          "our proxy, Deno transport, under Deno",
          true,
        );
      } else if (t === "ours-node") {
        p = node
          ? await group.spawnListening(t, "node", [
            `${tmp}/serve_node.mjs`,
            "proxy",
            "--locations",
            loc,
          ], "our proxy, Node transport, under Node")
          : await group.spawnListening(t, DENO, [
            "run",
            "-A",
            `${BENCH_DIR}serve.ts`,
            "proxy",
            "--locations",
            loc,
            "--transport",
            "node",
          ], "our proxy, Node transport, under DENO (node unavailable)");
      } else if (t === "base-deno") {
        p = await spawnDeno(
          t,
          [`${BENCH_DIR}baseline_forwarder.ts`, "--locations", loc],
          "baseline forwarder, Deno (conn.read loop)",
          true,
        );
      } else {
        if (!node) {
          console.error("base-node skipped: node or the bundle is unavailable");
          continue;
        }
        p = await group.spawnListening(t, "node", [
          `${tmp}/baseline_forwarder_node.mjs`,
          "--locations",
          loc,
        ], "baseline forwarder, Node (node:net)");
      }
      procs.set(t, p);
    }
    const active = targets.filter((t) => t === "direct" || procs.has(t));
    console.log(machineLine([`node ${await nodeVersion()}`]));
    printSetup(procs.values(), 10, {
      rounds,
      shapes: shapes.length,
      targets: active.length,
      warmup,
      duration,
    });

    for (let round = 0; round < rounds; round++) {
      for (const shape of shapes) {
        // Rotate the order each round: A B C, B C A, C A B, ...
        const order = active.map((_, i) =>
          active[(i + round + shapes.indexOf(shape)) % active.length]
        );
        for (const t of order) {
          const isDirect = t === "direct";
          const target = isDirect ? server : procs.get(t)!;
          const args = [
            ...loadArgs({
              target: target.address,
              mode: isDirect ? "direct" : "proxy",
              shape,
              duration,
              warmup,
              seed: seed0 + round,
              pids: isDirect
                ? [["target", server.pid]]
                : [["target", target.pid], ["server", server.pid]],
            }),
            ...(isDirect ? ["--locations", loc] : []),
          ];
          const rss = new RssSampler([target.pid, server.pid]);
          const r = await runLoadProcess(group, args, warmup + duration + 2 + 15);
          const exitedAt = performance.now();
          rss.stop();
          if (typeof r === "string") {
            results.push({ round, target: t, shape: shape.label, report: null, error: r });
            console.log(`round ${round + 1} ${shape.label} ${t}: ${r}`);
          } else {
            const window = { from: exitedAt - r.windowS * 1000, to: exitedAt };
            const peakRssKiB = {
              target: rss.peak(0, window.from, window.to),
              server: rss.peak(1, window.from, window.to),
            };
            results.push({ round, target: t, shape: shape.label, report: r, window, peakRssKiB });
            console.log(
              `round ${round + 1} ${pad(shape.label, 6, true)} ${pad(t, 10, true)} ` +
                `${pad(fmtInt(r.rps), 10)} req/s  p50 ${pad(fmt1(r.latencyUs.p50), 8)} µs  ` +
                `p99 ${pad(fmt1(r.latencyUs.p99), 8)} µs  errors ${r.errorCount}` +
                (r.errorCount > 0 ? ` ${JSON.stringify(r.errors)}` : "") +
                `  lost ${r.lost}`,
            );
          }
        }
      }
    }

    const proc = (r: LoadReport, name: string) => r.processes.find((p) => p.name === name);
    if (gc && gcTraces.size > 0) {
      // Their stdio buffers are flushed at exit: stop the traced processes, then count.
      for (const name of gcTraces.keys()) {
        const p = procs.get(name);
        if (p === undefined) continue;
        await group.stop(p.child);
        await Promise.race([p.drained, new Promise((ok) => setTimeout(ok, 5000))]);
      }
      for (const r of results) {
        if (r.report === null || r.window === undefined) continue;
        const figures = (trace: GcTrace | undefined, cpuPct: number | undefined) => {
          if (trace === undefined || cpuPct === undefined || cpuPct < 0) return undefined;
          const w = trace.window(r.window!.from, r.window!.to);
          const cpuMs = cpuPct * r.report!.windowS * 10;
          return { ...w, cpuMs, share: cpuMs > 0 ? w.pauseMs / cpuMs : NaN };
        };
        const targetName = r.target === "direct" ? "server" : r.target;
        r.gc = {
          target: figures(gcTraces.get(targetName), proc(r.report, "target")?.cpuPct),
          server: r.target === "direct"
            ? undefined
            : figures(gcTraces.get("server"), proc(r.report, "server")?.cpuPct),
        };
      }
      for (const [name, trace] of gcTraces) {
        if (trace.unparsed > 0) console.log(`  ${name}: ${trace.unparsed} GC lines unparsed`);
      }
    }

    // ---- summary ----
    const pickResults = (t: TargetName, shape: string) =>
      results.filter((r) => r.target === t && r.shape === shape && r.report !== null);
    // The target's CPU time per answered request, µs: robust to a noisy machine.
    const cpuPerRequest = (r: LoadReport, name = "target") => {
      const cpu = proc(r, name)?.cpuPct ?? NaN;
      return r.rps > 0 ? (cpu / 100) * 1e6 / r.rps : NaN;
    };
    console.log(
      `\nmedians of ${rounds} rounds (CPU in % of one core over the measured window; ` +
        `RSS at its end, peak RSS over the window; state server: ${server.description})`,
    );
    console.log(tableHeader(SUMMARY));
    const summary: Record<string, Record<string, unknown>> = {};
    for (const shape of shapes) {
      for (const t of active) {
        const rr = pickResults(t, shape.label);
        const rs = rr.map((r) => r.report!);
        if (rs.length === 0) continue;
        const gcOf = (f: (g: GcFigures) => number, which: "target" | "server" = "target") =>
          median(rr.map((r) => r.gc?.[which]).filter((g) => g !== undefined).map(f));
        const row = {
          rps: median(rs.map((r) => r.rps)),
          p50: median(rs.map((r) => r.latencyUs.p50)),
          p99: median(rs.map((r) => r.latencyUs.p99)),
          p999: median(rs.map((r) => r.latencyUs.p999)),
          targetCpu: median(rs.map((r) => proc(r, "target")?.cpuPct ?? NaN)),
          cpuUsPerReq: median(rs.map((r) => cpuPerRequest(r))),
          serverCpu: t === "direct"
            ? median(rs.map((r) => proc(r, "target")?.cpuPct ?? NaN))
            : median(rs.map((r) => proc(r, "server")?.cpuPct ?? NaN)),
          loadCpu: median(rs.map((r) => r.selfCpuPct)),
          serverCpuUsPerReq: median(
            rs.map((r) => cpuPerRequest(r, t === "direct" ? "target" : "server")),
          ),
          rssMiB: median(rs.map((r) => (proc(r, "target")?.rssKiB ?? NaN) / 1024)),
          peakRssMiB: median(rr.map((r) => (r.peakRssKiB?.target ?? NaN) / 1024)),
          errors: rs.reduce((s, r) => s + r.errorCount + r.lost, 0),
          runs: rs.length,
          gc: rr.some((r) => r.gc?.target !== undefined)
            ? {
              scavenges: gcOf((g) => g.scavenges),
              markCompacts: gcOf((g) => g.markCompacts),
              pauseMs: gcOf((g) => g.pauseMs),
              incrementalMs: gcOf((g) => g.incrementalMs),
              maxPauseMs: gcOf((g) => g.maxPauseMs),
              cpuMs: gcOf((g) => g.cpuMs),
              share: gcOf((g) => g.share),
              serverShare: gcOf((g) => g.share, "server"),
            }
            : undefined,
        };
        (summary[shape.label] ??= {})[t] = row;
        console.log(tableLine(SUMMARY, [
          ...loadCells(shape.label, t, row),
          fmt1(row.targetCpu),
          fmt1(row.cpuUsPerReq),
          fmt1(row.serverCpu),
          fmt2(row.serverCpuUsPerReq),
          fmt1(row.loadCpu),
          fmt1(row.rssMiB),
          fmt1(row.peakRssMiB),
          String(row.errors),
        ]));
      }
    }
    if (gc) {
      console.log(
        `\nGC in the measured window (--trace-gc-nvp; medians of ${rounds} rounds; ` +
          `GC share = pauses / the process's CPU time)`,
      );
      console.log(tableHeader(GC_TABLE));
      for (const shape of shapes) {
        for (const t of active) {
          const g = (summary[shape.label]?.[t] as { gc?: Record<string, number> } | undefined)
            ?.gc;
          if (g === undefined) continue;
          console.log(tableLine(GC_TABLE, [
            shape.label,
            t,
            fmt1(g.scavenges),
            fmt1(g.markCompacts),
            fmt1(g.pauseMs),
            fmt1(g.maxPauseMs),
            fmt1(g.incrementalMs),
            fmt1(g.cpuMs),
            fmtPct(g.share),
            fmtPct(g.serverShare),
          ]));
        }
      }
    }

    // Ratios: per round, then the median (and the range).
    const perRound = (
      num: TargetName,
      den: TargetName,
      shape: string,
      metric: (r: LoadReport) => number,
    ) => perRoundRatios(results, rounds, num, den, shape, metric);
    const rps = (r: LoadReport) => r.rps;
    const p50 = (r: LoadReport) => r.latencyUs.p50;
    const ratios: Array<{ name: string; xs: number[]; target?: string; ok?: boolean }> = [];
    const add = (name: string, xs: number[], bound?: { min?: number; max?: number }) => {
      const m = median(xs);
      let target: string | undefined;
      let ok: boolean | undefined;
      if (bound?.min !== undefined) {
        target = `>= ${bound.min}`;
        ok = m >= bound.min;
      }
      if (bound?.max !== undefined) {
        target = `<= ${bound.max}`;
        ok = m <= bound.max;
      }
      if (xs.length > 0) ratios.push({ name, xs, target, ok });
    };
    for (const shape of ["1x128", "16x32"]) {
      add(
        `ours-deno / base-deno req/s at ${shape}`,
        perRound("ours-deno", "base-deno", shape, rps),
        { min: 0.5 },
      );
    }
    add("ours-deno / base-deno p50 at 1x1", perRound("ours-deno", "base-deno", "1x1", p50), {
      max: 1.1,
    });
    for (const shape of ["1x128", "16x32"]) {
      add(
        `ours-node / base-node req/s at ${shape}`,
        perRound("ours-node", "base-node", shape, rps),
        { min: 0.5 },
      );
    }
    add("ours-node / base-node p50 at 1x1", perRound("ours-node", "base-node", "1x1", p50));
    for (const shape of ["1x128", "16x32"]) {
      add(
        `ours-deno / base-deno CPU µs per request at ${shape}`,
        perRound("ours-deno", "base-deno", shape, cpuPerRequest),
      );
      add(
        `ours-node / base-node CPU µs per request at ${shape}`,
        perRound("ours-node", "base-node", shape, cpuPerRequest),
      );
    }
    for (const shape of shapes.map((s) => s.label)) {
      add(`ours-deno / direct req/s at ${shape}`, perRound("ours-deno", "direct", shape, rps));
      add(`base-deno / direct req/s at ${shape}`, perRound("base-deno", "direct", shape, rps));
      add(
        `ours-node / ours-deno req/s at ${shape}`,
        perRound("ours-node", "ours-deno", shape, rps),
      );
      add(
        `base-node / base-deno req/s at ${shape}`,
        perRound("base-node", "base-deno", shape, rps),
      );
    }
    // The targets of issue 10.
    const p99 = (r: LoadReport) => r.latencyUs.p99;
    const peakOf = (round: number, t: TargetName, shape: string) =>
      results.find((r) => r.round === round && r.target === t && r.shape === shape)
        ?.peakRssKiB?.target ?? NaN;
    const perRoundValue = (t: TargetName, shape: string, f: (r: Result) => number) =>
      results.filter((r) => r.target === t && r.shape === shape && r.report !== null)
        .map(f).filter((x) => Number.isFinite(x));
    for (const shape of ["1x128", "16x32"]) {
      add(
        `ours-deno / base-deno p99 at ${shape}`,
        perRound("ours-deno", "base-deno", shape, p99),
        { max: 2 },
      );
      const rssRatios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const x = peakOf(round, "ours-deno", shape) / peakOf(round, "base-deno", shape);
        if (Number.isFinite(x)) rssRatios.push(x);
      }
      add(`ours-deno / base-deno peak RSS at ${shape}`, rssRatios, { max: 1.5 });
      add(
        `ours-deno CPU µs per request at ${shape} (absolute)`,
        perRoundValue("ours-deno", shape, (r) => cpuPerRequest(r.report!)),
        { max: 1.5 },
      );
      add(
        `ours-deno GC pause / CPU at ${shape} (absolute)`,
        perRoundValue("ours-deno", shape, (r) => r.gc?.target?.share ?? NaN),
        { max: 0.05 },
      );
    }
    console.log("\nratios and targets (median of per-round figures [min–max])");
    for (const r of ratios) {
      console.log(
        ratioLine(r.name, r.xs, 50) +
          (r.target ? `  target ${r.target}: ${r.ok ? "met" : "MISSED"}` : ""),
      );
    }
    if (a.flags.out !== undefined) {
      await writeReport(str(a, "out"), {
        rounds,
        duration,
        warmup,
        server: { kind: serverKind, description: server.description },
        gc,
        gcTraces: Object.fromEntries(
          [...gcTraces].map(([name, t]) => [name, {
            collections: t.events.length,
            unparsed: t.unparsed,
            isolateStartAfterSpawnMs: t.startAfterSpawnMs,
            // Each collection on the harness clock (the results' windows): [ms, kind, pause ms].
            events: t.events.map((
              e,
            ) => [Math.round((t.offset + e.t) * 10) / 10, e.kind, e.pause]),
          }]),
        ),
        targets: [...procs.values()].map((p) => ({
          name: p.name,
          description: p.description,
        })),
        summary,
        ratios: ratios.map((r) => ({ ...r, median: median(r.xs) })),
        results,
      });
    }
    return results.every((r) => r.report !== null) ? 0 : 1;
  } finally {
    await harness.close();
  }
}

if (import.meta.main) Deno.exit(await main());
