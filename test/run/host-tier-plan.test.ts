// The plan on a machine whose kernel does not execute i386 (VFORKCHECK_HOST_EXEC=amd64
// stands for one): 386 runs on the user tier in place of the host tier, and the gate's
// header, table, Markdown summary and JSON report say so with the reason; 386/system is
// unchanged. The bad override is one line and exit 2.
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gateOptions } from "../../harness/run/gate.ts";
import { parseOptions, planTargets } from "../../harness/run/options.ts";
import { replacementOf, targetName } from "../../harness/targets/target.ts";
import { hostExecutionFromOverride } from "../../src/host-execution.ts";
import { parseGateReport, type ReportResult } from "../../src/gate-report.ts";
import { formatResultTable } from "../../src/result-table.ts";
import { markdownSummary } from "../../src/markdown-summary.ts";
import { mergeShardReports } from "../../src/report-merge.ts";
import { vforkcheckCli } from "../helpers/gate-cli.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

const withoutI386 = hostExecutionFromOverride("amd64");
const reason = withoutI386.find((entry) => entry.architecture === "386")!.reason;
const plan = (args: string[], hostExecution = withoutI386) => planTargets(parseOptions(args, gateOptions), hostExecution);

test("without i386, --tier host alone plans 386 on the user tier in place of the host tier, with the reason", (t) => {
  const specs = plan(["--tier", "host", "--arch", "amd64,386"]);
  t.deepEqual(specs.map(targetName), ["amd64/host", "amd64/host/in-process", "386/user"]);
  t.deepEqual(specs.map(replacementOf).filter(Boolean), [{ target: "386/user", inPlaceOf: "386/host", reason }]);
});

test("the other tiers: 386/user stays one target, asked for alone it replaces nothing, 386/system is unchanged; with i386 386/host is back", (t) => {
  const all = plan(["--arch", "386"]);
  t.deepEqual(all.map(targetName), ["386/user", "386/system"]);
  t.deepEqual(all.map((spec) => spec.replaced?.tier), ["host", undefined]);
  t.deepEqual(plan(["--arch", "386", "--tier", "user"]).map((spec) => [targetName(spec), spec.replaced]), [["386/user", undefined]]);
  t.deepEqual(plan(["--arch", "386", "--tier", "host"], hostExecutionFromOverride("amd64,386")).map(targetName), ["386/host"]);
  // An implementation with no user tier cannot be moved there: its host-only target is not planned rather than failing to start.
  t.deepEqual(plan(["--impl-cmd", "true", "--tier", "host"], hostExecutionFromOverride("386")).map(targetName), []);
});

const row = (target: string, property: string): ReportResult => ({ arch: target.split("/")[0]!, tier: target.split("/")[1]!, impl: "reference", target, property, status: "pass", reason: "", counterexample: null, replay: null, known: [] });

test("the table and the Markdown summary say which target runs in place of which, and why; a report keeps it through a merge", (t) => {
  const replaced = [{ target: "386/user", inPlaceOf: "386/host", reason }];
  const results = [row("amd64/host", "parent-resumes"), row("386/user", "parent-resumes")];
  t.true(formatResultTable(results, undefined, replaced).endsWith(`\n386/user runs in place of 386/host: ${reason}`));
  t.false(formatResultTable([results[0]!], undefined, replaced).includes("in place of"), "a note only for a target of the table");
  t.true(markdownSummary({ seed: 1, results, strictKnown: false, replaced }).includes(`### Targets in place of others\n\n- 386/user runs in place of 386/host: ${reason}\n`));
  const report = (index: number, shardResults: ReportResult[]) =>
    JSON.stringify({ seed: 1, plan: ["amd64/host", "386/user"], shard: { index, count: 2 }, replaced, implementations: [{ label: "reference", name: "reference", version: "x" }], results: shardResults, targets: [] });
  const shards = [report(1, [results[0]!]), report(2, [results[1]!])].map((text, at) => ({ file: `s${at}.json`, report: parseGateReport(text, `s${at}.json`), json: JSON.parse(text) as { results: unknown[] } }));
  t.deepEqual(shards[0]!.report.replaced, replaced);
  t.deepEqual(mergeShardReports(shards).replaced, replaced);
  t.deepEqual(parseGateReport(JSON.stringify({ seed: 1, implementations: [], results: [], targets: [] }), "old.json").replaced, [], "an older report has none");
  t.throws(() => parseGateReport(JSON.stringify({ seed: 1, implementations: [], results: [], targets: [], replaced: [{ target: "386/user" }] }), "bad.json"), { message: "bad.json: 'replaced' must be a list of {target, inPlaceOf, reason}" });
});

const vforkcheck = (args: string[], env: Record<string, string>) => vforkcheckCli(args, 240_000, env);

test("VFORKCHECK_HOST_EXEC=amd64: gate --tier host exits 0 with 386/user in place of 386/host in its header, table and report", async (t) => {
  const directory = scratchDirectory(t, "vforkcheck-host-tier-plan-");
  const [report, summary] = [join(directory, "gate.json"), join(directory, "gate.md")];
  const gate = await vforkcheck(["gate", "--tier", "host", "--runs", "3", "--no-in-process", "--property", "parent-resumes,errno-propagates", "--seed", "1", "--report", report, "--summary", summary], { VFORKCHECK_HOST_EXEC: "amd64" });
  t.is(gate.status, 0, gate.stderr);
  const note = `386/user runs in place of 386/host: ${reason}`;
  t.true(gate.stderr.includes(`\nvforkcheck gate: ${note}\n`), gate.stderr);
  t.true(gate.stdout.includes(`\n${note}\n`), gate.stdout);
  const parsed = parseGateReport(readFileSync(report, "utf8"), report);
  t.deepEqual(parsed.plan, ["amd64/host", "386/user"]);
  t.deepEqual(parsed.replaced, [{ target: "386/user", inPlaceOf: "386/host", reason }]);
  t.deepEqual([...new Set(parsed.results.filter((result) => result.target === "386/user").map((result) => result.status))], ["pass"]);
  t.true(readFileSync(summary, "utf8").includes(`- ${note}\n`));
});

test("a VFORKCHECK_HOST_EXEC naming an unknown architecture: exit 2 and one line, before anything runs", async (t) => {
  const gate = await vforkcheck(["gate", "--tier", "host", "--runs", "3"], { VFORKCHECK_HOST_EXEC: "amd64,i386" });
  t.is(gate.status, 2);
  t.is(gate.stderr, "vforkcheck: VFORKCHECK_HOST_EXEC: unknown architecture 'i386' (candidates: amd64,386) (usage: vforkcheck gate --help)\n");
  t.is(gate.stdout, "");
});
