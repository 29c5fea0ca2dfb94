/**
 * environment
 *
 * Kernel behaviour: execve hands the new program exactly the argv and
 * environment it was given, any byte but NUL, up to the kernel's limits (one
 * string at most MAX_ARG_STRLEN, 32 pages; all of them within a quarter of
 * the stack limit); past them execve fails with E2BIG and the parent must
 * get E2BIG.
 *
 * The child's whole view is compared, open descriptors included, so an
 * error pipe that survives exec shows here.
 *
 * Guards: (10) error pipe not close-on-exec; (7) a lost E2BIG; truncated
 * or re-encoded environments, a spawn that copies the environment into a
 * fixed buffer.
 */
import { spawnCaseArbitrary } from "../src/arbitraries/spawn-case.ts";
import { checkOutcome } from "../src/checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

export const property: PropertyDefinition = {
  name: "environment",
  behaviour: "the child sees exactly the generated argv and environment, and E2BIG past the kernel's limits",
  guards: ["pipe-not-cloexec", "errno-shared-memory"],
  arbitrary: (limits) =>
    spawnCaseArbitrary({ paths: ["exec-target"], directories: ["none"], newUser: "none", namespaces: false, environment: "mixed", sessions: false }, limits),
  check: (spawnCase, run, target) => checkOutcome(spawnCase, run, target),
};
