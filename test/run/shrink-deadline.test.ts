// The shrink deadline (src/case-deadline.ts) and the confirmation of what it
// shrank to (harness/run/run-property.ts). A hang mutant is killed with a shrunk
// counterexample that hung again under the full deadline; and a shrink that
// the short deadline misled (a case that is slow, not hung) is not reported:
// the property shrinks again with the full deadline.
import test from "ava";
import fc from "fast-check";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { checkFinished } from "../../src/checks.ts";
import { findMutant } from "../../src/mutants.ts";
import type { PropertyDefinition } from "../../src/property.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { CaseRun, Target } from "../../harness/targets/target.ts";

const amd64 = findArchitecture("amd64")!;
const fullDeadlineMs = 5000;

/** The target with every case's deadline and outcome noted. */
function noting(target: Target): { target: Target; runs: { deadlineMs: number; failure?: string }[] } {
  const runs: { deadlineMs: number; failure?: string }[] = [];
  const runCase = target.runCase.bind(target);
  target.runCase = async (spawnCase, deadlineMs = target.caseDeadlineMs) => {
    const run = await runCase(spawnCase, deadlineMs);
    runs.push({ deadlineMs, ...(run.failure ? { failure: run.failure } : {}) });
    return run;
  };
  return { target, runs };
}

test("a hang mutant is killed with a shrunk counterexample that hangs again under the full deadline", async (t) => {
  const mutant = findMutant("vfork-with-newuser")!;
  const property = (await loadProperties()).find((p) => p.name === "signal-state")!;
  const { target, runs } = noting(await startTarget({ architecture: amd64, tier: "host", inProcess: false, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: fullDeadlineMs }));
  t.teardown(() => target.close());
  const result = await runProperty(target, property, { runs: 50, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail", result.reason);
  t.log(`first failure ${result.first_failure_s} s, shrunk ${result.shrunk_s} s, shrink deadline ${result.shrink_deadline_s} s, ${runs.length} cases`);
  t.true(result.shrink_deadline_s! < fullDeadlineMs / 1000, "the shrink ran with a shorter deadline");
  t.true(runs.some((run) => run.deadlineMs < fullDeadlineMs && run.failure?.includes("the shrink deadline")), "a shrink step hung under the short deadline");
  // The last case run is the confirmation: the shrunk counterexample, with the full deadline, hung again.
  t.is(runs.at(-1)!.deadlineMs, fullDeadlineMs);
  t.regex(runs.at(-1)!.failure ?? "", /no answer within 5 s: the spawn hung/);
  t.regex(result.reason, /^no answer within 5 s: the spawn hung/);
  // How long it took is measured, not asserted (a loaded machine takes longer): the mutants command reports it.
  t.true(result.first_failure_s! <= result.shrunk_s!);
  t.true((result.failingCase!.cloneFlags & 0x10000000) !== 0, "the counterexample keeps CLONE_NEWUSER");
});

/**
 * A target whose case times are made up (the real amd64/host target serves
 * only the oracle's context): a case with n environment entries fails at
 * once when n >= 10, takes slowMs and passes when 3 <= n < 10, and passes at
 * once below 3. Under a shrink deadline shorter than slowMs a slow case looks
 * hung; under the full deadline it passes.
 */
const slowMs = 1300;
function slowNotHung(real: Target): Target {
  const target = Object.create(real) as Target;
  let id = 0;
  target.runCase = async (spawnCase: SpawnCase, deadlineMs = real.caseDeadlineMs): Promise<CaseRun> => {
    const n = spawnCase.env.length;
    const takes = n >= 3 && n < 10 ? slowMs : 5;
    await new Promise((resolve) => setTimeout(resolve, Math.min(takes, deadlineMs)));
    if (takes > deadlineMs) return { id: ++id, line: "", failure: `no answer within ${deadlineMs / 1000} s (the shrink deadline): the spawn hung` };
    return { id: ++id, line: "", result: { id, outcome: "spawned", pid: 1, status: 0, zombies: 0 } as never, elapsedMs: takes };
  };
  return target;
}

const environmentCount: PropertyDefinition = {
  name: "environment-count",
  behaviour: "(test only) fewer than ten environment entries",
  guards: [],
  arbitrary: () =>
    fc.integer({ min: 0, max: 200 }).map((n): SpawnCase => ({
      path: "exec-target", argv: ["a"], env: Array.from({ length: n }, (_, i) => `V${i}=1`), cwd: "none", cloneFlags: 0, unshareFlags: 0,
      setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false,
    })),
  check: (spawnCase, run) => (run.failure ? checkFinished(run) : spawnCase.env.length >= 10 ? [`${spawnCase.env.length} environment entries`] : []),
};

test("a counterexample the shrink deadline made (slow, not hung) is not reported: the property shrinks again with the full deadline", async (t) => {
  const real = await startTarget({ architecture: amd64, tier: "host", inProcess: false, impl: "reference", defines: [], caseDeadlineMs: fullDeadlineMs });
  t.teardown(() => real.close());
  const target = slowNotHung(real);
  // The target's passing cases so far took 20 ms: the shrink deadline is the minimum, 1 s, under slowMs.
  // Seed 1 draws 91 entries first (a failure, before any slow case); the shrink then passes through 6 and 3 (slow).
  target.caseTimes.recordPassing(20);
  const result = await runProperty(target, environmentCount, { runs: 20, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail");
  t.is(result.shrink_deadline_s, 1);
  t.is(result.failingCase!.env.length, 10, `counterexample: ${result.counterexample}`);
  t.regex(result.reason, /^10 environment entries\b.*; the shrink with the 1 s shrink deadline ended at a case that does not fail with the full 5 s deadline \(slow, not hung\): shrunk again with the full deadline from \d+ steps? before it/);
});
