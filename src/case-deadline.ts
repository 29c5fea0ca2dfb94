/**
 * Case deadlines while shrinking. The first search runs every case with the
 * target's full deadline, so that only a hang reaches it. Once a case has
 * failed, fast-check replays many similar cases to shrink it, and each one
 * that hangs would cost the full deadline again. So the shrink deadline
 * follows what this target's recent passing cases measured: five times the
 * slowest of the last twenty, at least a second, never more than the full
 * deadline, worked out again for each shrink step. Recent, not the slowest
 * ever: the load now is what a step runs under (a machine loaded meanwhile
 * lengthens it before it cuts a slow passing case short; one slow case of an
 * earlier property, or of a busy minute since gone, no longer makes every
 * hanging step of the next one cost nearly the full deadline). A case cut
 * short by it is only a candidate: the shrunk counterexample is confirmed
 * once with the full deadline (harness/run/run-property.ts).
 *
 * And the steps that never answer have a budget (HangBudget): once they have
 * cost it, the shrink stops at the smallest failing case so far, and the
 * reason says so. A hang that shrinks through twenty steps beside another
 * gate cost 110-274 s without one.
 */
export const shrinkDeadlineFactor = 5;
export const minimumShrinkDeadlineMs = 1000;
/** How many of the latest passing cases the shrink deadline follows. */
export const recentPassingCases = 20;
/** What the shrink steps that got no answer may cost together before the shrink stops. */
export const hangBudgetMs = 30_000;

/** The deadline for a shrink step; with no passing case measured yet there is no ground to be shorter than the full one. */
export function shrinkDeadlineMs(slowestRecentMs: number | undefined, fullDeadlineMs: number): number {
  if (slowestRecentMs === undefined) return fullDeadlineMs;
  return Math.min(fullDeadlineMs, Math.max(minimumShrinkDeadlineMs, Math.ceil(shrinkDeadlineFactor * slowestRecentMs)));
}

/**
 * Whether a short deadline that can only be enforced by a restart costing
 * restartMs (a VM's boot) ends a hang sooner than the full deadline, which
 * needs no restart.
 */
export function restartPays(deadlineMs: number, restartMs: number, fullDeadlineMs: number): boolean {
  return deadlineMs + restartMs < fullDeadlineMs;
}

/** A target's latest passing case times, over all its properties. */
export class CaseTimes {
  private readonly recent: number[] = [];

  recordPassing(elapsedMs: number): void {
    if (!Number.isFinite(elapsedMs) || elapsedMs < 0) return;
    this.recent.push(elapsedMs);
    if (this.recent.length > recentPassingCases) this.recent.shift();
  }

  /** The slowest of the latest recentPassingCases passing cases; undefined before the first. */
  get slowestRecentMs(): number | undefined {
    return this.recent.length ? Math.max(...this.recent) : undefined;
  }
}

/**
 * What a property's shrink steps that got no answer (a hang, or a driver
 * that died) have cost, against a budget. Once it is spent the shrink runs
 * no more steps: the smallest failing case so far is the counterexample.
 */
export class HangBudget {
  private spentMs = 0;
  private steps = 0;
  /** Shrink steps not run because the budget was spent. */
  skipped = 0;

  constructor(readonly budgetMs: number = hangBudgetMs) {}

  /** A shrink step's wall time, counted when no answer came. */
  record(wallMs: number, answered: boolean): void {
    if (answered || !Number.isFinite(wallMs) || wallMs < 0) return;
    this.spentMs += wallMs;
    this.steps++;
  }

  get spent(): boolean {
    return this.spentMs >= this.budgetMs;
  }

  /** Why the shrink stopped early, for the reason; undefined when it did not. */
  note(): string | undefined {
    if (!this.skipped) return undefined;
    return `the shrink stopped once ${this.steps} unanswered step${this.steps === 1 ? "" : "s"} had cost ${Math.round(this.spentMs / 100) / 10} s (its ${this.budgetMs / 1000} s budget for hangs): the counterexample is the smallest failing case by then, maybe not the smallest there is`;
  }
}

/** Seconds from start to at, to a tenth, for reports. */
export function secondsBetween(startMs: number, atMs: number): number {
  return Math.round((atMs - startMs) / 100) / 10;
}
