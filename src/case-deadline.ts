/**
 * Case deadlines while shrinking. The first search runs every case with the
 * target's full deadline, so that only a hang reaches it. Once a case has
 * failed, fast-check replays many similar cases to shrink it, and each one
 * that hangs would cost the full deadline again. So the shrink deadline
 * follows what this target's passing cases measured: ten times the slowest,
 * at least a second, never more than the full deadline, worked out again for
 * each shrink step (a machine loaded meanwhile makes it longer before it
 * cuts a slow passing case short). A case cut short by
 * it is only a candidate: the shrunk counterexample is confirmed once with
 * the full deadline (harness/run/run-property.ts).
 */
export const shrinkDeadlineFactor = 10;
export const minimumShrinkDeadlineMs = 1000;

/** The deadline for a shrink step; with no passing case measured yet there is no ground to be shorter than the full one. */
export function shrinkDeadlineMs(slowestPassingMs: number | undefined, fullDeadlineMs: number): number {
  if (slowestPassingMs === undefined) return fullDeadlineMs;
  return Math.min(fullDeadlineMs, Math.max(minimumShrinkDeadlineMs, Math.ceil(shrinkDeadlineFactor * slowestPassingMs)));
}

/**
 * Whether a short deadline that can only be enforced by a restart costing
 * restartMs (a VM's boot) ends a hang sooner than the full deadline, which
 * needs no restart.
 */
export function restartPays(deadlineMs: number, restartMs: number, fullDeadlineMs: number): boolean {
  return deadlineMs + restartMs < fullDeadlineMs;
}

/** The slowest passing case a target has run, over all its properties. */
export class CaseTimes {
  private slowest: number | undefined;

  recordPassing(elapsedMs: number): void {
    if (!Number.isFinite(elapsedMs) || elapsedMs < 0) return;
    this.slowest = Math.max(this.slowest ?? 0, elapsedMs);
  }

  get slowestPassingMs(): number | undefined {
    return this.slowest;
  }
}

/** Seconds from start to at, to a tenth, for reports. */
export function secondsBetween(startMs: number, atMs: number): number {
  return Math.round((atMs - startMs) / 100) / 10;
}
