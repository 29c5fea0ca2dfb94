/*
 * arch.h: what every architecture file in native/arch/ provides.
 *
 * The build passes -DARCH_HEADER='"arch/<arch>.h"'. Each architecture
 * header defines syscall numbers and a few ABI constants as macros, and,
 * only when ARCH_DEFINE_FUNCTIONS is defined (in arch.c, exactly once), the
 * assembly for the four functions declared below. Nothing here uses libc.
 */
#ifndef VFC_ARCH_H
#define VFC_ARCH_H

/* Values that are the same on all nine architectures; an architecture header
 * may define any of them first to override. */
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CLOEXEC 02000000 /* same on all nine: asm-generic and every override */
#define AT_FDCWD (-100)
#define F_GETFD 1
#define F_SETFD 2
#define FD_CLOEXEC 1
#define WNOHANG 1
#define __WALL 0x40000000
#define CLONE_VM 0x00000100UL
#define CLONE_FS 0x00000200UL
#define CLONE_VFORK 0x00004000UL
#define CLONE_FILES 0x00000400UL
#define CLONE_SIGHAND 0x00000800UL
#define CLONE_THREAD 0x00010000UL
#define CLONE_SYSVSEM 0x00040000UL
#define CLONE_CHILD_CLEARTID 0x00200000UL
#define FUTEX_WAIT 0 /* shared, not _PRIVATE: the kernel's CLONE_CHILD_CLEARTID wake is */
#define FUTEX_WAKE 1
#define CLONE_NEWNS 0x00020000UL
#define CLONE_NEWCGROUP 0x02000000UL
#define CLONE_NEWUTS 0x04000000UL
#define CLONE_NEWIPC 0x08000000UL
#define CLONE_NEWUSER 0x10000000UL
#define CLONE_NEWPID 0x20000000UL
#define CLONE_NEWNET 0x40000000UL
#define CLONE_NEWTIME 0x00000080UL
#define CLONE_PIDFD 0x00001000UL
/* clone3 only: the flags word is 64 bits there (struct clone_args). */
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#define CLONE_INTO_CGROUP 0x200000000ULL
#define P_PIDFD 3
#define WEXITED 4
#define CLD_EXITED 1 /* siginfo si_code of a child that exited; 2 killed, 3 dumped */
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define CLOCK_MONOTONIC 1
#define MADV_NOHUGEPAGE 15     /* the same on all nine */
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#define KCMP_VM 1

#include ARCH_HEADER

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS 0x20 /* mips overrides (0x800) */
#endif
#ifndef MAP_POPULATE
#define MAP_POPULATE 0x8000 /* mips overrides (0x10000) */
#endif
#define SIGKILL 9 /* 9 on all nine, mips included */
#ifndef SIGCHLD
#define SIGCHLD 17 /* mips overrides (18) */
#endif
#ifndef SIG_BLOCK
#define SIG_BLOCK 0 /* mips overrides: BLOCK 1, UNBLOCK 2, SETMASK 3 */
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2
#endif
#ifndef KERNEL_SIGSET_BYTES
#define KERNEL_SIGSET_BYTES 8 /* _NSIG/8: 64 signals; mips has 128 */
#endif
#ifndef SIGACTION_HANDLER_OFFSET
#define SIGACTION_HANDLER_OFFSET 0 /* mips puts sa_flags first */
#endif
#ifndef SIGACTION_FLAGS_OFFSET
#define SIGACTION_FLAGS_OFFSET sizeof(long) /* sa_flags follows the handler */
#define SIGACTION_FLAGS_TYPE unsigned long
#endif
#ifndef SIGWINCH
#define SIGWINCH 28 /* mips overrides (20) */
#endif
#ifndef SIGSTOP
#define SIGSTOP 19 /* mips overrides (23) */
#endif
#define SA_RESTART 0x10000000 /* same on all nine */
#define SA_RESTORER 0x04000000
#define SA_NODEFER 0x40000000 /* same on all nine */
#define SA_ONSTACK 0x08000000 /* same on all nine */
#ifndef STACK_T_SIZE_OFFSET
#define STACK_T_SIZE_OFFSET (2 * sizeof(long)) /* stack_t { ss_sp; int ss_flags; ss_size }; mips overrides */
#endif
#ifndef SIGACTION_RESTORER_OFFSET
#define SIGACTION_RESTORER_OFFSET 0 /* only amd64 needs one (below) */
#endif
#ifndef TCGETS
/* The console's struct termios: four flag words, c_line, then c_cc with
 * VTIME at 5 and VMIN at 6 (ppc and mips override). */
