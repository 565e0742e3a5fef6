/**
 * Reporting for the round-based bench harnesses (`run_proxy_bench.ts`,
 * `upstream_bench.ts`): medians, number formats, fixed-width tables, the
 * machine line, per-round ratios of two targets and the ratio lines, and
 * the `--out` file. Deno only.
 *
 * @module
 */

import type { LoadReport } from "./load.ts";
import { cpuModel, type ListeningProcess } from "./_procs.ts";

/**
 * The median of the finite values.
 *
 * @param xs The values (NaN and infinities are left out).
 * @returns The median, or NaN when no value is finite.
 */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** @returns `n` rounded, with thousands separators, or `-` when not finite. */
export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
}

/** @returns `n` with one decimal, or `-` when not finite. */
export function fmt1(n: number): string {
  return Number.isFinite(n) ? n.toFixed(1) : "-";
}

/** @returns `n` with two decimals, or `-` when not finite. */
export function fmt2(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : "-";
}

/** @returns The fraction `n` in percent with one decimal, or `-` when not finite. */
export function fmtPct(n: number): string {
  return Number.isFinite(n) ? `${(n * 100).toFixed(1)}%` : "-";
}

/**
 * Pads a cell.
 *
 * @param s The text.
 * @param n The width.
 * @param right Pad on the right (left-aligned) rather than on the left.
 * @returns The padded text.
 */
export function pad(s: string, n: number, right = false): string {
  return right ? s.padEnd(n) : s.padStart(n);
}

/** A table column: its title, its width, and whether it is left-aligned. */
export type Column = readonly [title: string, width: number, left?: boolean];

/**
 * One line of a table: the cells padded to their columns, two spaces apart.
 *
 * @param columns The columns.
 * @param cells The cells, one per column.
 * @returns The line.
 */
export function tableLine(columns: readonly Column[], cells: readonly string[]): string {
  return cells.map((c, i) => pad(c, columns[i][1], columns[i][2])).join("  ");
}

/** The load figures every summary row begins with (medians over the rounds). */
export interface LoadFigures {
  /** Requests per second. */
  readonly rps: number;
  /** Latency percentiles, µs. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

/**
 * The cells a summary row begins with: shape, target, req/s, p50, p99, p99.9.
 *
 * @param shape The shape's label.
 * @param target The target.
 * @param row Its figures.
 * @returns Six cells.
 */
export function loadCells(shape: string, target: string, row: LoadFigures): string[] {
  return [shape, target, fmtInt(row.rps), fmt1(row.p50), fmt1(row.p99), fmt1(row.p999)];
}

/**
 * The header line of a table.
 *
 * @param columns The columns.
 * @returns The line of their titles.
 */
export function tableHeader(columns: readonly Column[]): string {
  return tableLine(columns, columns.map((c) => c[0]));
}

/**
 * The first line of a report: the date, the machine, the runtimes, the load
 * average.
 *
 * @param runtimes More `name version` entries after Deno's (e.g. Node's).
 * @returns The line.
 */
export function machineLine(runtimes: readonly string[] = []): string {
  return `${new Date().toISOString()}; ${navigator.hardwareConcurrency} cpus (${cpuModel()}); ` +
    `Linux ${Deno.osRelease()}; deno ${Deno.version.deno}; ` +
    runtimes.map((r) => `${r}; `).join("") +
    `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`;
}

/**
 * Prints the started processes and the plan of the runs.
 *
 * @param procs The processes.
 * @param nameWidth The width of their names.
 * @param plan Rounds, shape and target counts, seconds of warm-up and of each run.
 */
export function printSetup(
  procs: Iterable<ListeningProcess>,
  nameWidth: number,
  plan: { rounds: number; shapes: number; targets: number; warmup: number; duration: number },
): void {
  for (const p of procs) {
    console.log(`  ${pad(p.name, nameWidth, true)} pid ${p.pid} at ${p.address}: ${p.description}`);
  }
  console.log(
    `${plan.rounds} rounds × ${plan.shapes} shapes × ${plan.targets} targets, ` +
      `${plan.warmup} s warm-up + ${plan.duration} s each`,
  );
}

/** One load run of a round. */
export interface RoundResult<T extends string = string> {
  /** The round, from 0. */
  readonly round: number;
  /** The target. */
  readonly target: T;
  /** The shape's label. */
  readonly shape: string;
  /** The load generator's report, or `null` when the run failed. */
  readonly report: LoadReport | null;
  /** Why the run failed. */
  readonly error?: string;
}

/**
 * The ratios `metric(num) / metric(den)` at one shape, one per round in
 * which both ran, the denominator was above 0 and the ratio is finite.
 *
 * @param results The runs.
 * @param rounds How many rounds.
 * @param num The numerator's target.
 * @param den The denominator's target.
 * @param shape The shape's label.
 * @param metric The figure of a run.
 * @returns The ratios, in round order.
 */
export function perRoundRatios<T extends string>(
  results: readonly RoundResult<T>[],
  rounds: number,
  num: T,
  den: T,
  shape: string,
  metric: (r: LoadReport) => number,
): number[] {
  const xs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const n = results.find((r) => r.round === round && r.target === num && r.shape === shape);
    const d = results.find((r) => r.round === round && r.target === den && r.shape === shape);
    if (n?.report && d?.report && metric(d.report) > 0) {
      const x = metric(n.report) / metric(d.report);
      if (Number.isFinite(x)) xs.push(x);
    }
  }
  return xs;
}

/**
 * A line of the ratios: the name, the median, the range.
 *
 * @param name The ratio's name.
 * @param xs Its per-round values.
 * @param width The width of the name.
 * @returns The line (indented).
 */
export function ratioLine(name: string, xs: readonly number[], width: number): string {
  return `  ${pad(name, width, true)} ${fmt2(median(xs))}  ` +
    `[${fmt2(Math.min(...xs))}–${fmt2(Math.max(...xs))}]`;
}

/**
 * Writes the `--out` file: the report as indented JSON, the date first.
 *
 * @param file The file.
 * @param report What to write.
 */
export async function writeReport(file: string, report: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(
    file,
    JSON.stringify({ date: new Date().toISOString(), ...report }, null, 1),
  );
}
