/**
 * Instruction-set extensions an emulator may lack, each with the smallest
 * program that uses it: `_start` runs one instruction of the extension, then
 * exits 0. Under an emulator without the extension it dies with SIGILL, so
 * running it measures what the emulated CPU executes (harness/targets/startup-check.ts).
 */
import type { ArchitectureName } from "./architectures.ts";

export interface IsaExtensionProbe {
  architecture: ArchitectureName;
  extension: string;
  /** The instruction, as the report names it. */
  instruction: string;
  /** Assembly for `_start`: the instruction, then exit(0). */
  assembly: string;
  /** clang flags that let the assembler accept the instruction. */
  flags: string[];
}

export const isaExtensionProbes: readonly IsaExtensionProbe[] = [
  // Debian's loong64 musl and glibc use LSX (musl's memset: vreplgr2vr); qemu-loongarch64 7.2 has no LSX.
  {
    architecture: "loong64",
    extension: "LSX",
    instruction: "vreplgr2vr.b",
    assembly: ".globl _start\n_start:\n  vreplgr2vr.b $vr0, $zero\n  li.w $a7, 93\n  li.w $a0, 0\n  syscall 0\n",
    flags: ["-mlsx"],
  },
];

export function isaExtensionProbesFor(architecture: ArchitectureName): IsaExtensionProbe[] {
  return isaExtensionProbes.filter((probe) => probe.architecture === architecture);
}
