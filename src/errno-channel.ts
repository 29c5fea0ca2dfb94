/**
 * Whether a child step's errno can reach the parent on a target: a question
 * of how the implementation sends it (the hello's errno_channel) and of what
 * the target's vfork does (the probe's vfork_shares_memory), never of the
 * target's name. glibc's posix_spawn stores the child's errno in memory it
 * shares with the parent through CLONE_VM; qemu-user runs
 * CLONE_VM|CLONE_VFORK as a fork, so the store lands in the child's own
 * copy and the parent sees a spawn that succeeded. That verdict is the
 * emulator's, not glibc's: such cases are not drawn there (and
 * errno-propagates, which is about nothing else, is a skip), with the
 * measured reason. Where vfork shares memory (host, system) every case is
 * drawn and judged, so a glibc that loses an errno still fails there.
 */
import { expected, type TargetView } from "./checks.ts";
import type { Expected } from "./oracle.ts";
import type { Capabilities, Hello } from "./protocol.ts";
import { concurrentSubCases, type SpawnCase } from "./spawn-case.ts";

/** Why a child step's errno cannot arrive on this target, or undefined when it can (or the implementation did not say how it travels). */
export function childErrnoUnobservable(hello: Hello, capabilities: Capabilities): string | undefined {
  if (hello.errnoChannel !== "shared_memory" || capabilities.vforkSharesMemory) return undefined;
  return (
    `${hello.impl} returns a failed child step's errno through memory the child shares with the parent (hello: errno_channel=shared_memory), ` +
    `and this target runs CLONE_VM|CLONE_VFORK as a fork (probe: vfork_shares_memory=0): the errno cannot arrive here whatever ${hello.impl} does, ` +
    `so no case whose verdict is a child step's errno is drawn (judged where vfork shares memory: host and system tiers)`
  );
}

/** The case's verdict is an errno that a step of the child (not clone itself) must send back. */
export function needsChildErrno(want: Expected): boolean {
  return want.kind === "error" && want.step !== "clone";
}

/** Some spawn of the case (each of a concurrent case's, judged from its own sub-case) has a child step's errno as its verdict. */
export function caseNeedsChildErrno(spawnCase: SpawnCase, target: TargetView): boolean {
  const spawns = spawnCase.concurrentSpawns?.length ? concurrentSubCases(spawnCase) : [spawnCase];
  return spawns.some((each) => needsChildErrno(expected(each, target)));
}
