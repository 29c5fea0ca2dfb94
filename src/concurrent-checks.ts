/**
 * concurrent-spawns' comparisons. Each spawn of a concurrent case, in each
 * of its rounds, is judged as the single-spawn case it is (its own path and
 * descriptors, the rest in common; src/oracle.ts computes its outcome from
 * that alone) against the outcome its own caller got (the result's
 * thread_outcomes, round by round, in the case's order). Each plain fork is
 * judged as the exec target run from the parent as it is, with the report
 * descriptor alone. What the case left as a whole (zombies, descriptors,
 * canaries) is judged once.
 */
import { checkChildReaped, checkFinished, checkLeftovers, checkOutcome, checkSpawnReaped, finished, type Run, type TargetView } from "./checks.ts";
import type { CaseResult, SpawnOutcome } from "./protocol.ts";
import { errnoText } from "./errno.ts";
import { concurrentSubCases, plainForkCase, type SpawnCase } from "./spawn-case.ts";

/** The run as one spawn's caller saw it: the case's result with that spawn's outcome. */
export function spawnRun(run: Run & { result: CaseResult }, outcome: SpawnOutcome): Run {
  // The report and status fields are the first spawn's: none of them carries over to another's.
  const result: CaseResult = { ...run.result, report: undefined, reportError: undefined, status: undefined, ...outcome };
  return { ...run, result };
}

/** Problems of one outcome judged as subCase, each prefixed with label; a plain fork's parent runs on (no suspension to check). */
function checkOne(subCase: SpawnCase, run: Run & { result: CaseResult }, outcome: SpawnOutcome, target: TargetView, label: string, reaped = checkSpawnReaped): string[] {
  const own = spawnRun(run, outcome);
  return [...checkOutcome(subCase, own, target), ...reaped(own, target)].map((problem) => `${label}: ${problem}`);
}

export function checkConcurrentSpawns(spawnCase: SpawnCase, run: Run, target: TargetView): string[] {
  if (!finished(run)) return checkFinished(run);
  const subCases = concurrentSubCases(spawnCase);
  const rounds = spawnCase.rounds ?? 1;
  const expectedOutcomes = subCases.length * rounds;
  const outcomes = run.result.threadOutcomes;
  const spawnsText = rounds > 1 ? `${subCases.length} concurrent spawns in ${rounds} rounds` : `${subCases.length} concurrent spawns`;
  if (!outcomes) return [`the driver answered a case of ${spawnsText} without thread_outcomes`];
  if (outcomes.length !== expectedOutcomes) return [`${outcomes.length} outcomes in thread_outcomes for ${spawnsText}`];
  const forks = spawnCase.plainForks ?? 0;
  const forkOutcomes = run.result.forkOutcomes ?? [];
  if (forkOutcomes.length !== forks) return [`${forkOutcomes.length} outcomes in fork_outcomes for ${forks} plain forks on another thread`];
  const problems = checkLeftovers(run.result);
  outcomes.forEach((outcome, index) => {
    const subCase = subCases[index % subCases.length]!;
    const round = rounds > 1 ? `, round ${Math.floor(index / subCases.length) + 1} of ${rounds}` : "";
    problems.push(...checkOne(subCase, run, outcome, target, `spawn ${(index % subCases.length) + 1} of ${subCases.length}${round} (${subCase.path}, fds [${subCase.descriptors.join(",")}])`));
  });
  const forkCase = plainForkCase(spawnCase);
  forkOutcomes.forEach((outcome, index) => problems.push(...checkOne(forkCase, run, outcome, target, `plain fork ${index + 1} of ${forks} on another thread (exec-target, fds [])`, checkChildReaped)));
  // Two callers with one pid: at least one of them holds another spawn's outcome.
  const callers = new Map<number, string[]>();
  const note = (outcome: SpawnOutcome, who: string) => outcome.outcome === "spawned" && callers.set(outcome.pid, [...(callers.get(outcome.pid) ?? []), who]);
  outcomes.forEach((outcome, index) => note(outcome, `${(index % subCases.length) + 1}${rounds > 1 ? ` (round ${Math.floor(index / subCases.length) + 1})` : ""}`));
  forkOutcomes.forEach((outcome, index) => note(outcome, `plain fork ${index + 1}`));
  for (const [pid, spawns] of callers) if (spawns.length > 1) problems.push(`spawns ${spawns.join(", ")} all got pid ${pid}: a caller got another spawn's child`);
  const first = outcomes[0]!;
  if (first.outcome !== run.result.outcome || first.pid !== run.result.pid || first.errno !== run.result.errno)
    problems.push(`the result's own fields (${outcomeText(run.result, target)}) are not the first spawn's outcome (${outcomeText(first, target)})`);
  return problems;
}

/** An outcome in a message: the pid it spawned, or the errno it failed with by name ("error EPIPE (32)"). */
function outcomeText(outcome: Pick<SpawnOutcome, "outcome" | "pid" | "errno">, target: TargetView): string {
  return outcome.outcome === "error" ? `error ${errnoText(target.errnoName(outcome.errno), outcome.errno)}` : `${outcome.outcome} pid ${outcome.pid}`;
}
