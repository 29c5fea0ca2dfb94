/* riscv64: syscall numbers from the asm-generic table.
 * Syscall: ecall, number in a7, arguments in a0-a5, result in a0; the
 * kernel changes only a0. clone(flags, newsp, ...), the rest 0.
 * ABI: s0-s11 callee-saved (s0 is the frame pointer), ra link register,
 * gp/tp not touched here, 16-byte stack. */
#define ARCH_NAME "riscv64"
#include "generic-syscalls.h"
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0xc00000f3U /* AUDIT_ARCH_RISCV64: EM_RISCV | 64-bit | little endian */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("ld t0, 0(%0)\n sd t0, 0(%1)" : : "r"(from), "r"(to) : "t0", "memory")

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,@function\n"
    "raw_syscall6:\n"
    "  mv a7, a0\n"
    "  mv a0, a1\n"
    "  mv a1, a2\n"
    "  mv a2, a3\n"
    "  mv a3, a4\n"
    "  mv a4, a5\n"
    "  mv a5, a6\n"
    "  ecall\n"
    "  ret\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,@function\n"
    "raw_clone_vfork:\n"
#ifdef MUTANT_RA_ON_STACK
    "  addi sp, sp, -16\n"
    "  sd ra, 8(sp)\n"
#endif
    "  li a1, 0\n"
    "  li a2, 0\n"
    "  li a3, 0\n"
    "  li a4, 0\n"
    "  li a7, 220\n"
    /* ra keeps the return address: this leaf never stores it, ecall leaves
     * ra alone (the kernel restores it), and each task has its own copy. */
    "  ecall\n"
#ifdef MUTANT_RA_ON_STACK
    "  ld ra, 8(sp)\n"
    "  addi sp, sp, 16\n"
#endif
    "  ret\n"

    /* raw_clone_on_stack(flags a0, stack_top a1, child_tid a2, entry a3,
     * argument a4): clone(flags, newsp, ptid 0, tls 0, ctid), the
     * CLONE_BACKWARDS order. The kernel gives the child every register but
     * a0 as it was, so entry and argument wait in t0 and t1; the child
     * calls entry(argument), then exit(0) for its task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,@function\n"
    "raw_clone_on_stack:\n"
    "  andi a1, a1, -16\n"
    "  mv t0, a3\n"
    "  mv t1, a4\n"
    "  mv a4, a2\n"
    "  li a2, 0\n"
    "  li a3, 0\n"
    "  li a7, 220\n"
    "  ecall\n"
    "  bnez a0, 1f\n"
    "  mv a0, t1\n"
    "  li s0, 0\n"
    "  li ra, 0\n"
    "  jalr t0\n"
    "  li a0, 0\n"
    "  li a7, 93\n"
    "  ecall\n"
    "  unimp\n"
    "1:\n"
    "  ret\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,@function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args a0, size a1). ra keeps the return address: this leaf
     * never stores it, ecall leaves it alone, each task has its own copy. */
    "  li a7, 435\n"
    "  ecall\n"
    "  ret\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,@function\n"
    "call_with_register_canaries:\n"
    /* s0-s11 are callee-saved; gp and tp are never loaded with patterns.
     * Frame: ra, damaged, s0-s11: 112 bytes, 16-aligned. */
    "  addi sp, sp, -112\n"
    "  sd ra, 0(sp)\n"
    "  sd a2, 8(sp)\n"
    ".irp reg,0,1,2,3,4,5,6,7,8,9,10,11\n"
    "  sd s\\reg, (16 + 8 * \\reg)(sp)\n"
    ".endr\n"
    "  mv t0, a0\n"
    "  mv a0, a1\n"
    "  li t1, 0x63616e6172790000\n"
    ".irp reg,0,1,2,3,4,5,6,7,8,9,10,11\n"
    "  addi s\\reg, t1, (\\reg + 1)\n"
    ".endr\n"
    "  jalr t0\n"
    "  li t1, 0x63616e6172790000\n"
    "  li t2, 0\n"
    ".irp reg,0,1,2,3,4,5,6,7,8,9,10,11\n"
    "  addi t3, t1, (\\reg + 1)\n"
    "  beq s\\reg, t3, 1f\n"
    "  li t4, (1 << \\reg)\n"
    "  or t2, t2, t4\n"
    "1:\n"
    ".endr\n"
    "  ld t0, 8(sp)\n"
    "  sd t2, 0(t0)\n"
    "  ld ra, 0(sp)\n"
    ".irp reg,0,1,2,3,4,5,6,7,8,9,10,11\n"
    "  ld s\\reg, (16 + 8 * \\reg)(sp)\n"
    ".endr\n"
    "  addi sp, sp, 112\n"
    "  ret\n"

    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "  mv a0, sp\n"
    "  andi sp, sp, -16\n"
    "  li ra, 0\n"
    "  li s0, 0\n"
    "  call vfc_entry\n"
    "  unimp\n");
#endif
