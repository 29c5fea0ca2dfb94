/*
 * system-init.c: process 1 of a system-tier VM (the kernel runs
 * `/init --system-init <case deadline ms>`). It
 *   - mounts /proc (the driver lists descriptors and execs /proc/self/exe),
 *   - puts the console in raw mode: no echo, no line editing, no 4096-byte
 *     canonical limit, no CR/LF translation, so protocol lines cross intact,
 *   - sets the stack limit, and with it the argument space (see set_argument_space),
 *   - runs the reference build's probe (/reference --probe), whose "caps"
 *     line goes straight to the console,
 *   - starts the driver (/driver --driver) under ptrace and reports what the
 *     kernel says it called: every clone, clone3, fork and vfork with its
 *     flags and result, and the per-case lseek markers, as "trace ..." lines
 *     in strace's shape, and the kernel's PTRACE_EVENT_VFORK_DONE (the end
 *     of a vfork parent's wait for its child's exec or exit) just before
 *     the clone's return. The implementation under test cannot forge these.
 *     The driver stops only at those calls: before its exec it installs a
 *     seccomp filter that returns SECCOMP_RET_TRACE for them (on this
 *     architecture's AUDIT_ARCH) and SECCOMP_RET_ALLOW for everything else;
 *     init resumes with PTRACE_CONT, and PTRACE_SYSCALL once after a clone's
 *     seccomp stop to see its exit. The filter is inherited by every
 *     descendant, and a traced call of an untraced task fails with ENOSYS,
 *     so the driver is PTRACE_SEIZEd with fork, vfork and clone auto-attach:
 *     each task of its tree is traced, each of its stops is answered as the
 *     task would go on untraced (signals delivered, group-stops kept with
 *     PTRACE_LISTEN), and a traced task's exit is seen here first, then
 *     passed by the kernel to its parent, which reaps it as before.
 *   - enforces the per-case deadline inside the VM: when a case outlives it,
 *     every process but this one is killed ("vfc-init case-deadline id=N"),
 *   - restarts the driver whenever it ends ("vfc-init driver-exit ..."),
 *     so a crashing implementation costs a restart, not a reboot.
 * Any line the harness must act on starts with "vfc-init " or "trace ".
 * Test-only modes (words after the deadline): see start_driver and
 * move_to_virtio_console.
 */
#include "vfc.h"

#define PTRACE_PEEKDATA 2
#define PTRACE_CONT 7
#define PTRACE_SYSCALL 24
#define PTRACE_SETOPTIONS 0x4200
#define PTRACE_GETEVENTMSG 0x4201
#define PTRACE_SEIZE 0x4206
#define PTRACE_LISTEN 0x4208
#define PTRACE_GET_SYSCALL_INFO 0x420e
#define PTRACE_O_TRACESYSGOOD 1
#define PTRACE_O_TRACEFORK 2
#define PTRACE_O_TRACEVFORK 4
#define PTRACE_O_TRACECLONE 8
#define PTRACE_O_TRACEVFORKDONE 0x20
#define PTRACE_O_TRACESECCOMP 0x80
#define PTRACE_O_EXITKILL 0x100000
#define PTRACE_EVENT_VFORK_DONE 5
#define PTRACE_EVENT_SECCOMP 7
#define PTRACE_EVENT_STOP 128
#define PTRACE_SYSCALL_INFO_EXIT 2
#define PTRACE_SYSCALL_INFO_SECCOMP 3
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_RET_TRACE 0x7ff00000U
#define SECCOMP_RET_ALLOW 0x7fff0000U
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

/* Every line of init's starts on a line of its own: the driver writes to
 * the same console, and a line it left unterminated (a flood, a crash in
 * mid-line) must end before init's, never swallow it. An empty line is
 * nothing to the harness. */
static void start_line(struct buffer *line) {
  buffer_append_string(line, "\n");
}

