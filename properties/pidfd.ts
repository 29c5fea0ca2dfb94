/**
 * pidfd
 *
 * Kernel behaviour: with CLONE_PIDFD (clone3's pidfd field, or clone's
 * parent_tid) the kernel hands the parent a descriptor that refers to
 * exactly the new child: its /proc/self/fdinfo "Pid:" is the child's pid,
 * and waitid(P_PIDFD) on it reaps that child and reports its status. A
 * spawn that fails after the clone (the child's exec fails) must close the
 * pidfd again: the caller gets an error, not a descriptor, so nothing else
 * would ever close it; and it must not hand the closed number back (the
 * caller's close of it would close whatever took that number next). The clone must still be the fast path with SIGCHLD
 * as its exit signal (clone3 carries it in a field of its own, which the
 * observer decodes).
 *
 * Guards: (15) a pidfd left open after a failed spawn (glibc BZ 31695,
 * pidfd_spawn), or its closed number handed back, or a pidfd referring to
 * the wrong process so that waitid(P_PIDFD) does not reap the child.
 */
import { spawnCaseArbitrary } from "../src/arbitraries/spawn-case.ts";
import { checkOutcome, checkParentIntact } from "../src/checks.ts";
import { checkPidfd, pidfdUnavailable } from "../src/pidfd-checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

export const property: PropertyDefinition = {
  name: "pidfd",
  behaviour: "the pidfd a spawn returns refers to its child, waitid(P_PIDFD) reaps exactly that child, and a failed spawn leaves no pidfd open and hands back none",
  guards: ["pidfd-leak-on-failure", "pidfd-wrong-process", "pidfd-closed-returned"],
  skip: (target) =>
    target.oracle.hello.features.includes("pidfd") ? pidfdUnavailable(target) : `${target.name} does not return pidfds (no pidfd in its hello)`,
  arbitrary: (limits) =>
    spawnCaseArbitrary(
      {
        paths: ["exec-target", "exec-target", "missing", "not-executable", "garbage"],
        directories: ["none", "fixtures", "missing"],
        newUser: "none",
        namespaces: false,
        environment: "small",
        sessions: true,
        pidfd: true,
      },
      limits,
    ),
  check: (spawnCase, run, target) => [...checkOutcome(spawnCase, run, target), ...checkParentIntact(run, target), ...checkPidfd(spawnCase, run, target)],
};
