// The IRELATIVE check (src/elf-irelative.ts) on small synthetic ELF files:
// an addend that is a function's start passes, one 4 bytes into a resolver
// (what ld.lld-19 writes for glibc 2.41 on loong64) is reported with where it
// points, other relocation types are not counted, and a machine without a
// RELA IRELATIVE type is not judged.
import test from "ava";
import { checkIrelativeAddends, describeMisplacedIrelatives } from "../../src/elf-irelative.ts";

const loongarch = 258;
const irelative = 12;

/** ELF64 little-endian: a symtab with function `resolver` at 0x1000 (size 0x40), a strtab, and one RELA section of (type, addend). */
function elf(machine: number, relocations: readonly [number, number][]): Buffer {
  const strtab = Buffer.from("\0resolver\0");
  const symtab = Buffer.alloc(48);
  symtab.writeUInt32LE(1, 24);
  symtab[28] = 0x02; // STB_LOCAL, STT_FUNC
  symtab.writeBigUInt64LE(0x1000n, 32);
  symtab.writeBigUInt64LE(0x40n, 40);
  const rela = Buffer.alloc(24 * relocations.length);
  relocations.forEach(([type, addend], index) => {
    rela.writeBigUInt64LE(0x3000n + BigInt(8 * index), 24 * index);
    rela.writeBigUInt64LE(BigInt(type), 24 * index + 8);
    rela.writeBigInt64LE(BigInt(addend), 24 * index + 16);
  });
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2;
  header[5] = 1;
  header.writeUInt16LE(machine, 18);
  const bodies = [symtab, strtab, rela];
  const offsets = [64, 64 + symtab.length, 64 + symtab.length + strtab.length];
  const sectionTable = offsets[2]! + rela.length;
  header.writeBigUInt64LE(BigInt(sectionTable), 0x28);
  header.writeUInt16LE(64, 0x3a);
  header.writeUInt16LE(4, 0x3c);
  const sections = Buffer.alloc(64 * 4);
  const section = (index: number, type: number, body: number, link: number, entrySize: number) => {
    const at = 64 * index;
    sections.writeUInt32LE(type, at + 4);
    sections.writeBigUInt64LE(BigInt(offsets[body]!), at + 24);
    sections.writeBigUInt64LE(BigInt(bodies[body]!.length), at + 32);
    sections.writeUInt32LE(link, at + 40);
    sections.writeBigUInt64LE(BigInt(entrySize), at + 56);
  };
  section(1, 2, 0, 2, 24);
  section(2, 3, 1, 0, 0);
  section(3, 4, 2, 1, 24);
  return Buffer.concat([header, ...bodies, sections]);
}

test("addends at a function's start pass; other relocation types are not counted", (t) => {
  const check = checkIrelativeAddends(elf(loongarch, [[irelative, 0x1000], [3, 0x2004]]));
  t.deepEqual(check, { count: 1, misplaced: [] });
  t.is(describeMisplacedIrelatives(check), undefined);
});

test("an addend past a resolver's start is reported with the function it falls into", (t) => {
  const check = checkIrelativeAddends(elf(loongarch, [[irelative, 0x1000], [irelative, 0x1004], [irelative, 0x5000]]));
  t.is(check?.count, 3);
  t.is(describeMisplacedIrelatives(check), "2 of 3 IRELATIVE addends are no function's start (0x1004 is resolver+4)");
  t.deepEqual(check?.misplaced[1], { addend: 0x5000n });
});

test("a machine without a RELA IRELATIVE type, or not an ELF file, is not judged", (t) => {
  t.is(checkIrelativeAddends(elf(40, [[160, 0x1004]])), undefined);
  t.is(checkIrelativeAddends(Buffer.from("#!/bin/sh\n".padEnd(80))), undefined);
});
