// What a run prints last (each skip reason once, with what it covers; the verdict and every status's count)
// and the time attributes of its JUnit report.
import test from "ava";
import { parse as parseJunit, type TestSuite } from "junit2json";
import { brokenLines, combinedExitCode, finalLine, runVerdict, skipLines, statusCounts } from "../../src/verdict-line.ts";
import { junitReport } from "../../src/junit-report.ts";
import { knownAwareExitCode } from "../../src/known-findings.ts";
import type { ResultRow } from "../../src/gate-report.ts";

const row = (target: string, property: string, status: string, reason = "", duration_s?: number): ResultRow => ({
  arch: target.split("/")[0]!, tier: target.split("/")[1]!, impl: "reference", target, property, status: status as ResultRow["status"], reason, counterexample: null, replay: null,
  ...(duration_s !== undefined ? { duration_s } : {}),
});

const noStorm = "the driver does not offer the storm";
const noPidfd = "pidfd_open is not in this kernel (ENOSYS)";
const results = [
  row("amd64/host", "pidfd", "pass"), row("amd64/host", "signal-storm", "skip", noStorm), row("amd64/host", "errno-propagates", "fail"),
  row("arm64/user", "pidfd", "skip", noPidfd), row("arm64/user", "signal-storm", "skip", noStorm), row("arm64/user", "errno-propagates", "known"),
  row("386/system", "pidfd", "skip", noPidfd), row("386/system", "signal-storm", "skip", noPidfd), row("386/system", "errno-propagates", "skip", noPidfd),
];

test("each distinct skip reason once, with the targets it covers whole and the properties it covers elsewhere", (t) => {
  t.deepEqual(skipLines(results), [
    `skip: ${noStorm}: signal-storm on amd64/host,arm64/user`,
    `skip: ${noPidfd}: 386/system (every property); pidfd on arm64/user`,
  ]);
  t.deepEqual(skipLines(results.filter((r) => r.status !== "skip")), []);
});

test("the final line: ok or FAIL, a count of every status the report knows (failures first), the time and the report", (t) => {
  const statuses = results.map((r) => r.status);
  t.regex(statusCounts(statuses), /^1 failed, 1 passed, 6 skipped, 1 known, 0 fixed/);
  t.regex(finalLine({ statuses, exitCode: 1, seconds: 46.12, report: "reports/gate.json" }), /^FAIL: 1 failed, 1 passed, 6 skipped, 1 known, 0 fixed.* in 46\.1 s \(report reports\/gate\.json\)$/);
  t.regex(finalLine({ statuses: ["pass", "skip"], exitCode: 0, seconds: 3, report: "r.json" }), /^ok: 0 failed, 1 passed, 1 skipped, 0 known, 0 fixed.* in 3\.0 s \(report r\.json\)$/);
  // A status the report does not know yet is counted too, not dropped.
  t.regex(statusCounts(["pass", "novel"]), /, 1 novel$/);
  t.regex(finalLine({ statuses: [], exitCode: 2, report: "r.json", why: "a malformed answer stopped amd64/host" }), /^FAIL: 0 failed, .*; a malformed answer stopped amd64\/host \(report r\.json\)$/);
});

test("a fault that kept targets from being tested: said once with what it stopped; its count only when some result is; BROKEN for exit 3, and 1 wins over 3", (t) => {
  const full = "no space left on device writing /c/k.tmp (1 MiB free of 40 MiB on /c); free space there or set VFORKCHECK_CACHE elsewhere";
  const broken = [row("arm64/system", "pidfd", "broken", full), row("arm64/system", "environment", "broken", full), row("riscv64/system", "pidfd", "broken", full), row("riscv64/system", "environment", "pass")];
  t.deepEqual(brokenLines(broken), [`broken: ${full}: arm64/system (every property); pidfd on riscv64/system`]);
  t.deepEqual(brokenLines(results), []);
  t.regex(statusCounts(broken.map((r) => r.status)), /^0 failed, 3 broken, 1 passed, /);
  t.notRegex(statusCounts(["pass"]), /broken/);
  t.regex(finalLine({ statuses: broken.map((r) => r.status), exitCode: 3, report: "r.json" }), /^BROKEN: 0 failed, 3 broken/);
  t.deepEqual([runVerdict(0), runVerdict(1), runVerdict(2), runVerdict(3)], ["pass", "fail", "fail", "broken"]);
  t.is(combinedExitCode([0, 3, 1, 0]), 1);
  t.is(combinedExitCode([3, 0]), 3);
  t.is(combinedExitCode([3, 2, 1]), 2);
  t.is(combinedExitCode([]), 0);
  // A gate's: a real failure wins over a fault; a fault over a fixed finding under --strict-known.
  t.is(knownAwareExitCode(["broken", "fail", "pass"], false), 1);
  t.is(knownAwareExitCode(["broken", "pass", "known"], false), 3);
  t.is(knownAwareExitCode(["broken", "fixed"], true), 3);
});

test("JUnit: each testcase's time is its property's seconds, each suite's the sum; 0 where none was measured", async (t) => {
  const xml = junitReport({ seed: 1, strictKnown: false, results: [row("amd64/host", "pidfd", "pass", "", 1.25), row("amd64/host", "environment", "pass", "", 2.5), row("arm64/user", "pidfd", "fail", "boom")] });
  const parsed = (await parseJunit(xml)) as { testsuite: TestSuite[] };
  t.deepEqual(parsed.testsuite.map((suite) => [suite.name, suite.time, (suite.testcase ?? []).map((c) => c.time)]), [
    ["amd64/host", 3.75, [1.25, 2.5]],
    ["arm64/user", 0, [0]],
  ]);
});
