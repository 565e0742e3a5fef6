/**
 * The connection-scale run: 10,000 concurrent idle connections to our proxy,
 * the proxy's resident memory before and after (memory per connection), then
 * traffic on a random sample of them and on all of them, checking that every
 * connection gets its answer.
 *
 *   deno run -A bench/connections.ts [--connections 10000] [--sample 500] \
 *     [--target ours-deno|ours-node|base-deno|base-node] [--seed 1] [--json] \
 *     [--read-buffer N]   (base-deno only: its initial read buffer per connection)
 *
 * It starts the state server (`serve.ts server`) and the target: our proxy
 * (`serve.ts proxy`, Deno transport; `ours-node`: the Node transport under
 * real Node, bundled, or under Deno when `node` is missing) or, for
 * comparison, a baseline forwarder; both with a file
 * limit raised to fit (`bash -c 'ulimit -n N; exec ...'`, within the hard
 * limit), and raises its own soft limit the same way (`prlimit`). The
 * connections come from this process, over the ephemeral ports of 127.0.0.1
 * (`Deno.connect` cannot choose a source address; the run checks that the
 * ephemeral range is large enough).
 *
 * Steps: warm the proxy up over one connection (so the upstream connection,
 * location cache and JIT exist before the "before" sample), sample its RSS;
 * open the connections in waves of 100, paced by the proxy's accepts (so that
 * its listen queue never overflows); wait until its RSS settles; sample
 * RSS and the number of open descriptors; send one request on each of a
 * seeded random sample and check each answer (id and content); then one
 * request on every connection (in waves of 1,000), checked the same way;
 * close all and sample again.
 *
 * @module
 */

import { buildBenchStates, buildRequestMix, type MixRequest, Prng } from "./_dataset.ts";
import { hostPort, num, parseArgs, str } from "./_flags.ts";
import { sampleProc } from "./_proc.ts";
import {
  BENCH_DIR,
  bundleForNode,
  cpuModel,
  DENO,
  hasNode,
  type ListeningProcess,
  ProcessGroup,
} from "./_procs.ts";

