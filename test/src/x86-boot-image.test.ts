/**
 * The bzImage payload and the PVH note, on images built here byte by byte:
 * what set-up extracts for amd64's PVH boot, and what it refuses.
 */
import test from "ava";
import { bzImagePayload, hasPvhEntryNote } from "../../src/x86-boot-image.ts";

const xz = Buffer.from("fd377a585a00", "hex");

/** A payload as the kernel's build appends it: the xz stream, then the decompressed size (LE). */
const payloadOf = (stream: Buffer, size: number) => Buffer.concat([stream, Buffer.from(Uint32Array.of(size).buffer)]);

function bzImage({ setupSectors = 2, header = "HdrS", payload = payloadOf(Buffer.concat([xz, Buffer.alloc(26, 7)]), 123456), offset = 16 } = {}): Buffer {
  const protectedMode = ((setupSectors || 4) + 1) * 512;
  const image = Buffer.alloc(protectedMode + offset + payload.length);
  image[0x1f1] = setupSectors;
  image.write(header, 0x202, "latin1");
  image.writeUInt32LE(offset, 0x248);
  image.writeUInt32LE(payload.length, 0x24c);
  payload.copy(image, protectedMode + offset);
  return image;
}

/** A 64-bit LE ELF with one PT_NOTE segment holding the given notes. */
function elfWithNotes(notes: { name: string; type: number; description: Buffer }[]): Buffer {
  const bodies = notes.map(({ name, type, description }) => {
    const nameBytes = Buffer.from(`${name}\0`, "latin1");
    const head = Buffer.alloc(12);
    head.writeUInt32LE(nameBytes.length, 0);
    head.writeUInt32LE(description.length, 4);
    head.writeUInt32LE(type, 8);
    const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
    return Buffer.concat([head, pad(nameBytes), pad(description)]);
  });
  const noteSegment = Buffer.concat(bodies);
  const elf = Buffer.alloc(0x40 + 56 + noteSegment.length);
  elf.write("\x7fELF", 0, "latin1");
  elf[4] = 2;
  elf[5] = 1;
  elf.writeBigUInt64LE(0x40n, 0x20); // e_phoff
  elf.writeUInt16LE(56, 0x36); // e_phentsize
  elf.writeUInt16LE(1, 0x38); // e_phnum
  elf.writeUInt32LE(4, 0x40); // PT_NOTE
  elf.writeBigUInt64LE(BigInt(0x40 + 56), 0x40 + 8); // p_offset
  elf.writeBigUInt64LE(BigInt(noteSegment.length), 0x40 + 32); // p_filesz
  noteSegment.copy(elf, 0x40 + 56);
  return elf;
}

test("a bzImage's xz payload is found after its setup sectors, 0 sectors meaning 4, with the size the kernel appends to it", (t) => {
  t.deepEqual(bzImagePayload(bzImage()), { start: 3 * 512 + 16, length: 32, compression: "xz", decompressedSize: 123456 });
  t.deepEqual(bzImagePayload(bzImage({ setupSectors: 0 })), { start: 5 * 512 + 16, length: 32, compression: "xz", decompressedSize: 123456 });
});

test("a file without the header, an empty payload, one past the end, or one not xz-compressed is refused, saying which", (t) => {
  t.deepEqual(bzImagePayload(bzImage({ header: "MZ\0\0" })), { error: "no bzImage header" });
  t.deepEqual(bzImagePayload(Buffer.alloc(100)), { error: "no bzImage header" });
  t.deepEqual(bzImagePayload(bzImage({ payload: Buffer.alloc(0) })), { error: "the payload is empty" });
  const cut = bzImage();
  t.deepEqual(bzImagePayload(cut.subarray(0, cut.length - 1)), { error: "the payload runs past the end of the file" });
  t.deepEqual(bzImagePayload(bzImage({ payload: payloadOf(Buffer.from("1f8b0800000000000000", "hex"), 10) })), { error: "the payload is not xz-compressed, the only compression handled" });
});

test("the PVH entry is Xen's note of type 18 in a PT_NOTE segment; other Xen notes, other owners and non-ELF files are not it", (t) => {
  const address = Buffer.from("00100001", "hex");
  t.true(hasPvhEntryNote(elfWithNotes([{ name: "GNU", type: 3, description: Buffer.alloc(20) }, { name: "Xen", type: 18, description: address }])));
  t.false(hasPvhEntryNote(elfWithNotes([{ name: "Xen", type: 6, description: Buffer.from("linux\0") }, { name: "Linux", type: 18, description: address }])));
  t.false(hasPvhEntryNote(elfWithNotes([])));
  t.false(hasPvhEntryNote(Buffer.from("not an elf file at all, just text...............................")));
});
