/**
 * Process CPU time and resident memory from `/proc` (Linux), for the bench
 * harness and the load generator. Deno only.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux/x86). */
export const CLOCK_TICKS = 100;

/** One sample of a process. */
export interface ProcSample {
  /** When sampled (`performance.now()`, ms). */
  readonly at: number;
  /** utime + stime, in ticks. */
  readonly ticks: number;
  /** VmRSS, KiB. */
  readonly rssKiB: number;
  /** VmHWM (peak RSS), KiB. */
  readonly hwmKiB: number;
}

/**
 * Samples a process, or returns `null` when it is gone.
 *
 * @param pid The process.
 * @returns The sample.
 */
export function sampleProc(pid: number): ProcSample | null {
  try {
    const at = performance.now();
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kib = (name: string) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
      return m === null ? 0 : Number(m[1]);
    };
    return { at, ticks, rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM") };
  } catch {
    return null;
  }
}

/**
 * CPU use between two samples, in percent of one core.
 *
 * @param a The earlier sample.
 * @param b The later one.
 * @returns The percentage.
 */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const seconds = (b.at - a.at) / 1000;
  if (seconds <= 0) return 0;
  return ((b.ticks - a.ticks) / CLOCK_TICKS / seconds) * 100;
}
