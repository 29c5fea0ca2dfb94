/**
 * What must hold of a spawn asked for a pidfd (the pidfd property), judged
 * from the case, the child's own report and the observer, never from the
 * pid the implementation says it spawned. Pure.
 */
import { checkClonePath, expected, finished, type Run, type TargetView } from "./checks.ts";
import { OUTPUT_PRESET, type CaseResult, type ReturnedDescriptorState } from "./protocol.ts";
import type { SpawnCase } from "./spawn-case.ts";
import { errnoText } from "./errno.ts";

export const CLONE_PIDFD = 0x1000;

/** Why this target cannot be asked for a pidfd at all (both kernel paths refused, as the probe measured), or undefined. */
export function pidfdUnavailable(target: TargetView): string | undefined {
  const measured = target.capabilities.pidfdErrno;
  const tier = target.oracle.tier === "user" ? "qemu-user" : target.oracle.tier;
  if (!measured) return `the probe of ${target.name} did not measure pidfds (pidfd_clone, pidfd_clone3 missing from its caps line)`;
  const clone3 = errnoText(target.errnoName(measured.clone3), measured.clone3), clone = errnoText(target.errnoName(measured.clone), measured.clone);
  if (measured.clone3 && measured.clone) return `${tier} cannot express CLONE_PIDFD: clone3 ${clone3}, clone(CLONE_PIDFD) ${clone} (measured by the probe)`;
  // The reference asks through clone3 (native/spawn.h says why).
  if (measured.clone3 && target.oracle.hello.impl === "reference") return `${tier} cannot express clone3, the reference's pidfd path: ${clone3} (measured by the probe)`;
  return undefined;
}

/** The pidfd refers to the child, waitid(P_PIDFD) reaps exactly it, none is left open, and the kernel made it (CLONE_PIDFD in the observed clone). */
export function checkPidfd(spawnCase: SpawnCase, run: Run, target: TargetView): string[] {
  if (!finished(run)) return [];
  const result = run.result;
  const problems: string[] = [];
  if (result.leakedPidfds === undefined) problems.push("the driver did not report leaked_pidfds for a pidfd=1 case");
  else if (result.leakedPidfds > 0)
    problems.push(
      result.outcome === "error"
        ? `after the failed spawn ${result.leakedPidfds} pidfd(s) stayed open in the parent (glibc BZ 31695: pidfd_spawn leaked the pidfd when exec failed)`
        : `${result.leakedPidfds} pidfd(s) stayed open in the parent besides the one the spawn returned`,
    );
  problems.push(...checkFailedPidfd(result));
  const want = expected(spawnCase, target);
  const child = result.report;
  if (want.kind === "spawned" && result.outcome === "spawned" && child) {
    if (!result.pidfd) problems.push("the driver did not report what the returned pidfd refers to (pidfd_pid, pidfd_reaped)");
    else {
      const { pid, reaped } = result.pidfd;
      if (pid < 0) problems.push("the spawn returned no pidfd (none, or a descriptor that is not a pidfd)");
      else if (pid !== child.pid) problems.push(`the returned pidfd refers to pid ${pid} (its fdinfo), not the child, pid ${child.pid} as the exec'd program reports itself`);
      if (reaped !== child.pid)
        problems.push(`waitid(P_PIDFD) on the returned pidfd ${reaped < 0 ? `failed with ${errnoText(target.errnoName(-reaped), -reaped)}` : `reaped pid ${reaped}`}, not the child (pid ${child.pid})`);
    }
  }
  // The clone's own path and exit signal, then the pidfd's origin: a pidfd opened by pid afterwards can name a recycled pid.
  const path = checkClonePath(spawnCase, run, target);
  if (path.length) return [...problems, ...path];
  const clone = run.observed!.clones[0]!;
  if ((clone.flags & CLONE_PIDFD) === 0) problems.push("the observed clone has no CLONE_PIDFD: the pidfd did not come from the clone (pidfd_open by pid afterwards races with the pid's reuse)");
  return problems;
}

const returnedDescriptor: Record<ReturnedDescriptorState, string> = {
  closed: "a descriptor it had closed (the caller's close of it is a double close: it closes whatever next takes that number)",
  pidfd: "a pidfd still open (the caller, told the spawn failed, never closes it)",
  other: "an open descriptor that is not a pidfd (another of the caller's, which a close of the \"pidfd\" would take away)",
};

/** After a failed spawn its pidfd output holds no descriptor: the caller's value untouched, or -1 (docs/protocol.md, "What a failed spawn hands back"). */
export function checkFailedPidfd(result: CaseResult): string[] {
  if (result.outcome !== "error") return [];
  const returned = result.failedPidfd;
  if (!returned) return ["the driver did not report failed_pidfd (what the pidfd output holds after the failed spawn)"];
  if (returned.value === OUTPUT_PRESET || returned.value === -1) return [];
  const what = returned.value >= 0 && returned.is ? `pidfd ${returned.value}, ${returnedDescriptor[returned.is]}` : `pidfd ${returned.value}`;
  return [`the failed spawn handed back ${what}; a failed spawn hands back no descriptor (the caller's ${OUTPUT_PRESET} untouched, or -1)`];
}
