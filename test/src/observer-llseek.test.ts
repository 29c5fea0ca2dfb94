// The observer's markers from a driver that cannot make the raw lseek call
// (CPython's os.lseek on a 32-bit architecture goes through _llseek, whose
// result pointer is an output): strace's whole and split forms and
// qemu-user's, each bracketing the clone between them; and qemu-user's
// vfork line (pure).
import test from "ava";
import { ObserverLog, parseObserverLine } from "../../src/observer.ts";

const CLONE_VM = 0x100, CLONE_VFORK = 0x4000, SIGCHLD = 17;

test("strace's whole _llseek is a marker: the id and which end", (t) => {
  t.deepEqual(parseObserverLine("_llseek(-1, 7, 0xff9ce020, SEEK_SET)    = -1 EBADF (Bad file descriptor)").marker, { id: 7, end: false });
  t.deepEqual(parseObserverLine("[pid  5118] _llseek(-1, 7, 0xff9ce060, SEEK_END) = -1 EBADF (Bad file descriptor)").marker, { id: 7, end: true });
  t.is(parseObserverLine("_llseek(3, 7, 0xff9ce020, SEEK_SET) = 7").marker, undefined, "a real seek is no marker");
});

test("qemu-user's _llseek prints the offset's high and low words apart", (t) => {
  t.deepEqual(parseObserverLine("4242 _llseek(-1,0,9,0x407ffe30,SEEK_SET) = -1 errno=9 (Bad file descriptor)").marker, { id: 9, end: false });
  t.deepEqual(parseObserverLine("4242 _llseek(-1,1,2,0x407ffe30,SEEK_END) = -1 errno=9 (Bad file descriptor)").marker, { id: 2 ** 32 + 2, end: true });
});

test("a split _llseek end marker, resumed after a child's line, still closes its case with the clone inside", async (t) => {
  const log = new ObserverLog();
  for (const line of [
    "_llseek(-1, 4, 0xff9ce020, SEEK_SET)    = -1 EBADF (Bad file descriptor)",
    "vfork()                                 = 5119",
    "[pid  5119] execve(\"/target\", [\"a\"], 0xff9ce010 /* 0 vars */ <unfinished ...>",
    "[pid  5118] _llseek(-1, 4,  <unfinished ...>",
    "[pid  5119] <... execve resumed>)       = 0",
    "[pid  5118] <... _llseek resumed>0xff9ce060, SEEK_END) = -1 EBADF (Bad file descriptor)",
  ])
    log.addLine(line);
  const record = await log.take(4, 10);
  t.true(record?.complete);
  t.deepEqual(record?.clones.map((clone) => clone.flags), [CLONE_VM | CLONE_VFORK | SIGCHLD]);
});

test("qemu-user's vfork, printed with the registers it does not decode, is a CLONE_VM|CLONE_VFORK clone", (t) => {
  t.deepEqual(parseObserverLine("26891 vfork(277703024,0,0,0,0,1) = 26897").clone, { flags: CLONE_VM | CLONE_VFORK | SIGCHLD, result: 26897 });
});

test("a marker and a vfork split while a child ran resume without the prefix once the child has exited", async (t) => {
  const log = new ObserverLog();
  for (const line of [
    "_llseek(-1, 150, 0xffaafc30, SEEK_SET)  = -1 EBADF (Bad file descriptor)",
    "vfork( <unfinished ...>",
    "[pid   156] execve(\"/target\", [\"!\"], 0xf78b8ac0 /* 7 vars */ <unfinished ...>",
    "[pid     6] <... vfork resumed>)        = 156",
    "[pid   156] <... execve resumed>)       = 0",
    "[pid     6] _llseek(-1, 150,  <unfinished ...>",
    "[pid   156] exit_group(0)               = ?",
    "<... _llseek resumed>0xffaafc30, SEEK_END) = -1 EBADF (Bad file descriptor)",
    "_llseek(-1, 151, 0xffaafc30, SEEK_SET)  = -1 EBADF (Bad file descriptor)",
    "[pid     6] vfork( <unfinished ...>",
    "[pid   157] exit_group(255)             = ?",
    "<... vfork resumed>)        = 157",
    "_llseek(-1, 151, 0xffaafc30, SEEK_END)  = -1 EBADF (Bad file descriptor)",
  ])
    log.addLine(line);
  const first = await log.take(150, 10);
  t.true(first?.complete, "the end marker resumed without its prefix");
  t.deepEqual(first?.clones.map((clone) => clone.result), [156]);
  const second = await log.take(151, 10);
  t.true(second?.complete);
  t.deepEqual(second?.clones.map((clone) => [clone.flags, clone.result]), [[CLONE_VM | CLONE_VFORK | SIGCHLD, 157]], "the vfork resumed without its prefix");
});
