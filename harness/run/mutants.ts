/**
 * `vforkcheck mutants`: every property against every mutant (src/mutants.ts)
 * on every target, and the mutant x target matrix. Each mutant is built from
 * native/ with its one -DMUTANT_ switch. A mutant is killed on a target when
 * at least one property fails there (a hang counts only when the case
 * deadline reports it). The command exits 1 where the outcome disagrees with
 * the mutant's expectation (a survivor where it should be killed, or a kill
 * where the table says it cannot show: then the table is wrong), or when a
 * property killed no mutant at all in a full run.
 */
import { readFileSync } from "node:fs";
import { loadProperties } from "../../properties/index.ts";
import { mutants as allMutants, type Mutant, type MutantExpectation } from "../../src/mutants.ts";
import { buildNative } from "../build/build.ts";
import { settleWithLimit } from "../process/limited-parallel.ts";
import { UsageError } from "../../src/usage-error.ts";
import { planTargets, selectProperties, type OptionName, type RunOptions } from "./options.ts";
import { hostExecution } from "../process/host-execution.ts";
import { toolsFor } from "../implementations/index.ts";
import { median } from "../../src/statistics.ts";
import { formatTable, prepareReportFile, writeJsonReport } from "./report-output.ts";
import { onCleanup } from "../process/run-cleanup.ts";
import type { PropertyResult } from "./run-property.ts";
import { replayPrefix, runPropertiesOnTarget } from "./run-target.ts";
import { ensureTools } from "../toolchain/ensure-tools.ts";
import { replacementOf, targetName, type TargetSpec } from "../targets/target.ts";
import type { TierName } from "../../src/tiers.ts";
import { vforkcheckVersion } from "../process/package-version.ts";
import { runVerdict, verdictWord } from "../../src/verdict-line.ts";
import { brokenExitCode } from "../../src/broken.ts";

/** Shorter than the gate's: a mutant that hangs (vfork-with-newuser) hangs in many shrink steps. */
const mutantCaseDeadlineMs: Record<TierName, number> = { host: 5_000, user: 30_000, system: 8_000 };

export const mutantsOptions: OptionName[] = ["--arch", "--tier", "--mutant", "--property", "--runs", "--seed", "--report", "--case-deadline", "--impl"];

export interface MutantResult {
  mutant: string;
  arch: string;
  tier: string;
  target: string;
  killed: boolean;
  by: string[];
  /** Generated cases until the first kill (the fewest over the killing properties). */
  cases_to_kill: number | null;
  /** That killing property's seconds from its start to its first failure and to its confirmed shrunk counterexample. */
  first_failure_s: number | null;
  shrunk_s: number | null;
  counterexample: string | null;
  replay: string | null;
  expected: MutantExpectation["expected"];
  why: string;
  /** The outcome agrees with the expectation. */
  as_expected: boolean;
  /** The mutant's build is byte for byte the reference's: nothing was run. */
  identical_to_reference: boolean;
  properties: { property: string; status: string; runs: number; reason: string; first_failure_s?: number; shrunk_s?: number; shrink_deadline_s?: number }[];
}

/** Shorter than the gate's: a mutant's hang is expected, and shrinking replays it. */
function mutantDeadlineMs(spec: TargetSpec, asked?: number): number {
  return asked ?? mutantCaseDeadlineMs[spec.tier];
}

/** The mutant's (or, with no defines, the reference's) artifact for a target. */
function buildOf(spec: TargetSpec, defines: readonly string[]): Promise<string> {
  return spec.inProcess
    ? buildNative({ arch: "amd64", kind: "shared", defines })
    : buildNative({ arch: spec.architecture.name, kind: "static", defines });
}

export function judge(mutant: Mutant, spec: TargetSpec, results: PropertyResult[], identical: boolean): MutantResult {
  const expectation = mutant.expectation(spec);
  const killers = results.filter((r) => r.status === "fail");
  const first = [...killers].sort((a, b) => a.runs - b.runs)[0];
  const killed = killers.length > 0;
  return {
    mutant: mutant.name,
    arch: spec.architecture.name,
    tier: spec.tier,
    target: targetName(spec),
    killed,
    by: killers.map((r) => r.property),
    cases_to_kill: first ? first.runs : null,
    first_failure_s: first?.first_failure_s ?? null,
    shrunk_s: first?.shrunk_s ?? null,
    counterexample: first?.counterexample ?? null,
    replay: first?.replay ?? null,
    expected: expectation.expected,
    why: expectation.why,
    as_expected: expectation.expected === "rare" || killed === (expectation.expected === "kill"),
    identical_to_reference: identical,
    properties: results.map((r) => ({
      property: r.property,
      status: r.status,
      runs: r.runs,
      reason: r.reason,
      ...(r.first_failure_s !== undefined ? { first_failure_s: r.first_failure_s } : {}),
      ...(r.shrunk_s !== undefined ? { shrunk_s: r.shrunk_s } : {}),
      ...(r.shrink_deadline_s !== undefined ? { shrink_deadline_s: r.shrink_deadline_s } : {}),
    })),
  };
}

