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

import { num, parseArgs, str } from "./_flags.ts";
import type { LoadReport } from "./load.ts";
import { BENCH_DIR, cpuModel, DENO, type ListeningProcess, ProcessGroup } from "./_procs.ts";
import { buildNativeUpstream, NativeBuildError, startNativeUpstream } from "./native/_build.ts";

const ALL_TARGETS = ["ours-deno", "upstream-1", "upstream-2", "upstream-cli"] as const;
type TargetName = typeof ALL_TARGETS[number];
const DEFAULT_TARGETS = "ours-deno,upstream-1,upstream-2";

const EXAMPLES_PROXY = new URL("../examples/proxy.ts", import.meta.url).pathname;

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmtInt = (n: number) => Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
const fmt1 = (n: number) => Number.isFinite(n) ? n.toFixed(1) : "-";
const fmt2 = (n: number) => Number.isFinite(n) ? n.toFixed(2) : "-";
const pad = (s: string, n: number, right = false) => right ? s.padEnd(n) : s.padStart(n);

async function runLoad(
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

function loadArgs(
  target: string,
  shape: { connections: number; depth: number },
  duration: number,
  warmup: number,
  seed: number,
  pids: Array<[string, number]>,
): string[] {
  return [
    "--target",
    target,
    "--mode",
    "proxy",
    "--connections",
    String(shape.connections),
    "--depth",
    String(shape.depth),
    "--duration",
    String(duration),
    "--warmup",
    String(warmup),
    "--seed",
    String(seed),
    "--pids",
    pids.map(([n, p]) => `${n}=${p}`).join(","),
  ];
}

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

interface Result {
  readonly round: number;
  readonly target: TargetName;
  readonly shape: string;
  readonly report: LoadReport | null;
  readonly error?: string;
}

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
  const a = parseArgs(Deno.args, [
    "rounds",
    "duration",
    "warmup",
    "shapes",
    "targets",
    "failover-shape",
    "no-failover",
    "seed",
    "out",
    "help",
  ]);
  if (a.flags.help) {
    console.log(
      "usage: upstream_bench.ts [--rounds 3] [--duration 2] [--warmup 1] " +
        `[--shapes 1x1,1x128,16x32] [--targets ${ALL_TARGETS.join(",")}] ` +
        "[--failover-shape 16x32] [--no-failover] [--out FILE]",
    );
    return 0;
  }
  const rounds = Math.max(1, Math.floor(num(a, "rounds", 3)));
  const duration = num(a, "duration", 2);
  const warmup = num(a, "warmup", 1);
  const seed0 = Math.floor(num(a, "seed", 1));
  const parseShape = (s: string) => {
    const m = /^(\d+)x(\d+)$/.exec(s.trim());
    if (m === null) throw new Error(`expected a shape KxD, got ${s}`);
    return { label: `${m[1]}x${m[2]}`, connections: Number(m[1]), depth: Number(m[2]) };
  };
  const shapes = str(a, "shapes", "1x1,1x128,16x32").split(",").map(parseShape);
  const targets = str(a, "targets", DEFAULT_TARGETS).split(",").map((t) => {
    if (!(ALL_TARGETS as readonly string[]).includes(t)) throw new Error(`unknown target ${t}`);
    return t as TargetName;
  });
  const failoverShape = parseShape(str(a, "failover-shape", "16x32"));
  const failover = a.flags["no-failover"] === undefined;

  const tmp = await Deno.makeTempDir({ prefix: "qs-upstream-bench-" });
  const group = new ProcessGroup();
  const onSignal = () => {
    group.killAllNow();
    Deno.removeSync(tmp, { recursive: true });
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    let build;
    try {
      build = await buildNativeUpstream(tmp);
    } catch (e) {
      if (!(e instanceof NativeBuildError)) throw e;
      console.error(e.message);
      return 2;
    }
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
    console.log(
      `${new Date().toISOString()}; ${navigator.hardwareConcurrency} cpus (${cpuModel()}); ` +
        `Linux ${Deno.osRelease()}; deno ${Deno.version.deno}; ` +
        `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
    );
    const shown = [server, m1, ...(m2 ? [m2] : []), ...[...chains.values()].map((c) => c.target)];
    for (const p of new Set(shown)) {
      console.log(`  ${pad(p.name, 6, true)} pid ${p.pid} at ${p.address}: ${p.description}`);
    }
    console.log(
      `${rounds} rounds × ${shapes.length} shapes × ${targets.length} targets, ` +
        `${warmup} s warm-up + ${duration} s each`,
    );

    const results: Result[] = [];
    const bound = warmup + duration + 2 + 15;
    for (let round = 0; round < rounds; round++) {
      for (const [si, shape] of shapes.entries()) {
        const order = targets.map((_, i) => targets[(i + round + si) % targets.length]);
        for (const t of order) {
          const c = chains.get(t)!;
          const r = await runLoad(
            group,
            loadArgs(c.target.address, shape, duration, warmup, seed0 + round, c.pids),
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
    console.log([
      pad("shape", 6, true),
      pad("target", 12, true),
      pad("req/s", 9),
      pad("p50 µs", 8),
      pad("p99 µs", 8),
      pad("p99.9 µs", 9),
      pad("front µs", 8),
      pad("members µs", 10),
      pad("native µs", 9),
      pad("chain µs", 8),
      pad("load CPU%", 9),
      pad("front RSS", 9),
      pad("errors", 6),
    ].join("  "));
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
        console.log([
          pad(shape.label, 6, true),
          pad(t, 12, true),
          pad(fmtInt(row.rps), 9),
          pad(fmt1(row.p50), 8),
          pad(fmt1(row.p99), 8),
          pad(fmt1(row.p999), 9),
          pad(fmt2(row.frontUs), 8),
          pad(fmt2(row.membersUs), 10),
          pad(fmt2(row.nativeUs), 9),
          pad(fmt2(row.chainUs), 8),
          pad(fmt1(row.loadCpu), 9),
          pad(fmt1(row.frontRssMiB), 9),
          pad(String(row.errors), 6),
        ].join("  "));
      }
    }

    const ratios: Array<{ name: string; xs: number[] }> = [];
    const perRound = (
      num: TargetName,
      den: TargetName,
      shape: string,
      f: (r: LoadReport) => number,
    ) => {
      const xs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const n = results.find((r) => r.round === round && r.target === num && r.shape === shape);
        const d = results.find((r) => r.round === round && r.target === den && r.shape === shape);
        if (n?.report && d?.report) {
          const x = f(n.report) / f(d.report);
          if (Number.isFinite(x)) xs.push(x);
        }
      }
      return xs;
    };
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
    for (const r of ratios) {
      console.log(
        `  ${pad(r.name, 48, true)} ${fmt2(median(r.xs))}  ` +
          `[${fmt2(Math.min(...r.xs))}–${fmt2(Math.max(...r.xs))}]`,
      );
    }

    let failoverResult: Record<string, unknown> | undefined;
    if (failover) failoverResult = await runFailover(group, server, m1, failoverShape, seed0);

    if (a.flags.out !== undefined) {
      await Deno.writeTextFile(
        str(a, "out"),
        JSON.stringify(
          {
            date: new Date().toISOString(),
            rounds,
            duration,
            warmup,
            summary,
            ratios: ratios.map((r) => ({ ...r, median: median(r.xs) })),
            failover: failoverResult,
            results,
          },
          null,
          1,
        ),
      );
    }
    const failoverOk = failoverResult === undefined || failoverResult.ok === true;
    return results.every((r) => r.report !== null) && failoverOk ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }

  async function runFailover(
    group: ProcessGroup,
    server: ListeningProcess,
    m1: ListeningProcess,
    shape: { label: string; connections: number; depth: number },
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
    const args = loadArgs(f3.address, shape, fDuration, fWarmup, seed, pids);
    const bound = fWarmup + fDuration + 2 + 15;
    console.log(
      `\nfailover: load ${shape.label} on F3 (pool [M1 ${m1.address}, M3 ${m3.address}]), ` +
        `${fWarmup} s warm-up + ${fDuration} s; first without a kill, then M3 killed (SIGKILL)`,
    );
    const base = await runLoad(group, args, bound);
    const before = await poolState();
    // The kill: ~1 s into the window (the load generator takes ~0.2–0.4 s to start).
    const startedAt = performance.now();
    const killDelay = fWarmup * 1000 + 1300;
    let killedAt = NaN;
    const killer = setTimeout(() => {
      killedAt = performance.now();
      Deno.kill(m3.pid, "SIGKILL");
    }, killDelay);
    const hit = await runLoad(group, args, bound);
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
