/** Whole cases, from the per-dimension arbitraries; properties pick the mix. */
import fc from "fast-check";
import type { DirectoryKind, PathKind, SpawnCase } from "../spawn-case.ts";
import { argvArbitrary } from "./argv.ts";
import { descriptorTableArbitrary, layOutParentDescriptors, parentPicksArbitrary, type DescriptorTable } from "./descriptors.ts";
import { environmentArbitrary, type EnvironmentLimits } from "./environment.ts";
import { memorySizeArbitrary } from "./memory-size.ts";
import { namespaceFlagsArbitrary } from "./namespace-flags.ts";
import { handlerFlagsArbitrary, parentSignalStateArbitrary } from "./signal-state.ts";
import type { SignalName } from "../signals.ts";
import type { TierName } from "../tiers.ts";

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
  /** How many times as often the parent's handlers lack SA_RESTART as have it (drivers with handler_flags); default 1. */
  withoutRestartWeight?: number;
  /** Draw the parent's signal state (signal-state; needs signal_state in the hello). */
  parentSignals?: boolean;
  /** Ask for a pidfd in every case (the pidfd property; needs pidfd in the hello). */
  pidfd?: boolean;
  /**
   * Draw the parent's memory size (default: yes, where the driver holds
   * memory). false for properties whose behaviour does not depend on it:
   * in a VM, mapping and touching up to 64 MiB per case (and a fork fallback
   * copying it) is most of such a case's cost.
   */
  parentMemory?: boolean;
  /** Draw descriptors the parent itself holds without close-on-exec at the spawn (needs parent_fds in the hello). */
  parentDescriptors?: boolean;
}

export interface TargetLimits extends EnvironmentLimits {
  maxMemoryBytes: number;
  reservedDescriptors: readonly number[];
  /** What the implementation's hello says it honours (docs/protocol.md); absent: everything. */
  features?: readonly string[];
  /** Signals whose disposition the implementation keeps for itself (hello signals_kept): never ignored or handled by a case. */
  keptSignals?: readonly SignalName[];
  /** The driver's entry points (hello entry_points): every case draws one, so every property runs over each. */
  entryPoints?: readonly string[];
  /** The case features of an entry point that honours only some (hello entry_features); an entry not listed honours `features`. */
  entryFeatures?: Readonly<Record<string, readonly string[]>>;
  /** The target has clone3 (the probe's clone3 is not ENOSYS): only then is the clone3 dimension drawn. */
  clone3?: boolean;
  /** The target's tier: where each spawn costs more (an emulator), a property may draw fewer of them per case. Absent: host. */
  tier?: TierName;
}

/** The hello feature of a driver that puts the report descriptor where a case's `report_fd` says. */
export const reportAnywhereFeature = "report_fd_any";

/** Case dimensions and the hello feature an implementation must declare for them to be drawn. */
const dimensionFeatures = { clone: "clone_flags", unshare: "unshare_flags", setsid: "setsid", setpgid: "setpgid", cwd: "cwd", fds: "fds", memory: "memory", rawStrings: "raw_strings", parentSignals: "signal_state", handlerFlags: "handler_flags", pidfd: "pidfd", clone3: "clone3", parentDescriptors: "parent_fds" } as const;

/**
 * argv and environment as an implementation without raw_strings can pass
 * them (Node re-encodes strings as UTF-8 and keeps the environment in an
 * object): printable ASCII, every entry KEY=VALUE with a unique key that a
 * JS object keeps in order (not integer-like). Pure, so shrinking still works.
 */
export function plainStrings(argv: readonly string[], env: readonly string[]): { argv: string[]; env: string[] } {
  const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, "?");
  const seen = new Set<string>();
  const plainEnv: string[] = [];
  for (const entry of env.map(ascii)) {
    const equals = entry.indexOf("=");
    let key = (equals < 0 ? entry : entry.slice(0, equals)).replace(/[^A-Za-z0-9_]/g, "_");
    if (!/^[A-Za-z_]/.test(key)) key = `K${key}`;
    if (seen.has(key)) continue;
    seen.add(key);
    plainEnv.push(`${key}=${equals < 0 ? "" : entry.slice(equals + 1)}`);
  }
  return { argv: argv.map(ascii), env: plainEnv };
}

/** The case's parentDescriptors field: left out when there are none, so a case without them reads as before. */
function parentDescriptorsField(descriptors: number[]): Pick<SpawnCase, "parentDescriptors"> {
  return descriptors.length ? { parentDescriptors: descriptors } : {};
}

/**
 * Cases of this shape that the implementation can be asked: a dimension its
 * hello does not declare (glibc's posix_spawn has no clone flags, say) stays
 * at its neutral value. Properties that need such a dimension skip instead.
 */
