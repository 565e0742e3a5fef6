/**
 * Bytes copied and buffers allocated per forwarded request, by call site.
 *
 *   deno run -A bench/bytes_copied.ts [--transport deno|node] [--requests 20000]
 *
 * It runs our proxy in this process (on the Deno or Node transport; the
 * state server in a child process, `serve.ts server`) and sends requests
 * from a raw socket at depth 128. While it
 * measures, it counts every JavaScript-visible copy: `Uint8Array.prototype`
 * `set`, `slice` and `copyWithin`, `TextEncoder.encode`/`encodeInto` (bytes
 * out) and `TextDecoder.decode` (bytes in), and every `new Uint8Array(...)`
 * made through the global constructor (count and bytes). Copies done inside
 * the runtime (a socket read filling a buffer, a write) are not visible and
 * not counted, nor are buffers the runtime allocates itself. The load side's
 * own work is excluded by call site. Three passes: hits only, misses only
 * (answered with `UnknownKeyOrNamespaceException`), and the 90/10 mix.
 *
 * A measurement tool, not a benchmark: stack capture per copy makes it slow
 * on purpose.
 *
 * @module
 */

import {
  KvStateClientProxy,
  type NetAddress,
  StaticLocationOracle,
  type Transport,
} from "../mod.ts";
import { BENCH_JOB_ID, buildBenchStates, buildRequestMix } from "./_dataset.ts";
import { hostPort, num, parseArgs, str } from "./_flags.ts";

interface Site {
  copies: number;
  copiedBytes: number;
  allocs: number;
  allocBytes: number;
}

const sites = new Map<string, Site>();
let counting = false;
const SELF = "bytes_copied.ts";

function siteOf(): string | null {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 6;
  Error.captureStackTrace(holder, siteOf);
  Error.stackTraceLimit = limit;
  const lines = (holder.stack ?? "").split("\n").slice(1);
  // lines[0] is note(), lines[1] the patched function; the caller follows.
  for (let i = 2; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l.includes(SELF)) return null; // the load side
    const m = /^at (?:async )?(.*?) \((.*?):(\d+):\d+\)$/.exec(l) ?? /^at (.*?):(\d+):\d+$/.exec(l);
    if (m === null) continue;
    const fn = m.length === 4 ? m[1] : "(anonymous)";
    const file = (m.length === 4 ? m[2] : m[1]).replace(/^.*\/(src|bench|ext)\//, "$1/");
    const line = m.length === 4 ? m[3] : m[2];
    return `${fn} (${file}:${line})`;
  }
  return "(unknown)";
}

function note(kind: "copy" | "alloc", bytes: number): void {
  if (!counting) return;
  counting = false; // no recursion through our own work
  try {
    const s = siteOf();
    if (s === null) return;
    let e = sites.get(s);
    if (e === undefined) {
      e = { copies: 0, copiedBytes: 0, allocs: 0, allocBytes: 0 };
      sites.set(s, e);
    }
    if (kind === "copy") {
      e.copies++;
      e.copiedBytes += bytes;
    } else {
      e.allocs++;
      e.allocBytes += bytes;
    }
  } finally {
    counting = true;
  }
}

function install(): void {
  const proto = Uint8Array.prototype as unknown as Record<string, unknown>;
  const set = Uint8Array.prototype.set;
  proto.set = function (this: Uint8Array, src: ArrayLike<number>, offset?: number) {
    note("copy", (src as ArrayLike<number>).length);
    return set.call(this, src, offset);
  };
  const slice = Uint8Array.prototype.slice;
  proto.slice = function (this: Uint8Array, start?: number, end?: number) {
    const r = slice.call(this, start, end);
    note("copy", r.length);
    return r;
  };
  const copyWithin = Uint8Array.prototype.copyWithin;
  proto.copyWithin = function (this: Uint8Array, target: number, start: number, end?: number) {
    note("copy", (end ?? this.length) - start);
    return copyWithin.call(this, target, start, end);
  };
  const encode = TextEncoder.prototype.encode;
  TextEncoder.prototype.encode = function (this: TextEncoder, s?: string) {
    const r = encode.call(this, s);
    note("copy", r.length);
    return r;
  };
  const encodeInto = TextEncoder.prototype.encodeInto;
  TextEncoder.prototype.encodeInto = function (this: TextEncoder, s: string, d: Uint8Array) {
    const r = encodeInto.call(this, s, d);
    note("copy", r.written ?? 0);
    return r;
  };
  const decode = TextDecoder.prototype.decode;
  TextDecoder.prototype.decode = function (
    this: TextDecoder,
    input?: AllowSharedBufferSource,
    options?: TextDecodeOptions,
  ) {
    note("copy", input === undefined ? 0 : input.byteLength);
    return decode.call(this, input, options);
  };
  const Original = Uint8Array;
  (globalThis as Record<string, unknown>).Uint8Array = new Proxy(Original, {
    construct(target, args, newTarget) {
      const r = Reflect.construct(target, args, newTarget) as Uint8Array;
      if (newTarget === globalThis.Uint8Array || newTarget === Original) {
        note("alloc", r.byteLength);
      }
      return r;
    },
  });
}

interface Pass {
  readonly name: string;
  readonly hitRatio: number;
}

