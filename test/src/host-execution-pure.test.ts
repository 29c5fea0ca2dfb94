// The pure parts of the host measurement: the static exit ELF (read back by
// the suite's own ELF reader, its code at the entry point), binfmt_misc
// entries and their matching, and VFORKCHECK_HOST_EXEC's parsing.
import test from "ava";
import { readElfHeader, elfIdentities } from "../../src/elf-header.ts";
import { exitElfArchitectures, staticExitElf } from "../../src/static-exit-elf.ts";
import { binfmtEntryMatches, parseBinfmtEntry } from "../../src/binfmt-misc.ts";
import { hostExecutionFromOverride, nativeCandidates, runsNatively } from "../../src/host-execution.ts";
import { UsageError } from "../../src/usage-error.ts";
import { architectures } from "../../src/architectures.ts";

/** The entry point's offset in the file: the one PT_LOAD maps the file from offset 0 at p_vaddr. */
function entryOffset(elf: Buffer): number {
  const bits64 = elf[4] === 2;
  const entry = bits64 ? Number(elf.readBigUInt64LE(24)) : elf.readUInt32LE(24);
  const programHeaders = bits64 ? Number(elf.readBigUInt64LE(32)) : elf.readUInt32LE(28);
  const vaddr = bits64 ? Number(elf.readBigUInt64LE(programHeaders + 16)) : elf.readUInt32LE(programHeaders + 8);
  return entry - vaddr;
}

test("the exit ELF of each x86 architecture is a static executable of that machine whose entry point is its exit code", (t) => {
  const expectedCode = {
    amd64: [0xbf, 93, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05], // mov edi, 93; mov eax, 60 (exit); syscall
    "386": [0xbb, 93, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0xcd, 0x80], // mov ebx, 93; mov eax, 1 (exit); int 0x80
  };
  for (const architecture of exitElfArchitectures) {
    const elf = staticExitElf(architecture, 93);
    t.deepEqual(readElfHeader(elf), { ...elfIdentities[architecture], type: 2, interpreter: false }, architecture);
    const at = entryOffset(elf);
    t.deepEqual([...elf.subarray(at)], expectedCode[architecture], architecture);
    // One PT_LOAD, readable and executable, covering the whole file.
    const bits64 = elf[4] === 2;
    const header = bits64 ? 64 : 52;
    t.is(elf.readUInt32LE(header), 1);
    t.is(bits64 ? elf.readUInt32LE(header + 4) : elf.readUInt32LE(header + 24), 5);
    t.is(bits64 ? Number(elf.readBigUInt64LE(header + 32)) : elf.readUInt32LE(header + 16), elf.length);
  }
});

test("the exit code is the ELF's only variable part, and one outside 0-255 is refused", (t) => {
  const [zero, other] = [staticExitElf("386", 0), staticExitElf("386", 255)];
  const differing = [...zero.keys()].filter((at) => zero[at] !== other[at]);
  t.deepEqual(differing, [entryOffset(zero) + 1]);
  t.throws(() => staticExitElf("amd64", 256), { instanceOf: RangeError });
  t.throws(() => staticExitElf("amd64", -1), { instanceOf: RangeError });
});

// As the kernel prints a qemu-user-binfmt entry for i386 (magic and mask from Debian's qemu-user-binfmt).
const qemuI386Entry = `enabled
interpreter /usr/libexec/qemu-binfmt/i386-binfmt-P
flags: POCF
offset 0
magic 7f454c4601010100000000000000000002000300
mask fffffffffffefefcfffffffffffffffffeffffff
`;

test("a qemu binfmt_misc entry for i386 matches the i386 exit ELF and not the x86-64 one; a disabled one matches nothing", (t) => {
  const entry = parseBinfmtEntry("qemu-i386", qemuI386Entry);
  t.like(entry, { name: "qemu-i386", enabled: true, interpreter: "/usr/libexec/qemu-binfmt/i386-binfmt-P" });
  t.true(binfmtEntryMatches(entry, "/tmp/x/exit-386", staticExitElf("386", 1)));
  t.false(binfmtEntryMatches(entry, "/tmp/x/exit-amd64", staticExitElf("amd64", 1)));
  const disabled = parseBinfmtEntry("qemu-i386", qemuI386Entry.replace(/^enabled/, "disabled"));
  t.false(binfmtEntryMatches(disabled, "/tmp/x/exit-386", staticExitElf("386", 1)));
});

test("an extension entry matches by the file's name only", (t) => {
  const entry = parseBinfmtEntry("wine", "enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n");
  t.is(entry.extension, "exe");
  t.true(binfmtEntryMatches(entry, "/tmp/x/setup.exe", Buffer.from("MZ")));
  t.false(binfmtEntryMatches(entry, "/tmp/x/exit-386", staticExitElf("386", 1)));
});

test("VFORKCHECK_HOST_EXEC names the candidates taken as native; the others are not, and each reason names the variable", (t) => {
  t.deepEqual(
    nativeCandidates.map((candidate) => candidate.name),
    architectures.filter((architecture) => architecture.x86_64KernelMayExecute).map((architecture) => architecture.name),
  );
  const amd64Only = hostExecutionFromOverride("amd64");
  t.true(runsNatively(amd64Only, "amd64"));
  t.false(runsNatively(amd64Only, "386"));
  t.false(runsNatively(amd64Only, "arm64"), "no candidate, never native");
  for (const entry of amd64Only) t.regex(entry.reason, /VFORKCHECK_HOST_EXEC=amd64 overrides the measurement/);
  t.true(runsNatively(hostExecutionFromOverride("386,amd64"), "386"));
});

test("a VFORKCHECK_HOST_EXEC naming no candidate is a one-line usage error", (t) => {
  const unknown = t.throws(() => hostExecutionFromOverride("amd64,sparc"), { instanceOf: UsageError });
  t.is(unknown?.message, "VFORKCHECK_HOST_EXEC: unknown architecture 'sparc' (candidates: amd64,386)");
  const foreign = t.throws(() => hostExecutionFromOverride("arm64"), { instanceOf: UsageError });
  t.is(foreign?.message, "VFORKCHECK_HOST_EXEC: 'arm64' is no architecture an x86-64 kernel executes natively (candidates: amd64,386)");
});
