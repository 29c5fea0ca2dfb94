/*
 * system-init.c: process 1 of a system-tier VM (the kernel runs
 * `/init --system-init <case deadline ms>`). It
 *   - mounts /proc (the driver lists descriptors and execs /proc/self/exe),
 *   - puts the console in raw mode: no echo, no line editing, no 4096-byte
 *     canonical limit, no CR/LF translation, so protocol lines cross intact,
 *   - raises the stack limit where pages are large (see make_room_for_max_argument_string),
 *   - runs the reference build's probe (/reference --probe), whose "caps"
 *     line goes straight to the console,
 *   - starts the driver (/driver --driver) under ptrace and reports what the
 *     kernel says it called: every clone, clone3, fork and vfork with its
 *     flags and result, and the per-case lseek markers, as "trace ..." lines
 *     in strace's shape, and the kernel's PTRACE_EVENT_VFORK_DONE (the end
 *     of a vfork parent's wait for its child's exec or exit) just before
 *     the clone's return. The implementation under test cannot forge these.
 *   - enforces the per-case deadline inside the VM: when a case outlives it,
 *     every process but this one is killed ("vfc-init case-deadline id=N"),
 *   - restarts the driver whenever it ends ("vfc-init driver-exit ..."),
 *     so a crashing implementation costs a restart, not a reboot.
 * Any line the harness must act on starts with "vfc-init " or "trace ".
 */
#include "vfc.h"

#define PTRACE_TRACEME 0
#define PTRACE_PEEKDATA 2
#define PTRACE_SYSCALL 24
#define PTRACE_SETOPTIONS 0x4200
#define PTRACE_GETEVENTMSG 0x4201
#define PTRACE_GET_SYSCALL_INFO 0x420e
#define PTRACE_O_TRACESYSGOOD 1
#define PTRACE_O_TRACEVFORKDONE 0x20
#define PTRACE_EVENT_VFORK_DONE 5
#define PTRACE_O_EXITKILL 0x100000
#define PTRACE_SYSCALL_INFO_ENTRY 1
#define PTRACE_SYSCALL_INFO_EXIT 2
#define SIGTRAP 5
#define SIGKILL 9
#define SIGALRM 14
#define ITIMER_REAL 0
#define EINTR 4
#define ECHILD 10

/* struct ptrace_syscall_info: the same layout on every architecture (u64
 * fields), so one tracer serves all nine. */
struct syscall_info {
  unsigned char op;
  unsigned char pad[3];
  unsigned int arch;
  unsigned long long instruction_pointer, stack_pointer;
  union {
    struct {
      unsigned long long nr, args[6];
    } entry;
    struct {
      long long rval;
      unsigned char is_error;
    } exit;
  } u;
};

static volatile int deadline_passed;
static long case_deadline_ms = 10000;
static long current_case = -1;

static void say(const char *a, const char *b, long number, int with_number) {
  struct buffer line = {0};
  buffer_append_string(&line, a);
  buffer_append_string(&line, b);
  if (with_number) buffer_append_decimal(&line, number);
  buffer_append_string(&line, "\n");
  write_all(1, line.data, line.length); /* one write: lines do not interleave */
  buffer_free(&line);
}

static __attribute__((noreturn)) void power_off(const char *why) {
  say("vfc-init fatal: ", why, 0, 0);
  SYS4(NR_reboot, 0xfee1dead, 672274793, 0x4321fedc /* POWER_OFF */, 0);
  exit_group(1);
}

/* Raw mode, keeping the line's speed and size (c_cflag): every input, output
 * and local flag off. Zeroed words mean the same on every architecture even
 * where the flag bits differ (ppc, mips); only VMIN/VTIME sit elsewhere. */
static void console_raw_mode(void) {
  unsigned char termios[64] __attribute__((aligned(8)));
  memset(termios, 0, sizeof termios);
  if (IS_SYSCALL_ERROR(SYS3(NR_ioctl, 0, TCGETS, termios))) return; /* not a tty */
  memset(termios, 0, 8);       /* c_iflag, c_oflag */
  memset(termios + 12, 0, 4);  /* c_lflag */
  termios[TERMIOS_VMIN_OFFSET] = 1; /* a read returns as soon as a byte is there */
  termios[TERMIOS_VTIME_OFFSET] = 0;
  SYS3(NR_ioctl, 0, TCSETS, termios);
}

static void on_alarm(int signal) {
  (void)signal;
  deadline_passed = 1;
}

/* Fires every 100 ms after the deadline until cleared, so a wait4 that
 * started just after the first signal is interrupted too. */
