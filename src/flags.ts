/** Namespace flags of clone(2) and unshare(2), from include/uapi/linux/sched.h. */
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
];

export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;

export function flagsIn(mask: number): NamespaceFlag[] {
  return namespaceFlags.filter((flag) => (mask & flag.value) !== 0);
}

export function describeFlags(mask: number): string {
  const names = flagsIn(mask).map((flag) => flag.name);
  const rest = namespaceFlags.reduce((m, flag) => m & ~flag.value, mask) >>> 0;
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.length ? names.join("|") : "0";
}
