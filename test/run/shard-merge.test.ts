// `gate --shard I/N` in 3 shards, merged by `report merge`, against the same gate unsharded: the same rows,
// statuses, counterexamples and replay lines, and CI formats that junit2json and tap-parser read the same way.
// Then merge's refusals of a missing shard (exit 1), mixed seeds and garbage (exit 2).
import test from "ava";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseJunit, type TestSuite } from "junit2json";
import { Parser } from "tap-parser";
import { scratchDirectory } from "../helpers/scratch-directory.ts";
import { parseGateReport } from "../../src/gate-report.ts";
import { hostileDriverCommand, leftBehind, uniqueMarker } from "../helpers/marked-run.ts";
import { hostExecution } from "../../harness/process/host-execution.ts";
import { runsNatively } from "../../src/host-execution.ts";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI, with a deadline: a gate that hangs fails the test instead of the suite. */
function vforkcheck(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 180_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

interface Row {
  target: string;
  property: string;
  status: string;
  counterexample: string | null;
  replay: string | null;
}

const rowsOf = (file: string) =>
  (JSON.parse(readFileSync(file, "utf8")) as { results: Row[] }).results.map(({ target, property, status, counterexample, replay }) => ({ target, property, status, counterexample, replay }));

/** Each format's cases as its parser reads them: (name, verdict), in order. */
async function junitCases(file: string): Promise<string[]> {
  const parsed = (await parseJunit(readFileSync(file, "utf8"))) as { testsuite?: TestSuite[] };
  return (parsed.testsuite ?? []).flatMap((suite) => (suite.testcase ?? []).map((testCase) => `${testCase.classname} ${testCase.name} ${testCase.failure ? `fail ${testCase.failure[0]!.inner}` : testCase.skipped ? "skip" : "pass"}`));
}

function tapPoints(file: string): string[] {
  const events = Parser.parse(readFileSync(file, "utf8")) as [string, { ok: boolean; name: string; diag: { counterexample?: string } | null; tapError: string | null }][];
  return events.filter(([kind]) => kind === "assert").map(([, point]) => `${point.name} ${point.ok ? "ok" : "not ok"} ${point.diag?.counterexample ?? ""} ${point.tapError ?? ""}`);
}

/** The gate unsharded, then in 3 shards merged; both with every format. */
async function shardedAgainstWhole(t: { teardown(fn: () => void): void }, gateArguments: string[]) {
  const directory = scratchDirectory(t, "vforkcheck-shards-");
  const outputs = (name: string) => ["--report", join(directory, `${name}.json`), "--junit", join(directory, `${name}.xml`), "--tap", join(directory, `${name}.tap`), "--summary", join(directory, `${name}.md`)];
  const whole = await vforkcheck(["gate", ...gateArguments, ...outputs("whole")]);
  const shards: Run[] = [];
  for (const index of [1, 2, 3]) shards.push(await vforkcheck(["gate", ...gateArguments, "--shard", `${index}/3`, "--report", join(directory, `shard-${index}.json`)]));
  const shardFiles = [1, 2, 3].map((index) => join(directory, `shard-${index}.json`));
  const merged = await vforkcheck(["report", "merge", ...shardFiles, "--out", join(directory, "merged.json"), "--junit", join(directory, "merged.xml"), "--tap", join(directory, "merged.tap"), "--summary", join(directory, "merged.md")]);
  return { directory, whole, shards, shardFiles, merged, file: (name: string) => join(directory, name) };
}

const referenceRun = ["--tier", "host,user", "--seed", "1", "--runs", "5", "--arch", "amd64,386,arm64", "--property", "parent-resumes,errno-propagates"];

/** 386's target with the host tier asked for: 386/host where this machine's kernel executes i386 (measured), else 386/user in its place. */
const i386Target = runsNatively(hostExecution(), "386") ? "386/host" : "386/user";

test("3 shards merged: the same rows and statuses as the run unsharded, the same table; each shard ran only its own targets", async (t) => {
  const run = await shardedAgainstWhole(t, referenceRun);
  t.is(run.whole.status, 0, run.whole.stderr);
  t.deepEqual(run.shards.map((shard) => shard.status), [0, 0, 0], run.shards.map((shard) => shard.stderr).join("\n"));
  t.is(run.merged.status, 0, run.merged.stderr);
  const wholeRows = rowsOf(run.file("whole.json"));
  t.deepEqual(wholeRows.map((row) => row.target), ["amd64/host", "amd64/host", "amd64/host/in-process", "amd64/host/in-process", i386Target, i386Target, "arm64/user", "arm64/user"]);
  t.deepEqual(rowsOf(run.file("merged.json")), wholeRows);
  // The merged report is a gate report again (vforkcheck findings reads it), of the whole plan.
  const mergedReport = parseGateReport(readFileSync(run.file("merged.json"), "utf8"), "merged.json");
  const wholeReport = parseGateReport(readFileSync(run.file("whole.json"), "utf8"), "whole.json");
  t.like(mergedReport, { seed: 1, partial: false, plan: wholeReport.plan, shard: undefined, implementations: wholeReport.implementations });
  t.deepEqual(mergedReport.targets.map((target) => target.target), wholeReport.targets.map((target) => target.target));
  const capabilities = (file: string) => (JSON.parse(readFileSync(run.file(file), "utf8")) as { capabilities: unknown }).capabilities;
  t.deepEqual(capabilities("merged.json"), capabilities("whole.json"));
  // The merge prints what the gate printed (the table, skip reasons, replay lines), but its own "merged:" and final lines.
  const body = (stdout: string) => stdout.split("\n").filter((line) => !/^(merged|ok|FAIL): /.test(line)).join("\n");
  t.is(body(run.merged.stdout), body(run.whole.stdout));
  t.regex(run.merged.stdout, /^ok: 0 failed, 8 passed, 0 skipped, .* \(report \S+merged\.json\)$/m);
  const shardTargets = run.shardFiles.map((file) => [...new Set(rowsOf(file).map((row) => row.target))]);
  t.deepEqual(shardTargets.flat().sort(), [...new Set(wholeRows.map((row) => row.target))].sort(), "each target in exactly one shard");
  t.true(shardTargets.some((targets) => targets.join() === "amd64/host,amd64/host/in-process"), "the in-process target with amd64/host, after it");
  const shardReport = JSON.parse(readFileSync(run.shardFiles[1]!, "utf8")) as { shard: unknown; plan: string[] };
  t.deepEqual(shardReport.shard, { index: 2, count: 3 });
  t.deepEqual(shardReport.plan, ["amd64/host", "amd64/host/in-process", i386Target, "arm64/user"]);
  t.deepEqual(await junitCases(run.file("merged.xml")), await junitCases(run.file("whole.xml")));
  t.deepEqual(tapPoints(run.file("merged.tap")), tapPoints(run.file("whole.tap")));
  t.is(readFileSync(run.file("merged.md"), "utf8"), readFileSync(run.file("whole.md"), "utf8"));

  // A missing shard: exit 1, one line saying which shard and its targets.
  const missing = await vforkcheck(["report", "merge", run.shardFiles[0]!, run.shardFiles[2]!, "--out", run.file("missing.json"), "--tap", run.file("missing.tap")]);
  t.is(missing.status, 1);
  t.regex(missing.stderr, /^vforkcheck report merge: missing shard 2\/3 \(targets without results: [^)]+\)\n$/);
  t.true((JSON.parse(readFileSync(run.file("missing.json"), "utf8")) as { partial?: boolean }).partial);
  t.true(tapPoints(run.file("missing.tap")).some((point) => / \(not run\) not ok /.test(point)));

  // Shards of another seed, and garbage: bad input, exit 2 and one line naming the file.
  const otherSeed = run.file("other-seed.json");
  writeFileSync(otherSeed, JSON.stringify({ ...JSON.parse(readFileSync(run.shardFiles[1]!, "utf8")), seed: 2 }));
  const mixed = await vforkcheck(["report", "merge", run.shardFiles[0]!, otherSeed, run.shardFiles[2]!, "--out", run.file("mixed.json")]);
  t.is(mixed.status, 2);
  t.is(mixed.stderr, `vforkcheck: report merge: ${otherSeed}: seed 2, but ${run.shardFiles[0]} has seed 1: not shards of one run (usage: vforkcheck report merge --help)\n`);
  const garbage = run.file("garbage.json");
  writeFileSync(garbage, "{ not json");
  const refused = await vforkcheck(["report", "merge", run.shardFiles[0]!, garbage, "--out", run.file("garbage-merged.json")]);
  t.is(refused.status, 2);
  t.regex(refused.stderr, new RegExp(`^vforkcheck: report merge: ${garbage}: not a gate report: not JSON .*\\n$`));
});

