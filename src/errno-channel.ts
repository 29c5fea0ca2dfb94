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
import { entryPointErrnoChannel, type Capabilities, type Hello } from "./protocol.ts";
import { concurrentSubCases, type SpawnCase } from "./spawn-case.ts";

/**
 * Why a child step's errno cannot arrive on this target through this entry
 * point (its entry_errno_channels item, else the hello's errno_channel), or
 * undefined when it can (or the implementation did not say how it travels).
 * Without an entry: why it can arrive through none of the entry points.
 */
export function childErrnoUnobservable(hello: Hello, capabilities: Capabilities, entry?: string): string | undefined {
  if (capabilities.vforkSharesMemory) return undefined;
  const entries = entry !== undefined ? [entry] : hello.entryPoints?.length ? hello.entryPoints : [undefined];
  if (!entries.every((each) => entryPointErrnoChannel(hello, each) === "shared_memory")) return undefined;
  const who = entry !== undefined && hello.entryErrnoChannels?.[entry] ? `${hello.impl}'s ${entry}` : hello.impl;
  const said = entry !== undefined && hello.entryErrnoChannels?.[entry] ? `entry_errno_channels ${entry}:shared_memory` : "errno_channel=shared_memory";
  return (
    `${who} returns a failed child step's errno through memory the child shares with the parent (hello: ${said}), ` +
    `and this target runs CLONE_VM|CLONE_VFORK as a fork (probe: vfork_shares_memory=0): the errno cannot arrive here whatever ${hello.impl} does, ` +
    `so no case whose verdict is a child step's errno is drawn (judged where vfork shares memory: host and system tiers)`
  );
}

/** Why some entry point's child errno cannot arrive here (the first such entry's reason), or undefined when every one's can. */
export function someChildErrnoUnobservable(hello: Hello, capabilities: Capabilities): string | undefined {
  const entries = hello.entryPoints?.length ? hello.entryPoints : [undefined];
  return entries.map((entry) => childErrnoUnobservable(hello, capabilities, entry)).find((reason) => reason !== undefined);
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
