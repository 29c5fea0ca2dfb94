/**
 * concurrent-spawns' comparisons. Each spawn of a concurrent case is judged
 * as the single-spawn case it is (its own path and descriptors, the rest in
 * common; src/oracle.ts computes its outcome from that alone) against the
 * outcome its own caller got (the result's thread_outcomes, in the case's
 * order). What the case left as a whole (zombies, descriptors, canaries) is
 * judged once.
 */
import { checkFinished, checkLeftovers, checkOutcome, checkSpawnReaped, finished, type Run, type TargetView } from "./checks.ts";
import type { CaseResult, SpawnOutcome } from "./protocol.ts";
import { concurrentSubCases, type SpawnCase } from "./spawn-case.ts";

/** The run as one spawn's caller saw it: the case's result with that spawn's outcome. */
export function spawnRun(run: Run & { result: CaseResult }, outcome: SpawnOutcome): Run {
  // The report and status fields are the first spawn's: none of them carries over to another's.
  const result: CaseResult = { ...run.result, report: undefined, reportError: undefined, status: undefined, ...outcome };
  return { ...run, result };
}

export function checkConcurrentSpawns(spawnCase: SpawnCase, run: Run, target: TargetView): string[] {
  if (!finished(run)) return checkFinished(run);
  const subCases = concurrentSubCases(spawnCase);
  const outcomes = run.result.threadOutcomes;
  if (!outcomes) return [`the driver answered a case of ${subCases.length} concurrent spawns without thread_outcomes`];
  if (outcomes.length !== subCases.length) return [`${outcomes.length} outcomes in thread_outcomes for ${subCases.length} concurrent spawns`];
  const problems = checkLeftovers(run.result);
  subCases.forEach((subCase, index) => {
    const label = `spawn ${index + 1} of ${subCases.length} (${subCase.path}, fds [${subCase.descriptors.join(",")}])`;
    const own = spawnRun(run, outcomes[index]!);
    for (const problem of [...checkOutcome(subCase, own, target), ...checkSpawnReaped(own, target)]) problems.push(`${label}: ${problem}`);
  });
  // Two callers with one pid: at least one of them holds another spawn's outcome.
  const callers = new Map<number, number[]>();
  outcomes.forEach((outcome, index) => outcome.outcome === "spawned" && callers.set(outcome.pid, [...(callers.get(outcome.pid) ?? []), index + 1]));
  for (const [pid, spawns] of callers) if (spawns.length > 1) problems.push(`spawns ${spawns.join(", ")} all got pid ${pid}: a caller got another spawn's child`);
  const first = outcomes[0]!;
  if (first.outcome !== run.result.outcome || first.pid !== run.result.pid || first.errno !== run.result.errno)
    problems.push(`the result's own fields (${run.result.outcome} ${run.result.pid || run.result.errno}) are not the first spawn's outcome (${first.outcome} ${first.pid || first.errno})`);
  return problems;
}
