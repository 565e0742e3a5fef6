/**
 * The soak benchmark: a bounded run of at least a million requests through
 * our proxy, with hostile peers on other connections all along, reporting
 * requests/s over time and the resident memory of the proxy and the state
 * server.
 *
 *   deno run -A bench/soak.ts [--requests 3000000] [--max-seconds 600] [--interval 2] \
 *     [--connections 8] [--depth 32] [--hit-ratio 0.7] [--seed 1] [--unknown 1] \
 *     [--garbage 2] [--slow 16] [--idle 64] [--churn 10]
 *
 * It starts the state server with the bench data set and our proxy in
 * front of it, each its own process (`serve.ts`, Deno transport), and from
 * this process drives, interval after interval, until `--requests` answers
 * or `--max-seconds`:
 *
 * - the load generator of `load.ts` (`runLoad`: `--connections` ×
 *   `--depth`, hits and misses at `--hit-ratio`, every answer checked), a
 *   new seed each interval;
 * - `--unknown` connections asking for states nobody registered (a new name
 *   each time, so the proxy's location cache churns) and for jobs without
 *   an oracle, every answer checked to be a failure for its request;
 * - hostile peers: `--garbage` connections sending random frames (valid
 *   prefixes, random headers and bodies, now and then a broken prefix),
 *   every answer they get checked to be well-formed; `--slow` slowloris
 *   peers trickling one byte of a frame every 250 ms; `--idle` sockets that
 *   never send; `--churn` connections a second opened, asked once, closed.
 *   Peers the server closes are replaced.
 *
 * After each interval it prints a row: elapsed time, requests/s, requests
 * so far, load errors, the proxy's and the server's RSS (VmRSS) and CPU.
 * RSS is sampled four times a second and each row shows the median of its
 * interval. At the end: the RSS at the start (the first interval), the
 * middle (the median of the rows between 40% and 60% of the run) and the
 * end (the median of the last fifth), the peak (VmHWM), and a verdict line:
 * the end within 10% of the middle, for the proxy and for the server, and
 * no load errors. It stops only the processes it started, by pid.
 *
 * @module
 */

import { JobId, type NetAddress } from "../mod.ts";
import { encodeKvStateRequest } from "../src/wire/mod.ts";
import { RawPeer } from "../tests/_harness.ts";
import { Prng } from "../tests/_prng.ts";
import { checkAnswers, exchange, HostileSocket, transport } from "../tests/adversarial/_hostile.ts";
import { BENCH_JOB_ID } from "./_dataset.ts";
import { hostPort, num, parseArgs } from "./_flags.ts";
import { BENCH_DIR, cpuModel, DENO, openHarness } from "./_procs.ts";
import { sampleProc } from "./_proc.ts";
import { type LoadReport, runLoad } from "./load.ts";

const FLAGS = [
  "requests",
  "max-seconds",
  "interval",
  "connections",
  "depth",
  "hit-ratio",
  "seed",
  "unknown",
  "garbage",
  "slow",
  "idle",
  "churn",
  "help",
];

const USAGE = "usage: soak.ts [--requests 3000000] [--max-seconds 600] [--interval 2] " +
  "[--connections 8] [--depth 32] [--hit-ratio 0.7] [--seed 1] [--unknown 1] [--garbage 2] " +
  "[--slow 16] [--idle 64] [--churn 10]";

interface Options {
  readonly requests: number;
  readonly maxSeconds: number;
  readonly interval: number;
  readonly connections: number;
  readonly depth: number;
  readonly hitRatio: number;
  readonly seed: number;
  readonly unknown: number;
  readonly garbage: number;
  readonly slow: number;
  readonly idle: number;
  readonly churn: number;
}

/** What the hostile peers and the unknown-state traffic did. */
interface Counters {
  unknownAnswered: number;
  garbageConnections: number;
  garbageFrames: number;
  garbageAnswers: number;
  garbageServerFailures: number;
  slowClosedByServer: number;
  idleClosedByServer: number;
  churned: number;
  hostileErrors: Map<string, number>;
}

/** One row of the table. */
interface Row {
  readonly at: number;
  readonly rps: number;
  readonly total: number;
  readonly errors: number;
  /** The median RSS over the interval's samples, KiB. */
  readonly rssKiB: { readonly proxy: number; readonly server: number };
  readonly proxyCpu: number;
  readonly serverCpu: number;
  readonly soakCpu: number;
}

