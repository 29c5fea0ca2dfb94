/**
 * Which architectures this machine's kernel executes natively: a fact of
 * the machine, measured (harness/process/host-execution.ts), never assumed
 * from the architecture table. Some x86-64 kernels cannot execute i386
 * binaries (a VM without 32-bit compat mode, a kernel booted with
 * ia32_emulation=0); there the host tier has no 386 target and 386 runs
 * under qemu-user in its place. VFORKCHECK_HOST_EXEC overrides the
 * measurement, so that tests can plan the other kind of machine. Pure.
 */
import { architectures, type Architecture, type ArchitectureName } from "./architectures.ts";
import { UsageError } from "./usage-error.ts";

export interface NativeExecution {
  architecture: ArchitectureName;
  /** This machine runs its binaries natively: the host tier can have it. */
  native: boolean;
  /** One sentence: what was measured, or that the override decided. */
  reason: string;
}

/** One entry per candidate architecture (Architecture.x86_64KernelMayExecute). */
export type HostExecution = readonly NativeExecution[];

export const hostExecOverrideVariable = "VFORKCHECK_HOST_EXEC";

/** The architectures an x86-64 kernel may execute natively: the ones to measure. */
export const nativeCandidates: readonly Architecture[] = architectures.filter((architecture) => architecture.x86_64KernelMayExecute);

/** What the measurement says of one architecture; undefined for one that is no candidate (never native here). */
export function nativeExecutionOf(hostExecution: HostExecution, name: ArchitectureName): NativeExecution | undefined {
  return hostExecution.find((entry) => entry.architecture === name);
}

export function runsNatively(hostExecution: HostExecution, name: ArchitectureName): boolean {
  return nativeExecutionOf(hostExecution, name)?.native === true;
}

/**
 * VFORKCHECK_HOST_EXEC's value (comma-separated architectures taken as
 * native; every other candidate is taken as not native), in place of the
 * measurement. An unknown name, or one no x86-64 kernel executes, is bad
 * input: one line.
 */
export function hostExecutionFromOverride(text: string, candidates: readonly Architecture[] = nativeCandidates): HostExecution {
  const names = text.split(",").map((name) => name.trim());
  for (const name of names) {
    if (candidates.some((candidate) => candidate.name === name)) continue;
    const known = architectures.some((architecture) => architecture.name === name);
    const why = known ? `'${name}' is no architecture an x86-64 kernel executes natively` : `unknown architecture '${name}'`;
    throw new UsageError(`${hostExecOverrideVariable}: ${why} (candidates: ${candidates.map((candidate) => candidate.name).join(",")})`);
  }
  const setting = `${hostExecOverrideVariable}=${text}`;
  return candidates.map((candidate) =>
    names.includes(candidate.name)
      ? { architecture: candidate.name, native: true, reason: `taken as native: ${setting} overrides the measurement` }
      : { architecture: candidate.name, native: false, reason: `taken as not native: ${setting} overrides the measurement and leaves ${candidate.name} out` },
  );
}
