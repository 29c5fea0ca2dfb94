/* ppc64le (ELFv2): syscall numbers from arch/powerpc/kernel/syscalls/syscall.tbl.
 * Syscall: sc, number in r0, arguments in r3-r8, result in r3; on failure
 * cr0.SO is set and r3 holds a positive errno. sc may change r0, r3-r12,
 * ctr, xer and cr0; lr is preserved (Documentation/powerpc/syscall64-abi.rst).
 * clone is CLONE_BACKWARDS: clone(flags, newsp, ptid, tls, ctid).
 * ABI: r14-r31 callee-saved, r2 TOC, r13 thread pointer, 16-byte stack. */
#define ARCH_NAME "ppc64le"
#define NR_read 3
#define NR_write 4
#define NR_close 6
#define NR_lseek 19
#define NR__llseek 140 /* glibc's lseek64 here too: a marker from a driver that cannot make the raw lseek (CPython) */
#define NR_ftruncate 93 /* ftruncate64 (194) is the 32-bit ABI's only */
#define NR_mmap 90
#define NR_munmap 91
#define NR_madvise 205
#define NR_rt_sigaction 173
#define NR_rt_sigprocmask 174
#define NR_sigaltstack 185
#define NR_ioctl 54
#define NR_sched_yield 158
#define NR_getpid 20
#define NR_clone 120
#define NR_execve 11
#define NR_exit 1
#define NR_wait4 114
#define NR_kill 37
#define NR_fcntl 55
#define NR_getcwd 182
#define NR_chdir 12
#define NR_getuid 24
#define NR_getgid 47
#define NR_geteuid 49
#define NR_getegid 50
#define NR_setpgid 57
#define NR_getppid 64
#define NR_setsid 66
#define NR_getpgid 132
#define NR_getsid 147
#define NR_mount 21
#define NR_reboot 88
#define NR_getdents64 202
#define NR_clock_gettime 246
#define NR_clock_nanosleep 248
#define NR_exit_group 234
#define NR_openat 286
#define NR_readlinkat 296
#define NR_unshare 282
#define NR_dup3 316
#define NR_pipe2 317
#define NR_prlimit64 325
#define NR_kcmp 354
#define NR_clone3 435
#define NR_waitid 272
#define NR_pidfd_open 434
#define NR_futex 221
#define NR_ptrace 26
#define NR_seccomp 358
#define NR_finit_module 353 /* system-init.c: the virtio console's modules (benchmark only) */
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0xc0000015U /* AUDIT_ARCH_PPC64LE: EM_PPC64 | 64-bit | little endian */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("ld 9, 0(%0)\n std 9, 0(%1)" : : "b"(from), "b"(to) : "r9", "memory") /* "b": not r0, which reads as 0 in an address */
#define NR_setitimer 104
#define NR_fork 2
#define NR_vfork 189
/* The console ioctls and struct termios are ppc's own: c_cc (19) before
 * c_line, VMIN 5, VTIME 7; the request numbers encode the struct size (44). */
#define TCGETS 0x402c7413
#define TCSETS 0x802c7414
#define TERMIOS_VMIN_OFFSET (16 + 5)
#define TERMIOS_VTIME_OFFSET (16 + 7)

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,@function\n"
    "raw_syscall6:\n"
    "  mr 0, 3\n"
    "  mr 3, 4\n"
    "  mr 4, 5\n"
    "  mr 5, 6\n"
    "  mr 6, 7\n"
    "  mr 7, 8\n"
    "  mr 8, 9\n"
    "  sc\n"
    "  bnslr+\n"
    "  neg 3, 3\n" /* cr0.SO: r3 is a positive errno */
    "  blr\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,@function\n"
    "raw_clone_vfork:\n"
#ifdef MUTANT_RA_ON_STACK
    "  mflr 12\n"
    "  std 12, 16(1)\n" /* the caller frame's LR save slot */
#endif
    "  li 4, 0\n"
    "  li 5, 0\n"
    "  li 6, 0\n"
    "  li 7, 0\n"
    "  li 0, 120\n"
#ifdef MUTANT_PORT_PPC64LE_RA_IN_R12
    "  mflr 12\n" /* the mutant's copy of lr in r12, volatile across sc: Linux zeroes it on exit */
#endif
    /* lr keeps the return address: this leaf never stores it, sc leaves lr
     * alone (the kernel restores it), and each task has its own copy. */
    "  sc\n"
#ifdef MUTANT_RA_ON_STACK
    "  ld 12, 16(1)\n"
    "  mtlr 12\n"
#endif
#ifdef MUTANT_PORT_PPC64LE_RA_IN_R12
    "  mtlr 12\n"
