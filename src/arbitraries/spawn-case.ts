/** Whole cases, from the per-dimension arbitraries; properties pick the mix. */
import fc from "fast-check";
import type { DirectoryKind, PathKind, SpawnCase } from "../spawn-case.ts";
import { argvArbitrary } from "./argv.ts";
import { descriptorsArbitrary } from "./descriptors.ts";
import { environmentArbitrary, type EnvironmentLimits } from "./environment.ts";
import { memorySizeArbitrary } from "./memory-size.ts";
import { namespaceFlagsArbitrary } from "./namespace-flags.ts";

export interface CaseShape {
  paths: readonly PathKind[];
  directories: readonly DirectoryKind[];
  newUser: "any" | "clone" | "unshare" | "none";
  /** Draw namespace flags at all. */
  namespaces: boolean;
  environment: "small" | "near-limit" | "past-limit" | "mixed";
  /** Draw setsid/setpgid (setsid with setpgid is EPERM). */
  sessions: boolean;
  /** Spawn under a signal storm (signal-storm). */
  signalStorm?: boolean;
}

export interface TargetLimits extends EnvironmentLimits {
  maxMemoryBytes: number;
  reservedDescriptors: readonly number[];
}

export function spawnCaseArbitrary(shape: CaseShape, limits: TargetLimits): fc.Arbitrary<SpawnCase> {
  return fc
    .record({
      path: fc.constantFrom(...shape.paths),
      argv: argvArbitrary,
      env: environmentArbitrary(limits, shape.environment),
      cwd: fc.constantFrom(...shape.directories),
      flags: shape.namespaces ? namespaceFlagsArbitrary(shape.newUser) : fc.constant({ cloneFlags: 0, unshareFlags: 0 }),
      setsid: shape.sessions ? fc.boolean() : fc.constant(false),
      setpgid: shape.sessions ? fc.boolean() : fc.constant(false),
      descriptors: descriptorsArbitrary(limits.reservedDescriptors),
      uidInside: fc.integer({ min: 0, max: 65535 }),
      gidInside: fc.integer({ min: 0, max: 65535 }),
      memoryBytes: memorySizeArbitrary(limits.maxMemoryBytes),
      signalStorm: fc.constant(shape.signalStorm ?? false),
    })
    .map(({ flags, ...rest }) => ({ ...rest, ...flags }));
}
