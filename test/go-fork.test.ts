// Gating a runtime fork: a copy of the installed Go tree whose syscall
// package takes the vfork fast path even with CLONE_NEWUSER in Cloneflags
// (a plausible "optimisation" of a fork) is passed with --goroot, and the gate
// fails namespace-fallback on amd64/host with a shrunk counterexample. The
// same run with the installed tree passes. Built from the installed tree, no
// network.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ensureTools } from "../harness/setup.ts";

const fastPathCondition = "case sys.Cloneflags&CLONE_NEWUSER == 0 && sys.Unshareflags&CLONE_NEWUSER == 0:";

function gate(directory: string, extra: string[]) {
  const report = join(directory, `gate-${extra.length}.json`);
  const run = spawnSync(
    process.execPath,
    ["--import=tsx", "harness/cli.ts", "gate", "--impl", "go", ...extra, "--arch", "amd64", "--tier", "host", "--property", "namespace-fallback", "--runs", "30", "--seed", "1", "--case-deadline", "5", "--report", report],
    { encoding: "utf8", timeout: 280_000 },
  );
  const result = (JSON.parse(readFileSync(report, "utf8")) as { results: { status: string; reason: string; counterexample: string | null; replay: string | null }[] }).results[0]!;
  return { status: run.status, result, output: `${run.stdout}\n${run.stderr}` };
}

test("a Go tree patched to vfork with CLONE_NEWUSER fails namespace-fallback; the installed tree passes", async (t) => {
  await ensureTools([{ command: "go", debianPackage: "golang-go" }]);
  const installed = spawnSync("go", ["env", "GOROOT"], { encoding: "utf8" }).stdout.trim();
  const directory = mkdtempSync(join(tmpdir(), "vfc-go-fork-"));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));

  const fork = join(directory, "go");
  cpSync(installed, fork, { recursive: true, dereference: true });
  const execLinux = join(fork, "src", "syscall", "exec_linux.go");
  const source = readFileSync(execLinux, "utf8");
  t.true(source.includes(fastPathCondition), "the installed Go has the condition this test patches");
  writeFileSync(execLinux, source.replace(fastPathCondition, "case sys.Unshareflags&CLONE_NEWUSER == 0:"));

  const patched = gate(directory, ["--goroot", fork]);
  t.is(patched.status, 1, patched.output.slice(-2000));
  t.is(patched.result.status, "fail");
  t.truthy(patched.result.counterexample);
  t.true(((JSON.parse(patched.result.counterexample!) as { cloneFlags: number }).cloneFlags & 0x10000000) !== 0, "the shrunk case has CLONE_NEWUSER in its clone flags");
  t.regex(patched.result.replay ?? "", /--impl go --goroot /);

  const control = gate(directory, []);
  t.is(control.result.status, "pass", control.result.reason);
});
