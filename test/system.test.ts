// The system tier on one foreign architecture (arm64, a real kernel under
// qemu-system-aarch64): every property holds for the reference spawn, the
// probe inside the VM measures real vfork (which qemu-user does not have),
// and the bug that only a real kernel shows, the return address kept on the
// stack across vfork, is killed there, as is a parent that is not suspended
// (CLONE_VM without CLONE_VFORK). The nine-architecture run is
// `npx vforkcheck gate --tier system`.
import { readFileSync } from "node:fs";
import test from "ava";
import { loadProperties } from "../properties/index.ts";
import { findArchitecture } from "../src/architectures.ts";
import { findMutant } from "../src/mutants.ts";
import { runProperty } from "../harness/run-property.ts";
import { descendantsOf } from "../harness/process-tree.ts";
import { startTarget, type TargetSpec } from "../harness/targets.ts";

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

test.serial("parent-resumes kills ra-on-stack on arm64/system (it cannot show under qemu-user)", async (t) => {
  const mutant = findMutant("ra-on-stack")!;
  t.is(mutant.expectation({ architecture: arm64, tier: "system", inProcess: false }).expected, "kill");
  const target = await startTarget({ ...reference, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 8000 }, 8 << 20);
  t.teardown(() => target.close());
  const property = (await loadProperties()).find((p) => p.name === "parent-resumes")!;
  const result = await runProperty(target, property, { runs: 30, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail", `parent-resumes did not kill ra-on-stack on arm64/system: ${result.reason}`);
  t.regex(result.reason, /driver died|damaged|canar/);
});

test.serial("parent-resumes kills vm-without-vfork on arm64/system: no PTRACE_EVENT_VFORK_DONE before the clone returned", async (t) => {
  const mutant = findMutant("vm-without-vfork")!;
  t.is(mutant.expectation({ architecture: arm64, tier: "system", inProcess: false }).expected, "kill");
  const target = await startTarget({ ...reference, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 8000 }, 8 << 20);
  t.teardown(() => target.close());
  const property = (await loadProperties()).find((p) => p.name === "parent-resumes")!;
  const result = await runProperty(target, property, { runs: 30, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail", `parent-resumes did not kill vm-without-vfork on arm64/system: ${result.reason}`);
  t.regex(result.reason, /^the parent's clone \(CLONE_VM without CLONE_VFORK\) returned pid \d+ before the child's exec or exit, as the observer ordered them \(no PTRACE_EVENT_VFORK_DONE\)/);
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
  const started = Date.now();
  const result = await runProperty(target, property, { runs: 10, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "pass", `${result.reason} ${result.counterexample ?? ""}`);
  t.true(Date.now() - started < 60_000, "ten storm cases in under a minute, none near the deadline");
});
