// Errno names everywhere: every function that puts an errno in a message
// names it with the target's architecture's table and keeps the number
// ("EPIPE (32)"), on architectures that number errnos their own way too, and
// for errnos the oracle never expects. No message shows a bare "errno 32",
// nor a word twice in a row ("errno errno 32" was Go's errno-width mutant).
import test from "ava";
import { architectures, findArchitecture, type Architecture } from "../../src/architectures.ts";
import { checkOutcome, type TargetView } from "../../src/checks.ts";
import { checkConcurrentSpawns } from "../../src/concurrent-checks.ts";
import { errnoName, errnoNumber, errnoText, nameErrnos } from "../../src/errno.ts";
import { expectOutcome } from "../../src/oracle.ts";
import { checkPidfd, pidfdUnavailable } from "../../src/pidfd-checks.ts";
import { describeProbeStatus, probeContradictions } from "../../src/probe-checks.ts";
import { parseResult, type Capabilities, type Hello } from "../../src/protocol.ts";
import type { SpawnCase } from "../../src/spawn-case.ts";
import { badErrnoWording } from "../helpers/errno-wording.ts";

const amd64 = findArchitecture("amd64")!;
const mips = findArchitecture("mips64le")!;

function assertNamed(t: import("ava").ExecutionContext, messages: readonly string[], expected: RegExp): void {
  t.true(messages.some((message) => expected.test(message)), `${expected} in: ${messages.join(" | ")}`);
  for (const message of messages) t.is(badErrnoWording(message), undefined, message);
}

const hello: Hello = { protocol: 1, impl: "reference", arch: "amd64", pid: 100, euid: 0, egid: 0, pgid: 100, sid: 7, cwd: "/f", inheritedDescriptors: [0, 1, 2], reportDescriptor: 63, features: ["threads", "fds"], signalContract: "posix", signalsKept: [] };
const capabilities: Capabilities = { arch: "amd64", vforkSharesMemory: true, parentSuspended: false, kcmp: true, clone3Errno: 0, pageSize: 4096, maxArgumentString: 131072, stackLimit: 8 << 20, euid: 0, cloneErrno: {}, vforkErrno: {}, unshareErrno: {} };

/** A target as the pure checks see it, its errnos named by the architecture's real table (not a test's made-up one). */
function view(architecture: Architecture, measured: Partial<Capabilities> = {}): TargetView {
  const caps = { ...capabilities, arch: architecture.name, ...measured };
  return {
    name: `${architecture.name}/host`,
    capabilities: caps,
    oracle: { architecture, capabilities: caps, hello: { ...hello, arch: architecture.name }, tier: "host", directories: { fixtures: "/f", root: "/", missing: "/m", "a-file": "/a", "name-too-long": "/n" } },
    errnoName: (value) => errnoName(architecture, value),
  };
}

