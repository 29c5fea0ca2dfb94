/**
 * Namespace flags of clone(2) and unshare(2), from include/uapi/linux/sched.h,
 * and one combination clone must refuse (CLONE_NEWNS|CLONE_FS: a new mount
 * namespace cannot share the parent's root and cwd), so that every target,
 * root or not, has a clone failure whose errno must reach the parent.
 */
import type { Architecture } from "./architectures.ts";
import { signalName } from "./signals.ts";

export const CLONE_VM = 0x100;
export const CLONE_VFORK = 0x4000;

export interface NamespaceFlag {
  name: string;
  value: number;
  /** Key in the capability probe's line ("newns" for clone_newns=...). */
  probeKey: string;
  /** clone(2) can carry it: CLONE_NEWTIME shares its bit with the exit-signal byte. */
  cloneCanExpress: boolean;
}

export const namespaceFlags: readonly NamespaceFlag[] = [
  { name: "CLONE_NEWNS", value: 0x00020000, probeKey: "newns", cloneCanExpress: true },
  { name: "CLONE_NEWCGROUP", value: 0x02000000, probeKey: "newcgroup", cloneCanExpress: true },
  { name: "CLONE_NEWUTS", value: 0x04000000, probeKey: "newuts", cloneCanExpress: true },
  { name: "CLONE_NEWIPC", value: 0x08000000, probeKey: "newipc", cloneCanExpress: true },
  { name: "CLONE_NEWUSER", value: 0x10000000, probeKey: "newuser", cloneCanExpress: true },
  { name: "CLONE_NEWPID", value: 0x20000000, probeKey: "newpid", cloneCanExpress: true },
  { name: "CLONE_NEWNET", value: 0x40000000, probeKey: "newnet", cloneCanExpress: true },
  { name: "CLONE_NEWTIME", value: 0x00000080, probeKey: "newtime", cloneCanExpress: false },
  { name: "CLONE_NEWNS|CLONE_FS", value: 0x00020200, probeKey: "newns_fs", cloneCanExpress: true },
];

export const CLONE_NEWUSER = 0x10000000;
export const CLONE_FS = 0x200;
export const CLONE_NEWPID = 0x20000000;

/**
 * Every flag bit of clone(2) below bit 32, by name (include/uapi/linux/sched.h):
 * how a mask is printed and read back. 0x80 is CLONE_NEWTIME in an unshare
 * mask and clone3's word; in clone(2)'s word the low byte is the exit signal.
 */
export const cloneFlagBits: readonly { name: string; value: number }[] = [
  { name: "CLONE_NEWTIME", value: 0x80 }, { name: "CLONE_VM", value: 0x100 }, { name: "CLONE_FS", value: 0x200 }, { name: "CLONE_FILES", value: 0x400 },
  { name: "CLONE_SIGHAND", value: 0x800 }, { name: "CLONE_PIDFD", value: 0x1000 }, { name: "CLONE_PTRACE", value: 0x2000 }, { name: "CLONE_VFORK", value: 0x4000 },
  { name: "CLONE_PARENT", value: 0x8000 }, { name: "CLONE_THREAD", value: 0x10000 }, { name: "CLONE_NEWNS", value: 0x20000 }, { name: "CLONE_SYSVSEM", value: 0x40000 },
  { name: "CLONE_SETTLS", value: 0x80000 }, { name: "CLONE_PARENT_SETTID", value: 0x100000 }, { name: "CLONE_CHILD_CLEARTID", value: 0x200000 },
  { name: "CLONE_DETACHED", value: 0x400000 }, { name: "CLONE_UNTRACED", value: 0x800000 }, { name: "CLONE_CHILD_SETTID", value: 0x1000000 },
  { name: "CLONE_NEWCGROUP", value: 0x2000000 }, { name: "CLONE_NEWUTS", value: 0x4000000 }, { name: "CLONE_NEWIPC", value: 0x8000000 },
  { name: "CLONE_NEWUSER", value: 0x10000000 }, { name: "CLONE_NEWPID", value: 0x20000000 }, { name: "CLONE_NEWNET", value: 0x40000000 }, { name: "CLONE_IO", value: 0x80000000 },
];

/** Every entry whose bits are all in the mask. */
export function flagsIn(mask: number): NamespaceFlag[] {
  return namespaceFlags.filter((flag) => (mask & flag.value) >>> 0 === flag.value);
}

/** The names of the bits cloneFlagBits knows, in its order, and the rest as one hex number. */
function bitNames(mask: number): string[] {
  const names = cloneFlagBits.filter((flag) => (mask & flag.value) >>> 0 === flag.value).map((flag) => flag.name);
  const rest = cloneFlagBits.reduce((m, flag) => m & ~flag.value, mask) >>> 0;
  return rest ? [...names, `0x${rest.toString(16)}`] : names;
}

/**
 * A case's clone or unshare mask by name, as a known finding's file writes
 * it: "CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS", "0" for none. The namespace
 * flags come first, in namespaceFlags' order (a combination's name covers
 * the single flags it contains), then other clone flags, then bits no flag
 * names as one hex number ("CLONE_NEWPID|0x4"). parseFlags reads it back.
 */
export function describeFlags(mask: number): string {
  const found = flagsIn(mask);
  const names = found.filter((flag) => !found.some((other) => other !== flag && (other.value & flag.value) === flag.value)).map((flag) => flag.name);
  // Only the bits of flags found: CLONE_FS without CLONE_NEWNS is no combination, and is named on its own.
  const rest = found.reduce((m, flag) => m & ~flag.value, mask) >>> 0;
  names.push(...bitNames(rest));
  return names.length ? names.join("|") : "0";
}

/**
 * The flags word of an observed clone(2) call as strace prints it: the flag
 * bits by name, then the exit signal of the low byte by this architecture's
 * name ("CLONE_VM|CLONE_VFORK|SIGCHLD"); a number no signal has stays a number.
 */
export function describeCloneWord(word: number, architecture: Architecture): string {
  const exitSignal = word & 0xff;
  const names = bitNames((word & ~0xff) >>> 0);
  if (exitSignal) names.push(signalName(architecture, exitSignal) ?? String(exitSignal));
  return names.length ? names.join("|") : "0";
}

/**
 * "CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS" (or "0") as a mask: names of
 * cloneFlagBits and hex numbers ("0x4", describeFlags' remainder) joined by
 * "|"; undefined when a part is neither.
 */
export function parseFlags(text: string): number | undefined {
  if (text === "0") return 0;
  let mask = 0;
  for (const name of text.split("|")) {
    const value = /^0x[0-9a-f]+$/i.test(name) ? Number.parseInt(name, 16) : cloneFlagBits.find((flag) => flag.name === name)?.value;
    if (value === undefined || value > 0xffffffff) return undefined;
    mask |= value;
  }
  return mask >>> 0;
}