/** How often RSS is sampled, ms. */
const RSS_SAMPLE_MS = 250;

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The median RSS of the rows whose time lies within [from, to] of the run (the nearest row if none). */
function phaseRss(
  rows: readonly Row[],
  from: number,
  to: number,
  name: "proxy" | "server",
): number {
  const end = rows[rows.length - 1].at;
  let picked = rows.filter((r) => r.at >= from * end && r.at <= to * end);
  if (picked.length === 0) {
    const mid = ((from + to) / 2) * end;
    picked = [rows.reduce((a, b) => (Math.abs(b.at - mid) < Math.abs(a.at - mid) ? b : a))];
  }
  return median(picked.map((r) => r.rssKiB[name]));
}

const mib = (kib: number | undefined) => (kib === undefined ? "-" : (kib / 1024).toFixed(1));

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

class Hostiles {
  readonly #address: NetAddress;
  readonly #o: Options;
  readonly #rng: Prng;
  readonly c: Counters = {
    unknownAnswered: 0,
    garbageConnections: 0,
    garbageFrames: 0,
    garbageAnswers: 0,
    garbageServerFailures: 0,
    slowClosedByServer: 0,
    idleClosedByServer: 0,
    churned: 0,
    hostileErrors: new Map(),
  };
  #stopping = false;
  readonly #tasks: Promise<void>[] = [];
  readonly #sockets = new Set<HostileSocket>();
  readonly #peers = new Set<RawPeer>();
  #names = 0;

  constructor(address: NetAddress, o: Options) {
    this.#address = address;
    this.#o = o;
    this.#rng = new Prng(o.seed * 7919);
  }

  #error(kind: string, e: unknown): void {
    if (this.#stopping) return;
    const key = `${kind}: ${(e as Error)?.message ?? e}`.slice(0, 160);
    this.c.hostileErrors.set(key, (this.c.hostileErrors.get(key) ?? 0) + 1);
  }

  async #open(): Promise<HostileSocket> {
    const s = await HostileSocket.open(this.#address);
    this.#sockets.add(s);
    return s;
  }