function cell(result: MutantResult | undefined): string {
  if (!result) return "-";
  const shrunk = result.shrunk_s !== null ? ` ${Math.round(result.shrunk_s)}s` : "";
  if (result.killed) return `${result.as_expected ? "killed" : "KILLED?!"}${shrunk}`;
  if (result.expected === "rare") return "missed (rare)";
  return result.as_expected ? "n/a" : "SURVIVED";
}

function printMatrix(results: MutantResult[], mutants: readonly Mutant[], targets: string[]): void {
  const rows = mutants.map((mutant) => [mutant.name, ...targets.map((t) => cell(results.find((r) => r.mutant === mutant.name && r.target === t)))]);
  process.stdout.write(`${formatTable(["mutant", ...targets], rows)}\n(killed Ns: a property failed, as expected, its counterexample shrunk and confirmed N s after that property started; n/a: cannot show there, as expected; missed (rare): a race too narrow there to expect a kill, missed this time; SURVIVED / KILLED?!: disagrees with src/mutants.ts)\n`);
}

/** A mutant x target run a stop cut short, as the partial report keeps it: the properties it finished, and whether one of them killed the mutant already. */
interface InProgressJob {
  mutant: string;
  target: string;
  status: "in progress";
  killed_so_far: boolean;
  by: string[];
  properties: MutantResult["properties"];
}

function inProgressJob(mutant: Mutant, spec: TargetSpec, finished: PropertyResult[]): InProgressJob {
  const judged = judge(mutant, spec, finished, false);
  return { mutant: judged.mutant, target: judged.target, status: "in progress", killed_so_far: judged.killed, by: judged.by, properties: judged.properties };
}

function writeReport(file: string, seed: number, results: MutantResult[], mutants: readonly Mutant[], partial: boolean, exitCode?: number, inProgress: InProgressJob[] = []): void {
  const summary = mutants.map((mutant) => {
    const kills = results.filter((r) => r.mutant === mutant.name && r.killed && r.cases_to_kill !== null);
    return { mutant: mutant.name, bug_class: mutant.bugClass, models: mutant.models, killed_on: kills.map((r) => r.target), median_cases_to_kill: median(kills.map((r) => r.cases_to_kill!)) };
  });
  const verdict = exitCode === undefined ? {} : { verdict: runVerdict(exitCode), exitCode };
  writeJsonReport(file, { vforkcheck: vforkcheckVersion, argv: process.argv.slice(2), ...verdict, seed, ...(partial ? { partial } : {}), results, ...(inProgress.length ? { inProgress } : {}), summary });
}