async function run(
  target: NetAddress,
  hitRatio: number,
  requests: number,
  warmup: number,
): Promise<{ forwarded: number }> {
  const states = buildBenchStates(1000);
  const mix = buildRequestMix(states, { seed: 7, size: 1024, hitRatio, keys: 1000, mode: "proxy" });
  const depth = 128;
  const conn = await Deno.connect(target);
  conn.setNoDelay(true);
  // One pre-built batch of 128 frames with ids 0..127 (ids need not be unique over time here).
  let total = 0;
  for (let i = 0; i < depth; i++) total += mix[i].frame.length;
  const batch = new Uint8Array(total);
  let off = 0;
  for (let i = 0; i < depth; i++) {
    const f = mix[i].frame;
    for (let j = 0; j < f.length; j++) batch[off + j] = f[j];
    batch[off + 19] = i;
    off += f.length;
  }
  const rbuf = new Uint8Array(1 << 20);
  let forwarded = 0;
  const rounds = Math.ceil((requests + warmup) / depth);
  for (let r = 0; r < rounds; r++) {
    if (r === Math.ceil(warmup / depth)) counting = true;
    let w = 0;
    while (w < batch.length) w += await conn.write(batch.subarray(w));
    // Read 128 answers.
    let got = 0;
    let have = 0;
    let p = 0;
    while (got < depth) {
      const n = await conn.read(rbuf.subarray(have));
      if (n === null) throw new Error("connection closed");
      have += n;
      while (have - p >= 4) {
        const len = (rbuf[p] << 24) | (rbuf[p + 1] << 16) | (rbuf[p + 2] << 8) | rbuf[p + 3];
        if (have - p < 4 + len) break;
        p += 4 + len;
        got++;
      }
    }
    if (counting) forwarded += depth;
  }
  counting = false;
  conn.close();
  return { forwarded };
}

function report(pass: string, forwarded: number): void {
  let copied = 0;
  let copies = 0;
  let allocs = 0;
  let allocBytes = 0;
  for (const s of sites.values()) {
    copied += s.copiedBytes;
    copies += s.copies;
    allocs += s.allocs;
    allocBytes += s.allocBytes;
  }
  const per = (x: number) => (x / forwarded).toFixed(1);
  console.log(
    `\n== ${pass}: ${forwarded} forwarded requests; per request: ${per(copied)} bytes copied ` +
      `in ${per(copies)} copies; ${per(allocs)} Uint8Array allocations of ${per(allocBytes)} bytes`,
  );
  const rows = [...sites.entries()].sort((a, b) =>
    (b[1].copiedBytes + b[1].allocBytes) - (a[1].copiedBytes + a[1].allocBytes)
  );
  for (const [site, s] of rows.slice(0, 16)) {
    console.log(
      `  ${per(s.copiedBytes).padStart(7)} B copied (${per(s.copies)}x)  ${
        per(s.allocBytes).padStart(7)
      } B alloc (${per(s.allocs)}x)  ${site}`,
    );
  }
  sites.clear();
}

async function main(): Promise<number> {
  const a = parseArgs(Deno.args, ["transport", "requests", "warmup"]);
  const which = str(a, "transport", "deno");
  const requests = num(a, "requests", 20_000);
  const warmup = num(a, "warmup", 20_000);
  if (which !== "deno" && which !== "node") throw new Error("--transport: deno or node");
  const transport: Transport = which === "node"
    ? (await import("../src/transport/node.ts")).nodeTransport
    : (await import("../src/transport/deno.ts")).denoTransport;
  let serverAddress: NetAddress = { hostname: "", port: 0 };
  let oracle: StaticLocationOracle | null = null;
  const child = await (async () => {
    const dir = await Deno.makeTempDir({ prefix: "qs-bytes-" });
    const locFile = `${dir}/locations.json`;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./serve.ts", import.meta.url).pathname,
        "server",
        "--write-locations",
        locFile,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/listening on (\S+)/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`state server did not start: ${text}`);
      text += value;
    }
    reader.releaseLock();
    child.stdout.cancel().catch(() => {});
    serverAddress = hostPort(/listening on (\S+)/.exec(text)![1]);
    oracle = new StaticLocationOracle(JSON.parse(await Deno.readTextFile(locFile)));
    await Deno.remove(dir, { recursive: true });
    return child;
  })();
  const proxy = new KvStateClientProxy({ transport });
  proxy.updateKvStateLocationOracle(BENCH_JOB_ID, oracle);
  const proxyAddress = await proxy.start();
  console.log(
    `proxy on the ${transport.name} transport at ${proxyAddress.hostname}:${proxyAddress.port}, ` +
      `state server (separate process) at ${serverAddress.hostname}:${serverAddress.port}`,
  );
  install();
  const passes: Pass[] = [
    { name: "hits only", hitRatio: 1 },
    { name: "misses only", hitRatio: 0 },
    { name: "mix (90% hits)", hitRatio: 0.9 },
  ];
  try {
    for (const p of passes) {
      const { forwarded } = await run(proxyAddress, p.hitRatio, requests, warmup);
      report(p.name, forwarded);
    }
  } finally {
    await proxy.close();
    child.kill("SIGTERM");
    await child.status;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
