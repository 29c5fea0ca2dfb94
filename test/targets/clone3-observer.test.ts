// init's decoding of clone3's struct clone_args on the system tier, on a
// big-endian (s390x) and a 32-bit (arm) architecture: every field is an
// __aligned_u64, read by PTRACE_PEEKDATA words of sizeof(long). The
// reference's pidfd spawn is a clone3 whose flags, exit signal and pidfd
// pointer init must report as the driver passed them; and an observer that
// reads the exit signal with the wrong width (s390x) or at a long-array
// offset (arm) is caught by the check of the clone's exit signal.
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { sigchldOf } from "../../src/architectures.ts";
import { findMutant } from "../../src/mutants.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";
import { startTarget } from "../../harness/targets/start-target.ts";

const CLONE_VM = 0x100, CLONE_VFORK = 0x4000, CLONE_PIDFD = 0x1000;
const pidfdCase: SpawnCase = {
  path: "exec-target", argv: ["vfc"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false,
  descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false, pidfd: true,
};

for (const [architectureName, mutantName] of [
  ["s390x", "observer-exit-signal-int"],
  ["arm", "observer-fields-as-longs"],
] as const) {
  const architecture = findArchitecture(architectureName)!;
  const reference: TargetSpec = { architecture, tier: "system", inProcess: false, impl: "reference", defines: [], caseDeadlineMs: 8000 };

  test.serial(`init decodes the reference's clone3 on ${architectureName}/system: flags, exit signal, pidfd pointer`, async (t) => {
    const target = await startTarget(reference, 8 << 20);
    t.teardown(() => target.close());
    const run = await target.runCase(pidfdCase);
    t.true(run.observed?.complete, run.failure);
    const [clone] = run.observed!.clones;
    t.is(run.observed!.clones.length, 1);
    t.is(clone!.flags, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | sigchldOf(architecture));
    t.deepEqual(clone!.clone3, { clearSighand: true, intoCgroup: false, exitSignal: sigchldOf(architecture), pidfdPointer: true, cgroup: 0 });
    const property = (await loadProperties()).find((p) => p.name === "pidfd")!;
    t.deepEqual(property.check(pidfdCase, run, target), []);
  });

  test.serial(`pidfd catches the observer mutant ${mutantName} on ${architectureName}/system`, async (t) => {
    const mutant = findMutant(mutantName)!;
    t.is(mutant.expectation({ architecture, tier: "system", inProcess: false }).expected, "kill");
    const target = await startTarget({ ...reference, impl: `mutant:${mutant.name}`, defines: [mutant.define] }, 8 << 20);
    t.teardown(() => target.close());
    const property = (await loadProperties()).find((p) => p.name === "pidfd")!;
    const result = await runProperty(target, property, { runs: 10, seed: 1, replayPrefix: "npx vforkcheck gate" });
    t.is(result.status, "fail", `${mutantName} survived: ${result.reason}`);
    t.regex(result.reason, /observed clone exit signal 0, expected SIGCHLD/);
  });
}
