/**
 * Memory by input alone: how far a peer that sends whatever it likes, opens
 * as many connections as the target allows (from as many addresses as it
 * likes) and never reads can drive the resident memory of our proxy (or
 * state server) with default settings.
 *
 *   deno run -A bench/memory_attack.ts [--modes slow,worst,partial,idle,noread,mixed] \
 *     [--connections 4096] [--target proxy|server] [--transport deno|node] \
 *     [--path direct|stream] [--hold 3] [--bytes 262144] [--grow 30720] \
 *     [--upstream-delay-ms 25000] [--noread-connections 512] \
 *     [--noread-bytes 1048576] [--per-address 500] [--json]
 *
 * For each mode it starts, each in its own process: a state server with the
 * bench data set, each state also registered as `slow-<name>`, answered
 * only after `--upstream-delay-ms`; and the target with its default bounds
 * (only the address, the transport and, for the proxy, the locations are
 * set; `--path stream` hides the direct path of its connections). It warms
 * the target up over one connection, samples its RSS, opens `--connections`
 * connections from 127.0.0.2, 127.0.0.3, ... (`node:net` with
 * `localAddress`, `--per-address` from each, below the default cap of 512
 * per address), samples again, then sends from every connection (never
 * reading, except `idle`):
 *
 * - `slow`: `--bytes` of valid requests for the slow states: they stay in
 *   progress, and the chunks they were read in are kept;
 * - `worst`: `--grow` bytes of 1 KiB frames with a wrong version (answered
 *   at once), so that every read fills the target's read buffer up to its
 *   largest size (30 KiB: 2 + 4 + 8 + 16 KiB), then `slow`;
 * - `partial`: the prefix of a frame of the largest default length (64 MiB)
 *   and `--bytes` of its body, never completed;
 * - `idle`: the `--grow` frames alone, their answers read: each connection
 *   is left with its read buffer at its largest, pending;
 * - `noread`: `--noread-bytes` of valid requests answered at once, from
 *   `--noread-connections` connections, never read: answers pile up;
 * - `mixed`: all of the above at once, one connection in five each
 *   (`noread` with `--bytes`).
 *
 * The attacker writes at most 64 KiB per connection ahead of what the
 * target took. It samples the target's VmRSS and VmHWM (`/proc/PID/status`),
 * its heap and external memory (`Deno.memoryUsage()`, written by the target
 * every 200 ms) until nothing was taken for `--hold` seconds and the target
 * is quiet (under 5% of a core), then asks the target for a full collection
 * and samples again: what is retained apart from garbage. It prints, per
 * mode: RSS before, after connecting, the peak, after the collection. Every
 * run is bounded (each mode at most `hold` + 60 s; all modes with the
 * defaults take about two minutes); it kills only the processes it started,
 * by pid.
 *
 * @module
 */

import net from "node:net";
import {
  KvStateClientProxy,
  KvStateId,
  KvStateServer,
  type QueryableState,
  StaticLocationOracle,
  type Transport,
} from "../mod.ts";
import { concatBytes } from "../src/wire/mod.ts";
import {
  BENCH_JOB_ID,
  benchLocations,
  type BenchState,
  buildBenchStates,
  buildRequestMix,
  type MixRequest,
} from "./_dataset.ts";
import { hostPort, num, parseArgs, str } from "./_flags.ts";
import { cpuPercent, type ProcSample, sampleProc } from "./_proc.ts";
import { BENCH_DIR, DENO, type ListeningProcess, ProcessGroup } from "./_procs.ts";

const FLAGS = [
  "role",
  "connections",
  "modes",
  "target",
  "transport",
  "path",
  "hold",
  "bytes",
  "upstream-delay-ms",
  "per-address",
  "noread-connections",
  "noread-bytes",
  "grow",
  "locations",
  "delay-ms",
  "write-locations",
  "report",
  "snapshot",
  "samples",
  "v8-flags",
  "json",
] as const;

const ALL_MODES = ["slow", "worst", "partial", "idle", "noread", "mixed"] as const;
type Mode = typeof ALL_MODES[number];
/** What one connection does. */
type Kind = Exclude<Mode, "mixed">;
const MIXED: readonly Kind[] = ["slow", "worst", "partial", "idle", "noread"];

const WRITE_PIECE = 64 * 1024;

// ---------------------------------------------------------------------------
// The processes under attack.