static void arm_deadline(long ms) {
  long timer[4] = {0, ms ? 100000 : 0, ms / 1000, (ms % 1000) * 1000}; /* interval, value */
  deadline_passed = 0;
  SYS3(NR_setitimer, ITIMER_REAL, timer, NULL);
}

static long wait_for(long pid, int *status) {
  return SYS4(NR_wait4, pid, status, __WALL, 0);
}

static void run_probe(void) {
  long pid = SYS2(NR_clone, CLONE_ARGS_SWAPPED ? 0 : SIGCHLD, CLONE_ARGS_SWAPPED ? SIGCHLD : 0);
  if (pid == 0) {
    char *argv[] = {"/reference", "--probe", NULL};
    char *envp[] = {NULL};
    SYS3(NR_execve, "/reference", argv, envp);
    exit_group(127);
  }
  int status = 0;
  while (wait_for(pid, &status) == -EINTR) {}
  if (status != 0) say("vfc-init probe-failed status=", "", status, 1);
}

static long start_traced_driver(void) {
  long pid = SYS2(NR_clone, CLONE_ARGS_SWAPPED ? 0 : SIGCHLD, CLONE_ARGS_SWAPPED ? SIGCHLD : 0);
  if (pid == 0) {
    char *argv[] = {"/driver", "--driver", NULL};
    char *envp[] = {NULL};
    SYS2(NR_setitimer, ITIMER_REAL, NULL);
    SYS1(NR_chdir, "/fixtures");
    SYS4(NR_ptrace, PTRACE_TRACEME, 0, 0, 0);
    SYS3(NR_execve, "/driver", argv, envp); /* stops with SIGTRAP once exec'd */
    exit_group(127);
  }
  return pid;
}

/* What the tracer remembers between a syscall's entry and its exit. */
struct pending_call {
  int is_clone;
  unsigned long long flags;
};

static unsigned long long clone3_flags(long pid, unsigned long long arguments) {
  unsigned long word = 0; /* clone_args.flags is a u64 at offset 0 */
  SYS4(NR_ptrace, PTRACE_PEEKDATA, pid, (long)arguments, &word);
  return word;
}

static void on_syscall_entry(long pid, const struct syscall_info *info, struct pending_call *pending) {
  unsigned long long nr = info->u.entry.nr;
  pending->is_clone = 1;
  if (nr == NR_clone) pending->flags = info->u.entry.args[CLONE_ARGS_SWAPPED ? 1 : 0];
  else if (nr == NR_clone3) pending->flags = clone3_flags(pid, info->u.entry.args[0]);
#ifdef NR_vfork
  else if (nr == NR_vfork) pending->flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
#endif
#ifdef NR_fork
  else if (nr == NR_fork) pending->flags = SIGCHLD;
#endif
  else pending->is_clone = 0;
  if (nr != NR_lseek || (int)info->u.entry.args[0] != -1) return;
  long id = (long)info->u.entry.args[1];
  int end = info->u.entry.args[2] == 2;
  /* The marker reaches the console before the driver can go on to write
   * its result line: the driver is stopped until this tracer resumes it. */
  struct buffer line = {0};
  buffer_append_string(&line, "trace lseek(-1, ");
  buffer_append_decimal(&line, id);
  buffer_append_string(&line, end ? ", SEEK_END) = -9\n" : ", SEEK_SET) = -9\n");
  write_all(1, line.data, line.length);
  buffer_free(&line);
  current_case = end ? -1 : id;
  arm_deadline(end ? 0 : case_deadline_ms);
}

static void on_syscall_exit(const struct syscall_info *info, struct pending_call *pending) {
  if (!pending->is_clone) return;
  pending->is_clone = 0;
  struct buffer line = {0};
  buffer_append_string(&line, "trace clone(flags=0x");
  buffer_append_hex_number(&line, (unsigned long)pending->flags);
  buffer_append_string(&line, ") = ");
  buffer_append_decimal(&line, (long)info->u.exit.rval);
  buffer_append_string(&line, "\n");
  write_all(1, line.data, line.length);
  buffer_free(&line);
}

/* The kernel stops a vfork parent here once its wait has ended, that is
 * once the child released the parent's memory (mm_release: at the start of
 * a successful exec, or at exit); the message is the child's pid. Printed
 * before the clone's own line, which comes at the syscall's exit. */
static void report_vfork_done(long pid) {
  unsigned long child = 0;
  SYS4(NR_ptrace, PTRACE_GETEVENTMSG, pid, 0, &child);
  say("trace PTRACE_EVENT_VFORK_DONE child=", "", (long)child, 1);
}

