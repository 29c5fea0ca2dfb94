/* arm (EABI, armv7 hard-float): syscall numbers from arch/arm/tools/syscall.tbl.
 * Syscall: svc #0, number in r7, arguments in r0-r5, result in r0; the
 * kernel changes only r0. clone is CLONE_BACKWARDS:
 * clone(flags, newsp, ptid, tls, ctid). AAPCS: r4-r11 callee-saved, lr
 * is the link register, sp 8-byte aligned at calls. Code is ARM state;
 * bx/blx interwork with Thumb callers. */
#define ARCH_NAME "arm"
#define NR_read 3
#define NR_write 4
#define NR_close 6
#define NR_lseek 19 /* plain lseek: 32-bit offsets are enough here */
#define NR__llseek 140 /* glibc's lseek64: a marker from a driver that cannot make the raw lseek (CPython) */
#define NR_ftruncate 93
#define NR_ftruncate64 194 /* glibc's ftruncate: a marker from a driver that cannot make lseek at all (Node) */
#define FTRUNCATE64_LENGTH_LOW_ARG 2 /* ftruncate64(fd, pad, low, high): EABI puts a 64-bit argument in an even register pair */
#define NR_mmap 192 /* mmap2: EABI has no old mmap (90); offset is always 0 */
#define NR_munmap 91
#define NR_madvise 220
#define NR_rt_sigaction 174
#define NR_rt_sigprocmask 175
#define NR_sigaltstack 186
#define NR_ioctl 54
#define NR_sched_yield 158
#define NR_getpid 20
#define NR_clone 120
#define NR_execve 11
#define NR_exit 1
#define NR_wait4 114
#define NR_kill 37
#define NR_fcntl 221 /* fcntl64 */
#define NR_getcwd 183
#define NR_chdir 12
#define NR_getuid 199 /* getuid32: 24 is the 16-bit-id call */
#define NR_getgid 200 /* getgid32 */
#define NR_geteuid 201 /* geteuid32 */
#define NR_getegid 202 /* getegid32 */
#define NR_setpgid 57
#define NR_getppid 64
#define NR_setsid 66
#define NR_getpgid 132
#define NR_getsid 147
#define NR_mount 21
#define NR_reboot 88
#define NR_getdents64 217
#define NR_clock_gettime 263 /* 32-bit time_t timespec (long); time64 is 403 */
#define NR_clock_nanosleep 265 /* time64 is 407 */
#define NR_exit_group 248
#define NR_openat 322
#define NR_readlinkat 332
#define NR_unshare 337
#define NR_dup3 358
#define NR_pipe2 359
#define NR_prlimit64 369
#define NR_kcmp 378
#define NR_clone3 435
#define NR_waitid 280
#define NR_pidfd_open 434
#define NR_futex 240
#define NR_ptrace 26
#define NR_seccomp 383
#define NR_finit_module 379 /* system-init.c: the virtio console's modules (benchmark only) */
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0x40000028U /* AUDIT_ARCH_ARM: EM_ARM | little endian */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("ldrd r2, r3, [%0]\n strd r2, r3, [%1]" : : "r"(from), "r"(to) : "r2", "r3", "memory") /* an even/odd pair, as A32 wants */
#define NR_setitimer 104
#define NR_fork 2
#define NR_vfork 190

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".syntax unified\n"
    ".arm\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,%function\n"
    "raw_syscall6:\n"
    "  mov ip, sp\n"
    "  push {r4, r5, r7, lr}\n"
    "  mov r7, r0\n"
    "  mov r0, r1\n"
    "  mov r1, r2\n"
    "  mov r2, r3\n"
    "  ldm ip, {r3, r4, r5}\n"
    "  svc #0\n"
    "  pop {r4, r5, r7, lr}\n"
    "  bx lr\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,%function\n"
    "raw_clone_vfork:\n"
    /* clone needs r4 and r7, which are callee-saved, and r0-r3 and lr are
     * taken: the caller's r4/r7 wait in d0 (caller-saved VFP, kept per
     * task by the kernel), not on the stack, where the child would
     * overwrite them. */
    "  vmov d0, r4, r7\n"
