// runProperty with --baseline, and what a failure's reason carries, on a
// simulated target: the real amd64/host reference target serves only the
// oracle's context; the verdicts are made up by the test, so no machine load
// or kernel changes them. The baseline is a stand-in that answers as the test
// says (the real one, a Go release, is exercised in baseline-gate.test.ts).
import test, { type ExecutionContext } from "ava";
import fc from "fast-check";
import { findArchitecture } from "../../src/architectures.ts";
import { checkFinished } from "../../src/checks.ts";
import type { PropertyDefinition } from "../../src/property.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import type { BaselineReplay, BaselineVerdict } from "../../harness/run/baseline-target.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { CaseRun, Target } from "../../harness/targets/target.ts";
import { expected } from "../../src/checks.ts";

const amd64 = findArchitecture("amd64")!;

// One real target for every test (they run side by side): started once, closed after all.
let real: Promise<Target> | undefined;
async function simulated(t: ExecutionContext): Promise<Target> {
  real ??= startTarget({ architecture: amd64, tier: "host", inProcess: false, impl: "reference", defines: [], caseDeadlineMs: 15_000 });
  const target = Object.create(await real) as Target;
  let id = 0;
  target.runCase = async (): Promise<CaseRun> => ({ id: ++id, line: "", result: { id, outcome: "spawned", pid: 1, status: 0, zombies: 0 } as never, elapsedMs: 5 });
  t.pass();
  return target;
}
test.after.always(async () => (await real)?.close());

/** A case with n environment entries; `noted` makes it one the oracle adds a note to (setpgid and chdir both fail). */
const caseOf = (n: number, noted: boolean): SpawnCase => ({
  path: "exec-target", argv: ["a"], env: Array.from({ length: n }, (_, i) => `V${i}=1`), cwd: noted ? "name-too-long" : "none", cloneFlags: 0, unshareFlags: 0,
  setsid: noted, setpgid: noted, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false,
});

/** A test property over n in 0..200 whose check is the given problems of a case. */
function property(problems: (spawnCase: SpawnCase) => string[], noted: (n: number) => boolean = () => false): PropertyDefinition {
  return {
    name: "made-up",
    behaviour: "(test only) made-up verdicts",
    guards: [],
    arbitrary: () => fc.integer({ min: 0, max: 200 }).map((n) => caseOf(n, noted(n))),
    check: (spawnCase, run) => (run.failure ? checkFinished(run) : problems(spawnCase)),
  };
}

/** A baseline that fails each case with `problems(case)` (none: it passes), or cannot be run at all. */
function baselineOf(answer: (spawnCase: SpawnCase) => BaselineVerdict): BaselineReplay & { asked: number } {
  return {
    identity: { implementation: "go@1.26", version: "go1.26.10" },
    asked: 0,
    async verdict(_property, spawnCase) {
      this.asked++;
      return answer(spawnCase);
    },
  };
}

const many = (spawnCase: SpawnCase) => (spawnCase.env.length >= 10 ? [`${spawnCase.env.length} environment entries`, "a descriptor leaked in the parent"] : []);
const options = { runs: 40, seed: 1, replayPrefix: "npx vforkcheck gate --impl go" };

