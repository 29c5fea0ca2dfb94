/* s390x: syscall numbers from arch/s390/kernel/syscalls/syscall.tbl (64-bit
 * entries). Syscall: svc 0, number in r1, arguments in r2-r7, result in r2;
 * the kernel changes only r2. clone is CLONE_BACKWARDS2:
 * clone(newsp, flags, ptid, ctid, tls). ABI: r6-r15 callee-saved (r6 is
 * also an argument register), r14 return address, r15 sp; the caller
 * provides a 160-byte register save area at 0(r15), stack 8-byte aligned. */
#define ARCH_NAME "s390x"
#define CLONE_ARGS_SWAPPED 1
#define NR_read 3
#define NR_write 4
#define NR_close 6
#define NR_lseek 19
#define NR_ftruncate 93
/* s390x has no six-register mmap: 90 is old_mmap, whose one argument
 * points to the six values. raw_syscall6 builds that block for NR_mmap,
 * so callers pass the usual six arguments. */
#define NR_mmap 90
#define ARCH_MMAP_TAKES_ARG_BLOCK 1
#define NR_munmap 91
#define NR_madvise 219
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
#define NR_fcntl 55
#define NR_getcwd 183
#define NR_chdir 12
#define NR_getuid 199 /* 24/47/49/50 are 31-bit-compat only */
#define NR_getgid 200
#define NR_geteuid 201
#define NR_getegid 202
#define NR_setpgid 57
#define NR_getppid 64
#define NR_setsid 66
#define NR_getpgid 132
#define NR_getsid 147
#define NR_mount 21
#define NR_reboot 88
#define NR_getdents64 220
#define NR_clock_gettime 260
#define NR_clock_nanosleep 262
#define NR_exit_group 248
#define NR_openat 288
#define NR_readlinkat 298
#define NR_unshare 303
#define NR_dup3 326
#define NR_pipe2 325
#define NR_prlimit64 334
#define NR_kcmp 343
#define NR_clone3 435
#define NR_waitid 281
#define NR_pidfd_open 434
#define NR_futex 238
#define NR_ptrace 26
#define NR_seccomp 348
#define NR_finit_module 344 /* system-init.c: the virtio console's modules (benchmark only) */
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0x80000016U /* AUDIT_ARCH_S390X: EM_S390 | 64-bit, big endian */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("lg %%r1, 0(%0)\n stg %%r1, 0(%1)" : : "a"(from), "a"(to) : "r1", "memory") /* "a": not r0, which reads as 0 in an address */
#define NR_setitimer 104
#define NR_fork 2
#define NR_vfork 190

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,@function\n"
    "raw_syscall6:\n"
    /* number r2, a1-a4 r3-r6, a5 a6 at 160/168(r15) */
    "  stmg %r6, %r7, 48(%r15)\n"
    "  lgr %r1, %r2\n"
    "  lgr %r2, %r3\n"
    "  lgr %r3, %r4\n"
    "  lgr %r4, %r5\n"
    "  lgr %r5, %r6\n"
    "  lg %r6, 160(%r15)\n"
    "  lg %r7, 168(%r15)\n"
    "  cghi %r1, 90\n"
    "  jne 1f\n"
    /* mmap: a1-a4 go to 128-159 (our save area's FPR slots), right below
     * a5 a6 in the caller's frame: six contiguous longs. */
    "  stmg %r2, %r5, 128(%r15)\n"
    "  la %r2, 128(%r15)\n"
    "1:\n"
    "  svc 0\n"
    "  lmg %r6, %r7, 48(%r15)\n"
    "  br %r14\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,@function\n"
    "raw_clone_vfork:\n"
#ifdef MUTANT_S390X_ARG_ORDER
    /* Bug class 5: flags left first, as on other architectures: the kernel
     * takes them as the new stack pointer and clones with flags 0. */
    "  lghi %r3, 0\n"
#else
    "  lgr %r3, %r2\n" /* flags are the second argument */
    "  lghi %r2, 0\n"
#endif
    /* r6 carries tls but is callee-saved: the caller's value waits in r0
     * (the kernel restores it, each task has its own), not on the stack. */
    "  lgr %r0, %r6\n"
    "  lghi %r4, 0\n"
    "  lghi %r5, 0\n"
    "  lghi %r6, 0\n"
    "  lghi %r1, 120\n"
