/**
 * descriptor-table
 *
 * Kernel behaviour: across execve a process keeps exactly its descriptors
 * without FD_CLOEXEC, at their numbers. So the exec'd child holds what the
 * spawn mapped for it, the report descriptor and what the parent passes on
 * (inherited_fds, and the descriptors the case has the parent hold without
 * close-on-exec at the spawn), and nothing of the spawn's own, whatever the
 * shape of its table: none, few or many entries, low or high numbers, dense
 * or sparse, the report descriptor below, among or above them, a parent's
 * descriptor just above them.
 *
 * Guards: (14) a descriptor of the spawn's own leaking into the child,
 * visible or not depending on the table's shape (an implementation that
 * closes every unmapped descriptor below its highest mapped one, as Go's
 * Files does, hides a leak below the top of the table); (10) an error pipe
 * not close-on-exec; a spawn that moves its own descriptors to the first
 * number above the child's table (Go's nextfd) over one the parent holds
 * there, which the child then lacks.
 */
import { reportAnywhereFeature, spawnCaseArbitrary } from "../src/arbitraries/spawn-case.ts";
import { checkOutcome } from "../src/checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

export const property: PropertyDefinition = {
  name: "descriptor-table",
  behaviour: "the exec'd child holds exactly its mapped, report and inherited descriptors, whatever the shape of its table",
  guards: ["pipe-leak-below-targets", "pipe-not-cloexec", "nextfd-overwrite"],
  arbitrary: (limits) =>
    spawnCaseArbitrary({ paths: ["exec-target"], directories: ["none"], newUser: "none", namespaces: false, environment: "small", sessions: false, parentDescriptors: true }, limits),
  skip: (target) => {
    const { features } = target.oracle.hello;
    return features.includes("fds") || features.includes(reportAnywhereFeature)
      ? undefined
      : `the implementation maps no descriptors (no fds in its hello's features) and keeps its report descriptor at ${target.oracle.hello.reportDescriptor} (no ${reportAnywhereFeature}): every table has one shape`;
  },
  check: (spawnCase, run, target) => checkOutcome(spawnCase, run, target),
};