static void say(const char *a, const char *b, long number, int with_number) {
  struct buffer line = {0};
  start_line(&line);
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

static int probe_killed = 0; /* the test-only mode probe-killed (see start_driver's modes) */

/* Runs /reference --probe as a child and waits for it: its status, or the
 * clone's error. Its caps line goes straight to the console. */
static long probe_in_child(int *status) {
  long pid = SYS2(NR_clone, CLONE_ARGS_SWAPPED ? 0 : SIGCHLD, CLONE_ARGS_SWAPPED ? SIGCHLD : 0);
  if (pid == 0) {
    char *argv[] = {"/reference", "--probe", NULL};
    char *envp[] = {NULL};
    SYS3(NR_execve, "/reference", argv, envp);
    exit_group(127);
  }
  *status = 0;
  if (IS_SYSCALL_ERROR(pid)) return pid;
  if (probe_killed) SYS2(NR_kill, pid, 11 /* SIGSEGV, on all nine */);
  while (wait_for(pid, status) == -EINTR) {}
  return 0;
}

static void run_probe(void) {
  int status = 0;
  long error = probe_in_child(&status);
  if (error != 0) status = (int)error;
  if (status != 0) say("vfc-init probe-failed status=", "", status, 1);
}

/* Classic BPF, as the kernel takes it (struct sock_filter, sock_fprog). */
struct bpf_instruction {
  unsigned short code;
  unsigned char jump_if_true, jump_if_false;
  unsigned int k;
};
struct bpf_program {
  unsigned short length;
  const struct bpf_instruction *instructions;
};
#define BPF_LOAD_WORD 0x20   /* BPF_LD | BPF_W | BPF_ABS: A = seccomp_data word at k */
#define BPF_JUMP_EQUAL 0x15  /* BPF_JMP | BPF_JEQ | BPF_K */
#define BPF_RETURN 0x06      /* BPF_RET | BPF_K */
/* struct seccomp_data: int nr, u32 arch, u64 instruction_pointer, u64 args[6]. */
#define SECCOMP_DATA_NR 0
#define SECCOMP_DATA_ARCH 4
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SECCOMP_DATA_ARG0_LOW_WORD 20 /* s390x: the u64's low half comes second */
#else
#define SECCOMP_DATA_ARG0_LOW_WORD 16
#endif

/* The calls the observer reports, and nothing else, stop in the tracer
 * (SECCOMP_RET_TRACE): the clone family and the per-case markers,
 * lseek(-1, ...) and ftruncate(0x7fffffff or 0x7ffffffe, ...). The kernel
 * takes both descriptors as an unsigned int, so the low word decides, as in
 * the kernel. A call of another ABI (its numbers mean other calls) is let
 * through unseen, as before: it is none of the calls this architecture's
 * driver makes. */
static const unsigned int traced_clone_calls[] = {
    NR_clone, NR_clone3,
#ifdef NR_fork
    NR_fork,
#endif
#ifdef NR_vfork
    NR_vfork,
#endif
};
#define TRACED_CLONE_CALL_COUNT (sizeof traced_clone_calls / sizeof traced_clone_calls[0])

/* lseek(-1, id, whence) marks a case; so does _llseek(-1, high, low,
 * &result, whence) where the architecture has it: glibc's lseek64 there,
 * all a driver without raw system calls (CPython's os.lseek) can make. */
static const unsigned int lseek_calls[] = {
    NR_lseek,
#ifdef NR__llseek
    NR__llseek,
#endif
};
#define LSEEK_CALL_COUNT (sizeof lseek_calls / sizeof lseek_calls[0])

/* A driver that can make neither (Node's fs) marks with ftruncate on a
 * descriptor that is never open: 0x7fffffff starts a case, 0x7ffffffe ends
 * it, the length is the id. ftruncate64 is glibc's ftruncate where the
 * architecture has it (386, arm). */
#define FTRUNCATE_START_DESCRIPTOR 0x7fffffffU
#define FTRUNCATE_END_DESCRIPTOR 0x7ffffffeU
static const unsigned int ftruncate_calls[] = {
    NR_ftruncate,
#ifdef NR_ftruncate64
    NR_ftruncate64,
#endif
};
#define FTRUNCATE_CALL_COUNT (sizeof ftruncate_calls / sizeof ftruncate_calls[0])

static long install_observer_filter(void) {
  enum {
    clones = TRACED_CLONE_CALL_COUNT,
    lseeks = LSEEK_CALL_COUNT,
    ftruncates = FTRUNCATE_CALL_COUNT,
    lseek_descriptor = 3 + clones + lseeks + ftruncates, /* 2 instructions */
    ftruncate_descriptor = lseek_descriptor + 2,         /* 3 instructions */
    allow = ftruncate_descriptor + 3,
    trace = allow + 1,
    length = trace + 1,
  };
  struct bpf_instruction program[length];
  int at = 0;
#define EMIT(code_, true_, false_, k_) (program[at] = (struct bpf_instruction){code_, true_, false_, k_}, at++)
#define TO(target) (unsigned char)((target) - at - 1) /* jumps count from the next instruction */
  EMIT(BPF_LOAD_WORD, 0, 0, SECCOMP_DATA_ARCH);
  EMIT(BPF_JUMP_EQUAL, 0, TO(allow), AUDIT_ARCH);
  EMIT(BPF_LOAD_WORD, 0, 0, SECCOMP_DATA_NR);
  for (unsigned i = 0; i < clones; i++) EMIT(BPF_JUMP_EQUAL, TO(trace), 0, traced_clone_calls[i]);
  for (unsigned i = 0; i < lseeks; i++) EMIT(BPF_JUMP_EQUAL, TO(lseek_descriptor), 0, lseek_calls[i]);
  /* The last number test sends every other call to allow. */
  for (unsigned i = 0; i < ftruncates; i++) EMIT(BPF_JUMP_EQUAL, TO(ftruncate_descriptor), i + 1 == ftruncates ? TO(allow) : 0, ftruncate_calls[i]);
  EMIT(BPF_LOAD_WORD, 0, 0, SECCOMP_DATA_ARG0_LOW_WORD);
  EMIT(BPF_JUMP_EQUAL, TO(trace), TO(allow), 0xffffffffU);
  /* An ftruncate of any other descriptor (a real one) goes on untraced. */
  EMIT(BPF_LOAD_WORD, 0, 0, SECCOMP_DATA_ARG0_LOW_WORD);
  EMIT(BPF_JUMP_EQUAL, TO(trace), 0, FTRUNCATE_START_DESCRIPTOR);
  EMIT(BPF_JUMP_EQUAL, TO(trace), TO(allow), FTRUNCATE_END_DESCRIPTOR);
  EMIT(BPF_RETURN, 0, 0, SECCOMP_RET_ALLOW);
  EMIT(BPF_RETURN, 0, 0, SECCOMP_RET_TRACE);
#undef EMIT
#undef TO
  if (at != length) power_off("the observer's filter is not the length it was laid out for");
  struct bpf_program filter = {length, program};
  /* init is root (CAP_SYS_ADMIN): no PR_SET_NO_NEW_PRIVS, which would
   * change what a setuid exec does in the driver's descendants. */
  return SYS3(NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter);
}

/* Every task of the driver's tree is traced (PTRACE_SEIZE's options are
 * inherited by auto-attached tasks): the filter is inherited too, and a
 * SECCOMP_RET_TRACE call of an untraced task would fail with ENOSYS. */
#define TRACE_OPTIONS \
  (PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK)
/* Test-only (test/system.test.ts): the same filter, descendants left
 * untraced; their filtered calls fail with ENOSYS. */
#define TRACE_OPTIONS_ROOT_ONLY (PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESECCOMP)

/* Test-only modes, from init's words after the deadline (the kernel command line):
 *   unobserved                 the driver runs untraced and unfiltered (the
 *                              system benchmark's "observer off" column); no
 *                              trace lines, no per-case deadline
 *   probe-descendant           before the driver, the probe runs again, as a
 *                              traced grandchild under the filter: its caps
 *                              line must be the untraced probe's
 *   probe-untraced-descendant  the same with the grandchild untraced (what
 *                              the filter does to a task the tracer misses)
 *   probe-killed               init kills its probe with SIGSEGV as soon as
 *                              it is cloned: a probe that crashes, reported
 *                              as any crash is ("vfc-init probe-failed") */
static int observer_on = 1;
static long descendant_probe_options = 0;

/* What init's child runs once it is seized and filtered: a grandchild that
 * execs the probe, so the probe's clones are a descendant's. */
static __attribute__((noreturn)) void probe_as_grandchild(void) {
  int status = 0;
  if (IS_SYSCALL_ERROR(probe_in_child(&status))) exit_group(126);
  exit_group(status == 0 ? 0 : 1);
}

/* The child waits on a pipe until the tracer has seized it (PTRACE_SEIZE
 * is the tracer's to make; it lets group-stops be kept with PTRACE_LISTEN),
 * then installs the filter and execs the driver; an exec of a seized
 * tracee makes no stop. */
static long start_driver(int observed, long options, int probe) {
  int go[2];
  if (IS_SYSCALL_ERROR(SYS2(NR_pipe2, go, O_CLOEXEC))) power_off("no pipe for the driver's start");
  long pid = SYS2(NR_clone, CLONE_ARGS_SWAPPED ? 0 : SIGCHLD, CLONE_ARGS_SWAPPED ? SIGCHLD : 0);
  if (pid == 0) {
    char *argv[] = {"/driver", "--driver", NULL};
    char *envp[] = {NULL};
    char byte;
    SYS2(NR_setitimer, ITIMER_REAL, NULL);
    SYS1(NR_chdir, "/fixtures");
    SYS1(NR_close, go[1]);
    if (observed) {
      if (SYS3(NR_read, go[0], &byte, 1) != 1) exit_group(127);
      if (IS_SYSCALL_ERROR(install_observer_filter())) power_off("the kernel refused the observer's seccomp filter");
    }
    if (probe) probe_as_grandchild();
    SYS3(NR_execve, "/driver", argv, envp);
    exit_group(127);
  }
  if (!IS_SYSCALL_ERROR(pid) && observed) {
    if (IS_SYSCALL_ERROR(SYS4(NR_ptrace, PTRACE_SEIZE, pid, 0, options))) power_off("cannot trace the driver");
    SYS3(NR_write, go[1], "g", 1);
  }
  SYS1(NR_close, go[0]);
  SYS1(NR_close, go[1]);
  return pid;
}

/* A clone-family call between its seccomp stop and its exit, by task: the
 * driver's threads may each be in one. */
struct pending_clone {
  long pid; /* 0: free */
  unsigned long long flags;
  /* clone3: its struct clone_args as read at the call's entry. */
  int is_clone3;
  unsigned long long exit_signal, pidfd, cgroup, size;
};
#define PENDING_CLONE_SLOTS 64
static struct pending_clone pending_clones[PENDING_CLONE_SLOTS];

static struct pending_clone *pending_clone_of(long pid) {
  for (int i = 0; i < PENDING_CLONE_SLOTS; i++)
    if (pending_clones[i].pid == pid) return &pending_clones[i];
  return NULL;
}

static void forget_pending_clone(long pid) {
  struct pending_clone *pending = pending_clone_of(pid);
  if (pending) pending->pid = 0;
}

/* Reads clone3's struct clone_args (at most CLONE_ARGS_READ_BYTES of it)
 * out of the caller: one PTRACE_PEEKDATA word (sizeof(long): 4 bytes on
 * arm and 386) after another, each copied to the buffer at its own offset,
 * so the bytes stand in the guest's own order (init runs on the driver's
 * architecture) and the __aligned_u64 fields are read whole, big-endian
 * s390x included. A word the caller cannot give stays zero. */
#define CLONE_ARGS_READ_BYTES 88 /* CLONE_ARGS_SIZE_VER2: up to cgroup */
static void read_clone_args(long pid, unsigned long long address, unsigned long long size, struct clone_args *args) {
  memset(args, 0, sizeof *args);
  unsigned long long bytes = size < CLONE_ARGS_READ_BYTES ? size : CLONE_ARGS_READ_BYTES;
  for (unsigned long long at = 0; at < bytes; at += sizeof(long)) {
    unsigned long word = 0;
    SYS4(NR_ptrace, PTRACE_PEEKDATA, pid, (long)(address + at), &word);
    memcpy((char *)args + at, &word, sizeof word);
  }
}

/* The exit signal as the observer reads it: the whole u64. */
static unsigned long long clone_args_exit_signal(const struct clone_args *args) {
#if defined(MUTANT_OBSERVER_EXIT_SIGNAL_INT)
  /* Observer bug (src/mutants.ts): the field read as a 4-byte int at its
   * offset: on big-endian s390x that is the u64's high half, 0. */
  return *(const unsigned int *)&args->exit_signal;
#elif defined(MUTANT_OBSERVER_FIELDS_AS_LONGS)
  /* Observer bug: the struct taken as an array of unsigned long, field 4
   * at 4 * sizeof(long): on 32-bit arm and 386 offset 16, child_tid's low
   * half (0 for a spawn), not exit_signal at 32. */
  return ((const unsigned long *)args)[4];
#else
  return args->exit_signal;
#endif
}

static void report_marker(long id, int end) {
  /* The marker reaches the console before the driver can go on to write
   * its result line: the driver is stopped until this tracer resumes it. */
  struct buffer line = {0};
  start_line(&line);
  buffer_append_string(&line, "trace lseek(-1, ");
  buffer_append_decimal(&line, id);
  buffer_append_string(&line, end ? ", SEEK_END) = -9\n" : ", SEEK_SET) = -9\n");
  write_all(1, line.data, line.length);
  buffer_free(&line);
  current_case = end ? -1 : id;
  arm_deadline(end ? 0 : case_deadline_ms);
}

/* A filtered call's entry. Returns 1 when it is a clone whose exit (its
 * result) the tracer must see: the task is then resumed with PTRACE_SYSCALL. */
static int on_seccomp_stop(long pid, const struct syscall_info *info) {
  unsigned long long nr = info->u.entry.nr;
  unsigned long long flags;
  if (nr == NR_clone) flags = info->u.entry.args[CLONE_ARGS_SWAPPED ? 1 : 0];
  else if (nr == NR_clone3) {
    struct clone_args args;
    read_clone_args(pid, info->u.entry.args[0], info->u.entry.args[1], &args);
    struct pending_clone *slot = pending_clone_of(0);
    if (!slot) power_off("more tasks in a clone at once than the tracer has slots for");
    *slot = (struct pending_clone){pid, args.flags, 1, clone_args_exit_signal(&args), args.pidfd, args.cgroup, info->u.entry.args[1]};
    return 1;
  }
#ifdef NR_vfork
  else if (nr == NR_vfork) flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
#endif
#ifdef NR_fork
  else if (nr == NR_fork) flags = SIGCHLD;
#endif
  else {
    if (nr == NR_lseek && (int)info->u.entry.args[0] == -1) report_marker((long)info->u.entry.args[1], info->u.entry.args[2] == 2);
#ifdef NR__llseek
    /* The id is the offset's low word (a case id fits it). */
    if (nr == NR__llseek && (int)info->u.entry.args[0] == -1) report_marker((long)info->u.entry.args[2], info->u.entry.args[4] == 2);
#endif
    unsigned int descriptor = (unsigned int)info->u.entry.args[0];
    int ftruncate_marker = descriptor == FTRUNCATE_START_DESCRIPTOR || descriptor == FTRUNCATE_END_DESCRIPTOR;
    if (nr == NR_ftruncate && ftruncate_marker) report_marker((long)info->u.entry.args[1], descriptor == FTRUNCATE_END_DESCRIPTOR);
#ifdef NR_ftruncate64
    /* The id is the length's low word, as for _llseek. */
    if (nr == NR_ftruncate64 && ftruncate_marker) report_marker((long)info->u.entry.args[FTRUNCATE64_LENGTH_LOW_ARG], descriptor == FTRUNCATE_END_DESCRIPTOR);
#endif
    return 0;
  }
  struct pending_clone *slot = pending_clone_of(0);
  if (!slot) power_off("more tasks in a clone at once than the tracer has slots for");
  *slot = (struct pending_clone){.pid = pid, .flags = flags};
  return 1;
}

/* A u64 in hex on every architecture: a 32-bit long holds half of it. */
static void append_u64_hex(struct buffer *line, unsigned long long value) {
  if (value >> 32) {
    buffer_append_hex_number(line, (unsigned long)(value >> 32));
    char digits[8];
    for (int i = 7; i >= 0; i--, value >>= 4) digits[i] = "0123456789abcdef"[value & 15];
    buffer_append(line, digits, sizeof digits);
  } else {
    buffer_append_hex_number(line, (unsigned long)value);
  }
}

static void on_clone_exit(struct pending_clone *pending, const struct syscall_info *info) {
  struct buffer line = {0};
  start_line(&line);
  buffer_append_string(&line, pending->is_clone3 ? "trace clone3({flags=0x" : "trace clone(flags=0x");
  append_u64_hex(&line, pending->flags);
  if (pending->is_clone3) {
    /* clone3 keeps the exit signal apart from the flags, which are 64
     * bits (CLONE_CLEAR_SIGHAND, CLONE_INTO_CGROUP above bit 31). */
    buffer_append_string(&line, ", exit_signal=");
    buffer_append_decimal(&line, (long)pending->exit_signal);
    buffer_append_string(&line, ", pidfd=0x");
    append_u64_hex(&line, pending->pidfd);
    buffer_append_string(&line, ", cgroup=");
    buffer_append_decimal(&line, (long)pending->cgroup);
    buffer_append_string(&line, "}, ");
    buffer_append_decimal(&line, (long)pending->size);
  }
  buffer_append_string(&line, ") = ");
  buffer_append_decimal(&line, (long)info->u.exit.rval);
  buffer_append_string(&line, "\n");
  write_all(1, line.data, line.length);
  buffer_free(&line);
  pending->pid = 0;
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
  for (int i = 0; i < PENDING_CLONE_SLOTS; i++) pending_clones[i].pid = 0;
}

/* One stop of a traced task of the driver's tree, and how it goes on:
 * each stop is answered so that the task does what it would untraced. */
static void on_stop(long pid, int status) {
  int signal = (status >> 8) & 0xff;
  int event = status >> 16;
  long resume = PTRACE_CONT, inject = 0;
  struct pending_clone *pending = pending_clone_of(pid);
  if (event == PTRACE_EVENT_SECCOMP) {
    struct syscall_info info;
    memset(&info, 0, sizeof info);
    SYS4(NR_ptrace, PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info);
    if (info.op == PTRACE_SYSCALL_INFO_SECCOMP && on_seccomp_stop(pid, &info)) resume = PTRACE_SYSCALL;
  } else if (signal == (SIGTRAP | 0x80)) {
    /* A syscall stop comes only after a clone's seccomp stop: its exit. */
    struct syscall_info info;
    memset(&info, 0, sizeof info);
    SYS4(NR_ptrace, PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info);
    if (info.op == PTRACE_SYSCALL_INFO_EXIT && pending) on_clone_exit(pending, &info);
    pending = NULL;
  } else if (event == PTRACE_EVENT_VFORK_DONE) {
    report_vfork_done(pid);
  } else if (event == PTRACE_EVENT_STOP) {
    /* A seized task's group-stop (its signal a stopping one) stays stopped
     * until SIGCONT, as untraced (PTRACE_LISTEN); any other (a new task's
     * first stop, SIGTRAP) goes on. */
    if (signal != SIGTRAP) resume = PTRACE_LISTEN;
  } else if (event == 0) {
    inject = signal; /* a signal for the task: deliver it */
  } /* else PTRACE_EVENT_FORK/VFORK/CLONE: the new task makes its own first stop */
  /* Between a clone's entry and exit come its fork event and vfork-done stops. */
  if (pending && resume == PTRACE_CONT) resume = PTRACE_SYSCALL;
  /* A PTRACE_LISTEN the kernel refuses would leave the task stopped for good. */
  if (IS_SYSCALL_ERROR(SYS4(NR_ptrace, resume, pid, 0, inject)) && resume == PTRACE_LISTEN) SYS4(NR_ptrace, PTRACE_CONT, pid, 0, 0);
}

/* Serves one driver until it ends; says how it ended. */
static void serve_driver(long driver) {
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
    if ((status & 0xff) == 0x7f) { /* stopped: a traced task of the driver's tree */
      on_stop(pid, status);
      continue;
    }
    /* Exited or killed. A traced task's end is the tracer's to see first;
     * the kernel tells its parent once this wait has taken it. An orphan
     * reparented to init is reaped here. */
    forget_pending_clone(pid);
    if (pid != driver) continue;
    int low = status & 0x7f;
    arm_deadline(0);
    current_case = -1;
    if (low == 0) say("vfc-init driver-exit status=", "", (status >> 8) & 0xff, 1);
    else say("vfc-init driver-exit signal=", "", low, 1);
    kill_everything_else(); /* the driver's strays (a storm process) too */
    return;
  }
}

