/**
 * V8's `--trace-gc-nvp` output of a bench process, collected from its stdout
 * and counted per time window of the harness's clock.
 *
 * Each collection prints one line `[pid:isolate:n]  T ms: GC: {json}` where T
 * is the time since the isolate started, in ms, and the JSON holds the pause
 * (`pause`, ms, main thread), the kind (`gc`: `s` scavenge, `mmc` minor
 * mark-compact, `mc` mark-compact) and, for a mark-compact, the main-thread
 * time of its incremental marking steps (`incremental`, ms). V8 writes it
 * through C stdio, which a pipe makes block-buffered: lines arrive late and in
 * bursts, so the harness cannot stamp them by arrival. Instead the isolate's
 * start on the harness clock is estimated as the smallest (arrival of a line's
 * first byte − T) over all lines (a line never arrives before it is written),
 * and no earlier than the process's spawn; an event's time is that start + T.
 * Collect the counts after the process has exited (its buffer flushed).
 *
 * @module
 */

/** One collection. */
export interface GcEvent {
  /** ms since the isolate's start (V8's clock). */
  readonly t: number;
  /** Main-thread pause, ms. */
  readonly pause: number;
  /** Main-thread incremental marking before it, ms (mark-compacts). */
  readonly incremental: number;
  /** `s`, `mmc`, `mc`, ... */
  readonly kind: string;
}

/** The collections of one window. */
export interface GcWindow {
  /** Scavenges (`s`) and minor mark-compacts (`mmc`). */
  readonly scavenges: number;
  /** Full mark-compacts (`mc`). */
  readonly markCompacts: number;
  /** Sum of the pauses, ms. */
  readonly pauseMs: number;
  /** Sum of the incremental marking steps, ms. */
  readonly incrementalMs: number;
  /** The longest pause, ms. */
  readonly maxPauseMs: number;
}

const LINE = /^\[[^\]]*\]\s+(\d+(?:\.\d+)?) ms: GC: (\{.*\})\s*$/;

/** Collects the GC lines of one process. */
export class GcTrace {
  /** The collections seen. */
  readonly events: GcEvent[] = [];
  readonly #spawnedAt: number;
  #partial = "";
  #partialAt = 0;
  #bestOffset = Infinity;
  /** Lines that looked like GC lines but did not parse. */
  unparsed = 0;

  /**
   * @param spawnedAt When the process was spawned (`performance.now()`).
   */
  constructor(spawnedAt: number) {
    this.#spawnedAt = spawnedAt;
  }

  /**
   * Takes a chunk of output.
   *
   * @param text The chunk.
   * @param at When it arrived (`performance.now()`).
   */
  feed(text: string, at: number): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) break;
      const lineAt = this.#partial === "" ? at : this.#partialAt;
      this.#line(this.#partial + text.slice(start, nl), lineAt);
      this.#partial = "";
      start = nl + 1;
    }
    if (start < text.length) {
      if (this.#partial === "") this.#partialAt = at;
      this.#partial += text.slice(start);
    }
  }

  #line(line: string, at: number): void {
    if (!line.includes(" ms: GC: ")) return;
    const m = LINE.exec(line);
    if (m === null) {
      this.unparsed++;
      return;
    }
    try {
      const j = JSON.parse(m[2]) as Record<string, unknown>;
      const t = Number(m[1]);
      this.events.push({
        t,
        pause: Number(j.pause) || 0,
        incremental: Number(j.incremental) || 0,
        kind: String(j.gc),
      });
      if (at - t < this.#bestOffset) this.#bestOffset = at - t;
    } catch {
      this.unparsed++;
    }
  }

  /** The isolate's start on the harness clock (`performance.now()`), estimated. */
  get offset(): number {
    return Number.isFinite(this.#bestOffset)
      ? Math.max(this.#spawnedAt, this.#bestOffset)
      : this.#spawnedAt;
  }

  /** The estimated isolate start after the spawn, ms (a sanity figure: tens of ms). */
  get startAfterSpawnMs(): number {
    return this.offset - this.#spawnedAt;
  }

  /**
   * The collections that ended within a window of the harness clock.
   *
   * @param from Start (`performance.now()`, ms).
   * @param to End.
   * @returns The counts.
   */
  window(from: number, to: number): GcWindow {
    const off = this.offset;
    let scavenges = 0;
    let markCompacts = 0;
    let pauseMs = 0;
    let incrementalMs = 0;
    let maxPauseMs = 0;
    for (const e of this.events) {
      const at = off + e.t;
      if (at < from || at >= to) continue;
      if (e.kind === "s" || e.kind === "mmc") scavenges++;
      else if (e.kind === "mc") markCompacts++;
      pauseMs += e.pause;
      incrementalMs += e.incremental;
      if (e.pause > maxPauseMs) maxPauseMs = e.pause;
    }
    return { scavenges, markCompacts, pauseMs, incrementalMs, maxPauseMs };
  }
}
