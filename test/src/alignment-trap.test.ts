// The decision on a driver that died before its hello (src/alignment-trap.ts):
// a misaligned-address SIGBUS (BUS_ADRALN) on a target whose probe measured
// unaligned_fixup=0 is a skip with that reason; the same death where the probe
// measured 1, or where it did not say, and any other death, stay failures.
// The fixtures are real: Go 1.22's driver (impls/go, go@1.22) under
// qemu-mips64el 7.2, with -strace as the harness runs it and without
// (test/fixtures/alignment-trap/); the plain-death lines are the reference
// probe's unaligned child under qemu-mips64el -strace.
import { readFileSync } from "node:fs";
import test from "ava";
import { alignmentTrapSkipReason, writtenToStderr, type EarlyDeath } from "../../src/alignment-trap.ts";
import { parseCapabilities, ProtocolError } from "../../src/protocol.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/alignment-trap/${name}`, import.meta.url), "utf8").trimEnd().split("\n");
const goUnderStrace = fixture("go1.22-mips64le-qemu-strace.stderr");
const goPlain = fixture("go1.22-mips64le-qemu.stderr");
const plainSigbus = ["--- SIGBUS {si_signo=SIGBUS, si_code=1, si_addr=0x0000000000040b2c} ---", "qemu: uncaught target signal 10 (Bus error) - core dumped"];

const death = (stderrLines: readonly string[], ended: string, unalignedFixup: boolean | undefined): EarlyDeath => ({ ended, stderrLines, unalignedFixup, emulator: "qemu-mips64el", architecture: "mips64le" });

test("qemu -strace's pieces of Go's writes give back Go's traceback", (t) => {
  const written = writtenToStderr(goUnderStrace);
  t.regex(written, /^fatal error: unexpected signal during runtime execution\n\[signal SIGBUS: bus error code=0x1 addr=0xc00006cd54 pc=0x51320\]\n/);
  t.true(written.split("\n").includes("runtime.netpollinit()"));
  t.is(writtenToStderr(goPlain), goPlain.join("\n"), "without -strace the lines are the driver's own");
});

test("Go 1.22's alignment SIGBUS on a target that traps unaligned accesses: a skip naming the emulator, the probe and the runtime function", (t) => {
  const expected =
    "qemu-mips64el delivers SIGBUS for an unaligned access that a mips64le Linux kernel fixes up (probe: unaligned_fixup=0); " +
    "the driver died of it before its hello (SIGBUS BUS_ADRALN at 0xc00006cd54, exit 2), in its runtime: Go's runtime.netpollinit";
  t.is(alignmentTrapSkipReason(death(goUnderStrace, "exit 2", false)), expected);
  t.is(alignmentTrapSkipReason(death(goPlain, "exit 2", false)), expected.replace("0xc00006cd54", "0xc00006ad54"));
});

test("a plain death by a misaligned SIGBUS, seen by qemu -strace: a skip without a runtime function", (t) => {
  t.is(
    alignmentTrapSkipReason(death(plainSigbus, "signal SIGBUS", false)),
    "qemu-mips64el delivers SIGBUS for an unaligned access that a mips64le Linux kernel fixes up (probe: unaligned_fixup=0); the driver died of it before its hello (SIGBUS BUS_ADRALN at 0x0000000000040b2c, signal SIGBUS)",
  );
});

test("the same deaths where the probe measured that unaligned accesses complete, or did not say: failures", (t) => {
  for (const [lines, ended] of [[goUnderStrace, "exit 2"], [goPlain, "exit 2"], [plainSigbus, "signal SIGBUS"]] as const) {
    t.is(alignmentTrapSkipReason(death(lines, ended, true)), undefined);
    t.is(alignmentTrapSkipReason(death(lines, ended, undefined)), undefined);
  }
});

test("other deaths on a target that traps unaligned accesses: failures", (t) => {
  const otherSignal = (line: string) => line.replace(/SIGBUS/g, "SIGSEGV").replace("bus error", "segmentation violation");
  // Another signal, caught by Go or not.
  t.is(alignmentTrapSkipReason(death(goPlain.map(otherSignal), "exit 2", false)), undefined);
  t.is(alignmentTrapSkipReason(death(plainSigbus.map(otherSignal), "signal SIGSEGV", false)), undefined);
  // A SIGBUS that is no alignment trap (BUS_ADRERR, 2: past the end of a mapped file).
  const adrerr = (line: string) => line.replace("si_code=1,", "si_code=2,").replace("code=0x1 ", "code=0x2 ");
  t.is(alignmentTrapSkipReason(death(plainSigbus.map(adrerr), "signal SIGBUS", false)), undefined);
  t.is(alignmentTrapSkipReason(death(goPlain.map(adrerr), "exit 2", false)), undefined);
  // A death by SIGBUS with no code to show it was alignment.
  t.is(alignmentTrapSkipReason(death(["qemu: uncaught target signal 10 (Bus error) - core dumped"], "signal SIGBUS", false)), undefined);
  // An exit with nothing of Go's fatal signal, though qemu delivered one (the driver handled it and failed otherwise).
  t.is(alignmentTrapSkipReason(death(plainSigbus, "exit 1", false)), undefined);
  // Go's traceback, but the driver did not end the way Go's fatal signal ends it.
  t.is(alignmentTrapSkipReason(death(goPlain, "exit 1", false)), undefined);
  t.is(alignmentTrapSkipReason(death([], "exit 2", false)), undefined);
});

test("the probe's unaligned_fixup: 0 or 1, absent from an older probe, anything else refused in one line", (t) => {
  const caps = "caps arch=mips64le vfork_shares_memory=0 parent_suspended=0 kcmp=1 clone3=89 max_arg_strlen=131072 page_size=4096 stack_limit=8388608 euid=0";
  t.false(parseCapabilities(`${caps} unaligned_fixup=0`).unalignedFixup);
  t.true(parseCapabilities(`${caps} unaligned_fixup=1`).unalignedFixup);
  t.false("unalignedFixup" in parseCapabilities(caps));
  for (const value of ["2", "na", ""]) t.throws(() => parseCapabilities(`${caps} unaligned_fixup=${value}`), { instanceOf: ProtocolError, message: /unaligned_fixup' is not 0 or 1/ });
});
