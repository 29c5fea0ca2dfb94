/**
 * binfmt_misc entries (/proc/sys/fs/binfmt_misc/<name>) read and matched
 * against a file, as the kernel matches them. The kernel asks binfmt_misc
 * before its own ELF loader, so an enabled entry that matches an i386 ELF
 * (qemu-user-binfmt registers such entries) runs every i386 binary under
 * its interpreter: a success of such a binary is then no evidence that the
 * kernel executes it natively. Pure: the harness reads the files.
 */

export interface BinfmtEntry {
  name: string;
  enabled: boolean;
  interpreter: string;
  /** A magic entry: these bytes at `offset`, compared under `mask`. */
  magic?: { offset: number; bytes: Buffer; mask: Buffer };
  /** An extension entry: the file name's extension, without the dot. */
  extension?: string;
}

/** One entry's file as the kernel prints it ("enabled", "interpreter ...", "offset N", "magic HEX", "mask HEX" or "extension .EXT"). */
export function parseBinfmtEntry(name: string, text: string): BinfmtEntry {
  const lines = text.split("\n").map((line) => line.trim());
  const value = (key: string) => lines.find((line) => line.startsWith(`${key} `))?.slice(key.length + 1).trim();
  const entry: BinfmtEntry = { name, enabled: lines[0] === "enabled", interpreter: value("interpreter") ?? "(unknown)" };
  const magic = value("magic");
  if (magic !== undefined) {
    const bytes = Buffer.from(magic, "hex");
    const mask = value("mask");
    entry.magic = { offset: Number(value("offset") ?? 0), bytes, mask: mask === undefined ? Buffer.alloc(bytes.length, 0xff) : Buffer.from(mask, "hex") };
  }
  const extension = value("extension");
  if (extension !== undefined) entry.extension = extension.replace(/^\./, "");
  return entry;
}

/** Whether the kernel would hand this file (its name and first bytes) to the entry's interpreter. */
export function binfmtEntryMatches(entry: BinfmtEntry, fileName: string, head: Buffer): boolean {
  if (!entry.enabled) return false;
  if (entry.extension !== undefined) return fileName.endsWith(`.${entry.extension}`);
  if (!entry.magic) return false;
  const { offset, bytes, mask } = entry.magic;
  if (offset + bytes.length > head.length) return false;
  return bytes.every((byte, at) => ((head[offset + at]! ^ byte) & (mask[at] ?? 0xff)) === 0);
}