async function transportFor(name: string, path: string): Promise<Transport> {
  const base: Transport = name === "node"
    ? (await import("../src/transport/node.ts")).nodeTransport
    : (await import("../src/transport/deno.ts")).denoTransport;
  if (path !== "stream") return base;
  // Connections without the direct path: the server runs its stream pipeline.
  return {
    name: `${base.name}-stream`,
    connect: (o) => base.connect(o),
    async listen(address) {
      const listener = await base.listen(address);
      const wrap = (conn: import("../mod.ts").Connection) => ({
        get readable() {
          return conn.readable;
        },
        get writable() {
          return conn.writable;
        },
        localAddress: conn.localAddress,
        remoteAddress: conn.remoteAddress,
        close: () => conn.close(),
      });
      return {
        address: listener.address,
        async accept() {
          const c = await listener.accept();
          return c === null ? null : wrap(c);
        },
        close: () => listener.close(),
        async *[Symbol.asyncIterator]() {
          for (;;) {
            const c = await listener.accept();
            if (c === null) return;
            yield wrap(c);
          }
        },
      };
    },
  };
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGTERM", stop);
      resolve();
    };
    Deno.addSignalListener("SIGTERM", stop);
  });
}

/** The bench states again, named `slow-<name>`, under other ids. */
function slowStates(states: readonly BenchState[]): BenchState[] {
  const other = (id: KvStateId) => KvStateId.fromHex(`ff${id.toString().slice(2)}`);
  return states.map((s) => ({
    ...s,
    name: `slow-${s.name}`,
    kvStateIds: [other(s.kvStateIds[0]), other(s.kvStateIds[1])] as const,
  }));
}

/** Registers the bench states, and their slow twins answering after `delay` ms. */
function registerAll(server: KvStateServer, delay: number): BenchState[] {
  const states = buildBenchStates(1000);
  const slow = slowStates(states);
  for (const s of states) {
    server.registry.register(s.state, s.kvStateIds[0]);
    server.registry.register(s.state, s.kvStateIds[1]);
  }
  for (const s of slow) {
    const state = delayed(s.state, delay);
    server.registry.register(state, s.kvStateIds[0]);
    server.registry.register(state, s.kvStateIds[1]);
  }
  return [...states, ...slow];
}

/** A state that answers after `ms`. */
function delayed(state: QueryableState, ms: number): QueryableState {
  return {
    getSerializedValue: (kn, context) =>
      new Promise((resolve, reject) =>
        setTimeout(() => {
          try {
            resolve(state.getSerializedValue(kn, context));
          } catch (e) {
            reject(e);
          }
        }, ms)
      ),
  };
}

async function runRole(role: string, args: ReturnType<typeof parseArgs>): Promise<number> {
  const transport = await transportFor(str(args, "transport", "deno"), str(args, "path", "direct"));
  let close: () => Promise<void>;
  let address;
  const delay = num(args, "delay-ms", 25_000);
  if (role === "upstream") {
    const server = new KvStateServer({
      transport: (await import("../src/transport/deno.ts")).denoTransport,
    });
    const states = registerAll(server, delay);
    address = await server.start();
    await Deno.writeTextFile(
      str(args, "write-locations"),
      JSON.stringify(benchLocations(states, address)),
    );
    close = () => server.close();
  } else if (role === "proxy") {
    // Default bounds: only where to listen and what to serve.
    const proxy = new KvStateClientProxy({ transport });
    proxy.updateKvStateLocationOracle(
      BENCH_JOB_ID,
      new StaticLocationOracle(JSON.parse(await Deno.readTextFile(str(args, "locations")))),
    );
    address = await proxy.start();
    close = () => proxy.close();
  } else if (role === "server") {
    // Default bounds: only where to listen and what to serve.
    const server = new KvStateServer({ transport });
    registerAll(server, delay);
    address = await server.start();
    close = () => server.close();
  } else {
    console.error(`unknown role ${role}`);
    return 2;
  }
  const report = args.flags.report;
  const onReport = () => {
    // After a full collection: what is retained, apart from garbage.
    (globalThis as { gc?: () => void }).gc?.();
    if (typeof report === "string") {
      Deno.writeTextFileSync(report, JSON.stringify(Deno.memoryUsage()));
    }
    if (typeof args.flags.snapshot === "string") {
      import("node:v8").then((v8) => v8.writeHeapSnapshot(args.flags.snapshot as string));
    }
  };
  Deno.addSignalListener("SIGUSR2", onReport);
  // Every 200 ms, without a collection: the heap and external memory as they are.
  const sampling = typeof args.flags.samples === "string"
    ? setInterval(() => {
      Deno.writeTextFileSync(args.flags.samples as string, JSON.stringify(Deno.memoryUsage()));
    }, 200)
    : undefined;
  console.log(`listening on ${address.hostname}:${address.port}`);
  await untilSignal();
  Deno.removeSignalListener("SIGUSR2", onReport);
  clearInterval(sampling);
  await close();
  return 0;
}

