/**
 * Summarizes a V8 CPU profile (`.cpuprofile`, as `deno run --cpu-prof` or
 * `node --cpu-prof` writes it): self time per function, and total (inclusive)
 * time for the functions of `src/` and `bench/`.
 *
 *   deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof bench/serve.ts proxy --locations loc.json
 *   # ... load it with bench/load.ts, then SIGTERM it
 *   deno run -A bench/profile_summary.ts /tmp/prof/*.cpuprofile [--top 30]
 *
 * @module
 */

import { num, parseArgs } from "./_flags.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function label(f: CallFrame): string {
  const file = f.url.replace(/^.*\/(src|bench|ext|node|deno)\//, "$1/") || "(native)";
  return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
}

async function main(): Promise<number> {
  const a = parseArgs(Deno.args, ["top"]);
  const top = num(a, "top", 30);
  for (const file of a.positional) {
    const p: Profile = JSON.parse(await Deno.readTextFile(file));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const self = new Map<string, number>();
    const total = new Map<string, number>();
    let all = 0;
    let idle = 0;
    for (let i = 0; i < p.samples.length; i++) {
      const dt = (p.timeDeltas[i + 1] ?? 0) / 1000; // ms
      const node = byId.get(p.samples[i])!;
      all += dt;
      const name = node.callFrame.functionName;
      if (name === "(idle)" || name === "(program)") {
        if (name === "(idle)") idle += dt;
      }
      const l = label(node.callFrame);
      self.set(l, (self.get(l) ?? 0) + dt);
      // Inclusive time: each distinct function on the stack once.
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame;
        const fl = label(f);
        if (seen.has(fl)) continue;
        seen.add(fl);
        total.set(fl, (total.get(fl) ?? 0) + dt);
      }
    }
    const busy = all - idle;
    console.log(
      `${file}: ${all.toFixed(0)} ms sampled, ${idle.toFixed(0)} ms idle, ${
        busy.toFixed(0)
      } ms busy`,
    );
    console.log(`\nself time (% of busy):`);
    for (const [l, t] of [...self].sort((x, y) => y[1] - x[1]).slice(0, top)) {
      if (l.startsWith("(idle)")) continue;
      console.log(
        `  ${((t / busy) * 100).toFixed(1).padStart(5)}%  ${t.toFixed(0).padStart(6)} ms  ${l}`,
      );
    }
    console.log(`\ninclusive time of src/ and bench/ functions (% of busy):`);
    for (
      const [l, t] of [...total].filter(([l]) => / (src|bench)\//.test(l))
        .sort((x, y) => y[1] - x[1]).slice(0, top)
    ) {
      console.log(
        `  ${((t / busy) * 100).toFixed(1).padStart(5)}%  ${t.toFixed(0).padStart(6)} ms  ${l}`,
      );
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