export async function runMutants(options: RunOptions): Promise<number> {
  const started = Date.now();
  if (options.defines.length) throw new UsageError("mutants: --define is not an option here (each mutant brings its own)");
  const other = options.implementations.find((implementation) => implementation.name !== "reference");
  if (other) throw new UsageError(`mutants: --impl ${other.name}: the mutants are -D switches of native/, so only the reference has them (gate a runtime fork's own broken variant with gate --impl go --goroot)`);
  const all = await loadProperties();
  const properties = selectProperties(all, options.properties);
  // Drivers only: a mutant loaded into this very process (the in-process
  // target) takes the harness down with it when it crashes, as ra-on-stack does.
  const specs = planTargets({ ...options, inProcess: "no", defines: [] }, hostExecution());
  if (!specs.length) throw new UsageError("no target matches the --arch and --tier given");
  const unwritable = prepareReportFile(options.report);
  if (unwritable) throw new UsageError(unwritable);
  const mutants = options.mutants;
  // Stopped at any moment, the builds included: the mutant x target runs finished so far are kept, marked partial.
  const results: MutantResult[] = [];
  // The jobs running, with the properties each finished so far.
  const running = new Map<{ mutant: Mutant; spec: TargetSpec }, PropertyResult[]>();
  const partialReport = onCleanup(() => {
    writeReport(options.report, options.seed, results, mutants, true, undefined, [...running].map(([job, finished]) => inProgressJob(job.mutant, job.spec, finished)));
    const cutShort = running.size ? `, ${running.size} cut short with the properties they finished` : "";
    process.stderr.write(`vforkcheck mutants: stopped early; partial report (${results.length} mutant x target runs${cutShort}): ${options.report}\n`);
  });
  await ensureTools(toolsFor(specs));
  const jobs = mutants.flatMap((mutant) =>
    specs.map((base): { mutant: Mutant; base: TargetSpec; spec: TargetSpec } => ({
      mutant,
      base,
      spec: { ...base, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: mutantDeadlineMs(base, options.caseDeadlineMs) },
    })),
  );
  process.stderr.write(`vforkcheck mutants: seed ${options.seed}, ${options.runs} runs, ${mutants.length} mutants x ${specs.length} targets, ${properties.length} properties\n`);
  for (const entry of specs.flatMap((spec) => replacementOf(spec) ?? [])) process.stderr.write(`vforkcheck mutants: ${entry.target} runs in place of ${entry.inPlaceOf}: ${entry.reason}\n`);

  // Every build first (cached by content), two compilers at a time; then
  // whether each mutant's build is the reference's, byte for byte.
  const references = new Map<TargetSpec, string>();
  await settleWithLimit(specs, 2, async (spec) => void references.set(spec, await buildOf(spec, [])));
  const identicalToReference = new Map<(typeof jobs)[number], boolean>();
  await settleWithLimit(jobs, 2, async (job) => {
    const built = await buildOf(job.spec, job.spec.defines);
    identicalToReference.set(job, readFileSync(built).equals(readFileSync(references.get(job.base)!)));
  });

  let done = 0;
  await settleWithLimit(jobs, 2, async (job) => {
    const { mutant, spec } = job;
    const label = `${mutant.name} on ${targetName(spec)}`;
    const identical = identicalToReference.get(job)!;
    let propertyResults: PropertyResult[] = [];
    if (!identical) {
      const finished: PropertyResult[] = [];
      running.set(job, finished);
      const run = await runPropertiesOnTarget(spec, properties, {
        runs: options.runs,
        seed: options.seed,
        replayPrefix: replayPrefix(spec.defines, spec.caseDeadlineMs),
        onMalformed: "fail",
        onResult: (result) => finished.push(result),
        progress: (line) => {
          // Every property's outcome as it comes, kills or not; the every-ten-cases lines would drown two parallel jobs.
          if (/: (pass|fail|skip) \(/.test(line)) process.stderr.write(`  ${mutant.name}: ${line.trim()}\n`);
        },
      });
      propertyResults = run.results;
      running.delete(job);
    }
    const result = judge(mutant, spec, propertyResults, identical);
    results.push(result);
    done++;
    const outcome = identical ? "build identical to the reference" : result.killed ? `killed by ${result.by.join(",")} after ${result.cases_to_kill} cases${result.shrunk_s !== null ? ` (first failure ${result.first_failure_s} s, shrunk ${result.shrunk_s} s)` : ""}` : "survived";
    process.stderr.write(`[${done}/${jobs.length}] ${label}: ${outcome}${result.as_expected ? "" : ` -- NOT AS EXPECTED (${result.expected}: ${result.why})`}\n`);
  });
  partialReport.cancel();
  // Not killed where a fault of the machine kept properties from being tested: no survivor, but broken (exit 3 unless something is wrong).
  const untested = results.filter((r) => !r.killed && r.properties.some((p) => p.status === "broken"));
  const wrong = results.filter((r) => !r.as_expected && !untested.includes(r));
  // With every mutant and property in the run, a property that kills nothing guards nothing.
  const fullRun = mutants.length === allMutants.length && properties.length === all.length;
  const idle = fullRun ? properties.filter((p) => !results.some((r) => r.by.includes(p.name))) : [];
  const exitCode = wrong.length || idle.length ? 1 : untested.length ? brokenExitCode : 0;
  writeReport(options.report, options.seed, results, mutants, false, exitCode);
  printMatrix(results, mutants, specs.map(targetName));
  for (const r of wrong)
    process.stdout.write(`${r.killed ? "UNEXPECTED KILL" : "SURVIVOR"} ${r.mutant} on ${r.target}: expected ${r.expected} (${r.why})${r.replay ? `; replay: ${r.replay}` : ""}\n`);
  for (const p of idle) process.stdout.write(`PROPERTY KILLS NOTHING: ${p.name} failed on no mutant anywhere\n`);
  for (const r of untested) process.stdout.write(`BROKEN ${r.mutant} on ${r.target}: could not test: ${r.properties.find((p) => p.status === "broken")!.reason}\n`);
  const killed = results.filter((r) => r.killed).length;
  process.stdout.write(`${verdictWord(exitCode)}: ${wrong.length} not as expected, ${idle.length} properties killing nothing, ${killed} killed, ${results.length - killed} not killed (${results.length} mutant x target runs) in ${((Date.now() - started) / 1000).toFixed(1)} s (report ${options.report})\n`);
  return exitCode;
}
