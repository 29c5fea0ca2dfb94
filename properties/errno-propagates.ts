/**
 * errno-propagates
 *
 * Kernel behaviour: every failure of the spawn reaches the parent as that
 * exact errno, whether clone itself refused (EINVAL, EPERM) or a step of
 * the child before exec failed (unshare, setpgid, chdir, execve: ENOENT,
 * EACCES, ENOEXEC, ENOTDIR, ELOOP, ENAMETOOLONG, E2BIG, EPERM); afterwards
 * no zombie is left and no descriptor has leaked.
 *
 * Guards: (7) errno through shared memory only (lost where vfork is a
 * fork); (8) errno written and read with different widths; (9) clone's own
 * failure returned without its errno; (11) child not reaped after a failed
 * exec.
 */
import { spawnCaseArbitrary } from "../src/arbitraries/spawn-case.ts";
import { checkOutcome, checkParentIntact } from "../src/checks.ts";
import { childErrnoUnobservable } from "../src/errno-channel.ts";
import type { PropertyDefinition } from "../src/property.ts";

export const property: PropertyDefinition = {
  name: "errno-propagates",
  behaviour: "a failing clone or child step reports exactly its errno to the parent, leaving no zombie and no leaked descriptor",
  guards: ["zombie-on-failure", "errno-shared-memory", "errno-width", "clone-errno-dropped", "mips64le-a3-ignored"],
  arbitrary: (limits) =>
    spawnCaseArbitrary(
      {
        paths: ["missing", "not-executable", "garbage", "through-file", "symlink-loop", "name-too-long", "exec-target"],
        directories: ["none", "none", "missing", "a-file", "name-too-long", "fixtures"],
        newUser: "any",
        namespaces: true,
        environment: "small",
        sessions: true,
      },
      limits,
    ),
  // Its cases are child-step errnos: where none can arrive (glibc under qemu-user), a skip with the measured reason.
  skip: (target) => childErrnoUnobservable(target.oracle.hello, target.capabilities),
  check: (spawnCase, run, target) => [...checkOutcome(spawnCase, run, target), ...checkParentIntact(run, target)],
};
