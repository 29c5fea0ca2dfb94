// The gate must catch bug class 1 (return address kept on the shared stack
// across the vfork syscall) on the host tier, shrink it, and replay it.
import test from "ava";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vforkcheckCli } from "../helpers/gate-cli.ts";

const vforkcheck = (args: string[]) => vforkcheckCli(args, 240_000);

test("the gate fails the ra-on-stack amd64 wrapper on the host tier with a shrunk counterexample and a working replay", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "vforkcheck-test-"));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const report = join(directory, "gate.json");
  // The mutant hangs the spawn, so each failing case lasts its whole deadline: 3 s, not the host's 15 s (a passing case takes milliseconds here).
  const run = await vforkcheck(["gate", "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "parent-resumes", "--runs", "30", "--seed", "1", "--define", "MUTANT_RA_ON_STACK", "--case-deadline", "3", "--report", report]);
  t.is(run.status, 1, run.stderr);
  const { results } = JSON.parse(readFileSync(report, "utf8")) as { results: { status: string; counterexample: string; replay: string }[] };
  t.is(results.length, 1);
  const [result] = results;
  t.is(result!.status, "fail");
  const counterexample = JSON.parse(result!.counterexample) as { path: string; env: string[]; argv: string[]; memoryBytes: number; descriptors: number[] };
  // Shrunk: the bug needs nothing but a spawn, so nothing else survives.
  t.deepEqual(counterexample.env, []);
  t.deepEqual(counterexample.descriptors, []);
  t.is(counterexample.argv.length, 1);
  t.regex(result!.replay, /--define MUTANT_RA_ON_STACK --case-deadline 3 .*--replay-path \S+/);
  const replay = await vforkcheck([...result!.replay.replace(/^npx vforkcheck /, "").split(" "), "--report", join(directory, "replay.json")]);
  t.is(replay.status, 1, "the replay command reproduces the failure");
});

test("the same gate passes the reference wrapper", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "vforkcheck-test-"));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const run = await vforkcheck(["gate", "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "parent-resumes", "--runs", "30", "--seed", "1", "--report", join(directory, "gate.json")]);
  t.is(run.status, 0, run.stdout + run.stderr);
});
