/**
 * `vforkcheck soak --seeds A-B [gate options]`: the gate once per seed, with
 * every gate option passed through. Each seed's gate report goes to
 * <report without .json>/gate-seed-<seed>.json; the soak's own report
 * (reports/soak.json) counts, per target and property, the seeds that ended
 * in each status, and lists every failure with its replay line. A failure of
 * the reference in a soak is a defect of the suite until shown otherwise.
 */
import { basename, dirname, extname, join } from "node:path";
import { combinedExitCode, runVerdict } from "../../src/verdict-line.ts";
import { brokenExitCode } from "../../src/broken.ts";
import { failuresOf, parseSeeds, tallyResults, tallyTable } from "../../src/soak-tally.ts";
import { gateOptions, runGate } from "./gate.ts";
import { UsageError } from "../../src/usage-error.ts";
import { parseOptions, type OptionName } from "./options.ts";
import { formatTable, prepareReportFile, writeJsonReport } from "./report-output.ts";
import { onCleanup } from "../process/run-cleanup.ts";
import type { PropertyResult } from "./run-property.ts";
import type { TargetSummary } from "./target-summary.ts";
import { vforkcheckVersion } from "../process/package-version.ts";

/** The gate's options but --seed, which --seeds replaces, and the CI formats, which each seed's gate would overwrite. */
export const soakOptions: OptionName[] = gateOptions.filter((option) => !["--seed", "--junit", "--tap", "--summary"].includes(option));

interface SeedRun {
  seed: number;
  exitCode: number;
  wallSeconds: number;
  report: string;
  malformed?: string;
}

/** Splits `--seeds VALUE` off the arguments; the rest are the gate's. */
export function parseSoakArguments(args: readonly string[]): { seeds: number[]; gateArguments: string[] } {
  if (args.some((arg) => arg === "--seed" || arg.startsWith("--seed="))) throw new UsageError("soak: --seed: the soak takes --seeds A-B (one gate per seed)");
  const isSeeds = (arg: string) => arg === "--seeds" || arg.startsWith("--seeds=");
  const at = args.findIndex(isSeeds);
  if (at < 0) throw new UsageError("soak: --seeds A-B is required (e.g. --seeds 1-20 or --seeds 3,7,9)");
  const inline = args[at]!.startsWith("--seeds=");
  const text = inline ? args[at]!.slice("--seeds=".length) : args[at + 1];
  if (text === undefined || text === "" || text.startsWith("--")) throw new UsageError("--seeds needs a value");
  if (args.slice(at + 1).some(isSeeds)) throw new UsageError("--seeds: given twice");
  let seeds: number[];
  try {
    seeds = parseSeeds(text);
  } catch (error) {
    throw new UsageError(`--seeds: ${(error as Error).message}`);
  }
  return { seeds, gateArguments: [...args.slice(0, at), ...args.slice(at + (inline ? 1 : 2))] };
}

/**
 * Where seed `seed`'s gate report goes: a directory named after the soak's
 * report, beside it (reports/soak.json: reports/soak/), so two soaks with
 * different reports never write over each other's seeds.
 */
export function seedReportPath(soakReport: string, seed: number): string {
  return join(dirname(soakReport), basename(soakReport, extname(soakReport)), `gate-seed-${seed}.json`);
}

