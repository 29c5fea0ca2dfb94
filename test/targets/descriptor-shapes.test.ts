// The shape of the child's descriptor table decides whether a leak shows.
// pipe-leak-below-targets (Go's shape: the leaked original below the top of
// the table is closed by the child) passes descriptor-table when every table
// has the old fixed shape (report descriptor 63, up to four targets in
// 3..40), and fails it on amd64/host with the generated shapes. The arbitrary
// itself: every shape is drawn, reserved numbers are never used, and a table
// shrinks towards none, low, with the report descriptor just above.
import fc from "fast-check";
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { highestGeneratedDescriptor, layOutTable, tablePlanArbitrary, type TablePlan } from "../../src/arbitraries/descriptors.ts";
import { findMutant } from "../../src/mutants.ts";
import type { PropertyDefinition } from "../../src/property.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { startTarget } from "../../harness/targets/start-target.ts";

const inherited = [0, 1, 2];

test("generated tables: none, many, high, the report descriptor below, among and above; reserved numbers unused", (t) => {
  const tables = fc.sample(tablePlanArbitrary, { seed: 7, numRuns: 400 }).map((plan) => layOutTable(plan, [...inherited, 17], true));
  const highest = (fds: number[]) => Math.max(-1, ...fds);
  t.true(tables.some((table) => table.descriptors.length === 0), "no mapped descriptor");
  t.true(tables.some((table) => table.descriptors.length >= 30), "many mapped descriptors");
  t.true(tables.some((table) => highest(table.descriptors) > 500), "high numbers");
  t.true(tables.some((table) => highest([table.reportDescriptor!, ...table.descriptors]) < 11), "only low numbers");
  t.true(tables.some((table) => table.descriptors.length && table.reportDescriptor! < table.descriptors[0]!), "report below");
  t.true(tables.some((table) => table.reportDescriptor! > table.descriptors[0]! && table.reportDescriptor! < highest(table.descriptors)), "report among");
  t.true(tables.some((table) => table.descriptors.length && table.reportDescriptor! > highest(table.descriptors)), "report above");
  for (const table of tables) {
    t.false([...table.descriptors, table.reportDescriptor!].some((fd) => [...inherited, 17].includes(fd)), "a reserved number was drawn");
    t.false(table.descriptors.includes(table.reportDescriptor!), "the report descriptor is also a target");
    t.true(highest([table.reportDescriptor!, ...table.descriptors]) <= highestGeneratedDescriptor + 8);
  }
});

test("a fixed report descriptor is never drawn: the table keeps to the mapped numbers", (t) => {
  for (const plan of fc.sample(tablePlanArbitrary, { seed: 3, numRuns: 100 })) {
    const table = layOutTable(plan, [...inherited, 63], false);
    t.is(table.reportDescriptor, undefined);
    t.false(table.descriptors.includes(63));
  }
});

test("the smallest plan is no target and the report descriptor on 3", (t) => {
  const smallest: TablePlan = { ceiling: 10, layout: { kind: "sparse", offsets: [] }, reportPlace: "above", reportOffset: 0 };
  t.deepEqual(layOutTable(smallest, inherited, true), { descriptors: [], reportDescriptor: 3 });
});

/** descriptor-table with every table in the shape it had before: report on 63, up to four targets in 3..40. */
function withFixedShape(property: PropertyDefinition): PropertyDefinition {
  const oldTargets = fc.subarray(Array.from({ length: 38 }, (_, i) => i + 3), { maxLength: 4 });
  return {
    ...property,
    arbitrary: (limits) =>
      fc.tuple(property.arbitrary(limits), oldTargets).map(([spawnCase, descriptors]) => {
        const { reportDescriptor: _generated, ...rest } = spawnCase;
        return { ...rest, descriptors: descriptors.filter((fd) => !limits.reservedDescriptors.includes(fd)) };
      }),
  };
}

test("pipe-leak-below-targets hides from the fixed shape and is killed by the generated ones on amd64/host", async (t) => {
  const mutant = findMutant("pipe-leak-below-targets")!;
  const property = (await loadProperties()).find((p) => p.name === "descriptor-table")!;
  t.is(property.guards[0], mutant.name);
  const target = await startTarget({ architecture: findArchitecture("amd64")!, tier: "host", inProcess: false, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 5000 });
  t.teardown(() => target.close());
  const options = { runs: 40, seed: 1, replayPrefix: "npx vforkcheck gate" };
  const fixed = await runProperty(target, withFixedShape(property), options);
  t.is(fixed.status, "pass", `with the report descriptor on 63 the leak should hide: ${fixed.reason} ${fixed.counterexample ?? ""}`);
  const generated = await runProperty(target, property, options);
  t.is(generated.status, "fail", `the generated shapes did not kill ${mutant.name}`);
  t.regex(generated.reason, /open descriptors/);
  const shrunk = generated.failingCase!;
  t.true(Math.max(shrunk.reportDescriptor!, ...shrunk.descriptors) < 40, `the shrunk table lies below the leaked pipe: ${generated.counterexample}`);
});