// A deliberate bug (src/mutants.ts clone-errno-dropped) so that the rows have counterexamples to compare:
// two targets in three shards, so one shard has no target (a report with no results, exit 0).
test("3 shards merged of a failing run: the same counterexamples and replay lines; failures in JUnit and TAP carry them", async (t) => {
  const run = await shardedAgainstWhole(t, ["--tier", "host,user", "--seed", "1", "--runs", "30", "--arch", "386,arm64", "--no-in-process", "--property", "errno-propagates", "--define", "MUTANT_CLONE_ERRNO_DROPPED"]);
  t.is(run.whole.status, 1, run.whole.stderr);
  t.is(run.merged.status, 1, run.merged.stderr);
  const wholeRows = rowsOf(run.file("whole.json"));
  t.deepEqual(wholeRows.map((row) => `${row.target} ${row.status}`), [`${i386Target} fail`, "arm64/user fail"]);
  for (const row of wholeRows) t.truthy(row.counterexample && row.replay?.includes("--replay-path"));
  t.deepEqual(rowsOf(run.file("merged.json")), wholeRows);
  const empty = run.shardFiles.map((file, at) => ({ at, results: rowsOf(file).length })).filter((shard) => shard.results === 0);
  t.is(empty.length, 1, "one shard without a target");
  t.is(run.shards[empty[0]!.at]!.status, 0);
  for (const row of wholeRows) {
    t.true(run.merged.stdout.includes(`FAIL ${row.target} ${row.property}: replay with: ${row.replay}\n`));
    t.true((await junitCases(run.file("merged.xml"))).includes(`${row.target} ${row.property} fail ${[readReason(run.file("whole.json"), row.target), `counterexample: ${row.counterexample}`, `replay: ${row.replay}`].join("\n")}`));
    t.true(tapPoints(run.file("merged.tap")).includes(`${row.target} ${row.property} not ok ${row.counterexample} `));
  }
  t.deepEqual(await junitCases(run.file("merged.xml")), await junitCases(run.file("whole.xml")));
  const summary = readFileSync(run.file("merged.md"), "utf8");
  for (const row of wholeRows) t.true(summary.includes(`#### ${row.target} ${row.property}`) && summary.includes(row.counterexample!) && summary.includes(row.replay!));
});

