// The parent's own descriptors as a case dimension: what the spawning
// process holds without close-on-exec at the spawn (parent_fds). The child
// inherits each at its number; a spawn that moves its own descriptors to
// the first number above the child's table (Go's nextfd) replaces the one
// the parent holds there, and descriptor-table must see that.
import test from "ava";
import fc from "fast-check";
import { layOutParentDescriptors, parentPicksArbitrary, type ParentPick } from "../../src/arbitraries/descriptors.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { findMutant } from "../../src/mutants.ts";
import { limitsOf } from "../../src/property.ts";
import { loadProperties } from "../../properties/index.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";

const amd64 = findArchitecture("amd64")!;
const hostSpec = (defines: string[] = []): TargetSpec => ({ architecture: amd64, tier: "host", inProcess: false, impl: "reference", defines, caseDeadlineMs: 5000 });
const descriptorTable = async () => (await loadProperties()).find((property) => property.name === "descriptor-table")!;

test("the parent's descriptors lie in 10..299, off the child's table and the reserved numbers, just above the table where asked", (t) => {
  const table = { descriptors: [3, 9, 12], reportDescriptor: 14 };
  const picks: ParentPick[] = [
    { place: "above-table", offset: 0 },
    { place: "low", offset: 2 },
    { place: "low", offset: 0 },
    { place: "high", offset: 51 },
  ];
  t.deepEqual(layOutParentDescriptors(picks, table, []), [10, 15, 251]);
  t.deepEqual(layOutParentDescriptors(picks, table, [10, 251]), [15]);
  // A low table's "just above" is below the band: dropped, not moved.
  t.deepEqual(layOutParentDescriptors([{ place: "above-table", offset: 1 }], { descriptors: [4], reportDescriptor: 5 }, []), []);
  t.deepEqual(layOutParentDescriptors([{ place: "above-table", offset: 0 }], { descriptors: [400] }, []), []);
  fc.assert(
    fc.property(parentPicksArbitrary, fc.uniqueArray(fc.integer({ min: 3, max: 300 }), { maxLength: 20 }), (drawn, numbers) => {
      const [report, ...descriptors] = numbers;
      const laidOut = layOutParentDescriptors(drawn, { descriptors, ...(report === undefined ? {} : { reportDescriptor: report }) }, [63]);
      return laidOut.every((fd) => fd >= 10 && fd <= 299 && fd !== 63 && !numbers.includes(fd)) && new Set(laidOut).size === laidOut.length;
    }),
  );
});

test("descriptor-table draws the parent's descriptors for a driver that lists parent_fds, often just above the table, and never for one that does not", async (t) => {
  const target = await startTarget(hostSpec());
  t.teardown(() => target.close());
  t.true(target.oracle.hello.features.includes("parent_fds"), "the reference's hello lists parent_fds");
  const property = await descriptorTable();
  const cases = fc.sample(property.arbitrary(limitsOf(target)), { numRuns: 200, seed: 1 });
  const withParent = cases.filter((spawnCase) => spawnCase.parentDescriptors?.length);
  const justAbove = withParent.filter((spawnCase) => {
    const top = Math.max(spawnCase.reportDescriptor ?? 0, ...spawnCase.descriptors);
    return spawnCase.parentDescriptors!.includes(top + 1);
  });
  t.true(withParent.length >= 60, `${withParent.length} of 200 cases have parent descriptors`);
  t.true(justAbove.length >= 10, `${justAbove.length} of 200 cases have one just above the child's table`);
  const without = { ...limitsOf(target), features: target.oracle.hello.features.filter((name) => name !== "parent_fds") };
  t.true(fc.sample(property.arbitrary(without), { numRuns: 100, seed: 1 }).every((spawnCase) => spawnCase.parentDescriptors === undefined));

  // The reference's children hold them, at their numbers, and the property holds.
  for (const spawnCase of withParent.slice(0, 20)) {
    const run = await target.runCase(spawnCase);
    t.deepEqual(property.check(spawnCase, run, target), [], JSON.stringify(spawnCase));
    for (const fd of spawnCase.parentDescriptors!) t.true(run.result?.report?.descriptors.includes(fd), `the child holds the parent's ${fd}`);
  }
});

test("descriptor-table kills nextfd-overwrite on amd64/host, naming the parent's descriptor the child lost", async (t) => {
  const mutant = findMutant("nextfd-overwrite")!;
  const target = await startTarget({ ...hostSpec([mutant.define]), impl: `mutant:${mutant.name}` });
  t.teardown(() => target.close());
  const result = await runProperty(target, await descriptorTable(), { runs: 50, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail", result.reason);
  t.regex(result.reason, /lost \[descriptor \d+ \(the parent's, not close-on-exec\)\]/);
  const counterexample = result.failingCase!;
  const top = Math.max(counterexample.reportDescriptor ?? 0, ...counterexample.descriptors);
  t.deepEqual(counterexample.parentDescriptors, [top + 1], `shrunk to one descriptor just above the table: ${result.counterexample}`);
});
