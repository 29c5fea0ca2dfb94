// The probe's parent_suspended is a cause-and-effect measurement, not a
// timing threshold: a parent that runs while its vfork child lives kills the
// child, and only a child that died of that kill says "not suspended". So a
// loaded machine cannot make qemu-user's fork-emulated vfork look suspended:
// with a 50 ms threshold 9 of 30 probes started at once said it was, and the
// targets then demanded a suspension qemu-user never gives (a false red).
import test from "ava";
import { findArchitecture } from "../../src/architectures.ts";
import { probeCapabilities } from "../../harness/targets/probe.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";

const targetSpec = (arch: string, tier: TargetSpec["tier"]): TargetSpec => ({ architecture: findArchitecture(arch)!, tier, inProcess: false, impl: "reference", defines: [] });

/** The probes run while 2 busy loops per core compete for the CPU, as under a loaded CI machine; killed when they end. */
async function probeAtOnce(spec: TargetSpec, count: number) {
  const load = Array.from({ length: 2 * availableParallelism() }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  try {
    return await Promise.all(Array.from({ length: count }, () => probeCapabilities(spec)));
  } finally {
    for (const busy of load) busy.kill("SIGKILL");
  }
}

test("30 qemu-aarch64 probes at once, 2 busy loops per core beside them: every one measures the vfork as a fork (not suspended, memory not shared)", async (t) => {
  const probes = await probeAtOnce(targetSpec("arm64", "user"), 30);
  t.deepEqual(probes.map((p) => p.parentSuspended), probes.map(() => false));
  t.deepEqual(probes.map((p) => p.vforkSharesMemory), probes.map(() => false));
});

test("4 amd64 probes at once on the host kernel: every one measures a suspended parent sharing its memory", async (t) => {
  const probes = await probeAtOnce(targetSpec("amd64", "host"), 4);
  t.deepEqual(probes.map((p) => p.parentSuspended), probes.map(() => true));
  t.deepEqual(probes.map((p) => p.vforkSharesMemory), probes.map(() => true));
});
