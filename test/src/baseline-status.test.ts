// The pure side of regression semantics and of findings matched by their
// reproducer: the comparison with the baseline, the status precedence, the
// exit code, which findings may apply to an unnamed version, and how each
// report format shows a 'baseline' result.
import test from "ava";
import { BaselineTally, sameProblems } from "../../src/baseline.ts";
import { findingCandidates, knownAwareExitCode, propertyStatus, type KnownFinding } from "../../src/known-findings.ts";
import { formatKnownFindingTable, formatResultTable, outcomeLines, verdictOf, type ResultRow } from "../../src/result-table.ts";
import { junitReport } from "../../src/junit-report.ts";
import { tapReport } from "../../src/tap-report.ts";
import { markdownSummary } from "../../src/markdown-summary.ts";
import { parseGateReport } from "../../src/gate-report.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";

const spawnCase: SpawnCase = { path: "exec-target", argv: ["a"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false };

test("the same problems: the same texts in any order; another number, a missing one or none at all is not", (t) => {
  t.true(sameProblems(["b", "a"], ["a", "b"]));
  t.false(sameProblems(["2 descriptor(s) leaked"], ["3 descriptor(s) leaked"]));
  t.false(sameProblems(["a", "b"], ["a"]));
  t.false(sameProblems(["a", "a"], ["a", "b"]));
  t.false(sameProblems([], []));
});

test("status precedence: fail, then fixed, then baseline, then known, then pass", (t) => {
  t.is(propertyStatus(true, ["known"], true), "fail");
  t.is(propertyStatus(false, ["fail"], true), "fail");
  t.is(propertyStatus(false, ["fixed", "known"], true), "fixed");
  t.is(propertyStatus(false, ["known"], true), "baseline");
  t.is(propertyStatus(false, [], true), "baseline");
  t.is(propertyStatus(false, ["known"], false), "known");
  t.is(propertyStatus(false, [], false), "pass");
});

test("'baseline' never fails the run, even under --strict-known", (t) => {
  t.is(knownAwareExitCode(["baseline", "pass", "known"], true), 0);
  t.is(knownAwareExitCode(["baseline", "fail"], false), 1);
});

test("the tally counts distinct cases and keeps the first's problems", (t) => {
  const tally = new BaselineTally();
  tally.record(spawnCase, ["leak"]);
  tally.record(spawnCase, ["leak"]);
  tally.record({ ...spawnCase, argv: ["b"] }, ["other"]);
  const outcome = tally.outcome({ implementation: "go@1.26", version: "go1.26.10" });
  t.is(outcome.cases, 2);
  t.deepEqual(outcome.problems, ["leak"]);
  t.regex(outcome.example!, /"argv":\["a"\]/);
  t.false("unavailable" in outcome);
});

const finding = { id: "leak", implementation: "go", version: "go1.26*", targets: ["*/host"], properties: ["errno-propagates"] } as unknown as KnownFinding;

test("a finding whose version glob does not name the version is a candidate by reproducer; another implementation, target or property is none", (t) => {
  const scope = { implementation: "go", version: "go1.26.10", target: "amd64/host", property: "errno-propagates" };
  t.deepEqual(findingCandidates([finding], scope).map((candidate) => candidate.matched), ["version"]);
  t.deepEqual(findingCandidates([finding], { ...scope, version: "devel" }).map((candidate) => candidate.matched), ["reproducer"]);
  t.deepEqual(findingCandidates([finding], { ...scope, version: "devel", target: "amd64/user" }), []);
  t.deepEqual(findingCandidates([finding], { ...scope, version: "devel", implementation: "musl" }), []);
  t.deepEqual(findingCandidates([finding], { ...scope, version: "devel", property: "pidfd" }), []);
});

test("a version the file names is matched by version alone: another release's finding does not apply by its reproducer", (t) => {
  const older = { ...finding, id: "pidfd-leak-go1.22", version: "go1.22*" } as KnownFinding;
  const scope = { implementation: "go", version: "go1.26.10", target: "amd64/host", property: "errno-propagates" };
  t.deepEqual(findingCandidates([finding, older], scope).map((candidate) => [candidate.finding.id, candidate.matched]), [["leak", "version"]]);
  // A build of master: the file names nothing for it, so both are tried by their reproducers.
  t.deepEqual(findingCandidates([finding, older], { ...scope, version: "devel go1.27-abc1234" }).map((candidate) => candidate.matched), ["reproducer", "reproducer"]);
});

const shared: ResultRow = {
  arch: "amd64", tier: "host", impl: "go@/src/go", target: "amd64/host/go@/src/go", property: "errno-propagates", status: "baseline",
  reason: "baseline go@1.26 (go1.26.10) fails the same way", counterexample: null, replay: null,
  baseline: { implementation: "go@1.26", version: "go1.26.10", cases: 3, example: '{"path":"exec-target"}', problems: ["2 descriptor(s) leaked in the parent"] },
  known: [{ finding: "leak", status: "known", cases: 1, example: null, reproducer: "still fails: x", matched: "reproducer" }],
};
const run = { seed: 1, results: [shared], strictKnown: true };

test("a 'baseline' result passes in every format, and each says the baseline shares it", (t) => {
  t.is(verdictOf(shared, true), "pass");
  const table = formatResultTable([shared]);
  t.regex(table, /amd64\/host\/go@\/src\/go\s+baseline/);
  t.regex(table, /^baseline: fails only as the baseline go@1\.26 \(go1\.26\.10\) fails too/m);
  t.regex(outcomeLines([shared], true).join("\n"), /^BASELINE amd64\/host\/go@\/src\/go errno-propagates: baseline go@1\.26 \(go1\.26\.10\) fails the same way: 3 case\(s\)/);
  t.regex(formatKnownFindingTable([{ ...shared.known![0]!, target: shared.target, property: shared.property }]), /leak\s+amd64\/host\/go@\/src\/go\s+errno-propagates\s+known\s+reproducer/);
  const junit = junitReport(run);
  t.regex(junit, /<property name="status" value="baseline"\/>/);
  t.notRegex(junit, /<failure/);
  t.regex(junit, /baseline go@1\.26 \(go1\.26\.10\) fails the same way/);
  t.regex(junit, /known finding leak: known \(matched by its reproducer\)/);
  const tap = tapReport(run);
  t.regex(tap, /^ok 1 - amd64\/host\/go@\/src\/go errno-propagates$/m);
  t.regex(tap, /status: "baseline"/);
  t.regex(tap, /fails the same way: 3 case\(s\)/);
  const summary = markdownSummary(run);
  t.regex(summary, /\*\*passed\*\*/);
  t.regex(summary, /### Failures the baseline shares[\s\S]*go@1\.26 \(go1\.26\.10\) fails the same way/);
});

test("a report keeps a result's baseline and a finding's matched when read back (report merge reads it so)", (t) => {
  const report = parseGateReport(JSON.stringify({ seed: 1, implementations: [{ label: shared.impl, name: "go", version: "devel" }], results: [shared], targets: [] }), "r.json");
  t.deepEqual(report.results[0]!.baseline, shared.baseline);
  t.is(report.results[0]!.status, "baseline");
  t.is(report.results[0]!.known[0]!.matched, "reproducer");
});
