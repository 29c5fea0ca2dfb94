// Other implementations under the same properties: the --impl-cmd worked
// example (a Python driver over posix_spawn) passes on the host tier with
// its skips given reasons, and glibc's posix_spawn under qemu-user loses
// the exec errno (it passes it back through memory that qemu's fork does not
// share): errno-propagates fails there, saying so.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ensureTools } from "../../harness/toolchain/ensure-tools.ts";

interface Result {
  target: string;
  property: string;
  status: string;
  reason: string;
  counterexample: string | null;
}

function gate(args: string[]): { status: number | null; results: Result[]; output: string } {
  const directory = mkdtempSync(join(tmpdir(), "vfc-impl-"));
  try {
    const report = join(directory, "gate.json");
    const run = spawnSync(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", ...args, "--runs", "20", "--seed", "1", "--report", report], { encoding: "utf8", timeout: 280_000 });
    const results = (JSON.parse(readFileSync(report, "utf8")) as { results: Result[] }).results;
    return { status: run.status, results, output: `${run.stdout}\n${run.stderr}` };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

test("the --impl-cmd worked example passes on amd64/host, skipping what its hello does not offer", async (t) => {
  await ensureTools([{ command: "python3", debianPackage: "python3" }]);
  const run = gate(["--impl-cmd", "python3 docs/examples/posix-spawn-driver.py", "--arch", "amd64", "--tier", "host"]);
  t.is(run.status, 0, run.output.slice(-1500));
  const status = Object.fromEntries(run.results.map((r) => [r.property, r.status]));
  t.deepEqual(status, { "descriptor-table": "pass", environment: "pass", "errno-propagates": "pass", "namespace-fallback": "skip", "parent-resumes": "pass", pidfd: "skip", "signal-state": "skip", "signal-storm": "skip" });
  for (const skipped of run.results.filter((r) => r.status === "skip")) t.regex(skipped.reason, /in its hello/);
});

test("glibc's posix_spawn loses the exec errno under qemu-user (arm64): errno-propagates fails with the reason", (t) => {
  const run = gate(["--impl", "glibc", "--arch", "arm64", "--tier", "user", "--property", "errno-propagates"]);
  t.is(run.status, 1, run.output.slice(-1500));
  const [result] = run.results;
  t.is(result!.status, "fail");
  t.regex(result!.reason, /spawn succeeded .*expected E\w+ from execve \(this target's vfork does not share memory/);
});
