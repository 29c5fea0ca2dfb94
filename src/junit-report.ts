/**
 * A run as JUnit XML (`--junit FILE`): one testsuite per target, one
 * testcase per target x property (classname the target, name the property).
 * A failure carries its counterexample and replay line; a skip its reason
 * (junit-report-builder writes a bare <skipped/>, so the reason is the
 * testcase's system-out and its skip-reason property); a result that could
 * not be tested (`broken`) an <error> with the fault; a known finding is a
 * pass whose system-out says which finding. Each testcase's `time` is the
 * property's seconds on its target (0 where not measured: a target that did
 * not start), each suite's the sum. Pure: returns the text.
 */
import junitReportBuilderModule, { type Builder } from "junit-report-builder";
import { knownNotes, verdictOf, type ResultRow, type RunResults } from "./result-table.ts";

// The package's module.exports is the builder itself; its typings say it is the export named default.
const junitReportBuilder = junitReportBuilderModule as unknown as Builder;

/** XML 1.0 cannot carry most control characters, even in CDATA: they are shown as \u escapes. */
function xmlText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A failure's body: the reason, the counterexample and the command that replays it. */
export function failureText(result: Pick<ResultRow, "reason" | "counterexample" | "replay">): string {
  return [result.reason, `counterexample: ${result.counterexample ?? "(none)"}`, `replay: ${result.replay ?? "(none)"}`].join("\n");
}

export function junitReport(run: RunResults): string {
  const builder = junitReportBuilder.newBuilder().name(`vforkcheck gate --seed ${run.seed}`);
  const suites = new Map<string, ReturnType<typeof builder.testSuite>>();
  const suiteOf = (target: string) => suites.get(target) ?? suites.set(target, builder.testSuite().name(target)).get(target)!;
  // Each suite's time: the sum of its testcases' (its properties run one after another on the target).
  const suiteSeconds = new Map<string, number>();
  for (const result of run.results) {
    const testCase = suiteOf(result.target).testCase().className(result.target).name(result.property).property("status", result.status);
    testCase.time(result.duration_s ?? 0);
    suiteSeconds.set(result.target, (suiteSeconds.get(result.target) ?? 0) + (result.duration_s ?? 0));
    const notes = knownNotes(result);
    const verdict = verdictOf(result, run.strictKnown);
    if (verdict === "fail") testCase.failure(xmlText(result.reason.split("\n")[0]!), result.status === "fixed" ? "fixed-known-finding" : "counterexample").stacktrace(xmlText([failureText(result), ...notes].join("\n")));
    // Could not test: JUnit's <error> (the test could not run), not a <failure> of the implementation.
    if (verdict === "broken") testCase.error(xmlText(result.reason.split("\n")[0]!), "broken", xmlText([result.reason, ...notes].join("\n")));
    if (verdict === "skip") testCase.skipped().property("skip-reason", xmlText(result.reason)).standardOutput(xmlText(`skipped: ${result.reason}`));
    if (verdict === "pass" && notes.length) testCase.standardOutput(xmlText(notes.join("\n")));
  }
  for (const missing of run.missing ?? []) suiteOf(missing.target).testCase().className(missing.target).name("(not run)").failure(xmlText(missing.why), "missing-shard").time(0);
  for (const [target, suite] of suites) suite.time(Math.round((suiteSeconds.get(target) ?? 0) * 1000) / 1000);
  return builder.build();
}
