// The observer's reading of clone3's struct clone_args, as strace and the
// system tier's init print it (pure): the 64-bit flags word (CLONE_PIDFD,
// CLONE_CLEAR_SIGHAND, CLONE_INTO_CGROUP), exit_signal folded into the low
// byte as clone(2) carries it, the pidfd pointer and the cgroup; and the
// protocol fields of a pidfd case.
import test from "ava";
import { ObserverLog, parseClone3Arguments, parseObserverLine } from "../../src/observer.ts";
import { encodeCase, parseCapabilities, parseResult } from "../../src/protocol.ts";
import type { ResolvedPaths, SpawnCase } from "../../src/spawn-case.ts";

const CLONE_VM = 0x100, CLONE_VFORK = 0x4000, CLONE_PIDFD = 0x1000, SIGCHLD = 17;

test("strace's clone3 with a pidfd: flags, the pidfd pointer, exit_signal in the low byte, CLONE_CLEAR_SIGHAND above bit 31", (t) => {
  const line = "clone3({flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|CLONE_CLEAR_SIGHAND, pidfd=0x7ffdb755bfec, exit_signal=SIGCHLD, stack=NULL, stack_size=0} => {pidfd=[6]}, 88) = 2163";
  t.deepEqual(parseObserverLine(line).clone, {
    flags: CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
    result: 2163,
    clone3: { clearSighand: true, intoCgroup: false, exitSignal: SIGCHLD, pidfdPointer: true },
  });
});

test("strace's clone3 without a pidfd, glibc's shape (a stack of its own, no CLONE_CLEAR_SIGHAND)", (t) => {
  const clone = parseObserverLine("1234  clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f1c2a000000, stack_size=0x9000}, 88) = 1235").clone;
  t.is(clone?.flags, CLONE_VM | CLONE_VFORK | SIGCHLD);
  t.deepEqual(clone?.clone3, { clearSighand: false, intoCgroup: false, exitSignal: SIGCHLD, pidfdPointer: false });
});

test("init's clone3 line on the system tier: a 64-bit hex flags word and a numeric exit signal", (t) => {
  const parsed = parseObserverLine("trace clone3({flags=0x300005100, exit_signal=17, pidfd=0xbefff6a4, cgroup=7}, 88) = 121");
  t.is(parsed.observer, "system");
  t.deepEqual(parsed.clone, {
    flags: CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
    result: 121,
    clone3: { clearSighand: true, intoCgroup: true, exitSignal: 17, pidfdPointer: true, cgroup: 7 },
  });
});

test("an exit signal init misread (0) stays 0 in the low byte, where checkClonePath looks for SIGCHLD", (t) => {
  const clone = parseObserverLine("trace clone3({flags=0x100004100, exit_signal=0, pidfd=0x0, cgroup=0}, 88) = 121").clone;
  t.is(clone!.flags & 0xff, 0);
  t.false(clone!.clone3!.pidfdPointer);
});

test("a clone3 split by another process's line joins its start and its result, clone_args included", (t) => {
  const log = new ObserverLog();
  for (const line of [
    "lseek(-1, 4, SEEK_SET)                  = -1 EBADF (Bad file descriptor)",
    "clone3({flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|CLONE_CLEAR_SIGHAND, pidfd=0x7ffd0000, exit_signal=SIGCHLD, stack=NULL, stack_size=0} <unfinished ...>",
    "[pid  5119] execve(\"/driver\", [\"a\"], 0x7ffd0010 /* 0 vars */ <unfinished ...>",
    "[pid  5118] <... clone3 resumed> => {pidfd=[6]}, 88) = 5119",
    "[pid  5118] lseek(-1, 4, SEEK_END)      = -1 EBADF (Bad file descriptor)",
  ])
    log.addLine(line);
  return log.take(4, 10).then((record) => {
    t.true(record?.complete);
    t.is(record?.clones.length, 1);
    t.is(record?.clones[0]!.flags, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD);
    t.true(record?.clones[0]!.clone3?.clearSighand);
    t.is(record?.clones[0]!.releasedBy, "child-execve");
  });
});

test("qemu -strace's clone line with CLONE_PIDFD (a clone, no clone3 struct)", (t) => {
  const clone = parseObserverLine("20325 clone(CLONE_VM|CLONE_PIDFD|CLONE_VFORK|0x11,child_stack=0x0000000000000000,parent_tidptr=0x40007ffe,tls=0x0,child_tidptr=0x0) = -1 errno=22 (Invalid argument)").clone;
  t.deepEqual(clone, { flags: CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, result: -22 });
});

test("an unknown clone3 flag makes the clone unreadable, not a guess", (t) => {
  t.is(parseClone3Arguments("flags=CLONE_VM|CLONE_SOMETHING_NEW, exit_signal=SIGCHLD"), undefined);
});

const paths = { path: { "exec-target": "/t" }, directory: {} } as unknown as ResolvedPaths;
const plain: SpawnCase = { path: "exec-target", argv: ["a"], env: [], cwd: "none", cloneFlags: 0, unshareFlags: 0, setsid: false, setpgid: false, descriptors: [], uidInside: 0, gidInside: 0, memoryBytes: 0, signalStorm: false };

test("a pidfd case carries pidfd=1 and clone3=1 only when asked", (t) => {
  t.notRegex(encodeCase(1, plain, paths), /pidfd=|clone3=/);
  t.regex(encodeCase(1, { ...plain, pidfd: true, clone3: true }, paths), / pidfd=1 clone3=1/);
});

test("a pidfd case's result and the probe's pidfd fields parse", (t) => {
  const result = parseResult("result id=1 outcome=spawned pid=22 waited=1 status=exited:0 suspended=yes report=x pidfd_pid=22 pidfd_reaped=-10 leaked_pidfds=0 zombies=0 live_children=0 leaked_fds=0 stack_canaries=ok register_canaries=ok");
  t.deepEqual(result.pidfd, { pid: 22, reaped: -10 });
  t.is(result.leakedPidfds, 0);
  t.is(parseResult("result id=2 outcome=error errno=2 leaked_pidfds=1 zombies=0 live_children=0 leaked_fds=1 stack_canaries=ok register_canaries=ok").leakedPidfds, 1);
  const caps = parseCapabilities("caps arch=arm vfork_shares_memory=0 parent_suspended=0 kcmp=1 clone3=38 max_arg_strlen=131072 page_size=4096 stack_limit=8388608 euid=0 pidfd_clone=22 pidfd_clone3=38");
  t.deepEqual(caps.pidfdErrno, { clone: 22, clone3: 38 });
  t.deepEqual(caps.cloneErrno, {}, "pidfd_clone is not a namespace's clone_ entry");
});