// ---------------------------------------------------------------------------
// The attacker.

/** Request frames (each with its length prefix) filling `bytes`, ids counting up. */
function requestBytes(mix: readonly MixRequest[], bytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const f = mix[i % mix.length].frame.slice();
    new DataView(f.buffer).setBigInt64(12, BigInt(i));
    parts.push(f);
    n += f.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * `bytes` of 1 KiB frames with a wrong version (each answered at once with a
 * failure): sent in one go, the reads of a buffer that doubles from 2 KiB
 * fill it at every size (30 KiB: up to 16 KiB; 126 KiB: up to 64 KiB).
 */
function growFrames(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const v = new DataView(out.buffer);
  for (let at = 0; at + 1024 <= bytes; at += 1024) {
    v.setInt32(at, 1020);
    v.setInt32(at + 4, 0x7777);
  }
  return out;
}

/** The request mixes: for states answered at once, and for the slow ones. */
interface Mixes {
  readonly fast: readonly MixRequest[];
  readonly slow: readonly MixRequest[];
}

/** What one connection sends. */
function payloadFor(kind: Kind, bytes: number, grow: number, mixes: Mixes): Uint8Array {
  switch (kind) {
    case "slow":
      return requestBytes(mixes.slow, bytes);
    case "noread":
      return requestBytes(mixes.fast, bytes);
    case "worst":
      return concatBytes([growFrames(grow), requestBytes(mixes.slow, bytes)]);
    case "partial": {
      const out = new Uint8Array(4 + bytes);
      new DataView(out.buffer).setInt32(0, 64 * 1024 * 1024);
      out.fill(0x5a, 4);
      return out;
    }
    case "idle":
      return growFrames(grow);
  }
}

interface Peer {
  readonly socket: net.Socket;
  sent: number;
  error: string | undefined;
}

function connectPeer(port: number, localAddress: string): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    socket.setNoDelay(true);
    const onError = (e: Error) => reject(e);
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      const peer: Peer = { socket, sent: 0, error: undefined };
      socket.on("error", (e) => (peer.error ??= e.message));
      socket.pause();
      resolve(peer);
    });
  });
}

/** Sends `payload` at most one piece ahead of what the target took. */
function pump(peer: Peer, payload: Uint8Array, onProgress: () => void): void {
  const step = (): void => {
    while (peer.sent < payload.length && peer.error === undefined && !peer.socket.destroyed) {
      const piece = payload.subarray(peer.sent, Math.min(payload.length, peer.sent + WRITE_PIECE));
      peer.sent += piece.length;
      onProgress();
      if (!peer.socket.write(piece)) {
        peer.socket.once("drain", step);
        return;
      }
    }
  };
  step();
}

interface ModeReport {
  readonly mode: Mode;
  readonly connections: number;
  readonly connected: number;
  readonly closedByTarget: number;
  readonly sentMiB: number;
  readonly beforeMiB: number;
  readonly idleMiB: number;
  readonly peakMiB: number;
  readonly endMiB: number;
  readonly afterGcMiB: number;
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly peakHeapMiB: number;
  readonly peakExternalMiB: number;
  readonly externalMiB: number;
  readonly perConnectionKiB: number;
  readonly seconds: number;
}

function mib(kib: number): number {
  return Math.round(kib / 102.4) / 10;
}

async function warmUp(port: number, mix: readonly MixRequest[]): Promise<void> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = requestBytes(mix, 50 * 70);
    await c.write(bytes);
    let frames = 0;
    const buf = new Uint8Array(1 << 16);
    let acc = new Uint8Array(0);
    const deadline = Date.now() + 20_000;
    while (frames < 50 && Date.now() < deadline) {
      const n = await c.read(buf);
      if (n === null) break;
      const joined = new Uint8Array(acc.length + n);
      joined.set(acc);
      joined.set(buf.subarray(0, n), acc.length);
      let off = 0;
      while (joined.length - off >= 4) {
        const len = new DataView(joined.buffer, off).getInt32(0);
        if (joined.length - off < 4 + len) break;
        off += 4 + len;
        frames++;
      }
      acc = joined.slice(off);
    }
  } finally {
    c.close();
  }
}

