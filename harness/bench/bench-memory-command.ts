/**
 * `vforkcheck bench memory ...`: the memory benchmark's command line, its
 * table and verdicts on stdout, the JSON report and the SVG plot beside it
 * (harness/bench/bench-memory.ts measures; src/bench-memory.ts judges).
 * Exit 0, 1 (--gate and a verdict failed) or 2 (usage, a malformed answer).
 */
import { writeFileSync } from "node:fs";
import { architectures, findArchitecture } from "../../src/architectures.ts";
import { formatSize, parseSize } from "../../src/bench-memory.ts";
import { renderLatencyPlot } from "../../src/latency-plot.ts";
import { planBenchTargets, runMemoryBench, seriesNames, type MemoryBenchOptions, type MemoryBenchReport } from "./bench-memory.ts";
import { UsageError } from "../../src/usage-error.ts";
import { parseCommandLine, type CommandSpec } from "../../src/option-table.ts";
import { integerOption, listOption } from "../run/options.ts";
import { formatTable, writeJsonReport } from "../run/report-output.ts";
import { toolsFor } from "../implementations/index.ts";
import { onCleanup } from "../process/run-cleanup.ts";
import { ensureTools } from "../toolchain/ensure-tools.ts";
import { tierNames } from "../../src/tiers.ts";

/** `vforkcheck bench memory`'s options: its parse, help and docs. */
export const benchMemoryCommandSpec: CommandSpec = {
  name: "bench memory",
  summary: "spawn latency against the parent's memory size, per implementation, with a JSON report and an SVG plot",
  options: [
    { name: "--impl", value: "LIST", default: seriesNames.join(","), description: `the series, from ${seriesNames.join(",")}`, example: "--impl reference,go" },
    { name: "--tier", value: "LIST", default: tierNames.join(","), description: "the tiers to measure on", example: "--tier host" },
    { name: "--arch", value: "LIST", default: "arm64", description: "the architectures to measure on", example: "--arch amd64" },
    { name: "--sizes", value: "LIST", default: "64M,256M,1G,4G,10G,16G (each tier capped as it must be)", description: "the parent's memory sizes (64M, 1G, 1.5G or bytes)", example: "--sizes 64M,1G" },
    { name: "--repeat", value: "N", default: "10", description: "rounds per size", example: "--repeat 3" },
    { name: "--spawns", value: "N", default: "10", description: "spawns per round (at most 1000)", example: "--spawns 20" },
    { name: "--gate", default: "off", description: "exit 1 when a verdict fails (a fast path that copies the parent's memory)", example: "--gate" },
    { name: "--claim-fast-path", value: "LIST", default: "none", description: "series judged as fast paths whatever their hello says", example: "--claim-fast-path fork" },
    { name: "--goroot", value: "DIR", default: "none (the pinned Go release)", description: "the Go tree the go series is built with", example: "--goroot ~/src/go" },
    { name: "--report", value: "FILE", default: "reports/bench-memory.json (the plot beside it, .svg)", description: "where the JSON report goes", example: "--report out/bench.json" },
  ],
};

function parseBenchOptions(args: string[]): MemoryBenchOptions {
  const options: MemoryBenchOptions = {
    series: [...seriesNames],
    tiers: [...tierNames],
    architectures: [findArchitecture("arm64")!],
    rounds: 10,
    spawnsPerRound: 10,
    gate: false,
    claimFastPath: [],
    report: "reports/bench-memory.json",
    progress: (line) => process.stderr.write(`bench memory: ${line}\n`),
  };
  const findSeries = (name: string) => seriesNames.find((s) => s === name);
  for (const { name: flag, value = "" } of parseCommandLine(benchMemoryCommandSpec, args).options) {
    switch (flag) {
      case "--gate":
        options.gate = true;
        break;
      case "--impl":
        options.series = listOption(flag, value, findSeries, "implementation", seriesNames);
        break;
      case "--claim-fast-path":
        options.claimFastPath = listOption(flag, value, findSeries, "implementation", seriesNames);
        break;
      case "--tier":
        options.tiers = listOption(flag, value, (name) => tierNames.find((tier) => tier === name), "tier", tierNames);
        break;
      case "--arch":
        options.architectures = listOption(flag, value, findArchitecture, "architecture", architectures.map((a) => a.name));
        break;
      case "--sizes":
        options.sizes = value.split(",").map((text) => {
          const bytes = parseSize(text);
          if (bytes === undefined) throw new UsageError(`--sizes: '${text}' is not a size (64M, 1G, 1.5G, or bytes)`);
          return bytes;
        });
        options.sizes.sort((a, b) => a - b);
        break;
      case "--repeat":
        options.rounds = integerOption(flag, value, 1);
        break;
      case "--spawns":
        options.spawnsPerRound = integerOption(flag, value, 1);
        if (options.spawnsPerRound > 1000) throw new UsageError("--spawns: at most 1000 per round");
        break;
      case "--goroot":
        options.goroot = value;
        break;
      case "--report":
        options.report = value;
        break;
    }
  }
  return options;
}

