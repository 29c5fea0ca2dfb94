// The terminal's result table fits 120 columns: with the real property names, the longest
// target names a plan can have (every implementation and release on every architecture and
// tier), and the widest status in every cell; for one architecture and for all of them.
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { gateOptions } from "../../harness/run/gate.ts";
import { parseOptions, planTargets } from "../../harness/run/options.ts";
import { targetName } from "../../harness/targets/target.ts";
import { implementationNames } from "../../harness/implementations/index.ts";
import { runtimeReleases } from "../../src/runtime-releases.ts";
import { hostExecutionFromOverride } from "../../src/host-execution.ts";
import { brokenMeaning, elideMiddle, formatResultTable, propertyHeading } from "../../src/result-table.ts";
import type { ResultRow } from "../../src/gate-report.ts";

const everyImplementation = [...implementationNames, ...runtimeReleases.map((release) => `${release.runtime}@${release.version}`)].join(",");
const planned = planTargets(parseOptions(["--impl", everyImplementation], gateOptions), hostExecutionFromOverride("amd64,386"));

function results(targets: readonly { target: string; impl: string }[], properties: readonly string[], status: string): ResultRow[] {
  return targets.flatMap(({ target, impl }) =>
    properties.map((property) => ({ arch: target.split("/")[0]!, tier: target.split("/")[1]!, impl, target, property, status: status as ResultRow["status"], reason: "", counterexample: null, replay: null })),
  );
}

test("every property, the longest planned target names and the widest status: every line within 120 columns", async (t) => {
  const properties = (await loadProperties()).map((p) => p.name);
  t.true(properties.length >= 9);
  const longest = [...planned].sort((a, b) => targetName(b).length - targetName(a).length);
  t.true(targetName(longest[0]!).length >= 25, targetName(longest[0]!));
  const widestStatus = "baseline";
  // `broken` adds its legend under the table, which wraps within the width too.
  for (const [what, specs, status] of [["one architecture", planned.filter((spec) => spec.architecture.name === longest[0]!.architecture.name), widestStatus], ["every architecture", planned, widestStatus], ["every architecture, broken", planned, "broken"]] as const) {
    const table = formatResultTable(results(specs.map((spec) => ({ target: targetName(spec), impl: spec.impl })), properties, status), properties);
    if (status === "broken") t.true(table.replace(/\n/g, " ").includes(brokenMeaning), "the legend says what broken means");
    const wide = table.split("\n").filter((line) => line.length > 120);
    t.deepEqual(wide, [], what);
    // Every target has its row, whole, and the legend names every property the headings shorten.
    for (const spec of specs) t.regex(table, new RegExp(`^${targetName(spec).replace(/[.@/]/g, "\\$&")} `, "m"));
    for (const property of properties) if (propertyHeading(property) !== property) t.true(table.replace(/\n/g, " ").includes(`${propertyHeading(property)} ${property}`), property);
    t.is(new Set(properties.map(propertyHeading)).size, properties.length, "headings are distinct");
  }
});

test("a target named by a long path is cut in the middle to fit, and a line under the table names it in full", async (t) => {
  const properties = (await loadProperties()).map((p) => p.name);
  const target = "amd64/host/go@/opt/maintainer/src/github.com/example/go-fork-with-a-long-name";
  const lines = formatResultTable(results([{ target, impl: target.slice("amd64/host/".length) }], properties, "baseline"), properties).split("\n");
  t.true(lines[1]!.length <= 120 && lines[1]!.includes("…"), lines[1]);
  t.is(lines.at(-1), `${lines[1]!.split(" ")[0]}: ${target}`);
  t.is(elideMiddle("abcdefghij", 5), "ab…ij");
});

test("reference beside another implementation: the legend says which targets run the reference", (t) => {
  const table = formatResultTable(results([{ target: "amd64/host", impl: "reference" }, { target: "amd64/host/go", impl: "go" }], ["pidfd"], "pass"));
  t.is(table, ["target         pidfd", "amd64/host     pass", "amd64/host/go  pass", "a target with no /IMPL runs the reference"].join("\n"));
});
