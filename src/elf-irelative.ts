/**
 * Reads an ELF executable's IRELATIVE relocations and checks that each
 * addend is the address of a function (its ifunc resolver): a static link
 * whose addends point elsewhere jumps into the middle of code at startup
 * (ld.lld-19 on LoongArch, docs/gating.md, "Startup check"). RELA sections only (the
 * 64-bit targets); a REL-only binary (arm, 386) has no addends to check here.
 */

/** R_*_IRELATIVE by e_machine, for the machines whose static links use RELA. */
const irelativeTypes: Record<number, number> = { 62: 37, 183: 1032, 21: 248, 22: 61, 243: 58, 258: 12 };
const sectionRela = 4;
const sectionSymtab = 2;
const symbolFunction = 2;
const symbolIfunc = 10;

export interface MisplacedIrelative {
  addend: bigint;
  /** The function symbol the addend falls into, and how far past its start. */
  inside?: { name: string; offset: bigint };
}

export interface IrelativeCheck {
  count: number;
  misplaced: MisplacedIrelative[];
}

export function checkIrelativeAddends(elf: Buffer): IrelativeCheck | undefined {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const wide = elf[4] === 2;
  const big = elf[5] === 2;
  const u16 = (at: number) => (big ? elf.readUInt16BE(at) : elf.readUInt16LE(at));
  const u32 = (at: number) => (big ? elf.readUInt32BE(at) : elf.readUInt32LE(at));
  const word = (at: number) => (wide ? (big ? elf.readBigUInt64BE(at) : elf.readBigUInt64LE(at)) : BigInt(u32(at)));
  const signedWord = (at: number) => (wide ? (big ? elf.readBigInt64BE(at) : elf.readBigInt64LE(at)) : BigInt(big ? elf.readInt32BE(at) : elf.readInt32LE(at)));
  const irelative = irelativeTypes[u16(18)];
  if (irelative === undefined) return undefined;
  const sectionTable = Number(word(wide ? 0x28 : 0x20));
  const sectionSize = u16(wide ? 0x3a : 0x2e);
  const sectionCount = u16(wide ? 0x3c : 0x30);
  const sections = Array.from({ length: sectionCount }, (_, index) => {
    const at = sectionTable + index * sectionSize;
    return wide
      ? { type: u32(at + 4), offset: Number(word(at + 24)), size: Number(word(at + 32)), link: u32(at + 40), entrySize: Number(word(at + 56)) }
      : { type: u32(at + 4), offset: u32(at + 16), size: u32(at + 20), link: u32(at + 24), entrySize: u32(at + 36) };
  });
  const functions: { name: string; value: bigint; size: bigint }[] = [];
  for (const symtab of sections.filter((section) => section.type === sectionSymtab)) {
    const strings = sections[symtab.link]!;
    for (let at = symtab.offset; at + symtab.entrySize <= symtab.offset + symtab.size; at += symtab.entrySize) {
      const info = elf[at + (wide ? 4 : 12)]! & 0xf;
      if (info !== symbolFunction && info !== symbolIfunc) continue;
      const nameAt = strings.offset + u32(at);
      const name = elf.toString("latin1", nameAt, elf.indexOf(0, nameAt));
      functions.push(wide ? { name, value: word(at + 8), size: word(at + 16) } : { name, value: BigInt(u32(at + 4)), size: BigInt(u32(at + 8)) });
    }
  }
  const starts = new Set(functions.map((symbol) => symbol.value));
  const check: IrelativeCheck = { count: 0, misplaced: [] };
  for (const rela of sections.filter((section) => section.type === sectionRela)) {
    for (let at = rela.offset; at + rela.entrySize <= rela.offset + rela.size; at += rela.entrySize) {
      const type = wide ? Number(word(at + 8) & 0xffffffffn) : u32(at + 4) & 0xff;
      if (type !== irelative) continue;
      check.count++;
      const addend = signedWord(at + (wide ? 16 : 8));
      if (starts.has(addend)) continue;
      const inside = functions.find((symbol) => symbol.value < addend && addend < symbol.value + symbol.size);
      check.misplaced.push({ addend, ...(inside ? { inside: { name: inside.name, offset: addend - inside.value } } : {}) });
    }
  }
  return check;
}

/** "13 of 14 IRELATIVE addends are no function's start (0x905f4 is strlen_ifunc+4)"; undefined when all are. */
export function describeMisplacedIrelatives(check: IrelativeCheck | undefined): string | undefined {
  if (check === undefined || check.misplaced.length === 0) return undefined;
  const first = check.misplaced[0]!;
  const where = first.inside ? ` (0x${first.addend.toString(16)} is ${first.inside.name}+${first.inside.offset})` : ` (0x${first.addend.toString(16)} is in no function)`;
  return `${check.misplaced.length} of ${check.count} IRELATIVE addends are no function's start${where}`;
}
