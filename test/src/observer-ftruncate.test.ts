// The observer's markers from a driver that can make neither lseek nor
// _llseek (Node's fs, without FFI): ftruncate(2147483647, id) starts a case,
// ftruncate(2147483646, id) ends it, ftruncate64 where glibc's ftruncate is
// that (386, arm). The lines are as strace (6.1) and qemu-user (7.2) printed
// them for Node 18 and, for the split forms, for a static 386 program making
// the same calls; each form brackets the clone between its markers (pure).
import test from "ava";
import { ObserverLog, parseObserverLine } from "../../src/observer.ts";

const CLONE_VM = 0x100, CLONE_VFORK = 0x4000, SIGCHLD = 17;

test("strace's whole ftruncate is a marker: the length is the id, the descriptor which end", (t) => {
  t.deepEqual(parseObserverLine("[pid 2279] ftruncate(2147483647, 1) = -1 EBADF (Bad file descriptor)").marker, { id: 1, end: false });
  t.deepEqual(parseObserverLine("ftruncate(2147483646, 1)                = -1 EBADF (Bad file descriptor)").marker, { id: 1, end: true });
});

test("strace's ftruncate64 (386, arm) prints the length whole", (t) => {
  t.deepEqual(parseObserverLine("[pid 23459] ftruncate64(2147483647, 7)  = -1 EBADF (Bad file descriptor)").marker, { id: 7, end: false });
  t.deepEqual(parseObserverLine("[pid 23459] ftruncate64(2147483646, 7)  = -1 EBADF (Bad file descriptor)").marker, { id: 7, end: true });
  t.deepEqual(parseObserverLine("ftruncate64(2147483646, 4294967303)     = -1 EBADF (Bad file descriptor)").marker, { id: 2 ** 32 + 7, end: true });
  t.deepEqual(parseObserverLine("[pid 23831] ftruncate64(2147483646, 1 <unfinished ...>").marker, { id: 1, end: true });
});

test("qemu-user's ftruncate and ftruncate64 are markers", (t) => {
  t.deepEqual(parseObserverLine("5593 ftruncate(2147483647,1) = -1 errno=9 (Bad file descriptor)").marker, { id: 1, end: false });
  t.deepEqual(parseObserverLine("5593 ftruncate(2147483646,1) = -1 errno=9 (Bad file descriptor)").marker, { id: 1, end: true });
  // 386 and arm alike: qemu prints the length's low word only.
  t.deepEqual(parseObserverLine("23270 ftruncate64(2147483647,7) = -1 errno=9 (Bad file descriptor)").marker, { id: 7, end: false });
  t.deepEqual(parseObserverLine("23282 ftruncate64(2147483646,7) = -1 errno=9 (Bad file descriptor)").marker, { id: 7, end: true });
});

test("an ftruncate of any other descriptor is no marker", async (t) => {
  t.is(parseObserverLine("ftruncate(3, 7)                         = 0").marker, undefined, "a real truncation");
  t.is(parseObserverLine("[pid 2279] ftruncate(2147483645, 7) = -1 EBADF (Bad file descriptor)").marker, undefined);
  t.is(parseObserverLine("ftruncate(-1, 7) = -1 EBADF (Bad file descriptor)").marker, undefined);
  t.is(parseObserverLine("ftruncate64(21474836470, 7) = -1 EBADF (Bad file descriptor)").marker, undefined, "not a prefix of a longer number");
  t.is(parseObserverLine("5593 ftruncate(4,1) = 0").marker, undefined);
  t.is(parseObserverLine("ftruncate64(5, 2147483647)              = -1 EBADF (Bad file descriptor)").marker, undefined, "the marker's descriptor as a length");
  // Nor does one inside a case end it: the clone after it is still the case's.
  const log = new ObserverLog();
  for (const line of [
    "ftruncate(2147483647, 3)                = -1 EBADF (Bad file descriptor)",
    "ftruncate(5, 3)                         = 0",
    "clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 5119",
    "ftruncate(2147483646, 3)                = -1 EBADF (Bad file descriptor)",
  ])
    log.addLine(line);
  const record = await log.take(3, 10);
  t.true(record?.complete);
  t.deepEqual(record?.clones.map((clone) => clone.result), [5119]);
});

