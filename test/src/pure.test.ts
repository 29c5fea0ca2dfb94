// The pure pieces: protocol parsing refuses malformed lines in one line,
// the observer reads both strace dialects, the oracle applies kernel rules.
import test from "ava";
import { architectures } from "../../src/architectures.ts";
import { expectClonePath, expectOutcome } from "../../src/oracle.ts";
import { parseObserverLine } from "../../src/observer.ts";
import { decodeItem, encodeCase, encodeItem, parseCapabilities, parseResult, ProtocolError, type Hello } from "../../src/protocol.ts";
import type { ResolvedPaths, SpawnCase } from "../../src/spawn-case.ts";

test("items round-trip every byte but NUL", (t) => {
  const text = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join("");
  t.is(decodeItem(encodeItem(text), ""), text);
});

test("items with runs round-trip, and only where runs are allowed", (t) => {
  for (const text of ["", "A", "ABBBBBBBBBBBBBBBBBBBBC", `BIG=${"h".repeat(100_000)}`, "x".repeat(16) + "yz" + "\u00ff".repeat(40)]) {
    const item = encodeItem(text, true);
    t.is(decodeItem(item, "", true), text);
  }
  t.is(decodeItem("x41*3;42", "", true), "AAAAB");
  t.is(encodeItem("h".repeat(1000), true), "x68*999;");
  t.throws(() => decodeItem("x41*3;42", ""), { instanceOf: ProtocolError }, "runs only where allowed");
  for (const malformed of ["x*3;", "x41*0;", "x41*3", "x41*;", "x4*3;", "x41*99999999999;"])
    t.throws(() => decodeItem(malformed, "", true), { instanceOf: ProtocolError }, malformed);
});

for (const line of ["result id=1", "result id=x outcome=error", "bogus", "result id=1 outcome=maybe", "result id=1 outcome=spawned pid=3 status=lost"]) {
  test(`malformed result ${JSON.stringify(line)} is a one-line ProtocolError`, (t) => {
    const error = t.throws(() => parseResult(line), { instanceOf: ProtocolError });
    t.false(error!.message.includes("\n"));
  });
}

test("strace and qemu -strace clone lines give the same flags", (t) => {
  const strace = parseObserverLine("5118  clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 5119");
  const qemu = parseObserverLine("5122 clone(CLONE_VM|CLONE_VFORK|0x11,child_stack=0x0000000000000000,parent_tidptr=0x0) = 5125");
  t.deepEqual(strace.clone, { flags: 0x4111, result: 5119 });
  t.deepEqual(qemu.clone, { flags: 0x4111, result: 5125 });
  t.deepEqual(parseObserverLine("5122 clone(CLONE_NEWUSER|0x11,child_stack=0x0) = -1 errno=22 (Invalid argument)").clone, { flags: 0x10000011, result: -22 });
  t.deepEqual(parseObserverLine("5118  lseek(-1, 7, SEEK_END)            = -1 EBADF").marker, { id: 7, end: true });
});

test("clone3, vfork and the system tier's trace lines are spawns too; a new thread is not", (t) => {
  t.deepEqual(parseObserverLine("5118  clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f0000, stack_size=0x9000}, 88) = 5119").clone, {
    flags: 0x4111,
    result: 5119,
    clone3: { clearSighand: false, intoCgroup: false, exitSignal: 17, pidfdPointer: false },
  });
  t.deepEqual(parseObserverLine("5118  vfork()                   = 5119").clone, { flags: 0x4111, result: 5119 });
  t.deepEqual(parseObserverLine("trace clone(flags=0x1000C111) = 88").clone, { flags: 0x1000c111, result: 88 });
  t.deepEqual(parseObserverLine("trace lseek(-1, 3, SEEK_SET) = -9").marker, { id: 3, end: false });
  t.is(parseObserverLine("5118  clone(child_stack=0x7f00, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID) = 5120").clone, undefined);
});

const amd64 = architectures[0]!;
const hostCaps = parseCapabilities(
  "caps arch=amd64 vfork_shares_memory=1 parent_suspended=1 kcmp=1 clone3=22 max_arg_strlen=131072 page_size=4096 stack_limit=8388608 euid=0 clone_newuser=0 vfork_newuser=0 unshare_newuser=0 clone_newns=0 vfork_newns=0 unshare_newns=0",
);
const userCaps = { ...hostCaps, cloneErrno: { newuser: 22, newns: 22 }, vforkErrno: { newuser: 22, newns: 22 }, unshareErrno: { newuser: 22, newns: 0 } };
const hello: Hello = { protocol: 1, impl: "reference", arch: "amd64", pid: 100, euid: 0, egid: 0, pgid: 100, sid: 50, cwd: "/w", inheritedDescriptors: [0, 1, 2], reportDescriptor: 63, features: [], signalContract: "posix", signalsKept: [] };
const directories = { fixtures: "/f", root: "/", missing: "/m", "a-file": "/a", "name-too-long": "/n" };
const base: SpawnCase = { path: "exec-target", argv: ["a"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false, descriptors: [], uidInside: 5, gidInside: 6, memoryBytes: 0, signalStorm: false };
const name = (value: number) => ({ 1: "EPERM", 22: "EINVAL" })[value] ?? `errno ${value}`;
const oracle = (c: Partial<SpawnCase>, capabilities = hostCaps) => expectOutcome({ ...base, ...c }, { architecture: amd64, capabilities, hello, tier: "host", directories }, name);

test("CLONE_NEWUSER in either flag set means the fork path", (t) => {
  t.false(expectClonePath({ ...base, cloneFlags: 0x10000000 }).fastPath);
  t.false(expectClonePath({ ...base, unshareFlags: 0x10000000 }).fastPath);
  t.true(expectClonePath({ ...base, cloneFlags: 0x20000 }).fastPath);
});

test("the oracle follows kernel rules and measured capabilities", (t) => {
  t.like(oracle({ setsid: true, setpgid: true }), { kind: "error", errno: "EPERM", step: "setpgid" });
  t.like(oracle({ path: "missing", env: ["X=" + "y".repeat(200_000)] }), { kind: "error", errno: "ENOENT" });
  t.like(oracle({ env: ["X=" + "y".repeat(200_000)] }), { kind: "error", errno: "E2BIG" });
  t.like(oracle({ path: "garbage" }), { kind: "error", errno: "ENOEXEC" });
  t.like(oracle({ cloneFlags: 0x20000 }, userCaps), { kind: "error", errno: "EINVAL", step: "clone" });
  const spawned = oracle({ cloneFlags: 0x30000000 });
  t.is(spawned.kind, "spawned");
  if (spawned.kind === "spawned") t.like(spawned.child, { uid: 5, gid: 6, pid: 1, ppid: 0, descriptors: [0, 1, 2, 63] });
  // A case's report descriptor replaces the hello's; the case line carries it only then.
  const moved = oracle({ descriptors: [4, 900], reportDescriptor: 3 });
  if (moved.kind === "spawned") t.deepEqual(moved.child.descriptors, [0, 1, 2, 3, 4, 900]);
  else t.fail(`expected spawned, got ${moved.kind}`);
  const paths = { path: { "exec-target": "/t" } } as unknown as ResolvedPaths;
  t.regex(encodeCase(1, { ...base, reportDescriptor: 3 }, paths), / report_fd=3( |$)/);
  t.notRegex(encodeCase(1, base, paths), /report_fd/);
});
