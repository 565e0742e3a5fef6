/**
 * Measures the read paths a Deno connection can offer, to choose the one
 * `src/transport/deno.ts` uses. Not a test: run it by hand.
 *
 *   deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-env \
 *     tests/transport/_measure_read_path.ts [rounds] [variant-substrings] [bulk,echo]
 *
 * (`WINDOW=16` in the environment shrinks the echo window: smaller reads.)
 *
 * The peer is a separate process (raw `conn.read`/`conn.write` loops), so
 * each side has its own core. Two workloads:
 * - bulk: the peer writes 1 GiB as fast as it can; we read it to the end;
 * - echo: we keep 128 messages of 64 bytes in flight through the peer's raw
 *   echo (WINDOW overrides 128), reading through the variant and answering each read with one raw
 *   write of the same size (many small reads: the proxy's pattern).
 */

import { cpuUsage } from "node:process";

type Variant = (conn: Deno.TcpConn) => ReadableStream<Uint8Array>;

const CHUNK = 64 * 1024;
const WINDOW = Number(Deno.env.get("WINDOW") ?? 128);

const variants: Record<string, Variant> = {
  "native conn.readable": (conn) => conn.readable,
  "pull bytes, reused buffer + slice": (conn) => {
    const scratch = new Uint8Array(CHUNK);
    return new ReadableStream({
      type: "bytes",
      async pull(c) {
        const n = await conn.read(scratch);
        if (n === null) {
          c.close();
          c.byobRequest?.respond(0);
        } else if (n > 0) c.enqueue(scratch.slice(0, n));
      },
    });
  },
  "pull bytes, hwm 64 KiB, reused buffer + slice": (conn) => {
    const scratch = new Uint8Array(CHUNK);
    return new ReadableStream({
      type: "bytes",
      async pull(c) {
        const n = await conn.read(scratch);
        if (n === null) {
          c.close();
          c.byobRequest?.respond(0);
        } else if (n > 0) c.enqueue(scratch.slice(0, n));
      },
    }, { highWaterMark: CHUNK });
  },
  "pull default, hwm 0, reused buffer + slice": (conn) => {
    const scratch = new Uint8Array(CHUNK);
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        const n = await conn.read(scratch);
        if (n === null) c.close();
        else if (n > 0) c.enqueue(scratch.slice(0, n));
      },
    }, { highWaterMark: 0 });
  },
  "pull default, hwm 1, reused buffer + slice": (conn) => {
    const scratch = new Uint8Array(CHUNK);
    return new ReadableStream<Uint8Array>({
      async pull(c) {
        const n = await conn.read(scratch);
        if (n === null) c.close();
        else if (n > 0) c.enqueue(scratch.slice(0, n));
      },
    });
  },
  "pull bytes, hybrid (hand over big reads, copy small)": (conn) => {
    let scratch = new Uint8Array(CHUNK);
    return new ReadableStream({
      type: "bytes",
      async pull(c) {
        const n = await conn.read(scratch);
        if (n === null) {
          c.close();
          c.byobRequest?.respond(0);
        } else if (n >= 16384) {
          c.enqueue(scratch.subarray(0, n));
          scratch = new Uint8Array(CHUNK);
        } else if (n > 0) c.enqueue(scratch.slice(0, n));
      },
    });
  },
  "pull bytes, fresh 64 KiB per read": (conn) => {
    return new ReadableStream({
      type: "bytes",
      async pull(c) {
        const buf = new Uint8Array(CHUNK);
        const n = await conn.read(buf);
        if (n === null) {
          c.close();
          c.byobRequest?.respond(0);
        } else if (n > 0) c.enqueue(buf.subarray(0, n));
      },
    });
  },
};

async function peer(mode: string, port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const buf = new Uint8Array(CHUNK);
  if (mode === "bulk") {
    let left = 512 * 1024 * 1024;
    while (left > 0) {
      const n = await conn.write(left >= CHUNK ? buf : buf.subarray(0, left));
      left -= n;
    }
    conn.close();
    return;
  }
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      break;
    }
    if (n === null) break;
    let off = 0;
    try {
      while (off < n) off += await conn.write(buf.subarray(off, n));
    } catch {
      break;
    }
  }
  conn.close();
}

interface Score {
  /** MB/s (bulk) or k reads/s (echo). */
  rate: number;
  /** This process's CPU (user + system) per MB read (bulk) or per read (echo), in µs. */
  cpu: number;
}

async function run(mode: "bulk" | "echo", make: Variant): Promise<Score> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      new URL(import.meta.url).pathname,
      "peer",
      mode,
      String(listener.addr.port),
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const conn = await listener.accept();
  listener.close();
  conn.setNoDelay(true);
  const reader = make(conn).getReader();
  let bytes = 0;
  let reads = 0;
  const t0 = performance.now();
  const c0 = cpuUsage();
  let score: Score;
  if (mode === "bulk") {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      bytes += r.value.byteLength;
      reads++;
    }
    const s = (performance.now() - t0) / 1000;
    const c = cpuUsage(c0);
    score = { rate: bytes / s / 1e6, cpu: (c.user + c.system) / (bytes / 1e6) };
  } else {
    const msg = new Uint8Array(64 * WINDOW);
    await conn.write(msg);
    const end = t0 + 3000;
    while (performance.now() < end) {
      const r = await reader.read();
      if (r.done) break;
      const n = r.value.byteLength;
      bytes += n;
      reads++;
      let off = 0;
      while (off < n) off += await conn.write(msg.subarray(off, n));
    }
    const s = (performance.now() - t0) / 1000;
    const c = cpuUsage(c0);
    score = { rate: reads / s / 1e3, cpu: (c.user + c.system) / reads };
    conn.closeWrite().catch(() => {});
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true }));
      if (r.done) break;
    }
  }
  reader.releaseLock();
  try {
    conn.close();
  } catch { /* closed by the native stream */ }
  await child.status;
  return score;
}

if (Deno.args[0] === "peer") {
  await peer(Deno.args[1], Number(Deno.args[2]));
} else {
  const rounds = Number(Deno.args[0] ?? 5);
  const only = Deno.args[1];
  const names = Object.keys(variants).filter((n) =>
    only === undefined || only.split(",").some((o) => n.includes(o))
  );
  const modes = (Deno.args[2] ?? "bulk,echo").split(",") as ("bulk" | "echo")[];
  for (const mode of modes) {
    const results = new Map<string, Score[]>(names.map((n) => [n, []]));
    // Interleave the variants so that drift in machine load hits all of them.
    for (let r = 0; r < rounds; r++) {
      for (const name of names) results.get(name)!.push(await run(mode, variants[name]));
    }
    const unit = mode === "bulk"
      ? "MB/s | CPU µs per MB"
      : `k reads/s | CPU µs per read (window ${WINDOW} x 64 B)`;
    console.log(`${mode}: median of ${rounds}, ${unit}`);
    for (const [name, scores] of results) {
      const xs = scores.map((x) => x.rate).sort((a, b) => a - b);
      const cs = scores.map((x) => x.cpu).sort((a, b) => a - b);
      const med = xs[xs.length >> 1];
      const cmed = cs[cs.length >> 1];
      console.log(
        `  ${name.padEnd(52)} ${med.toFixed(1).padStart(8)} | ${cmed.toFixed(1).padStart(7)}   [${
          xs.map((x) => x.toFixed(0)).join(" ")
        }] [${cs.map((x) => x.toFixed(0)).join(" ")}]`,
      );
    }
  }
}
