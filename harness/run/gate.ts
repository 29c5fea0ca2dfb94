/**
 * The gate: every selected property on every planned target, two targets
 * at a time (the in-process one alone, last), with a JSON report. The
 * command line (cli.ts) and the soak (one gate per seed) both call runGate.
 */
import { ProtocolError } from "../../src/protocol.ts";
import { loadProperties } from "../../properties/index.ts";
import { buildAll } from "../build/build.ts";
import type { CasesSoFar, PropertyResult } from "./run-property.ts";
import { UsageError } from "../../src/usage-error.ts";
import { planTargets, selectProperties, type OptionName, type RunOptions } from "./options.ts";
import { replayPrefix, runPropertiesOnTarget } from "./run-target.ts";
import { implementationLabel, implementationVersion, toolsFor } from "../implementations/index.ts";
import { capabilitiesByArchitecture, summarizeCapabilities, type TargetSummary } from "./target-summary.ts";
import { replacementOf, targetName, type TargetSpec } from "../targets/target.ts";
import { hostExecution } from "../process/host-execution.ts";
import { probeCapabilities } from "../targets/probe.ts";
import { provenanceOf } from "../targets/target-provenance.ts";
import { ensureTools } from "../toolchain/ensure-tools.ts";
import { settleWithLimit } from "../process/limited-parallel.ts";
import { onCleanup } from "../process/run-cleanup.ts";
import { prepareReportFile, writeJsonReport } from "./report-output.ts";
import { formatKnownFindingTable, formatResultTable, knownFindingRows, outcomeLines } from "../../src/result-table.ts";
import { dealShards, type Shard } from "../../src/shard.ts";
import { prepareCiReportFiles, writeCiReportFiles } from "./ci-report-files.ts";
import { secondsBetween } from "../../src/case-deadline.ts";
import type { ReportImplementation, ReportReplacement } from "../../src/gate-report.ts";
import { caseAsReproducer, knownAwareExitCode } from "../../src/known-findings.ts";
import { describeKnownContext, knownContexts, loadKnownFiles } from "../implementations/known-findings.ts";
import { brokenLines, finalLine, runVerdict, skipLines } from "../../src/verdict-line.ts";
import type { BrokenError } from "../../src/broken.ts";
import { checkRunEnvironment, machineFault } from "../process/machine-faults.ts";
import { cacheDirectory } from "../toolchain/debian-archive.ts";
import { RunProgress } from "../../src/progress.ts";
import { vforkcheckVersion } from "../process/package-version.ts";

/** The options `vforkcheck gate` takes (and `soak`, which runs the gate once per seed). */
export const gateOptions: OptionName[] = ["--arch", "--tier", "--runs", "--seed", "--report", "--property", "--replay-path", "--in-process", "--no-in-process", "--define", "--case-deadline", "--impl", "--impl-cmd", "--impl-binary", "--goroot", "--known", "--strict-known", "--junit", "--tap", "--summary", "--shard", "--libc-root", "--python", "--node", "--baseline", "--baseline-goroot", "--baseline-libc-root"];

export interface GateRun {
  seed: number;
  results: PropertyResult[];
  summaries: TargetSummary[];
  /** A malformed answer from an implementation stopped a target (exit 2). */
  malformed?: ProtocolError;
  /** 0 all pass (known findings included), 1 a failure (a property's, a target that did not start, or a fixed finding under --strict-known), 2 a malformed answer, 3 nothing failed but something was broken (could not test). */
  exitCode: number;
}

export type { KnownFindingRow } from "../../src/result-table.ts";

/** Where a gate's wall time went: seconds from its start to the end of each phase (tools, builds, the targets' runs, the user-tier probes), and the whole. */
type Phases = Record<string, number>;

/**
 * implementations: each of the run's, as results' `impl` labels it, with its name and version (what `vforkcheck findings` tabulates);
 * plan: the whole run's target names, and shard: which share of them this job ran (what `vforkcheck report merge` checks).
 */
