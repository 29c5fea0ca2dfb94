// Which architectures this machine's kernel executes natively, measured, set
// beside a check of this test's own: the same kind of ELF run directly, and
// the binfmt_misc entries that could run it instead of the kernel.
import test from "ava";
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostExecution, measureExitElf, measuredExitCode, measureHostExecution } from "../../harness/process/host-execution.ts";
import { parseBinfmtEntry } from "../../src/binfmt-misc.ts";
import { nativeExecutionOf } from "../../src/host-execution.ts";
import { staticExitElf } from "../../src/static-exit-elf.ts";
import { scratchDirectory } from "../helpers/scratch-directory.ts";

/** Registered binfmt_misc entries, by name; none where binfmt_misc is not mounted. */
function binfmtEntryNames(): string[] {
  try {
    return readdirSync("/proc/sys/fs/binfmt_misc").filter((name) => name !== "status" && name !== "register");
  } catch {
    return [];
  }
}

/** Whether an i386 exit ELF, written and run here with another exit code than the measurement's, exits with it. */
function i386RunsHere(directory: string): boolean {
  const file = join(directory, "direct-386");
  writeFileSync(file, staticExitElf("386", 57));
  chmodSync(file, 0o700);
  return spawnSync(file, [], { timeout: 5_000 }).status === 57;
}

test("amd64 runs natively here; 386 as a direct run of an i386 ELF says, with the measured reason", (t) => {
  const directory = scratchDirectory(t, "vforkcheck-host-execution-test-");
  const measured = measureHostExecution(undefined, directory);
  t.deepEqual(readdirSync(directory), [], "the measurement left its files behind");
  const amd64 = nativeExecutionOf(measured, "amd64");
  t.true(amd64?.native, amd64?.reason);
  t.regex(amd64!.reason, /^this machine's kernel executes x86-64 binaries: a static x86-64 ELF ran and exited 93$/);
  const i386 = nativeExecutionOf(measured, "386")!;
  const ran = i386RunsHere(directory);
  if (binfmtEntryNames().length === 0) {
    // Nothing but the kernel could have run it: the measurement and the direct run agree.
    t.is(i386.native, ran, i386.reason);
    t.regex(i386.reason, ran ? /^this machine's kernel executes i386 binaries: / : /^this machine's kernel does not execute i386 binaries: a static i386 ELF failed with ENOEXEC/);
  } else {
    // An emulator's entry may run it: native only where the direct run ran, and a refusal says whether binfmt_misc was the reason.
    t.true(!i386.native || ran, i386.reason);
    if (!i386.native && ran) t.regex(i386.reason, /^binfmt_misc entry '/);
  }
});

test("the measurement is made once per process; VFORKCHECK_HOST_EXEC replaces it", (t) => {
  t.is(hostExecution({}), hostExecution({}));
  const overridden = hostExecution({ VFORKCHECK_HOST_EXEC: "amd64" });
  t.like(nativeExecutionOf(overridden, "386"), { native: false, reason: "taken as not native: VFORKCHECK_HOST_EXEC=amd64 overrides the measurement and leaves 386 out" });
  t.true(nativeExecutionOf(overridden, "amd64")?.native);
});

// What a kernel without i386 does, here: an ELF whose machine no kernel loader takes fails with ENOEXEC the same way.
test("an ELF the kernel refuses is measured as not native, with ENOEXEC as the reason", (t) => {
  const directory = scratchDirectory(t, "vforkcheck-host-execution-test-");
  const refused = staticExitElf("386", measuredExitCode);
  refused.writeUInt16LE(0xbeef, 18); // e_machine: none
  const measured = measureExitElf("386", refused, directory, []);
  t.false(measured.native);
  t.regex(measured.reason, /^this machine's kernel does not execute i386 binaries: a static i386 ELF failed with ENOEXEC \(Exec format error; execvp handed it to \/bin\/sh, which exited \d+\)$/);
});

test("an ELF a binfmt_misc entry matches is not native even where it runs: the entry's interpreter would run it", (t) => {
  const directory = scratchDirectory(t, "vforkcheck-host-execution-test-");
  const entry = parseBinfmtEntry("qemu-i386", "enabled\ninterpreter /usr/libexec/qemu-binfmt/i386-binfmt-P\nflags: F\noffset 0\nmagic 7f454c4601010100000000000000000002000300\nmask fffffffffffefefcfffffffffffffffffeffffff\n");
  const measured = measureExitElf("386", staticExitElf("386", measuredExitCode), directory, [entry]);
  t.false(measured.native);
  t.regex(measured.reason, /^binfmt_misc entry 'qemu-i386' \(interpreter \/usr\/libexec\/qemu-binfmt\/i386-binfmt-P\) takes i386 binaries before the kernel's own loader/);
});
