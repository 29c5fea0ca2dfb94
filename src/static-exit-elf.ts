/**
 * The smallest static ELF executable that does nothing but exit with a
 * chosen code, for the x86 architectures: what the harness runs to measure
 * whether this machine's kernel executes an architecture natively, with no
 * compiler and none of the code under test. One PT_LOAD segment maps the
 * whole file; the entry point is the code right after the program header.
 * Pure: a code in, bytes out.
 */
import type { ArchitectureName } from "./architectures.ts";
import { elfIdentities } from "./elf-header.ts";

/** The architectures this builder has machine code for. */
export type ExitElfArchitecture = "amd64" | "386";
export const exitElfArchitectures: readonly ExitElfArchitecture[] = ["amd64", "386"];

export function isExitElfArchitecture(name: ArchitectureName): name is ExitElfArchitecture {
  return (exitElfArchitectures as readonly string[]).includes(name);
}

const u32le = (value: number) => [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];

/**
 * The code: exit(exitCode) by the architecture's own system call.
 *   amd64: mov edi, code; mov eax, 60 (exit); syscall
 *   386:   mov ebx, code; mov eax, 1 (exit); int 0x80
 */
function exitCodeBytes(architecture: ExitElfArchitecture, exitCode: number): number[] {
  if (architecture === "amd64") return [0xbf, ...u32le(exitCode), 0xb8, ...u32le(60), 0x0f, 0x05];
  return [0xbb, ...u32le(exitCode), 0xb8, ...u32le(1), 0xcd, 0x80];
}

/** Where the file is mapped: each ABI's customary base for a static executable (above mmap_min_addr). */
const loadAddress: Record<ExitElfArchitecture, number> = { amd64: 0x400000, "386": 0x8048000 };

/** A static ELF executable for `architecture` that exits with `exitCode` (0-255) at once. */
export function staticExitElf(architecture: ExitElfArchitecture, exitCode: number): Buffer {
  if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) throw new RangeError(`exit code ${exitCode}: must be an integer from 0 to 255`);
  const { machine, bits } = elfIdentities[architecture];
  const code = exitCodeBytes(architecture, exitCode);
  const headerSize = bits === 64 ? 64 : 52;
  const programHeaderSize = bits === 64 ? 56 : 32;
  const codeOffset = headerSize + programHeaderSize;
  const size = codeOffset + code.length;
  const base = loadAddress[architecture];
  const file = Buffer.alloc(size);
  // e_ident: magic, class, little endian, version 1, System V ABI.
  file.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, 1, 1, 0], 0);
  file.writeUInt16LE(2, 16); // e_type: ET_EXEC
  file.writeUInt16LE(machine, 18);
  file.writeUInt32LE(1, 20); // e_version
  const ptLoad = 1;
  const readExecute = 5; // PF_R | PF_X
  if (bits === 64) {
    file.writeBigUInt64LE(BigInt(base + codeOffset), 24); // e_entry
    file.writeBigUInt64LE(BigInt(headerSize), 32); // e_phoff
    file.writeUInt16LE(headerSize, 52); // e_ehsize
    file.writeUInt16LE(programHeaderSize, 54);
    file.writeUInt16LE(1, 56); // e_phnum
    file.writeUInt16LE(64, 58); // e_shentsize (no section headers)
    const at = headerSize;
    file.writeUInt32LE(ptLoad, at);
    file.writeUInt32LE(readExecute, at + 4);
    file.writeBigUInt64LE(0n, at + 8); // p_offset
    file.writeBigUInt64LE(BigInt(base), at + 16); // p_vaddr
    file.writeBigUInt64LE(BigInt(base), at + 24); // p_paddr
    file.writeBigUInt64LE(BigInt(size), at + 32); // p_filesz
    file.writeBigUInt64LE(BigInt(size), at + 40); // p_memsz
    file.writeBigUInt64LE(0x1000n, at + 48); // p_align
  } else {
    file.writeUInt32LE(base + codeOffset, 24); // e_entry
    file.writeUInt32LE(headerSize, 28); // e_phoff
    file.writeUInt16LE(headerSize, 40); // e_ehsize
    file.writeUInt16LE(programHeaderSize, 42);
    file.writeUInt16LE(1, 44); // e_phnum
    file.writeUInt16LE(40, 46); // e_shentsize (no section headers)
    const at = headerSize;
    file.writeUInt32LE(ptLoad, at);
    file.writeUInt32LE(0, at + 4); // p_offset
    file.writeUInt32LE(base, at + 8); // p_vaddr
    file.writeUInt32LE(base, at + 12); // p_paddr
    file.writeUInt32LE(size, at + 16); // p_filesz
    file.writeUInt32LE(size, at + 20); // p_memsz
    file.writeUInt32LE(readExecute, at + 24);
    file.writeUInt32LE(0x1000, at + 28); // p_align
  }
  file.set(code, codeOffset);
  return file;
}
