/* 386 (i686): syscall numbers from arch/x86/entry/syscalls/syscall_32.tbl.
 * Syscall: int $0x80, number in eax, arguments in ebx ecx edx esi edi ebp;
 * the kernel changes only eax. clone is CLONE_BACKWARDS:
 * clone(flags, newsp, ptid, tls, ctid). cdecl: arguments on the stack,
 * ebx esi edi ebp callee-saved, stack 16-byte aligned at calls. */
#define ARCH_NAME "386"
#define NR_read 3
#define NR_write 4
#define NR_close 6
#define NR_lseek 19 /* plain lseek: 32-bit offsets are enough here */
#define NR__llseek 140 /* glibc's lseek64: a marker from a driver that cannot make the raw lseek (CPython) */
#define NR_ftruncate 93
#define NR_ftruncate64 194 /* glibc's ftruncate: a marker from a driver that cannot make lseek at all (Node) */
#define FTRUNCATE64_LENGTH_LOW_ARG 1 /* ftruncate64(fd, low, high) */
#define NR_mmap 192 /* mmap2: old mmap (90) takes a struct; offset is always 0 */
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
#define NR_getdents64 220
#define NR_clock_gettime 265 /* 32-bit time_t timespec (long); time64 is 403 */
#define NR_clock_nanosleep 267 /* time64 is 407 */
#define NR_exit_group 252
#define NR_openat 295
#define NR_readlinkat 305
#define NR_unshare 310
#define NR_dup3 330
#define NR_pipe2 331
#define NR_prlimit64 340
#define NR_kcmp 349
#define NR_clone3 435
#define NR_waitid 284
#define NR_pidfd_open 434
#define NR_futex 240
#define NR_ptrace 26
#define NR_seccomp 354
#define NR_finit_module 350 /* system-init.c: the virtio console's modules (benchmark only) */
/* seccomp_data.arch of this ABI: init's filter (system-init.c) checks it. */
#define AUDIT_ARCH 0x40000003U /* AUDIT_ARCH_I386: EM_386 | little endian */
/* One 8-byte load and one 8-byte store, single instructions, at any address: probe.c's unaligned_fixup. */
#define COPY_EIGHT_BYTES(from, to) __asm__ volatile("fildll (%0)\n fistpll (%1)" : : "r"(from), "r"(to) : "st", "memory") /* x87: no 8-byte integer register; a 64-bit integer is exact in its 64-bit mantissa */
#define NR_setitimer 104
#define NR_fork 2
#define NR_vfork 190

