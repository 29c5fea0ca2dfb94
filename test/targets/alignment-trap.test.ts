// The alignment trap on real targets:
// - the probe's unaligned_fixup is measured, not assumed: 0 under
//   qemu-mips64el (it delivers SIGBUS), 1 under qemu-aarch64;
// - Go 1.22's driver on mips64le/user dies of that SIGBUS in
//   runtime.netpollinit before its hello, and the run reports the target as
//   a skip with that reason on every property (not a failure, not a pass);
// - Go 1.23's driver on the same target says hello: the skip is Go 1.22's
//   death, not every Go on mips64le/user;
// - in the mips64le VM the kernel fixes the access up (unaligned_fixup=1)
//   and Go 1.22's driver says its hello.
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import type { ImplementationSpec } from "../../src/implementation-spec.ts";
import { implementationLabel } from "../../harness/implementations/index.ts";
import { runPropertiesOnTarget } from "../../harness/run/run-target.ts";
import { probeCapabilities } from "../../harness/targets/probe.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";

const targetSpec = (arch: string, implementation?: ImplementationSpec, tier: TargetSpec["tier"] = "user"): TargetSpec => ({
  architecture: findArchitecture(arch)!,
  tier,
  inProcess: false,
  impl: implementation ? implementationLabel(implementation) : "reference",
  ...(implementation ? { implementation } : {}),
  defines: [],
});

test("the probe measures whether an unaligned 8-byte access completes: not under qemu-mips64el, under qemu-aarch64", async (t) => {
  t.false((await probeCapabilities(targetSpec("mips64le"))).unalignedFixup);
  t.true((await probeCapabilities(targetSpec("arm64"))).unalignedFixup);
});

test("go@1.22 on mips64le/user: every property a skip saying qemu's SIGBUS killed the driver in runtime.netpollinit before its hello", async (t) => {
  const properties = (await loadProperties()).filter((property) => property.name === "descriptor-table" || property.name === "errno-propagates");
  t.is(properties.length, 2);
  const run = await runPropertiesOnTarget(targetSpec("mips64le", { name: "go", version: "1.22" }), properties, {
    runs: 1, seed: 1, replayPrefix: "npx vforkcheck gate --impl go@1.22", onMalformed: "fail", progress: () => {},
  });
  t.is(run.notStarted, undefined, "a skip, not a target that failed to start");
  t.deepEqual(run.results.map((result) => [result.property, result.status, result.runs]), properties.map((property) => [property.name, "skip", 0]));
  for (const result of run.results)
    t.regex(
      result.reason ?? "",
      /^qemu-mips64el delivers SIGBUS for an unaligned access that a mips64le Linux kernel fixes up \(probe: unaligned_fixup=0\); the driver died of it before its hello \(SIGBUS BUS_ADRALN at 0x[0-9a-f]+, exit 2\), in its runtime: Go's runtime\.netpollinit$/,
    );
});

test("go@1.23 on mips64le/user says its hello: the skip is no blanket one", async (t) => {
  const target = await startTarget(targetSpec("mips64le", { name: "go", version: "1.23" }));
  try {
    t.is(target.hello.impl, "go");
    t.false(target.capabilities.unalignedFixup, "the same trapping target");
  } finally {
    await target.close();
  }
});

test("go@1.22 in the mips64le VM: the kernel fixes the unaligned access up and the driver says its hello", async (t) => {
  const target = await startTarget(targetSpec("mips64le", { name: "go", version: "1.22" }, "system"));
  try {
    t.true(target.capabilities.unalignedFixup);
    t.is(target.hello.impl, "go");
  } finally {
    await target.close();
  }
});
