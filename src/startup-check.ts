/**
 * Whether a driver linked against a runtime release can start on a tier,
 * decided from what was measured: a trivial program linked the same way
 * (the "startup check") run once under the user tier's emulator (or
 * natively), and which instruction-set extensions that emulator executes
 * (src/isa-extensions.ts), and what its ELF shows wrong. Pure: harness/targets/startup-check.ts measures.
 */
import type { TierName } from "./tiers.ts";

export interface StartupMeasurement {
  /** Where the check ran: "under qemu-loongarch64 7.2.22", or "natively". */
  ranUnder: string;
  /** How it ended when it did not exit 0 ("signal SIGSEGV", "exit 1"); undefined when it exited 0. */
  died?: string;
  /** Extensions that emulator does not execute, each with the instruction that measured it. */
  lackingExtensions: readonly { extension: string; instruction: string }[];
  /** What a look at the binary found wrong, when it died (src/elf-irelative.ts). */
  found?: string;
}

export interface StartupContext {
  /** What was linked, for the reason: "glibc 2.41 by ld.lld-19". */
  linked: string;
  /** What the check is, when not a trivial static program linked the same way: "python@3.14's own loader (ld.so --version)". */
  checked?: string;
  /** The tier the driver is about to run on. */
  tier: TierName;
  /** The tier the measurement ran on (user, or host where the target runs natively). */
  measuredTier: TierName;
}

/** undefined: the driver may start; else the skip's reason. */
export function startupUnavailableReason(measurement: StartupMeasurement, context: StartupContext): string | undefined {
  if (measurement.died === undefined) return undefined;
  const dies = `${context.checked ?? `a trivial static program linked the same way against ${context.linked}`} dies with ${measurement.died} at start ${measurement.ranUnder}${measurement.found ? `: ${measurement.found}` : ""}`;
  // An illegal instruction is the emulator's: another tier's emulator (a VM's newer QEMU) may execute it, so only the measured tier is skipped.
  if (measurement.died === "signal SIGILL") {
    if (context.tier !== context.measuredTier) return undefined;
    const lacking = measurement.lackingExtensions.map((lack) => `${lack.extension} (${lack.instruction} raises SIGILL)`);
    return lacking.length ? `${dies}, which does not execute ${lacking.join(", ")}` : dies;
  }
  // Any other death at start is the link's: the same binary runs on every tier.
  return context.tier === context.measuredTier ? dies : `${dies}; the same binary runs on the ${context.tier} tier`;
}
