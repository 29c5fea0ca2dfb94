/**
 * concurrent-spawns
 *
 * Kernel behaviour: a descriptor table is the whole process's, so a child
 * cloned by one thread copies every descriptor the other threads hold at
 * that moment, and execve closes exactly those marked close-on-exec. So
 * when several threads of a parent spawn at the same moment, each child
 * must see exactly its own descriptors (its mapped ones, the report
 * descriptor, what the parent passes on), never a pipe of another spawn
 * that was open without FD_CLOEXEC while it was cloned; and wait4 and the
 * error pipe are per child, so each caller must get its own child's
 * outcome: its pid, its exit status, its errno. Each spawn has its own path
 * kind (some exec, some fail with their own errno) and descriptor set; the
 * oracle judges each from its own sub-case alone. The spawns take every
 * path a single case can: the fast path, the CLONE_NEWUSER fork fallback
 * with its id-map pipes, namespaces, sessions, working directories and
 * failures at each step. A plain fork on another thread is the same hazard
 * from outside the implementation: its child, exec'ing the exec target with
 * the report descriptor alone, must see exactly that and what the parent
 * passes on.
 *
 * A window of two system calls (a pipe made, then marked close-on-exec) is
 * hit only by a clone inside it, so each spawn runs several rounds and the
 * fork thread forks meanwhile (src/arbitraries/concurrent-spawns.ts says
 * how that was sized).
 *
 * Guards: (16) two spawns at once from a threaded parent, or a spawn and a
 * plain fork: one child inherits the other spawn's error pipe (musl
 * b7bc9665, OpenJDK JDK-8377907, a pipe marked close-on-exec a call too
 * late), or a caller gets the other child's outcome.
 */
import { concurrentSpawnsCaseArbitrary } from "../src/arbitraries/concurrent-spawns.ts";
import { checkConcurrentSpawns } from "../src/concurrent-checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

/** The hello feature of a driver that runs a case's spawns on threads of its own, at once (docs/protocol.md). */
export const threadsFeature = "threads";

export const property: PropertyDefinition = {
  name: "concurrent-spawns",
  behaviour: "spawns started at the same moment from threads of one parent each give their child exactly its own descriptors, and their caller its own child's pid, status or errno",
  guards: ["pipe-cloexec-in-child", "shared-result-slot", "pipe-cloexec-late"],
  skip: (target) =>
    target.oracle.hello.features.includes(threadsFeature)
      ? undefined
      : `${target.name} cannot spawn from several threads at once (no ${threadsFeature} in its hello${target.oracle.hello.impl === "reference" ? ": in-process, the threads would be raw threads inside Node" : ""})`,
  arbitrary: (limits) => concurrentSpawnsCaseArbitrary(limits),
  check: (spawnCase, run, target) => checkConcurrentSpawns(spawnCase, run, target),
};
