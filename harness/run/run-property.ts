/**
 * Runs one property on one target with fast-check: seed-and-replay, shrink
 * to a minimal counterexample, and a one-line replay command.
 */
import fc from "fast-check";
import { HangBudget, secondsBetween, shrinkDeadlineMs } from "../../src/case-deadline.ts";
import { checkFinished } from "../../src/checks.ts";
import { expected } from "../../src/checks.ts";
import type { Expected } from "../../src/oracle.ts";
import { judgeableArbitrary, type PropertyDefinition } from "../../src/property.ts";
import { someChildErrnoUnobservable } from "../../src/errno-channel.ts";
import { ProtocolError } from "../../src/protocol.ts";
import { describeCase, type SpawnCase } from "../../src/spawn-case.ts";
import { explainingFinding, findingCandidates, FindingTally, propertyStatus, reproducerStatus, type CaseEvidence, type FindingMatch, type FindingOutcome, type KnownFinding } from "../../src/known-findings.ts";
import { baselineNote, BaselineTally, sameProblems, type BaselineOutcome } from "../../src/baseline.ts";
import type { BaselineReplay } from "./baseline-target.ts";
import type { KnownContext } from "../implementations/known-findings.ts";
import type { CaseRun, Target } from "../targets/target.ts";

/**
 * known: only failures a known finding explains; fixed: a known finding's reproducer passes now; baseline: failures the
 * baseline (--baseline) fails the same way, and nothing else failed (src/known-findings.ts propertyStatus, src/baseline.ts).
 */
export type Status = "pass" | "fail" | "broken" | "skip" | "known" | "fixed" | "baseline";

export interface PropertyResult {
  arch: string;
  tier: string;
  impl: string;
  target: string;
  property: string;
  status: Status;
  runs: number;
  reason: string;
  /** A failure's problems as a list, as the check reported them for its counterexample (the reason joins them with "; "). */
  problems?: string[];
  counterexample: string | null;
  replay: string | null;
  seed: number;
  /** Each known finding that applies here: known, fixed or fail, with its count and example. */
  known?: FindingOutcome[];
  /** With --baseline, when the baseline was asked about a failure: how many it shared, an example, or why it could not be run. */
  baseline?: BaselineOutcome;
  /** A failure's seconds from the property's start to its first failing case, and to its confirmed shrunk counterexample. */
  first_failure_s?: number;
  shrunk_s?: number;
  /** A failure's first failing case, before the shrink: a bug with several symptoms may shrink to another one. */
  first_failure?: { problems: readonly string[]; counterexample: string };
  /** The shortest deadline a shrink step ran with (src/case-deadline.ts); the counterexample was confirmed with the full one. */
  shrink_deadline_s?: number;
  /** Seconds of the property's whole run on its target, shrinking and reproducers included (set by run-target.ts). */
  duration_s?: number;
  /** The shrunk case itself (not enumerable: kept out of JSON reports, whose counterexample is the short description). */
  failingCase?: SpawnCase;
}

/** A property's cases while it runs: how many ran (shrink steps included), how many of them failed, and the first that did. */
export interface CasesSoFar {
  cases: number;
  failing: number;
  firstFailure?: { problems: readonly string[]; counterexample: string };
}

export interface RunOptions {
  runs: number;
  seed: number;
  /** fast-check's replay path, from a replay command. */
  path?: string;
  /** The command line prefix a replay starts with. */
  replayPrefix: string;
  onCase?: () => void;
  /** After each case of the search and the shrink has run and been judged: the cases so far (a stopped run's report keeps them). */
  onCaseDone?: (soFar: CasesSoFar) => void;
  /** The implementation's known findings, when it has any. */
  known?: KnownContext;
  /** --baseline: the same target served by the baseline, asked about each failure no known finding explains. */
  baseline?: BaselineReplay;
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

/** A failing case, thrown to fast-check with its problems as a list. */
class CaseFailure extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
  }
}

