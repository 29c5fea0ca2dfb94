/* amd64 (x86_64): syscall numbers from arch/x86/entry/syscalls/syscall_64.tbl.
 * Syscall: number in rax, arguments in rdi rsi rdx r10 r8 r9; the kernel
 * clobbers only rax (result), rcx and r11. clone(flags, newsp, ptid, ctid, tls). */
#define ARCH_NAME "amd64"
#define ARCH_HAS_SIGNAL_RESTORER 1 /* x86_64 handlers return only through SA_RESTORER */
#define SIGACTION_RESTORER_OFFSET 16 /* { handler; flags; restorer; mask } */
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_lseek 8
#define NR_ftruncate 77
#define NR_mmap 9
#define NR_munmap 11
#define NR_madvise 28
#define NR_rt_sigaction 13
#define NR_rt_sigprocmask 14
#define NR_sigaltstack 131
#define NR_ioctl 16
#define NR_sched_yield 24
#define NR_getpid 39
#define NR_clone 56
#define NR_execve 59
#define NR_exit 60
#define NR_wait4 61
#define NR_kill 62
#define NR_fcntl 72
#define NR_getcwd 79
#define NR_chdir 80
#define NR_getuid 102
#define NR_getgid 104
#define NR_geteuid 107
#define NR_getegid 108
#define NR_setpgid 109
#define NR_getppid 110
#define NR_setsid 112
#define NR_getpgid 121
#define NR_getsid 124
#define NR_mount 165
#define NR_reboot 169
#define NR_getdents64 217
#define NR_clock_gettime 228
#define NR_clock_nanosleep 230
#define NR_exit_group 231
#define NR_openat 257
#define NR_readlinkat 267
#define NR_unshare 272
#define NR_dup3 292
#define NR_pipe2 293
#define NR_prlimit64 302
#define NR_kcmp 312
#define NR_clone3 435
#define NR_waitid 247
#define NR_pidfd_open 434
#define NR_futex 202
#define NR_prctl 157 /* only the host needs it: --die-with-parent (driver.c) */
#define NR_ptrace 101
#define NR_seccomp 317
#define NR_finit_module 313 /* system-init.c: the virtio console's modules (benchmark only) */
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0xc000003eU /* AUDIT_ARCH_X86_64: EM_X86_64 | 64-bit | little endian */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("movq (%0), %%rax\n movq %%rax, (%1)" : : "r"(from), "r"(to) : "rax", "memory")
#define NR_setitimer 38
#define NR_fork 57
#define NR_vfork 58

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,@function\n"
    "raw_syscall6:\n"
    "  mov %rdi, %rax\n"
    "  mov %rsi, %rdi\n"
    "  mov %rdx, %rsi\n"
    "  mov %rcx, %rdx\n"
    "  mov %r8, %r10\n"
    "  mov %r9, %r8\n"
    "  mov 8(%rsp), %r9\n"
    "  syscall\n"
    "  ret\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,@function\n"
    "raw_clone_vfork:\n"
#ifndef MUTANT_RA_ON_STACK
    /* r9 keeps the return address: clone takes 5 arguments so r9 is free,
     * the kernel restores it on return, and each task has its own copy, so
     * the child's later calls (which reuse the stack slot) cannot touch it. */
    "  pop %r9\n"
#endif
    "  mov $56, %eax\n"
    "  xor %esi, %esi\n"
    "  xor %edx, %edx\n"
    "  xor %r10d, %r10d\n"
    "  xor %r8d, %r8d\n"
    "  syscall\n"
#ifndef MUTANT_RA_ON_STACK
    "  push %r9\n"
#endif
    "  ret\n"

    /* raw_clone_on_stack(flags rdi, stack_top rsi, child_tid rdx, entry rcx,
     * argument r8): clone(flags, newsp, ptid 0, ctid r10, tls 0). entry and
     * argument ride on the child's new stack (shared memory: CLONE_VM), the
     * child pops them, calls entry(argument) with rsp 16-aligned, then
     * exit(0) for its task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,@function\n"
    "raw_clone_on_stack:\n"
    "  and $-16, %rsi\n"
    "  sub $16, %rsi\n"
    "  mov %rcx, (%rsi)\n"
    "  mov %r8, 8(%rsi)\n"
    "  mov %rdx, %r10\n"
    "  mov $56, %eax\n"
    "  xor %edx, %edx\n"
    "  xor %r8d, %r8d\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jnz 1f\n"
    "  pop %rax\n"
    "  pop %rdi\n"
    "  xor %ebp, %ebp\n"
    "  call *%rax\n"
    "  mov $60, %eax\n"
    "  xor %edi, %edi\n"
    "  syscall\n"
    "  ud2\n"
    "1:\n"
    "  ret\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,@function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args rdi, size rsi). r9 keeps the return address, as in
     * raw_clone_vfork: not an argument of clone3, restored by the kernel,
     * one copy per task, so the child's calls on this stack cannot touch it. */
    "  pop %r9\n"
    "  mov $435, %eax\n"
    "  syscall\n"
    "  push %r9\n"
    "  ret\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,@function\n"
    "call_with_register_canaries:\n"
    /* rbx rbp r12-r15 are callee-saved; 7 pushes keep rsp 16-aligned. */
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  push %rdx\n"
    "  movabs $0x63616e6172790001, %rbx\n"
    "  movabs $0x63616e6172790002, %rbp\n"
    "  movabs $0x63616e6172790003, %r12\n"
    "  movabs $0x63616e6172790004, %r13\n"
    "  movabs $0x63616e6172790005, %r14\n"
    "  movabs $0x63616e6172790006, %r15\n"
    "  mov %rdi, %rax\n"
    "  mov %rsi, %rdi\n"
    "  call *%rax\n"
    "  xor %ecx, %ecx\n"
    "  movabs $0x63616e6172790001, %rdx\n  cmp %rdx, %rbx\n  je 1f\n  or $1, %rcx\n1:\n"
    "  movabs $0x63616e6172790002, %rdx\n  cmp %rdx, %rbp\n  je 1f\n  or $2, %rcx\n1:\n"
    "  movabs $0x63616e6172790003, %rdx\n  cmp %rdx, %r12\n  je 1f\n  or $4, %rcx\n1:\n"
    "  movabs $0x63616e6172790004, %rdx\n  cmp %rdx, %r13\n  je 1f\n  or $8, %rcx\n1:\n"
    "  movabs $0x63616e6172790005, %rdx\n  cmp %rdx, %r14\n  je 1f\n  or $16, %rcx\n1:\n"
    "  movabs $0x63616e6172790006, %rdx\n  cmp %rdx, %r15\n  je 1f\n  or $32, %rcx\n1:\n"
    "  pop %rdx\n"
    "  mov %rcx, (%rdx)\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    "  ret\n"

    ".globl vfc_signal_restorer\n"
    ".type vfc_signal_restorer,@function\n"
    "vfc_signal_restorer:\n"
    "  mov $15, %eax\n" /* rt_sigreturn */
    "  syscall\n"

    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call vfc_entry\n"
    "  hlt\n");
#endif
