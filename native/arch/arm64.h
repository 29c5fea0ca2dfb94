/* arm64 (aarch64): syscall numbers from the asm-generic table.
 * Syscall: svc #0, number in x8, arguments in x0-x5, result in x0; the
 * kernel changes only x0. clone(flags, newsp, ...), the rest 0.
 * AAPCS64: x19-x29 callee-saved, x30 is the link register. */
#define ARCH_NAME "arm64"
#include "generic-syscalls.h"
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0xc00000b7U /* AUDIT_ARCH_AARCH64: EM_AARCH64 | 64-bit | little endian */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("ldr x9, [%0]\n str x9, [%1]" : : "r"(from), "r"(to) : "x9", "memory")

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,%function\n"
    "raw_syscall6:\n"
    "  mov x8, x0\n"
    "  mov x0, x1\n"
    "  mov x1, x2\n"
    "  mov x2, x3\n"
    "  mov x3, x4\n"
    "  mov x4, x5\n"
    "  mov x5, x6\n"
    "  svc #0\n"
    "  ret\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,%function\n"
    "raw_clone_vfork:\n"
#ifdef MUTANT_RA_ON_STACK
    "  str x30, [sp, #-16]!\n"
#endif
    "  mov x1, xzr\n"
    "  mov x2, xzr\n"
    "  mov x3, xzr\n"
    "  mov x4, xzr\n"
    "  mov x8, #220\n"
    /* x30 keeps the return address: this leaf never stores it, svc leaves
     * x30 alone (the kernel restores it), and each task has its own copy. */
    "  svc #0\n"
#ifdef MUTANT_RA_ON_STACK
    "  ldr x30, [sp], #16\n"
#endif
    "  ret\n"

    /* raw_clone_on_stack(flags x0, stack_top x1, child_tid x2, entry x3,
     * argument x4): clone(flags, newsp, ptid 0, tls 0, ctid), the
     * CLONE_BACKWARDS order. The kernel gives the child every register but
     * x0 as it was, so entry and argument wait in x9 and x10; the child
     * calls entry(argument), then exit(0) for its task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,%function\n"
    "raw_clone_on_stack:\n"
    "  and x1, x1, #-16\n"
    "  mov x9, x3\n"
    "  mov x10, x4\n"
    "  mov x4, x2\n"
    "  mov x2, xzr\n"
    "  mov x3, xzr\n"
    "  mov x8, #220\n"
    "  svc #0\n"
    "  cbnz x0, 1f\n"
    "  mov x0, x10\n"
    "  mov x29, xzr\n"
    "  mov x30, xzr\n"
    "  blr x9\n"
    "  mov x0, xzr\n"
    "  mov x8, #93\n"
    "  svc #0\n"
    "  brk #0\n"
    "1:\n"
    "  ret\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,%function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args x0, size x1). x30 keeps the return address: this leaf
     * never stores it, svc leaves it alone, each task has its own copy. */
    "  mov x8, #435\n"
    "  svc #0\n"
    "  ret\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,%function\n"
    "call_with_register_canaries:\n"
    /* x19-x29 (x29 is the frame pointer) are callee-saved; x18 is a
     * temporary on Linux and not checked. 96 bytes keep sp 16-aligned. */
    "  stp x29, x30, [sp, #-96]!\n"
    "  stp x19, x20, [sp, #16]\n"
    "  stp x21, x22, [sp, #32]\n"
    "  stp x23, x24, [sp, #48]\n"
    "  stp x25, x26, [sp, #64]\n"
    "  stp x27, x28, [sp, #80]\n"
    "  mov x9, x0\n"
    "  mov x0, x1\n"
    "  mov x10, x2\n"
    "  ldr x11, =0x63616e6172790000\n"
    "  add x19, x11, #1\n  add x20, x11, #2\n  add x21, x11, #3\n  add x22, x11, #4\n"
    "  add x23, x11, #5\n  add x24, x11, #6\n  add x25, x11, #7\n  add x26, x11, #8\n"
    "  add x27, x11, #9\n  add x28, x11, #10\n  add x29, x11, #11\n"
    "  str x10, [sp, #-16]!\n" /* damaged, below the frame; sp stays aligned */
    "  blr x9\n"
    "  ldr x10, [sp], #16\n"
    "  ldr x11, =0x63616e6172790000\n"
    "  mov x12, xzr\n"
    ".irp reg,19,20,21,22,23,24,25,26,27,28,29\n"
    "  add x13, x11, #(\\reg - 18)\n"
    "  cmp x\\reg, x13\n"
    "  mov x14, #(1 << (\\reg - 19))\n"
    "  orr x14, x12, x14\n"
    "  csel x12, x12, x14, eq\n"
    ".endr\n"
    "  str x12, [x10]\n"
    "  ldp x19, x20, [sp, #16]\n"
    "  ldp x21, x22, [sp, #32]\n"
    "  ldp x23, x24, [sp, #48]\n"
    "  ldp x25, x26, [sp, #64]\n"
    "  ldp x27, x28, [sp, #80]\n"
    "  ldp x29, x30, [sp], #96\n"
    "  ret\n"
    ".ltorg\n"

    ".globl _start\n"
    ".type _start,%function\n"
    "_start:\n"
    "  mov x29, xzr\n"
    "  mov x30, xzr\n"
    "  mov x0, sp\n"
    "  and sp, x0, #-16\n"
    "  bl vfc_entry\n"
    "  brk #0\n");
#endif
