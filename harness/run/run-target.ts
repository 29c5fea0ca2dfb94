/**
 * Runs a list of properties on one target: starts it, runs each property in
 * turn with live progress, closes it. Shared by `gate` and `mutants`.
 */
import type { PropertyDefinition } from "../../src/property.ts";
import { implementationLabel, implementationOptions } from "../implementations/index.ts";
import { TargetUnavailableError } from "../implementations/adapter.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { ProtocolError } from "../../src/protocol.ts";
import type { KnownContext } from "../implementations/known-findings.ts";
import { runProperty, type CasesSoFar, type PropertyResult } from "./run-property.ts";
import { QemuSystemTarget } from "../targets/system-target.ts";
import { summarizeCapabilities, type TargetSummary } from "./target-summary.ts";
import { provenanceOf } from "../targets/target-provenance.ts";
import { targetName, type TargetSpec } from "../targets/target.ts";
import { startTarget } from "../targets/start-target.ts";
import { secondsBetween } from "../../src/case-deadline.ts";
import { throttle } from "../../src/progress.ts";
import type { BaselineIdentity } from "../../src/baseline.ts";
import { BaselineTarget, baselineSpec } from "./baseline-target.ts";
import { knownNotes } from "../../src/result-table.ts";
import type { BrokenError } from "../../src/broken.ts";
import { machineFault } from "../process/machine-faults.ts";
import { cacheDirectory } from "../toolchain/debian-archive.ts";

export interface TargetRunOptions {
  runs: number;
  seed: number;
  replayPath?: string;
  /** The command a replay starts with, e.g. "npx vforkcheck gate --define MUTANT_X". */
  replayPrefix: string;
  /** "stop": a malformed answer ends this target's run and is returned;
   * "fail": it fails the property that got it and the run goes on. */
  onMalformed: "stop" | "fail";
  progress(line: string): void;
  /** Each property's result as soon as it is known (a stopped run keeps them). */
  onResult?(result: PropertyResult): void;
  /** This target's implementation's known findings, when it has any. */
  known?: KnownContext;
  /** --baseline: each failure no known finding explains is replayed on the same target served by this implementation. */
  baseline?: { spec: ImplementationSpec; identity: BaselineIdentity };
  /** Where the target is in the run ("target 3/19"), shown beside its name in the progress lines. */
  label?: string;
  /** The share of the properties done, after each one (for the run's estimate). */
  onAdvance?(done: number): void;
  /** Once the target started: its summary as it is at any moment (a stopped run's report carries it). */
  onStarted?(summaryNow: () => TargetSummary): void;
  /** The running property's cases so far, after each case (a stopped run's report keeps them). */
  onCasesSoFar?(property: string, soFar: CasesSoFar): void;
  /** A fault found while preparing the run (a read-only cache, a full disk): the target is not started, and every property is `broken` with its line. */
  broken?: BrokenError;
}

/** A "N cases" line at most this often per target: enough to see it move, few enough to read. */
const caseLineIntervalMs = 10_000;

export interface TargetRun {
  results: PropertyResult[];
  malformed?: ProtocolError;
  /** Why the target did not start, in one line naming it ("arm64/user/go: the driver crashed during hello (signal SIGSEGV)"). */
  notStarted?: string;
  /** Absent when the target did not start. */
  summary?: TargetSummary;
}

