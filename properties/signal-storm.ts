/**
 * signal-storm
 *
 * Kernel behaviour: a clone child inherits the parent's signal handlers and
 * mask; under CLONE_VM|CLONE_VFORK a handler that runs in the child runs on
 * the parent's memory and stack. So signals must stay blocked from before
 * the clone until the child has reset its handlers to SIG_DFL; no handler
 * of the parent may ever run in the child, however many signals arrive
 * while it spawns. Checked by signalling the parent's process group without
 * pause during the spawn (SIGWINCH, ignored by default, so a correctly
 * reset child is unharmed) and counting handler runs in any process other
 * than the parent; the spawn must also come out right under the storm. The
 * storm runs on every path a case can take: the vfork fast path, the
 * CLONE_NEWUSER fork fallback with its id maps (a fork child holds the
 * parent's handlers too), namespaces, sessions, directories and failing
 * spawns, with the handler's flags drawn (SA_RESTART or not, SA_NODEFER,
 * SA_ONSTACK) where the driver takes them.
 *
 * Guards: (6) signals not blocked across the clone, or handlers not reset
 * in the child.
 */
import fc from "fast-check";
import { spawnCaseArbitrary } from "../src/arbitraries/spawn-case.ts";
import { checkOutcome, checkParentIntact, finished } from "../src/checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

export const property: PropertyDefinition = {
  name: "signal-storm",
  behaviour: "no handler of the parent runs in the child before exec, however many signals arrive while it spawns",
  guards: ["signals-unblocked"],
  skip: (target) =>
    target.oracle.hello.features.includes("signal_storm")
      ? undefined
      : target.oracle.hello.features.includes("signal_interrupts")
        ? `${target.name} runs the storm but cannot count handler runs in a child (signal_interrupts, not signal_storm, in its hello: its runtime owns the handlers); interrupted-wait runs the storm there`
        : `${target.name} does not offer the signal storm (no signal_storm in its hello${target.oracle.hello.impl === "reference" ? ": an in-process parent's process group is its host program's" : ""})`,
  // Mostly the fast path, where a handler in the child runs on the parent's memory, in the storm's process
  // group (setsid and setpgid take the child out of it); one case in four with namespace flags,
  // CLONE_NEWUSER among them (the fork fallback; qemu-user refuses them all).
  arbitrary: (limits) => {
    const shape = {
      paths: ["exec-target", "exec-target", "exec-target", "missing", "not-executable", "garbage", "through-file", "symlink-loop", "name-too-long"],
      directories: ["none", "none", "fixtures", "root", "missing", "a-file", "name-too-long"],
      newUser: "any",
      namespaces: false,
      environment: "small",
      sessions: false,
      signalStorm: true,
      // The child's window before its handlers are reset does not grow with the parent's size (the
      // clone copies or shares the memory before the child runs); parent-resumes draws the size.
      parentMemory: false,
    } as const;
    return fc.oneof(
      { weight: 2, arbitrary: spawnCaseArbitrary(shape, limits) },
      { weight: 1, arbitrary: spawnCaseArbitrary({ ...shape, sessions: true }, limits) },
      { weight: 1, arbitrary: spawnCaseArbitrary({ ...shape, namespaces: true }, limits) },
    );
  },
  check: (spawnCase, run, target) => {
    if (!finished(run)) return [run.failure ?? "no result"];
    const storm = run.result.storm;
    const problems: string[] = [];
    if (storm === undefined || storm === "failed") problems.push(`the driver could not start the signal storm (storm=${storm ?? "missing"})`);
    else if (storm === "unobserved") problems.push("the driver lists signal_storm but did not count handler runs in other processes (storm=unobserved)");
    else if (storm > 0) problems.push(`a handler of the parent ran ${storm} time(s) in the child before exec`);
    return [...problems, ...checkOutcome(spawnCase, run, target), ...checkParentIntact(run, target)];
  },
};
