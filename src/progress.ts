/**
 * A run's progress as a person reads it on stderr: where each target is
 * (k/N) and an estimate of the time left, worked out from each tier's
 * expected cost, corrected by what the finished targets took. Pure: the
 * clock is an argument.
 */

interface TargetState {
  tier: string;
  /** Runs alone, after the others (the in-process target). */
  alone: boolean;
  startedMs?: number;
  /** Share of its properties done, 0..1. */
  done: number;
  finishedMs?: number;
}

export class RunProgress {
  private readonly targets = new Map<string, TargetState>();
  private started = 0;

  /**
   * expectedSeconds: a target's expected seconds on its tier before any has
   * finished; parallel: how many targets run at a time.
   */
  constructor(
    targets: readonly { name: string; tier: string; alone: boolean }[],
    private readonly expectedSeconds: (tier: string) => number,
    private readonly parallel: number,
  ) {
    for (const target of targets) this.targets.set(target.name, { tier: target.tier, alone: target.alone, done: 0 });
  }

  /** The target starts: its "target k/N", k counting the targets started so far. */
  start(name: string, nowMs: number): string {
    this.targets.get(name)!.startedMs = nowMs;
    return `target ${++this.started}/${this.targets.size}`;
  }

  advance(name: string, done: number, nowMs: number): void {
    const target = this.targets.get(name)!;
    target.done = done;
    if (done >= 1) target.finishedMs = nowMs;
  }

  /** What the finished targets took over what their tiers were expected to take (1 before any finished). */
  private pace(): number {
    const finished = [...this.targets.values()].filter((target) => target.finishedMs !== undefined && target.startedMs !== undefined);
    const expected = finished.reduce((sum, target) => sum + this.expectedSeconds(target.tier), 0);
    const took = finished.reduce((sum, target) => sum + (target.finishedMs! - target.startedMs!) / 1000, 0);
    return expected > 0 ? took / expected : 1;
  }

  /** Seconds left: the targets still to run and the rest of the running ones, `parallel` at a time, then those that run alone. */
  secondsLeft(nowMs: number): number {
    const pace = this.pace();
    const left = (target: TargetState) => {
      if (target.finishedMs !== undefined) return 0;
      const expected = this.expectedSeconds(target.tier) * pace;
      if (target.startedMs === undefined) return expected;
      const elapsed = (nowMs - target.startedMs) / 1000;
      // Once a property is done, the target's own rate says more than its tier's.
      return target.done > 0 ? (elapsed * (1 - target.done)) / target.done : Math.max(expected - elapsed, expected * 0.1);
    };
    const shared = [...this.targets.values()].filter((target) => !target.alone).map(left);
    const alone = [...this.targets.values()].filter((target) => target.alone).map(left);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    return Math.max(sum(shared) / this.parallel, ...shared, 0) + sum(alone);
  }

  /** "about 4 min left (estimate)". */
  estimate(nowMs: number): string {
    return `about ${formatSecondsLeft(this.secondsLeft(nowMs))} left (estimate)`;
  }
}

/** Rounded as a person says it: "20 s", "4 min", "1 h 10 min". */
export function formatSecondsLeft(seconds: number): string {
  if (seconds < 60) return `${Math.max(5, Math.round(seconds / 5) * 5)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Whether a progress line is due: the first after `intervalMs`, then at most one per interval. */
export function throttle(intervalMs: number, now: () => number): () => boolean {
  let last = now();
  return () => {
    if (now() - last < intervalMs) return false;
    last = now();
    return true;
  };
}
