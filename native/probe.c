/*
 * probe.c: what this kernel (or emulator) does, measured with raw syscalls
 * and never through spawn.c, so the oracle does not trust the
 * implementation under test. One line:
 *   caps vfork_shares_memory=0|1 parent_suspended=0|1 kcmp=0|1 clone3=<errno>
 *        max_arg_strlen=N page_size=N stack_limit=N euid=N clone_<ns>=<errno> vfork_<ns>=<errno>
 *        unshare_<ns>=<errno> ... unshare_newtime=<errno> pidfd_clone=<errno> pidfd_clone3=<errno>
 *        unaligned_fixup=0|1
 * An errno of 0 means allowed.
 *
 * Nor does it call the spawn's own clone wrappers (raw_clone_vfork,
 * raw_clone3_vfork): a broken port or a mutant of them must show as a
 * failing implementation, never as a changed capability (an a3 flag ignored
 * on mips64le read every refused namespace flag as allowed, and the oracle
 * followed). Vfork clones here are fork-style, CLONE_VFORK without CLONE_VM,
 * through the plain syscall path, where the child returns on its own copy of
 * this stack; only memory sharing needs CLONE_VM, on a stack of the child's
 * own (raw_clone_on_stack).
 */
#include "vfc.h"

static const struct {
  const char *name;
  unsigned long flag;
} namespaces[] = {
    {"newns", CLONE_NEWNS},   {"newcgroup", CLONE_NEWCGROUP}, {"newuts", CLONE_NEWUTS},
    {"newipc", CLONE_NEWIPC}, {"newuser", CLONE_NEWUSER},     {"newpid", CLONE_NEWPID},
    {"newnet", CLONE_NEWNET},
    /* A combination clone refuses (EINVAL): a clone error on every target. */
    {"newns_fs", CLONE_NEWNS | CLONE_FS},
};

static void sleep_milliseconds(long ms) {
  long ts[2] = {ms / 1000, (ms % 1000) * 1000000};
  SYS4(NR_clock_nanosleep, CLOCK_MONOTONIC, 0, ts, NULL);
}

static void reap(long pid, int *status) {
  long r;
  do r = SYS4(NR_wait4, pid, status, 0, 0); while (r == -4);
}

static volatile long shared_word;

/* clone(flags, no new stack) through the plain syscall path: with CLONE_VM
 * it would be unsafe (the child would return on this stack). */
static long fork_style_clone(unsigned long flags) {
  return CLONE_ARGS_SWAPPED ? SYS2(NR_clone, 0, flags) : SYS2(NR_clone, flags, 0);
}

/* How long the child lives. Only a suspended parent pays it (once per
 * probe); a running parent has all of it to send its SIGKILL, so that even a
 * qemu-user parent starved by a loaded machine is not taken for a suspended
 * one (a 50 ms timing threshold was: 9 of 30 probes run at once). */
#define VFORK_CHILD_LIFE_MS 500

/*
 * The child writes a word and sleeps before it exits: the parent sees the
 * word only if memory is shared. As soon as its clone returns the parent
 * sends the child SIGKILL: if the child dies of it, the parent ran while the
 * child lived (not suspended), a cause-and-effect proof with no threshold.
 * If the child exited by itself, the parent only ran after the child's exit:
 * suspended (or starved for the whole life, which the margin makes
 * implausible). A kill of the zombie a suspended parent finds does nothing.
 * The child runs on a stack of its own, so the clone is the spawn's
 * CLONE_VM|CLONE_VFORK without the spawn's wrapper.
 */
#define VFORK_CHILD_STACK_BYTES 65536

static void vfork_child(void *unused) {
  (void)unused;
  shared_word = 1;
  sleep_milliseconds(VFORK_CHILD_LIFE_MS);
  exit_group(0);
}

static void probe_vfork(struct buffer *out) {
  shared_word = 0;
  char *stack = map_anonymous(VFORK_CHILD_STACK_BYTES);
  long pid = stack ? raw_clone_on_stack(CLONE_VM | CLONE_VFORK | SIGCHLD, stack + VFORK_CHILD_STACK_BYTES, NULL, vfork_child, NULL) : -12 /* ENOMEM */;
  int status = 0;
  if (!IS_SYSCALL_ERROR(pid)) {
    SYS2(NR_kill, pid, SIGKILL);
    reap(pid, &status);
  }
  if (stack) unmap(stack, VFORK_CHILD_STACK_BYTES);
  int killed = (status & 0x7f) == SIGKILL;
  buffer_append_string(out, " vfork_shares_memory=");
  buffer_append_decimal(out, shared_word == 1);
  buffer_append_string(out, " parent_suspended=");
  buffer_append_decimal(out, !IS_SYSCALL_ERROR(pid) && !killed);
}

