/**
 * Namespace flags of clone(2) and unshare(2), from include/uapi/linux/sched.h,
 * and one combination clone must refuse (CLONE_NEWNS|CLONE_FS: a new mount
 * namespace cannot share the parent's root and cwd), so that every target,
 * root or not, has a clone failure whose errno must reach the parent.
 */
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

/** Every entry whose bits are all in the mask. */
export function flagsIn(mask: number): NamespaceFlag[] {
  return namespaceFlags.filter((flag) => (mask & flag.value) >>> 0 === flag.value);
}

export function describeFlags(mask: number): string {
  const found = flagsIn(mask);
  // A combination's name covers the single flags it contains.
  const names = found.filter((flag) => !found.some((other) => other !== flag && (other.value & flag.value) === flag.value)).map((flag) => flag.name);
  const rest = namespaceFlags.reduce((m, flag) => m & ~flag.value, mask) >>> 0;
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.length ? names.join("|") : "0";
}

/**
 * "CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS" (or "0") as a mask: the namespace
 * flags above and CLONE_FS; undefined when a name is unknown.
 */
export function parseFlags(text: string): number | undefined {
  if (text === "0") return 0;
  let mask = 0;
  for (const name of text.split("|")) {
    const value = name === "CLONE_FS" ? CLONE_FS : namespaceFlags.find((flag) => flag.name === name)?.value;
    if (value === undefined) return undefined;
    mask |= value;
  }
  return mask >>> 0;
}