#ifdef ARCH_DEFINE_FUNCTIONS
__asm__(
    ".text\n"
    ".globl raw_syscall6\n"
    ".type raw_syscall6,@function\n"
    "raw_syscall6:\n"
    "  push %ebx\n  push %esi\n  push %edi\n  push %ebp\n"
    "  mov 20(%esp), %eax\n"
    "  mov 24(%esp), %ebx\n"
    "  mov 28(%esp), %ecx\n"
    "  mov 32(%esp), %edx\n"
    "  mov 36(%esp), %esi\n"
    "  mov 40(%esp), %edi\n"
    "  mov 44(%esp), %ebp\n"
    "  int $0x80\n"
    "  pop %ebp\n  pop %edi\n  pop %esi\n  pop %ebx\n"
    "  ret\n"

    ".globl raw_clone_vfork\n"
    ".type raw_clone_vfork,@function\n"
    "raw_clone_vfork:\n"
    /* clone needs ebx esi edi, which are callee-saved, and every other
     * general register is an argument: the caller's values wait in xmm0-3
     * (caller-saved, kept per task by the kernel; needs SSE2), not on the
     * stack, where the child would overwrite them. */
    "  movd %ebx, %xmm0\n  movd %esi, %xmm1\n  movd %edi, %xmm2\n  movd %ebp, %xmm3\n"
    "  mov 4(%esp), %ebx\n"
#ifndef MUTANT_RA_ON_STACK
    /* ebp keeps the return address: clone takes 5 arguments so ebp is free,
     * the kernel restores it on return, and each task has its own copy, so
     * the child's later calls (which reuse the stack slot) cannot touch it. */
    "  pop %ebp\n"
#endif
    "  mov $120, %eax\n"
    "  xor %ecx, %ecx\n"
    "  xor %edx, %edx\n"
    "  xor %esi, %esi\n"
    "  xor %edi, %edi\n"
    "  int $0x80\n"
#ifndef MUTANT_RA_ON_STACK
    "  push %ebp\n"
#endif
    "  movd %xmm0, %ebx\n  movd %xmm1, %esi\n  movd %xmm2, %edi\n  movd %xmm3, %ebp\n"
    "  ret\n"

    ".globl raw_clone3_vfork\n"
    ".type raw_clone3_vfork,@function\n"
    "raw_clone3_vfork:\n"
    /* clone3(args ebx, size ecx). ebx is callee-saved: the caller's waits
     * in xmm0, as in raw_clone_vfork. edx keeps the return address: not an
     * argument of clone3, int $0x80 restores it, one copy per task, so the
     * child's calls on this stack cannot touch it. */
    "  movd %ebx, %xmm0\n"
    "  mov 4(%esp), %ebx\n"
    "  mov 8(%esp), %ecx\n"
    "  pop %edx\n"
    "  mov $435, %eax\n"
    "  int $0x80\n"
    "  push %edx\n"
    "  movd %xmm0, %ebx\n"
    "  ret\n"

    /* raw_clone_on_stack(flags, stack_top, child_tid, entry, argument), all
     * on the stack: clone(flags ebx, newsp ecx, ptid 0, tls 0, ctid edi), the
     * CLONE_BACKWARDS order. The kernel gives the child every register but
     * eax as it was: entry waits in ebp (clone takes 5 arguments, so ebp is
     * free), argument is stored at the child's new stack top, where the
     * cdecl callee finds it. The callee-saved registers it borrows are the
     * parent's to restore from its own stack; the child never returns here,
     * it calls entry(argument) with esp 16-aligned, then exit(0) for its
     * task alone. */
    ".globl raw_clone_on_stack\n"
    ".type raw_clone_on_stack,@function\n"
    "raw_clone_on_stack:\n"
    "  push %ebx\n  push %esi\n  push %edi\n  push %ebp\n"
    "  mov 20(%esp), %ebx\n"
    "  mov 24(%esp), %ecx\n"
    "  and $-16, %ecx\n"
    "  sub $16, %ecx\n"
    "  mov 36(%esp), %eax\n"
    "  mov %eax, (%ecx)\n"
    "  mov 28(%esp), %edi\n"
    "  mov 32(%esp), %ebp\n"
    "  xor %edx, %edx\n"
    "  xor %esi, %esi\n"
    "  mov $120, %eax\n"
    "  int $0x80\n"
    "  test %eax, %eax\n"
    "  jnz 1f\n"
    "  mov %ebp, %eax\n"
    "  xor %ebp, %ebp\n"
    "  call *%eax\n"
    "  mov $1, %eax\n"
    "  xor %ebx, %ebx\n"
    "  int $0x80\n"
    "  hlt\n"
    "1:\n"
    "  pop %ebp\n  pop %edi\n  pop %esi\n  pop %ebx\n"
    "  ret\n"

    ".globl call_with_register_canaries\n"
    ".type call_with_register_canaries,@function\n"
    "call_with_register_canaries:\n"
    /* ebx esi edi ebp are callee-saved. Entry esp is 12 mod 16; 4 pushes
     * and 12 bytes leave it 0 mod 16 at the call. */
    "  push %ebx\n  push %esi\n  push %edi\n  push %ebp\n"
    "  sub $12, %esp\n"
    "  mov 36(%esp), %eax\n" /* arg */
    "  mov %eax, (%esp)\n"
    "  mov 32(%esp), %eax\n" /* fn */
    "  mov $0x63610001, %ebx\n"
    "  mov $0x63610002, %esi\n"
    "  mov $0x63610003, %edi\n"
    "  mov $0x63610004, %ebp\n"
    "  call *%eax\n"
    "  add $12, %esp\n"
    "  xor %ecx, %ecx\n"
    "  cmp $0x63610001, %ebx\n  je 1f\n  or $1, %ecx\n1:\n"
    "  cmp $0x63610002, %esi\n  je 1f\n  or $2, %ecx\n1:\n"
    "  cmp $0x63610003, %edi\n  je 1f\n  or $4, %ecx\n1:\n"
    "  cmp $0x63610004, %ebp\n  je 1f\n  or $8, %ecx\n1:\n"
    "  mov 28(%esp), %edx\n" /* damaged */
    "  mov %ecx, (%edx)\n"
    "  pop %ebp\n  pop %edi\n  pop %esi\n  pop %ebx\n"
    "  ret\n"

    ".globl _start\n"
    ".type _start,@function\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov %esp, %eax\n"
    "  and $-16, %esp\n"
    "  sub $12, %esp\n"
    "  push %eax\n"
    "  call vfc_entry\n"
    "  hlt\n");
#endif
