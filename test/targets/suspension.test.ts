// parent-resumes judges "suspended until exec or exit" from the observer's
// order of events, not from the driver (src/checks.ts): strace's lines on
// the host, split when another process's line comes between, and init's
// PTRACE_EVENT_VFORK_DONE on the system tier. A clone with CLONE_VM but
// without CLONE_VFORK (mutant vm-without-vfork) must fail it on amd64/host;
// the arm64/system half is in test/targets/system.test.ts.
import test from "ava";
import { loadProperties } from "../../properties/index.ts";
import { findArchitecture } from "../../src/architectures.ts";
import { findMutant } from "../../src/mutants.ts";
import { ObserverLog } from "../../src/observer.ts";
import { runProperty } from "../../harness/run/run-property.ts";
import { startTarget } from "../../harness/targets/start-target.ts";

async function record(lines: string[], id: number) {
  const log = new ObserverLog();
  for (const line of lines) log.addLine(line);
  return log.take(id, 0);
}

test("a vfork parent woken while its child is inside execve: the child's execve entry came first", async (t) => {
  // strace 6.1 on this host, the legitimate order: the parent returns before the child's execve has.
  const observed = await record(
    [
      "lseek(-1, 5, SEEK_SET)                  = -1 EBADF (Bad file descriptor)",
      "vfork( <unfinished ...>",
      '[pid 14246] execve("/bin/true", ["true"], 0x7ffd0c6c6478 /* 35 vars */ <unfinished ...>',
      "[pid 14245] <... vfork resumed>)        = 14246",
      "[pid 14245] lseek(-1, 5, SEEK_END <unfinished ...>",
      "[pid 14246] <... execve resumed>)       = 0",
    ],
    5,
  );
  t.deepEqual(observed, { clones: [{ flags: 0x4111, result: 14246, releasedBy: "child-execve" }], complete: true });
});

test("a failed exec: the child's exit came before the parent's return", async (t) => {
  const observed = await record(
    [
      "[pid 100] lseek(-1, 6, SEEK_SET)        = -1 EBADF (Bad file descriptor)",
      "[pid 100] clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD <unfinished ...>",
      '[pid 101] execve("/nonexist", ["true"], 0x7ffd0c6c6478 /* 35 vars */) = -1 ENOENT (No such file or directory)',
      "[pid 101] exit_group(253)             = ?",
      "[pid 100] <... clone resumed>)        = 101",
      "[pid 100] lseek(-1, 6, SEEK_END)      = -1 EBADF (Bad file descriptor)",
    ],
    6,
  );
  t.deepEqual(observed?.clones, [{ flags: 0x4111, result: 101, releasedBy: "child-execve" }]);
});

test("a parent that returns first, and the system tier's vfork completion", async (t) => {
  const early = await record(["lseek(-1, 7, SEEK_SET) = -1 EBADF", "clone(child_stack=0x7f0000, flags=CLONE_VM|SIGCHLD) = 102", '[pid 102] execve("/x", [], []) = 0', "[pid 99] lseek(-1, 7, SEEK_END) = -1 EBADF"], 7);
  t.deepEqual(early?.clones, [{ flags: 0x111, result: 102, releasedBy: "nothing" }]);
  const system = await record(["trace lseek(-1, 8, SEEK_SET) = -9", "trace PTRACE_EVENT_VFORK_DONE child=55", "trace clone(flags=0x4111) = 55", "trace lseek(-1, 8, SEEK_END) = -9"], 8);
  t.deepEqual(system?.clones, [{ flags: 0x4111, result: 55, releasedBy: "vfork-done" }]);
  const systemEarly = await record(["trace lseek(-1, 9, SEEK_SET) = -9", "trace clone(flags=0x111) = 56", "trace lseek(-1, 9, SEEK_END) = -9"], 9);
  t.deepEqual(systemEarly?.clones, [{ flags: 0x111, result: 56, releasedBy: "nothing" }]);
  const qemu = await record(["1 lseek(-1,10,SEEK_SET) = -1 errno=9 (Bad file descriptor)", "1 clone(CLONE_VM|CLONE_VFORK|0x11,child_stack=0x0,parent_tidptr=0x0) = 57", "1 lseek(-1,10,SEEK_END) = -1 errno=9 (Bad file descriptor)"], 10);
  t.deepEqual(qemu?.clones, [{ flags: 0x4111, result: 57 }], "qemu -strace cannot order the child's events: no evidence either way");
});

test("parent-resumes kills vm-without-vfork on amd64/host by the suspension check alone", async (t) => {
  const amd64 = findArchitecture("amd64")!;
  const mutant = findMutant("vm-without-vfork")!;
  t.is(mutant.expectation({ architecture: amd64, tier: "host", inProcess: false }).expected, "kill");
  const target = await startTarget({ architecture: amd64, tier: "host", inProcess: false, impl: `mutant:${mutant.name}`, defines: [mutant.define], caseDeadlineMs: 5000 });
  t.teardown(() => target.close());
  const property = (await loadProperties()).find((p) => p.name === "parent-resumes")!;
  t.true(property.guards.includes(mutant.name));
  const result = await runProperty(target, property, { runs: 30, seed: 1, replayPrefix: "npx vforkcheck gate" });
  t.is(result.status, "fail", `parent-resumes did not kill vm-without-vfork: ${result.reason}`);
  t.regex(result.reason, /^the parent's clone \(CLONE_VM without CLONE_VFORK\) returned pid \d+ before the child's exec or exit/);
  t.notRegex(result.reason, /canar|zombie|did not exit 0|report is missing/, "the child had a stack of its own: nothing else went wrong");
});
