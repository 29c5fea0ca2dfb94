/**
 * What a report says about each target besides its properties: what it ran
 * on (kernel, QEMU, toolchains), the capabilities its probe measured and, on the system tier, the VM's boot
 * time, throughput and memory. Also the side-by-side view per architecture
 * of what qemu-user emulates against what a real kernel does.
 */
import type { Capabilities } from "../../src/protocol.ts";
import { namespaceFlags } from "../../src/flags.ts";
import type { MachineStatistics } from "../targets/system-target.ts";
import type { TargetProvenance } from "../targets/target-provenance.ts";

export interface CapabilitySummary {
  vforkSharesMemory: boolean;
  parentSuspended: boolean;
  /** Namespace flags a vfork-style clone (CLONE_VM|CLONE_VFORK|flag) is allowed with, as measured. */
  namespacesAllowedWithVfork: string[];
  /** ... and a fork-style clone. */
  namespacesAllowedWithFork: string[];
  /** Whether an unaligned 8-byte access completes (probe: unaligned_fixup); absent from an older probe. */
  unalignedFixup?: boolean;
}

/** Also (TargetProvenance) the kernel, QEMU and toolchains it ran on. */
export interface TargetSummary extends TargetProvenance {
  target: string;
  arch: string;
  tier: string;
  capabilities: CapabilitySummary;
  machine?: MachineStatistics;
  /** Seconds from the target's start (its build, probe or boot) to its last property's end (the gate's report). */
  wall_s?: number;
}

export function summarizeCapabilities(capabilities: Capabilities): CapabilitySummary {
  const allowed = (errnos: Record<string, number>) => namespaceFlags.filter((flag) => errnos[flag.probeKey] === 0).map((flag) => flag.name);
  return {
    vforkSharesMemory: capabilities.vforkSharesMemory,
    parentSuspended: capabilities.parentSuspended,
    namespacesAllowedWithVfork: allowed(capabilities.vforkErrno),
    namespacesAllowedWithFork: allowed(capabilities.cloneErrno),
    ...(capabilities.unalignedFixup !== undefined ? { unalignedFixup: capabilities.unalignedFixup } : {}),
  };
}

/** Per architecture, each tier's capabilities next to the others'. */
export function capabilitiesByArchitecture<Capability = CapabilitySummary>(summaries: readonly { arch: string; tier: string; capabilities: Capability }[]): Record<string, Record<string, Capability>> {
  const table: Record<string, Record<string, Capability>> = {};
  for (const summary of summaries) (table[summary.arch] ??= {})[summary.tier] = summary.capabilities;
  return table;
}
