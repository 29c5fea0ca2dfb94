/**
 * interrupted-wait
 *
 * Kernel behaviour: a blocking read or wait interrupted by a handler
 * installed without SA_RESTART returns EINTR (signal(7)): nothing failed,
 * and the call must be made again. A spawn's parent blocks while it waits
 * for its child: on the error pipe (end of file: the exec happened; four
 * bytes: the child's errno) and, on the CLONE_NEWUSER fork fallback, in the
 * id-map handshake. Checked under the signal storm with the parent's
 * handler drawn mostly without SA_RESTART, on the cases where the parent
 * really waits: the fork fallback with id maps, and failing spawns (a vfork
 * parent sleeps in the kernel until the child's exec or exit, so there its
 * read finds the answer waiting; where vfork is a fork, as under qemu-user,
 * it waits on the pipe too). The outcome, pid or errno, must be what it is
 * without signals: the oracle's.
 *
 * Guards: (18) EINTR taken for end of file or for a failure while the
 * parent waits for the child (the class PEP 475 removed from CPython).
 */
import fc from "fast-check";
import { spawnCaseArbitrary, type CaseShape } from "../src/arbitraries/spawn-case.ts";
import { checkOutcome, finished } from "../src/checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

/** Handlers without SA_RESTART three times in four: only they make a wait return EINTR. */
const withoutRestartWeight = 3;

export const property: PropertyDefinition = {
  name: "interrupted-wait",
  behaviour: "a signal whose handler lacks SA_RESTART does not change a spawn's outcome while the parent waits for its child",
  guards: ["eintr-as-eof"],
  skip: (target) => {
    const { features, impl } = target.oracle.hello;
    if (features.includes("signal_storm") || features.includes("signal_interrupts")) return undefined;
    return `${target.name} does not run the signal storm (neither signal_storm nor signal_interrupts in its hello${impl === "reference" ? ": an in-process parent's process group is its host program's" : ""})`;
  },
  // Failing paths mostly; the fork fallback in three cases of four (CLONE_NEWUSER in the clone or the
  // unshare flags), the rest on the fast path (a fork under qemu-user, and for drivers without clone flags).
  arbitrary: (limits) => {
    const shape: CaseShape = {
      paths: ["missing", "missing", "not-executable", "garbage", "through-file", "exec-target"],
      directories: ["none", "none", "missing", "fixtures"],
      newUser: "clone",
      namespaces: true,
      environment: "small",
      sessions: false,
      signalStorm: true,
      withoutRestartWeight,
      // Whether a wait is interrupted does not depend on the parent's size (parent-resumes draws that).
      parentMemory: false,
    };
    return fc.oneof(
      { weight: 2, arbitrary: spawnCaseArbitrary(shape, limits) },
      { weight: 1, arbitrary: spawnCaseArbitrary({ ...shape, newUser: "unshare" }, limits) },
      { weight: 1, arbitrary: spawnCaseArbitrary({ ...shape, namespaces: false }, limits) },
    );
  },
  check: (spawnCase, run, target) => {
    if (!finished(run)) return [run.failure ?? "no result"];
    const storm = run.result.storm;
    // A count or "unobserved": either way the storm ran; who ran the handler is signal-storm's question.
    const stormProblems = storm === undefined || storm === "failed" ? [`the driver could not start the signal storm (storm=${storm ?? "missing"})`] : [];
    return [...stormProblems, ...checkOutcome(spawnCase, run, target)];
  },
};
