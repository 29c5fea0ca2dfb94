/** What a property file in properties/ exports. */
import type fc from "fast-check";
import type { Run, TargetView } from "./checks.ts";
import { caseNeedsChildErrno, childErrnoUnobservable, someChildErrnoUnobservable } from "./errno-channel.ts";
import { argumentSpaceBytes } from "./oracle.ts";
import { signalName } from "./signals.ts";
import type { SpawnCase } from "./spawn-case.ts";
import { reportAnywhereFeature, type TargetLimits } from "./arbitraries/spawn-case.ts";
import { tierNames } from "./tiers.ts";

export interface PropertyDefinition {
  name: string;
  /** The kernel behaviour checked, in a sentence. */
  behaviour: string;
  /** The mutants (src/mutants.ts, by name) this property guards against; test/run/mutants.test.ts has it kill one. */
  guards: string[];
  arbitrary(limits: TargetLimits): fc.Arbitrary<SpawnCase>;
  /** Why this target cannot run the property (reported as a skip), or undefined. */
  skip?(target: TargetView): string | undefined;
  /** Differences between the run and what must happen; empty when it holds. */
  check(spawnCase: SpawnCase, run: Run, target: TargetView): string[];
}

export function limitsOf(target: TargetView & { maxMemoryBytes: number }): TargetLimits {
  const { hello } = target.oracle;
  // A report descriptor that moves with the case reserves no number; a fixed one is never a target.
  const fixedReport = hello.features.includes(reportAnywhereFeature) ? [] : [hello.reportDescriptor];
  return {
    maxArgumentString: target.capabilities.maxArgumentString,
    argumentSpace: argumentSpaceBytes(target.capabilities),
    maxMemoryBytes: target.maxMemoryBytes,
    reservedDescriptors: [...fixedReport, ...hello.inheritedDescriptors],
    features: target.oracle.hello.features,
    keptSignals: target.oracle.hello.signalsKept.flatMap((value) => signalName(target.oracle.architecture, value) ?? []),
    entryPoints: hello.entryPoints,
    ...(hello.entryFeatures ? { entryFeatures: hello.entryFeatures } : {}),
    clone3: target.errnoName(target.capabilities.clone3Errno) !== "ENOSYS",
    tier: tierNames.find((name) => name === target.oracle.tier),
  };
}

/**
 * The property's cases as this target can judge them: where a child step's
 * errno cannot arrive (src/errno-channel.ts), the cases whose verdict is one
 * are not drawn, and `onLeftOut` hears each one left out. Everywhere else,
 * the property's own arbitrary unchanged.
 */
export function judgeableArbitrary(property: PropertyDefinition, target: TargetView & { maxMemoryBytes: number }, onLeftOut: () => void = () => {}): fc.Arbitrary<SpawnCase> {
  const arbitrary = property.arbitrary(limitsOf(target));
  if (someChildErrnoUnobservable(target.oracle.hello, target.capabilities) === undefined) return arbitrary;
  return arbitrary.filter((spawnCase) => {
    const judgeable = childErrnoUnobservable(target.oracle.hello, target.capabilities, spawnCase.entry) === undefined || !caseNeedsChildErrno(spawnCase, target);
    if (!judgeable) onLeftOut();
    return judgeable;
  });
}
