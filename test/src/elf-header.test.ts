// The ELF header reader behind --impl-binary's check, over headers made
// here for each class and byte order, and the fenced-block extraction the
// skeleton's build takes from docs/protocol.md.
import test from "ava";
import { elfIdentities, readElfHeader, whyNotDriverFor, type ElfHeader } from "../../src/elf-header.ts";
import { fencedBlockAfter } from "../../src/markdown-block.ts";
import type { ArchitectureName } from "../../src/architectures.ts";

const ptLoad = 1;
const ptInterp = 3;

/** An ELF header of this identity with program headers of these types right after it. */
function elf(identity: { machine: number; bits: 32 | 64; bigEndian: boolean }, programTypes: number[], type = 2): Buffer {
  const wide = identity.bits === 64;
  const headerSize = wide ? 64 : 52;
  const entrySize = wide ? 56 : 32;
  const bytes = Buffer.alloc(headerSize + entrySize * programTypes.length);
  bytes.writeUInt32BE(0x7f454c46, 0);
  bytes[4] = wide ? 2 : 1;
  bytes[5] = identity.bigEndian ? 2 : 1;
  bytes[6] = 1;
  const u16 = (value: number, at: number) => (identity.bigEndian ? bytes.writeUInt16BE(value, at) : bytes.writeUInt16LE(value, at));
  const u32 = (value: number, at: number) => (identity.bigEndian ? bytes.writeUInt32BE(value, at) : bytes.writeUInt32LE(value, at));
  u16(type, 16);
  u16(identity.machine, 18);
  if (wide) (identity.bigEndian ? bytes.writeBigUInt64BE(64n, 0x20) : bytes.writeBigUInt64LE(64n, 0x20));
  else u32(52, 0x1c);
  u16(entrySize, wide ? 0x36 : 0x2a);
  u16(programTypes.length, wide ? 0x38 : 0x2c);
  programTypes.forEach((programType, index) => u32(programType, headerSize + index * entrySize));
  return bytes;
}

function header(bytes: Buffer): ElfHeader {
  const read = readElfHeader(bytes);
  if (typeof read === "string") throw new Error(read);
  return read;
}

for (const [name, identity] of Object.entries(elfIdentities) as [ArchitectureName, (typeof elfIdentities)[ArchitectureName]][]) {
  test(`a static ${name} header is a ${name} driver and no other architecture's`, (t) => {
    const read = header(elf(identity, [ptLoad, ptLoad]));
    t.deepEqual(read, { ...identity, type: 2, interpreter: false });
    t.is(whyNotDriverFor(read, name), undefined);
    for (const other of Object.keys(elfIdentities) as ArchitectureName[])
      if (other !== name) t.regex(whyNotDriverFor(read, other) ?? "", new RegExp(`^an ELF for ${name}, not ${other} `));
  });
}

test("a PT_INTERP among the program headers is a dynamic link, on a 32-bit and a big-endian header too", (t) => {
  for (const name of ["386", "s390x", "arm64"] as const) t.regex(whyNotDriverFor(header(elf(elfIdentities[name], [ptLoad, ptInterp, ptLoad])), name) ?? "", /^dynamically linked/);
});

test("the same machine in the other class or byte order is refused, naming it", (t) => {
  t.is(whyNotDriverFor(header(elf({ machine: 62, bits: 32, bigEndian: false }, [])), "amd64"), "an ELF for e_machine 62, 32-bit, little-endian, not amd64 (e_machine 62, 64-bit, little-endian)");
  t.regex(whyNotDriverFor(header(elf({ machine: 22, bits: 64, bigEndian: false }, [])), "s390x") ?? "", /^an ELF for e_machine 22, 64-bit, little-endian, not s390x/);
});

test("a relocatable object is not an executable; a position-independent executable is", (t) => {
  t.is(whyNotDriverFor(header(elf(elfIdentities.arm64, [], 1)), "arm64"), "not an executable (e_type 1)");
  t.is(whyNotDriverFor(header(elf(elfIdentities.arm64, [ptLoad], 3)), "arm64"), undefined);
});

test("what is not an ELF header says so", (t) => {
  t.is(readElfHeader(Buffer.from("#!/bin/sh\necho hello, this is a script of some length\n")), "not an ELF file (no \\x7fELF magic)");
  t.is(readElfHeader(Buffer.alloc(10)), "not an ELF file (no \\x7fELF magic)");
  const truncated = elf(elfIdentities.amd64, [ptLoad, ptInterp]).subarray(0, 100);
  t.is(readElfHeader(truncated), "a truncated ELF file (its program headers lie past its end)");
  const badClass = elf(elfIdentities.amd64, []);
  badClass[4] = 7;
  t.is(readElfHeader(badClass), "not a valid ELF header (class 7, data 1)");
});

test("fencedBlockAfter takes the first block of the language under the heading, and not one past the section", (t) => {
  const markdown = "# Doc\n\n## One\n\n```\nshell\n```\n\n```c\nint one;\n```\n\n## Two\n\n```c\nint two;\n```\n";
  t.is(fencedBlockAfter(markdown, "## One", "c"), "int one;\n");
  t.is(fencedBlockAfter(markdown, "## Two", "c"), "int two;\n");
  t.throws(() => fencedBlockAfter(markdown, "## Three", "c"), { message: "no heading '## Three'" });
  t.throws(() => fencedBlockAfter("## One\n\ntext\n\n## Two\n\n```c\nint two;\n```\n", "## One", "c"), { message: "no ```c block under '## One'" });
  t.throws(() => fencedBlockAfter("## One\n\n```c\nint one;\n", "## One", "c"), { message: "the ```c block under '## One' is not closed" });
});