/* The kernel's argument space is a quarter of the stack limit, and one
 * string may be 32 pages (MAX_ARG_STRLEN). init sets the limit so that the
 * space holds exactly four such strings: 2 MiB of stack with 4 KiB pages,
 * 32 MiB with 64 KiB pages (ppc64le, where a quarter of the boot-time
 * 8 MiB would equal MAX_ARG_STRLEN and the probe could not tell the two
 * limits apart).
 *
 * Why not the boot-time 8 MiB: execve copies the strings onto the new
 * stack until the space runs out, so an environment past the total limit
 * costs the guest kernel a copy of the whole space. Under TCG that copy is
 * slow on arm and riscv64 (about 1.2 us a byte, against under 0.07 us on
 * amd64 and arm64), 3 s a case at 2 MiB of space; at 512 KiB it is a quarter of
 * that. The probe measures the limit and the oracle uses it. */
#define RLIMIT_STACK 3
#define ARGUMENT_SPACE_IN_MAX_STRINGS 4
extern long auxv_page_size;

static void set_argument_space(void) {
  unsigned long long limit[2]; /* struct rlimit64: current, maximum */
  /* four times the space: the kernel gives arguments a quarter of the stack limit */
  unsigned long long wanted = 4ULL * ARGUMENT_SPACE_IN_MAX_STRINGS * 32 * (unsigned long long)auxv_page_size;
  if (IS_SYSCALL_ERROR(SYS4(NR_prlimit64, 0, RLIMIT_STACK, NULL, limit))) return;
  limit[0] = wanted;
  if (limit[1] < wanted) limit[1] = wanted;
  SYS4(NR_prlimit64, 0, RLIMIT_STACK, limit, NULL);
}