function readReason(file: string, target: string): string {
  return (JSON.parse(readFileSync(file, "utf8")) as { results: { target: string; reason: string }[] }).results.find((result) => result.target === target)!.reason;
}

test("a shard stopped by a malformed answer (its gate exit 2): the report says which target and why, and the merge exits 2 the same way", async (t) => {
  const directory = scratchDirectory(t, "vforkcheck-shards-malformed-");
  const report = join(directory, "shard-1.json");
  const marker = uniqueMarker("merge-malformed");
  const gate = await vforkcheck(["gate", "--impl-cmd", hostileDriverCommand("garbage-hello", marker), "--runs", "2", "--property", "parent-resumes", "--shard", "1/1", "--report", report]);
  t.is(gate.status, 2, gate.stderr);
  const malformed = parseGateReport(readFileSync(report, "utf8"), report).malformed;
  t.is(malformed.length, 1);
  t.is(malformed[0]!.target, "amd64/host/cmd");
  t.regex(malformed[0]!.message, /hello/);
  const merged = await vforkcheck(["report", "merge", report, "--out", join(directory, "merged.json")]);
  t.is(merged.status, 2, merged.stderr);
  t.regex(merged.stderr, /^vforkcheck: amd64\/host\/cmd: malformed answer from the implementation: .*hello/m);
  t.deepEqual(parseGateReport(readFileSync(join(directory, "merged.json"), "utf8"), "merged.json").malformed, malformed);
  t.deepEqual(await leftBehind(marker), []);
});
