/**
 * What a probe's answer says is wrong before any case runs: a caps line
 * that contradicts what every kernel guarantees (then the probe's own clone
 * path is broken, and an oracle built on it would follow), and a probe that
 * died inside a VM (init's `vfc-init probe-failed status=N`). Pure: the
 * harness (harness/targets/probe.ts, system-target.ts) measures and throws.
 */
import type { Architecture } from "./architectures.ts";
import { errnoName, errnoNumber } from "./errno.ts";
import type { Capabilities } from "./protocol.ts";
import { signalName } from "./signals.ts";

/**
 * Facts no target differs on: clone refuses CLONE_NEWNS|CLONE_FS with
 * EINVAL (copy_process's first check, before any permission; qemu-user
 * refuses every namespace flag with EINVAL), fork-style and vfork alike.
 * Each contradiction as a sentence; none for a sound probe.
 */
export function probeContradictions(capabilities: Capabilities, architecture: Architecture): string[] {
  const einval = errnoNumber(architecture, "EINVAL");
  const contradictions: string[] = [];
  for (const [kind, errnos] of [["fork-style", capabilities.cloneErrno], ["vfork", capabilities.vforkErrno]] as const) {
    const measured = errnos["newns_fs"];
    if (measured !== undefined && measured !== einval)
      contradictions.push(`a ${kind} clone with CLONE_NEWNS|CLONE_FS measured ${measured === 0 ? "allowed" : errnoName(architecture, measured)}, which every kernel refuses with EINVAL`);
  }
  return contradictions;
}

/** The one-line reason for a caps line that contradicts the facts, or undefined. */
export function contradictedProbeReason(capabilities: Capabilities, architecture: Architecture): string | undefined {
  const contradictions = probeContradictions(capabilities, architecture);
  return contradictions.length ? `the probe's own clone path is broken: ${contradictions.join("; ")}` : undefined;
}

/**
 * init's status for the probe: a wait status (a signal in its low 7 bits,
 * else an exit code in the next byte), or a negative errno when init could
 * not clone it at all.
 */
export function describeProbeStatus(status: number, architecture: Architecture): string {
  if (status < 0) return `init could not start it (${errnoName(architecture, -status)})`;
  const signal = status & 0x7f;
  if (signal !== 0) return `it crashed with ${signalName(architecture, signal) ?? `signal ${signal}`}`;
  const code = (status >> 8) & 0xff;
  return code === 127 ? "init could not exec it (exit 127)" : `it exited with ${code}`;
}
