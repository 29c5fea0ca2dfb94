/**
 * The memory-size latency benchmark's pure parts: sizes, sample summaries
 * and the regression gate. The gate judges ratios within one run, never
 * absolute times, so it means the same on a fast machine and a slow one.
 *
 * Why it exists: a runtime that silently falls back to fork still passes
 * every correctness property, but its spawn latency grows with the parent's
 * memory (fork copies the page tables), while CLONE_VM|CLONE_VFORK borrows
 * them and stays flat.
 */
import { median } from "./statistics.ts";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** "64M", "10G", "1.5G", or plain bytes. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([KMG]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = { "": 1, K: 1024, M: MiB, G: GiB }[match[2]!.toUpperCase() as "" | "K" | "M" | "G"];
  const bytes = Math.round(Number(match[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}

export function formatSize(bytes: number): string {
  if (bytes >= GiB) return `${Number((bytes / GiB).toFixed(bytes % (GiB / 4) === 0 ? 2 : 1))} GiB`;
  if (bytes >= MiB) return `${Math.round(bytes / MiB)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

export interface LatencySummary {
  samples: number;
  minMs: number;
  medianMs: number;
  p95Ms: number;
}

/** Nearest-rank percentile of sorted values: the smallest value with at least p of them at or below it. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export function summarizeLatencies(nanoseconds: readonly number[]): LatencySummary {
  if (!nanoseconds.length) throw new Error("no samples to summarize");
  const sorted = [...nanoseconds].sort((a, b) => a - b);
  const ms = (ns: number) => Number((ns / 1e6).toFixed(4));
  return { samples: sorted.length, minMs: ms(sorted[0]!), medianMs: ms(median(sorted)!), p95Ms: ms(percentile(sorted, 0.95)) };
}

/** One line of the plot: an implementation on a target, its latency at each size it could hold. */
export interface MeasuredSeries {
  /** "reference", "fork", "glibc", "go", "node", "in-process". */
  series: string;
  /** "amd64/host", "arm64/user", "arm64/system". */
  target: string;
  /** It spawns with CLONE_VM|CLONE_VFORK (its hello lists fast_path, or --claim-fast-path names it): it must be flat. */
  claimsFastPath: boolean;
  /** The reference with the fork fallback forced: what the fast path is compared with. */
  forkBaseline: boolean;
  points: (LatencySummary & { bytes: number })[];
  /** Sizes it could not be measured at, and why. */
  missing: { bytes: number; why: string }[];
}

export interface TargetConditions {
  target: string;
  /** Measured by the probe: where CLONE_VM|CLONE_VFORK is a fork (qemu-user), nothing can be flat. Absent: no probe ran (a VM that never booted). */
  vforkSharesMemory?: boolean;
  /** The probe's page size: with 16 or 64 KiB pages a fork copies 4 or 16 times fewer page-table entries than with 4 KiB. */
  pageSize?: number;
}

/** Why the gate cannot judge a target, or undefined when it can. */
function unjudgeable(conditions: TargetConditions | undefined, target: string): string | undefined {
  if (conditions?.vforkSharesMemory === undefined) return `${target}: no probe result (the target never started), nothing to judge against`;
  if (!conditions.vforkSharesMemory) return `${target} runs CLONE_VM|CLONE_VFORK as a fork (probe: vfork_shares_memory=0)`;
  return undefined;
}

export interface GateLimits {
  /** The fast path's median at the largest size over its median at the smallest: at most this. */
  flatRatio: number;
  /** The fork baseline's median over the reference fast path's, at their largest common size: at least this. */
  forkOverFastRatio: number;
}

export const defaultGateLimits: GateLimits = { flatRatio: 3, forkOverFastRatio: 10 };

export interface GateVerdict {
  target: string;
  series: string;
  check: "flat" | "fork-slower";
  status: "pass" | "fail" | "skip";
  ratio?: number;
  message: string;
}

function medianAt(series: MeasuredSeries, bytes: number): number | undefined {
  return series.points.find((point) => point.bytes === bytes)?.medianMs;
}

const ratioText = (ratio: number) => `${ratio.toFixed(2)}x`;

/** Is this fast-path claimer flat: its median at the largest size within flatRatio of the smallest? */
function flatVerdict(series: MeasuredSeries, conditions: TargetConditions | undefined, limits: GateLimits): GateVerdict {
  const base = { target: series.target, series: series.series, check: "flat" as const };
  const why = unjudgeable(conditions, series.target);
  if (why) return { ...base, status: "skip", message: `${series.series}: ${why}, so no spawn can be flat there` };
  const sizes = series.points.map((point) => point.bytes).sort((a, b) => a - b);
  if (sizes.length < 2) return { ...base, status: "skip", message: `${series.series} on ${series.target}: fewer than two sizes measured` };
  const smallest = sizes[0]!;
  const largest = sizes[sizes.length - 1]!;
  const ratio = medianAt(series, largest)! / medianAt(series, smallest)!;
  const span = `median ${ratioText(ratio)} from ${formatSize(smallest)} to ${formatSize(largest)} (limit ${limits.flatRatio}x)`;
  return ratio <= limits.flatRatio
    ? { ...base, status: "pass", ratio, message: `${series.series} on ${series.target} is flat: ${span}` }
    : { ...base, status: "fail", ratio, message: `${series.series} on ${series.target} claims the fast path but is not flat: ${span}` };
}

/** Can the run tell fork from the fast path: fork at the largest common size at least forkOverFastRatio slower? */
function forkVerdict(fork: MeasuredSeries, fast: MeasuredSeries, conditions: TargetConditions | undefined, limits: GateLimits): GateVerdict {
  const base = { target: fork.target, series: fork.series, check: "fork-slower" as const };
  const why = unjudgeable(conditions, fork.target);
  if (why) return { ...base, status: "skip", message: `${why}: the fast path cannot be told from fork there` };
  const common = fork.points.map((point) => point.bytes).filter((bytes) => medianAt(fast, bytes) !== undefined);
  if (!common.length) return { ...base, status: "skip", message: `fork and ${fast.series} on ${fork.target} share no measured size` };
  const largest = Math.max(...common);
  const ratio = medianAt(fork, largest)! / medianAt(fast, largest)!;
  const text = `fork / ${fast.series} at ${formatSize(largest)}: ${ratioText(ratio)} (at least ${limits.forkOverFastRatio}x)`;
  return ratio >= limits.forkOverFastRatio
    ? { ...base, status: "pass", ratio, message: `${fork.target}: ${text}` }
    : { ...base, status: "fail", ratio, message: `${fork.target}: the benchmark cannot tell fork from the fast path: ${text}${conditions?.pageSize && conditions.pageSize > 4096 ? `; with ${conditions.pageSize / 1024} KiB pages a fork copies ${conditions.pageSize / 4096} times fewer page-table entries than with 4 KiB, so telling them apart takes larger sizes` : ""}` };
}

/**
 * The gate: every series that claims the fast path must be flat, and on
 * each target where the fork baseline ran beside the reference, fork must be
 * clearly slower at the largest size (else the sizes are too small for the
 * gate to mean anything). Ratios only.
 */
export function gateMemoryBench(series: readonly MeasuredSeries[], conditions: readonly TargetConditions[], limits: GateLimits = defaultGateLimits): GateVerdict[] {
  const conditionsOf = (target: string) => conditions.find((c) => c.target === target);
  const verdicts = series.filter((s) => s.claimsFastPath).map((s) => flatVerdict(s, conditionsOf(s.target), limits));
  for (const fork of series.filter((s) => s.forkBaseline)) {
    const fast = series.find((s) => s.target === fork.target && s.series === "reference");
    if (fast) verdicts.push(forkVerdict(fork, fast, conditionsOf(fork.target), limits));
  }
  return verdicts;
}

/** The ratios of medians a reader compares at one size (absent where a line was not measured there). */
export interface SizeRatios {
  bytes: number;
  /** The forced fork over the reference fast path. */
  forkOverReference?: number;
  /** The reference over glibc's posix_spawn, what a user would pick instead. */
  referenceOverGlibc?: number;
  /** The reference over its own median at the smallest size: how flat it is. */
  referenceOverSmallest?: number;
}

/** Per target and size, the ratios of the medians: the run's headline numbers, ratios within one run only. */
export function medianRatios(series: readonly MeasuredSeries[]): { target: string; sizes: SizeRatios[] }[] {
  const targets = [...new Set(series.map((s) => s.target))];
  return targets.map((target) => {
    const line = (name: string) => series.find((s) => s.target === target && s.series === name);
    const reference = line("reference");
    const ratio = (a: MeasuredSeries | undefined, b: MeasuredSeries | undefined, bytes: number, bBytes = bytes) => {
      const top = a && medianAt(a, bytes);
      const bottom = b && medianAt(b, bBytes);
      return top !== undefined && bottom !== undefined ? Number((top / bottom).toFixed(3)) : undefined;
    };
    const smallest = reference?.points.length ? Math.min(...reference.points.map((p) => p.bytes)) : 0;
    const sizes = [...new Set(series.filter((s) => s.target === target).flatMap((s) => s.points.map((p) => p.bytes)))].sort((a, b) => a - b);
    return {
      target,
      sizes: sizes.map((bytes) => ({
        bytes,
        forkOverReference: ratio(line("fork"), reference, bytes),
        referenceOverGlibc: ratio(reference, line("glibc"), bytes),
        referenceOverSmallest: ratio(reference, reference, bytes, smallest),
      })),
    };
  });
}
