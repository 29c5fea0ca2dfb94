// For the tests of concurrent-spawns: what a leaked descriptor looks like in
// its problems, and how soon a seed's cases find one: the cases a gate of
// that seed draws, run on the target one after another (no shrinking) until
// the first whose problems match, which shows that a narrow window is hit
// within the gate's default runs at any seed.
import fc from "fast-check";
import { judgeableArbitrary, type PropertyDefinition } from "../../src/property.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import type { Target } from "../../harness/targets/target.ts";

/** A child of a spawn (in any round) or of a plain fork, holding a descriptor that is not its own. */
export const foreignDescriptor = /(spawn \d of \d(, round \d of \d)?|plain fork \d of \d on another thread) \(exec-target, fds \[[\d,]*\]\): child open descriptors: got \[[\d,]+\], expected/;

export interface FirstFailure {
  seed: number;
  /** 1-based: the case of that seed's run that failed first, or undefined if none of runs did. */
  caseNumber?: number;
  problem?: string;
}

/**
 * For each seed, the first of its `runs` cases whose problems include one
 * that matches `symptom`; with `only`, the cases it refuses are left out
 * (not run), so that a bug of another shape cannot take the credit.
 */
export async function firstFailures(target: Target, property: PropertyDefinition, seeds: readonly number[], runs: number, symptom: RegExp, only: (spawnCase: SpawnCase) => boolean = () => true): Promise<FirstFailure[]> {
  const found: FirstFailure[] = [];
  for (const seed of seeds) {
    const cases = fc.sample(judgeableArbitrary(property, target), { numRuns: runs, seed });
    let first: FirstFailure = { seed };
    for (const [index, spawnCase] of cases.entries()) {
      if (!only(spawnCase)) continue;
      const problem = property.check(spawnCase, await target.runCase(spawnCase), target).find((text) => symptom.test(text));
      if (problem) {
        first = { seed, caseNumber: index + 1, problem };
        break;
      }
    }
    found.push(first);
  }
  return found;
}