export function spawnCaseArbitrary(shape: CaseShape, limits: TargetLimits): fc.Arbitrary<SpawnCase> {
  const has = (dimension: keyof typeof dimensionFeatures) => limits.features === undefined || limits.features.includes(dimensionFeatures[dimension]);
  // An entry point that honours only some dimensions (hello entry_features) gets the others at their neutral values.
  const entryHas = (entry: string | undefined, dimension: keyof typeof dimensionFeatures) =>
    has(dimension) && (entry === undefined || limits.entryFeatures?.[entry] === undefined || limits.entryFeatures[entry]!.includes(dimensionFeatures[dimension]));
  // A property whose check needs a dimension draws only the entry points that honour it.
  const needed = (["parentSignals", "pidfd"] as const).filter((dimension) => (dimension === "parentSignals" ? shape.parentSignals : shape.pidfd) && has(dimension));
  const entries = limits.entryPoints?.filter((entry) => needed.every((dimension) => entryHas(entry, dimension)));
  const namespaces = shape.namespaces && (has("clone") || has("unshare"));
  // Only a driver that says so takes the report descriptor from the case; the others keep their hello's.
  const movableReport = limits.features?.includes(reportAnywhereFeature) ?? false;
  return fc
    .record({
      path: fc.constantFrom(...shape.paths),
      argv: argvArbitrary,
      env: environmentArbitrary(limits, shape.environment),
      cwd: has("cwd") ? fc.constantFrom(...shape.directories) : fc.constant("none" as const),
      flags: namespaces ? namespaceFlagsArbitrary(shape.newUser) : fc.constant({ cloneFlags: 0, unshareFlags: 0 }),
      setsid: shape.sessions && has("setsid") ? fc.boolean() : fc.constant(false),
      setpgid: shape.sessions && has("setpgid") ? fc.boolean() : fc.constant(false),
      table: has("fds") || movableReport ? descriptorTableArbitrary(limits.reservedDescriptors, movableReport) : fc.constant<DescriptorTable>({ descriptors: [] }),
      parentPicks: shape.parentDescriptors && has("parentDescriptors") ? parentPicksArbitrary : fc.constant([]),
      uidInside: fc.integer({ min: 0, max: 65535 }),
      gidInside: fc.integer({ min: 0, max: 65535 }),
      memoryBytes: has("memory") && shape.parentMemory !== false ? memorySizeArbitrary(limits.maxMemoryBytes) : fc.constant(0),
      signalStorm: fc.constant(shape.signalStorm ?? false),
      parentSignals: shape.parentSignals && has("parentSignals") ? parentSignalStateArbitrary(limits.keptSignals) : fc.constant(undefined),
      // Drawn for every case that installs handlers (the storm's, the parent's handled signals), where the driver takes them.
      handlerFlags: (shape.signalStorm || (shape.parentSignals && has("parentSignals"))) && has("handlerFlags") ? handlerFlagsArbitrary(shape.withoutRestartWeight) : fc.constant(undefined),
      entry: entries?.length ? fc.constantFrom(...entries) : fc.constant(undefined),
      // A dimension of every property, where the driver and the target have clone3; shrinks to clone(2).
      clone3: limits.clone3 && has("clone3") ? fc.boolean() : fc.constant(false),
    })
    .map(({ flags, table, parentPicks, parentSignals, handlerFlags, clone3, entry, ...rest }) => {
      const honours = (dimension: keyof typeof dimensionFeatures) => entryHas(entry, dimension);
      return {
        ...rest,
        cwd: honours("cwd") ? rest.cwd : "none",
        setsid: honours("setsid") && rest.setsid,
        setpgid: honours("setpgid") && rest.setpgid,
        memoryBytes: honours("memory") ? rest.memoryBytes : 0,
        ...parentDescriptorsField(honours("parentDescriptors") ? layOutParentDescriptors(parentPicks, honours("fds") ? table : { ...table, descriptors: [] }, limits.reservedDescriptors) : []),
        ...(entry === undefined ? {} : { entry }),
        ...(shape.pidfd && honours("pidfd") ? { pidfd: true } : {}),
        ...(clone3 && honours("clone3") ? { clone3 } : {}),
        descriptors: honours("fds") ? table.descriptors : [],
        ...(table.reportDescriptor === undefined ? {} : { reportDescriptor: table.reportDescriptor }),
        ...(parentSignals && honours("parentSignals") ? { parentSignals } : {}),
        ...(handlerFlags && honours("handlerFlags") ? { handlerFlags } : {}),
        ...(honours("rawStrings") ? {} : plainStrings(rest.argv, rest.env)),
        cloneFlags: honours("clone") ? flags.cloneFlags : 0,
        unshareFlags: honours("unshare") ? flags.unshareFlags : 0,
      };
    });
}
