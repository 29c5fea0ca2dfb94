/* mips64le (n64): syscall numbers from arch/mips/kernel/syscalls/syscall_n64.tbl
 * plus the n64 base 5000. Syscall: syscall, number in v0 ($2), arguments in
 * a0-a5 ($4-$9), result in v0; a3 ($7) is 0 on success, 1 with a positive
 * errno in v0 on failure. The kernel may change $1, $3, $10-$15, $24, $25,
 * hi/lo (glibc's clobber list) but keeps ra, sp, gp, s0-s8.
 * clone is CLONE_BACKWARDS: clone(flags, newsp, ptid, tls, ctid).
 * ABI: s0-s7 ($16-$23), gp ($28), s8/fp ($30) callee-saved, ra $31,
 * 16-byte stack, no argument save area. Built -fno-pic -mno-abicalls -G0,
 * so nothing needs $gp; code here keeps the assembler's default reorder
 * mode, which fills branch delay slots. */
#define ARCH_NAME "mips64le"
#define SIGCHLD 18
#define SIG_BLOCK 1
#define SIG_UNBLOCK 2
#define SIG_SETMASK 3
#define KERNEL_SIGSET_BYTES 16 /* _NSIG is 128 */
#define SIGACTION_HANDLER_OFFSET 8 /* struct sigaction { unsigned sa_flags; handler; mask } */
#define SIGACTION_FLAGS_OFFSET 0
#define SIGACTION_FLAGS_TYPE unsigned int
#define SIGWINCH 20
#define SIGSTOP 23
#define SIGINFO_CODE_OFFSET 4 /* siginfo: si_signo, si_code, si_errno */
#define STACK_T_SIZE_OFFSET 8 /* stack_t { ss_sp; ss_size; int ss_flags } */
#define MAP_ANONYMOUS 0x800
#define MAP_POPULATE 0x10000
#define NR_read 5000
#define NR_write 5001
#define NR_close 5003
#define NR_lseek 5008
#define NR_ftruncate 5075
#define NR_mmap 5009
#define NR_munmap 5011
#define NR_madvise 5027
#define NR_rt_sigaction 5013
#define NR_rt_sigprocmask 5014
#define NR_sigaltstack 5129
#define NR_ioctl 5015
#define NR_sched_yield 5023
#define NR_getpid 5038
#define NR_clone 5055
#define NR_execve 5057
#define NR_exit 5058
#define NR_wait4 5059
#define NR_kill 5060
#define NR_fcntl 5070
#define NR_getcwd 5077
#define NR_chdir 5078
#define NR_getuid 5100
#define NR_getgid 5102
#define NR_geteuid 5105
#define NR_getegid 5106
#define NR_setpgid 5107
#define NR_getppid 5108
#define NR_setsid 5110
#define NR_getpgid 5119
#define NR_getsid 5122
#define NR_mount 5160
#define NR_reboot 5164
#define NR_getdents64 5308
#define NR_clock_gettime 5222
#define NR_clock_nanosleep 5224
#define NR_exit_group 5205
#define NR_openat 5247
#define NR_readlinkat 5257
#define NR_unshare 5262
#define NR_dup3 5286
#define NR_pipe2 5287
#define NR_prlimit64 5297
#define NR_kcmp 5306
#define NR_clone3 5435
#define NR_waitid 5237
#define NR_pidfd_open 5434
#define NR_futex 5194
#define NR_ptrace 5099
#define NR_seccomp 5312
#define NR_finit_module 5307 /* system-init.c: the virtio console's modules (benchmark only) */
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0xc0000008U /* AUDIT_ARCH_MIPSEL64: EM_MIPS | 64-bit | little endian (n64; n32 sets 0x20000000 too) */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("ld $12, 0(%0)\n sd $12, 0(%1)" : : "r"(from), "r"(to) : "$12", "memory") /* $12: t0 of n64 */
#define NR_setitimer 5036
#define NR_fork 5056 /* n64 has no vfork syscall */
/* mips' own console ioctls; its c_cc has 23 entries with VMIN 4, VTIME 5. */
#define TCGETS 0x540d
#define TCSETS 0x540e
#define TERMIOS_VMIN_OFFSET (17 + 4)
#define TERMIOS_VTIME_OFFSET (17 + 5)

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".set reorder\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,@function\n"
    "raw_syscall6:\n"
    "  move $2, $4\n"
    "  move $4, $5\n"
    "  move $5, $6\n"
    "  move $6, $7\n"
    "  move $7, $8\n"
    "  move $8, $9\n"
    "  move $9, $10\n"
    "  syscall\n"
    "  beqz $7, 1f\n"
    "  dsubu $2, $0, $2\n" /* a3 set: v0 is a positive errno */
    "1:\n"
    "  jr $31\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,@function\n"
    "raw_clone_vfork:\n"
#ifdef MUTANT_RA_ON_STACK
    "  daddiu $sp, $sp, -16\n"
    "  sd $31, 8($sp)\n"