interface ReportRun {
  seed: number;
  implementations: ReportImplementation[];
  /** --baseline: the implementation each failure was replayed on. */
  baseline?: ReportImplementation;
  plan: string[];
  /** The plan's targets that run in place of ones this machine cannot have (386/user for 386/host), with the measured reason. */
  replaced: ReportReplacement[];
  shard?: Shard;
  strictKnown: boolean;
  /** The gate's exit code, once the run is over (a partial report has none). */
  exitCode?: number;
}

/** A malformed answer that stopped a target (the gate's exit 2), as the report keeps it so that a merge of shards can say so too. */
type MalformedRecord = { target: string; message: string };

/** A property a stop cut short, as the partial report keeps it: its cases so far (shrink steps included) of the runs asked for, and the first failure among them. */
interface InProgressRecord {
  target: string;
  property: string;
  status: "in progress";
  cases: number;
  runs: number;
  failing_cases: number;
  first_failure?: { problems: readonly string[]; counterexample: string };
}

function inProgressRecord(target: string, property: string, runs: number, soFar: CasesSoFar): InProgressRecord {
  return { target, property, status: "in progress", cases: soFar.cases, runs, failing_cases: soFar.failing, ...(soFar.firstFailure ? { first_failure: soFar.firstFailure } : {}) };
}

function writeReport(file: string, run: ReportRun, results: PropertyResult[], targets: TargetSummary[], phases: Phases, partial = false, malformed: MalformedRecord[] = [], inProgress: InProgressRecord[] = []): void {
  const knownFindings = knownFindingRows(results);
  const { seed, implementations, baseline, plan, replaced, shard, strictKnown, exitCode } = run;
  writeJsonReport(file, {
    vforkcheck: vforkcheckVersion,
    argv: process.argv.slice(2),
    ...(exitCode !== undefined ? { verdict: runVerdict(exitCode), exitCode } : {}),
    seed,
    ...(partial ? { partial } : {}),
    ...(strictKnown ? { strictKnown } : {}),
    ...(malformed.length ? { malformed } : {}),
    wall_s: phases.wall_s,
    phases_s: phases,
    ...(shard ? { shard } : {}),
    plan,
    ...(replaced.length ? { replaced } : {}),
    implementations,
    ...(baseline ? { baseline } : {}),
    // A failure's case as a known finding's reproducer writes it (flags by name): `vforkcheck known suggest` files it as it is.
    results: results.map((result) => (result.failingCase ? { ...result, reproducer: caseAsReproducer(result.failingCase) } : result)),
    ...(inProgress.length ? { inProgress } : {}),
    ...(knownFindings.length ? { knownFindings } : {}),
    targets,
    capabilities: capabilitiesByArchitecture(targets),
  });
}

/**
 * For each architecture run on the system tier without its user tier, the
 * user tier's probe too (under a second), so the report can set what
 * qemu-user emulates beside what the kernel does.
 */
async function userTierSummaries(specs: readonly TargetSpec[], plan: readonly TargetSpec[]): Promise<TargetSummary[]> {
  // The whole plan's user targets: another shard's measures the user tier already.
  const wanted = specs.filter((spec) => spec.tier === "system" && !plan.some((s) => s.architecture.name === spec.architecture.name && s.tier === "user"));
  return Promise.all(
    wanted.map(async (spec) => {
      const user: TargetSpec = { ...spec, tier: "user", defines: [] };
      const [capabilities, provenance] = await Promise.all([probeCapabilities(user), provenanceOf(user)]);
      return { target: targetName(user), arch: spec.architecture.name, tier: "user", ...provenance, capabilities: summarizeCapabilities(capabilities) };
    }),
  );
}

/** A target's expected seconds; measured (gate --seed 1 here, warm): a VM's target 21-123 s, a qemu-user or native one 7-12 s. */
const tierCost: Record<string, number> = { system: 60, user: 10, host: 8 };

