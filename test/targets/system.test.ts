// The system tier on one foreign architecture (arm64, a real kernel under
// qemu-system-aarch64): every property holds for the reference spawn, the
// probe inside the VM measures real vfork (which qemu-user does not have),
// and the bug that only a real kernel shows, the return address kept on the
// stack across vfork, is killed there, as is a parent that is not suspended
// (CLONE_VM without CLONE_VFORK); so is a signal mask left blocked in the
// child (signal-state, which shows on every tier), and the error pipe that
// leaks only under some descriptor tables. The nine-architecture run is
// `npx vforkcheck gate --tier system`.
import { readFileSync } from "node:fs";
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { findMutant } from "../../src/mutants.ts";
import { CLONE_NEWUSER } from "../../src/flags.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { descendantsOf } from "../../harness/process/process-tree.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { QemuSystemTarget } from "../../harness/targets/system-target.ts";

const arm64 = findArchitecture("arm64")!;
const reference: TargetSpec = { architecture: arm64, tier: "system", inProcess: false, impl: "reference", defines: [] };
const qemuChildren = () => descendantsOf(process.pid).filter((pid) => {
  try {
    return /qemu-system/.test(readFileSync(`/proc/${pid}/cmdline`, "latin1"));
  } catch {
    return false;
  }
});

test.serial("every property holds for the reference spawn on arm64/system, and the VM measures real vfork", async (t) => {
  const target = await startTarget(reference, 8 << 20);
  t.teardown(() => target.close());
  t.true(target.capabilities.vforkSharesMemory, "the probe inside the VM: vfork shares memory");
  t.true(target.capabilities.parentSuspended, "the probe inside the VM: the parent is suspended");
  for (const property of await loadProperties()) {
    const result = await runProperty(target, property, { runs: 10, seed: 42, replayPrefix: "npx vforkcheck gate" });
    t.is(result.status, "pass", `${property.name}: ${result.reason} ${result.counterexample ?? ""}`);
    t.is(result.runs, 10);
  }
  await target.close();
  t.deepEqual(qemuChildren(), [], "no qemu left after close");
});

/** A mutant that can show on arm64/system is killed there by the property that guards it, for the reason given. */
function killedOnArm64System(mutantName: string, propertyName: string, runs: number, reason: RegExp, why: string): void {
  test.serial(`${propertyName} kills ${mutantName} on arm64/system (${why})`, async (t) => {
    const mutant = findMutant(mutantName)!;
    t.is(mutant.expectation({ architecture: arm64, tier: "system", inProcess: false }).expected, "kill");
    const target = await startTarget({ ...reference, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 8000 }, 8 << 20);
    t.teardown(() => target.close());
    const property = (await loadProperties()).find((p) => p.name === propertyName)!;
    const result = await runProperty(target, property, { runs, seed: 1, replayPrefix: "npx vforkcheck gate" });
    t.is(result.status, "fail", `${propertyName} did not kill ${mutantName} on arm64/system: ${result.reason}`);
    t.regex(result.reason, reason);
  });
}