/* Kills every process but this one (kill(-1) spares the caller and init,
 * which is us), then reaps them all. */
static void kill_everything_else(void) {
  SYS2(NR_kill, -1, SIGKILL);
  int status;
  while (SYS4(NR_wait4, -1, &status, __WALL, 0) != -ECHILD) {}
}

/* Serves one driver until it ends; says how it ended. */
static void trace_driver(long driver) {
  struct pending_call pending = {0, 0};
  int options_set = 0;
  for (;;) {
    int status = 0;
    long pid = wait_for(-1, &status);
    if (pid == -EINTR || deadline_passed) {
      if (deadline_passed && current_case >= 0) {
        say("vfc-init case-deadline id=", "", current_case, 1);
        arm_deadline(0);
        current_case = -1;
        kill_everything_else();
        say("vfc-init driver-exit signal=", "", SIGKILL, 1);
        return;
      }
      deadline_passed = 0;
      continue;
    }
    if (pid == -ECHILD) power_off("the driver vanished");
    if (pid != driver) continue; /* an orphan reparented to us, now reaped */
    int low = status & 0x7f;
    if (low != 0x7f) { /* exited or killed, not stopped */
      arm_deadline(0);
      current_case = -1;
      if (low == 0) say("vfc-init driver-exit status=", "", (status >> 8) & 0xff, 1);
      else say("vfc-init driver-exit signal=", "", low, 1);
      kill_everything_else(); /* the driver's strays (a storm process) too */
      return;
    }
    int signal = (status >> 8) & 0xff;
    int event = status >> 16;
    long inject = 0;
    if (signal == (SIGTRAP | 0x80)) {
      struct syscall_info info;
      memset(&info, 0, sizeof info);
      SYS4(NR_ptrace, PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info);
      if (info.op == PTRACE_SYSCALL_INFO_ENTRY) on_syscall_entry(pid, &info, &pending);
      else if (info.op == PTRACE_SYSCALL_INFO_EXIT) on_syscall_exit(&info, &pending);
    } else if (signal == SIGTRAP && event == PTRACE_EVENT_VFORK_DONE) {
      report_vfork_done(pid);
    } else if (signal == SIGTRAP && !options_set && event == 0) {
      /* The stop after exec: from here on, syscall stops are marked. The
       * vfork-done stop is one more per vfork clone, none for anything else
       * (the children are not traced: no stop in them). */
      SYS4(NR_ptrace, PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEVFORKDONE);
      options_set = 1;
    } else if (event == 0) {
      inject = signal; /* a signal for the driver (the storm's): deliver it */
    }
    SYS4(NR_ptrace, PTRACE_SYSCALL, pid, 0, inject);
  }
}

/* The kernel's argument space is a quarter of the stack limit (8 MiB at
 * boot: 2 MiB), and one string may be 32 pages. With 64 KiB pages (ppc64le)
 * that is 2 MiB as well, so no string of MAX_ARG_STRLEN could ever pass and
 * the probe could not find the limit. Raise the limit until the space holds
 * two such strings; with 4 KiB and 16 KiB pages it already does. */
#define RLIMIT_STACK 3
extern long auxv_page_size;

static void make_room_for_max_argument_string(void) {
  unsigned long long limit[2]; /* struct rlimit64: current, maximum */
  unsigned long long wanted = 8ULL * 32 * (unsigned long long)auxv_page_size;
  if (IS_SYSCALL_ERROR(SYS4(NR_prlimit64, 0, RLIMIT_STACK, NULL, limit)) || limit[0] >= wanted) return;
  limit[0] = wanted;
  if (limit[1] < wanted) limit[1] = wanted;
  SYS4(NR_prlimit64, 0, RLIMIT_STACK, limit, NULL);
}

void system_init_main(long argc, char **argv) {
  if (argc >= 3) parse_decimal(argv[2], string_length(argv[2]), &case_deadline_ms);
  SYS5(NR_mount, "proc", "/proc", "proc", 0, NULL);
  console_raw_mode();
  make_room_for_max_argument_string();
  set_signal_handler(SIGALRM, on_alarm, 0); /* no SA_RESTART: wait4 returns EINTR */
  say("vfc-init booted", "", 0, 0);
  run_probe();
  for (;;) {
    long driver = start_traced_driver();
    if (IS_SYSCALL_ERROR(driver)) power_off("cannot start the driver");
    trace_driver(driver);
  }
}
