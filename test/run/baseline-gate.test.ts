// The regression gate of a Go fork of master, for real: a tree whose `go
// version` says `devel go1.27-...` (the registry's newest release rebuilt,
// test/implementations/go-tree.ts), gated on amd64/host for errno-propagates,
// where upstream's id-map pipe leak fails. With --baseline go@1.26 the leak is
// upstream's ('baseline', exit 0); a mutant of the fork's own (the child's
// chdir reports EACCES whatever the kernel said) is red, and its
// counterexample is the mutant's; without a baseline the devel tree is green
// through the known findings, matched by their reproducer since no version
// glob names `devel`.
import test from "ava";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { develGoTree, goGate } from "../implementations/go-tree.ts";
import type { ReportBaselineOutcome, ReportFindingOutcome } from "../../src/gate-report.ts";

const scratch = mkdtempSync(join(tmpdir(), "vforkcheck-baseline-gate-"));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

interface Report {
  baseline?: { label: string; version: string };
  implementations: { label: string; version: string }[];
  results: { status: string; problems?: string[]; reason: string; counterexample: string | null; baseline?: ReportBaselineOutcome; known?: ReportFindingOutcome[] }[];
}

/** The gate as goGate runs it (one target, one property, 30 runs, seed 1, 5 s deadline), with its whole report. */
function gate(name: string, goroot: string, extra: string[]) {
  const directory = join(scratch, name);
  const started = Date.now();
  const run = goGate(mkdtempSync(`${directory}-`), "errno-propagates", ["--goroot", goroot, ...extra]);
  const seconds = (Date.now() - started) / 1000;
  const reportFile = run.output.match(/\(report (\S+)\)/)?.[1];
  const report = JSON.parse(readFileSync(reportFile!, "utf8")) as Report;
  return { ...run, report, seconds };
}

// The child's chdir failure reported as EACCES whatever the kernel said: a wrong errno go1.26 does not have.
const chdirFailure = "_, _, err1 = RawSyscall(SYS_CHDIR, uintptr(unsafe.Pointer(dir)), 0, 0)\n\t\tif err1 != 0 {\n\t\t\tgoto childerror";
const wrongErrno = "_, _, err1 = RawSyscall(SYS_CHDIR, uintptr(unsafe.Pointer(dir)), 0, 0)\n\t\tif err1 != 0 {\n\t\t\terr1 = EACCES\n\t\t\tgoto childerror";

test.serial("a devel Go with only upstream's bugs, --baseline go@1.26: 'baseline', exit 0, the report names the baseline", async (t) => {
  const fork = await develGoTree(join(scratch, "upstream"));
  const run = gate("upstream", fork, ["--known", "/dev/null", "--baseline", "go@1.26"]);
  t.log(`gate with --baseline: ${run.seconds.toFixed(0)} s`);
  t.is(run.status, 0, run.output.slice(-3000));
  t.is(run.report.implementations[0]!.version, "devel");
  t.is(run.result.status, "baseline", run.result.reason);
  t.deepEqual(run.report.baseline && { label: run.report.baseline.label, version: run.report.baseline.version.slice(0, 7) }, { label: "go@1.26", version: "go1.26." });
  const shared = run.report.results[0]!.baseline!;
  t.is(shared.implementation, "go@1.26");
  t.true(shared.cases > 0);
  t.true(shared.problems.some((problem) => /leaked in the parent/.test(problem)), shared.problems.join("; "));
  t.regex(run.output, /BASELINE amd64\/host\/go@\S+ errno-propagates: baseline go@1\.26/);
});

test.serial("the same devel tree with a mutant of its own in exec_linux.go, --baseline go@1.26: 'fail', exit 1, the mutant's counterexample", async (t) => {
  const fork = await develGoTree(join(scratch, "mutant"), [[chdirFailure, wrongErrno]]);
  const run = gate("mutant", fork, ["--known", "/dev/null", "--baseline", "go@1.26"]);
  t.log(`gate of the mutant with --baseline: ${run.seconds.toFixed(0)} s`);
  t.is(run.status, 1, run.output.slice(-3000));
  t.is(run.result.status, "fail");
  const result = run.report.results[0]!;
  t.log(`${result.reason}\ncounterexample: ${result.counterexample}\nshared with the baseline: ${result.baseline?.cases ?? 0} case(s)`);
  // The mutant's: a child whose chdir fails reports EACCES where the kernel said otherwise; not the upstream pipe leak.
  t.true(result.problems!.some((problem) => problem.includes("EACCES")), result.reason);
  t.false(result.problems!.some((problem) => /leaked/.test(problem)), result.reason);
  t.notRegex(result.counterexample!, /"cwd":"none"/);
  t.regex(run.result.replay!, /--baseline go@1\.26/);
});

test.serial("the devel tree without --baseline: green through known findings matched by their reproducer", async (t) => {
  const fork = await develGoTree(join(scratch, "known"));
  const run = gate("known", fork, []);
  t.log(`gate with the known findings: ${run.seconds.toFixed(0)} s`);
  t.is(run.status, 0, run.output.slice(-3000));
  t.is(run.result.status, "known", run.result.reason);
  const known = run.report.results[0]!.known!;
  t.true(known.length > 0);
  t.true(known.every((outcome) => outcome.matched === "reproducer" && outcome.status === "known"), JSON.stringify(known));
  t.regex(run.output, /known findings: 0 of \d+ in \S+ are for go devel; the file names no finding for this version, so its \d+ go finding\(s\) will be tried by their reproducer/);
  t.regex(run.output, /matched by its reproducer/);
});
