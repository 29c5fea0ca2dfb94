// Every property on a sample of targets: both host targets, the in-process
// target, and two qemu-user architectures (one big endian). The full matrix
// is `npm run gate`. 386 runs on the host tier where this machine's kernel
// executes i386 (measured), else under qemu-user, as the gate plans it.
import test from "ava";
import { architectures } from "../../src/architectures.ts";
import { runsNatively } from "../../src/host-execution.ts";
import { loadProperties } from "../../properties/index.ts";
import { hostExecution } from "../../harness/process/host-execution.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { TierName } from "../../src/tiers.ts";

const sample: [string, TierName, boolean][] = [
  ["amd64", "host", false],
  ["amd64", "host", true],
  ["386", runsNatively(hostExecution(), "386") ? "host" : "user", false],
  ["arm64", "user", false],
  ["s390x", "user", false],
];

for (const [arch, tier, inProcess] of sample) {
  test.serial(`every property holds for the reference spawn on ${arch}/${tier}${inProcess ? "/in-process" : ""}`, async (t) => {
    const architecture = architectures.find((a) => a.name === arch)!;
    const target = await startTarget({ architecture, tier, inProcess, impl: "reference", defines: [] }, 16 << 20);
    t.teardown(() => target.close());
    for (const property of await loadProperties()) {
      const result = await runProperty(target, property, { runs: 15, seed: 42, replayPrefix: "npx vforkcheck gate" });
      // A skip only where the property itself says this target cannot run it, and with its reason.
      const skipReason = property.skip?.(target);
      if (skipReason !== undefined) {
        t.deepEqual([result.status, result.reason], ["skip", skipReason]);
        continue;
      }
      t.is(result.status, "pass", `${property.name}: ${result.reason} ${result.counterexample ?? ""}`);
      t.is(result.runs, 15);
    }
  });
}