#endif
    "  move $5, $0\n"
    "  move $6, $0\n"
    "  move $7, $0\n"
    "  move $8, $0\n"
    "  li $2, 5055\n"
    /* ra keeps the return address: this leaf never stores it, syscall
     * leaves ra alone (the kernel restores it), each task has its own. */
    "  syscall\n"
#ifdef MUTANT_RA_ON_STACK
    "  ld $31, 8($sp)\n"
    "  daddiu $sp, $sp, 16\n"
#endif
#ifndef MUTANT_PORT_MIPS64LE_A3_IGNORED
    "  beqz $7, 1f\n"
    "  dsubu $2, $0, $2\n"
    "1:\n"
#endif /* the mutant returns v0 whatever a3 says: a refused clone's positive errno reads as a pid */
    "  jr $31\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,@function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args $4, size $5). ra keeps the return address: this leaf
     * never stores it, syscall leaves it alone, one copy per task. */
    "  li $2, 5435\n"
    "  syscall\n"
    "  beqz $7, 1f\n"
    "  dsubu $2, $0, $2\n"
    "1:\n"
    "  jr $31\n"

    /* raw_clone_on_stack(flags a0, stack_top a1, child_tid a2, entry a3,
     * argument a4): clone(flags, newsp, ptid 0, tls 0, ctid a4), the
     * CLONE_BACKWARDS order. The kernel keeps s0-s8 (and gives the child the
     * parent's), so entry and argument wait in s0 and s1, the parent's
     * values saved in a frame of its own. The child calls entry(argument)
     * through t9 (a PIC callee rebuilds gp from it), then exit(0) for its
     * task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,@function\n"
    "raw_clone_on_stack:\n"
    "  daddiu $sp, $sp, -16\n"
    "  sd $16, 0($sp)\n"
    "  sd $17, 8($sp)\n"
    "  move $16, $7\n"
    "  move $17, $8\n"
    "  move $8, $6\n"
    "  move $6, $0\n"
    "  move $7, $0\n"
    "  li $10, -16\n"
    "  and $5, $5, $10\n"
    "  li $2, 5055\n"
    "  syscall\n"
    "  bnez $7, 1f\n"
    "  bnez $2, 2f\n"
    "  move $4, $17\n"
    "  move $25, $16\n"
    "  move $30, $0\n"
    "  move $31, $0\n"
    "  jalr $25\n"
    "  move $4, $0\n"
    "  li $2, 5058\n"
    "  syscall\n"
    "  break\n"
    "1:\n"
    "  dsubu $2, $0, $2\n"
    "2:\n"
    "  ld $16, 0($sp)\n"
    "  ld $17, 8($sp)\n"
    "  daddiu $sp, $sp, 16\n"
    "  jr $31\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,@function\n"
    "call_with_register_canaries:\n"
    /* s0-s7, gp and s8/fp are callee-saved in n64. gp is unused by -G0
     * non-PIC code and PIC callees rebuild it from t9, so it can hold a
     * pattern too. Frame: ra, damaged, 10 registers: 96 bytes. */
    "  daddiu $sp, $sp, -96\n"
    "  sd $31, 0($sp)\n"
    "  sd $6, 8($sp)\n"
    "  .set .Lslot, 0\n"
    ".irp reg,16,17,18,19,20,21,22,23,28,30\n"
    "  sd $\\reg, (16 + 8 * .Lslot)($sp)\n"
    "  .set .Lslot, .Lslot + 1\n"
    ".endr\n"
    "  move $25, $4\n" /* t9 holds the target, as PIC callees expect */
    "  move $4, $5\n"
    "  dli $12, 0x63616e6172790000\n"
    ".irp reg,16,17,18,19,20,21,22,23,28,30\n"
    "  daddiu $\\reg, $12, \\reg\n"
    ".endr\n"
    "  jalr $25\n"
    "  dli $12, 0x63616e6172790000\n"
    "  move $13, $0\n"
    "  .set .Lslot, 0\n"
    ".irp reg,16,17,18,19,20,21,22,23,28,30\n"
    "  daddiu $14, $12, \\reg\n"
    "  beq $\\reg, $14, 1f\n"
    "  ori $13, $13, (1 << .Lslot)\n"
    "1:\n"
    "  .set .Lslot, .Lslot + 1\n"
    ".endr\n"
    "  ld $14, 8($sp)\n"
    "  sd $13, 0($14)\n"
    "  ld $31, 0($sp)\n"
    "  .set .Lslot, 0\n"
    ".irp reg,16,17,18,19,20,21,22,23,28,30\n"
    "  ld $\\reg, (16 + 8 * .Lslot)($sp)\n"
    "  .set .Lslot, .Lslot + 1\n"
    ".endr\n"
    "  daddiu $sp, $sp, 96\n"
    "  jr $31\n"

    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "  move $4, $sp\n"
    "  li $8, -16\n"
    "  and $sp, $sp, $8\n"
    "  move $31, $0\n"
    "  move $30, $0\n"
    "  jal vfc_entry\n"
    "  break\n");
#endif
