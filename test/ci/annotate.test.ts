/**
 * ci/annotate.ts, action.yml's annotate step, run as the step runs it (a
 * process, stdout read as the runner reads workflow commands): a report's
 * failure becomes one `::error` line, a missing report is one line on stderr
 * and exit 0 (the gate's step failed already), a file that is no report is
 * one line and exit 2.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../harness/process/project-root.ts";

const scratch = mkdtempSync(join(tmpdir(), "vforkcheck-annotate-"));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

function annotate(...args: string[]) {
  return spawnSync(process.execPath, ["--import=tsx", "ci/annotate.ts", ...args], { cwd: projectRoot, encoding: "utf8", timeout: 60_000 });
}

test("a report with a failure: one ::error line naming target and property, its newline escaped", (t) => {
  const run = annotate(join(projectRoot, "test/fixtures/report-formats/every-status.json"));
  t.is(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  // The failure, then the target a fault kept from being tested.
  t.is(lines.length, 2);
  t.regex(lines[1]!, /^::error title=vforkcheck arm64\/user\/go could not be tested \(broken\)::no space left on device/);
  t.regex(lines[0]!, /^::error title=vforkcheck arm64\/user\/go descriptors-inherited::descriptor 3 open in the child, expected closed \| cloexec%0Acounterexample: /);
  t.true(lines[0]!.includes("line\\nbreak"), "the counterexample's JSON escape is kept as it is");
  t.regex(lines[0]!, /%0A\(shrunk from 3 cases\)%0Areplay: /);
});

test("no report: one line on stderr, nothing to annotate, exit 0", (t) => {
  const run = annotate(join(scratch, "absent.json"));
  t.is(run.status, 0);
  t.is(run.stdout, "");
  t.regex(run.stderr, /^ci\/annotate\.ts: no report at .*absent\.json: the gate stopped before its results/);
});

test("a file that is no gate report, or no argument: one line, exit 2", (t) => {
  const notReport = join(scratch, "not-a-report.json");
  writeFileSync(notReport, '{"hello": 1}');
  const run = annotate(notReport);
  t.is(run.status, 2);
  t.is(run.stderr.trimEnd().split("\n").length, 1);
  t.regex(run.stderr, /^ci\/annotate\.ts: .*not-a-report\.json: not a gate report/);
  const usage = annotate();
  t.is(usage.status, 2);
  t.regex(usage.stderr, /^usage: /);
});
