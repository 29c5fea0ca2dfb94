/**
 * The memory-size latency benchmark: spawn-to-exit latency of a minimal
 * static exec target (the reference build's `--exit`) from a parent that
 * holds 64 MiB to 16 GiB, touched, for each implementation, side by side
 * in one run.
 *
 *   vforkcheck bench memory [--impl LIST] [--tier LIST] [--arch LIST] [--sizes LIST]
 *                           [--repeat N] [--spawns N] [--gate] [--claim-fast-path LIST]
 *                           [--goroot DIR] [--report FILE]
 *   npm run bench:memory
 *
 * The lines (--impl): reference (the fast path), fork (the reference with its
 * fork fallback forced: the baseline), glibc (posix_spawn), go
 * (syscall.ForkExec), node (child_process in a Node process whose heap
 * holds the memory) and in-process (the reference through koffi, the Node
 * process as parent, its heap grown). Each implementation's driver answers
 * the protocol's `bench` lines (docs/protocol.md): it holds the size and
 * times spawns itself with a monotonic clock, without an observer.
 *
 * Each line has a driver process of its own, the forced fork too: a
 * fast-path spawn right after fork batches in the same process measured 1.4
 * to 1.6x slower at 64 and 256 MiB. Rounds interleave: at each size, every
 * driver that can hold the size at the same time as the others runs one
 * batch per round, in an order that rotates; where memory allows only one
 * holder at a time (10 and 16 GiB on a 24 GiB machine), each driver runs its
 * rounds while it holds the size. The first spawn of every batch is a
 * warm-up and not counted.
 *
 * This module measures. harness/bench/bench-memory-command.ts is the command line
 * and writes reports/bench-memory.json and the SVG plot; src/bench-memory.ts
 * holds the gate: with --gate, exit 1 when a line that claims the fast path
 * (its hello lists fast_path, or --claim-fast-path names it) is not flat,
 * or fork is not clearly slower than the reference at the largest size.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { architectures, type Architecture, type ArchitectureName } from "../../src/architectures.ts";
import { defaultGateLimits, formatSize, gateMemoryBench, GiB, medianRatios, MiB, parseSize, summarizeLatencies, type GateVerdict, type MeasuredSeries, type TargetConditions } from "../../src/bench-memory.ts";
import { encodeBench, parseTimings, ProtocolError, type Hello } from "../../src/protocol.ts";
import { startBenchDriver, systemMemoryMiB, type BenchDriver, type BenchDriverName } from "./bench-driver.ts";
import { buildNative } from "../build/build.ts";
import { implementationOf } from "../implementations/index.ts";
import { TargetUnavailableError } from "../implementations/adapter.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { nameErrnos } from "../../src/errno.ts";
import { systemExecTarget } from "../build/initramfs.ts";
import type { TargetSpec } from "../targets/target.ts";
import { probeCapabilities } from "../targets/probe.ts";
import type { TierName } from "../../src/tiers.ts";

export const seriesNames = ["reference", "fork", "glibc", "go", "node", "in-process"] as const;
export type SeriesName = (typeof seriesNames)[number];

/** Which program serves a line, and how: the fork baseline is the reference's driver with fork=1 (in a process of its own). */
const seriesTable: Record<SeriesName, { driver: BenchDriverName; forceFork: boolean }> = {
  reference: { driver: "reference", forceFork: false },
  fork: { driver: "reference", forceFork: true },
  glibc: { driver: "glibc", forceFork: false },
  go: { driver: "go", forceFork: false },
  node: { driver: "node", forceFork: false },
  "in-process": { driver: "in-process", forceFork: false },
};

export const defaultSizes = ["64M", "256M", "1G", "4G", "10G", "16G"].map((text) => parseSize(text)!);
/** Left free beside the largest holder: the harness, the other drivers' baseline, page tables and the page cache. */
const headroomBytes = 4 * GiB;
/** qemu-user: an emulated spawn is a fork of qemu, seconds each past a few GiB. */
const userTierDefaultLargest = 4 * GiB;
/** Left to a VM's kernel, initramfs and page cache. */
const systemHeadroomMiB = 512;
/** A 32-bit process has under 4 GiB of address space, and the protocol's memory is its long. */
const thirtyTwoBitLargest = 1 * GiB;

