/**
 * signal-state
 *
 * Kernel behaviour: execve keeps the calling thread's signal mask and every
 * SIG_IGN disposition, and resets every handled signal to SIG_DFL; so the
 * program a spawn starts sees the parent's mask at the spawn and its ignored
 * signals, unless the implementation's contract says otherwise (the hello's
 * signal_contract: libuv unblocks and defaults everything). A spawn blocks
 * signals across the clone for its own safety (signal-storm) and must undo
 * that in the child before exec. The parent's signal state (blocked,
 * ignored, handled signals) is generated, on the fast path and the fork
 * fallback alike, and the exec'd program's report of its mask and
 * dispositions is compared with the oracle.
 *
 * Guards: (13) the exec'd program's signal state differs from POSIX and the
 * contract: a mask left blocked (OpenJDK JDK-8357683), SIG_IGN reset.
 */
import fc from "fast-check";
import { spawnCaseArbitrary } from "../src/arbitraries/spawn-case.ts";
import { checkOutcome, checkSignalState } from "../src/checks.ts";
import type { PropertyDefinition } from "../src/property.ts";

export const property: PropertyDefinition = {
  name: "signal-state",
  behaviour: "the exec'd program starts with the parent's signal mask and ignored signals, and no handler, as POSIX and the implementation's contract say",
  guards: ["sigmask-left-blocked", "ignored-reset"],
  skip: (target) =>
    target.oracle.hello.features.includes("signal_state")
      ? undefined
      : `${target.name} cannot set the parent's signal state (no signal_state in its hello${target.oracle.hello.impl === "reference" ? ": in-process, the mask and dispositions are the host program's" : ""})`,
  // Mostly the fast path; one case in four with namespace flags, CLONE_NEWUSER among them, for the fork
  // fallback (qemu-user refuses namespace flags, so there those cases end in the probe's errno).
  arbitrary: (limits) => {
    const shape = { paths: ["exec-target"], directories: ["none", "fixtures"], newUser: "any", namespaces: false, environment: "small", sessions: false, parentSignals: true } as const;
    return fc.oneof(
      { weight: 3, arbitrary: spawnCaseArbitrary(shape, limits) },
      { weight: 1, arbitrary: spawnCaseArbitrary({ ...shape, namespaces: true }, limits) },
    );
  },
  check: (spawnCase, run, target) => [...checkOutcome(spawnCase, run, target), ...checkSignalState(spawnCase, run, target)],
};