function slowestTiersFirst(specs: readonly TargetSpec[]): TargetSpec[] {
  return [...specs].sort((a, b) => tierCost[b.tier]! - tierCost[a.tier]!);
}

/**
 * This job's share of the planned targets (src/shard.ts), in plan order.
 * The in-process target is dealt with its implementation's amd64/host
 * target (one unit): a job that has it runs it alone, last, as any gate does.
 */
export function shareOfPlan(plan: readonly TargetSpec[], shard: Shard): TargetSpec[] {
  const unitOf = (spec: TargetSpec) => {
    const sibling = spec.inProcess ? plan.find((s) => !s.inProcess && s.tier === spec.tier && s.architecture === spec.architecture && s.impl === spec.impl) : undefined;
    return targetName(sibling ?? spec);
  };
  const units = [...new Set(plan.map(unitOf))];
  const costs = units.map((unit) => plan.filter((spec) => unitOf(spec) === unit).reduce((sum, spec) => sum + tierCost[spec.tier]!, 0));
  const shardOf = dealShards(costs, shard.count);
  return plan.filter((spec) => shardOf[units.indexOf(unitOf(spec))] === shard.index - 1);
}

/**
 * Runs the gate for options.seed; writes options.report; prints progress to
 * stderr and the table and failures with `print` (stdout; the soak sends them
 * to stderr and prints its own table).
 */