export interface MemoryBenchOptions {
  series: SeriesName[];
  tiers: TierName[];
  /** The architectures for the user and system tiers (the host tier is this machine's amd64). */
  architectures: Architecture[];
  /** Asked for with --sizes; absent: defaultSizes, each tier capped as it must be. */
  sizes?: number[];
  rounds: number;
  spawnsPerRound: number;
  gate: boolean;
  claimFastPath: SeriesName[];
  goroot?: string;
  report: string;
  progress: (line: string) => void;
}

export interface BenchTargetReport {
  target: string;
  tier: TierName;
  arch: ArchitectureName;
  conditions: TargetConditions;
  sizes: number[];
  /** Sizes left out for this target, and why (memory cap, tier limits). */
  capped: { bytes: number; why: string }[];
  series: MeasuredSeries[];
  /** Lines that could not run here at all, and why. */
  skipped: { series: SeriesName; why: string }[];
}

export interface MemoryBenchReport {
  date: string;
  machine: { cpus: number; cpuModel: string; node: string; totalMemoryBytes: number; availableMemoryBytesAtStart: number; transparentHugepages: string };
  method: string;
  rounds: number;
  spawnsPerRound: number;
  targets: BenchTargetReport[];
  limits: typeof defaultGateLimits;
  verdicts: GateVerdict[];
  /** Per target and size: fork / reference, reference / glibc, reference / its smallest size (medians). */
  ratios: ReturnType<typeof medianRatios>;
  partial?: boolean;
}

function readMemAvailable(): number {
  const match = /MemAvailable:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "latin1"));
  return match ? Number(match[1]) * 1024 : totalmem();
}

function readTransparentHugepages(): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "latin1"))?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Why a line cannot run on this tier, or undefined when it can. */
function unavailableReason(series: SeriesName, spec: TargetSpec): string | undefined {
  const driver = seriesTable[series].driver;
  if (driver === "in-process") return spec.tier === "host" ? undefined : "the in-process line is this machine's Node process: host tier only";
  const implementation = implementationOf({ name: driver } as ImplementationSpec);
  if (!implementation.tiers.includes(spec.tier)) return `${driver} does not run on the ${spec.tier} tier: ${implementation.whyNotOtherTiers}`;
  if (implementation.architectures && !implementation.architectures.includes(spec.architecture.name)) return `${driver} runs on ${implementation.architectures.join(",")} only`;
  return undefined;
}

/** The sizes a target measures, and those it leaves out with the reason. */
function planSizes(spec: TargetSpec, asked: number[] | undefined, memAvailable: number, systemMiB: number): { sizes: number[]; capped: { bytes: number; why: string }[] } {
  const limits: { largest: number; why: string }[] = [];
  if (spec.tier === "system") limits.push({ largest: (systemMiB - systemHeadroomMiB) * MiB, why: `the VM has ${systemMiB} MiB, ${systemHeadroomMiB} MiB of it left to its kernel and page cache` });
  else limits.push({ largest: memAvailable - headroomBytes, why: `this machine had ${formatSize(memAvailable)} available at start, less ${formatSize(headroomBytes)} of headroom` });
  if (["386", "arm"].includes(spec.architecture.name)) limits.push({ largest: thirtyTwoBitLargest, why: "a 32-bit process cannot hold more" });
  if (spec.tier === "user" && asked === undefined) limits.push({ largest: userTierDefaultLargest, why: "qemu-user runs each spawn as a fork of qemu, seconds each beyond this; ask with --sizes" });
  const sizes: number[] = [];
  const capped: { bytes: number; why: string }[] = [];
  for (const bytes of asked ?? defaultSizes) {
    const limit = limits.find((l) => bytes > l.largest);
    if (limit) capped.push({ bytes, why: limit.why });
    else sizes.push(bytes);
  }
  return { sizes, capped };
}

/** Deadline for one batch: holding the memory (a few s/GiB where page faults are dear), then every spawn. */
function batchDeadlineMs(tier: TierName, bytes: number, spawns: number): number {
  const slowdown = tier === "host" ? 1 : 10;
  return slowdown * (30_000 + (bytes / GiB) * 15_000 + spawns * 5_000);
}

let nextBenchId = 1;

/** A line's own driver process (or VM), started when first needed and again after a failure. */
interface LiveDriver {
  series: SeriesName;
  /** It cannot be had here (no cross toolchain, ...): every size is missing, with this reason. */
  unavailable?: string;
  driver?: BenchDriver;
  hello?: Hello;
}

