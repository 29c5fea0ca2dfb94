// Known findings end to end on amd64/host, errno-propagates:
// - Debian's Go (the default release, go@1.19) with its shipped file: the id-map pipe leak is `known`, exit 0;
//   with --known /dev/null it fails as before (exit 1, the leak).
// - A copy of that Go whose forkAndExecInChild closes the map pipe before
//   returning clone's error: the finding is `fixed` (its reproducer passes),
//   exit 0, and exit 1 with --strict-known.
// - The reference's zombie mutant with a finding that explains its zombies only
//   with CLONE_NEWUSER: cases without it still fail the property (a finding
//   hides nothing it does not explain); a finding that explains them all: known.
// - A malformed file: one line naming the file and the entry, exit 2, at once.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { defaultGoRoot } from "../../harness/implementations/go.ts";
import type { KnownFindingRow } from "../../harness/run/gate.ts";
import { parseFlags } from "../../src/flags.ts";

const leak = "2 descriptor(s) leaked in the parent";
const clonesErrorReturn = "\tif err1 != 0 {\n\t\treturn 0, err1\n\t}\n\n\t// parent; return PID";
const closesPipeFirst =
  "\tif err1 != 0 {\n\t\tif (sys.UidMappings != nil || sys.GidMappings != nil) && p[0] != p[1] {\n\t\t\tClose(p[0])\n\t\t\tClose(p[1])\n\t\t}\n\t\treturn 0, err1\n\t}\n\n\t// parent; return PID";

interface Report {
  results: { status: string; reason: string; counterexample: string | null }[];
  knownFindings?: KnownFindingRow[];
  implementations?: { label: string; name: string; version: string }[];
}

const directory = mkdtempSync(join(tmpdir(), "vfc-known-"));
test.after.always(() => rmSync(directory, { recursive: true, force: true }));
let reports = 0;

function gate(extra: string[]) {
  const report = join(directory, `gate-${++reports}.json`);
  const run = spawnSync(
    process.execPath,
    ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", ...extra, "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "errno-propagates", "--runs", "40", "--seed", "1", "--case-deadline", "5", "--report", report],
    { encoding: "utf8", timeout: 280_000 },
  );
  const output = `${run.stdout}\n${run.stderr}`;
  const parsed = run.status === 2 ? undefined : (JSON.parse(readFileSync(report, "utf8")) as Report);
  return { status: run.status, result: parsed?.results[0], rows: parsed?.knownFindings ?? [], implementations: parsed?.implementations, output, stderr: run.stderr };
}

test.serial("Debian's Go: the leak is known with the shipped file, a failure without it", async (t) => {
  const known = gate(["--impl", "go"]);
  t.is(known.status, 0, known.output.slice(-2000));
  t.is(known.result?.status, "known");
  t.is(known.rows.length, 1);
  t.like(known.rows[0], { finding: "go-forkexec-id-map-pipe-leak", target: "amd64/host/go", status: "known" });
  t.regex(known.output, /go-forkexec-id-map-pipe-leak\s+amd64\/host\/go\s+errno-propagates\s+known/);
  // What `vforkcheck findings` reads: the implementation's version, the finding's filed case.
  t.like(known.implementations, [{ label: "go", name: "go" }]);
  t.regex(known.implementations?.[0]?.version ?? "", /^go1\.19\./);
  t.is(JSON.parse(known.rows[0]?.reproducerCase ?? "{}").cloneFlags, "CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS");

  const without = gate(["--impl", "go", "--known", "/dev/null"]);
  t.is(without.status, 1, without.output.slice(-2000));
  t.is(without.result?.status, "fail");
  t.true(without.result?.reason.startsWith(leak), without.result?.reason);
  t.regex(without.output, /replay with: npx vforkcheck gate --impl go --case-deadline 5 --known \/dev\/null /);
});

test.serial("a Go whose ForkExec closes the map pipe: the finding is fixed; --strict-known fails the run", async (t) => {
  const installed = await defaultGoRoot();
  const fork = join(directory, "go");
  cpSync(installed, fork, { recursive: true, dereference: true });
  const execLinux = join(fork, "src", "syscall", "exec_linux.go");
  const source = readFileSync(execLinux, "utf8");
  t.true(source.includes(clonesErrorReturn), "the installed Go returns clone's error before closing the map pipe");
  writeFileSync(execLinux, source.replace(clonesErrorReturn, closesPipeFirst));

  const fixed = gate(["--impl", "go", "--goroot", fork]);
  t.is(fixed.status, 0, fixed.output.slice(-2000));
  t.is(fixed.result?.status, "fixed");
  t.like(fixed.rows[0], { finding: "go-forkexec-id-map-pipe-leak", status: "fixed", cases: 0, reproducer: "passes now" });
  t.regex(fixed.output, /FIXED amd64\/host\/go@\S+ errno-propagates: known finding go-forkexec-id-map-pipe-leak no longer reproduces/);

  const strict = gate(["--impl", "go", "--goroot", fork, "--strict-known"]);
  t.is(strict.status, 1, strict.output.slice(-2000));
  t.is(strict.result?.status, "fixed");
});

// What the mutant leaves, also seen by the cases after the one that left it: zombies, and (a child waiting in a new user namespace) a live child.
const zombieProblems = ["^\\d+ zombie child\\(ren\\) left after the spawn$", "^a child is still running after the spawn returned$"];

function zombieFindings(file: string, shape: Record<string, unknown>): string {
  const reproducer = { path: "missing", argv: ["reproducer"], env: [], cwd: "none", cloneFlags: "0", unshareFlags: "0", setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false };
  const finding = { id: "zombie", implementation: "reference", version: "*", targets: ["amd64/host"], properties: ["errno-propagates"], match: { problems: zombieProblems, ...shape }, rootCause: "MUTANT_ZOMBIE_ON_FAILURE does not reap the child after a failed exec", source: "native/spawn.c", reproducer };
  const path = join(directory, file);
  writeFileSync(path, JSON.stringify([finding]));
  return path;
}

test.serial("a finding explains only the cases it matches: the zombie mutant's other cases still fail", (t) => {
  const mutant = ["--define", "MUTANT_ZOMBIE_ON_FAILURE"];
  const narrow = gate([...mutant, "--known", zombieFindings("narrow.json", { cloneOrUnshareFlags: ["CLONE_NEWUSER"] })]);
  t.is(narrow.status, 1, narrow.output.slice(-2000));
  t.is(narrow.result?.status, "fail");
  t.regex(narrow.result?.reason ?? "", /zombie child\(ren\) left after the spawn|a child is still running/);
  const shrunk = JSON.parse(narrow.result?.counterexample ?? "{}") as { cloneFlags: string; unshareFlags: string };
  t.is((parseFlags(shrunk.cloneFlags)! | parseFlags(shrunk.unshareFlags)!) & 0x10000000, 0, "the failing case is one the finding does not describe");

  const broad = gate([...mutant, "--known", zombieFindings("broad.json", {})]);
  t.is(broad.status, 0, broad.output.slice(-2000));
  t.is(broad.result?.status, "known");
  t.true((broad.rows[0]?.cases ?? 0) > 0);
});

test("a malformed file stops the gate at once: one line naming the file and the entry, exit 2", (t) => {
  const file = join(directory, "malformed.json");
  writeFileSync(file, JSON.stringify([{ id: "x", implementation: "go" }]));
  const run = gate(["--impl", "go", "--known", file]);
  t.is(run.status, 2);
  t.is(run.stderr, `vforkcheck: ${file}: entry 1 (id "x"): lacks 'version'\n`);
});