/* Test-only (the system benchmark's virtio-console column): the console is
 * a virtio console, whose modules the initramfs holds as /modules/00.ko,
 * 01.ko, ... in load order. Its port appears once the device has announced
 * it (asynchronously), so opening /dev/hvc0 is retried for a while. */
static void move_to_virtio_console(void) {
  char path[] = "/modules/00.ko";
  for (int index = 0; index < 100; index++) {
    path[9] = (char)('0' + index / 10);
    path[10] = (char)('0' + index % 10);
    long module = SYS4(NR_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (IS_SYSCALL_ERROR(module)) break;
    long loaded = SYS3(NR_finit_module, module, "", 0);
    SYS1(NR_close, module);
    if (IS_SYSCALL_ERROR(loaded) && loaded != -17 /* EEXIST */) power_off("a virtio console module did not load");
  }
  for (int attempt = 0; attempt < 500; attempt++) {
    long console = SYS4(NR_openat, AT_FDCWD, "/dev/hvc0", O_RDWR, 0);
    if (!IS_SYSCALL_ERROR(console)) {
      for (int fd = 0; fd < 3; fd++)
        if (console != fd) SYS3(NR_dup3, console, fd, 0);
      if (console > 2) SYS1(NR_close, console);
      return;
    }
    long pause[2] = {0, 10000000}; /* 10 ms */
    SYS4(NR_clock_nanosleep, CLOCK_MONOTONIC, 0, pause, NULL);
  }
  power_off("no virtio console (/dev/hvc0) within 5 s");
}

void system_init_main(long argc, char **argv) {
  if (argc >= 3) parse_decimal(argv[2], string_length(argv[2]), &case_deadline_ms);
  int virtio_console = 0;
  for (long i = 3; i < argc; i++) {
    if (string_equal(argv[i], "unobserved")) observer_on = 0;
    if (string_equal(argv[i], "probe-descendant")) descendant_probe_options = TRACE_OPTIONS;
    if (string_equal(argv[i], "probe-untraced-descendant")) descendant_probe_options = TRACE_OPTIONS_ROOT_ONLY;
    if (string_equal(argv[i], "probe-killed")) probe_killed = 1;
    if (string_equal(argv[i], "virtio-console")) virtio_console = 1;
  }
  SYS5(NR_mount, "proc", "/proc", "proc", 0, NULL);
  if (virtio_console) move_to_virtio_console();
  console_raw_mode();
  set_argument_space();
  set_signal_handler(SIGALRM, on_alarm, 0); /* no SA_RESTART: wait4 returns EINTR */
  say("vfc-init booted", "", 0, 0);
  run_probe();
  if (descendant_probe_options) {
    long root = start_driver(1, descendant_probe_options, 1);
    if (IS_SYSCALL_ERROR(root)) power_off("cannot start the descendant probe");
    serve_driver(root);
  }
  for (;;) {
    long driver = start_driver(observer_on, TRACE_OPTIONS, 0);
    if (IS_SYSCALL_ERROR(driver)) power_off("cannot start the driver");
    serve_driver(driver);
  }
}