const ms = (value: number) => (value >= 10 ? value.toFixed(1) : value.toFixed(3));

function printSummary(report: MemoryBenchReport, svgFile: string): void {
  const rows = report.targets.flatMap((t) =>
    t.series.flatMap((s) => s.points.map((p) => [t.target, s.series, formatSize(p.bytes), ms(p.minMs), ms(p.medianMs), ms(p.p95Ms), String(p.samples)])),
  );
  process.stdout.write(`${formatTable(["target", "impl", "memory", "min ms", "median ms", "p95 ms", "samples"], rows)}\n\n`);
  for (const t of report.targets) for (const s of t.series) for (const m of s.missing) process.stdout.write(`not measured: ${s.series} on ${t.target} at ${formatSize(m.bytes)}: ${m.why}\n`);
  const ratioRows = report.ratios.flatMap(({ target, sizes }) =>
    sizes.map((r) => [target, formatSize(r.bytes), ...[r.forkOverReference, r.referenceOverGlibc, r.referenceOverSmallest].map((v) => (v === undefined ? "-" : `${v.toFixed(2)}x`))]),
  );
  process.stdout.write(`${formatTable(["target", "memory", "fork / reference", "reference / glibc", "reference / smallest"], ratioRows)}\n\n`);
  for (const v of report.verdicts) process.stdout.write(`${v.status.toUpperCase()} ${v.check}: ${v.message}\n`);
  process.stdout.write(`report: ${report.partial ? "(partial) " : ""}${svgFile.replace(/\.svg$/, ".json")}, plot: ${svgFile}\n`);
}

function writeOutputs(report: MemoryBenchReport, file: string): string {
  writeJsonReport(file, report);
  const svgFile = file.replace(/\.json$/, "") + ".svg";
  const series = report.targets.flatMap((t) => t.series);
  if (series.some((s) => s.points.length)) {
    const subtitle = `${report.machine.cpus} cpus, ${formatSize(report.machine.totalMemoryBytes)}, ${report.date.slice(0, 10)}; emulated tiers (dashed: qemu-user, dotted: system) are relative only`;
    writeFileSync(svgFile, renderLatencyPlot(series, "Spawn-to-exit latency against the parent's memory", subtitle));
  }
  return svgFile;
}

/** `vforkcheck bench memory ...`: exit 0, 1 (--gate failed) or 2 (usage, malformed answer). */
export async function benchMemoryCommand(args: string[]): Promise<number> {
  const options = parseBenchOptions(args);
  const go = options.series.includes("go") ? { name: "go", goroot: options.goroot } : undefined;
  await ensureTools(toolsFor(planBenchTargets(options).map((spec) => ({ ...spec, implementation: go }))));
  let latest: MemoryBenchReport | undefined;
  // Stopped by a signal: keep what was measured, marked partial.
  const partial = onCleanup(() => {
    if (!latest) return;
    writeOutputs({ ...latest, partial: true }, options.report);
    process.stderr.write(`vforkcheck: stopped early; partial report: ${options.report}\n`);
  });
  try {
    const report = await runMemoryBench(options, (r) => (latest = r));
    partial.cancel();
    const svgFile = writeOutputs(report, options.report);
    printSummary(report, svgFile);
    return options.gate && report.verdicts.some((v) => v.status === "fail") ? 1 : 0;
  } catch (error) {
    partial.cancel();
    if (latest) writeOutputs({ ...latest, partial: true }, options.report);
    throw error;
  }
}
