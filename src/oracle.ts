/**
 * The oracle: what the kernel's semantics say must happen for a case on a
 * target, computed from the case and the target's measured capabilities
 * (never from what the implementation reports). Pure.
 *
 * Steps are checked in the order the kernel and a correct spawn meet them:
 * clone, unshare, setsid, setpgid, chdir, execve's path lookup, execve's
 * argument limits, execve's binary format. Clone comes first and execve
 * last for every spawn; the child's steps between them (unshare, setsid and
 * setpgid, chdir) are the implementation's to order, so when several of them
 * fail, each one's errno is right (the reference's order gives `errno`).
 */
import type { Architecture } from "./architectures.ts";
import { CLONE_NEWPID, CLONE_NEWUSER, flagsIn, type NamespaceFlag } from "./flags.ts";
import type { Capabilities, Hello, SignalContract } from "./protocol.ts";
import { parentStateSignals, type ParentSignalState, type SignalName } from "./signals.ts";
import type { DirectoryKind, PathKind, SpawnCase } from "./spawn-case.ts";

export interface OracleContext {
  architecture: Architecture;
  /** Whose numbering the exec target's report uses (the host's build under qemu-user); absent: architecture. */
  reportArchitecture?: Architecture;
  capabilities: Capabilities;
  hello: Hello;
  /** Tier name, only for the notes. */
  tier: string;
  /** Absolute directory each DirectoryKind resolves to. */
  directories: Record<Exclude<DirectoryKind, "none">, string>;
}

export interface ExpectedChild {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  /** "spawned" means: the pid the spawn returned. */
  pid: number | "spawned";
  ppid: number;
  pgid: number | "spawned";
  sid: number | "spawned";
  descriptors: number[];
}

export type Expected =
  | {
      kind: "error";
      errno: string;
      step: string;
      /** Other errnos that are as right: child steps that fail too, whose order the kernel leaves to the implementation. */
      alsoAccepted?: string[];
      notes: string[];
    }
  | { kind: "spawned"; child: ExpectedChild; notes: string[] };

export interface ExpectedPath {
  /** True: clone(CLONE_VM|CLONE_VFORK); false: a fork-style clone. */
  fastPath: boolean;
  why: string;
}

/** The three-behaviour rule: CLONE_NEWUSER anywhere means no vfork. */
export function expectClonePath(spawnCase: SpawnCase): ExpectedPath {
  if (spawnCase.cloneFlags & CLONE_NEWUSER) return { fastPath: false, why: "CLONE_NEWUSER in the clone flags: the parent must write the id maps" };
  if (spawnCase.unshareFlags & CLONE_NEWUSER) return { fastPath: false, why: "CLONE_NEWUSER in the unshare flags: the parent must write the id maps" };
  return { fastPath: true, why: "no CLONE_NEWUSER: the fast path" };
}

const pathErrno: Partial<Record<PathKind, string>> = {
  missing: "ENOENT",
  "not-executable": "EACCES",
  "through-file": "ENOTDIR",
  "symlink-loop": "ELOOP",
  "name-too-long": "ENAMETOOLONG",
};

const directoryErrno: Partial<Record<DirectoryKind, string>> = {
  missing: "ENOENT",
  "a-file": "ENOTDIR",
  "name-too-long": "ENAMETOOLONG",
};

/** The kernel's ceiling on all strings plus pointers (fs/exec.c bprm_stack_limits). */
export function argumentSpaceBytes(capabilities: Capabilities): number {
  const stack = capabilities.stackLimit < 0 ? Number.MAX_SAFE_INTEGER : capabilities.stackLimit;
  const argMax = 32 * capabilities.pageSize;
  return Math.min(Math.max(stack / 4, argMax), (8 * 1024 * 1024 / 4) * 3);
}