test("a split ftruncate end marker closes its case at its first half, with the clone inside", async (t) => {
  const log = new ObserverLog();
  for (const line of [
    "ftruncate(2147483647, 4)                = -1 EBADF (Bad file descriptor)",
    "clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 5119",
    "[pid  5119] execve(\"/target\", [\"a\"], 0x7ffd1c3e0010 /* 0 vars */ <unfinished ...>",
    "[pid  5118] ftruncate(2147483646, 4 <unfinished ...>",
    "[pid  5119] <... execve resumed>)       = 0",
    "[pid  5118] <... ftruncate resumed>)    = -1 EBADF (Bad file descriptor)",
  ])
    log.addLine(line);
  const record = await log.take(4, 10);
  t.true(record?.complete);
  t.deepEqual(record?.clones.map((clone) => clone.flags), [CLONE_VM | CLONE_VFORK | SIGCHLD]);
});

test("split ftruncate64 markers, one resumed without the prefix once the other process has exited", async (t) => {
  const log = new ObserverLog();
  for (const line of [
    "[pid 23708] ftruncate64(2147483647, 109)  = -1 EBADF (Bad file descriptor)",
    "[pid 23708] vfork( <unfinished ...>",
    "[pid 23709] execve(\"/target\", [\"!\"], 0xf78b8ac0 /* 7 vars */ <unfinished ...>",
    "[pid 23708] <... vfork resumed>)        = 23709",
    "[pid 23709] <... execve resumed>)       = 0",
    "[pid 23708] ftruncate64(2147483646, 109 <unfinished ...>",
    "[pid 23709] exit_group(0)               = ?",
    "<... ftruncate64 resumed>)              = -1 EBADF (Bad file descriptor)",
    "[pid 23710] exit(0 <unfinished ...>",
    "[pid 23708] ftruncate64(2147483647, 110 <unfinished ...>",
    "[pid 23710] <... exit resumed>)         = ?",
    "<... ftruncate64 resumed>)              = -1 EBADF (Bad file descriptor)",
    "vfork()                                 = 23711",
    "ftruncate64(2147483646, 110)            = -1 EBADF (Bad file descriptor)",
  ])
    log.addLine(line);
  const first = await log.take(109, 10);
  t.true(first?.complete, "an end marker whose call resumed without its prefix");
  t.deepEqual(first?.clones.map((clone) => [clone.result, clone.releasedBy]), [[23709, "child-execve"]]);
  const second = await log.take(110, 10);
  t.true(second?.complete, "a start marker whose call resumed without its prefix");
  t.deepEqual(second?.clones.map((clone) => [clone.flags, clone.result]), [[CLONE_VM | CLONE_VFORK | SIGCHLD, 23711]]);
});

test("qemu-user's markers bracket its clone", async (t) => {
  const log = new ObserverLog();
  for (const line of [
    "5593 ftruncate(2147483647,9) = -1 errno=9 (Bad file descriptor)",
    "5593 clone(CLONE_VM|CLONE_VFORK|0x11,child_stack=0x0,parent_tidptr=0x0,tls=0x0,child_tidptr=0x0) = 5600",
    "5593 ftruncate(2147483646,9) = -1 errno=9 (Bad file descriptor)",
  ])
    log.addLine(line);
  const record = await log.take(9, 10);
  t.true(record?.complete);
  t.deepEqual(record?.clones, [{ flags: CLONE_VM | CLONE_VFORK | SIGCHLD, result: 5600 }]);
});

test("lseek and _llseek markers are read as before", (t) => {
  t.deepEqual(parseObserverLine("lseek(-1, 5, SEEK_SET)                  = -1 EBADF (Bad file descriptor)").marker, { id: 5, end: false });
  t.deepEqual(parseObserverLine("_llseek(-1, 7, 0xff9ce020, SEEK_END)    = -1 EBADF (Bad file descriptor)").marker, { id: 7, end: true });
  t.deepEqual(parseObserverLine("trace lseek(-1, 3, SEEK_END) = -9").marker, { id: 3, end: true });
});
