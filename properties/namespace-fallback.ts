/**
 * namespace-fallback
 *
 * Kernel behaviour: a parent suspended by CLONE_VFORK cannot write the
 * uid/gid maps of a child in a new user namespace, so with CLONE_NEWUSER in
 * the clone flags or in the unshare flags the spawn must use a fork-style
 * clone (and the maps must then work: the child sees its mapped ids);
 * without it, the spawn must use CLONE_VM|CLONE_VFORK. The clone really
 * made is read by an observer (strace, qemu -strace), not from the
 * implementation.
 *
 * Guards: (3) CLONE_NEWUSER in the clone flags not triggering the
 * fallback; (4) CLONE_NEWUSER in the unshare flags not triggering it; a
 * spawn that silently always forks.
 */
import { spawnCaseArbitrary } from "../src/arbitraries/spawn-case.ts";
import { checkClonePath, checkOutcome } from "../src/checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

export const property: PropertyDefinition = {
  name: "namespace-fallback",
  behaviour: "CLONE_NEWUSER in clone or unshare flags takes the fork path with working id maps; otherwise CLONE_VM|CLONE_VFORK",
  guards: ["unshare-newuser-ignored", "vfork-with-newuser"],
  skip: (target) =>
    ["clone_flags", "unshare_flags"].some((feature) => target.oracle.hello.features.includes(feature))
      ? undefined
      : `${target.name} takes no namespace flags (neither clone_flags nor unshare_flags in its hello), so which clone a CLONE_NEWUSER case takes cannot be asked`,
  arbitrary: (limits) =>
    spawnCaseArbitrary({ paths: ["exec-target"], directories: ["none"], newUser: "any", namespaces: true, environment: "small", sessions: false }, limits),
  check: (spawnCase, run, target) => [...checkClonePath(spawnCase, run, target), ...checkOutcome(spawnCase, run, target)],
};