/** Runs one target's lines at every size; what could not be measured is noted in `missing`, never dropped silently. */
async function benchTarget(
  spec: TargetSpec,
  target: string,
  options: MemoryBenchOptions,
  execTarget: string,
  memAvailable: number,
  onBatch: (partial: BenchTargetReport) => void,
): Promise<BenchTargetReport> {
  const wanted = options.series.filter((series) => unavailableReason(series, spec) === undefined);
  const skipped = options.series.filter((series) => !wanted.includes(series)).map((series) => ({ series, why: unavailableReason(series, spec)! }));
  const { sizes, capped } = planSizes(spec, options.sizes, memAvailable, systemMemoryMiB(spec.architecture));
  for (const { series, why } of skipped) options.progress(`${target}: ${series} skipped: ${why}`);
  for (const { bytes, why } of capped) options.progress(`${target}: ${formatSize(bytes)} left out: ${why}`);
  // One process per line, the forced fork's too: a fast-path spawn right after fork batches in the same
  // process measured 1.4 to 1.6x slower at 64 and 256 MiB than in a process of its own.
  const drivers: LiveDriver[] = wanted.map((series) => ({ series }));
  const samples = new Map<string, number[]>(); // `${series} ${bytes}` -> ns
  const missing = new Map<SeriesName, { bytes: number; why: string }[]>(wanted.map((s) => [s, []]));
  const conditions: TargetConditions = { target };
  const closeAll = async () => {
    for (const d of drivers) {
      const driver = d.driver;
      d.driver = undefined;
      await driver?.close().catch(() => {});
    }
  };
  const driverOf = async (d: LiveDriver): Promise<BenchDriver> => {
    d.driver ??= await startBenchDriver(seriesTable[d.series].driver, spec, options.goroot);
    d.hello = d.driver.hello;
    if (d.driver.capabilities) Object.assign(conditions, { vforkSharesMemory: d.driver.capabilities.vforkSharesMemory, pageSize: d.driver.capabilities.pageSize });
    return d.driver;
  };
  const markMissing = (d: LiveDriver, bytes: number, why: string) => {
    if (!missing.get(d.series)!.some((m) => m.bytes === bytes)) missing.get(d.series)!.push({ bytes, why });
  };
  /** One bench line; a failure (hang, crash, memory) takes the line out at this size. */
  const batch = async (d: LiveDriver, bytes: number, spawns: number): Promise<number[] | undefined> => {
    const series = d.series;
    const id = nextBenchId++;
    const line = encodeBench({ id, path: execTarget, memoryBytes: bytes, spawns, forceFork: seriesTable[series].forceFork });
    let answer: string;
    try {
      answer = await (await driverOf(d)).exchange(line, batchDeadlineMs(spec.tier, bytes, spawns));
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      if (error instanceof TargetUnavailableError) {
        d.unavailable = error.message;
        for (const size of sizes) markMissing(d, size, error.message);
        options.progress(`${target}: ${series} not measured: ${error.message}`);
        return undefined;
      }
      const driver = d.driver;
      d.driver = undefined; // a new one next time
      await driver?.close().catch(() => {});
      markMissing(d, bytes, (error as Error).message);
      options.progress(`${target}: ${series} at ${formatSize(bytes)} failed: ${(error as Error).message}`);
      return undefined;
    }
    const timings = parseTimings(answer);
    if (timings.id !== id) throw new ProtocolError(`answer for bench line ${timings.id}, expected ${id}`, answer);
    if ("failure" in timings) {
      const failure = nameErrnos(timings.failure, spec.architecture);
      markMissing(d, bytes, failure);
      options.progress(`${target}: ${series} at ${formatSize(bytes)}: ${failure}`);
      return undefined;
    }
    return timings.nanoseconds;
  };
  // The forced fork runs the reference's driver, whose hello claims the fast path: only --claim-fast-path makes it claim.
  const claims = (d: LiveDriver) =>
    options.claimFastPath.includes(d.series) || (!seriesTable[d.series].forceFork && (d.hello?.features.includes("fast_path") ?? false));
  /** What has been measured so far: the target's report, also handed out after every batch (a stopped run keeps it). */
  const snapshot = (): BenchTargetReport => ({
    target,
    tier: spec.tier,
    arch: spec.architecture.name,
    conditions,
    sizes,
    capped,
    skipped,
    series: drivers.map((d) => ({
      series: d.series,
      target,
      claimsFastPath: claims(d),
      forkBaseline: seriesTable[d.series].forceFork,
      points: sizes.filter((bytes) => samples.get(`${d.series} ${bytes}`)?.length).map((bytes) => ({ bytes, ...summarizeLatencies(samples.get(`${d.series} ${bytes}`)!) })),
      missing: missing.get(d.series)!,
    })),
  });
  // The probe decides what the gate can expect here, not the tier's name (a VM's own probe runs at its boot).
  if (spec.tier !== "system") {
    const capabilities = await probeCapabilities(spec);
    Object.assign(conditions, { vforkSharesMemory: capabilities.vforkSharesMemory, pageSize: capabilities.pageSize });
  }
  try {
    for (const bytes of sizes) {
      // As many drivers hold this size at once as memory allows; each group's rounds interleave.
      const together = spec.tier === "system" ? 1 : Math.max(1, Math.floor((memAvailable - headroomBytes) / bytes));
      for (let first = 0; first < drivers.length; first += together) {
        const group = drivers.slice(first, first + together);
        for (let round = 0; round < options.rounds; round++) {
          for (let i = 0; i < group.length; i++) {
            const d = group[(i + round) % group.length]!;
            if (missing.get(d.series)!.some((m) => m.bytes === bytes)) continue;
            const started = Date.now();
            const timed = await batch(d, bytes, options.spawnsPerRound + 1);
            if (!timed) continue;
            const key = `${d.series} ${bytes}`;
            samples.set(key, [...(samples.get(key) ?? []), ...timed.slice(1)]);
            onBatch(snapshot());
            const median = summarizeLatencies(timed.slice(1)).medianMs;
            options.progress(`${target}: ${formatSize(bytes)} round ${round + 1}/${options.rounds} ${d.series}: median ${median} ms (batch ${((Date.now() - started) / 1000).toFixed(1)} s, holding included)`);
          }
        }
        // Give the memory back before the next group (or the next size) holds some.
        for (const d of group) if (d.driver && !d.unavailable) await batch(d, 0, 1);
      }
    }
  } finally {
    await closeAll();
  }
  return snapshot();
}