/** What a failed fast-check run's property threw, as its problems (anything but a CaseFailure is one problem: its message). */
function failureProblems(details: { errorInstance: unknown }): readonly string[] {
  const error = details.errorInstance;
  if (error instanceof CaseFailure) return error.problems;
  return [error instanceof Error ? error.message : String(error)];
}

/** The notes of a case's expected outcome that a reason carries: what the oracle accepted for it (not the case's sizes). */
function caseNotes(spawnCase: SpawnCase, target: Target): string[] {
  return expected(spawnCase, target).notes.filter((note) => !note.includes("bytes"));
}

export async function runProperty(target: Target, property: PropertyDefinition, options: RunOptions): Promise<PropertyResult> {
  const base = { arch: target.spec.architecture.name, tier: target.spec.tier, impl: target.spec.impl, target: target.name, property: property.name, seed: options.seed };
  const skipped = property.skip?.(target);
  if (skipped !== undefined) return { ...base, status: "skip", runs: 0, reason: skipped, counterexample: null, replay: null };
  let protocolError: ProtocolError | undefined;
  const tally = new FindingTally();
  const started = Date.now();
  const fullDeadlineMs = target.caseDeadlineMs;
  const runAndCheck = async (spawnCase: SpawnCase, deadlineMs = fullDeadlineMs): Promise<CaseEvidence> => {
    // After a malformed answer the target is stopped, and the property ends with it: no shrink step runs another case.
    if (protocolError) throw protocolError;
    const want = expected(spawnCase, target);
    let run;
    try {
      run = await target.runCase(spawnCase, deadlineMs);
    } catch (error) {
      if (error instanceof ProtocolError) protocolError = error;
      throw error;
    }
    const problems = run.failure ? checkFinished(run) : property.check(spawnCase, run, target);
    if (!problems.length && run.elapsedMs !== undefined) target.caseTimes.recordPassing(run.elapsedMs);
    return evidenceOf(spawnCase, run, problems, target, want);
  };
  // A race's reproducer (attempts) runs until it fails: one case that happens to pass shows nothing.
  const reproduce = async (finding: KnownFinding) => {
    let evidence = await runAndCheck(finding.reproducer);
    for (let attempt = 1; attempt < (finding.attempts ?? 1) && !evidence.problems.length; attempt++) evidence = await runAndCheck(finding.reproducer);
    return evidence;
  };
  // The findings that apply: those whose version glob names this version, and those that do not but whose reproducer,
  // run now, still fails the way they describe (a `devel` build of a runtime carries its release's known bugs).
  const known = options.known;
  const candidates = known ? findingCandidates(known.findings, { implementation: known.implementation, version: known.version, target: `${base.arch}/${base.tier}`, property: property.name }) : [];
  const findings: { finding: KnownFinding; matched: FindingMatch; reproduced?: CaseEvidence }[] = [];
  for (const candidate of candidates) {
    if (candidate.matched === "version") findings.push(candidate);
    else {
      const reproduced = await reproduce(candidate.finding);
      if (reproducerStatus(candidate.finding, reproduced) === "known") findings.push({ ...candidate, reproduced });
    }
  }
  if (protocolError) throw protocolError;
  const applying = findings.map((entry) => entry.finding);
  // A failure the baseline fails the same way is upstream's: it passes here, and the search goes on for the change's own.
  const baseline = options.baseline;
  const baselineTally = new BaselineTally();
  let baselineUnavailable: string | undefined;
  const sharedWithBaseline = async (evidence: CaseEvidence, deadlineMs: number): Promise<boolean> => {
    if (!baseline || baselineUnavailable !== undefined) return false;
    const verdict = await baseline.verdict(property, evidence.spawnCase, deadlineMs);
    if ("unavailable" in verdict) {
      baselineUnavailable = verdict.unavailable;
      return false;
    }
    if (!sameProblems(evidence.problems, verdict.problems)) return false;
    baselineTally.record(evidence.spawnCase, evidence.problems);
    return true;
  };
  /** Whether a failing case is explained (a known finding's, or the baseline's too), counting it where it is. */
  const explained = async (evidence: CaseEvidence, deadlineMs: number): Promise<boolean> => {
    const finding = explainingFinding(applying, evidence);
    if (finding) {
      tally.record(finding, evidence.spawnCase);
      return true;
    }
    return sharedWithBaseline(evidence, deadlineMs);
  };
  const failsUnexplained = async (evidence: CaseEvidence) => evidence.problems.length > 0 && !(await explained(evidence, fullDeadlineMs));
  // The first case that failed (with the full deadline) and when; from then on fast-check shrinks, with the shrink deadline.
  let firstFailure: { atMs: number; spawnCase: SpawnCase; problems: readonly string[] } | undefined;
  // Whether the shrink steps get the shrink deadline; and the shortest one they got (or, before any step, the first failure's).
  let shrinking = false;
  let shrinkDeadline: number | undefined;
  let shortDeadlineAllowed = true;
  // Worked out again for every shrink step, not fixed at the first failure: the shrink's own passing cases count too, so
  // a machine that got loaded since (beside four busy loops: 2-22 ms cases before it, up to 1.7 s during it) lengthens
  // the deadline before it cuts such a case short. Fixed at 1 s, it cut them as hangs, shrank to a case the full deadline
  // refuted, and fell back to a shrink with the full deadline for every hanging step (180 cases and 142 s where an idle
  // machine takes 35 and 30). It can shorten too: a first failure before any passing case gives the full deadline, the
  // shrink's first passing case a short one; so the shortest is kept, and decides whether the counterexample is confirmed.
  const stepDeadline = () => {
    if (!shrinking) return fullDeadlineMs;
    const deadline = shrinkDeadlineMs(target.caseTimes.slowestRecentMs, fullDeadlineMs);
    shrinkDeadline = Math.min(shrinkDeadline ?? deadline, deadline);
    return deadline;
  };
  const soFar: CasesSoFar = { cases: 0, failing: 0 };
  // Shrink steps that get no answer cost up to their deadline each: past their budget the shrink runs no more of them.
  const hangBudget = new HangBudget();
  // Whether the last failing case got an answer: fast-check's counterexample is the last case that failed.
  let lastFailureAnswered = true;
  const check = async (spawnCase: SpawnCase) => {
    if (firstFailure && hangBudget.spent) {
      hangBudget.skipped++;
      return;
    }
    options.onCase?.();
    const deadlineMs = stepDeadline();
    const stepStarted = Date.now();
    const evidence = await runAndCheck(spawnCase, deadlineMs);
    if (firstFailure) hangBudget.record(Date.now() - stepStarted, evidence.outcome !== undefined);
    // A case a known finding or the baseline explains in full passes (so the shrink, too, ends at a case neither explains).
    const fails = evidence.problems.length > 0 && !(await explained(evidence, deadlineMs));
    soFar.cases++;
    if (fails) {
      soFar.failing++;
      soFar.firstFailure ??= { problems: evidence.problems, counterexample: describeCase(spawnCase) };
    }
    options.onCaseDone?.({ ...soFar });
    if (!fails) return;
    lastFailureAnswered = evidence.outcome !== undefined;
    if (!firstFailure) {
      firstFailure = { atMs: Date.now(), spawnCase, problems: evidence.problems };
      if (shortDeadlineAllowed) {
        shrinking = true;
        shrinkDeadline = shrinkDeadlineMs(target.caseTimes.slowestRecentMs, fullDeadlineMs);
      }
    }
    throw new CaseFailure(evidence.problems);
  };
  // Cases whose verdict this target cannot carry are not drawn; the reason says how many and why.
  let leftOut = 0;
  const arbitrary = judgeableArbitrary(property, target, () => leftOut++);
  const search = (path: string | undefined) =>
    fc.check(fc.asyncProperty(arbitrary, check), { numRuns: options.runs, seed: options.seed, path, endOnFailure: protocolError !== undefined });
  const details = await search(options.path);
  if (protocolError) throw protocolError;
  const firstFailurePath = options.path ?? (details.failed ? details.counterexamplePath!.split(":")[0]! : undefined);
  const usedShrinkDeadline = shrinkDeadline;
  const shrunkAnswered = lastFailureAnswered;
  // The shrunk counterexample is what the report stands on: unless it is the first failure itself, or every shrink step
  // had the full deadline, it runs once more with the full deadline. A case the short deadline cut but the full one lets
  // finish (slow, not hung: a loaded machine stalls a case now and then) is no counterexample. Then the shrink goes on
  // with the full deadline from the last step before it: replaying a path prefix runs that step's case and, if it
  // passes, the candidates fast-check had not tried after it. Walking back, the first failure itself comes last.
  let counterexample = details.counterexample?.[0];
  let counterexamplePath = details.counterexamplePath;
  let why = failureProblems(details);
  let fallback = "";
  if (counterexample && firstFailure && usedShrinkDeadline !== undefined && usedShrinkDeadline < fullDeadlineMs && counterexamplePath !== firstFailurePath) {
    const confirmation = await runAndCheck(counterexample);
    if (protocolError) throw protocolError;
    if (await failsUnexplained(confirmation)) why = confirmation.problems;
    else {
      const shortSeconds = usedShrinkDeadline / 1000;
      const first = firstFailure;
      shrinking = false;
      shrinkDeadline = undefined;
      shortDeadlineAllowed = false;
      firstFailure = undefined;
      const steps = counterexamplePath!.split(":");
      let again: Awaited<ReturnType<typeof search>> | undefined;
      let back = 0;
      while (steps.length > 1 && !again?.failed) {
        steps.pop();
        back++;
        again = await search(steps.join(":"));
        if (protocolError) throw protocolError;
      }
      if (again?.failed && again.counterexample) {
        counterexample = again.counterexample[0];
        counterexamplePath = again.counterexamplePath;
        why = failureProblems(again);
        // Cut short by the deadline, it was slow; answered and failing, it was a failure that does not happen every time.
        const cause = shrunkAnswered ? "it failed once, not twice" : "slow, not hung";
        fallback = `the shrink with the ${shortSeconds} s shrink deadline ended at a case that does not fail with the full ${fullDeadlineMs / 1000} s deadline (${cause}): shrunk again with the full deadline from ${back} step${back === 1 ? "" : "s"} before it`;
      } else {
        counterexample = first.spawnCase;
        counterexamplePath = firstFailurePath ?? null;
        why = first.problems;
        fallback = `the shrink with the ${shortSeconds} s shrink deadline ended at a case that does not fail with the full ${fullDeadlineMs / 1000} s deadline, and the first failing case (with the full deadline) did not fail again either: it is the counterexample, unshrunk (a flaky failure?)`;
      }
      firstFailure = first;
    }
  }
  const shrunkAtMs = Date.now();
  // Each finding's reproducer, once: whether it still happens does not rest on what the random cases drew. One matched
  // by its reproducer ran it before the search already.
  const outcomes: FindingOutcome[] = [];
  const reproducers: CaseEvidence[] = [];
  for (const { finding, matched, reproduced } of findings) {
    const evidence = reproduced ?? (await reproduce(finding));
    reproducers.push(evidence);
    outcomes.push(tally.outcome(finding, evidence, matched));
  }
  if (protocolError) throw protocolError;
  const knownFields = findings.length ? { known: outcomes } : {};
  const baselineFields = baseline && (baselineTally.cases > 0 || baselineUnavailable !== undefined) ? { baseline: baselineTally.outcome(baseline.identity, baselineUnavailable) } : {};
  // A reason describes the case it is printed with: its own notes, and the run's (cases this target could not judge).
  const unobservable = someChildErrnoUnobservable(target.oracle.hello, target.capabilities);
  const runNotes = unobservable && leftOut ? [`${leftOut} drawn case(s) not run: ${unobservable}`] : [];
  const notesOf = (spawnCase: SpawnCase | undefined) => [...new Set([...(spawnCase ? caseNotes(spawnCase, target) : []), ...runNotes])].join("; ");
  const status = propertyStatus(details.failed, outcomes.map((outcome) => outcome.status), baselineTally.cases > 0);
  const targetOptions = `--arch ${target.spec.architecture.name} --tier ${target.spec.tier}${target.spec.inProcess ? " --in-process" : " --no-in-process"} --property ${property.name} --seed ${options.seed}`;
  // Said beside a failure when the baseline was asked about it and could not answer: the failure stays one.
  const baselineNotRun = baseline && baselineUnavailable !== undefined ? `the baseline ${baseline.identity.implementation} could not be run, so this failure was not compared with it: ${baselineUnavailable}` : "";
  if (status !== "fail") {
    const summary = [
      ...(baselineFields.baseline ? [baselineNote(baselineFields.baseline)] : []),
      ...outcomes.map((outcome) => `${outcome.finding}: ${outcome.status}${outcome.matched === "reproducer" ? " (matched by its reproducer)" : ""} (${outcome.cases} cases; reproducer ${outcome.reproducer})`),
    ].join("; ");
    return { ...base, status, runs: details.numRuns, reason: [summary, notesOf(undefined)].filter(Boolean).join("; "), counterexample: null, replay: null, ...knownFields, ...baselineFields };
  }
  if (!details.failed) {
    // Only a reproducer failed, in a way its finding does not explain.
    const index = outcomes.findIndex((outcome) => outcome.status === "fail");
    const reproducer = findings[index]!.finding.reproducer;
    const reason = notesOf(reproducer);
    const failed: PropertyResult = {
      ...base,
      status,
      runs: details.numRuns,
      reason: `the reproducer of known finding ${outcomes[index]!.finding} fails in a way it does not explain: ${reproducers[index]!.problems.join("; ")}${reason ? ` (${reason})` : ""}`,
      problems: [...reproducers[index]!.problems],
      counterexample: describeCase(reproducer),
      replay: `${options.replayPrefix} ${targetOptions} --runs ${options.runs}`,
      // No search failed and nothing shrank: both times are when the reproducers were done.
      first_failure_s: secondsBetween(started, shrunkAtMs),
      shrunk_s: secondsBetween(started, Date.now()),
      ...knownFields,
      ...baselineFields,
    };
    Object.defineProperty(failed, "failingCase", { value: reproducer, enumerable: false });
    return failed;
  }
  const timings = firstFailure
    ? {
        first_failure_s: secondsBetween(started, firstFailure.atMs),
        shrunk_s: secondsBetween(started, shrunkAtMs),
        ...(usedShrinkDeadline !== undefined ? { shrink_deadline_s: usedShrinkDeadline / 1000 } : {}),
        first_failure: { problems: [...firstFailure.problems], counterexample: describeCase(firstFailure.spawnCase) },
      }
    : {};
  const reason = notesOf(counterexample);
  const failed: PropertyResult = {
    ...base,
    status: "fail",
    runs: details.numRuns,
    reason: [`${why.join("; ")}${reason ? ` (${reason})` : ""}`, fallback, hangBudget.note(), baselineNotRun].filter(Boolean).join("; "),
    problems: [...why],
    counterexample: counterexample ? describeCase(counterexample) : null,
    replay: `${options.replayPrefix} ${targetOptions} --replay-path ${counterexample ? counterexamplePath : ""} --runs ${options.runs}`,
    ...timings,
    ...knownFields,
    ...baselineFields,
  };
  if (counterexample) Object.defineProperty(failed, "failingCase", { value: counterexample, enumerable: false });
  return failed;
}
