// `vforkcheck known suggest` end to end on amd64/host: a real failure (the
// reference built with a mutant whose failing clone reports errno 0) becomes
// an entry that `gate --known` takes as it is; the same run is then green,
// the failure `known` and its reproducer still failing (not `fixed`). Bad
// input is one line and exit 2.
import test from "ava";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

function vforkcheck(args: string[], timeout = 280_000) {
  return spawnSync(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", ...args], { encoding: "utf8", timeout });
}

const gateArgs = ["gate", "--define", "MUTANT_CLONE_ERRNO_DROPPED", "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "errno-propagates", "--runs", "40", "--seed", "1", "--case-deadline", "5"];

interface Report {
  results: { status: string; problems?: string[]; reproducer?: Record<string, unknown>; counterexample: string | null }[];
  knownFindings?: { finding: string; status: string; cases: number; reproducer: string }[];
}
const readReport = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Report;

test("a failure's suggested entry makes the same run green: the failure known, its reproducer still failing", (t) => {
  const directory = scratchDirectory(t, "vfc-known-suggest-");
  const failing = join(directory, "failing.json");
  const red = vforkcheck([...gateArgs, "--report", failing]);
  t.is(red.status, 1, red.stderr.slice(-2000));
  const failure = readReport(failing).results[0]!;
  t.is(failure.status, "fail");
  t.deepEqual(failure.problems, ["spawn failed with no errno (0), expected EINVAL from clone"]);
  // The case as the findings file writes it: flags by name, beside the one-line counterexample.
  t.is(failure.reproducer?.cloneFlags, "CLONE_NEWNS|CLONE_FS");

  const suggested = vforkcheck(["known", "suggest", failing, "--property", "errno-propagates", "--target=amd64/host"], 60_000);
  t.is(suggested.status, 0, suggested.stderr);
  t.regex(suggested.stderr, /1 entry from .*failing\.json; replace each one's rootCause and source \(they say TODO\)/);
  const entries = JSON.parse(suggested.stdout) as Record<string, unknown>[];
  t.is(entries.length, 1);
  t.like(entries[0], { id: "reference-errno-propagates-amd64-host", implementation: "reference", targets: ["amd64/host"], properties: ["errno-propagates"], match: { problems: ["^spawn failed with no errno \\(\\d+\\), expected EINVAL from clone$"] } });
  t.deepEqual(entries[0]!.reproducer, failure.reproducer);
  t.regex(String(entries[0]!.rootCause), /^TODO/);
  const knownFile = join(directory, "known-findings.json");
  writeFileSync(knownFile, suggested.stdout);

  const greenReport = join(directory, "known.json");
  const green = vforkcheck([...gateArgs, "--known", knownFile, "--report", greenReport]);
  t.is(green.status, 0, green.stdout.slice(-2000) + green.stderr.slice(-2000));
  const report = readReport(greenReport);
  t.is(report.results[0]!.status, "known");
  t.like(report.knownFindings, [{ finding: "reference-errno-propagates-amd64-host", status: "known", reproducer: "still fails: spawn failed with no errno (0), expected EINVAL from clone" }]);
  t.true(report.knownFindings![0]!.cases > 0, "the run's own cases were explained by the entry");

  // The same file on the reference without the mutant: the bug is gone, and the entry says so.
  const fixed = vforkcheck([...gateArgs.filter((arg) => arg !== "--define" && arg !== "MUTANT_CLONE_ERRNO_DROPPED"), "--known", knownFile, "--strict-known", "--report", join(directory, "fixed.json")]);
  t.is(fixed.status, 1, fixed.stdout.slice(-2000));
  t.regex(fixed.stdout, /FIXED amd64\/host errno-propagates: known finding reference-errno-propagates-amd64-host no longer reproduces/);
});

test("known suggest refuses bad input in one line, exit 2", (t) => {
  const directory = scratchDirectory(t, "vfc-known-suggest-");
  const report = join(directory, "report.json");
  writeFileSync(report, JSON.stringify({ seed: 1, implementations: [{ label: "reference", name: "reference", version: "0.1.0" }], results: [{ arch: "amd64", tier: "host", impl: "reference", target: "amd64/host", property: "errno-propagates", status: "pass", reason: "", counterexample: null, replay: null }], targets: [] }));
  for (const [args, message] of [
    [["/nonexistent/report.json"], /^vforkcheck: known suggest: cannot read report \/nonexistent\/report\.json: ENOENT/],
    [["package.json"], /^vforkcheck: known suggest: package\.json: not a gate report/],
    [[report, "--target", "arm64/user"], /^vforkcheck: known suggest: --target: .*report\.json has no results on 'arm64\/user' \(its targets: amd64\/host\)/],
    [[report, "--property", "pidfd"], /^vforkcheck: known suggest: --property: .*has no results of 'pidfd'/],
    [[report, "--targett", "x"], /^vforkcheck: known suggest: unknown option '--targett'/],
    [[], /^vforkcheck: known suggest: which report\?/],
    [["sugest"], /^vforkcheck: known: unknown subcommand 'sugest'/],
  ] as const) {
    const run = vforkcheck(args[0] === "sugest" ? ["known", ...args] : ["known", "suggest", ...args], 60_000);
    t.is(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
    t.is(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
    t.regex(run.stderr, message);
  }
  const none = vforkcheck(["known", "suggest", report], 60_000);
  t.is(none.status, 0, none.stderr);
  t.is(none.stdout.trim(), "[]");
  t.regex(none.stderr, /has no failure to suggest an entry for/);
});