#ifdef MUTANT_RA_ON_STACK
    "  str lr, [sp, #-8]!\n"
#endif
    "  mov r1, #0\n"
    "  mov r2, #0\n"
    "  mov r3, #0\n"
    "  mov r4, #0\n"
    "  mov r7, #120\n"
    /* lr keeps the return address: this leaf never stores it, svc leaves
     * the user lr alone (the kernel restores it), each task has its own. */
    "  svc #0\n"
#ifdef MUTANT_RA_ON_STACK
    "  ldr lr, [sp], #8\n"
#endif
    "  vmov r4, r7, d0\n"
    "  bx lr\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,%function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args r0, size r1). r7 carries the number but is callee-saved:
     * the caller's waits in s0 (caller-saved VFP, kept per task). lr keeps
     * the return address: this leaf never stores it, svc leaves it alone. */
    "  vmov s0, r7\n"
    "  movw r7, #435\n"
    "  svc #0\n"
    "  vmov r7, s0\n"
    "  bx lr\n"

    /* raw_clone_on_stack(flags r0, stack_top r1, child_tid r2, entry r3,
     * argument [sp]): clone(flags, newsp, ptid 0, tls 0, ctid r4), the
     * CLONE_BACKWARDS order, number in r7. The kernel gives the child every
     * register but r0 as it was, so entry and argument wait in r5 and r6.
     * The callee-saved registers it borrows are the parent's to restore from
     * its own stack; the child never returns here, it calls entry(argument)
     * on its 8-aligned stack, then exit(0) for its task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,%function\n"
    "raw_clone_on_stack:\n"
    "  ldr ip, [sp]\n"
    "  push {r4, r5, r6, r7}\n"
    "  mov r4, r2\n"
    "  mov r5, r3\n"
    "  mov r6, ip\n"
    "  bic r1, r1, #7\n"
    "  mov r2, #0\n"
    "  mov r3, #0\n"
    "  mov r7, #120\n"
    "  svc #0\n"
    "  cmp r0, #0\n"
    "  bne 1f\n"
    "  mov r0, r6\n"
    "  mov fp, #0\n"
    "  mov lr, #0\n"
    "  blx r5\n"
    "  mov r0, #0\n"
    "  mov r7, #1\n"
    "  svc #0\n"
    "  udf #0\n"
    "1:\n"
    "  pop {r4, r5, r6, r7}\n"
    "  bx lr\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,%function\n"
    "call_with_register_canaries:\n"
    /* r4-r11 are callee-saved (r9 is a plain register on Linux, r11 the
     * ARM-state frame pointer, r7 the Thumb one). 10 words keep sp
     * 8-aligned; damaged (r2) is the lowest. */
    "  push {r2, r4-r11, lr}\n"
    "  mov ip, r0\n"
    "  mov r0, r1\n"
    "  movw r3, #0x0000\n  movt r3, #0x6361\n"
    "  add r4, r3, #1\n  add r5, r3, #2\n  add r6, r3, #3\n  add r7, r3, #4\n"
    "  add r8, r3, #5\n  add r9, r3, #6\n  add r10, r3, #7\n  add r11, r3, #8\n"
    "  blx ip\n"
    "  movw r3, #0x0000\n  movt r3, #0x6361\n"
    "  mov r1, #0\n"
    ".irp reg,4,5,6,7,8,9,10,11\n"
    "  add r2, r3, #(\\reg - 3)\n"
    "  cmp r\\reg, r2\n"
    "  orrne r1, r1, #(1 << (\\reg - 4))\n"
    ".endr\n"
    "  ldr r2, [sp]\n"
    "  str r1, [r2]\n"
    "  pop {r2, r4-r11, lr}\n"
    "  bx lr\n"

    ".globl _start\n"
    ".type _start,%function\n"
    "_start:\n"
    "  mov fp, #0\n"
    "  mov lr, #0\n"
    "  mov r0, sp\n"
    "  bic sp, sp, #15\n"
    "  bl vfc_entry\n"
    "  udf #0\n");
#endif