function fileLimits(pid: number | "self"): { soft: number; hard: number } {
  const text = Deno.readTextFileSync(`/proc/${pid}/limits`);
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  const n = (
    s: string | undefined,
  ) => (s === undefined || s === "unlimited" ? Infinity : Number(s));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

function openFds(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** TcpExt ListenOverflows, system-wide (other processes may add to it). */
function listenOverflows(): number {
  try {
    const lines = Deno.readTextFileSync("/proc/net/netstat").split("\n");
    for (let i = 0; i + 1 < lines.length; i += 2) {
      if (!lines[i].startsWith("TcpExt:")) continue;
      const names = lines[i].split(/\s+/);
      const values = lines[i + 1].split(/\s+/);
      const k = names.indexOf("ListenOverflows");
      if (k >= 0) return Number(values[k]);
    }
  } catch {
    // not Linux
  }
  return NaN;
}

function withFileLimit(limit: number, cmd: string, args: string[]): [string, string[]] {
  return ["bash", ["-c", `ulimit -n ${limit} && exec "$@"`, "bash", cmd, ...args]];
}

const WAVE = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads exactly one response frame for `id` from a connection; checks it. */
async function ask(conn: Deno.TcpConn, id: number, req: MixRequest): Promise<string | null> {
  const frame = req.frame.slice();
  new DataView(frame.buffer).setUint32(16, id);
  let w = 0;
  while (w < frame.length) w += await conn.write(frame.subarray(w));
  let buf = new Uint8Array(1024);
  let have = 0;
  for (;;) {
    if (have >= 4) {
      const len = new DataView(buf.buffer).getInt32(0);
      if (4 + len > buf.length) {
        const g = new Uint8Array(4 + len);
        g.set(buf.subarray(0, have));
        buf = g;
      }
      if (have >= 4 + len) break;
    }
    const n = await conn.read(buf.subarray(have));
    if (n === null) return "closed by the proxy";
    have += n;
  }
  const v = new DataView(buf.buffer);
  const type = v.getInt32(8);
  const gotId = v.getUint32(16);
  if (gotId !== id) return `wrong id ${gotId} (wanted ${id})`;
  if (type === 1) {
    const n = v.getInt32(20);
    const content = buf.subarray(24, 24 + n);
    if (req.expected === null) return "answer for an absent key";
    if (content.length !== req.expected.length || content.some((b, i) => b !== req.expected![i])) {
      return "wrong content";
    }
    return null;
  }
  if (type === 2) return req.expected === null ? null : "failure for a present key";
  return `message type ${type}`;
}

async function main(): Promise<number> {
  const a = parseArgs(Deno.args, [
    "connections",
    "sample",
    "target",
    "seed",
    "json",
    "read-buffer",
  ]);
  const count = Math.floor(num(a, "connections", 10_000));
  const sampleSize = Math.min(count, Math.floor(num(a, "sample", 500)));
  const which = str(a, "target", "ours-deno");
  const seed = Math.floor(num(a, "seed", 1));
  const json = a.flags.json === true;
  const log = (s: string) => {
    if (!json) console.log(s);
  };

  // File limits: ours and the children's.
  const need = count + 256;
  const self = fileLimits("self");
  if (self.soft < need) {
    if (self.hard < need) {
      console.error(`need ${need} open files, the hard limit is ${self.hard}`);
      return 1;
    }
    await new Deno.Command("prlimit", {
      args: ["--pid", String(Deno.pid), `--nofile=${need}:${self.hard}`],
    }).output();
    if (fileLimits("self").soft < need) {
      console.error(`could not raise the open-file limit to ${need}`);
      return 1;
    }
  }
  const childLimit = Math.min(self.hard, Math.max(need, fileLimits("self").soft));
  const [lo, hi] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(
    /\s+/,
  ).map(Number);
  if (hi - lo + 1 < count + 100) {
    console.error(`ephemeral port range ${lo}-${hi} is too small for ${count} connections`);
    return 1;
  }

  const group = new ProcessGroup();
  const tmp = await Deno.makeTempDir({ prefix: "qs-conns-" });
  const conns: Deno.TcpConn[] = [];
  try {
    const loc = `${tmp}/locations.json`;
    const server = await group.spawnListening(
      "server",
      ...withFileLimit(childLimit, DENO, [
        "run",
        "-A",
        `${BENCH_DIR}serve.ts`,
        "server",
        "--write-locations",
        loc,
      ]),
      "state server",
    );
    let proxy: ListeningProcess;
    const maxConns = String(count + 100);
    const node = which.endsWith("-node") && await hasNode() &&
      await bundleForNode(
        which === "ours-node" ? "serve_node.ts" : "baseline_forwarder_node.ts",
        `${tmp}/entry.mjs`,
      );
    if (which === "ours-node" && node) {
      proxy = await group.spawnListening(
        "proxy",
        ...withFileLimit(childLimit, "node", [
          `${tmp}/entry.mjs`,
          "proxy",
          "--locations",
          loc,
          "--max-connections",
          maxConns,
        ]),
        "our proxy, Node transport, under Node",
      );
    } else if (which === "ours-deno" || which === "ours-node") {
      proxy = await group.spawnListening(
        "proxy",
        ...withFileLimit(childLimit, DENO, [
          "run",
          "-A",
          `${BENCH_DIR}serve.ts`,
          "proxy",
          "--locations",
          loc,
          "--transport",
          which === "ours-node" ? "node" : "deno",
          "--max-connections",
          maxConns,
        ]),
        `our proxy, ${which === "ours-node" ? "Node transport under DENO" : "Deno transport"}`,
      );
    } else if (which === "base-node" && node) {
      proxy = await group.spawnListening(
        "proxy",
        ...withFileLimit(childLimit, "node", [`${tmp}/entry.mjs`, "--locations", loc]),
        "baseline forwarder, Node",
      );
    } else if (which === "base-deno") {
      proxy = await group.spawnListening(
        "proxy",
        ...withFileLimit(childLimit, DENO, [
          "run",
          "-A",
          `${BENCH_DIR}baseline_forwarder.ts`,
          "--locations",
          loc,
          "--read-buffer",
          str(a, "read-buffer", "16384"),
        ]),
        `baseline forwarder, Deno, ${str(a, "read-buffer", "16384")}-byte read buffers`,
      );
    } else {
      throw new Error(`--target ${which}: unknown, or node is unavailable`);
    }
    const target = hostPort(proxy.address);
    log(
      `${new Date().toISOString()}; ${navigator.hardwareConcurrency} cpus (${cpuModel()}); ` +
        `${proxy.description}, pid ${proxy.pid}, open-file limit ${
          fileLimits(proxy.pid).soft
        }; state server pid ${server.pid}`,
    );

    const states = buildBenchStates(1000);
    const mix = buildRequestMix(states, {
      seed,
      size: 4096,
      hitRatio: 0.9,
      keys: 1000,
      mode: "proxy",
    });

    // Warm-up over one connection.
    {
      const c = await Deno.connect(target);
      c.setNoDelay(true);
      for (let i = 0; i < 2000; i++) {
        const err = await ask(c, i, mix[i % mix.length]);
        if (err !== null) throw new Error(`warm-up request ${i}: ${err}`);
      }
      c.close();
    }
    await sleep(1000);
    const before = sampleProc(proxy.pid)!;
    const fdsBefore = openFds(proxy.pid);
    log(`before: proxy RSS ${before.rssKiB} KiB, ${fdsBefore} open descriptors`);

    // Open the connections.
    const t0 = performance.now();
    let connectErrors = 0;
    const overflowsBefore = listenOverflows();
    for (let i = 0; i < count; i += WAVE) {
      const wave = await Promise.allSettled(
        Array.from({ length: Math.min(WAVE, count - i) }, () => Deno.connect(target)),
      );
      for (const r of wave) {
        if (r.status === "fulfilled") {
          r.value.setNoDelay(true);
          conns.push(r.value);
        } else connectErrors++;
      }
      // Pace the waves by the proxy's accepts, so that its listen queue does
      // not overflow (each overflow costs the client a 1 s SYN retransmit).
      for (let k = 0; k < 400 && openFds(proxy.pid) < fdsBefore + conns.length - WAVE; k++) {
        await sleep(5);
      }
    }
    const overflows = listenOverflows() - overflowsBefore;
    const connectMs = performance.now() - t0;
    // Wait for the proxy to hold them all and its RSS to settle.
    let after = sampleProc(proxy.pid)!;
    for (let i = 0; i < 40; i++) {
      await sleep(250);
      const s = sampleProc(proxy.pid)!;
      const fds = openFds(proxy.pid);
      const settled = fds >= fdsBefore + conns.length && Math.abs(s.rssKiB - after.rssKiB) < 64;
      after = s;
      if (settled) break;
    }
    const fdsAfter = openFds(proxy.pid);
    const perConnKiB = (after.rssKiB - before.rssKiB) / conns.length;
    log(
      `after ${conns.length} connections (${connectErrors} failed, opened in ${
        connectMs.toFixed(0)
      } ms, ${overflows} listen-queue overflows system-wide): proxy RSS ${after.rssKiB} KiB, ${fdsAfter} open descriptors; ` +
        `${perConnKiB.toFixed(2)} KiB per connection`,
    );

    // Traffic on a random sample.
    const rnd = new Prng(seed);
    const picked = new Set<number>();
    while (picked.size < sampleSize) picked.add(rnd.int(conns.length));
    const sample = [...picked];
    const check = async (indices: number[], idBase: number) => {
      const failures: Record<string, number> = {};
      const t = performance.now();
      const results = await Promise.all(
        indices.map((ci, k) =>
          ask(conns[ci], idBase + k, mix[(ci + idBase) % mix.length]).catch((e) =>
            `error ${(e as Error).name}`
          )
        ),
      );
      let ok = 0;
      for (const r of results) {
        if (r === null) ok++;
        else failures[r] = (failures[r] ?? 0) + 1;
      }
      return { ok, failures, ms: performance.now() - t };
    };
    const sampled = await check(sample, 100_000);
    log(
      `sample: ${sampled.ok}/${sample.length} connections answered correctly in ${
        sampled.ms.toFixed(0)
      } ms` + (sampled.ok < sample.length ? ` ${JSON.stringify(sampled.failures)}` : ""),
    );
    const afterSample = sampleProc(proxy.pid)!;

    // Then every connection, in waves.
    let allOk = 0;
    const allFailures: Record<string, number> = {};
    const tAll = performance.now();
    for (let i = 0; i < conns.length; i += 1000) {
      const idx = Array.from({ length: Math.min(1000, conns.length - i) }, (_, k) => i + k);
      const r = await check(idx, 200_000 + i);
      allOk += r.ok;
      for (const [k, v] of Object.entries(r.failures)) allFailures[k] = (allFailures[k] ?? 0) + v;
    }
    const allMs = performance.now() - tAll;
    const afterAll = sampleProc(proxy.pid)!;
    log(
      `all: ${allOk}/${conns.length} connections answered correctly in ${allMs.toFixed(0)} ms` +
        (allOk < conns.length ? ` ${JSON.stringify(allFailures)}` : "") +
        `; proxy RSS ${afterAll.rssKiB} KiB (peak ${afterAll.hwmKiB} KiB)`,
    );

    for (const c of conns) {
      try {
        c.close();
      } catch {
        // gone
      }
    }
    conns.length = 0;
    let closedFds = openFds(proxy.pid);
    for (let i = 0; i < 40 && closedFds > fdsBefore + 5; i++) {
      await sleep(250);
      closedFds = openFds(proxy.pid);
    }
    const afterClose = sampleProc(proxy.pid)!;
    log(
      `closed: proxy RSS ${afterClose.rssKiB} KiB, ${closedFds} open descriptors`,
    );
    const report = {
      date: new Date().toISOString(),
      proxy: proxy.description,
      connections: count,
      connected: count - connectErrors,
      connectMs: Math.round(connectMs),
      listenOverflows: overflows,
      rssBeforeKiB: before.rssKiB,
      rssAfterKiB: after.rssKiB,
      perConnectionKiB: Math.round(perConnKiB * 100) / 100,
      fdsBefore,
      fdsAfter,
      sample: { size: sample.length, ok: sampled.ok, failures: sampled.failures },
      rssAfterSampleKiB: afterSample.rssKiB,
      all: { size: count - connectErrors, ok: allOk, failures: allFailures, ms: Math.round(allMs) },
      rssAfterAllKiB: afterAll.rssKiB,
      hwmKiB: afterAll.hwmKiB,
      rssAfterCloseKiB: afterClose.rssKiB,
      fdsAfterClose: closedFds,
    };
    if (json) console.log(JSON.stringify(report));
    else {
      console.log(
        `\n${report.connected} idle connections: ${report.perConnectionKiB} KiB of proxy RSS ` +
          `per connection (target <= 16 KiB: ${
            report.perConnectionKiB <= 16 ? "met" : "MISSED"
          }); ` +
          `sample ${sampled.ok}/${sample.length} answered, all ${allOk}/${report.all.size} answered`,
      );
    }
    return sampled.ok === sample.length && allOk === report.all.size ? 0 : 1;
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // gone
      }
    }
    await group.stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
