/**
 * Regression semantics (`--baseline IMPL`): a case that fails on the
 * implementation under test, and that no known finding explains, is run on
 * the baseline (an upstream release or tree) with the same property check.
 * When the baseline fails it the same way, the failure is upstream's, not
 * the change's: the case is `baseline`-shared, counted, and the search goes
 * on (as for a known finding) so that a bug of the change's own in the same
 * property is still found. Pure: the comparison and the tally; running the
 * baseline is the harness's.
 */
import { describeCase, type SpawnCase } from "./spawn-case.ts";

/**
 * "The same way": the two runs' problems, sorted, are the same texts. Exact,
 * not similar: a problem that names another errno, another descriptor
 * number or another step is another failure, and stays a failure; the
 * stricter comparison can only show a shared failure as the change's, never
 * hide one of the change's as upstream's. No problem on either side is no
 * shared failure.
 */
export function sameProblems(tested: readonly string[], baseline: readonly string[]): boolean {
  if (tested.length === 0 || tested.length !== baseline.length) return false;
  const a = [...tested].sort();
  const b = [...baseline].sort();
  return a.every((problem, index) => problem === b[index]);
}

/** The baseline as a report names it: its label ("go@1.26") and version ("go1.26.10"). */
export interface BaselineIdentity {
  implementation: string;
  version: string;
}

/** What a report keeps of the baseline on one target and property. */
export interface BaselineOutcome extends BaselineIdentity {
  /** Distinct cases (shrink steps included) that failed here and on the baseline with the same problems. */
  cases: number;
  /** The first such case, described, or null. */
  example: string | null;
  /** Its problems, as both runs reported them. */
  problems: string[];
  /** Why the baseline could not be run, when it could not: the failures it was asked about stay failures. */
  unavailable?: string;
}

/** Counts the cases the baseline shares during one property run. */
export class BaselineTally {
  private readonly seen = new Set<string>();
  private first: { example: string; problems: string[] } | undefined;

  record(spawnCase: SpawnCase, problems: readonly string[]): void {
    const description = describeCase(spawnCase);
    this.seen.add(description);
    this.first ??= { example: description, problems: [...problems] };
  }

  get cases(): number {
    return this.seen.size;
  }

  outcome(identity: BaselineIdentity, unavailable?: string): BaselineOutcome {
    return { ...identity, cases: this.seen.size, example: this.first?.example ?? null, problems: this.first?.problems ?? [], ...(unavailable !== undefined ? { unavailable } : {}) };
  }
}

/** One line for a result's baseline outcome, as the terminal, JUnit, TAP and the summary print it. */
export function baselineNote(outcome: BaselineOutcome): string {
  if (outcome.unavailable !== undefined) return `baseline ${outcome.implementation} (${outcome.version}) could not be run: ${outcome.unavailable}`;
  return `baseline ${outcome.implementation} (${outcome.version}) fails the same way: ${outcome.cases} case(s), e.g. ${outcome.example}: ${outcome.problems.join("; ")}`;
}