async function attack(
  group: ProcessGroup,
  mode: Mode,
  args: ReturnType<typeof parseArgs>,
): Promise<ModeReport> {
  // The answers of `noread` take long to make: fewer connections, more bytes.
  const connections = mode === "noread"
    ? num(args, "noread-connections", 512)
    : num(args, "connections", 4096);
  const perAddress = num(args, "per-address", 500);
  const holdS = num(args, "hold", 3);
  const bytes = mode === "noread"
    ? num(args, "noread-bytes", 1024 * 1024)
    : num(args, "bytes", 256 * 1024);
  const targetRole = str(args, "target", "proxy");
  const transport = str(args, "transport", "deno");
  const path = str(args, "path", "direct");
  const self = `${BENCH_DIR}memory_attack.ts`;
  const locations = await Deno.makeTempFile({ prefix: "memory_attack_", suffix: ".json" });
  const report = await Deno.makeTempFile({ prefix: "memory_attack_", suffix: ".json" });
  const samples = await Deno.makeTempFile({ prefix: "memory_attack_", suffix: ".json" });
  let target: ListeningProcess;
  const peers: Peer[] = [];
  try {
    await group.spawnListening("upstream", DENO, [
      "run",
      "-A",
      self,
      "--role",
      "upstream",
      "--delay-ms",
      String(num(args, "upstream-delay-ms", 25_000)),
      "--write-locations",
      locations,
    ], "state server");
    target = await group.spawnListening(targetRole, DENO, [
      "run",
      "-A",
      `--v8-flags=--expose-gc${
        typeof args.flags["v8-flags"] === "string" ? `,${args.flags["v8-flags"]}` : ""
      }`,
      self,
      "--report",
      report,
      "--samples",
      samples,
      ...(typeof args.flags.snapshot === "string" ? ["--snapshot", args.flags.snapshot] : []),
      "--role",
      targetRole,
      "--locations",
      locations,
      "--transport",
      transport,
      "--path",
      path,
      "--delay-ms",
      String(num(args, "upstream-delay-ms", 25_000)),
    ], targetRole);
    const { port } = hostPort(target.address);
    const states = buildBenchStates(1000);
    const mixOf = (s: readonly BenchState[]) =>
      buildRequestMix(s, {
        seed: 7,
        size: 4096,
        hitRatio: 0.9,
        keys: 1000,
        mode: targetRole === "proxy" ? "proxy" : "direct",
      });
    const mixes: Mixes = { fast: mixOf(states), slow: mixOf(slowStates(states)) };
    await warmUp(port, mixes.fast);
    await new Promise((r) => setTimeout(r, 500));
    const before = sampleProc(target.pid)!;
    const started = performance.now();
    for (let i = 0; i < connections; i += 200) {
      const wave: Promise<Peer>[] = [];
      for (let j = i; j < Math.min(connections, i + 200); j++) {
        const a = 2 + Math.floor(j / perAddress);
        wave.push(connectPeer(port, `127.0.${a >> 8}.${a & 255}`));
      }
      for (const r of await Promise.allSettled(wave)) {
        if (r.status === "fulfilled") peers.push(r.value);
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const idle = sampleProc(target.pid)!;
    const grow = num(args, "grow", 30 * 1024);
    const payloads = new Map<Kind, Uint8Array>();
    const payload = (kind: Kind) => {
      let p = payloads.get(kind);
      if (p === undefined) payloads.set(kind, p = payloadFor(kind, bytes, grow, mixes));
      return p;
    };
    let progressAt = performance.now();
    const onProgress = () => (progressAt = performance.now());
    peers.forEach((p, i) => {
      const kind = mode === "mixed" ? MIXED[i % MIXED.length] : mode;
      pump(p, payload(kind), onProgress);
      // `idle` reads its answers: only the read buffer is left behind.
      if (kind === "idle") p.socket.resume();
    });
    let peakRss = 0;
    let peakHwm = 0;
    let peakHeap = 0;
    let peakExternal = 0;
    const holdMs = holdS * 1000;
    const bound = performance.now() + holdMs + 60_000;
    // Until no byte was taken for `hold` s and the target is quiet (below
    // 5% of a core over the last second), or the bound.
    const recent: ProcSample[] = [];
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      const s = sampleProc(target.pid);
      if (s === null) throw new Error("the target is gone");
      recent.push(s);
      if (recent.length > 6) recent.shift();
      peakRss = Math.max(peakRss, s.rssKiB);
      peakHwm = Math.max(peakHwm, s.hwmKiB);
      try {
        const m = JSON.parse(Deno.readTextFileSync(samples));
        peakHeap = Math.max(peakHeap, m.heapTotal);
        peakExternal = Math.max(peakExternal, m.external);
      } catch {
        // not written yet, or being written
      }
      const now = performance.now();
      const quiet = recent.length === 6 && cpuPercent(recent[0], s) < 5;
      if ((now - progressAt > holdMs && quiet) || now > bound) break;
    }
    const end = sampleProc(target.pid)!;
    Deno.kill(target.pid, "SIGUSR2");
    await new Promise((r) => setTimeout(r, args.flags.snapshot === undefined ? 1500 : 20_000));
    const afterGc = sampleProc(target.pid)!;
    let heap: { heapUsed: number; heapTotal: number; external: number } | undefined;
    try {
      heap = JSON.parse(await Deno.readTextFile(report));
    } catch {
      heap = undefined;
    }
    const closedByTarget = peers.filter((p) => p.socket.destroyed || p.error !== undefined).length;
    const sent = peers.reduce((n, p) => n + p.sent, 0);
    return {
      mode,
      connections,
      connected: peers.length,
      closedByTarget,
      sentMiB: Math.round(sent / 1048576),
      beforeMiB: mib(before.rssKiB),
      idleMiB: mib(idle.rssKiB),
      peakMiB: mib(Math.max(peakHwm, peakRss)),
      endMiB: mib(end.rssKiB),
      afterGcMiB: mib(afterGc.rssKiB),
      heapUsedMiB: heap === undefined ? NaN : mib(heap.heapUsed / 1024),
      heapTotalMiB: heap === undefined ? NaN : mib(heap.heapTotal / 1024),
      peakHeapMiB: mib(peakHeap / 1024),
      peakExternalMiB: mib(peakExternal / 1024),
      externalMiB: heap === undefined ? NaN : mib(heap.external / 1024),
      perConnectionKiB: Math.round(
        (Math.max(peakHwm, peakRss) - before.rssKiB) / Math.max(1, peers.length),
      ),
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    for (const p of peers) p.socket.destroy();
    await group.stopAll();
    await Deno.remove(locations).catch(() => {});
    await Deno.remove(report).catch(() => {});
    await Deno.remove(samples).catch(() => {});
  }
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(Deno.args, FLAGS);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (args.flags.role !== undefined) return await runRole(str(args, "role"), args);
  const modes = str(args, "modes", ALL_MODES.join(",")).split(",") as Mode[];
  for (const m of modes) {
    if (!ALL_MODES.includes(m)) {
      console.error(`--modes: unknown mode ${m}`);
      return 2;
    }
  }
  const group = new ProcessGroup();
  const onSignal = () => {
    group.killAllNow();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const reports: ModeReport[] = [];
  try {
    for (const mode of modes) {
      const r = await attack(group, mode, args);
      reports.push(r);
      if (args.flags.json === undefined) {
        console.log(
          `${r.mode.padEnd(8)} ${r.connected}/${r.connections} connections, ` +
            `${r.closedByTarget} closed by the target, ${r.sentMiB} MiB sent; RSS MiB: ` +
            `before ${r.beforeMiB}, connected ${r.idleMiB}, peak ${r.peakMiB} (heap ${r.peakHeapMiB}, ` +
            `external ${r.peakExternalMiB}), end ${r.endMiB}, ` +
            `after a full GC ${r.afterGcMiB} (heap ${r.heapUsedMiB} of ${r.heapTotalMiB}, external ${r.externalMiB}); ` +
            `peak growth ${r.perConnectionKiB} KiB per connection (${r.seconds} s)`,
        );
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await group.stopAll();
  }
  if (args.flags.json !== undefined) console.log(JSON.stringify(reports));
  return 0;
}

if (import.meta.main) Deno.exit(await main());
