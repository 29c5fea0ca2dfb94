// The pidfd property on amd64/host (a real kernel with clone3): it holds for
// the reference, and it kills both pidfd mutants, each by the check that
// names its bug: a pidfd left open after a failed exec (glibc BZ 31695), and
// a pidfd of another process that waitid(P_PIDFD) cannot reap the child with.
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { findMutant } from "../../src/mutants.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";
import { startTarget } from "../../harness/targets/start-target.ts";

const amd64 = findArchitecture("amd64")!;
const reference: TargetSpec = { architecture: amd64, tier: "host", inProcess: false, impl: "reference", defines: [], caseDeadlineMs: 5000 };

async function runPidfd(spec: TargetSpec) {
  const property = (await loadProperties()).find((p) => p.name === "pidfd")!;
  const target = await startTarget(spec);
  try {
    return { target, result: await runProperty(target, property, { runs: 30, seed: 1, replayPrefix: "npx vforkcheck gate" }) };
  } finally {
    await target.close();
  }
}

test("pidfd holds for the reference on amd64/host, where the probe measures both pidfd paths", async (t) => {
  const { target, result } = await runPidfd(reference);
  t.deepEqual(target.capabilities.pidfdErrno, { clone: 0, clone3: 0 });
  t.is(result.status, "pass", `${result.reason} ${result.counterexample ?? ""}`);
});

for (const [mutantName, reason] of [
  ["pidfd-leak-on-failure", /after the failed spawn 1 pidfd\(s\) stayed open in the parent \(glibc BZ 31695/],
  ["pidfd-wrong-process", /the returned pidfd refers to pid \d+ \(its fdinfo\), not the child, pid \d+ .*waitid\(P_PIDFD\) on the returned pidfd failed with ECHILD \(10\)/],
] as const) {
  test(`pidfd kills ${mutantName} on amd64/host`, async (t) => {
    const mutant = findMutant(mutantName)!;
    t.is(mutant.expectation({ architecture: amd64, tier: "host", inProcess: false }).expected, "kill");
    const { result } = await runPidfd({ ...reference, impl: `mutant:${mutant.name}`, defines: [mutant.define] });
    t.is(result.status, "fail", `${mutantName} survived: ${result.reason}`);
    t.regex(result.reason, reason);
  });
}

// The property's first guard is killed by test/run/mutants.test.ts's loop; this one
// by the check of what a failed spawn hands back, naming the number it returned.
test("pidfd kills pidfd-closed-returned on amd64/host, naming the closed number the failed spawn handed back", async (t) => {
  const mutant = findMutant("pidfd-closed-returned")!;
  t.is(mutant.expectation({ architecture: amd64, tier: "host", inProcess: false }).expected, "kill");
  const property = (await loadProperties()).find((p) => p.name === "pidfd")!;
  const target = await startTarget({ ...reference, impl: `mutant:${mutant.name}`, defines: [mutant.define] });
  t.teardown(() => target.close());
  const result = await runProperty(target, property, { runs: 30, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail", `${mutant.name} survived: ${result.reason}`);
  t.regex(result.reason, /the failed spawn handed back pidfd \d+, a descriptor it had closed/);
  // The counterexample again: the problem names the very number the driver found in the output.
  const run = await target.runCase(result.failingCase!);
  const returned = run.result?.failedPidfd;
  t.is(returned?.is, "closed", run.line);
  t.true(property.check(result.failingCase!, run, target).some((problem) => problem.startsWith(`the failed spawn handed back pidfd ${returned!.value}, a descriptor it had closed`)));
});
