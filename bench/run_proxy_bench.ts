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

import { num, parseArgs, str } from "./_flags.ts";
import type { LoadReport } from "./load.ts";
import {
  BENCH_DIR,
  bundleForNode,
  cpuModel,
  DENO,
  hasNode,
  type ListeningProcess,
  nodeVersion,
  type OutputListener,
  ProcessGroup,
} from "./_procs.ts";
import { GcTrace, type GcWindow } from "./_gc_trace.ts";
import { type ProcSample, sampleProc } from "./_proc.ts";
import { buildNativeUpstream, NativeBuildError, startNativeUpstream } from "./native/_build.ts";
import { printVerify, verifyNative } from "./native/verify.ts";

const ALL_TARGETS = ["ours-deno", "ours-node", "base-deno", "base-node", "direct"] as const;
type TargetName = typeof ALL_TARGETS[number];

async function runLoadProcess(
  group: ProcessGroup,
  args: string[],
  boundSeconds: number,
): Promise<LoadReport | string> {
  const out = await group.run(
    DENO,
    ["run", "-A", `${BENCH_DIR}load.ts`, ...args, "--json"],
    boundSeconds,
  );
  const text = new TextDecoder().decode(out.stdout).trim();
  try {
    return JSON.parse(text.split("\n").pop()!) as LoadReport;
  } catch {
    return `load.ts failed (code ${out.code}): ${new TextDecoder().decode(out.stderr).trim()}`;
  }
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
}

function fmt1(n: number): string {
  return Number.isFinite(n) ? n.toFixed(1) : "-";
}

function fmt2(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : "-";
}

function fmtPct(n: number): string {
  return Number.isFinite(n) ? `${(n * 100).toFixed(1)}%` : "-";
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padEnd(n) : s.padStart(n);
}

/** GC of one process over one run's window. */
interface GcFigures extends GcWindow {
  /** The process's CPU time in the window, ms. */
  readonly cpuMs: number;
  /** pauseMs / cpuMs. */
  readonly share: number;
}