/** Runs the soak; returns the exit code: 0 no seed failed, 1 one did, 2 a malformed answer. */
export async function runSoak(args: readonly string[]): Promise<number> {
  const { seeds, gateArguments } = parseSoakArguments(args);
  const options = parseOptions(gateArguments, soakOptions, { report: "reports/soak.json" });
  // Before the first seed: a soak report that cannot be written is bad input (each seed's gate checks its own).
  const unwritable = prepareReportFile(options.report);
  if (unwritable) throw new UsageError(unwritable);
  const started = Date.now();
  const results: PropertyResult[] = [];
  const runs: SeedRun[] = [];
  let targets: TargetSummary[] = [];
  // The seed whose gate is running, and where that gate writes its own (partial, if stopped) report.
  let running: { seed: number; report: string } | undefined;
  const report = (partial: boolean) => {
    const failures = failuresOf(results);
    const exitCode = combinedExitCode(runs.map((run) => run.exitCode));
    writeJsonReport(options.report, {
      vforkcheck: vforkcheckVersion,
      argv: process.argv.slice(2),
      ...(partial ? {} : { verdict: runVerdict(exitCode), exitCode }),
      seeds,
      ...(partial ? { partial } : {}),
      runs: options.runs,
      tally: tallyResults(results),
      failures,
      perSeed: runs,
      ...(partial && running ? { inProgress: running } : {}),
      wallSeconds: seconds(Date.now() - started),
      targets,
    });
    return failures;
  };
  // Stopped by a signal: the seeds already done are kept; the running seed's gate writes its own partial report,
  // which this one names (registered first, this undo runs after that gate's).
  const writePartialReport = onCleanup(() => {
    report(true);
    const cutShort = running ? `; seed ${running.seed} cut short: ${running.report}` : "";
    process.stderr.write(`vforkcheck soak: stopped early; partial report (${runs.length} of ${seeds.length} seeds${cutShort}): ${options.report}\n`);
  });
  for (const [index, seed] of seeds.entries()) {
    process.stderr.write(`soak: seed ${index + 1} of ${seeds.length} (--seed ${seed}) ...\n`);
    const seedStarted = Date.now();
    const gateReport = seedReportPath(options.report, seed);
    running = { seed, report: gateReport };
    const gate = await runGate({ ...options, seed, report: gateReport }, (text) => process.stderr.write(text));
    results.push(...gate.results);
    if (gate.summaries.length) targets = gate.summaries;
    runs.push({ seed, exitCode: gate.exitCode, wallSeconds: seconds(Date.now() - seedStarted), report: gateReport, ...(gate.malformed ? { malformed: gate.malformed.message } : {}) });
    running = undefined;
  }
  writePartialReport.cancel();
  const failures = report(false);
  const { header, rows } = tallyTable(tallyResults(results));
  process.stdout.write(`${formatTable(header, rows)}\n`);
  for (const failure of failures) process.stdout.write(`FAIL seed ${failure.seed} ${failure.target} ${failure.property}: replay with: ${failure.replay ?? "(target did not start)"}\n`);
  if (!options.defines.length && results.some((result) => result.status === "fail" && result.impl === "reference")) {
    process.stdout.write("soak: a failure of the reference is a defect of the suite until shown otherwise: replay it\n");
  }
  // A seed that could not test (exit 3) is said apart from one that failed.
  const failedSeeds = runs.filter((run) => run.exitCode !== 0 && run.exitCode !== brokenExitCode).map((run) => run.seed);
  const brokenSeeds = runs.filter((run) => run.exitCode === brokenExitCode).map((run) => run.seed);
  const notPassed = [...(failedSeeds.length ? [`failed: ${failedSeeds.join(",")}`] : []), ...(brokenSeeds.length ? [`broken: ${brokenSeeds.join(",")}`] : [])];
  process.stdout.write(`soak: ${seeds.length - failedSeeds.length - brokenSeeds.length} of ${seeds.length} seeds passed${notPassed.length ? ` (${notPassed.join("; ")})` : ""}; report: ${options.report}\n`);
  for (const run of runs.filter((r) => r.malformed)) process.stderr.write(`vforkcheck soak: seed ${run.seed}: malformed answer from the implementation: ${run.malformed}\n`);
  // 1 (a seed failed) is not hidden by 3 (a seed could not test): not the largest code.
  return combinedExitCode(runs.map((run) => run.exitCode));
}

function seconds(milliseconds: number): number {
  return Math.round(milliseconds / 100) / 10;
}