/** The child's steps before execve that fail for this case, in the reference's order. */
function childStepFailures(spawnCase: SpawnCase, capabilities: Capabilities, errnoName: (value: number) => string, tier: string, notes: string[]): { errno: string; step: string }[] {
  const failures: { errno: string; step: string }[] = [];
  // unshare. Inside a new user namespace the child holds every capability,
  // so only the probe's answer for CLONE_NEWUSER counts.
  const inNewUserNamespace = (spawnCase.cloneFlags & CLONE_NEWUSER) !== 0 || (spawnCase.unshareFlags & CLONE_NEWUSER) !== 0;
  for (const flag of combinationsFirst(flagsIn(spawnCase.unshareFlags))) {
    const value = capabilities.unshareErrno[flag.probeKey] ?? 0;
    const privilegeOnly = value === 1 /* EPERM */ && inNewUserNamespace && flag.value !== CLONE_NEWUSER;
    if (value !== 0 && !privilegeOnly) {
      const name = errnoName(value);
      notes.push(`${tier} refuses unshare(${flag.name}) with ${name} (measured by the probe)`);
      failures.push({ errno: name, step: "unshare" });
      break;
    }
  }
  // setsid makes the child a session leader; a session leader may not
  // change its process group: setpgid fails with EPERM.
  if (spawnCase.setsid && spawnCase.setpgid) failures.push({ errno: "EPERM", step: "setpgid" });
  if (spawnCase.cwd !== "none") {
    const name = directoryErrno[spawnCase.cwd];
    if (name) failures.push({ errno: name, step: "chdir" });
  }
  return failures;
}

export function argumentBytes(spawnCase: SpawnCase): number {
  const strings = [...spawnCase.argv, ...spawnCase.env];
  return strings.reduce((sum, s) => sum + s.length + 1, 0) + 8 * (strings.length + 1);
}

/** Cases the oracle cannot decide: too close to the total limit. */
export function isNearArgumentLimit(spawnCase: SpawnCase, capabilities: Capabilities): boolean {
  const total = argumentBytes(spawnCase) + 4096; /* the filename and the pointer-size slack */
  const limit = argumentSpaceBytes(capabilities);
  return total > limit * 0.9 && total < limit * 1.1;
}

function exceedsArgumentLimits(spawnCase: SpawnCase, capabilities: Capabilities): string | undefined {
  const longest = Math.max(0, ...[...spawnCase.argv, ...spawnCase.env].map((s) => s.length + 1));
  if (longest > capabilities.maxArgumentString) return `a string of ${longest} bytes is over the kernel's ${capabilities.maxArgumentString}-byte limit`;
  if (argumentBytes(spawnCase) >= argumentSpaceBytes(capabilities)) return `${argumentBytes(spawnCase)} bytes of arguments and environment are over the kernel's ${argumentSpaceBytes(capabilities)}`;
  return undefined;
}

/** The kernel refuses invalid flag combinations (EINVAL) before it checks privileges (EPERM). */
function combinationsFirst(flags: NamespaceFlag[]): NamespaceFlag[] {
  const isCombination = (flag: NamespaceFlag) => (flag.value & (flag.value - 1)) !== 0;
  return [...flags.filter(isCombination), ...flags.filter((flag) => !isCombination(flag))];
}

