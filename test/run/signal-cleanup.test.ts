// A run stopped by SIGTERM (sent twice, to the harness alone, as a CI runner
// that repeats itself does) leaves nothing behind (no fixture directory, no
// driver, strace or qemu process) and keeps the results it already had and
// the summary of the target it was running: on the host tier, and on the
// system tier with a VM up.
import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { descendantsOf } from "../../harness/process/process-tree.ts";
import { snapshotProcesses, stillRunning } from "../helpers/process-snapshot.ts";

const runs: [string, string][] = [
  ["amd64", "host"],
  ["arm64", "system"],
];

for (const [arch, tier] of runs) test(`SIGTERM during a gate run on ${arch}/${tier} cleans up and writes a partial report`, async (t) => {
  const temporary = mkdtempSync(join(tmpdir(), "vfc-signal-test-"));
  t.teardown(() => rmSync(temporary, { recursive: true, force: true }));
  const report = join(temporary, "gate.json");
  const gate = spawn(
    process.execPath,
    ["--import=tsx", "harness/cli/vforkcheck.ts", "gate", "--arch", arch, "--tier", tier, "--runs", "40", "--seed", "3", "--report", report],
    { env: { ...process.env, TMPDIR: temporary }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  const firstProgress = new Promise<void>((resolve) =>
    gate.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      // One property has a result and others are still to come.
      if (/: (pass|fail) \(/.test(stderr)) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => gate.on("exit", (code) => resolve(code)));
  const timer = setTimeout(() => gate.kill("SIGKILL"), 240_000);
  await Promise.race([firstProgress, exited]);
  const childrenWhileRunning = snapshotProcesses(descendantsOf(gate.pid!));
  t.true(childrenWhileRunning.length > 0, "the gate had started drivers");
  gate.kill("SIGTERM");
  gate.kill("SIGTERM");
  const code = await exited;
  clearTimeout(timer);
  t.is(code, 143, stderr.slice(-2000));
  t.is(stderr.match(/SIGTERM: cleaning up/g)?.length, 1, "one clean-up, however many signals");
  t.deepEqual(stillRunning(childrenWhileRunning), [], "no driver, strace, qemu or child outlived the gate");
  t.deepEqual(readdirSync(temporary).filter((name) => name.startsWith("vforkcheck-")), [], "no fixture or VM directory left");
  const partial = JSON.parse(readFileSync(report, "utf8")) as { partial: boolean; results: { status: string }[]; targets: { target: string }[] };
  t.true(partial.partial);
  t.true(partial.results.length >= 1, "the result obtained before the signal is kept");
  t.true(partial.targets.some((summary) => summary.target === `${arch}/${tier}`), "the running target's summary is kept");
});

test("a mutants run stopped by SIGTERM keeps the properties its running job finished, and whether they killed the mutant", async (t) => {
  const temporary = mkdtempSync(join(tmpdir(), "vfc-signal-test-"));
  t.teardown(() => rmSync(temporary, { recursive: true, force: true }));
  const report = join(temporary, "mutants.json");
  const run = spawn(process.execPath, ["--import=tsx", "harness/cli/vforkcheck.ts", "mutants", "--arch", "amd64", "--tier", "host", "--mutant", "ra-on-stack", "--runs", "30", "--seed", "1", "--report", report], {
    env: { ...process.env, TMPDIR: temporary },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => run.on("exit", (code) => resolve(code)));
  const timer = setTimeout(() => run.kill("SIGKILL"), 120_000);
  // The first property's outcome line: "  ra-on-stack: [amd64/host] concurrent-spawns 1/10: fail (2 runs, 2.0 s)".
  const firstOutcome = await new Promise<RegExpMatchArray | null>((resolve) => {
    run.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const outcome = stderr.match(/\] (\S+) 1\/\d+: (\w+) \(/);
      if (outcome) resolve(outcome);
    });
    void exited.then(() => resolve(null));
  });
  run.kill("SIGTERM");
  const code = await exited;
  clearTimeout(timer);
  t.is(code, 143, stderr.slice(-2000));
  t.truthy(firstOutcome, stderr.slice(-2000));
  const [, property, status] = firstOutcome!;
  const partial = JSON.parse(readFileSync(report, "utf8")) as { partial: boolean; inProgress: { mutant: string; status: string; killed_so_far: boolean; properties: { property: string; status: string }[] }[] };
  t.true(partial.partial);
  t.like(partial.inProgress[0], { mutant: "ra-on-stack", status: "in progress", killed_so_far: status === "fail" });
  t.like(partial.inProgress[0]?.properties[0], { property, status });
});
