// Other implementations under the same properties: the --impl-cmd worked
// example (a Python driver over posix_spawn) passes on the host tier with
// its skips given reasons; glibc and musl from their pinned releases.
import test, { type ExecutionContext } from "ava";
import { ensureTools } from "../../harness/toolchain/ensure-tools.ts";
import { gateCli } from "../helpers/gate-cli.ts";

/** A gate of 20 runs, seed 1; asynchronous, so that this file's gates run side by side. */
function gate(t: ExecutionContext, args: string[]) {
  return gateCli(t, [...args, "--runs", "20", "--seed", "1"]);
}

test("the --impl-cmd worked example passes on amd64/host, skipping what its hello does not offer", async (t) => {
  await ensureTools([{ command: "python3", debianPackage: "python3" }]);
  const run = await gate(t, ["--impl-cmd", "python3 docs/examples/posix-spawn-driver.py", "--arch", "amd64", "--tier", "host"]);
  t.is(run.status, 0, run.output.slice(-1500));
  const status = Object.fromEntries(run.results.map((r) => [r.property, r.status]));
  t.deepEqual(status, { "concurrent-spawns": "skip", "descriptor-table": "pass", environment: "pass", "errno-propagates": "pass", "interrupted-wait": "skip", "namespace-fallback": "skip", "parent-resumes": "pass", pidfd: "skip", "signal-state": "skip", "signal-storm": "skip" });
  for (const skipped of run.results.filter((r) => r.status === "skip")) t.regex(skipped.reason, /in its hello/);
});

// Under qemu-user glibc's errno through shared memory cannot arrive (the
// probe measures vfork_shares_memory=0): errno-propagates is a skip saying
// so and the other properties draw no case that needs it; musl's pipe
// arrives, so its child-step errnos are judged there.
test("under qemu-user (arm64) glibc's child-step errnos are a skip with the measured reason, musl's are judged", async (t) => {
  const run = await gate(t, ["--impl", "glibc,musl", "--arch", "arm64", "--tier", "user", "--property", "errno-propagates,environment"]);
  t.is(run.status, 0, run.output.slice(-1500));
  const status = Object.fromEntries(run.results.map((r) => [`${r.target} ${r.property}`, r.status]));
  t.deepEqual(status, {
    "arm64/user/glibc environment": "pass",
    "arm64/user/glibc errno-propagates": "skip",
    "arm64/user/musl environment": "pass",
    "arm64/user/musl errno-propagates": "pass",
  });
  const skipped = run.results.find((r) => r.target === "arm64/user/glibc" && r.property === "errno-propagates")!;
  t.regex(skipped.reason, /errno_channel=shared_memory.*vfork_shares_memory=0/);
  const environment = run.results.find((r) => r.target === "arm64/user/glibc" && r.property === "environment")!;
  t.regex(environment.reason, /\d+ drawn case\(s\) not run: .*vfork_shares_memory=0/);
});

// The same glibc on the host, where vfork shares memory: its child-step
// errnos are drawn and judged (no skip, no case left out), so a glibc that
// lost one would fail here.
test("on amd64/host glibc's child-step errnos are judged: errno-propagates runs every case", async (t) => {
  const run = await gate(t, ["--impl", "glibc", "--arch", "amd64", "--tier", "host", "--no-in-process", "--property", "errno-propagates"]);
  t.is(run.status, 0, run.output.slice(-1500));
  t.is(run.results[0]!.status, "pass");
  t.notRegex(run.results[0]!.reason, /not run|errno_channel/);
});

// Spawns from several threads at once: Go's goroutines locked to threads
// (syscall.ForkExec) and glibc's pthreads (posix_spawn) give every child
// exactly its own descriptors and every caller its own outcome. Run with
// whatever descriptors this test's shell leaked into it: the harness gives
// its drivers stdio alone (test/process/inherited-descriptors.test.ts).
// Go is "known", nothing worse: its concurrent cases draw the id-map fallback
// too, where each failed clone leaks its map pipe (a known finding, whose
// reproducer runs on every gate).
function concurrentSpawnsGate(t: ExecutionContext, args: string[]) {
  return gate(t, ["--property", "concurrent-spawns", ...args]);
}
for (const [impl, arch, tier] of [["go", "amd64", "host"], ["go", "arm64", "user"], ["glibc", "amd64", "host"], ["musl", "amd64", "host"], ["musl", "arm64", "user"]] as const)
  test(`concurrent-spawns passes for ${impl} on ${arch}/${tier}`, async (t) => {
    const run = await concurrentSpawnsGate(t, ["--impl", impl, "--arch", arch, "--tier", tier, "--no-in-process"]);
    t.is(run.status, 0, run.output.slice(-1500));
    t.deepEqual(run.results.map((r) => [r.target, r.status]), [[`${arch}/${tier}/${impl}`, impl === "go" ? "known" : "pass"]]);
  });

test("glibc under qemu-user (arm64): concurrent-spawns passes without the spawns whose errno cannot arrive, and says so", async (t) => {
  const run = await concurrentSpawnsGate(t, ["--impl", "glibc", "--arch", "arm64", "--tier", "user"]);
  t.is(run.status, 0, run.output.slice(-1500));
  t.is(run.results[0]!.status, "pass");
  t.regex(run.results[0]!.reason, /drawn case\(s\) not run: glibc returns a failed child step's errno through memory/);
});
