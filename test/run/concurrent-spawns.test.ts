// concurrent-spawns kills each of its mutants where the bug shows: the host
// (a real kernel, raw threads under strace) and qemu-user (arm64: the
// emulator's threads, vfork as a fork). Each kill names the bug's own
// symptom: a descriptor the spawn did not map in some child's table (a
// spawn's, in some round, or a plain fork's on the fork thread), or a caller
// holding another spawn's child. pipe-cloexec-late's window is two system
// calls wide: it is killed within the gate's default 50 runs at every seed.
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { findMutant } from "../../src/mutants.ts";
import type { TierName } from "../../src/tiers.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import { gateDefaults } from "../../harness/run/options.ts";
import { firstFailures, foreignDescriptor } from "../helpers/concurrent-spawns.ts";

const property = (await loadProperties()).find((p) => p.name === "concurrent-spawns")!;
const tiers: [string, TierName][] = [
  ["amd64", "host"],
  ["arm64", "user"],
];
const symptoms: Record<string, RegExp> = {
  "pipe-cloexec-in-child": foreignDescriptor,
  "pipe-cloexec-late": foreignDescriptor,
  "shared-result-slot": /all got pid \d+: a caller got another spawn's child|spawn failed with E\w+ \(\d+\), expected E\w+ from execve|spawn succeeded \(pid \d+\); expected E\w+|spawn failed with E\w+ \(\d+\); expected success/,
};

for (const [arch, tier] of tiers)
  for (const [mutantName, symptom] of Object.entries(symptoms)) {
    test.serial(`concurrent-spawns kills ${mutantName} on ${arch}/${tier}`, async (t) => {
      const mutant = findMutant(mutantName)!;
      const architecture = findArchitecture(arch)!;
      t.is(mutant.expectation({ architecture, tier, inProcess: false }).expected, "kill");
      const target = await startTarget({ architecture, tier, inProcess: false, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 10000 });
      t.teardown(() => target.close());
      const result = await runProperty(target, property, { runs: mutantName === "pipe-cloexec-late" ? gateDefaults.runs : 30, seed: 1, replayPrefix: "npx vforkcheck gate" });
      t.is(result.status, "fail", `${mutantName} survived concurrent-spawns on ${arch}/${tier}: ${result.reason}`);
      t.regex(result.reason, symptom);
      // The shrunk counterexample still runs spawns at once: the bug needs two of them.
      t.true((result.failingCase?.concurrentSpawns?.length ?? 0) >= 2, result.counterexample ?? "no counterexample");
    });
  }

// The rounds and the fork thread are sized for this (src/arbitraries/concurrent-spawns.ts):
// every seed's default run of the gate hits the two-call window, not only seed 1's.
test.serial("pipe-cloexec-late's two-call window is hit within the gate's default runs at every seed 1..10 on amd64/host", async (t) => {
  const mutant = findMutant("pipe-cloexec-late")!;
  const target = await startTarget({ architecture: findArchitecture("amd64")!, tier: "host", inProcess: false, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 10000 });
  t.teardown(() => target.close());
  const seeds = Array.from({ length: 10 }, (_, i) => i + 1);
  const found = await firstFailures(target, property, seeds, gateDefaults.runs, foreignDescriptor);
  t.log(`first failing case per seed: ${found.map((f) => `${f.seed}:${f.caseNumber ?? "none"}`).join(" ")}`);
  t.deepEqual(found.filter((f) => f.caseNumber === undefined).map((f) => f.seed), []);
});
