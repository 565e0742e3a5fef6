/**
 * The pending requests of a connection do not keep the garbage of earlier
 * requests alive across young-generation collections.
 *
 * A JS `Map` with one insertion and one deletion per request (what the
 * client had) reallocates its table every few hundred requests, and V8 links
 * each obsolete table to its successor. After one full GC promotes the live
 * table, the dead old-space table keeps every later table, and each request
 * they held, alive through each scavenge: request objects get promoted by
 * the megabyte, full GCs follow one another, and the proxy's heap and CPU
 * per request go up (measured: RSS 67 → 130 MiB, 1.4 → 2.0 µs CPU per
 * forwarded request). The child (`_gc_churn.ts`) forwards requests over
 * sockets with a full GC in the middle and prints V8's GC trace; what the
 * scavenges promote afterwards is measured here.
 */

import { assert, assertEquals } from "../_assert.ts";

const CHILD = new URL("./_gc_churn.ts", import.meta.url).pathname;
const AFTER = 100_000;

/** Runs the child; its output, or a failure after 60 s. */
async function runChild(): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--v8-flags=--expose-gc,--trace-gc-nvp",
      CHILD,
      String(AFTER),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout);
    assert(out.success, `child failed: ${new TextDecoder().decode(out.stderr)}\n${text}`);
    return text;
  } finally {
    clearTimeout(timer);
  }
}

/** Bytes promoted by the scavenges in a stretch of `--trace-gc-nvp` output. */
function promotedByScavenges(trace: string): { scavenges: number; promoted: number } {
  let scavenges = 0;
  let promoted = 0;
  // The child's own lines may cut into V8's, so each record is matched alone.
  for (const m of trace.matchAll(/"gc":"(\w+)"[^{}]*?"promoted":(\d+)/g)) {
    if (m[1] !== "s") continue;
    scavenges++;
    promoted += Number(m[2]);
  }
  return { scavenges, promoted };
}

Deno.test("forwarding after a full GC: the scavenges promote (almost) nothing", async () => {
  const text = await runChild();
  const done = text.match(/DONE (\d+) (\d+)/);
  assert(done !== null, "the child did not finish");
  assertEquals(Number(done[1]), 30_000 + AFTER, "every request answered");
  assertEquals(Number(done[2]), 0, "no request failed");
  const mark = text.indexOf("MARK");
  assert(mark >= 0, "no full GC mark");
  const after = promotedByScavenges(text.slice(mark));
  // The trace is there (a run of 100,000 requests takes dozens of scavenges).
  assert(after.scavenges >= 5, `only ${after.scavenges} scavenges traced`);
  // With a Map, 13 MB (130 bytes a request) and counting; the requests in flight are a few KB.
  assert(
    after.promoted < 2_000_000,
    `${after.promoted} bytes promoted by ${after.scavenges} scavenges for ${AFTER} requests`,
  );
});