const host = architectures.find((a) => a.name === "amd64")!;

/** Every target the options name: the host tier on this machine's amd64, the others on each --arch. */
export function planBenchTargets(options: MemoryBenchOptions): TargetSpec[] {
  return options.tiers.flatMap((tier) =>
    (tier === "host" ? [host] : options.architectures).map((architecture): TargetSpec => ({ architecture, tier, inProcess: false, impl: "bench", defines: [] })),
  );
}

const method =
  "spawn-to-exit latency of the reference build's `--exit` mode (static, exits at once), timed by each driver with a monotonic clock from just before the spawn until wait reaped the child; the parent holds the size as private anonymous memory populated and written once per page (node and in-process: Buffers in the Node heap, each byte written); per size, rounds interleave the drivers that fit in memory together, in rotating order; the first spawn of each batch is a warm-up and not counted; no observer";

export async function runMemoryBench(options: MemoryBenchOptions, onPartial?: (report: MemoryBenchReport) => void): Promise<MemoryBenchReport> {
  const memAvailable = readMemAvailable();
  const hostExecTarget = await buildNative({ arch: "amd64", kind: "static" });
  const report: MemoryBenchReport = {
    date: new Date().toISOString(),
    machine: { cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, totalMemoryBytes: totalmem(), availableMemoryBytesAtStart: memAvailable, transparentHugepages: readTransparentHugepages() },
    method,
    rounds: options.rounds,
    spawnsPerRound: options.spawnsPerRound,
    targets: [],
    limits: defaultGateLimits,
    verdicts: [],
    ratios: [],
  };
  for (const spec of planBenchTargets(options)) {
    const target = `${spec.architecture.name}/${spec.tier}`;
    options.progress(`${target}: starting`);
    // The exec target: on qemu-user the host's build (no binfmt_misc), in a VM the initramfs's.
    const execTarget = spec.tier === "system" ? systemExecTarget : hostExecTarget;
    const done = report.targets.slice();
    report.targets.push(await benchTarget(spec, target, options, execTarget, memAvailable, (partial) => onPartial?.({ ...report, targets: [...done, partial] })));
  }
  const series = report.targets.flatMap((t) => t.series);
  report.verdicts = gateMemoryBench(
    series,
    report.targets.map((t) => t.conditions),
  );
  report.ratios = medianRatios(series);
  return report;
}

