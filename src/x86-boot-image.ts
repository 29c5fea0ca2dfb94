/**
 * What QEMU's PVH boot needs from an x86 bzImage: where its compressed
 * vmlinux is, and whether that vmlinux has a PVH entry. QEMU enters an ELF
 * kernel with Xen's PHYS32_ENTRY note directly, so the guest does not
 * decompress itself under TCG (docs/tiers.md). Pure: bytes in, an answer
 * out; set-up (harness/toolchain/kernels.ts) decompresses.
 */
import { readProgramHeaders } from "./elf-header.ts";

/** The compressed payload of a bzImage (the xz stream, without the size after it), or why there is none. */
export type BzImagePayload = { start: number; length: number; compression: "xz"; decompressedSize: number } | { error: string };

const xzMagic = "fd377a585a00";

/**
 * The boot protocol (Documentation/arch/x86/boot.rst): "HdrS" at 0x202, the
 * setup sectors at 0x1f1 (0 meaning 4), and the payload's offset and length
 * at 0x248 and 0x24c, counted from the protected-mode code that follows the
 * setup sectors. The payload ends with the decompressed size (4 bytes, LE),
 * which the kernel's own decompressor reads. Only xz is recognised: the
 * compression Debian's kernels use.
 */
export function bzImagePayload(image: Uint8Array): BzImagePayload {
  const bytes = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  if (bytes.length < 0x250 || bytes.toString("latin1", 0x202, 0x206) !== "HdrS") return { error: "no bzImage header" };
  const start = ((bytes[0x1f1] || 4) + 1) * 512 + bytes.readUInt32LE(0x248);
  const length = bytes.readUInt32LE(0x24c);
  if (length < 10) return { error: "the payload is empty" };
  if (start + length > bytes.length) return { error: "the payload runs past the end of the file" };
  if (bytes.toString("hex", start, start + 6) !== xzMagic) return { error: "the payload is not xz-compressed, the only compression handled" };
  return { start, length: length - 4, compression: "xz", decompressedSize: bytes.readUInt32LE(start + length - 4) };
}

const ptNote = 4;
const xenElfNotePhys32Entry = 18;

/** Whether a little-endian ELF has a "Xen" note of type XEN_ELFNOTE_PHYS32_ENTRY in a PT_NOTE segment. */
export function hasPvhEntryNote(elf: Uint8Array): boolean {
  const bytes = Buffer.from(elf.buffer, elf.byteOffset, elf.byteLength);
  const parsed = readProgramHeaders(bytes);
  if (typeof parsed === "string" || parsed.header.bigEndian) return false;
  for (const segment of parsed.programHeaders.filter((programHeader) => programHeader.type === ptNote)) {
    const end = Math.min(bytes.length, segment.offset + segment.fileSize);
    for (let at = segment.offset; at + 12 <= end;) {
      const nameSize = bytes.readUInt32LE(at);
      const descriptionSize = bytes.readUInt32LE(at + 4);
      const name = bytes.toString("latin1", at + 12, Math.min(end, at + 12 + nameSize)).replace(/\0+$/, "");
      if (name === "Xen" && bytes.readUInt32LE(at + 8) === xenElfNotePhys32Entry) return true;
      at += 12 + Math.ceil(nameSize / 4) * 4 + Math.ceil(descriptionSize / 4) * 4;
    }
  }
  return false;
}