static long errno_of(long r) { return IS_SYSCALL_ERROR(r) ? -r : 0; }

/* Fork-style clone with the flags; the child exits at once. */
static long try_clone(unsigned long flags) {
  long pid = fork_style_clone(flags | SIGCHLD);
  if (pid == 0) exit_group(0);
  int status;
  if (!IS_SYSCALL_ERROR(pid)) reap(pid, &status);
  return errno_of(pid);
}

/* What a vfork clone with the flag gets, asked without CLONE_VM: the
 * kernel's copy_process checks no namespace flag against CLONE_VM (only
 * CLONE_SIGHAND and CLONE_THREAD need it; a time namespace unshared for
 * children, which this process never has, would refuse CLONE_VM alone), and
 * qemu-user's do_fork drops CLONE_VM whenever CLONE_VFORK is set. */
static long try_vfork_clone(unsigned long flags) { return try_clone(CLONE_VFORK | flags); }

/* A pidfd through clone(2): CLONE_PIDFD, the kernel storing it at
 * parent_tid (the third argument on every architecture, s390x included).
 * Fork-style: what Go's syscall.ForkExec asks the kernel for. */
static long try_clone_pidfd(void) {
  int pidfd = -1;
  unsigned long flags = CLONE_PIDFD | SIGCHLD;
  long pid = CLONE_ARGS_SWAPPED ? SYS3(NR_clone, 0, flags, &pidfd) : SYS3(NR_clone, flags, 0, &pidfd);
  if (pid == 0) exit_group(0);
  int status;
  if (!IS_SYSCALL_ERROR(pid)) reap(pid, &status);
  if (pidfd >= 0) SYS1(NR_close, pidfd);
  return errno_of(pid);
}

/* The reference's pidfd path, clone3 with CLONE_VFORK|CLONE_PIDFD, asked
 * fork-style (without CLONE_VM, as try_vfork_clone says why) through the
 * plain syscall path. ENOSYS where clone3 is absent; EBADF if the kernel
 * returned a pid but no pidfd. */
static long try_clone3_pidfd(void) {
  int pidfd = -1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_VFORK | CLONE_PIDFD;
  args.exit_signal = SIGCHLD;
  args.pidfd = (unsigned long)&pidfd;
  long pid = SYS2(NR_clone3, &args, sizeof args);
  if (pid == 0) exit_group(0);
  int status;
  if (!IS_SYSCALL_ERROR(pid)) reap(pid, &status);
  if (pidfd >= 0) SYS1(NR_close, pidfd);
  return IS_SYSCALL_ERROR(pid) ? -pid : pidfd < 0 ? 9 : 0;
}

/* unshare in a forked child, its errno returned as the exit status. */
static long try_unshare(unsigned long flag) {
  long pid = fork_style_clone(SIGCHLD);
  if (pid == 0) exit_group((int)errno_of(SYS1(NR_unshare, flag)));
  if (IS_SYSCALL_ERROR(pid)) return -pid;
  int status = 0;
  reap(pid, &status);
  return (status >> 8) & 0xff;
}

static void append_errno(struct buffer *out, const char *prefix, const char *name, long e) {
  buffer_append_string(out, " ");
  buffer_append_string(out, prefix);
  buffer_append_string(out, name);
  buffer_append_string(out, "=");
  buffer_append_decimal(out, e);
}

/* Does an 8-byte load and store at an address 4 past an 8-byte boundary
 * (an 8-byte field of a struct only 4-aligned: Go's epoll event) complete,
 * in hardware or fixed up by the kernel (a MIPS kernel emulates it), or does
 * it trap (qemu-user's mips delivers SIGBUS)? In a forked child, without a
 * core dump: 1 when it completed with the bytes intact, 0 when not. */
static unsigned char misaligned_area[24] __attribute__((aligned(8)));

