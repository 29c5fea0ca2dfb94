/** Starts the target a spec names: its probe, its fixtures, its driver and observer. */
import { existsSync } from "node:fs";
import { nativeExecutionOf, runsNatively } from "../../src/host-execution.ts";
import { hostExecution } from "../process/host-execution.ts";
import { closeInheritedDescriptorsOnExec } from "../process/inherited-descriptors.ts";
import { buildNative } from "../build/build.ts";
import { createFixtures } from "../build/fixtures.ts";
import { driverCommand, implementationLabel, implementationOf } from "../implementations/index.ts";
import { DriverTarget } from "./driver-target.ts";
import { InProcessTarget } from "./in-process-target.ts";
import { probeCapabilities } from "./probe.ts";
import { checkDriverStartup } from "./startup-check.ts";
import { startSystemTarget } from "./system-target.ts";
import { caseDeadlineMs, defaultMaxMemoryBytes, hostArchitecture, type Target, type TargetSpec } from "./target.ts";

export async function startTarget(spec: TargetSpec, maxMemoryBytes = defaultMaxMemoryBytes(spec.tier)): Promise<Target> {
  // Drivers start with no descriptor but stdio from outside: the verdicts must not depend on what the user's shell leaked.
  closeInheritedDescriptorsOnExec();
  if (spec.tier === "host" && !runsNatively(hostExecution(), spec.architecture.name))
    throw new Error(`${spec.architecture.name} does not run natively here (${nativeExecutionOf(hostExecution(), spec.architecture.name)?.reason ?? "an x86-64 kernel never executes it"}): use tier user`);
  const implementation = spec.implementation ?? { name: "reference" };
  const served = implementationOf(implementation);
  if (!(served.tiersOf?.(implementation) ?? served.tiers).includes(spec.tier)) throw new Error(`${implementationLabel(implementation)} does not run on the ${spec.tier} tier: ${served.whyNotOtherTiers}`);
  // A driver whose own link cannot start is a measured skip, before any VM boots.
  await checkDriverStartup(spec, implementation, await driverCommand(implementation, spec.architecture, spec.defines));
  if (spec.tier === "system") return startSystemTarget(spec, implementation, maxMemoryBytes, caseDeadlineMs(spec));
  const capabilities = await probeCapabilities(spec);
  if (spec.inProcess) {
    const library = await buildNative({ arch: "amd64", kind: "shared", defines: spec.defines });
    const execTarget = await buildNative({ arch: "amd64", kind: "static" });
    const target = new InProcessTarget(spec, capabilities, createFixtures(execTarget), library, maxMemoryBytes);
    await target.start();
    return target;
  }
  const driver = await driverCommand(implementation, spec.architecture, spec.defines);
  // The child-mode exec target is the reference build: natively the reference driver itself
  // (the implementation's own when it is the reference), under qemu-user the host's build.
  const execTarget =
    spec.tier === "host" && implementation.name === "reference" ? driver.program : await buildNative({ arch: spec.tier === "host" ? spec.architecture.name : hostArchitecture.name, kind: "static" });
  if (!existsSync(execTarget)) throw new Error(`exec target missing: ${execTarget}`);
  const target = new DriverTarget(spec, capabilities, createFixtures(execTarget), driver, maxMemoryBytes);
  await target.start();
  return target;
}
