/**
 * A compact log-linear latency histogram (HdrHistogram-like): values in
 * units of 0.1 µs, exact below 25.6 µs, then 128 sub-buckets per power of
 * two (relative error under 0.8%), up to ~214 s, in 3,200 counters.
 *
 * @module
 */

const LINEAR = 256;
const SUB = 128;
const SIZE = 3200;
/** Units per millisecond (0.1 µs units). */
const UNITS_PER_MS = 10_000;
const MAX_UNITS = 2 ** 31 - 1;

function indexOf(units: number): number {
  if (units < LINEAR) return units;
  const e = 31 - Math.clz32(units);
  const shift = e - 7;
  return LINEAR + (shift - 1) * SUB + ((units >>> shift) - SUB);
}

function valueOf(index: number): number {
  if (index < LINEAR) return index;
  const k = index - LINEAR;
  const shift = Math.floor(k / SUB) + 1;
  const m = (k % SUB) + SUB;
  return m * 2 ** shift + 2 ** (shift - 1);
}

/** Latencies recorded in milliseconds, read back in microseconds. */
export class LatencyHistogram {
  /** Counts per bucket. */
  readonly counts: Float64Array = new Float64Array(SIZE);
  /** Number of values. */
  count = 0;
  /** Sum of values, ms. */
  sumMs = 0;
  /** Largest value, ms. */
  maxMs = 0;

  /**
   * Records one latency.
   *
   * @param ms The latency in milliseconds.
   */
  record(ms: number): void {
    let u = Math.floor(ms * UNITS_PER_MS);
    if (u < 0) u = 0;
    else if (u > MAX_UNITS) u = MAX_UNITS;
    this.counts[indexOf(u)]++;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /**
   * A percentile.
   *
   * @param p In [0, 100].
   * @returns The value in µs (bucket midpoint), or 0 when empty.
   */
  percentileUs(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i];
      if (seen >= rank) return valueOf(i) / 10;
    }
    return this.maxMs * 1000;
  }

  /** @returns The summary in µs. */
  summary(): { p50: number; p90: number; p99: number; p999: number; max: number; mean: number } {
    const r = (x: number) => Math.round(x * 10) / 10;
    return {
      p50: r(this.percentileUs(50)),
      p90: r(this.percentileUs(90)),
      p99: r(this.percentileUs(99)),
      p999: r(this.percentileUs(99.9)),
      max: r(this.maxMs * 1000),
      mean: r(this.count === 0 ? 0 : (this.sumMs / this.count) * 1000),
    };
  }
}