const plain: SpawnCase = { path: "exec-target", argv: ["child"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false };
const hex = (text: string) => `x${Buffer.from(text).toString("hex")}`;
const report = (pid: number) => hex(`child argv=${hex("child")} env= cwd=${Buffer.from("/f").toString("hex")} uid=0 gid=0 euid=0 egid=0 pid=${pid} ppid=100 pgid=100 sid=7 fds=0,1,2,63 sigmask= sigignore= sighandle=`);
const leftovers = "zombies=0 live_children=0 leaked_fds=0 stack_canaries=ok register_canaries=ok";
const failedWith = (errno: number) => parseResult(`result id=1 outcome=error errno=${errno} ${leftovers}`);

/** The numbers up to 133 arch/mips/include/uapi/asm/errno.h gives no errno (it moved them past 120, and EDQUOT to 1133). */
const mipsGaps = [47, 48, 49, 57, 58, 72, 75, 76, ...Array.from({ length: 20 }, (_, i) => 100 + i)];

test("every errno of the kernel's tables has its name, on asm-generic and on MIPS, whose numbers differ", (t) => {
  t.is(errnoName(amd64, 32), "EPIPE");
  t.is(errnoName(mips, 32), "EPIPE");
  t.is(errnoName(amd64, 95), "EOPNOTSUPP");
  t.is(errnoName(mips, 95), "ENOTSOCK");
  t.is(errnoName(mips, 122), "EOPNOTSUPP");
  t.is(errnoName(mips, 1133), "EDQUOT");
  t.is(errnoName(amd64, 38), "ENOSYS");
  t.is(errnoName(mips, 89), "ENOSYS");
  t.is(errnoName(amd64, 35), "EDEADLK", "the first name of a number shared with an alias");
  t.is(errnoName(amd64, 0), "0");
  t.is(errnoName(amd64, 4095), "unnamed errno 4095");
  // Every number from 1 to 133 is named on every architecture but the ones MIPS leaves out, and round-trips.
  for (const architecture of architectures) {
    for (let value = 1; value <= 133; value++) {
      const name = errnoName(architecture, value);
      if (name.startsWith("unnamed")) continue;
      t.is(errnoNumber(architecture, name), value, `${architecture.name} ${name}`);
    }
    const unnamed = Array.from({ length: 133 }, (_, i) => i + 1).filter((value) => errnoName(architecture, value).startsWith("unnamed"));
    t.deepEqual(unnamed, architecture.name === "mips64le" ? mipsGaps : [41, 58], `${architecture.name}: numbers no errno has`);
  }
  t.is(errnoText("EPIPE", 32), "EPIPE (32)");
  t.is(errnoText("0", 0), "no errno (0)");
  t.is(errnoText("unnamed errno 4095", 4095), "unnamed errno 4095");
});

test("a spawn that fails with an errno the oracle does not expect names it, with its number, on each architecture", (t) => {
  // Go's errno-width mutant read 32 where ENOENT (2) was written: "errno errno 32, expected ENOENT".
  const missing = { ...plain, path: "missing" as const };
  for (const [architecture, value, name] of [[amd64, 32, "EPIPE"], [mips, 89, "ENOSYS"], [mips, 1133, "EDQUOT"], [amd64, 4095, "unnamed errno 4095"]] as const) {
    const target = view(architecture);
    const wrong = checkOutcome(missing, { result: failedWith(value) }, target);
    const text = name.startsWith("E") ? `${name} \\(${value}\\)` : name;
    assertNamed(t, wrong, new RegExp(`^spawn failed with ${text}, expected ENOENT from execve$`));
    assertNamed(t, checkOutcome(plain, { result: failedWith(value) }, target), new RegExp(`^spawn failed with ${text}; expected success$`));
  }
  assertNamed(t, checkOutcome(missing, { result: failedWith(0) }, view(amd64)), /^spawn failed with no errno \(0\), expected ENOENT from execve$/);
});

test("the oracle's notes name what the probe measured, MIPS numbers included", (t) => {
  // unshare(CLONE_NEWNET) refused with EOPNOTSUPP: 95 on asm-generic, 122 on MIPS (where 95 is ENOTSOCK).
  for (const [architecture, value] of [[amd64, 95], [mips, 122]] as const) {
    const target = view(architecture, { unshareErrno: { newnet: value } });
    const want = expectOutcome({ ...plain, unshareFlags: 0x40000000 }, target.oracle, target.errnoName);
    t.like(want, { kind: "error", errno: "EOPNOTSUPP", step: "unshare" });
    assertNamed(t, want.notes, /refuses unshare\(CLONE_NEWNET\) with EOPNOTSUPP/);
  }
});

test("pidfd messages name the errnos the probe and the driver measured", (t) => {
  const refused = view(mips, { pidfdErrno: { clone: 122, clone3: 89 } });
  assertNamed(t, [pidfdUnavailable(refused)!], /cannot express CLONE_PIDFD: clone3 ENOSYS \(89\), clone\(CLONE_PIDFD\) EOPNOTSUPP \(122\)/);
  const target = view(amd64, { pidfdErrno: { clone: 0, clone3: 0 } });
  const result = parseResult(`result id=1 outcome=spawned pid=201 waited=1 status=exited:0 suspended=unknown report=${report(201)} pidfd_pid=201 pidfd_reaped=-32 leaked_pidfds=0 ${leftovers}`);
  assertNamed(t, checkPidfd({ ...plain, pidfd: true }, { result }, target), /waitid\(P_PIDFD\) on the returned pidfd failed with EPIPE \(32\), not the child/);
});

test("a concurrent case whose own fields disagree with its first spawn names both outcomes' errnos", (t) => {
  const spawnCase: SpawnCase = { ...plain, concurrentSpawns: [{ path: "missing", descriptors: [] }, { path: "missing", descriptors: [] }] };
  const result = parseResult(`result id=1 outcome=error errno=2 ${leftovers} thread_outcomes=error/32;error/2`);
  assertNamed(t, checkConcurrentSpawns(spawnCase, { result }, view(amd64)), /^the result's own fields \(error ENOENT \(2\)\) are not the first spawn's outcome \(error EPIPE \(32\)\)$/);
});

test("the probe's messages name errnos", (t) => {
  assertNamed(t, [describeProbeStatus(-89, mips)], /init could not start it \(ENOSYS\)/);
  assertNamed(t, probeContradictions({ ...capabilities, cloneErrno: { newns_fs: 1 } }, amd64), /measured EPERM, which every kernel refuses with EINVAL/);
});

test("a driver's failure text (bench lines) has its errno numbers named for the target's architecture", (t) => {
  // As native/driver.c, the Go and the glibc drivers write them.
  assertNamed(t, [nameErrnos("spawn 3: errno 2", amd64)], /^spawn 3: ENOENT \(2\)$/);
  assertNamed(t, [nameErrnos("spawn 3: wait4 errno 10", amd64)], /^spawn 3: wait4 ECHILD \(10\)$/);
  assertNamed(t, [nameErrnos("spawn 1: waitpid: errno 89", mips)], /^spawn 1: waitpid: ENOSYS \(89\)$/);
  assertNamed(t, [nameErrnos("spawn 1: errno 4095", amd64)], /^spawn 1: unnamed errno 4095$/);
  t.is(nameErrnos("2 errnos 32 times", amd64), "2 errnos 32 times", "only the words 'errno N'");
});

test("the wording check itself catches what it is for", (t) => {
  t.is(badErrnoWording("errno errno 32, expected ENOENT from execve"), 'bare "errno 32"');
  t.is(badErrnoWording("spawn failed with errno 32; expected success"), 'bare "errno 32"');
  t.is(badErrnoWording("the the child"), 'doubled "the the"');
  t.is(badErrnoWording("spawn failed with unnamed errno 4095; expected success"), undefined);
  t.is(badErrnoWording("spawn failed with EPIPE (32); expected success"), undefined);
});