test("a failure the baseline fails with the same problems (in another order) is 'baseline', counted with an example, and no counterexample", async (t) => {
  const target = await simulated(t);
  const baseline = baselineOf((spawnCase) => ({ problems: [...many(spawnCase)].reverse() }));
  const result = await runProperty(target, property(many), { ...options, baseline });
  t.is(result.status, "baseline", result.reason);
  t.is(result.counterexample, null);
  t.true(result.baseline!.cases > 1, "the search went on past the first shared case");
  t.is(result.baseline!.implementation, "go@1.26");
  t.is(result.baseline!.version, "go1.26.10");
  t.deepEqual(result.baseline!.problems.slice(1), ["a descriptor leaked in the parent"]);
  t.regex(result.baseline!.example!, /"env":\["V0=1"/);
  t.regex(result.reason, /baseline go@1\.26 \(go1\.26\.10\) fails the same way/);
});

test("a failure of its own beside shared ones is 'fail', shrunk to a case the baseline does not share", async (t) => {
  const target = await simulated(t);
  // The build fails every case of 10+ entries as upstream does, and its own bug: cases of 3 to 9 entries lose one.
  const own = (spawnCase: SpawnCase) => (spawnCase.env.length >= 3 && spawnCase.env.length < 10 ? ["an environment entry lost"] : many(spawnCase));
  const baseline = baselineOf((spawnCase) => ({ problems: many(spawnCase) }));
  const result = await runProperty(target, property(own), { ...options, baseline });
  t.is(result.status, "fail", result.reason);
  t.deepEqual(result.problems, ["an environment entry lost"]);
  // The smallest case of the build's own bug: 3 entries.
  t.is(result.failingCase!.env.length, 3);
  t.true(result.baseline!.cases > 0, "the shared failures are kept beside it");
  t.notRegex(result.reason, /could not be run/);
});

test("problems that differ from the baseline's (another number) are the build's own: 'fail'", async (t) => {
  const target = await simulated(t);
  const baseline = baselineOf((spawnCase) => ({ problems: many(spawnCase).map((problem) => problem.replace(/^\d+/, (n) => String(Number(n) + 1))) }));
  const result = await runProperty(target, property(many), { ...options, baseline });
  t.is(result.status, "fail");
  t.true(baseline.asked > 0);
  t.is(result.baseline, undefined, "no case was shared and the baseline answered");
});

test("a baseline that cannot be run leaves the failure a failure, and the reason says why", async (t) => {
  const target = await simulated(t);
  const baseline = baselineOf(() => ({ unavailable: "go@1.26 did not start on amd64/host: no such release" }));
  const result = await runProperty(target, property(many), { ...options, baseline });
  t.is(result.status, "fail");
  t.is(result.failingCase!.env.length, 10);
  t.regex(result.reason, /the baseline go@1\.26 could not be run, so this failure was not compared with it: go@1\.26 did not start on amd64\/host: no such release/);
  t.is(result.baseline!.unavailable, "go@1.26 did not start on amd64/host: no such release");
  t.is(baseline.asked, 1, "asked once: a baseline that cannot be run is not asked again");
});

test("a reason carries its counterexample's notes, not those of earlier cases", async (t) => {
  const target = await simulated(t);
  const noted = (n: number) => n % 2 === 1;
  const notesOf = (n: number) => expected(caseOf(n, true), target).notes;
  t.true(notesOf(1).some((note) => note.includes("all fail")), "the noted cases do carry a note");
  // Odd cases (noted) pass, even ones of 10+ entries fail: the counterexample (10 entries) has no note of its own.
  const plainFails = property((spawnCase) => (!spawnCase.setpgid && spawnCase.env.length >= 10 ? ["too many entries"] : []), noted);
  const plain = await runProperty(target, plainFails, options);
  t.is(plain.status, "fail");
  t.false(plain.failingCase!.setpgid);
  // Its own notes only (what the oracle says of that case on this target), none of the noted cases run before it.
  t.notRegex(plain.reason, /all fail/);
  const own = expected(plain.failingCase!, target).notes.filter((note) => !note.includes("bytes"));
  t.is(plain.reason, `too many entries${own.length ? ` (${own.join("; ")})` : ""}`);
  // The other way round: the noted cases fail, and the counterexample's note is in its reason.
  const notedFails = property((spawnCase) => (spawnCase.setpgid && spawnCase.env.length >= 10 ? ["too many entries"] : []), noted);
  const withNote = await runProperty(target, notedFails, options);
  t.is(withNote.status, "fail");
  t.regex(withNote.reason, /^too many entries \(setpgid, chdir all fail; their order is the implementation's[;)]/);
});