export async function runGate(options: RunOptions, print: (text: string) => void = (text) => process.stdout.write(text)): Promise<GateRun> {
  const started = Date.now();
  const phases: Phases = {};
  const phaseDone = (name: string) => (phases[name] = phases.wall_s = secondsBetween(started, Date.now()));
  const all = await loadProperties();
  const properties = selectProperties(all, options.properties);
  // The machine is measured before the plan: a target this kernel cannot run is planned on another tier, not as one that fails to start.
  const plan = planTargets(options, hostExecution());
  if (!plan.length) throw new UsageError("no target matches the --arch and --tier given");
  const specs = options.shard ? shareOfPlan(plan, options.shard) : plan;
  // Validated before anything is installed or built: a bad findings file or
  // a report that cannot be written is bad input, said now, not after the run.
  const knownFiles = loadKnownFiles(options.implementations, options.knownFile, all.map((p) => p.name));
  const unwritable = prepareCiReportFiles(options, { option: "--report", file: options.report }) ?? prepareReportFile(options.report);
  if (unwritable) throw new UsageError(unwritable);
  const replaced = plan.flatMap((spec) => replacementOf(spec) ?? []);
  // What the report says of the run, filled in as it is learnt (a stop during the set-up writes what is known by then).
  let reportRun: ReportRun = { seed: options.seed, implementations: [], plan: plan.map(targetName), replaced, ...(options.shard ? { shard: options.shard } : {}), strictKnown: options.strictKnown };
  const results: PropertyResult[] = [];
  const summaries: TargetSummary[] = [];
  // The targets started and not finished: their summary as it is now; and the property each is running, with its cases so far.
  const runningSummaries = new Map<string, () => TargetSummary>();
  const running = new Map<string, InProgressRecord>();
  // Stopped by a signal (or an error) at any moment: keep the results and target summaries already obtained, and the
  // running properties' cases, marked as partial.
  const writePartialReport = onCleanup(() => {
    phaseDone("stopped");
    const targets = [...summaries, ...[...runningSummaries.values()].flatMap((summaryNow) => {
      try {
        return [summaryNow()];
      } catch {
        return [];
      }
    })];
    writeReport(options.report, reportRun, results, targets, phases, true, [], [...running.values()]);
    const cutShort = running.size ? `, ${running.size} cut short with their cases so far` : "";
    process.stderr.write(`vforkcheck: stopped early; partial report (${results.length} results${cutShort}): ${options.report}\n`);
  });
  // A fault of the machine or the caller's environment found while preparing (TMPDIR, a read-only or full
  // cache, tools that cannot be fetched): every target is `broken`, said once, and the report is written.
  let unprepared: BrokenError | undefined;
  const asFault = (error: unknown) => {
    unprepared = machineFault(error, cacheDirectory());
    if (!unprepared) throw error;
  };
  try {
    checkRunEnvironment({ cache: cacheDirectory() });
    await ensureTools(toolsFor(specs));
  } catch (error) {
    asFault(error);
  }
  phaseDone("tools");
  const known = await knownContexts(knownFiles, options.implementations);
  // A version that cannot be asked is said so in the report; the implementation's targets then say why they did not start.
  const versionOf = (spec: (typeof options.implementations)[number]) => implementationVersion(spec).catch((error: Error) => `unknown (${error.message.split("\n")[0]})`);
  const implementations = await Promise.all(options.implementations.map(async (spec) => ({ label: implementationLabel(spec), name: spec.name, version: await versionOf(spec) })));
  const baseline = options.baseline ? { spec: options.baseline, identity: { implementation: implementationLabel(options.baseline), version: await versionOf(options.baseline) } } : undefined;
  if (baseline) process.stderr.write(`vforkcheck gate: baseline ${baseline.identity.implementation} (${baseline.identity.version}): a failure it fails the same way is 'baseline', not 'fail'\n`);
  for (const context of known.values()) process.stderr.write(`${describeKnownContext(context)}\n`);
  const shardNote = options.shard ? ` (shard ${options.shard.index}/${options.shard.count} of ${plan.length})` : "";
  // tierCost is per target at 50 runs of every property; part of it (a VM's boot, a build) does not grow with the runs.
  const runsScale = (0.25 + (0.75 * options.runs) / 50) * (properties.length / all.length);
  const progress = new RunProgress(specs.map((spec) => ({ name: targetName(spec), tier: spec.tier, alone: spec.inProcess })), (tier) => tierCost[tier]! * runsScale, 2);
  // Said before the run, so that a run of many --runs is not a surprise: the estimate is the one the progress lines correct as targets finish.
  process.stderr.write(`vforkcheck gate: seed ${options.seed}, ${options.runs} runs, ${specs.length} targets${shardNote}, ${properties.length} properties; ${progress.estimate(Date.now())}\n`);
  for (const entry of replaced.filter((entry) => specs.some((spec) => targetName(spec) === entry.target))) process.stderr.write(`vforkcheck gate: ${entry.target} runs in place of ${entry.inPlaceOf}: ${entry.reason}\n`);
  reportRun = { ...reportRun, implementations, ...(baseline ? { baseline: { label: baseline.identity.implementation, name: baseline.spec.name, version: baseline.identity.version } } : {}) };
  const buildFaults: BrokenError[] = [];
  const buildFailed = (arch: string, error: Error) => {
    const fault = machineFault(error, cacheDirectory());
    if (fault) buildFaults.push(fault);
    else process.stderr.write(`build ${arch} failed: ${error.message}\n`);
  };
  if (!unprepared) await buildAll([...new Set(specs.map((s) => s.architecture.name))], (p) => p.state === "failed" && buildFailed(p.arch, p.error)).catch((error) => asFault(buildFaults[0] ?? error));
  phaseDone("builds");
  let malformed: { target: string; error: ProtocolError } | undefined;
  const notStarted: string[] = [];
  const runTarget = async (spec: TargetSpec) => {
    const targetStarted = Date.now();
    const name = targetName(spec);
    const label = progress.start(name, targetStarted);
    const run = await runPropertiesOnTarget(spec, properties, {
      label,
      onAdvance: (done) => progress.advance(name, done, Date.now()),
      runs: options.runs,
      seed: options.seed,
      replayPath: options.replayPath,
      replayPrefix: replayPrefix(options.defines, options.caseDeadlineMs, spec.implementation, options.knownFile, options.baseline),
      known: known.get(spec.impl),
      baseline,
      onMalformed: "stop",
      broken: unprepared,
      // A target's own lines ("[amd64/host target 3/19] ...") carry the run's estimate; a failure's details do not.
      progress: (line) => process.stderr.write(`${line}${line.startsWith("[") ? `; ${progress.estimate(Date.now())}` : ""}\n`),
      onStarted: (summaryNow) => runningSummaries.set(name, summaryNow),
      onCasesSoFar: (property, soFar) => running.set(name, inProgressRecord(name, property, options.runs, soFar)),
      onResult: (result) => {
        running.delete(name);
        results.push(result);
      },
    });
    running.delete(name);
    runningSummaries.delete(name);
    progress.advance(name, 1, Date.now());
    if (run.malformed) malformed ??= { target: targetName(spec), error: run.malformed };
    if (run.notStarted) notStarted.push(run.notStarted);
    if (run.summary) summaries.push({ ...run.summary, wall_s: secondsBetween(targetStarted, Date.now()) });
  };
  // Two targets at a time, the slowest tiers first so that short targets
  // fill the end (a VM started last would leave one core idle while it
  // runs); the user-tier probes meanwhile. The in-process target runs
  // alone, last: its strace follows every child this Node process starts
  // (another target's strace could then not trace its driver), and its
  // descriptor count would see the other targets' pipes come and go.
  const userProbes = unprepared ? Promise.resolve([]) : userTierSummaries(specs, plan);
  userProbes.catch(() => {});
  await settleWithLimit(slowestTiersFirst(specs.filter((spec) => !spec.inProcess)), 2, runTarget);
  phaseDone("targets");
  summaries.push(...(await userProbes));
  phaseDone("user_probes");
  for (const spec of specs.filter((spec) => spec.inProcess)) await runTarget(spec);
  phaseDone("in_process");
  writePartialReport.cancel();
  // In the planned order, whichever finished first.
  const planned = (target: string) => {
    const index = specs.findIndex((spec) => targetName(spec) === target);
    return index < 0 ? specs.length : index; // a user-tier probe's summary, after the targets
  };
  results.sort((a, b) => planned(a.target) - planned(b.target));
  summaries.sort((a, b) => planned(a.target) - planned(b.target));
  const rows = knownFindingRows(results);
  const statuses = [...results.map((r) => r.status), ...rows.map((r) => r.status)];
  const exitCode = malformed ? 2 : knownAwareExitCode(statuses, options.strictKnown);
  writeReport(options.report, { ...reportRun, exitCode }, results, summaries, phases, false, malformed ? [{ target: malformed.target, message: malformed.error.message }] : []);
  writeCiReportFiles(options, { seed: options.seed, results, strictKnown: options.strictKnown, replaced });
  print(`${formatResultTable(results, properties.map((p) => p.name), replaced)}\n`);
  if (rows.length) print(`\n${formatKnownFindingTable(rows)}\n`);
  for (const line of [...skipLines(results), ...brokenLines(results)]) print(`${line}\n`);
  const last = (why?: string) => print(`${finalLine({ statuses: results.map((r) => r.status), exitCode, seconds: phases.wall_s!, report: options.report, why })}\n`);
  if (malformed) {
    process.stderr.write(`vforkcheck: ${malformed.target}: malformed answer from the implementation: ${malformed.error.message}\n`);
    last(`a malformed answer stopped ${malformed.target}`);
    return { seed: options.seed, results, summaries, malformed: malformed.error, exitCode };
  }
  // A target that did not start: one line for it, not one per property.
  for (const why of notStarted) process.stderr.write(`vforkcheck: ${why}\n`);
  for (const line of outcomeLines(results, options.strictKnown)) print(`${line}\n`);
  last(exitCode !== 0 && options.strictKnown && rows.some((row) => row.status === "fixed") ? "a known finding no longer reproduces (--strict-known)" : undefined);
  return { seed: options.seed, results, summaries, exitCode };
}
