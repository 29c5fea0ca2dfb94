/*
 * reap-all.c: --reap-all PROGRAM ARGS..., the host's fallback containment
 * where no PID namespace can be made (harness/targets/containment.ts). It runs
 * PROGRAM as its child and is a child subreaper, so everything PROGRAM
 * starts stays below it even after a double fork and setsid. When PROGRAM
 * exits, when this process gets SIGTERM, or when its parent (the harness)
 * dies (PR_SET_PDEATHSIG SIGTERM), it SIGKILLs every process left below it,
 * reaps them, and exits with PROGRAM's status (128+N for signal N).
 * Host only (amd64: the only architecture header with prctl).
 */
#include "arch.h"
#include "vfc.h"

#ifdef NR_prctl
#define PR_SET_PDEATHSIG 1
#define PR_SET_CHILD_SUBREAPER 36
#define SIGTERM_ 15
#define SIGKILL_ 9
#define E_INTR 4
#define E_CHILD 10

static volatile int stop_requested;

static void on_stop(int signal) {
  (void)signal;
  stop_requested = 1;
}

/* SIGKILLs this process's children, read from /proc (single-threaded: one task). */
static void kill_children(long self) {
  struct buffer path = {0};
  buffer_append_string(&path, "/proc/self/task/");
  buffer_append_decimal(&path, self);
  buffer_append_string(&path, "/children");
  buffer_append(&path, "", 1);
  long fd = SYS4(NR_openat, AT_FDCWD, path.data, O_RDONLY | O_CLOEXEC, 0);
  buffer_free(&path);
  if (IS_SYSCALL_ERROR(fd)) return;
  char text[4096];
  long n = SYS3(NR_read, fd, text, sizeof text - 1);
  SYS1(NR_close, fd);
  if (n <= 0) return;
  long pid = 0;
  for (long i = 0; i <= n; i++) {
    if (i < n && text[i] >= '0' && text[i] <= '9') pid = pid * 10 + (text[i] - '0');
    else if (pid > 0) {
      SYS2(NR_kill, pid, SIGKILL_);
      pid = 0;
    }
  }
}

__attribute__((noreturn)) void reap_all_main(char **argv, char **envp) {
  long parent = SYS0(NR_getppid);
  long self = SYS0(NR_getpid);
  SYS2(NR_prctl, PR_SET_CHILD_SUBREAPER, 1);
  set_signal_handler(SIGTERM_, on_stop, 0); /* no SA_RESTART: wait4 returns EINTR */
  SYS2(NR_prctl, PR_SET_PDEATHSIG, SIGTERM_);
  if (SYS0(NR_getppid) != parent) exit_group(1); /* the parent died before the request took */
  long program = SYS2(NR_clone, SIGCHLD, 0);
  if (program == 0) {
    SYS2(NR_prctl, PR_SET_PDEATHSIG, SIGKILL_);
    long r = SYS3(NR_execve, argv[0], argv, envp);
    exit_group(r == -2 ? 127 : 126);
  }
  if (IS_SYSCALL_ERROR(program)) exit_group(126);
  int status = 0;
  int exit_code = 128 + SIGKILL_;
  while (!stop_requested) {
    long r = SYS4(NR_wait4, -1, &status, __WALL, 0);
    if (r == program) {
      exit_code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
      break;
    }
    if (r == -E_CHILD) break;
  }
  /* Whatever is left below (reparented here, setsid or not) goes now; new
   * orphans of the killed appear as children in the next round. */
  for (;;) {
    kill_children(self);
    long r = SYS4(NR_wait4, -1, &status, __WALL, 0);
    if (r == -E_CHILD) break;
  }
  exit_group(exit_code);
}
#endif
