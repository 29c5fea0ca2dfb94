// The CI formats of a report (JUnit, TAP 14, the Markdown summary) read back with real parsers of
// each format, from a report that has every status; and the dealing of --shard, and merge's refusals.
import test from "ava";
import { readFileSync } from "node:fs";
import { parse as parseJunit, type TestCase, type TestSuite } from "junit2json";
import { Parser } from "tap-parser";
import { parseGateReport, type GateReport } from "../../src/gate-report.ts";
import { junitReport } from "../../src/junit-report.ts";
import { tapReport } from "../../src/tap-report.ts";
import { codeBlock, markdownCell, markdownSummary } from "../../src/markdown-summary.ts";
import type { RunResults } from "../../src/result-table.ts";
import { dealShards, parseShard } from "../../src/shard.ts";
import { mergeShardReports, type ShardReport } from "../../src/report-merge.ts";

const fixture = "test/fixtures/report-formats/every-status.json";
const text = readFileSync(fixture, "utf8");
const report = parseGateReport(text, fixture);
const run: RunResults = { seed: report.seed, results: report.results, strictKnown: false };
const failing = report.results.find((result) => result.status === "fail")!;
const skipped = report.results.find((result) => result.status === "skip")!;
const broken = report.results.find((result) => result.status === "broken")!;

async function junitCases(xml: string): Promise<{ suites: TestSuite[]; cases: Map<string, TestCase>; totals: { tests?: number; failures?: number; skipped?: number } }> {
  const parsed = (await parseJunit(xml)) as { testsuite?: TestSuite[]; tests?: number; failures?: number; skipped?: number };
  const suites = parsed.testsuite ?? [];
  const cases = new Map(suites.flatMap((suite) => (suite.testcase ?? []).map((testCase) => [`${testCase.classname} ${testCase.name}`, testCase] as const)));
  return { suites, cases, totals: parsed };
}

test("the fixture has every status", (t) => {
  t.deepEqual([...new Set(report.results.map((result) => result.status))].sort(), ["broken", "fail", "fixed", "known", "pass", "skip"]);
});