#define TCGETS 0x5401
#define TCSETS 0x5402
#define TERMIOS_VMIN_OFFSET (17 + 6)
#define TERMIOS_VTIME_OFFSET (17 + 5)
#endif
/* siginfo_t: si_signo, si_errno, si_code ints (mips swaps errno and code),
 * then si_pid and si_uid and si_status, after padding to 8 on 64-bit. */
#ifndef SIGINFO_CODE_OFFSET
#define SIGINFO_CODE_OFFSET 8
#endif
#define SIGINFO_PID_OFFSET (sizeof(long) == 8 ? 16 : 12)
#define SIGINFO_STATUS_OFFSET (SIGINFO_PID_OFFSET + 8)
#ifndef CLONE_ARGS_SWAPPED
#define CLONE_ARGS_SWAPPED 0 /* s390x: clone(newsp, flags, ...) */
#endif

/* Returns what the kernel returned: -4095..-1 is -errno. */
long raw_syscall6(long number, long a1, long a2, long a3, long a4, long a5,
                  long a6);

/* clone(flags, no new stack, 0, 0, 0), for CLONE_VM|CLONE_VFORK. The
 * return address is kept in a register across the syscall, never on the
 * stack: the child runs first on this same stack and its calls overwrite
 * the slot the return address was pushed to. Returns the child's pid (or
 * -errno) in the parent and 0 in the child. Under MUTANT_RA_ON_STACK
 * the architecture keeps it on the stack instead (a deliberate bug). */
__attribute__((returns_twice)) long raw_clone_vfork(unsigned long flags);

/* clone3's argument (include/uapi/linux/sched.h): every field an
 * __aligned_u64 on every ABI, 32-bit ones included; pointers go in as
 * integers. CLONE_ARGS_SIZE_VER2 (88 bytes, with cgroup): Linux 5.7. */
struct clone_args {
  unsigned long long flags;
  unsigned long long pidfd;       /* with CLONE_PIDFD: where the kernel stores the pidfd (an int) */
  unsigned long long child_tid;
  unsigned long long parent_tid;
  unsigned long long exit_signal; /* its own field, not the low byte of flags */
  unsigned long long stack;       /* 0 with stack_size 0: the child runs on the caller's stack */
  unsigned long long stack_size;
  unsigned long long tls;
  unsigned long long set_tid;
  unsigned long long set_tid_size;
  unsigned long long cgroup;      /* with CLONE_INTO_CGROUP: a cgroup2 directory descriptor */
} __attribute__((aligned(8)));

/* clone3(args, size) with args->stack 0, for CLONE_VM|CLONE_VFORK: the
 * child runs on this same stack, like vfork, so the return address is kept
 * in a register as in raw_clone_vfork (each architecture says which). */
__attribute__((returns_twice)) long raw_clone3_vfork(struct clone_args *args, unsigned long size);

/* clone(flags, stack_top, ptid 0, ctid child_tid, tls 0), each
 * architecture putting ctid where its clone order wants it; the child calls
 * entry(argument) on that stack, then exit(0) (its own task, not the group).
 * The threads of a concurrent case (CLONE_THREAD|..|CLONE_CHILD_CLEARTID,
 * joined on child_tid) and MUTANT_VM_WITHOUT_VFORK's child (CLONE_VM
 * without CLONE_VFORK, child_tid NULL) start through it. Returns the new
 * task's id or -errno in the caller. */
long raw_clone_on_stack(unsigned long flags, void *stack_top, int *child_tid, void (*entry)(void *), void *argument);

/* Loads a known pattern into every callee-saved register, calls fn(arg),
 * then compares: *damaged gets one bit per register whose value changed.
 * Returns what fn returned. */
long call_with_register_canaries(long (*fn)(void *), void *arg,
                                 unsigned long *damaged);

/* amd64 only (ARCH_HAS_SIGNAL_RESTORER): the kernel returns from a
 * handler through sa_restorer, which must call rt_sigreturn. Elsewhere the
 * kernel (vdso or vector page) or qemu-user provides the return path. */
void vfc_signal_restorer(void);

/* The process entry point; calls vfc_entry with the initial stack
 * pointer (pointing at argc), stack aligned as the C ABI wants. */
void _start(void);
void vfc_entry(long *initial_stack) __attribute__((noreturn));

#define IS_SYSCALL_ERROR(r) ((unsigned long)(r) > (unsigned long)-4096L)

#endif