killedOnArm64System("ra-on-stack", "parent-resumes", 30, /driver died|damaged|canar/, "it cannot show under qemu-user");
killedOnArm64System("sigmask-left-blocked", "signal-state", 30, /blocked, expected unblocked/, "the exec'd program starts with every signal blocked");
killedOnArm64System("pipe-leak-below-targets", "descriptor-table", 20, /open descriptors: got/, "the leaked pipe shows once the report descriptor is low");
killedOnArm64System("pipe-cloexec-in-child", "concurrent-spawns", 20, /child open descriptors: got/, "a child cloned by another thread keeps the pipe past exec");
killedOnArm64System("shared-result-slot", "concurrent-spawns", 20, /a caller got another spawn's child|expected E\w+ from execve|expected success/, "a caller gets the last spawn's outcome");
killedOnArm64System(
  "vm-without-vfork",
  "parent-resumes",
  30,
  /^the parent's clone \(CLONE_VM without CLONE_VFORK\) returned pid \d+ before the child's exec or exit, as the observer ordered them \(no PTRACE_EVENT_VFORK_DONE\)/,
  "no PTRACE_EVENT_VFORK_DONE before the clone returned",
);

// After a hang init kills the driver and starts another: the next case's
// child must be judged against the new driver (its pid is the child's ppid),
// not the one that hung. Judged against the old hello, every later case of
// the run failed with "child ppid: got X, expected Y".
test.serial("after a hung case and init's restart of the driver, the next case is judged against the new driver", async (t) => {
  const mutant = findMutant("vfork-with-newuser")!;
  const target = await startTarget({ ...reference, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 3000 }, 8 << 20);
  t.teardown(() => target.close());
  const plain: SpawnCase = {
    path: "exec-target", argv: ["vfc"], env: ["A=1"], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false,
    descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false,
  };
  const environment = (await loadProperties()).find((p) => p.name === "environment")!;
  const before = target.oracle.hello.pid;
  t.deepEqual(environment.check(plain, await target.runCase(plain), target), [], "a plain case passes before the hang");
  const hung = await target.runCase({ ...plain, cloneFlags: CLONE_NEWUSER });
  t.regex(hung.failure ?? "", /the spawn hung/, "the mutant's CLONE_NEWUSER spawn hangs");
  t.not(target.oracle.hello.pid, before, "the oracle has the restarted driver's hello");
  t.deepEqual(environment.check(plain, await target.runCase(plain), target), [], "a plain case passes after the restart");
});

// A guest whose CPU is slow against its own clock (qemu -icount shift=4:
// 16 ns of guest time per instruction) is what mips64le/system is under a
// loaded host. There a storm at its fixed pace kept the traced driver in
// its handlers for ever and every case hung (native/signal-storm.c); the
// same VM without a storm runs parent-resumes cases in a fraction of a second.
test.serial("signal-storm finishes on a VM whose CPU is slow against its clock", async (t) => {
  const slow = { ...arm64, system: { ...arm64.system, machine: [...arm64.system.machine, "-icount", "shift=4"] } };
  const target = await startTarget({ ...reference, architecture: slow, caseDeadlineMs: 20000 }, 8 << 20);
  t.teardown(() => target.close());
  const property = (await loadProperties()).find((p) => p.name === "signal-storm")!;
  // Each case has its deadline: a storm that starves the driver fails here as a hang, with its case.
  const result = await runProperty(target, property, { runs: 10, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "pass", `${result.reason} ${result.counterexample ?? ""}`);
});

// init's seccomp filter is inherited by every descendant of the driver, and
// a SECCOMP_RET_TRACE call of a task no tracer follows fails with ENOSYS;
// init therefore traces the whole tree. Here the probe runs a second time
// as a grandchild of init's traced, filtered child: its vfork, clone, clone3
// and namespace clones must come out as in init's own untraced probe. Left
// untraced, the same grandchild's calls fail: the comparison sees it.
test.serial("a traced descendant's clones behave under the observer's filter as without it; an untraced one's would not", async (t) => {
  const probeLines = async (initMode: "probe-descendant" | "probe-untraced-descendant") => {
    const target = await startTarget({ ...reference, systemVariant: { initMode } }, 8 << 20);
    t.teardown(() => target.close());
    const lines = [...(target as QemuSystemTarget).probeLines];
    await target.close();
    return lines;
  };
  const traced = await probeLines("probe-descendant");
  t.is(traced.length, 2, `init's probe and the descendant's: ${traced.join(" | ")}`);
  t.is(traced[1], traced[0], "the descendant's probe under the filter measures what init's untraced probe measures");
  t.regex(traced[0]!, /vfork_shares_memory=1 parent_suspended=1 /);
  const untraced = await probeLines("probe-untraced-descendant");
  t.is(untraced.length, 2, `init's probe and the descendant's: ${untraced.join(" | ")}`);
  t.not(untraced[1], untraced[0], "left untraced, the descendant's filtered calls fail");
  t.regex(untraced[1]!, /vfork_shares_memory=0 parent_suspended=0 /, "its vfork failed (ENOSYS)");
  t.log(`untraced descendant: ${untraced[1]}`);
});