test("JUnit: one testcase per target x property; a failure carries its counterexample and replay, a broken one an <error> with the fault, a skip its reason, a known finding says which", async (t) => {
  const { suites, cases, totals } = await junitCases(junitReport(run));
  t.deepEqual(suites.map((suite) => suite.name), ["amd64/host/go", "arm64/user/go"]);
  t.like(totals, { tests: 6, failures: 1, errors: 1, skipped: 1 });
  t.is(cases.size, 6);
  const failure = cases.get(`${failing.target} ${failing.property}`)!.failure![0]!;
  t.is(failure.message, failing.reason);
  t.true(failure.inner!.includes(`counterexample: ${failing.counterexample}`), failure.inner);
  t.true(failure.inner!.includes(`replay: ${failing.replay}`));
  // Could not test: an <error>, never a <failure> of the implementation.
  const error = cases.get(`${broken.target} ${broken.property}`)!;
  t.is(error.failure, undefined);
  t.like(error.error![0], { message: broken.reason, type: "broken", inner: broken.reason });
  const skip = cases.get(`${skipped.target} ${skipped.property}`)!;
  t.truthy(skip.skipped);
  t.deepEqual(skip["system-out"], [`skipped: ${skipped.reason}`]);
  const properties = (skip as { properties?: { name: string; value: string }[] }).properties ?? [];
  t.like(properties.find((property) => property.name === "skip-reason"), { value: skipped.reason });
  const known = cases.get("amd64/host/go descriptors-inherited")!;
  t.is(known.failure, undefined);
  t.regex(known["system-out"]![0]!, /known finding go-stdin-closed: known \(1 cases/);
  const fixed = cases.get("arm64/user/go parent-resumes")!;
  t.is(fixed.failure, undefined);
  t.regex(fixed["system-out"]![0]!, /known finding go-old: fixed/);
  t.is(cases.get("amd64/host/go parent-resumes")!.failure, undefined);
});

test("JUnit and TAP: under --strict-known a fixed known finding fails", async (t) => {
  const strict = { ...run, strictKnown: true };
  const { totals, cases } = await junitCases(junitReport(strict));
  t.like(totals, { failures: 2, errors: 1 });
  t.like(cases.get("arm64/user/go parent-resumes")!.failure![0], { type: "fixed-known-finding" });
  t.is(tapEvents(tapReport(strict)).complete.fail, 3);
});

function tapEvents(tap: string) {
  const events = Parser.parse(tap) as [string, any][];
  const of = (kind: string) => events.filter(([name]) => name === kind).map(([, value]) => value);
  return { version: of("version")[0], asserts: of("assert"), complete: of("complete")[0], events };
}

test("TAP 14: version, plan, ok/not ok per target x property, YAML diagnostics with counterexample and replay, broken as not ok with its fault, # SKIP reason", (t) => {
  const tap = tapReport(run);
  t.regex(tap, /^TAP version 14\n/);
  const { version, asserts, complete } = tapEvents(tap);
  t.is(version, 14);
  t.like(complete, { ok: false, count: 6, fail: 2, skip: 1, plan: { start: 1, end: 6 } });
  t.deepEqual(asserts.map((point) => point.tapError), new Array(6).fill(null));
  t.deepEqual(asserts.map((point) => point.id), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(asserts.map((point) => point.name), report.results.map((result) => `${result.target} ${result.property}`));
  const failure = asserts.find((point) => !point.ok && point.diag.status === "fail");
  t.is(failure.name, `${failing.target} ${failing.property}`);
  t.like(failure.diag, { status: "fail", reason: failing.reason, counterexample: failing.counterexample, replay: failing.replay });
  const notTested = asserts.find((point) => point.name === `${broken.target} ${broken.property}`);
  t.like(notTested, { ok: false, todo: false, skip: false, diag: { status: "broken", severity: "broken", reason: broken.reason } });
  const skip = asserts.find((point) => point.skip);
  t.is(skip.skip, skipped.reason.replace(/\s*\n\s*/g, " "));
  const known = asserts.find((point) => point.name === "amd64/host/go descriptors-inherited");
  t.true(known.ok);
  t.like(known.diag, { status: "known" });
  t.regex(known.diag.known[0], /go-stdin-closed/);
});

test("TAP: a description's # and \\ are escaped, so no directive is read from a target's name", (t) => {
  const tricky = { ...run, results: [{ ...run.results[0]!, target: "a#b\\c", property: "p # SKIP not really" }] };
  const { asserts } = tapEvents(tapReport(tricky));
  t.like(asserts[0], { ok: true, skip: false, name: "a#b\\c p # SKIP not really", tapError: null });
});

test("the Markdown summary: the table with | and newlines escaped, then each failure with counterexample and replay in code blocks", (t) => {
  const summary = markdownSummary(run);
  const lines = summary.split("\n");
  const start = lines.findIndex((line) => line.startsWith("| target |"));
  const rows = lines.slice(start, lines.indexOf("", start)).filter((line) => !line.startsWith("| ---"));
  t.is(rows.length, 1 + 2);
  // Each row has the target, the implementation and three properties: no cell broke the table.
  for (const row of rows) t.is(row.split(/(?<!\\)\|/).length - 2, 5, row);
  t.true(rows.some((row) => row.startsWith("| arm64/user/go | go | fixed | fail | broken |")));
  t.regex(summary, /^## vforkcheck gate \(seed 7\): \*\*1 failed, 1 could not be tested \(broken\)\*\*/);
  // The fault once, with what it stopped, under its own heading.
  t.true(summary.includes(`### Could not test (broken)`));
  t.true(summary.includes(`- ${broken.reason}: pidfd-exact on arm64/user/go`), summary);
  t.regex(summary, /### Known findings/);
  const failures = summary.slice(summary.indexOf("### Failures"));
  t.true(failures.includes(`#### ${failing.target} ${failing.property}`));
  t.true(failures.includes(["```", failing.counterexample, "```"].join("\n")), "the counterexample verbatim in a fence its backticks cannot close");
  t.true(failures.includes(["```", failing.replay, "```"].join("\n")));
  t.is(markdownCell("a|b\nc"), "a\\|b<br>c");
  t.deepEqual(codeBlock("x ``` y"), ["````", "x ``` y", "````"]);
});

test("a run without targets (an empty shard) is valid JUnit and a TAP skip-all", async (t) => {
  const empty = { ...run, results: [] };
  t.like((await junitCases(junitReport(empty))).totals, { tests: 0, failures: 0 });
  const { complete } = tapEvents(tapReport(empty));
  t.like(complete, { ok: true, count: 0, plan: { skipAll: true } });
  t.regex(markdownSummary(empty), /No target ran/);
});

test("planned targets without results (a missing shard) fail in every format", async (t) => {
  const missing = { ...run, missing: [{ target: "s390x/user/go", why: "no report of shard 3/3" }] };
  const { cases } = await junitCases(junitReport(missing));
  t.like(cases.get("s390x/user/go (not run)")!.failure![0], { message: "no report of shard 3/3", type: "missing-shard" });
  const { complete, asserts } = tapEvents(tapReport(missing));
  t.like(complete, { count: 7, fail: 3 });
  t.like(asserts.at(-1), { ok: false, name: "s390x/user/go (not run)" });
  t.regex(markdownSummary(missing), /targets not run[\s\S]*`s390x\/user\/go`: no report of shard 3\/3/);
});

test("--shard I/N is parsed and refused in one line", (t) => {
  t.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  t.throws(() => parseShard("0/3"), { message: "--shard: '0/3': need 1 <= I <= N <= 1000" });
  t.throws(() => parseShard("4/3"), { message: "--shard: '4/3': need 1 <= I <= N <= 1000" });
  t.throws(() => parseShard("two"), { message: "--shard: 'two' is not I/N (e.g. 2/3)" });
});

test("dealShards: each unit to one shard, the same every time, the costliest spread first", (t) => {
  const costs = [60, 60, 60, 10, 10, 10, 8, 8, 8, 8];
  const dealt = dealShards(costs, 3);
  t.deepEqual(dealShards(costs, 3), dealt);
  const load = [0, 1, 2].map((shard) => costs.filter((_, unit) => dealt[unit] === shard).reduce((a, b) => a + b, 0));
  t.deepEqual(load.sort(), [78, 78, 86]);
  // Equal costs: by count, so that no shard idles.
  t.deepEqual(dealShards([8, 8, 8, 8], 2), [0, 1, 0, 1]);
  t.deepEqual(dealShards([8], 3), [0]);
});

function shardOf(base: GateReport, file: string, index: number, count: number, targets: string[], seed = base.seed): ShardReport {
  const results = base.results.filter((result) => targets.includes(result.target));
  const whole = JSON.parse(text) as { results: { target: string }[] };
  const json = { ...whole, seed, shard: { index, count }, results: whole.results.filter((result) => targets.includes(result.target)) };
  return { file, report: { ...base, seed, results, shard: { index, count }, targets: base.targets.filter((target) => targets.includes(target.target)) }, json };
}

test("merge: shards of one run as the whole run, in plan order; a missing shard is said, not refused", (t) => {
  const one = shardOf(report, "b.json", 2, 2, ["arm64/user/go"]);
  const two = shardOf(report, "a.json", 1, 2, ["amd64/host/go"]);
  const merged = mergeShardReports([one, two]);
  t.deepEqual(merged.results, report.results);
  t.deepEqual(merged.resultJson, (JSON.parse(text) as { results: unknown[] }).results);
  t.deepEqual(merged.targets.map((target) => target.target), ["amd64/host/go", "arm64/user/go"]);
  t.deepEqual(merged.problems, []);
  t.false(merged.partial);
  const half = mergeShardReports([two]);
  t.deepEqual(half.problems, ["missing shard 2/2 (targets without results: arm64/user/go)"]);
  t.deepEqual(half.missing, [{ target: "arm64/user/go", why: "no report of shard 2/2" }]);
  t.true(half.partial);
});

test("merge refuses reports that are not shards of one run", (t) => {
  const first = shardOf(report, "a.json", 1, 2, ["amd64/host/go"]);
  t.throws(() => mergeShardReports([first, shardOf(report, "b.json", 2, 2, ["arm64/user/go"], 8)]), { message: "b.json: seed 8, but a.json has seed 7: not shards of one run" });
  t.throws(() => mergeShardReports([first, shardOf(report, "b.json", 1, 2, ["arm64/user/go"])]), { message: "b.json and a.json are both shard 1/2" });
  t.throws(() => mergeShardReports([first, shardOf(report, "b.json", 2, 3, ["arm64/user/go"])]), { message: "b.json: shard 2/3, but a.json is shard 1/2: not shards of one run" });
  t.throws(() => mergeShardReports([first, shardOf(report, "b.json", 2, 2, ["amd64/host/go"])]), { message: "b.json: results for amd64/host/go, which a.json has too: overlapping shards" });
  const otherPlan = shardOf(report, "b.json", 2, 2, ["arm64/user/go"]);
  t.throws(() => mergeShardReports([first, { ...otherPlan, report: { ...otherPlan.report, plan: ["arm64/user/go"] } }]), { message: "b.json: its plan differs from a.json's: not shards of one run" });
  const { plan: _, ...planless } = first.report;
  t.throws(() => mergeShardReports([{ ...first, report: planless }]), { message: /a\.json: the report has no 'plan'/ });
});
