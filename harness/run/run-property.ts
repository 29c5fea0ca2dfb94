/**
 * Runs one property on one target with fast-check: seed-and-replay, shrink
 * to a minimal counterexample, and a one-line replay command.
 */
import fc from "fast-check";
import { checkFinished } from "../../src/checks.ts";
import { expected } from "../../src/checks.ts";
import type { Expected } from "../../src/oracle.ts";
import { limitsOf, type PropertyDefinition } from "../../src/property.ts";
import { ProtocolError } from "../../src/protocol.ts";
import { describeCase, type SpawnCase } from "../../src/spawn-case.ts";
import { explainingFinding, findingsFor, FindingTally, propertyStatus, type CaseEvidence, type FindingOutcome } from "../../src/known-findings.ts";
import type { KnownContext } from "../implementations/known-findings.ts";
import type { CaseRun, Target } from "../targets/target.ts";

/** known: only failures a known finding explains; fixed: a known finding's reproducer passes now (src/known-findings.ts). */
export type Status = "pass" | "fail" | "skip" | "known" | "fixed";

export interface PropertyResult {
  arch: string;
  tier: string;
  impl: string;
  target: string;
  property: string;
  status: Status;
  runs: number;
  reason: string;
  counterexample: string | null;
  replay: string | null;
  seed: number;
  /** Each known finding that applies here: known, fixed or fail, with its count and example. */
  known?: FindingOutcome[];
  /** The shrunk case itself (not enumerable: kept out of JSON reports, whose counterexample is the short description). */
  failingCase?: SpawnCase;
}

export interface RunOptions {
  runs: number;
  seed: number;
  /** fast-check's replay path, from a replay command. */
  path?: string;
  /** The command line prefix a replay starts with. */
  replayPrefix: string;
  onCase?: () => void;
  /** The implementation's known findings, when it has any. */
  known?: KnownContext;
}

function evidenceOf(spawnCase: SpawnCase, run: CaseRun, problems: string[], target: Target, want: Expected): CaseEvidence {
  const result = run.result;
  return {
    spawnCase,
    problems,
    outcome: result?.outcome,
    errno: result?.outcome === "error" ? target.errnoName(result.errno) : undefined,
    expectedStep: want.kind === "error" ? want.step : undefined,
  };
}

export async function runProperty(target: Target, property: PropertyDefinition, options: RunOptions): Promise<PropertyResult> {
  const base = { arch: target.spec.architecture.name, tier: target.spec.tier, impl: target.spec.impl, target: target.name, property: property.name, seed: options.seed };
  const skipped = property.skip?.(target);
  if (skipped !== undefined) return { ...base, status: "skip", runs: 0, reason: skipped, counterexample: null, replay: null };
  const notes = new Set<string>();
  let protocolError: ProtocolError | undefined;
  const known = options.known;
  const findings = known ? findingsFor(known.findings, { implementation: known.implementation, version: known.version, target: `${base.arch}/${base.tier}`, property: property.name }) : [];
  const tally = new FindingTally();
  const runAndCheck = async (spawnCase: SpawnCase): Promise<CaseEvidence> => {
    const want = expected(spawnCase, target);
    for (const note of want.notes) if (!note.includes("bytes")) notes.add(note);
    let run;
    try {
      run = await target.runCase(spawnCase);
    } catch (error) {
      if (error instanceof ProtocolError) protocolError = error;
      throw error;
    }
    return evidenceOf(spawnCase, run, run.failure ? checkFinished(run) : property.check(spawnCase, run, target), target, want);
  };
  const check = async (spawnCase: SpawnCase) => {
    options.onCase?.();
    const evidence = await runAndCheck(spawnCase);
    if (!evidence.problems.length) return;
    // A case a known finding explains in full passes, so the search goes on for what no finding explains.
    const finding = explainingFinding(findings, evidence);
    if (finding) tally.record(finding, spawnCase);
    else throw new Error(evidence.problems.join("; "));
  };
  const details = await fc.check(fc.asyncProperty(property.arbitrary(limitsOf(target)), check), {
    numRuns: options.runs,
    seed: options.seed,
    path: options.path,
    endOnFailure: protocolError !== undefined,
  });
  if (protocolError) throw protocolError;
  // Each finding's reproducer, once: whether it still happens does not rest on what the random cases drew.
  const outcomes: FindingOutcome[] = [];
  const reproducers: CaseEvidence[] = [];
  for (const finding of findings) {
    const evidence = await runAndCheck(finding.reproducer);
    reproducers.push(evidence);
    outcomes.push(tally.outcome(finding, evidence));
  }
  if (protocolError) throw protocolError;
  const knownFields = findings.length ? { known: outcomes } : {};
  const reason = [...notes].join("; ");
  const status = propertyStatus(details.failed, outcomes.map((outcome) => outcome.status));
  const targetOptions = `--arch ${target.spec.architecture.name} --tier ${target.spec.tier}${target.spec.inProcess ? " --in-process" : " --no-in-process"} --property ${property.name} --seed ${options.seed}`;
  if (status !== "fail") {
    const summary = outcomes.map((outcome) => `${outcome.finding}: ${outcome.status} (${outcome.cases} cases; reproducer ${outcome.reproducer})`).join("; ");
    return { ...base, status, runs: details.numRuns, reason: [summary, reason].filter(Boolean).join("; "), counterexample: null, replay: null, ...knownFields };
  }
  if (!details.failed) {
    // Only a reproducer failed, in a way its finding does not explain.
    const index = outcomes.findIndex((outcome) => outcome.status === "fail");
    const failed: PropertyResult = {
      ...base,
      status,
      runs: details.numRuns,
      reason: `the reproducer of known finding ${outcomes[index]!.finding} fails in a way it does not explain: ${reproducers[index]!.problems.join("; ")}${reason ? ` (${reason})` : ""}`,
      counterexample: describeCase(findings[index]!.reproducer),
      replay: `${options.replayPrefix} ${targetOptions} --runs ${options.runs}`,
      ...knownFields,
    };
    Object.defineProperty(failed, "failingCase", { value: findings[index]!.reproducer, enumerable: false });
    return failed;
  }
  const counterexample = details.counterexample ? describeCase(details.counterexample[0]) : null;
  const why = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const failed: PropertyResult = {
    ...base,
    status: "fail",
    runs: details.numRuns,
    reason: `${why}${reason ? ` (${reason})` : ""}`,
    counterexample,
    replay: `${options.replayPrefix} ${targetOptions} --replay-path ${details.counterexample ? details.counterexamplePath : ""} --runs ${options.runs}`,
    ...knownFields,
  };
  if (details.counterexample) Object.defineProperty(failed, "failingCase", { value: details.counterexample[0], enumerable: false });
  return failed;
}