static int unaligned_access_completes(void) {
  unsigned char *from = misaligned_area + 4, *to = misaligned_area + 12;
  for (int i = 0; i < 8; i++) from[i] = (unsigned char)(0x11 * (i + 1));
  long pid = fork_style_clone(SIGCHLD);
  if (pid == 0) {
    unsigned long long no_core[2] = {0, 0};
    SYS4(NR_prlimit64, 0, 4 /* RLIMIT_CORE, the same on all nine */, no_core, NULL);
    COPY_EIGHT_BYTES(from, to);
    for (int i = 0; i < 8; i++)
      if (to[i] != from[i]) exit_group(1);
    exit_group(0);
  }
  if (IS_SYSCALL_ERROR(pid)) return 0;
  int status = 0;
  reap(pid, &status);
  return status == 0;
}

extern long auxv_page_size;

/* Does execve take one environment string of this many bytes (with its
 * NUL)? A forked child execs this binary in --exit mode; any answer but
 * E2BIG means the size passed (under qemu-user the host may answer ENOEXEC
 * for our foreign binary, but it checks the sizes first). */
static int exec_accepts_string(long bytes) {
  char *text = map_anonymous((size_t)bytes);
  if (!text) return 0;
  memset(text, 'a', (size_t)bytes - 1);
  text[bytes - 1] = 0;
  char *argv[] = {"vforkcheck-probe", "--exit", NULL};
  char *envp[] = {text, NULL};
  long pid = fork_style_clone(SIGCHLD);
  if (pid == 0) exit_group((int)errno_of(SYS3(NR_execve, "/proc/self/exe", argv, envp)));
  int status = 0;
  if (!IS_SYSCALL_ERROR(pid)) reap(pid, &status);
  unmap(text, (size_t)bytes);
  return !IS_SYSCALL_ERROR(pid) && ((status >> 8) & 0xff) != 7 /* E2BIG */;
}

/* MAX_ARG_STRLEN is 32 pages of the kernel that runs the exec (under
 * qemu-user: the host's), so measure it rather than read the page size. */
static long measure_max_argument_string(void) {
  for (long page = 4096; page <= 65536; page *= 4)
    if (exec_accepts_string(32 * page) && !exec_accepts_string(32 * page + 1)) return 32 * page;
  return -1;
}

void probe_capabilities(struct buffer *out) {
  buffer_append_string(out, "caps arch=" ARCH_NAME);
  probe_vfork(out);
  long self = SYS0(NR_getpid);
  buffer_append_string(out, " kcmp=");
  buffer_append_decimal(out, SYS5(NR_kcmp, self, self, KCMP_VM, 0, 0) == 0);
  /* clone3 with a NULL argument: EFAULT/EINVAL if present, ENOSYS if not. */
  append_errno(out, "", "clone3", errno_of(SYS2(NR_clone3, NULL, 0)));
  buffer_append_string(out, " max_arg_strlen=");
  buffer_append_decimal(out, measure_max_argument_string());
  buffer_append_string(out, " page_size=");
  buffer_append_decimal(out, auxv_page_size);
  unsigned long long limit[2] = {0, 0}; /* struct rlimit64 on every arch */
  SYS4(NR_prlimit64, 0, 3 /* RLIMIT_STACK */, NULL, limit);
  buffer_append_string(out, " stack_limit=");
  buffer_append_decimal(out, limit[0] > 0x7fffffffULL ? -1 : (long)limit[0]);
  buffer_append_string(out, " euid=");
  buffer_append_decimal(out, SYS0(NR_geteuid));
  for (unsigned i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++) {
    append_errno(out, "clone_", namespaces[i].name, try_clone(namespaces[i].flag));
    append_errno(out, "vfork_", namespaces[i].name, try_vfork_clone(namespaces[i].flag));
    append_errno(out, "unshare_", namespaces[i].name, try_unshare(namespaces[i].flag));
  }
  /* CLONE_NEWTIME shares its bit with the exit-signal byte of clone(2), so
   * only unshare can ask for it. */
  append_errno(out, "unshare_", "newtime", try_unshare(CLONE_NEWTIME));
  append_errno(out, "", "pidfd_clone", try_clone_pidfd());
  append_errno(out, "", "pidfd_clone3", try_clone3_pidfd());
  buffer_append_string(out, " unaligned_fixup=");
  buffer_append_decimal(out, unaligned_access_completes());
  buffer_append_string(out, "\n");
}
