/* loong64 (LoongArch64, LP64D): syscall numbers from the asm-generic table.
 * Syscall: syscall 0, number in a7, arguments in a0-a5, result in a0; the
 * kernel may also change t0-t8 (glibc's clobber list) but keeps ra, a1-a7
 * and s0-s8/fp. clone(flags, newsp, ...), the rest 0. ABI: fp ($r22) and
 * s0-s8 ($r23-$r31) callee-saved, $r21 reserved, tp/sp not touched,
 * 16-byte stack. */
#define ARCH_NAME "loong64"
#include "generic-syscalls.h"
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0xc0000102U /* AUDIT_ARCH_LOONGARCH64: EM_LOONGARCH | 64-bit | little endian */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("ld.d $t0, %0, 0\n st.d $t0, %1, 0" : : "r"(from), "r"(to) : "$t0", "memory")

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,@function\n"
    "raw_syscall6:\n"
    "  move $a7, $a0\n"
    "  move $a0, $a1\n"
    "  move $a1, $a2\n"
    "  move $a2, $a3\n"
    "  move $a3, $a4\n"
    "  move $a4, $a5\n"
    "  move $a5, $a6\n"
    "  syscall 0\n"
    "  jr $ra\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,@function\n"
    "raw_clone_vfork:\n"
#ifdef MUTANT_RA_ON_STACK
    "  addi.d $sp, $sp, -16\n"
    "  st.d $ra, $sp, 8\n"
#endif
    "  move $a1, $zero\n"
    "  move $a2, $zero\n"
    "  move $a3, $zero\n"
    "  move $a4, $zero\n"
    "  ori $a7, $zero, 220\n"
    /* ra keeps the return address: this leaf never stores it, the syscall
     * leaves ra alone (the kernel restores it), each task has its own. */
    "  syscall 0\n"
#ifdef MUTANT_RA_ON_STACK
    "  ld.d $ra, $sp, 8\n"
    "  addi.d $sp, $sp, 16\n"
#endif
    "  jr $ra\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,@function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args a0, size a1). ra keeps the return address: this leaf
     * never stores it, the syscall leaves it alone, one copy per task. */
    "  ori $a7, $zero, 435\n"
    "  syscall 0\n"
    "  jr $ra\n"

    /* raw_clone_on_stack(flags a0, stack_top a1, child_tid a2, entry a3,
     * argument a4): clone(flags, newsp, ptid 0, ctid a3, tls 0), the
     * default order (loongarch does not select CLONE_BACKWARDS). The kernel may change t0-t8 but keeps s0-s8
     * (and gives the child the parent's), so entry and argument wait in s0
     * and s1, the parent's values saved in a frame of its own. The child
     * calls entry(argument), then exit(0) for its task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,@function\n"
    "raw_clone_on_stack:\n"
    "  addi.d $sp, $sp, -16\n"
    "  st.d $s0, $sp, 0\n"
    "  st.d $s1, $sp, 8\n"
    "  move $s0, $a3\n"
    "  move $s1, $a4\n"
    "  move $a3, $a2\n"
    "  move $a2, $zero\n"
    "  move $a4, $zero\n"
    "  bstrins.d $a1, $zero, 3, 0\n"
    "  ori $a7, $zero, 220\n"
    "  syscall 0\n"
    "  bnez $a0, 1f\n"
    "  move $a0, $s1\n"
    "  move $fp, $zero\n"
    "  move $ra, $zero\n"
    "  jirl $ra, $s0, 0\n"
    "  move $a0, $zero\n"
    "  ori $a7, $zero, 93\n"
    "  syscall 0\n"
    "  break 0\n"
    "1:\n"
    "  ld.d $s0, $sp, 0\n"
    "  ld.d $s1, $sp, 8\n"
    "  addi.d $sp, $sp, 16\n"
    "  jr $ra\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,@function\n"
    "call_with_register_canaries:\n"
    /* $r22-$r31 (fp, s0-s8) are callee-saved. Frame: ra, damaged, then
     * $r22-$r31: 96 bytes, 16-aligned. */
    "  addi.d $sp, $sp, -96\n"
    "  st.d $ra, $sp, 0\n"
    "  st.d $a2, $sp, 8\n"
    ".irp reg,22,23,24,25,26,27,28,29,30,31\n"
    "  st.d $r\\reg, $sp, (16 + 8 * (\\reg - 22))\n"
    ".endr\n"
    "  move $t0, $a0\n"
    "  move $a0, $a1\n"
    "  li.d $t1, 0x63616e6172790000\n"
    ".irp reg,22,23,24,25,26,27,28,29,30,31\n"
    "  addi.d $r\\reg, $t1, (\\reg - 21)\n"
    ".endr\n"
    "  jirl $ra, $t0, 0\n"
    "  li.d $t1, 0x63616e6172790000\n"
    "  move $t2, $zero\n"
    ".irp reg,22,23,24,25,26,27,28,29,30,31\n"
    "  addi.d $t3, $t1, (\\reg - 21)\n"
    "  beq $r\\reg, $t3, 1f\n"
    "  ori $t2, $t2, (1 << (\\reg - 22))\n"
    "1:\n"
    ".endr\n"
    "  ld.d $t0, $sp, 8\n"
    "  st.d $t2, $t0, 0\n"
    "  ld.d $ra, $sp, 0\n"
    ".irp reg,22,23,24,25,26,27,28,29,30,31\n"
    "  ld.d $r\\reg, $sp, (16 + 8 * (\\reg - 22))\n"
    ".endr\n"
    "  addi.d $sp, $sp, 96\n"
    "  jr $ra\n"

    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "  move $a0, $sp\n"
    "  bstrins.d $sp, $zero, 3, 0\n"
    "  move $ra, $zero\n"
    "  move $fp, $zero\n"
    "  bl vfc_entry\n"
    "  break 0\n");
#endif
