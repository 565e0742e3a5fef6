/**
 * The proxy benchmark, in one command:
 *
 *   deno run -A bench/run_proxy_bench.ts [--rounds 3] [--duration 3] [--warmup 1] \
 *     [--shapes 1x1,1x128,16x32] [--targets ours-deno,ours-node,base-deno,base-node,direct] \
 *     [--server ours|fast] [--out results.json]
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
 * is not what limits the forwarders.
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
  ProcessGroup,
} from "./_procs.ts";

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

function pad(s: string, n: number, right = false): string {
  return right ? s.padEnd(n) : s.padStart(n);
}

interface Result {
  readonly round: number;
  readonly target: TargetName;
  readonly shape: string;
  readonly report: LoadReport | null;
  readonly error?: string;
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
    "help",
  ]);
  if (a.flags.help) {
    console.log(
      "usage: run_proxy_bench.ts [--rounds 3] [--duration 3] [--warmup 1] " +
        "[--shapes 1x1,1x128,16x32] [--targets " + ALL_TARGETS.join(",") + "] " +
        "[--server ours|fast] [--out FILE]",
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

  const tmp = await Deno.makeTempDir({ prefix: "qs-bench-" });
  const group = new ProcessGroup();
  const procs = new Map<string, ListeningProcess>();
  const results: Result[] = [];
  const onSignal = () => {
    group.killAllNow();
    Deno.removeSync(tmp, { recursive: true });
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const loc = `${tmp}/locations.json`;
    const serverKind = str(a, "server", "ours");
    if (serverKind !== "ours" && serverKind !== "fast") throw new Error("--server: ours or fast");
    const server = serverKind === "ours"
      ? await group.spawnListening("server", DENO, [
        "run",
        "-A",
        `${BENCH_DIR}serve.ts`,
        "server",
        "--write-locations",
        loc,
      ], "state server (our KvStateServer, Deno transport)")
      : await group.spawnListening("server", DENO, [
        "run",
        "-A",
        `${BENCH_DIR}fast_state_server.ts`,
        "--write-locations",
        loc,
      ], "state server (hand-written fast_state_server.ts, same answers)");
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
        p = await group.spawnListening(t, DENO, [
          "run",
          "-A",
          `${BENCH_DIR}serve.ts`,
          "proxy",
          "--locations",
          loc,
          "--transport",
          "deno",
        ], "our proxy, Deno transport, under Deno");
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
        p = await group.spawnListening(t, DENO, [
          "run",
          "-A",
          `${BENCH_DIR}baseline_forwarder.ts`,
          "--locations",
          loc,
        ], "baseline forwarder, Deno (conn.read loop)");
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
          const r = await runLoadProcess(group, args, warmup + duration + 2 + 15);
          if (typeof r === "string") {
            results.push({ round, target: t, shape: shape.label, report: null, error: r });
            console.log(`round ${round + 1} ${shape.label} ${t}: ${r}`);
          } else {
            results.push({ round, target: t, shape: shape.label, report: r });
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

    // ---- summary ----
    const pick = (t: TargetName, shape: string) =>
      results.filter((r) => r.target === t && r.shape === shape && r.report !== null)
        .map((r) => r.report!);
    const proc = (r: LoadReport, name: string) => r.processes.find((p) => p.name === name);
    // The target's CPU time per answered request, µs: robust to a noisy machine.
    const cpuPerRequest = (r: LoadReport) => {
      const cpu = proc(r, "target")?.cpuPct ?? NaN;
      return r.rps > 0 ? (cpu / 100) * 1e6 / r.rps : NaN;
    };
    console.log(
      `\nmedians of ${rounds} rounds (CPU in % of one core over the measured window; ` +
        `RSS at its end)`,
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
      pad("load CPU", 8),
      pad("tgt RSS MiB", 11),
      pad("errors", 7),
    ].join("  ");
    console.log(header);
    const summary: Record<string, Record<string, unknown>> = {};
    for (const shape of shapes) {
      for (const t of active) {
        const rs = pick(t, shape.label);
        if (rs.length === 0) continue;
        const row = {
          rps: median(rs.map((r) => r.rps)),
          p50: median(rs.map((r) => r.latencyUs.p50)),
          p99: median(rs.map((r) => r.latencyUs.p99)),
          p999: median(rs.map((r) => r.latencyUs.p999)),
          targetCpu: median(rs.map((r) => proc(r, "target")?.cpuPct ?? NaN)),
          cpuUsPerReq: median(rs.map(cpuPerRequest)),
          serverCpu: t === "direct"
            ? median(rs.map((r) => proc(r, "target")?.cpuPct ?? NaN))
            : median(rs.map((r) => proc(r, "server")?.cpuPct ?? NaN)),
          loadCpu: median(rs.map((r) => r.selfCpuPct)),
          rssMiB: median(rs.map((r) => (proc(r, "target")?.rssKiB ?? NaN) / 1024)),
          errors: rs.reduce((s, r) => s + r.errorCount + r.lost, 0),
          runs: rs.length,
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
          pad(fmt1(row.loadCpu), 8),
          pad(fmt1(row.rssMiB), 11),
          pad(String(row.errors), 7),
        ].join("  "));
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
      max: 1.5,
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
    console.log("\nratios (median of per-round ratios [min–max])");
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