#endif
    "  bnslr+\n"
    "  neg 3, 3\n"
    "  blr\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,@function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args r3, size r4). lr keeps the return address: this leaf
     * never stores it, sc leaves it alone, each task has its own copy. */
    "  li 0, 435\n"
    "  sc\n"
    "  bnslr+\n"
    "  neg 3, 3\n"
    "  blr\n"

    /* raw_clone_on_stack(flags r3, stack_top r4, child_tid r5, entry r6,
     * argument r7): clone(flags, newsp, ptid 0, tls 0, ctid r7), the
     * CLONE_BACKWARDS order. sc may change r0 and r3-r12 but restores r14-r31
     * (and the child starts with the parent's), so entry and argument wait
     * in r30 and r31, the parent's values saved below its stack pointer (the
     * ELFv2 protected zone of this leaf). The child's stack gets the minimal
     * 32-byte frame header with a 0 back chain; it calls entry(argument)
     * through r12 (an ELFv2 global entry computes its TOC from r12), then
     * exit(0) for its task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,@function\n"
    "raw_clone_on_stack:\n"
    "  std 30, -16(1)\n"
    "  std 31, -8(1)\n"
    "  mr 30, 6\n"
    "  mr 31, 7\n"
    "  rldicr 4, 4, 0, 59\n"
    "  addi 4, 4, -32\n"
    "  li 0, 0\n"
    "  std 0, 0(4)\n"
    "  mr 7, 5\n"
    "  li 5, 0\n"
    "  li 6, 0\n"
    "  li 0, 120\n"
    "  sc\n"
    "  bso- 1f\n"
    "  cmpdi 3, 0\n"
    "  bne 2f\n"
    "  mr 12, 30\n"
    "  mtctr 12\n"
    "  mr 3, 31\n"
    "  bctrl\n"
    "  li 3, 0\n"
    "  li 0, 1\n"
    "  sc\n"
    "  trap\n"
    "1:\n"
    "  neg 3, 3\n"
    "2:\n"
    "  ld 30, -16(1)\n"
    "  ld 31, -8(1)\n"
    "  blr\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,@function\n"
    "call_with_register_canaries:\n"
    /* r14-r31 are callee-saved; r2 (TOC) and r13 (thread pointer) are not
     * loaded with patterns. Frame: 32-byte header, 64-byte parameter save
     * area, r14-r31 at 96, damaged at 240; 256 keeps 16-byte alignment. */
    "  mflr 0\n"
    "  std 0, 16(1)\n"
    "  stdu 1, -256(1)\n"
    "  std 2, 24(1)\n"
    "  std 5, 240(1)\n"
    ".irp reg,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  std \\reg, (96 + 8 * (\\reg - 14))(1)\n"
    ".endr\n"
    "  lis 11, 0x6361\n  ori 11, 11, 0x6e61\n  sldi 11, 11, 32\n  oris 11, 11, 0x7279\n"
    ".irp reg,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  addi \\reg, 11, (\\reg - 13)\n"
    ".endr\n"
    "  mr 12, 3\n" /* ELFv2: an indirect call's target in r12 and ctr */
    "  mtctr 12\n"
    "  mr 3, 4\n"
    "  bctrl\n"
    "  ld 2, 24(1)\n"
    "  lis 11, 0x6361\n  ori 11, 11, 0x6e61\n  sldi 11, 11, 32\n  oris 11, 11, 0x7279\n"
    "  li 10, 0\n"
    ".irp reg,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  addi 9, 11, (\\reg - 13)\n"
    "  cmpd \\reg, 9\n"
    "  beq 1f\n"
    "  li 9, 1\n"
    "  sldi 9, 9, (\\reg - 14)\n"
    "  or 10, 10, 9\n"
    "1:\n"
    ".endr\n"
    "  ld 5, 240(1)\n"
    "  std 10, 0(5)\n"
    ".irp reg,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  ld \\reg, (96 + 8 * (\\reg - 14))(1)\n"
    ".endr\n"
    "  addi 1, 1, 256\n"
    "  ld 0, 16(1)\n"
    "  mtlr 0\n"
    "  blr\n"

    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "  bl 1f\n" /* r2 = .TOC., found relative to here */
    "1:\n"
    "  mflr 12\n"
    "  addis 2, 12, (.TOC. - 1b)@ha\n"
    "  addi 2, 2, (.TOC. - 1b)@l\n"
    "  mr 3, 1\n"
    "  clrrdi 1, 1, 4\n"
    "  li 0, 0\n"
    "  stdu 0, -32(1)\n" /* minimal frame, back chain 0 */
    "  bl vfc_entry\n"
    "  nop\n"
    "  trap\n");
#endif
