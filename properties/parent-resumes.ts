/**
 * parent-resumes
 *
 * Kernel behaviour: with CLONE_VM|CLONE_VFORK the child runs on the
 * parent's memory and stack until it execs or exits; the parent is
 * suspended until then and must resume with its return address,
 * callee-saved registers and stack intact, get the child's pid, and reap
 * exactly that child.
 *
 * Guards: (1) return address kept on the shared stack across the vfork
 * syscall; (2) parent reading a stack local the child wrote; (11) child not
 * reaped; (12) SIGCHLD missing from the clone flags (the wait fails);
 * (17) the parent not suspended (CLONE_VM without CLONE_VFORK), judged
 * from the observer's order of the child's exec or exit and the parent's
 * return (src/checks.ts, checkSuspendedUntilRelease); and, for an
 * implementation that claims the fast path (hello fast_path), the clone the
 * observer saw not being CLONE_VM|CLONE_VFORK (CPython's vfork path or
 * posix_spawn quietly forking, say; src/checks.ts, checkClonePath).
 */
import { spawnCaseArbitrary } from "../src/arbitraries/spawn-case.ts";
import { checkClonePath, checkOutcome, checkParentIntact, claimsClonePath } from "../src/checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

export const property: PropertyDefinition = {
  name: "parent-resumes",
  behaviour: "the vfork parent resumes with its stack, registers and return address intact, suspended until the child's exec, and reaps the pid it got",
  guards: ["ra-on-stack", "clobbered-local", "zombie-on-failure", "no-sigchld", "vm-without-vfork"],
  arbitrary: (limits) =>
    spawnCaseArbitrary(
      { paths: ["exec-target", "exec-target", "exec-target", "missing", "garbage"], directories: ["none", "fixtures", "root"], newUser: "none", namespaces: false, environment: "small", sessions: true },
      limits,
    ),
  check: (spawnCase, run, target) => [
    ...checkParentIntact(run, target),
    ...checkOutcome(spawnCase, run, target),
    // Where the clone is observed (every tier but a system variant run without the tracer).
    ...(claimsClonePath(target) && run.observed !== undefined ? checkClonePath(spawnCase, run, target) : []),
  ],
};