  async #drop(s: HostileSocket): Promise<void> {
    this.#sockets.delete(s);
    await s.close();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  start(): void {
    for (let i = 0; i < this.#o.unknown; i++) this.#tasks.push(this.#unknownLoop());
    for (let i = 0; i < this.#o.garbage; i++) this.#tasks.push(this.#garbageLoop());
    for (let i = 0; i < this.#o.slow; i++) this.#tasks.push(this.#slowLoop());
    if (this.#o.idle > 0) this.#tasks.push(this.#idleLoop());
    if (this.#o.churn > 0) this.#tasks.push(this.#churnLoop());
  }

  /** Unknown states of the bench job (new names) and unknown jobs, pipelined, answers checked. */
  async #unknownLoop(): Promise<void> {
    while (!this.#stopping) {
      let peer: RawPeer | undefined;
      try {
        peer = await RawPeer.connect(transport, this.#address);
        this.#peers.add(peer);
        for (let round = 0; round < 200 && !this.#stopping; round++) {
          const frames: Uint8Array[] = [];
          for (let i = 0; i < 64; i++) {
            const n = this.#names++;
            frames.push(encodeKvStateRequest(BigInt(n), {
              jobId: n % 4 === 0 ? JobId.random() : BENCH_JOB_ID,
              stateName: `no-such-state-${n}`,
              keyHashCode: n,
              serializedKeyAndNamespace: new Uint8Array([n & 0xff, 42, 0]),
            }));
          }
          const answers = await exchange(peer, frames, 64, 30_000);
          for (const f of answers.values()) {
            if (f[11] !== 2) throw new Error(`an unknown state answered with type ${f[11]}`);
          }
          this.c.unknownAnswered += answers.size;
        }
      } catch (e) {
        this.#error("unknown-state traffic", e);
        await this.#sleep(50);
      } finally {
        if (peer !== undefined) {
          this.#peers.delete(peer);
          await peer.close().catch(() => {});
        }
      }
    }
  }

  /** Random frames in random pieces; every answer must be well-formed. */
  async #garbageLoop(): Promise<void> {
    const rng = this.#rng;
    while (!this.#stopping) {
      let s: HostileSocket | undefined;
      try {
        s = await this.#open();
        this.c.garbageConnections++;
        const frames = 20 + rng.int(200);
        for (let i = 0; i < frames && !this.#stopping; i++) {
          const body = rng.bytes(rng.int(3) === 0 ? 8 + rng.int(8) : 16 + rng.int(400));
          const v = new DataView(body.buffer);
          if (rng.int(2) === 0) v.setInt32(0, 0x79a1b710); // the right version, now and then
          if (body.length >= 8) v.setInt32(4, rng.int(5));
          const f = new Uint8Array(4 + body.length);
          new DataView(f.buffer).setInt32(0, body.length);
          f.set(body, 4);
          if (!(await s.write(f))) break;
          this.c.garbageFrames++;
          if (i % 16 === 15) await this.#sleep(10);
        }
        if (rng.int(4) === 0) await s.write(new Uint8Array([0xff, 0xff, 0xff, 0xfe]));
        await s.closeWrite();
        await Promise.race([s.ended, this.#sleep(10_000)]);
        const got = checkAnswers(s.received);
        this.c.garbageAnswers += got.frames.length;
        this.c.garbageServerFailures += got.serverFailures;
      } catch (e) {
        this.#error("garbage peer", e);
      } finally {
        if (s !== undefined) await this.#drop(s);
      }
    }
  }

  /** A frame announced, then one byte every 250 ms; replaced when the server closes it. */
  async #slowLoop(): Promise<void> {
    while (!this.#stopping) {
      let s: HostileSocket | undefined;
      try {
        s = await this.#open();
        let closed = false;
        s.ended.then(() => (closed = true));
        let ok = await s.write(new Uint8Array([0, 0, 4, 0]));
        while (ok && !closed && !this.#stopping) {
          await this.#sleep(250);
          ok = await s.write(new Uint8Array([this.#rng.int(256)]));
        }
        if (!this.#stopping) this.c.slowClosedByServer++;
      } catch (e) {
        this.#error("slow peer", e);
        await this.#sleep(50);
      } finally {
        if (s !== undefined) await this.#drop(s);
      }
    }
  }

  /** Sockets that never send; those the server closes are replaced each second. */
  async #idleLoop(): Promise<void> {
    const open = new Set<HostileSocket>();
    while (!this.#stopping) {
      try {
        while (open.size < this.#o.idle && !this.#stopping) {
          const s = await this.#open();
          open.add(s);
          s.ended.then(async () => {
            open.delete(s);
            if (!this.#stopping) this.c.idleClosedByServer++;
            await this.#drop(s);
          });
        }
      } catch (e) {
        this.#error("idle peer", e);
      }
      await this.#sleep(1000);
    }
  }

  /** Connections opened, asked once (a request for an unknown job), closed. */
  async #churnLoop(): Promise<void> {
    const request = encodeKvStateRequest(1n, {
      jobId: JobId.random(),
      stateName: "churn",
      keyHashCode: 1,
      serializedKeyAndNamespace: new Uint8Array([1, 42, 0]),
    });
    while (!this.#stopping) {
      let peer: RawPeer | undefined;
      try {
        peer = await RawPeer.connect(transport, this.#address);
        this.#peers.add(peer);
        await exchange(peer, [request], 1, 10_000);
        this.c.churned++;
      } catch (e) {
        this.#error("churn", e);
      } finally {
        if (peer !== undefined) {
          this.#peers.delete(peer);
          await peer.close().catch(() => {});
        }
      }
      await this.#sleep(1000 / this.#o.churn);
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#sockets].map((s) => this.#drop(s)));
    await Promise.all([...this.#peers].map((p) => p.close().catch(() => {})));
    await Promise.all(this.#tasks);
  }
}

function parseOptions(): Options | null {
  const a = parseArgs(Deno.args, FLAGS);
  if (a.flags.help) return null;
  return {
    requests: Math.floor(num(a, "requests", 3_000_000)),
    maxSeconds: num(a, "max-seconds", 600),
    interval: Math.max(0.5, num(a, "interval", 2)),
    connections: Math.max(1, Math.floor(num(a, "connections", 8))),
    depth: Math.max(1, Math.floor(num(a, "depth", 32))),
    hitRatio: Math.min(1, num(a, "hit-ratio", 0.7)),
    seed: Math.floor(num(a, "seed", 1)),
    unknown: Math.floor(num(a, "unknown", 1)),
    garbage: Math.floor(num(a, "garbage", 2)),
    slow: Math.floor(num(a, "slow", 16)),
    idle: Math.floor(num(a, "idle", 64)),
    churn: num(a, "churn", 10),
  };
}

async function main(): Promise<number> {
  let o: Options | null;
  try {
    o = parseOptions();
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (o === null) {
    console.log(USAGE);
    return 0;
  }
  const harness = await openHarness("qs-soak-");
  const { tmp, group } = harness;
  let hostiles: Hostiles | undefined;
  try {
    const loc = `${tmp}/locations.json`;
    const serve = (name: string, args: string[], description: string) =>
      group.spawnListening(name, DENO, ["run", "-A", `${BENCH_DIR}serve.ts`, ...args], description);
    const server = await serve(
      "server",
      ["server", "--write-locations", loc],
      "state server (our KvStateServer, Deno transport)",
    );
    const proxy = await serve("proxy", ["proxy", "--locations", loc], "our proxy (Deno transport)");
    console.log(
      `${new Date().toISOString()}; ${navigator.hardwareConcurrency} cpus (${cpuModel()}); ` +
        `deno ${Deno.version.deno}; load average ${
          Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
        }`,
    );
    console.log(
      `  server pid ${server.pid} at ${server.address}; proxy pid ${proxy.pid} at ${proxy.address}`,
    );
    console.log(
      `  target ${o.requests.toLocaleString("en-US")} requests, at most ${o.maxSeconds} s; ` +
        `load ${o.connections}x${o.depth}, hit ratio ${o.hitRatio}; unknown-state connections ` +
        `${o.unknown}; hostile: ${o.garbage} garbage, ${o.slow} slowloris, ${o.idle} idle, ` +
        `${o.churn} connections/s churn`,
    );
    hostiles = new Hostiles(hostPort(proxy.address), o);
    hostiles.start();

    const pids = [{ name: "proxy", pid: proxy.pid }, { name: "server", pid: server.pid }];
    const rows: Row[] = [];
    const totals = { hit: 0, miss: 0, errors: 0, lost: 0 };
    const errorKinds = new Map<string, number>();
    const failures = new Map<string, number>();
    // RSS sampled 4 times a second; each row shows the median of its interval.
    let rss: Array<[number, number]> = [];
    let gone = false;
    const sampler = setInterval(() => {
      const p = sampleProc(proxy.pid);
      const s = sampleProc(server.pid);
      if (p === null || s === null) gone = true;
      else rss.push([p.rssKiB, s.rssKiB]);
    }, RSS_SAMPLE_MS);
    const t0 = performance.now();
    let total = 0;
    let unknownSeen = 0;
    console.log(
      `\n${pad("time s", 7)} ${pad("req/s", 9)} ${pad("requests", 11)} ${pad("errors", 6)} ` +
        `${pad("proxy RSS MiB", 13)} ${pad("server RSS MiB", 14)} ${pad("proxy CPU%", 10)} ` +
        `${pad("server CPU%", 11)} ${pad("soak CPU%", 9)}`,
    );
    for (let i = 0; total < o.requests; i++) {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= o.maxSeconds) break;
      const duration = Math.min(o.interval, o.maxSeconds - elapsed);
      const started = performance.now();
      const r: LoadReport = await runLoad({
        target: proxy.address,
        mode: "proxy",
        connections: o.connections,
        depth: o.depth,
        requests: 0,
        duration,
        warmup: 0,
        seed: o.seed + i,
        hitRatio: o.hitRatio,
        mixSize: 4096,
        keys: 1000,
        grace: 2,
        maxSeconds: 60,
        pids,
      });
      const windowS = (performance.now() - started) / 1000;
      const unknownNow = hostiles.c.unknownAnswered;
      const done = r.received + (unknownNow - unknownSeen);
      unknownSeen = unknownNow;
      total += done;
      totals.hit += r.outcomes.hit;
      totals.miss += r.outcomes.miss;
      totals.errors += r.errorCount;
      totals.lost += r.lost;
      for (const [k, n] of Object.entries(r.errors)) {
        errorKinds.set(k, (errorKinds.get(k) ?? 0) + n);
      }
      for (const [k, n] of Object.entries(r.failuresByClass)) {
        failures.set(k, (failures.get(k) ?? 0) + n);
      }
      const proc = (name: string) => r.processes.find((p) => p.name === name);
      const row: Row = {
        at: (performance.now() - t0) / 1000,
        rps: done / windowS,
        total,
        errors: r.errorCount + r.lost,
        rssKiB: { proxy: median(rss.map((x) => x[0])), server: median(rss.map((x) => x[1])) },
        proxyCpu: proc("proxy")?.cpuPct ?? NaN,
        serverCpu: proc("server")?.cpuPct ?? NaN,
        soakCpu: r.selfCpuPct,
      };
      rss = [];
      rows.push(row);
      console.log(
        `${pad(row.at.toFixed(1), 7)} ${pad(Math.round(row.rps).toLocaleString("en-US"), 9)} ` +
          `${pad(total.toLocaleString("en-US"), 11)} ${pad(row.errors, 6)} ` +
          `${pad(mib(row.rssKiB.proxy), 13)} ${pad(mib(row.rssKiB.server), 14)} ` +
          `${pad(row.proxyCpu.toFixed(0), 10)} ${pad(row.serverCpu.toFixed(0), 11)} ` +
          `${pad(row.soakCpu.toFixed(0), 9)}`,
      );
      if (gone) {
        console.log("a target process is gone");
        break;
      }
    }
    clearInterval(sampler);
    await hostiles.stop();
    const c = hostiles.c;
    hostiles = undefined;

    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `\n${total.toLocaleString("en-US")} requests in ${seconds.toFixed(1)} s ` +
        `(${Math.round(total / seconds).toLocaleString("en-US")} req/s on average): ` +
        `${totals.hit.toLocaleString("en-US")} hits, ${
          totals.miss.toLocaleString("en-US")
        } misses, ` +
        `${c.unknownAnswered.toLocaleString("en-US")} unknown states and jobs; ` +
        `load errors ${totals.errors}, lost ${totals.lost}` +
        (errorKinds.size > 0 ? ` ${JSON.stringify([...errorKinds])}` : ""),
    );
    for (const [k, n] of failures) console.log(`  failures ${k}: ${n.toLocaleString("en-US")}`);
    console.log(
      `hostile peers: ${c.garbageConnections} garbage connections sent ${c.garbageFrames} frames, ` +
        `got ${c.garbageAnswers} well-formed answers (${c.garbageServerFailures} SERVER_FAILURE); ` +
        `${c.slowClosedByServer} slowloris and ${c.idleClosedByServer} idle connections closed ` +
        `by the proxy; ${c.churned} churned connections answered`,
    );
    for (const [k, n] of c.hostileErrors) console.log(`  hostile-side error ×${n}: ${k}`);

    if (rows.length < 5) {
      console.log("verdict: too few intervals to compare the middle and the end");
      return 1;
    }
    const at = rows[rows.length - 1].at;
    console.log(
      `\nRSS MiB (median of the rows in each phase: start = the first interval, middle = ` +
        `${(0.4 * at).toFixed(0)}-${(0.6 * at).toFixed(0)} s, end = the last fifth, ` +
        `${(0.8 * at).toFixed(0)}-${at.toFixed(0)} s)`,
    );
    console.log(
      `  ${"".padEnd(14)} ${pad("start", 8)} ${pad("middle", 8)} ${pad("end", 8)} ${
        pad("peak", 8)
      }`,
    );
    let ok = totals.errors + totals.lost === 0;
    const verdicts: string[] = [];
    for (const [name, pid] of [["proxy", proxy.pid], ["server", server.pid]] as const) {
      const s = rows[0].rssKiB[name];
      const m = phaseRss(rows, 0.4, 0.6, name);
      const e = phaseRss(rows, 0.8, 1, name);
      const change = (e - m) / m;
      const within = Math.abs(change) <= 0.1;
      ok &&= within;
      console.log(
        `  ${name.padEnd(14)} ${pad(mib(s), 8)} ${pad(mib(m), 8)} ${pad(mib(e), 8)} ` +
          `${pad(mib(sampleProc(pid)?.hwmKiB), 8)}`,
      );
      verdicts.push(
        `${name} end ${mib(e)} MiB vs middle ${mib(m)} MiB: ${change >= 0 ? "+" : ""}` +
          `${(change * 100).toFixed(1)}% (${within ? "within" : "NOT within"} 10%)`,
      );
    }
    console.log(
      `verdict: ${ok ? "PASS" : "FAIL"}: ${
        verdicts.join("; ")
      }; load errors ${totals.errors}, lost ${totals.lost}`,
    );
    return ok ? 0 : 1;
  } finally {
    await hostiles?.stop();
    await harness.close();
  }
}

if (import.meta.main) Deno.exit(await main());
