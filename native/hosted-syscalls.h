/*
 * hosted-syscalls.h: what signal-storm.c takes from vfc.h, for a build
 * against a C library (-DVFC_HOSTED: the libc drivers, impls/glibc), so
 * that the storm process and its handler are one source for every driver.
 * The system calls go through the libc's syscall(), which only moves
 * arguments into registers (glibc's and musl's alike): the handler's
 * getpid is the kernel's answer, never a value cached in memory that a
 * vfork child shares with its parent. Handlers go through sigaction (the
 * libc supplies the return path, sa_restorer where the ABI needs one).
 */
#ifndef VFC_HOSTED_SYSCALLS_H
#define VFC_HOSTED_SYSCALLS_H
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The kernel's convention, -errno on failure, with errno left as it was:
 * the storm's handler runs in the middle of the spawn's own calls. */
static inline long hosted_syscall(long number, long a, long b, long c, long d) {
  int saved = errno;
  long r = syscall(number, a, b, c, d, 0L, 0L);
  if (r == -1) r = -(long)errno;
  errno = saved;
  return r;
}
#define SYS0(n) hosted_syscall(n, 0, 0, 0, 0)
#define SYS1(n, a) hosted_syscall(n, (long)(a), 0, 0, 0)
#define SYS2(n, a, b) hosted_syscall(n, (long)(a), (long)(b), 0, 0)
#define SYS3(n, a, b, c) hosted_syscall(n, (long)(a), (long)(b), (long)(c), 0)
#define SYS4(n, a, b, c, d) hosted_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d))
#define IS_SYSCALL_ERROR(r) ((unsigned long)(r) > (unsigned long)-4096L)
#define exit_group(code) _exit(code)

#if defined(SYS_clock_nanosleep)
#define NR_clock_nanosleep SYS_clock_nanosleep
#else
/* musl on a 32-bit architecture names the call by its time_t's width: the
 * storm's nap is two longs, the 32-bit one. */
#define NR_clock_nanosleep SYS_clock_nanosleep_time32
#endif
#define NR_clone SYS_clone
#define NR_close SYS_close
#define NR_getpid SYS_getpid
#define NR_getppid SYS_getppid
#define NR_kill SYS_kill
#define NR_openat SYS_openat
#define NR_pipe2 SYS_pipe2
#define NR_read SYS_read
#define NR_setpgid SYS_setpgid
#define NR_wait4 SYS_wait4
#define NR_write SYS_write

#ifdef __s390x__
#define CLONE_ARGS_SWAPPED 1 /* clone(newsp, flags, ...) */
#else
#define CLONE_ARGS_SWAPPED 0
#endif

/* vfc.h's, through the libc: a handler (SIG_IGN is 1) with sa_flags, empty mask. */
static inline long set_signal_handler(long signal, void (*handler)(int), unsigned long flags) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = (int)flags;
  return sigaction((int)signal, &action, NULL) == 0 ? 0 : -(long)errno;
}

#endif