interface Result {
  readonly round: number;
  readonly target: TargetName;
  readonly shape: string;
  readonly report: LoadReport | null;
  readonly error?: string;
  /** The measured window on the harness clock (`performance.now()`, ms). */
  window?: { from: number; to: number };
  /** Peak VmRSS over the window, sampled every 20 ms, KiB (target, state server). */
  peakRssKiB?: { target: number; server: number };
  /** With `--gc`: the traced processes' collections in the window. */
  gc?: { target?: GcFigures; server?: GcFigures };
}

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
  const a = parseArgs(Deno.args, [
    "rounds",
    "duration",
    "warmup",
    "shapes",
    "targets",
    "out",
    "seed",
    "server",
    "gc",
    "verify",
    "help",
  ]);
  if (a.flags.help) {
    console.log(
      "usage: run_proxy_bench.ts [--rounds 3] [--duration 3] [--warmup 1] " +
        "[--shapes 1x1,1x128,16x32] [--targets " + ALL_TARGETS.join(",") + "] " +
        "[--server ours|fast|native] [--gc] [--verify] [--out FILE]",
    );
    return 0;
  }
  const rounds = Math.max(1, Math.floor(num(a, "rounds", 3)));
  const duration = num(a, "duration", 3);
  const warmup = num(a, "warmup", 1);
  const seed0 = Math.floor(num(a, "seed", 1));
  const shapes = str(a, "shapes", "1x1,1x128,16x32").split(",").map((s) => {
    const m = /^(\d+)x(\d+)$/.exec(s.trim());
    if (m === null) throw new Error(`--shapes: expected KxD, got ${s}`);
    return { label: `${m[1]}x${m[2]}`, connections: Number(m[1]), depth: Number(m[2]) };
  });
  const targets = str(a, "targets", ALL_TARGETS.join(",")).split(",").map((t) => {
    if (!(ALL_TARGETS as readonly string[]).includes(t)) throw new Error(`unknown target ${t}`);
    return t as TargetName;
  });

  const gc = a.flags.gc !== undefined;
  const serverKind = str(a, "server", "ours");
  if (serverKind !== "ours" && serverKind !== "fast" && serverKind !== "native") {
    throw new Error("--server: ours, fast or native");
  }
  const tmp = await Deno.makeTempDir({ prefix: "qs-bench-" });
  const group = new ProcessGroup();
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
  const onSignal = () => {
    group.killAllNow();
    Deno.removeSync(tmp, { recursive: true });
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const loc = `${tmp}/locations.json`;
    let server: ListeningProcess;
    if (serverKind === "native") {
      let build;
      try {
        build = await buildNativeUpstream(tmp);
      } catch (e) {
        if (!(e instanceof NativeBuildError)) throw e;
        console.error(e.message);
        return 2;
      }
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
    console.log(
      `${new Date().toISOString()}; ${navigator.hardwareConcurrency} cpus (${cpuModel()}); ` +
        `Linux ${Deno.osRelease()}; deno ${Deno.version.deno}; node ${await nodeVersion()}; ` +
        `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
    );
    for (const p of procs.values()) {
      console.log(`  ${pad(p.name, 10, true)} pid ${p.pid} at ${p.address}: ${p.description}`);
    }
    console.log(
      `${rounds} rounds × ${shapes.length} shapes × ${active.length} targets, ` +
        `${warmup} s warm-up + ${duration} s each`,
    );

    for (let round = 0; round < rounds; round++) {
      for (const shape of shapes) {
        // Rotate the order each round: A B C, B C A, C A B, ...
        const order = active.map((_, i) =>
          active[(i + round + shapes.indexOf(shape)) % active.length]
        );
        for (const t of order) {
          const isDirect = t === "direct";
          const target = isDirect ? server : procs.get(t)!;
          const pids = isDirect
            ? `target=${server.pid}`
            : `target=${target.pid},server=${server.pid}`;
          const args = [
            "--target",
            target.address,
            "--mode",
            isDirect ? "direct" : "proxy",
            "--connections",
            String(shape.connections),
            "--depth",
            String(shape.depth),
            "--duration",
            String(duration),
            "--warmup",
            String(warmup),
            "--seed",
            String(seed0 + round),
            "--pids",
            pids,
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
    const header = [
      pad("shape", 6, true),
      pad("target", 10, true),
      pad("req/s", 10),
      pad("p50 µs", 9),
      pad("p99 µs", 9),
      pad("p99.9 µs", 9),
      pad("tgt CPU", 8),
      pad("µs CPU/req", 10),
      pad("srv CPU", 8),
      pad("srv µs/req", 10),
      pad("load CPU", 8),
      pad("tgt RSS MiB", 11),
      pad("peak RSS", 8),
      pad("errors", 7),
    ].join("  ");
    console.log(header);
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
        console.log([
          pad(shape.label, 6, true),
          pad(t, 10, true),
          pad(fmtInt(row.rps), 10),
          pad(fmt1(row.p50), 9),
          pad(fmt1(row.p99), 9),
          pad(fmt1(row.p999), 9),
          pad(fmt1(row.targetCpu), 8),
          pad(fmt1(row.cpuUsPerReq), 10),
          pad(fmt1(row.serverCpu), 8),
          pad(fmt2(row.serverCpuUsPerReq), 10),
          pad(fmt1(row.loadCpu), 8),
          pad(fmt1(row.rssMiB), 11),
          pad(fmt1(row.peakRssMiB), 8),
          pad(String(row.errors), 7),
        ].join("  "));
      }
    }
    if (gc) {
      console.log(
        `\nGC in the measured window (--trace-gc-nvp; medians of ${rounds} rounds; ` +
          `GC share = pauses / the process's CPU time)`,
      );
      console.log([
        pad("shape", 6, true),
        pad("target", 10, true),
        pad("scavenges", 9),
        pad("mark-cmp", 8),
        pad("pause ms", 8),
        pad("max ms", 7),
        pad("incr ms", 7),
        pad("CPU ms", 8),
        pad("GC share", 8),
        pad("srv GC share", 12),
      ].join("  "));
      for (const shape of shapes) {
        for (const t of active) {
          const g = (summary[shape.label]?.[t] as { gc?: Record<string, number> } | undefined)
            ?.gc;
          if (g === undefined) continue;
          console.log([
            pad(shape.label, 6, true),
            pad(t, 10, true),
            pad(fmt1(g.scavenges), 9),
            pad(fmt1(g.markCompacts), 8),
            pad(fmt1(g.pauseMs), 8),
            pad(fmt1(g.maxPauseMs), 7),
            pad(fmt1(g.incrementalMs), 7),
            pad(fmt1(g.cpuMs), 8),
            pad(fmtPct(g.share), 8),
            pad(fmtPct(g.serverShare), 12),
          ].join("  "));
        }
      }
    }

    // Ratios: per round, then the median (and the range).
    const perRound = (
      num: TargetName,
      den: TargetName,
      shape: string,
      metric: (r: LoadReport) => number,
    ) => {
      const xs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const n = results.find((r) => r.round === round && r.target === num && r.shape === shape);
        const d = results.find((r) => r.round === round && r.target === den && r.shape === shape);
        if (n?.report && d?.report && metric(d.report) > 0) {
          xs.push(metric(n.report) / metric(d.report));
        }
      }
      return xs;
    };
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
      const m = median(r.xs);
      const lo = Math.min(...r.xs);
      const hi = Math.max(...r.xs);
      console.log(
        `  ${pad(r.name, 50, true)} ${m.toFixed(2)}  [${lo.toFixed(2)}–${hi.toFixed(2)}]` +
          (r.target ? `  target ${r.target}: ${r.ok ? "met" : "MISSED"}` : ""),
      );
    }
    if (a.flags.out !== undefined) {
      await Deno.writeTextFile(
        str(a, "out"),
        JSON.stringify(
          {
            date: new Date().toISOString(),
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
          },
          null,
          1,
        ),
      );
    }
    return results.every((r) => r.report !== null) ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
