/**
 * The case model: one spawn to perform, as fast-check generates it. Paths
 * are symbolic (a fixture kind) so that the same case means the same thing
 * on every target; the harness resolves them.
 */
export type PathKind =
  | "exec-target"      // the child-mode exec target: succeeds and reports
  | "missing"          // ENOENT
  | "not-executable"   // a regular file without execute permission: EACCES
  | "garbage"          // executable, neither ELF nor #!: ENOEXEC
  | "through-file"     // a regular file used as a directory: ENOTDIR
  | "symlink-loop"     // ELOOP
  | "name-too-long";   // longer than PATH_MAX: ENAMETOOLONG

import { describeFlags } from "./flags.ts";
import type { HandlerFlag, ParentSignalState } from "./signals.ts";

export type DirectoryKind = "none" | "fixtures" | "root" | "missing" | "a-file" | "name-too-long";

/** The same kinds as values, for validating a case read from a file (a known finding's reproducer). */
export const pathKinds: readonly PathKind[] = ["exec-target", "missing", "not-executable", "garbage", "through-file", "symlink-loop", "name-too-long"];
export const directoryKinds: readonly DirectoryKind[] = ["none", "fixtures", "root", "missing", "a-file", "name-too-long"];

export interface SpawnCase {
  path: PathKind;
  argv: string[];
  env: string[];
  cwd: DirectoryKind;
  cloneFlags: number;
  unshareFlags: number;
  setsid: boolean;
  setpgid: boolean;
  /** Descriptor numbers the child must have open (each /dev/null). */
  descriptors: number[];
  /**
   * Descriptors the spawning process itself holds without close-on-exec at
   * the spawn (each /dev/null), not mapped by the spawn: the child inherits
   * them at their numbers (case field parent_fds; drivers whose hello lists
   * it). What a caller's shell or service manager leaves open, as a case.
   * Absent: none.
   */
  parentDescriptors?: number[];
  /** Where the report pipe goes in the child; absent: the hello's report_fd (drivers without report_fd_any). */
  reportDescriptor?: number;
  /** With CLONE_NEWUSER: the ids the child maps to the parent's. */
  uidInside: number;
  gidInside: number;
  /** Bytes of memory the parent maps and touches before spawning. */
  memoryBytes: number;
  /** Signal the parent's process group without pause while it spawns. */
  signalStorm: boolean;
  /** The parent's signal state at the spawn (signal-state); absent: the driver's own. */
  parentSignals?: ParentSignalState;
  /**
   * The flags of the storm's handler and of every handled signal (case field
   * handler_flags, drivers whose hello lists it); absent: SA_RESTART alone.
   */
  handlerFlags?: HandlerFlag[];
  /** Which of the driver's entry points spawns (hello entry_points, e.g. "start_process"); absent: its first. */
  entry?: string;
  /** The spawn returns a pidfd of the child (case field pidfd=1; the pidfd property). */
  pidfd?: boolean;
  /** The spawn goes through clone3 (case field clone3=1; drivers whose hello lists clone3). */
  clone3?: boolean;
  /**
   * concurrent-spawns: 2..8 spawns that start at the same moment, one per
   * thread of the parent, each with its own path and descriptors (the rest
   * of the case is theirs in common). `path` and `descriptors` above are the
   * first one's. Absent: one spawn.
   */
  concurrentSpawns?: ConcurrentSpawn[];
  /** With concurrentSpawns: each spawn runs this many times in a row on its thread (case field rounds; drivers whose hello lists thread_rounds). Absent: once. */
  rounds?: number;
  /**
   * With concurrentSpawns: plain forks that another thread of the parent
   * makes while the spawns run, each child exec'ing the exec target with the
   * report descriptor alone (case field fork_thread; drivers whose hello
   * lists fork_thread). Absent: none.
   */
  plainForks?: number;
}

/** What one spawn of a concurrent case does on its own. */
export interface ConcurrentSpawn {
  path: PathKind;
  descriptors: number[];
}

/** Most spawns a concurrent case runs at once (the protocol's threads field). */
export const mostConcurrentSpawns = 8;

/** The single-spawn case each spawn of a concurrent case is: how the oracle judges it. */
export function concurrentSubCases(spawnCase: SpawnCase): SpawnCase[] {
  const { concurrentSpawns, rounds, plainForks, ...shared } = spawnCase;
  return (concurrentSpawns ?? []).map((spawn) => ({ ...shared, path: spawn.path, descriptors: spawn.descriptors }));
}

/**
 * The single-spawn case a plain fork of a concurrent case is: the exec
 * target with the case's argv and environment and the report descriptor
 * alone, from the parent as it is (no namespaces, session, directory,
 * pidfd or entry point of the spawns'). How the oracle judges it.
 */
export function plainForkCase(spawnCase: SpawnCase): SpawnCase {
  const { concurrentSpawns, rounds, plainForks, pidfd, clone3, entry, ...shared } = spawnCase;
  return { ...shared, path: "exec-target", descriptors: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false };
}

/** Where the harness put each fixture, for one target. */
export interface ResolvedPaths {
  execTarget: string;
  fixturesDirectory: string;
  path: Record<PathKind, string>;
  directory: Record<Exclude<DirectoryKind, "none">, string>;
}

/** A case with its flag masks by name ("CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS", "0"), the rest as it is. */
export type NamedFlagsCase = Omit<SpawnCase, "cloneFlags" | "unshareFlags"> & { cloneFlags: string; unshareFlags: string };

/**
 * The case as people read it and as a known finding's reproducer writes it
 * (src/known-findings.ts reads it back): the masks by name, in place.
 */
export function caseWithFlagNames(spawnCase: SpawnCase): NamedFlagsCase {
  return { ...spawnCase, cloneFlags: describeFlags(spawnCase.cloneFlags), unshareFlags: describeFlags(spawnCase.unshareFlags) };
}

/** One line for a counterexample: the case with its masks by name, long strings cut short (the report keeps the whole case). */
export function describeCase(spawnCase: SpawnCase): string {
  return JSON.stringify(caseWithFlagNames(spawnCase), (_key, value) =>
    typeof value === "string" && value.length > 64 ? `${value.slice(0, 32)}...(${value.length} chars)` : value,
  );
}
