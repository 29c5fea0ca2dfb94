// Every driver reports what a failed spawn left in its outputs
// (docs/protocol.md, "What a failed spawn hands back"), and the runtimes
// gated leave what the rules allow: on amd64/host, one exec that fails
// (a missing path) per driver and entry point, with a pidfd where the
// driver has one.
import test from "ava";
import { findArchitecture } from "../../src/architectures.ts";
import { checkFailedPid } from "../../src/checks.ts";
import { checkFailedPidfd } from "../../src/pidfd-checks.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { startTarget } from "../../harness/targets/start-target.ts";
import type { TargetSpec } from "../../harness/targets/target.ts";

const missing: SpawnCase = {
  path: "missing", argv: ["vfc"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false,
  descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false,
};

function spec(name: string, version?: string): TargetSpec {
  const implementation = name === "reference" ? undefined : { name, ...(version ? { version } : {}) };
  return { architecture: findArchitecture("amd64")!, tier: "host", inProcess: false, impl: version ? `${name}@${version}` : name, ...(implementation ? { implementation } : {}), defines: [], caseDeadlineMs: 10_000 };
}

// What each driver's output holds after the failure: the pid's (absent: the
// reference, whose spawn returns pid or -errno in one value) and the pidfd's
// (absent: no pidfd in the hello).
const drivers: { spec: TargetSpec; entry?: string; pid?: number | "none"; pidfd?: number }[] = [
  { spec: spec("reference"), pidfd: -1 }, // reference_spawn sets *pidfd to -1 first
  { spec: spec("glibc", "2.41"), pid: -2, pidfd: -2 }, // __spawnix writes its output only without an error
  { spec: spec("musl", "1.2.3"), pid: -2 }, // so does musl's posix_spawn
  { spec: spec("go", "1.26"), entry: "fork_exec", pid: 0, pidfd: -1 }, // forkExec returns 0; forkAndExecFailureCleanup sets -1
  { spec: spec("go", "1.26"), entry: "start_process", pid: "none", pidfd: -1 }, // no *Process
  { spec: spec("node"), pid: "none" }, // ChildProcess without a pid
];

for (const driver of drivers) {
  test(`${driver.spec.impl}${driver.entry ? ` ${driver.entry}` : ""} reports what a failed spawn left in its outputs`, async (t) => {
    const target = await startTarget(driver.spec);
    t.teardown(() => target.close());
    const entry = driver.entry ? { entry: driver.entry } : {};
    const plain = await target.runCase({ ...missing, ...entry });
    t.is(plain.result?.outcome, "error", plain.line);
    t.is(plain.result?.failedPid, driver.pid, "failed_pid");
    t.deepEqual(checkFailedPid(plain), []);
    if (driver.pidfd === undefined) return t.false(target.hello.features.includes("pidfd"));
    const withPidfd = await target.runCase({ ...missing, ...entry, pidfd: true });
    t.is(withPidfd.result?.outcome, "error", withPidfd.line);
    t.deepEqual(withPidfd.result?.failedPidfd, { value: driver.pidfd }, "failed_pidfd");
    t.deepEqual(checkFailedPidfd(withPidfd.result!), []);
  });
}