export async function runPropertiesOnTarget(spec: TargetSpec, properties: readonly PropertyDefinition[], options: TargetRunOptions): Promise<TargetRun> {
  const name = targetName(spec);
  const base = { arch: spec.architecture.name, tier: spec.tier, impl: spec.impl, target: name, seed: options.seed, counterexample: null, replay: null };
  const results: PropertyResult[] = [];
  // Could not test: each property says the fault; the gate says it once (src/verdict-line.ts brokenLines).
  const brokenBy = (fault: BrokenError) => {
    for (const property of properties) {
      results.push({ ...base, property: property.name, status: "broken", runs: 0, reason: fault.message });
      options.onResult?.(results.at(-1)!);
    }
    return { results };
  };
  if (options.broken) return brokenBy(options.broken);
  let target;
  try {
    target = await startTarget(spec);
  } catch (error) {
    // A malformed hello is a malformed answer like any other.
    if (error instanceof ProtocolError && options.onMalformed === "stop") return { results, malformed: error };
    // A fault of the machine, the cache or a download (not of the implementation's driver, which stays a failure).
    const fault = machineFault(error, cacheDirectory());
    if (fault) return brokenBy(fault);
    // A target that cannot exist here (no toolchain for it) is a skip with its reason; one that failed to start, a failure.
    const unavailable = error instanceof TargetUnavailableError;
    const message = (error as Error).message.split("\n")[0]!;
    for (const property of properties) {
      results.push({ ...base, property: property.name, status: unavailable ? "skip" : "fail", runs: 0, reason: unavailable ? message : `target did not start: ${message}` });
      options.onResult?.(results.at(-1)!);
    }
    return { results, ...(unavailable ? {} : { notStarted: `${name}: ${message}` }) };
  }
  const summaryWith = (provenance: Awaited<ReturnType<typeof provenanceOf>>): TargetSummary => ({
    target: name,
    arch: spec.architecture.name,
    tier: spec.tier,
    ...provenance,
    capabilities: summarizeCapabilities(target.capabilities),
    ...(target instanceof QemuSystemTarget ? { machine: target.machineStatistics() } : {}),
  });
  // Asked once (on the system tier it hashes the cached kernel): for the summary at the end, and for one a stop takes meanwhile.
  const provenance = provenanceOf(spec);
  const summarize = async (): Promise<TargetSummary> => summaryWith(await provenance);
  if (options.onStarted) provenance.then((known) => options.onStarted!(() => summaryWith(known)), () => {});
  // Started on the first failure it is asked about, closed with the target.
  const baseline = options.baseline && spec.implementation?.name === options.baseline.spec.name ? new BaselineTarget(baselineSpec(spec, options.baseline.spec), options.baseline.identity) : undefined;
  try {
    const due = throttle(caseLineIntervalMs, Date.now);
    for (const [index, property] of properties.entries()) {
      let cases = 0;
      const started = Date.now();
      const where = `[${name}${options.label ? ` ${options.label}` : ""}] ${property.name} ${index + 1}/${properties.length}`;
      let result: PropertyResult;
      try {
        result = await runProperty(target, property, {
          runs: options.runs,
          seed: options.seed,
          path: options.replayPath,
          replayPrefix: options.replayPrefix,
          known: options.known,
          baseline,
          onCaseDone: (soFar) => options.onCasesSoFar?.(property.name, soFar),
          onCase: () => {
            // fast-check draws at most runs cases; every one past them is a shrink step of a failure.
            if (++cases && due()) options.progress(`${where}: ${cases <= options.runs ? `${cases}/${options.runs} cases` : `shrinking a failure (${cases - options.runs} steps)`}`);
          },
        });
      } catch (error) {
        if (error instanceof ProtocolError && options.onMalformed === "stop") return { results, malformed: error, summary: await summarize() };
        // A fault of the machine makes this property `broken`; anything else fails it with its message. The run and the results so far go on.
        const fault = error instanceof ProtocolError ? undefined : machineFault(error, cacheDirectory());
        const reason = error instanceof ProtocolError ? `malformed answer from the implementation: ${error.message}` : fault ? fault.message : `the harness failed: ${(error as Error).message}`;
        result = { ...base, property: property.name, status: fault ? "broken" : "fail", runs: cases, reason };
      }
      // Where a result's time is measured: the property's whole run on this target, shrinking and reproducers included.
      // Set in place: a copy would drop the failure's non-enumerable failingCase, which the report's reproducer is made from.
      result.duration_s = secondsBetween(started, Date.now());
      results.push(result);
      options.onResult?.(result);
      options.onAdvance?.((index + 1) / properties.length);
      options.progress(`${where}: ${result.status} (${result.runs} runs, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      if (result.status === "fail") options.progress(`  ${result.reason}\n  counterexample: ${result.counterexample}\n  replay: ${result.replay}`);
      for (const note of knownNotes(result)) options.progress(`  ${note}`);
    }
    return { results, summary: await summarize() };
  } finally {
    await Promise.all([target.close(), baseline?.close()]);
  }
}

/**
 * The replay command's prefix for a run with these build defines, deadline, implementation, --known file and baseline
 * (a case the baseline shares passes, so the search takes another path without it).
 */
export function replayPrefix(defines: readonly string[], caseDeadlineMs?: number, implementation?: ImplementationSpec, knownFile?: string, baseline?: ImplementationSpec): string {
  const impl = implementation ? implementationOptions(implementation) : "";
  return `npx vforkcheck gate${impl}${defines.map((d) => ` --define ${d}`).join("")}${caseDeadlineMs ? ` --case-deadline ${caseDeadlineMs / 1000}` : ""}${knownFile !== undefined ? ` --known ${knownFile}` : ""}${baseline ? baselineOptions(baseline) : ""}`;
}

/** The baseline as the command line gives it: --baseline-goroot DIR, --baseline-libc-root DIR or --baseline NAME[@VERSION]. */
export function baselineOptions(baseline: ImplementationSpec): string {
  if (baseline.goroot !== undefined) return ` --baseline-goroot ${baseline.goroot}`;
  if (baseline.libcRoot !== undefined) return ` --baseline-libc-root ${baseline.libcRoot}`;
  return ` --baseline ${implementationLabel(baseline)}`;
}
