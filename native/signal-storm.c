/* signal-storm.c: see signal-storm.h. Built into the reference driver,
 * and with -DVFC_HOSTED into impls/glibc's driver (glibc and musl), which
 * get the same system calls through hosted-syscalls.h. */
#include "signal-storm.h"
#ifdef VFC_HOSTED
#include "hosted-syscalls.h"
#else
#include "vfc.h"
#endif

#ifndef STORM_INTERVAL_NANOSECONDS
#define STORM_INTERVAL_NANOSECONDS 50000
#endif

static long driver_pid;
static int handler_report[2] = {-1, -1}; /* '!' per handler run elsewhere */

static void storm_handler(int signal) {
  (void)signal;
  /* getpid is the kernel's answer, not memory: right even in a vfork child
   * that shares every variable here with the driver. */
  if (SYS0(NR_getpid) != driver_pid) SYS3(NR_write, handler_report[1], "!", 1);
}

#ifndef VFC_HOSTED
long set_signal_handler(long signal, void (*handler)(int), unsigned long flags) {
  unsigned char action[64] __attribute__((aligned(8)));
  memset(action, 0, sizeof action); /* empty sa_mask */
  *(void (**)(int))(action + SIGACTION_HANDLER_OFFSET) = handler;
#ifdef ARCH_HAS_SIGNAL_RESTORER
  flags |= SA_RESTORER;
  *(void (**)(void))(action + SIGACTION_RESTORER_OFFSET) = vfc_signal_restorer;
#endif
  *(SIGACTION_FLAGS_TYPE *)(action + SIGACTION_FLAGS_OFFSET) = (SIGACTION_FLAGS_TYPE)flags;
  return SYS4(NR_rt_sigaction, signal, action, NULL, KERNEL_SIGSET_BYTES);
}
#endif

/* The storm's handler between cases: SA_RESTART, as the driver always had it
 * (a case's handler_flags hold only from storm_start to storm_stop). */
static long install_default_storm_handler(void) {
  return set_signal_handler(SIGWINCH, storm_handler, SA_RESTART);
}

void storm_prepare(void) {
  SYS2(NR_setpgid, 0, 0);
  driver_pid = SYS0(NR_getpid);
  SYS2(NR_pipe2, handler_report, O_CLOEXEC);
  install_default_storm_handler();
}

/* Outside a vfork wait, a signal to a traced driver waits while the tracer
 * takes it through the stops it costs: the driver is given this long. */
#define STORM_TRACED_NAP_NANOSECONDS (200L * STORM_INTERVAL_NANOSECONDS)

/* The driver's scheduler state, from /proc/<pid>/stat (after the last ')'):
 * 'D' in a vfork wait (TASK_KILLABLE), 't' stopped by its tracer. */
static char driver_state(const char *stat_path) {
  char text[1024];
  long fd = SYS4(NR_openat, AT_FDCWD, stat_path, O_RDONLY | O_CLOEXEC, 0);
  if (IS_SYSCALL_ERROR(fd)) return '?';
  long n = SYS3(NR_read, fd, text, sizeof text - 1);
  SYS1(NR_close, fd);
  long close_paren = -1;
  for (long i = 0; i < n; i++)
    if (text[i] == ')') close_paren = i;
  return close_paren >= 0 && close_paren + 2 < n ? text[close_paren + 2] : '?';
}

/* "/proc/<pid>/stat", formatted here (no buffer: the hosted build has none). */
static void format_stat_path(char path[32], long pid) {
  char digits[20];
  int count = 0, at = 6;
  do digits[count++] = (char)('0' + pid % 10);
  while ((pid /= 10) > 0);
  memcpy(path, "/proc/", 6);
  while (count) path[at++] = digits[--count];
  memcpy(path + at, "/stat", 6);
}

long storm_start(unsigned long handler_flags) {
  int ready[2];
  long r = set_signal_handler(SIGWINCH, storm_handler, handler_flags);
  if (IS_SYSCALL_ERROR(r)) return r;
  r = SYS2(NR_pipe2, ready, O_CLOEXEC);
  if (IS_SYSCALL_ERROR(r)) {
    install_default_storm_handler();
    return r;
  }
  long pid = CLONE_ARGS_SWAPPED ? SYS2(NR_clone, 0, SIGCHLD) : SYS2(NR_clone, SIGCHLD, 0);
  if (pid == 0) {
    /* The storm process (a fork: its own memory) ignores its own storm. */
    set_signal_handler(SIGWINCH, (void (*)(int))1 /* SIG_IGN */, 0);
    SYS2(NR_kill, -driver_pid, SIGWINCH);
    SYS3(NR_write, ready[1], "R", 1);
    /* A short nap between signals: a storm without pause starves an
     * emulated driver (qemu-user delivers each one to the guest at some
     * cost, and -strace logs every call), while one signal every few tens
     * of microseconds still falls many times into the window between clone
     * and exec. It stops by itself once the driver is gone (crashed,
     * killed): an orphan is reparented and must not storm on.
     * A driver stopped by its tracer (the system tier's init, strace) is
     * given a longer nap: there each signal costs it a signal stop (and
     * under strace the stops of its handler's getpid and rt_sigreturn; the
     * system tier's init stops only the calls it reports), and when those take
     * longer than the nap, the next signal is pending at every return from
     * a handler, so the driver runs nothing but handlers and the case never
     * ends (seen on mips64le/system; reproduced on any VM whose CPU is slow
     * against its clock, qemu -icount shift=4: docs/tiers.md, the system tier). In a
     * vfork wait (the child's window between clone and exec) the driver is
     * in 'D', not 't', and the storm keeps its short nap. */
    char stat_path[32];
    format_stat_path(stat_path, driver_pid);
    for (unsigned long round = 1;; round++) {
      if (round % 64 == 0 && SYS0(NR_getppid) != driver_pid) exit_group(0);
      SYS2(NR_kill, -driver_pid, SIGWINCH);
      long nap[2] = {0, driver_state(stat_path) == 't' ? STORM_TRACED_NAP_NANOSECONDS : STORM_INTERVAL_NANOSECONDS};
      SYS4(NR_clock_nanosleep, CLOCK_MONOTONIC, 0, nap, NULL);
    }
  }
  SYS1(NR_close, ready[1]);
  if (!IS_SYSCALL_ERROR(pid)) {
    /* Blocks until the storm has sent its first signal (EOF if it died). */
    char byte;
    while (SYS3(NR_read, ready[0], &byte, 1) == -4) {
    }
  }
  SYS1(NR_close, ready[0]);
  if (IS_SYSCALL_ERROR(pid)) install_default_storm_handler(); /* no storm_stop follows */
  return pid;
}

long storm_stop(long storm_pid) {
  SYS2(NR_kill, storm_pid, 9 /* SIGKILL */);
  int status;
  while (SYS4(NR_wait4, storm_pid, &status, 0, 0) == -4) {
  }
  /* Every handler run in a child happened before its exec or exit, that
   * is before the spawn returned; an end marker after them ends the count. */
  SYS3(NR_write, handler_report[1], "E", 1);
  install_default_storm_handler();
  long count = 0;
  for (;;) {
    char byte;
    long r = SYS3(NR_read, handler_report[0], &byte, 1);
    if (r == -4) continue;
    if (r != 1 || byte == 'E') break;
    count++;
  }
  return count;
}
