// Each property must be shown to fail: it kills a mutant it says it guards,
// on amd64/host, in a small run. A property guarding no mutant that shows
// there fails this test. And a shrunk counterexample is minimal: removing
// any one namespace flag or environment entry makes the case pass again.
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { findMutant, type Mutant } from "../../src/mutants.ts";
import type { PropertyDefinition } from "../../src/property.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";
import { startTarget } from "../../harness/targets/start-target.ts";

const amd64 = findArchitecture("amd64")!;
const specFor = (mutant: Mutant): TargetSpec => ({ architecture: amd64, tier: "host", inProcess: false, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 5000 });

/** The first mutant a property guards that can show on amd64/host. */
function guardedMutant(property: PropertyDefinition): Mutant | undefined {
  return property.guards.map(findMutant).find((mutant) => mutant && mutant.expectation({ architecture: amd64, tier: "host", inProcess: false }).expected === "kill");
}

async function runOnMutant(property: PropertyDefinition, mutant: Mutant) {
  const target = await startTarget(specFor(mutant));
  try {
    return { target, result: await runProperty(target, property, { runs: 50, seed: 1, replayPrefix: "npx vforkcheck gate" }) };
  } catch (error) {
    await target.close();
    throw error;
  }
}

for (const property of await loadProperties()) {
  test(`${property.name} kills a mutant it guards on amd64/host`, async (t) => {
    const mutant = guardedMutant(property);
    if (!mutant) return t.fail(`${property.name} guards [${property.guards.join(", ")}]: none of them is a mutant that shows on amd64/host`);
    const { target, result } = await runOnMutant(property, mutant);
    await target.close();
    t.is(result.status, "fail", `${property.name} did not kill ${mutant.name}: ${result.reason}`);
    t.truthy(result.counterexample);
  });
}

/** Cases that differ from the counterexample by one namespace flag or one environment entry. */
function oneSmaller(spawnCase: SpawnCase): { removed: string; variant: SpawnCase }[] {
  const variants: { removed: string; variant: SpawnCase }[] = [];
  for (const field of ["cloneFlags", "unshareFlags"] as const)
    for (let bit = 1; bit !== 0 && bit <= spawnCase[field]; bit = (bit << 1) >>> 0)
      if (spawnCase[field] & bit) variants.push({ removed: `${field} bit 0x${bit.toString(16)}`, variant: { ...spawnCase, [field]: (spawnCase[field] & ~bit) >>> 0 } });
  spawnCase.env.forEach((entry, index) => variants.push({ removed: `env[${index}] ${entry.slice(0, 20)}`, variant: { ...spawnCase, env: spawnCase.env.filter((_, i) => i !== index) } }));
  return variants;
}

for (const [propertyName, mutantName] of [
  ["errno-propagates", "errno-shared-memory"],
  ["namespace-fallback", "unshare-newuser-ignored"],
] as const) {
  test(`the shrunk counterexample of ${propertyName} on ${mutantName} is minimal`, async (t) => {
    const property = (await loadProperties()).find((p) => p.name === propertyName)!;
    const { target, result } = await runOnMutant(property, findMutant(mutantName)!);
    t.teardown(() => target.close());
    t.is(result.status, "fail", result.reason);
    const counterexample = result.failingCase!;
    const variants = oneSmaller(counterexample);
    t.true(variants.length > 0, `the counterexample has a flag or an environment entry to remove: ${result.counterexample}`);
    for (const { removed, variant } of variants) {
      const run = await target.runCase(variant);
      t.deepEqual(property.check(variant, run, target), [], `without ${removed} the case still fails: the counterexample was not minimal`);
    }
  });
}

// signal-state guards two mutants; the loop above runs it against the first. The second,
// SIG_IGN reset in the child, is caught by another branch of the check: shown here.
test("signal-state kills ignored-reset on amd64/host, naming the signal the exec'd program no longer ignores", async (t) => {
  const property = (await loadProperties()).find((p) => p.name === "signal-state")!;
  const { target, result } = await runOnMutant(property, findMutant("ignored-reset")!);
  await target.close();
  t.is(result.status, "fail", result.reason);
  t.regex(result.reason, /has SIG\w+ at SIG_DFL, expected ignored/);
});
