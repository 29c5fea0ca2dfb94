/**
 * What an ELF file's header says of the machine it runs on, and whether it
 * is statically linked: enough to refuse a driver built for another
 * architecture, or one that needs a dynamic loader (absent from the VM's
 * initramfs and, for a foreign architecture, from qemu-user's view of this
 * machine), before a run starts. Pure: bytes in, a verdict out.
 */
import type { ArchitectureName } from "./architectures.ts";

export interface ElfIdentity {
  /** e_machine (EM_*). */
  machine: number;
  bits: 32 | 64;
  bigEndian: boolean;
}

/** Each architecture's e_machine, class and byte order (the kernel's include/uapi/linux/elf-em.h). */
export const elfIdentities: Record<ArchitectureName, ElfIdentity> = {
  amd64: { machine: 62, bits: 64, bigEndian: false },
  "386": { machine: 3, bits: 32, bigEndian: false },
  arm64: { machine: 183, bits: 64, bigEndian: false },
  arm: { machine: 40, bits: 32, bigEndian: false },
  ppc64le: { machine: 21, bits: 64, bigEndian: false },
  s390x: { machine: 22, bits: 64, bigEndian: true },
  riscv64: { machine: 243, bits: 64, bigEndian: false },
  mips64le: { machine: 8, bits: 64, bigEndian: false },
  loong64: { machine: 258, bits: 64, bigEndian: false },
};

export interface ElfHeader extends ElfIdentity {
  /** e_type: 2 an executable, 3 a position-independent one (or a shared object). */
  type: number;
  /** A PT_INTERP program header: the kernel would start a dynamic loader first. */
  interpreter: boolean;
}

const ptInterp = 3;
const etExec = 2;
const etDyn = 3;

/** One program header: p_type, and where its bytes are in the file. */
export interface ProgramHeader {
  type: number;
  offset: number;
  fileSize: number;
}

/** PT_INTERP: the program's dynamic loader, as the path the kernel opens. */
const PT_INTERP = 3;

/** The path a dynamically linked program names as its loader (PT_INTERP); undefined for a static one or bytes that are no ELF file. */
export function interpreterOf(bytes: Buffer): string | undefined {
  const read = readProgramHeaders(bytes);
  if (typeof read === "string") return undefined;
  const interp = read.programHeaders.find((header) => header.type === PT_INTERP);
  if (interp === undefined || interp.offset + interp.fileSize > bytes.length) return undefined;
  return bytes.subarray(interp.offset, interp.offset + interp.fileSize).toString("latin1").replace(/\0+$/, "");
}

/** An ELF file's header and program headers, or a sentence saying why these bytes are not an ELF file. */
export function readProgramHeaders(bytes: Buffer): { header: ElfHeader; programHeaders: ProgramHeader[] } | string {
  if (bytes.length < 52 || bytes.readUInt32BE(0) !== 0x7f454c46) return "not an ELF file (no \\x7fELF magic)";
  const bits = bytes[4] === 1 ? 32 : bytes[4] === 2 ? 64 : undefined;
  const bigEndian = bytes[5] === 2 ? true : bytes[5] === 1 ? false : undefined;
  if (bits === undefined || bigEndian === undefined) return `not a valid ELF header (class ${bytes[4]}, data ${bytes[5]})`;
  if (bits === 64 && bytes.length < 64) return "a truncated ELF header";
  const u16 = (at: number) => (bigEndian ? bytes.readUInt16BE(at) : bytes.readUInt16LE(at));
  const u32 = (at: number) => (bigEndian ? bytes.readUInt32BE(at) : bytes.readUInt32LE(at));
  const offset = (at: number) => (bits === 64 ? Number(bigEndian ? bytes.readBigUInt64BE(at) : bytes.readBigUInt64LE(at)) : u32(at));
  const programTable = offset(bits === 64 ? 0x20 : 0x1c);
  const entrySize = u16(bits === 64 ? 0x36 : 0x2a);
  const entryCount = u16(bits === 64 ? 0x38 : 0x2c);
  if (entryCount > 0 && (entrySize < 4 || programTable + entrySize * entryCount > bytes.length)) return "a truncated ELF file (its program headers lie past its end)";
  // p_offset and p_filesz: 64-bit at +8 and +32, 32-bit at +4 and +16; an entry too short for them has none.
  const whole = entrySize >= (bits === 64 ? 40 : 20);
  const programHeaders = Array.from({ length: entryCount }, (_, index) => {
    const at = programTable + index * entrySize;
    if (!whole) return { type: u32(at), offset: 0, fileSize: 0 };
    return bits === 64 ? { type: u32(at), offset: offset(at + 8), fileSize: offset(at + 32) } : { type: u32(at), offset: u32(at + 4), fileSize: u32(at + 16) };
  });
  const interpreter = programHeaders.some((programHeader) => programHeader.type === ptInterp);
  return { header: { machine: u16(18), bits, bigEndian, type: u16(16), interpreter }, programHeaders };
}

/** The header of an ELF file, or a sentence saying why these bytes are not one. Only the first bytes up to the program headers' end are needed. */
export function readElfHeader(bytes: Buffer): ElfHeader | string {
  const parsed = readProgramHeaders(bytes);
  return typeof parsed === "string" ? parsed : parsed.header;
}

function describeIdentity(identity: ElfIdentity): string {
  const named = (Object.entries(elfIdentities) as [ArchitectureName, ElfIdentity][]).find(
    ([, known]) => known.machine === identity.machine && known.bits === identity.bits && known.bigEndian === identity.bigEndian,
  );
  return named ? named[0] : `e_machine ${identity.machine}, ${identity.bits}-bit, ${identity.bigEndian ? "big" : "little"}-endian`;
}

/** Why this header cannot be a driver for the architecture (undefined: it can): another machine, class or byte order, not an executable, or dynamically linked. */
export function whyNotDriverFor(header: ElfHeader, architecture: ArchitectureName): string | undefined {
  const want = elfIdentities[architecture];
  if (header.machine !== want.machine || header.bits !== want.bits || header.bigEndian !== want.bigEndian)
    return `an ELF for ${describeIdentity(header)}, not ${architecture} (e_machine ${want.machine}, ${want.bits}-bit, ${want.bigEndian ? "big" : "little"}-endian)`;
  if (header.type !== etExec && header.type !== etDyn) return `not an executable (e_type ${header.type})`;
  if (header.interpreter) return "dynamically linked (it has a PT_INTERP program header): a driver must be static to run under qemu-user and in the VM's initramfs";
  return undefined;
}