export function expectOutcome(spawnCase: SpawnCase, context: OracleContext, errnoName: (value: number) => string): Expected {
  const { capabilities, hello } = context;
  const tier = context.tier === "user" ? "qemu-user" : context.tier;
  const notes: string[] = [];
  const path = expectClonePath(spawnCase);

  // 1. clone: each namespace flag as the probe measured it on this target.
  const cloneTable = path.fastPath ? capabilities.vforkErrno : capabilities.cloneErrno;
  for (const flag of combinationsFirst(flagsIn(spawnCase.cloneFlags))) {
    const value = cloneTable[flag.probeKey] ?? 0;
    if (value !== 0) {
      const name = errnoName(value);
      notes.push(`${tier} refuses ${flag.name} in ${path.fastPath ? "a vfork" : "a fork-style"} clone with ${name} (measured by the probe)`);
      return { kind: "error", errno: name, step: "clone", notes };
    }
  }

  // 2-5. The child's steps; each that fails is a possible answer.
  const childFailures = childStepFailures(spawnCase, capabilities, errnoName, tier, notes);
  if (childFailures.length) {
    const [first, ...others] = childFailures;
    const alsoAccepted = [...new Set(others.map((failure) => failure.errno))].filter((errno) => errno !== first!.errno);
    if (alsoAccepted.length) notes.push(`${childFailures.map((failure) => failure.step).join(", ")} all fail; their order is the implementation's`);
    return { kind: "error", errno: first!.errno, step: first!.step, ...(alsoAccepted.length ? { alsoAccepted } : {}), notes };
  }

  // 6. execve: the path first, then the argument space, then the format.
  const lookup = pathErrno[spawnCase.path];
  if (lookup) return { kind: "error", errno: lookup, step: "execve", notes };
  const tooBig = exceedsArgumentLimits(spawnCase, capabilities);
  if (tooBig) {
    notes.push(tooBig);
    return { kind: "error", errno: "E2BIG", step: "execve", notes };
  }
  if (spawnCase.path === "garbage") return { kind: "error", errno: "ENOEXEC", step: "execve", notes };

  const inNewUserNamespace = (spawnCase.cloneFlags & CLONE_NEWUSER) !== 0 || (spawnCase.unshareFlags & CLONE_NEWUSER) !== 0;
  const newPidNamespace = (spawnCase.cloneFlags & CLONE_NEWPID) !== 0;
  const ownPid: number | "spawned" = newPidNamespace ? 1 : "spawned";
  // What the parent holds without close-on-exec (standard ones included, and
  // those the case has it open for the spawn) stays open in the child, at its number.
  const reportDescriptor = spawnCase.reportDescriptor ?? hello.reportDescriptor;
  const parentHeld = spawnCase.parentDescriptors ?? [];
  const descriptors = [...new Set([reportDescriptor, ...spawnCase.descriptors, ...hello.inheritedDescriptors, ...parentHeld])].sort((a, b) => a - b);
  const unusual = hello.inheritedDescriptors.filter((fd) => fd > 2);
  if (unusual.length) notes.push(`the parent holds descriptors ${unusual.join(",")} without close-on-exec; children inherit them`);
  if (parentHeld.length) notes.push(`the case has the parent hold descriptors ${parentHeld.join(",")} without close-on-exec at the spawn; the child inherits them`);
  return {
    kind: "spawned",
    notes,
    child: {
      argv: spawnCase.argv,
      env: spawnCase.env,
      cwd: spawnCase.cwd === "none" ? hello.cwd : context.directories[spawnCase.cwd],
      uid: inNewUserNamespace ? spawnCase.uidInside : hello.euid,
      gid: inNewUserNamespace ? spawnCase.gidInside : hello.egid,
      pid: ownPid,
      // The parent lives outside a new pid namespace: invisible from inside.
      ppid: newPidNamespace ? 0 : hello.pid,
      pgid: spawnCase.setsid || spawnCase.setpgid ? ownPid : newPidNamespace ? 0 : hello.pgid,
      sid: spawnCase.setsid ? ownPid : newPidNamespace ? 0 : hello.sid,
      descriptors,
    },
  };
}

/** What the exec'd program must see of the signals a case sets in the parent. */
export interface ExpectedSignals {
  /** Of parentStateSignals, exactly these are blocked. */
  blocked: SignalName[];
  /** The dispositions the case decides (the others are the driver's own): ignored, or back to SIG_DFL. */
  dispositions: Partial<Record<SignalName, "ignored" | "default">>;
  /** The rule, for messages. */
  rule: string;
}

/**
 * By execve (and posix_spawn without attributes): the mask is inherited as
 * it was at the spawn, SIG_IGN stays, a handler becomes SIG_DFL (the code is
 * gone). libuv's contract (reset_all): every signal unblocked and SIG_DFL.
 * No program has a handler right after exec, whatever the contract.
 */
export function expectSignalState(parent: ParentSignalState, contract: SignalContract, defaulted: readonly SignalName[] = []): ExpectedSignals {
  if (contract === "reset_all")
    return {
      blocked: [],
      dispositions: Object.fromEntries(parentStateSignals.map((signal) => [signal, "default"])),
      rule: "the implementation's contract (reset_all): every signal unblocked and at SIG_DFL in the child",
    };
  const dispositions: ExpectedSignals["dispositions"] = {};
  for (const signal of parent.ignored) dispositions[signal] = "ignored";
  for (const signal of parent.handled) dispositions[signal] = "default";
  const reset = defaulted.filter((signal) => parentStateSignals.includes(signal));
  for (const signal of reset) dispositions[signal] = "default";
  const rule = "POSIX: the parent's mask at the spawn is inherited, ignored signals stay ignored, handled ones become SIG_DFL";
  return { blocked: [...parent.blocked], dispositions, rule: reset.length ? `${rule}; the spawn sets ${reset.join(",")} to SIG_DFL (hello: entry_signals_defaulted)` : rule };
}
