// `vforkcheck findings REPORT`: the page from a small fixture report and the
// shipped catalogue (docs/findings/), and bad input refused in one line, exit 2.
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const directory = mkdtempSync(join(tmpdir(), "vfc-findings-"));
test.after.always(() => rmSync(directory, { recursive: true, force: true }));

function findings(args: string[]) {
  return spawnSync(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", "findings", ...args], { encoding: "utf8", timeout: 60_000 });
}

test("the fixture report gives the verdict table and a section per finding", (t) => {
  const out = join(directory, "findings.md");
  const run = findings(["test/fixtures/findings-report.json", "--out", out]);
  t.is(run.status, 0, run.stderr);
  t.regex(run.stderr, /known finding 'reference-made-up-finding' has no catalogue entry/);
  const page = readFileSync(out, "utf8");
  // The table: one row per implementation and target; fail beats known; a target whose every property skipped is a skip with its reason.
  t.regex(page, /^\| go \| go1\.19\.8 \| amd64 \| host \| amd64\/host\/go \| \*\*known\*\* \| go-map-pipe-leak \(errno-propagates\); signal-storm skipped: the driver does not offer the storm \|$/m);
  t.regex(page, /^\| reference \| 0\.1\.0 \| arm64 \| user \| arm64\/user \| \*\*fail\*\* \| parent-resumes \|$/m);
  t.regex(page, /^\| glibc \| 2\.36 \| loong64 \| user \| loong64\/user\/glibc \| \*\*skip\*\* \| bookworm has no loong64 cross compiler \|$/m);
  t.regex(page, /Verdict per target: 0 pass, 2 known, 0 fixed, 1 skip, 1 fail, 0 broken\./);
  // The run's finding, by its catalogue id: the shrunk case (pipes escaped in no table), the root cause per version, the reproducer, upstream.
  const section = page.slice(page.indexOf("### go-map-pipe-leak"), page.indexOf("### reference-made-up-finding"));
  t.regex(section, /Shrunk counterexample \(the case the known finding was filed with, run again on each target\): `\{"path":"exec-target","argv":\["reproducer"\],"cloneFlags":"CLONE_NEWUSER\|CLONE_NEWNS\|CLONE_FS","unshareFlags":"0"\}`/);
  t.regex(section, /^\| amd64\/host\/go \| go1\.19\.8 \| errno-propagates \| known \| 3 \| `\{"path":"exec-target","argv":\["x"\],"cloneFlags":"CLONE_NEWUSER\\\|CLONE_NEWNS\\\|CLONE_FS"\}` \| still fails/m);
  t.regex(section, /- go1\.19\.8: read in go1\.19\.8 \(Debian golang-1\.19-src 1\.19\.8-2\): `src\/syscall\/exec_linux\.go`, function `forkAndExecInChild`: lines 93-94/);
  t.regex(section, /- go1\.21\.0: not read: the catalogue has no root cause for this release line/);
  t.regex(section, /Reproducer: \[findings\/go-map-pipe-leak\/main\.go\]\(findings\/go-map-pipe-leak\/main\.go\), without vforkcheck: `cd docs\/findings\/go-map-pipe-leak && go run \.`/);
  t.regex(section, /^\| Debian golang-1\.19-go 1\.19\.8-2 \(\/usr\/bin\/go\) \| go1\.19\.8 \| amd64\/host \| 1 \| present \|/m);
  t.regex(section, /Known upstream: \*\*no report found\*\*/);
  t.regex(page, /### reference-made-up-finding \(not catalogued\)/);
  // The failure no finding explains, with its counterexample and replay.
  t.regex(page, /### arm64\/user parent-resumes \(reference 0\.1\.0\)\n\n- Shrunk counterexample: `\{"path":"exec-target","descriptors":\[7\],"cloneFlags":"0"\}`\n- What failed: parent resumed before the child exec'd\n- Replay: `npx vforkcheck gate --arch arm64/);
  // A catalogued finding the run did not meet is still listed, with its root cause for every release read.
  const notShown = page.slice(page.indexOf("## Catalogued findings this run did not show"));
  t.regex(notShown, /### go-nextfd-overwrite: /);
  t.regex(notShown, /- go1\.24\.4 \(Debian golang-1\.24-src 1\.24\.4-1\): `src\/syscall\/exec_linux\.go`, function `forkAndExecInChild1`/);
  t.false(notShown.includes("### go-map-pipe-leak"));
});

for (const [name, args, message] of [
  ["a missing report", ["/nonexistent/report.json"], /^vforkcheck: findings: cannot read report \/nonexistent\/report\.json: ENOENT/],
  ["JSON that is no gate report", ["package.json"], /^vforkcheck: findings: package\.json: not a gate report \(it has no seed, results and targets/],
  ["a report without the implementations' versions", ["docs/measurements/gate-seed-1.json"], /^vforkcheck: findings: docs\/measurements\/gate-seed-1\.json: the gate report has no 'implementations'/],
  ["an unwritable --out", ["test/fixtures/findings-report.json", "--out", "/proc/nonexistent/findings.md"], /^vforkcheck: findings: --out: cannot write \/proc\/nonexistent\/findings\.md/],
  ["no report", [], /^vforkcheck: findings: which report\?/],
  ["an unknown option", ["test/fixtures/findings-report.json", "--outt", "x"], /^vforkcheck: findings: unknown option '--outt'/],
] as const) {
  test(`findings refuses ${name}: one line, exit 2`, (t) => {
    const run = findings([...args]);
    t.is(run.status, 2);
    t.is(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
    t.regex(run.stderr, message);
  });
}