#ifdef MUTANT_RA_ON_STACK
    "  stg %r14, 112(%r15)\n" /* the r14 slot of the register save area */
#endif
    /* r14 keeps the return address: this leaf never stores it, svc leaves
     * r14 alone (the kernel restores it), and each task has its own copy. */
    "  svc 0\n"
#ifdef MUTANT_RA_ON_STACK
    "  lg %r14, 112(%r15)\n"
#endif
    "  lgr %r6, %r0\n"
    "  br %r14\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,@function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args r2, size r3): a struct, so no argument swap. r14 keeps
     * the return address: this leaf never stores it, svc leaves it alone,
     * each task has its own copy. */
    "  lghi %r1, 435\n"
    "  svc 0\n"
    "  br %r14\n"

    /* raw_clone_on_stack(flags r2, stack_top r3, child_tid r4, entry r5,
     * argument r6): clone(newsp r2, flags r3, ptid 0, ctid r5, tls 0), the
     * CLONE_BACKWARDS2 order. The kernel changes only r2 and gives the child
     * every other register as it was (r15 = newsp), so entry and argument
     * wait in r7 and r8, the parent's values in its register save area. The
     * child's stack gets a 160-byte save area with a 0 back chain; it calls
     * entry(argument), then exit(0) for its task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,@function\n"
    "raw_clone_on_stack:\n"
    "  stmg %r6, %r8, 48(%r15)\n"
    "  lgr %r7, %r5\n"
    "  lgr %r8, %r6\n"
    "  lgr %r5, %r4\n"
    "  lghi %r4, 0\n"
    "  lghi %r6, 0\n"
    "  lghi %r0, -8\n"
    "  ngr %r0, %r3\n"
    "  aghi %r0, -160\n"
    "  lgr %r3, %r2\n"
    "  lgr %r2, %r0\n"
    "  xc 0(8, %r2), 0(%r2)\n"
    "  lghi %r1, 120\n"
    "  svc 0\n"
    "  ltgr %r2, %r2\n"
    "  jnz 1f\n"
    "  lgr %r2, %r8\n"
    "  basr %r14, %r7\n"
    "  lghi %r2, 0\n"
    "  lghi %r1, 1\n"
    "  svc 0\n"
    "  .long 0\n"
    "1:\n"
    "  lmg %r6, %r8, 48(%r15)\n"
    "  br %r14\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,@function\n"
    "call_with_register_canaries:\n"
    /* r6-r13 are callee-saved general registers (r14/r15 are the return
     * address and sp). Frame: 160-byte save area for fn, damaged at 160. */
    "  stmg %r6, %r15, 48(%r15)\n"
    "  lgr %r1, %r15\n"
    "  aghi %r15, -168\n"
    "  stg %r1, 0(%r15)\n" /* back chain */
    "  stg %r4, 160(%r15)\n"
    "  lgr %r1, %r2\n"
    "  lgr %r2, %r3\n"
    "  llihf %r0, 0x63616e61\n  oilf %r0, 0x72790000\n"
    ".irp reg,6,7,8,9,10,11,12,13\n"
    "  lgr %r\\reg, %r0\n"
    "  aghi %r\\reg, (\\reg - 5)\n"
    ".endr\n"
    "  basr %r14, %r1\n"
    "  llihf %r0, 0x63616e61\n  oilf %r0, 0x72790000\n"
    "  lghi %r3, 0\n"
    ".irp reg,6,7,8,9,10,11,12,13\n"
    "  lgr %r1, %r0\n"
    "  aghi %r1, (\\reg - 5)\n"
    "  cgr %r\\reg, %r1\n"
    "  je 1f\n"
    "  oill %r3, (1 << (\\reg - 6))\n"
    "1:\n"
    ".endr\n"
    "  lg %r4, 160(%r15)\n"
    "  stg %r3, 0(%r4)\n"
    "  lmg %r6, %r15, 168 + 48(%r15)\n"
    "  br %r14\n"

    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "  lgr %r2, %r15\n"
    "  lghi %r0, -8\n"
    "  ngr %r15, %r0\n"
    "  aghi %r15, -160\n" /* register save area for vfc_entry */
    "  xc 0(8, %r15), 0(%r15)\n" /* back chain 0 */
    "  brasl %r14, vfc_entry\n"
    "  .word 0\n");
#endif
