/*
 * impls/glibc/driver.c: a driver (docs/protocol.md) whose spawn is the C
 * library's posix_spawn, the implementation under test. One source serves
 * two libcs: built against a glibc release it is the glibc driver, against
 * a musl release the musl driver (harness/build/libc-driver.ts links it
 * statically with exactly that release's crt files and libc.a). What
 * differs between them is behind #ifdef __GLIBC__ (musl defines no macro
 * of its own). It mirrors the reference driver (native/driver.c) in
 * everything that is not the spawn itself: parsing, validation, the
 * descriptors the child gets, the observer markers and the post-case
 * measurements.
 *
 *   vforkcheck-<libc>-driver --driver   serve cases on standard input/output
 *
 * Any other invocation is a usage error (exit 2): the harness uses the
 * reference build as the exec target, never this binary.
 *
 * What posix_spawn can express, and so what the hello's features list:
 *   setsid=1    POSIX_SPAWN_SETSID
 *   setpgid=1   POSIX_SPAWN_SETPGROUP with process group 0
 *   cwd=        posix_spawn_file_actions_addchdir_np (before the descriptors,
 *               as the reference child: chdir, then the descriptor moves;
 *               glibc 2.29, musl 1.1.24)
 *   fds=, report_fd  posix_spawn_file_actions_adddup2, in the reference's order
 *   parent_fds= /dev/null opened by the driver without close-on-exec before
 *               the spawn, closed after it: the child inherits what posix_spawn
 *               leaves alone
 *   pidfd=1     pidfd_spawn (glibc 2.39 and later: only such a build lists
 *               pidfd), the pid from pidfd_getpid, the pidfd judged through
 *               fdinfo and waitid(P_PIDFD) as docs/protocol.md says
 * It has no clone flags, no unshare and no id maps: a case with clone or
 * unshare flags is refused with an error line. No canaries (neutral values
 * are sent).
 *   storm=1     the reference's signal storm (native/signal-storm.c, the
 *               same source: native/hosted-syscalls.h gives it the libc's
 *               syscall() and sigaction), around the posix_spawn; the driver
 *               is its own process-group leader from the start (feature
 *               signal_storm)
 *   handler_flags=   the flags of the storm's handler and the sighandle
 *               handlers (SA_RESTART, SA_NODEFER, SA_ONSTACK on a stack of
 *               the driver's own; feature handler_flags)
 *   threads=, thread_spawns=   N pthreads released together, each calling
 *               posix_spawn with its own path and descriptors (feature
 *               threads); portable POSIX threads, so a musl build of this
 *               source runs them the same way
 *   fork_thread=, fork_path=   one more pthread, released with them, makes
 *               plain fork()+execve()s (feature fork_thread)
 *   sigmask=, sigignore=, sighandle=   the parent's signal state, set with
 *               sigprocmask and sigaction around the spawn (feature
 *               signal_state); posix_spawn gets no signal attributes, so
 *               the promise is POSIX's (signal_contract=posix)
 *
 * How the child's errno travels back, which the hello says (errno_channel):
 * glibc's child writes it into memory it shares with the parent (struct
 * posix_spawn_args.err, sysdeps/unix/sysv/linux/spawni.c), musl's child
 * into a close-on-exec pipe the parent reads (src/process/posix_spawn.c).
 * Where vfork is emulated as a fork (qemu-user), only the pipe arrives.
 *
 * Besides case lines it answers bench lines (features "bench"): it holds the
 * asked memory, mapped and touched, in this process, then times each of a
 * series of plain posix_spawns (the exec target with --exit, reaped with
 * waitpid), so that the spawn's latency can be set against the size of the
 * spawning process. The hello claims "fast_path": both libcs' posix_spawn
 * always clone with CLONE_VM|CLONE_VFORK (neither has CLONE_NEWUSER to fall
 * back for), so its cost should not grow with the memory held.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec.h" /* native/codec.c: the protocol's encodings, shared with the reference driver */
#include "signal-storm.h" /* native/signal-storm.c: the reference driver's storm */

#ifdef __GLIBC__
#define IMPL_NAME "glibc"
#define ERRNO_CHANNEL "shared_memory"
#else
#define IMPL_NAME "musl"
#define ERRNO_CHANNEL "pipe"
#endif

#define PROTOCOL_VERSION 1
#define MAX_LINE_BYTES (64L << 20)
/* The report descriptor of a case without report_fd; cases may put it
 * anywhere in 0..MAX_REPORT_FD. The exec target finds the report pipe by
 * its size (native/vfc.h REPORT_PIPE_BYTES). */
#define REPORT_FD 63
#define MAX_REPORT_FD 1023
#define REPORT_PIPE_BYTES 32768
/* Descriptors the driver keeps for itself sit at or above this number
 * (native/vfc.h DRIVER_FD_BASE); the protocol's at DRIVER_FD_BASE + 100. */
#define DRIVER_FD_BASE 200
/* native/spawn.h SPAWN_MAX_DESCRIPTOR_MOVES; the report takes one. */
#define MAX_DESCRIPTOR_MOVES 64
#define KCMP_VM 1
/* pidfd=1 through pidfd_spawn: glibc 2.39 and later (musl has none). */
#ifdef __GLIBC__
#if __GLIBC_PREREQ(2, 39)
#define HAVE_PIDFD_SPAWN 1
#include <sys/pidfd.h>
#endif
#endif
#ifdef HAVE_PIDFD_SPAWN
#define PIDFD_FEATURE ",pidfd"
#else
#define PIDFD_FEATURE ""
#endif
#define FEATURES "setsid,setpgid,cwd,fds,memory,raw_strings,repeat_runs,bench,fast_path,signal_state,report_fd_any,threads,fork_thread,signal_storm,handler_flags,parent_fds" PIDFD_FEATURE
/* threads=N: N posix_spawns at once, one per pthread (concurrent-spawns);
 * fork_thread=F: another pthread makes F plain forks meanwhile. */
#define MAX_CONCURRENT_SPAWNS 8
#define MAX_PLAIN_FORKS 16

#if defined(__x86_64__)
#define ARCH_NAME "amd64"
#elif defined(__i386__)
#define ARCH_NAME "386"
#elif defined(__aarch64__)
#define ARCH_NAME "arm64"
#elif defined(__arm__)
#define ARCH_NAME "arm"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define ARCH_NAME "ppc64le"
#elif defined(__s390x__)
#define ARCH_NAME "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH_NAME "riscv64"
#elif defined(__mips64) && defined(__MIPSEL__)
#define ARCH_NAME "mips64le"
#elif defined(__loongarch64)
#define ARCH_NAME "loong64"
#else
#error "unknown architecture"
#endif

/* ---- an output buffer ------------------------------------------------ */

struct buffer {
  char *data;
  size_t length, capacity;
};

static void buffer_reserve(struct buffer *b, size_t more) {
  if (b->length + more <= b->capacity) return;
  size_t capacity = b->capacity ? b->capacity : 4096;
  while (capacity < b->length + more) capacity *= 2;
  char *data = realloc(b->data, capacity);
  if (!data) {
    static const char message[] = "vforkcheck-" IMPL_NAME "-driver: out of memory\n";
    (void)!write(2, message, sizeof message - 1);
    _exit(3);
  }
  b->data = data;
  b->capacity = capacity;
}

static void buffer_append(struct buffer *b, const void *data, size_t n) {
  buffer_reserve(b, n);
  memcpy(b->data + b->length, data, n);
  b->length += n;
}

static void buffer_append_string(struct buffer *b, const char *s) { buffer_append(b, s, strlen(s)); }

/* long long: a bench's nanoseconds outgrow a 32-bit long after 2.1 s. */
static void buffer_append_decimal(struct buffer *b, long long v) {
  char text[32];
  int n = snprintf(text, sizeof text, "%lld", v);
  buffer_append(b, text, (size_t)n);
}

static void buffer_append_hex_bytes(struct buffer *b, const void *data, size_t n) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *bytes = data;
  buffer_reserve(b, 2 * n);
  for (size_t i = 0; i < n; i++) {
    b->data[b->length++] = digits[bytes[i] >> 4];
    b->data[b->length++] = digits[bytes[i] & 15];
  }
}

/* codec.h's output: a buffer of ours. */
static void append_to_buffer(void *out, const void *bytes, size_t n) {
  buffer_append(out, bytes, n);
}

static void append_key(struct buffer *out, const char *key) {
  buffer_append_string(out, " ");
  buffer_append_string(out, key);
  buffer_append_string(out, "=");
}

static void write_all(int fd, const char *data, size_t n) {
  while (n) {
    ssize_t r = write(fd, data, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    data += r;
    n -= (size_t)r;
  }
}

/* ---- the encodings (as native/common.c) ------------------------------ */

/* ---- parsing one case line (as native/driver.c parse_case) ----------- */

/* What differs between the spawns of a concurrent case: its thread_spawns entry. */
struct concurrent_spawn {
  char *path;
  int target_count;
  int targets[MAX_DESCRIPTOR_MOVES];
};

struct parsed_case {
  long id;
  char *path, *cwd;
  char **argv, **envp;
  unsigned long clone_flags, unshare_flags;
  int setsid, setpgid, storm;
  int want_pidfd; /* pidfd=1: spawn through pidfd_spawn, the pidfd judged from outside */
  int has_signal_state; /* sigmask, sigignore or sighandle given */
  unsigned long handler_flags; /* sa_flags of the storm's and the sighandle handlers */
  sigset_t signal_mask, signals_ignored, signals_handled;
  long uid_inside, gid_inside;
  long memory_bytes;
  int target_count;
  int targets[MAX_DESCRIPTOR_MOVES];
  int parent_fd_count; /* parent_fds: held without close-on-exec across the spawn */
  int parent_fds[MAX_DESCRIPTOR_MOVES];
  long report_fd; /* where the report pipe goes in the child */
  int thread_count; /* 0: one spawn on the driver's own thread */
  int spawn_count;  /* entries of thread_spawns */
  struct concurrent_spawn spawns[MAX_CONCURRENT_SPAWNS];
  int plain_fork_count; /* fork_thread=: plain forks on another thread */
  char *fork_path;      /* fork_path=: what they exec */
  const char *error; /* why the line was refused, or NULL */
  /* Every allocation of the case, freed together. */
  void **allocations;
  size_t allocation_count, allocation_capacity;
};

static void *case_alloc(struct parsed_case *c, size_t bytes) {
  if (c->allocation_count == c->allocation_capacity) {
    size_t capacity = c->allocation_capacity ? 2 * c->allocation_capacity : 64;
    void **grown = realloc(c->allocations, capacity * sizeof *grown);
    if (!grown) return NULL;
    c->allocations = grown;
    c->allocation_capacity = capacity;
  }
  void *p = malloc(bytes ? bytes : 1);
  if (p) c->allocations[c->allocation_count++] = p;
  return p;
}

static void free_case(struct parsed_case *c) {
  for (size_t i = 0; i < c->allocation_count; i++) free(c->allocations[i]);
  free(c->allocations);
  c->allocations = NULL;
  c->allocation_count = c->allocation_capacity = 0;
}

/* codec.h's allocator: the case's own allocations, freed together. */
static void *case_allocate(void *context, size_t bytes) {
  return case_alloc(context, bytes);
}

static int field_is(const char *key, size_t n, const char *name) {
  return strlen(name) == n && memcmp(key, name, n) == 0;
}

/* One "key=value" field of a line. */
struct field {
  const char *key, *value;
  size_t key_length, value_length;
};

/* Reads the field at *at (fields are separated by single spaces) and moves
 * *at past it. Returns -1 for a field without '='. */
static int next_field(const char *line, size_t length, size_t *at, struct field *f) {
  size_t end = *at;
  while (end < length && line[end] != ' ') end++;
  size_t eq = 0;
  while (*at + eq < end && line[*at + eq] != '=') eq++;
  if (*at + eq == end) return -1;
  f->key = line + *at;
  f->key_length = eq;
  f->value = f->key + eq + 1;
  f->value_length = end - (*at + eq + 1);
  *at = end + 1;
  return 0;
}

/* A number list of signals into a set; -1 if malformed or a signal the libc
 * does not let a program touch (its own real-time ones). */
static int parse_signals(const char *value, size_t n, sigset_t *set) {
  int signals[1024];
  int count = decode_numbers(value, n, signals, 1024);
  sigemptyset(set);
  if (count < 0) return -1;
  for (int i = 0; i < count; i++)
    if (signals[i] < 1 || signals[i] >= NSIG || sigaddset(set, signals[i]) != 0) return -1;
  return 0;
}

/* Why this driver cannot take the case's signal state, or NULL. */
static const char *refuse_signal_state(const struct parsed_case *c) {
  const int needed[] = {SIGKILL, SIGSTOP, SIGCHLD};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
    if (sigismember(&c->signals_ignored, needed[i]) || sigismember(&c->signals_handled, needed[i]))
      return "signal state: a disposition for SIGKILL, SIGSTOP or SIGCHLD (the driver waits for its children)";
  for (int signal = 1; signal < NSIG; signal++)
    if (sigismember(&c->signals_ignored, signal) == 1 && sigismember(&c->signals_handled, signal) == 1) return "signal state: a signal both ignored and handled";
  return NULL;
}

/* thread_spawns=<path item>/<fds>;...: one entry per spawn of a concurrent case. */
static int parse_spawn_list(const char *value, size_t n, struct parsed_case *c) {
  size_t start = 0;
  c->spawn_count = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && value[i] != ';') continue;
    const char *slash = memchr(value + start, '/', i - start);
    if (!slash || c->spawn_count == MAX_CONCURRENT_SPAWNS) return -1;
    size_t path_length = (size_t)(slash - (value + start));
    struct concurrent_spawn *spawn = &c->spawns[c->spawn_count++];
    spawn->path = decode_item(value + start, path_length, case_allocate, c);
    spawn->target_count = decode_numbers(slash + 1, i - start - path_length - 1, spawn->targets, MAX_DESCRIPTOR_MOVES - 1);
    if (!spawn->path || spawn->target_count < 0) return -1;
    start = i + 1;
  }
  return 0;
}

static void parse_case(const char *line, size_t length, struct parsed_case *c) {
  memset(c, 0, sizeof *c);
  c->id = -1;
  c->uid_inside = c->gid_inside = -1;
  c->report_fd = REPORT_FD;
  c->handler_flags = SA_RESTART;
  static char *empty_list[] = {NULL};
  c->argv = c->envp = empty_list;
  if (length < 5 || memcmp(line, "case ", 5) != 0) {
    c->error = "expected a line starting with 'case ' or 'bench '";
    return;
  }
  size_t at = 5;
  while (at < length) {
    struct field f;
    if (next_field(line, length, &at, &f) != 0) {
      c->error = "field without '='";
      return;
    }
    const char *key = f.key, *value = f.value;
    size_t eq = f.key_length, vn = f.value_length;
    long number;
    int ok = 1;
    if (field_is(key, eq, "id")) ok = parse_decimal(value, vn, &c->id) == 0;
    else if (field_is(key, eq, "path")) ok = (c->path = decode_item(value, vn, case_allocate, c)) != NULL;
    else if (field_is(key, eq, "cwd")) ok = (c->cwd = decode_item(value, vn, case_allocate, c)) != NULL;
    else if (field_is(key, eq, "argv")) ok = (c->argv = decode_list(value, vn, case_allocate, c)) != NULL;
    else if (field_is(key, eq, "env")) ok = (c->envp = decode_list(value, vn, case_allocate, c)) != NULL;
    else if (field_is(key, eq, "clone")) ok = parse_hex_number(value, vn, &c->clone_flags) == 0;
    else if (field_is(key, eq, "unshare")) ok = parse_hex_number(value, vn, &c->unshare_flags) == 0;
    else if (field_is(key, eq, "setsid")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->setsid = (int)number), 1);
    else if (field_is(key, eq, "setpgid")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->setpgid = (int)number), 1);
    else if (field_is(key, eq, "uid")) ok = parse_decimal(value, vn, &c->uid_inside) == 0;
    else if (field_is(key, eq, "gid")) ok = parse_decimal(value, vn, &c->gid_inside) == 0;
    else if (field_is(key, eq, "pidfd")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->want_pidfd = (int)number), 1);
    else if (field_is(key, eq, "storm")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->storm = (int)number), 1);
    else if (field_is(key, eq, "memory")) ok = parse_decimal(value, vn, &c->memory_bytes) == 0 && c->memory_bytes >= 0;
    else if (field_is(key, eq, "sigmask")) ok = parse_signals(value, vn, &c->signal_mask) == 0 && ((c->has_signal_state = 1), 1);
    else if (field_is(key, eq, "sigignore")) ok = parse_signals(value, vn, &c->signals_ignored) == 0 && ((c->has_signal_state = 1), 1);
    else if (field_is(key, eq, "sighandle")) ok = parse_signals(value, vn, &c->signals_handled) == 0 && ((c->has_signal_state = 1), 1);
    else if (field_is(key, eq, "handler_flags")) ok = decode_handler_flags(value, vn, &c->handler_flags) == 0;
    else if (field_is(key, eq, "report_fd")) ok = parse_decimal(value, vn, &c->report_fd) == 0 && c->report_fd >= 0 && c->report_fd <= MAX_REPORT_FD;
    else if (field_is(key, eq, "fds")) ok = (c->target_count = decode_numbers(value, vn, c->targets, MAX_DESCRIPTOR_MOVES - 1)) >= 0;
    else if (field_is(key, eq, "parent_fds")) ok = (c->parent_fd_count = decode_numbers(value, vn, c->parent_fds, MAX_DESCRIPTOR_MOVES)) >= 0;
    else if (field_is(key, eq, "threads")) ok = parse_decimal(value, vn, &number) == 0 && number >= 2 && number <= MAX_CONCURRENT_SPAWNS && ((c->thread_count = (int)number), 1);
    else if (field_is(key, eq, "thread_spawns")) ok = parse_spawn_list(value, vn, c) == 0;
    else if (field_is(key, eq, "fork_thread")) ok = parse_decimal(value, vn, &number) == 0 && number >= 1 && number <= MAX_PLAIN_FORKS && ((c->plain_fork_count = (int)number), 1);
    else if (field_is(key, eq, "fork_path")) ok = (c->fork_path = decode_item(value, vn, case_allocate, c)) != NULL;
    else {
      c->error = "unknown field";
      return;
    }
    if (!ok) {
      c->error = "malformed field value";
      return;
    }
  }
  /* What posix_spawn has no way to express is refused, not silently dropped:
   * running such a case without its namespaces would test something else. */
  if (c->clone_flags) c->error = "clone flags: posix_spawn cannot create namespaces (no clone flags)";
  else if (c->unshare_flags) c->error = "unshare flags: posix_spawn cannot unshare in the child";
#ifndef HAVE_PIDFD_SPAWN
  else if (c->want_pidfd) c->error = "pidfd: this libc has no pidfd_spawn (glibc 2.39 and later)";
#endif
  else if (c->has_signal_state) c->error = refuse_signal_state(c);
  for (int i = 0; i < c->target_count; i++)
    if (c->targets[i] == c->report_fd) c->error = "report_fd is one of fds";
  if (c->thread_count && c->parent_fd_count) c->error = "threads: no parent_fds";
  for (int i = 0; i < c->parent_fd_count; i++) {
    if (c->parent_fds[i] == c->report_fd) c->error = "report_fd is one of parent_fds";
    for (int j = 0; j < c->target_count; j++)
      if (c->parent_fds[i] == c->targets[j]) c->error = "parent_fds and fds share a number";
  }
  if (c->thread_count != c->spawn_count) c->error = "threads and the entries of thread_spawns differ";
  if (!c->thread_count && c->plain_fork_count) c->error = "fork_thread: only with threads";
  if (!c->plain_fork_count != !c->fork_path) c->error = "fork_thread and fork_path: both or neither";
  /* The storm and the signal state are the process's, not one spawn's. */
  if (c->thread_count && (c->storm || c->has_signal_state)) c->error = "threads: no storm or signal state";
  for (int s = 0; s < c->spawn_count; s++)
    for (int i = 0; i < c->spawns[s].target_count; i++)
      if (c->spawns[s].targets[i] == c->report_fd) c->error = "report_fd is one of a spawn's fds";
  if (c->id < 0) c->error = "missing id";
  else if (!c->path) c->error = "missing path";
}

/* ---- running one case ------------------------------------------------ */

/* The parent's handler for sighandle signals: it only has to exist. */
static void handled_signal(int signal) {
  (void)signal;
}

/* What apply_signal_state changed, for restore_signal_state. */
struct saved_signal_state {
  sigset_t mask;
  sigset_t changed;
  struct sigaction actions[NSIG];
};

/* The mask set to exactly the case's, the dispositions it names set; 0 or an errno. */
static int apply_signal_state(const struct parsed_case *c, struct saved_signal_state *saved) {
  sigemptyset(&saved->changed);
  if (sigprocmask(SIG_SETMASK, &c->signal_mask, &saved->mask) != 0) return errno;
  for (int signal = 1; signal < NSIG; signal++) {
    int ignore = sigismember(&c->signals_ignored, signal) == 1, handle = sigismember(&c->signals_handled, signal) == 1;
    if (!ignore && !handle) continue;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = ignore ? SIG_IGN : handled_signal;
    action.sa_flags = (int)c->handler_flags;
    if (sigaction(signal, &action, &saved->actions[signal]) != 0) return errno;
    sigaddset(&saved->changed, signal);
  }
  return 0;
}

static void restore_signal_state(const struct saved_signal_state *saved) {
  for (int signal = 1; signal < NSIG; signal++)
    if (sigismember(&saved->changed, signal) == 1) sigaction(signal, &saved->actions[signal], NULL);
  sigprocmask(SIG_SETMASK, &saved->mask, NULL);
}


static int compare_descriptors(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

/* Open descriptors, sorted; returns the count (at most capacity), or -1. */
static long list_open_descriptors(int *fds, long capacity) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int own = dirfd(dir);
  long count = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL) {
    long fd;
    if (entry->d_name[0] == '.') continue;
    if (parse_decimal(entry->d_name, strlen(entry->d_name), &fd) == 0 && fd != own && count < capacity) fds[count++] = (int)fd;
  }
  closedir(dir);
  qsort(fds, (size_t)count, sizeof *fds, compare_descriptors); /* readdir order is not numeric */
  return count;
}

static long count_open_descriptors(void) {
  static int fds[4096];
  return list_open_descriptors(fds, 4096);
}

static void read_to_end(int fd, struct buffer *into) {
  for (;;) {
    buffer_reserve(into, 65536);
    ssize_t r = read(fd, into->data + into->length, 65536);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    into->length += (size_t)r;
  }
}

/* The pid a descriptor is a pidfd of, from the "Pid:" line of its
 * /proc/self/fdinfo (not from the libc that made it); 0 if it is none. */
static int pidfd_target_pid(int fd, long *pid) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  int info = open(path, O_RDONLY | O_CLOEXEC);
  if (info < 0) return 0;
  ssize_t length = read(info, text, sizeof text - 1);
  close(info);
  if (length <= 0) return 0;
  text[length] = 0;
  for (char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, "Pid:", 4) != 0) continue; /* "NSpid:" is another line */
    char *end;
    *pid = strtol(line + 4, &end, 10);
    return end != line + 4;
  }
  return 0;
}

/* What a number a failed spawn handed back is, right after it returned:
 * "closed", "pidfd" or "other" (docs/protocol.md, failed_pidfd_is). */
static const char *returned_descriptor_state(int fd) {
  long pid;
  if (fcntl(fd, F_GETFD) < 0) return "closed";
  return pidfd_target_pid(fd, &pid) ? "pidfd" : "other";
}

static long count_open_pidfds(void) {
  static int fds[4096];
  long count = list_open_descriptors(fds, 4096), pidfds = 0;
  for (long i = 0; i < count; i++) {
    long pid;
    pidfds += pidfd_target_pid(fds[i], &pid);
  }
  return pidfds;
}

/* Moves fd to a close-on-exec descriptor at base or above. */
static int move_above_base(int fd, long base) {
  if (fd < 0) return -1;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, base);
  close(fd);
  return moved;
}

/* Maps and touches the parent memory the case asks for, one write per 4 KiB. */
static char *map_and_touch(long bytes) {
  if (bytes <= 0) return NULL;
  char *memory = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return NULL;
  /* 4 KiB pages, as the reference holds them: with transparent huge pages
   * a fork would copy 512 times fewer page-table entries. Advice only. */
  madvise(memory, (size_t)bytes, MADV_NOHUGEPAGE);
  for (long i = 0; i < bytes; i += 4096) memory[i] = 1;
  return memory;
}

/* The observer markers: lseek(-1, id, SEEK_SET) before the spawn and
 * lseek(-1, id, SEEK_END) after, raw, on the spawning thread; both EBADF. */
static void marker(long id, int whence) {
  syscall(SYS_lseek, -1L, id, (long)whence);
}

static void error_line(struct buffer *out, long id, const char *reason) {
  buffer_append_string(out, "error id=");
  buffer_append_decimal(out, id);
  buffer_append_string(out, " reason=");
  buffer_append_hex_bytes(out, reason, strlen(reason));
  buffer_append_string(out, "\n");
}

/* ---- one spawn: its descriptors and attributes, its child, what it left */

/* What one posix_spawn is given, and what to close after it. */
struct spawn_setup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  int sources[MAX_DESCRIPTOR_MOVES], move_count;
  int report_read;
};

/* The descriptors, as the reference child gets them: every source is a
 * close-on-exec descriptor at source_base or above (above every target),
 * and the child dup2s them in order, the report pipe's write end (marked
 * by its size) to the case's report descriptor first, then one /dev/null
 * (read-only) to each target. dup2 clears close-on-exec on the target
 * only; the sources close at exec. Before them all, the chdir (the
 * reference child's order). Returns 0 or the error of setting it up. */
static int prepare_spawn(const struct parsed_case *c, const int *targets, int target_count, long source_base, struct spawn_setup *spawn) {
  int report_pipe[2] = {-1, -1};
  if (pipe2(report_pipe, O_CLOEXEC) != 0) report_pipe[0] = report_pipe[1] = -1;
  if (report_pipe[1] >= 0) fcntl(report_pipe[1], F_SETPIPE_SZ, REPORT_PIPE_BYTES);
  spawn->report_read = report_pipe[0];
  spawn->move_count = 0;
  int destinations[MAX_DESCRIPTOR_MOVES];
  spawn->sources[spawn->move_count] = move_above_base(report_pipe[1], source_base);
  destinations[spawn->move_count++] = (int)c->report_fd;
  for (int i = 0; i < target_count; i++) {
    spawn->sources[spawn->move_count] = move_above_base(open("/dev/null", O_RDONLY | O_CLOEXEC), source_base);
    destinations[spawn->move_count++] = targets[i];
  }
  int setup = posix_spawn_file_actions_init(&spawn->actions);
  if (!setup) setup = posix_spawnattr_init(&spawn->attributes);
  short flags = 0;
  if (c->setsid) flags |= POSIX_SPAWN_SETSID;
  if (c->setpgid) flags |= POSIX_SPAWN_SETPGROUP;
  if (!setup) setup = posix_spawnattr_setflags(&spawn->attributes, flags);
  if (!setup && c->setpgid) setup = posix_spawnattr_setpgroup(&spawn->attributes, 0);
  if (!setup && c->cwd) setup = posix_spawn_file_actions_addchdir_np(&spawn->actions, c->cwd);
  for (int i = 0; !setup && i < spawn->move_count; i++)
    /* A source that could not be made gives EBADF here, as the reference
     * child's dup3 from descriptor -1 would. */
    setup = posix_spawn_file_actions_adddup2(&spawn->actions, spawn->sources[i], destinations[i]);
  return setup;
}

/* After the spawn returned: the sources closed, the attributes freed. */
static void release_spawn(struct spawn_setup *spawn) {
  for (int i = 0; i < spawn->move_count; i++)
    if (spawn->sources[i] >= 0) close(spawn->sources[i]);
  posix_spawn_file_actions_destroy(&spawn->actions);
  posix_spawnattr_destroy(&spawn->attributes);
}

/* A spawned child: its report read to EOF, then reaped. Returns whether
 * wait4 reaped that pid (status 0 when not). */
static int collect_child(pid_t pid, int report_read, struct buffer *report, int *status) {
  if (report_read >= 0) read_to_end(report_read, report);
  pid_t waited;
  do waited = wait4(pid, status, 0, NULL); while (waited < 0 && errno == EINTR);
  if (waited != pid) *status = 0;
  return waited == pid;
}

static void append_error_fields(struct buffer *out, int spawn_error) {
  append_key(out, "outcome");
  buffer_append_string(out, "error");
  append_key(out, "errno");
  /* posix_spawn returns the error number (it does not set errno). */
  buffer_append_decimal(out, spawn_error ? spawn_error : EINVAL);
}

/* Children left behind (zombies, reaped here so the next case starts
 * clean, and live ones; __WALL: also children whose exit signal is not
 * SIGCHLD) and descriptors opened and not closed. */
static void append_leftovers(struct buffer *out, long descriptors_before) {
  long zombies = 0, live = 0;
  for (;;) {
    int status;
    pid_t r = wait4(-1, &status, WNOHANG | __WALL, NULL);
    if (r > 0) zombies++;
    else if (r < 0 && errno == EINTR) continue;
    else {
      live = r == 0;
      break;
    }
  }
  encode_leftover_fields(append_to_buffer, out, zombies, live, count_open_descriptors() - descriptors_before);
}

/* No canaries here (posix_spawn is called from C as any caller would): the
 * neutral values end every result line. */
static void append_neutral_canaries(struct buffer *out) {
  append_key(out, "stack_canaries");
  buffer_append_string(out, "ok");
  append_key(out, "register_canaries");
  buffer_append_string(out, "ok");
  buffer_append_string(out, "\n");
}

/* ---- a concurrent case: threads=N, each spawning at the same moment -- */

/* Every spawn's thread waits here until all are started, then all go. */
struct start_gate {
  pthread_mutex_t lock;
  pthread_cond_t opened;
  int open;
};

struct spawn_thread {
  const struct parsed_case *c;
  const char *path;
  struct spawn_setup spawn;
  struct start_gate *gate;
  pid_t pid;
  int spawn_error;
};

static void wait_at_gate(struct start_gate *gate) {
  pthread_mutex_lock(&gate->lock);
  while (!gate->open) pthread_cond_wait(&gate->opened, &gate->lock);
  pthread_mutex_unlock(&gate->lock);
}

/* fork_thread=F: plain forks, back to back once the gate opens, as another
 * thread of a program calls fork() (not posix_spawn): each child moves its
 * report pipe's write end to the report descriptor and execs fork_path. */
struct plain_forks {
  const struct parsed_case *c;
  struct spawn_setup setups[MAX_PLAIN_FORKS];
  pid_t pids[MAX_PLAIN_FORKS];
  int errors[MAX_PLAIN_FORKS];
  struct start_gate *gate;
};

static void *plain_forks_body(void *argument) {
  struct plain_forks *forks = argument;
  wait_at_gate(forks->gate);
  for (int f = 0; f < forks->c->plain_fork_count; f++) {
    pid_t pid = fork();
    if (pid == 0) {
      /* Async-signal-safe calls only: the child of a threaded process. */
      if (dup2(forks->setups[f].sources[0], (int)forks->c->report_fd) >= 0) execve(forks->c->fork_path, forks->c->argv, forks->c->envp);
      _exit(127);
    }
    forks->pids[f] = pid;
    forks->errors[f] = pid < 0 ? errno : 0;
  }
  return NULL;
}

static void *spawn_thread_body(void *argument) {
  struct spawn_thread *thread = argument;
  wait_at_gate(thread->gate);
  thread->spawn_error = posix_spawn(&thread->pid, thread->path, &thread->spawn.actions, &thread->spawn.attributes, thread->c->argv, thread->c->envp);
  return NULL;
}

/* Each spawn's own path and descriptors, the rest of the case in common;
 * the reports are read and the children reaped after every thread joined. */
static void run_concurrent_case(const struct parsed_case *c, struct buffer *out) {
  static struct spawn_thread threads[MAX_CONCURRENT_SPAWNS];
  static struct plain_forks forks;
  pthread_t ids[MAX_CONCURRENT_SPAWNS], fork_thread;
  int started[MAX_CONCURRENT_SPAWNS] = {0}, fork_thread_started = 0;
  struct start_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  char *memory = map_and_touch(c->memory_bytes);
  long descriptors_before = count_open_descriptors();
  long source_base = c->report_fd + 1 > DRIVER_FD_BASE ? c->report_fd + 1 : DRIVER_FD_BASE;
  for (int s = 0; s < c->spawn_count; s++) source_base = source_base_above(source_base, c->spawns[s].targets, c->spawns[s].target_count);
  for (int s = 0; s < c->spawn_count; s++) {
    struct spawn_thread *thread = &threads[s];
    memset(thread, 0, sizeof *thread);
    thread->c = c;
    thread->path = c->spawns[s].path;
    thread->gate = &gate;
    thread->pid = -1;
    thread->spawn_error = prepare_spawn(c, c->spawns[s].targets, c->spawns[s].target_count, source_base, &thread->spawn);
  }
  memset(&forks, 0, sizeof forks);
  forks.c = c;
  forks.gate = &gate;
  for (int f = 0; f < c->plain_fork_count; f++) {
    forks.pids[f] = -1;
    forks.errors[f] = prepare_spawn(c, NULL, 0, source_base, &forks.setups[f]);
  }
  marker(c->id, SEEK_SET);
  for (int s = 0; s < c->spawn_count; s++)
    if (!threads[s].spawn_error) {
      /* Not started: that spawn's outcome is pthread_create's error. */
      int error = pthread_create(&ids[s], NULL, spawn_thread_body, &threads[s]);
      if (error) threads[s].spawn_error = error;
      else started[s] = 1;
    }
  if (c->plain_fork_count) {
    int error = pthread_create(&fork_thread, NULL, plain_forks_body, &forks);
    for (int f = 0; error && f < c->plain_fork_count; f++) forks.errors[f] = error;
    fork_thread_started = !error;
  }
  pthread_mutex_lock(&gate.lock);
  gate.open = 1;
  pthread_cond_broadcast(&gate.opened);
  pthread_mutex_unlock(&gate.lock);
  for (int s = 0; s < c->spawn_count; s++)
    if (started[s]) pthread_join(ids[s], NULL);
  if (fork_thread_started) pthread_join(fork_thread, NULL);
  marker(c->id, SEEK_END);

  struct buffer outcomes = {0};
  buffer_append_string(out, "result id=");
  buffer_append_decimal(out, c->id);
  for (int s = 0; s < c->spawn_count; s++) {
    struct spawn_thread *thread = &threads[s];
    release_spawn(&thread->spawn);
    int spawned = !thread->spawn_error && thread->pid > 0;
    struct buffer report = {0};
    int status = 0, waited = spawned ? collect_child(thread->pid, thread->spawn.report_read, &report, &status) : 0;
    if (thread->spawn.report_read >= 0) close(thread->spawn.report_read);
    /* The result's own fields are the first spawn's. */
    if (s == 0 && spawned) encode_spawned_fields(append_to_buffer, out, thread->pid, waited, status, "unknown", report.data, report.length);
    else if (s == 0) append_error_fields(out, thread->spawn_error);
    if (s) buffer_append_string(&outcomes, ";");
    encode_spawn_outcome(append_to_buffer, &outcomes, spawned ? thread->pid : -(long)(thread->spawn_error ? thread->spawn_error : EINVAL), waited, status, report.data, report.length);
    free(report.data);
  }
  struct buffer fork_outcomes = {0};
  for (int f = 0; f < c->plain_fork_count; f++) {
    struct spawn_setup *setup = &forks.setups[f];
    release_spawn(setup);
    int forked = !forks.errors[f] && forks.pids[f] > 0;
    struct buffer report = {0};
    int status = 0, waited = forked ? collect_child(forks.pids[f], setup->report_read, &report, &status) : 0;
    if (setup->report_read >= 0) close(setup->report_read);
    if (f) buffer_append_string(&fork_outcomes, ";");
    encode_spawn_outcome(append_to_buffer, &fork_outcomes, forked ? forks.pids[f] : -(long)(forks.errors[f] ? forks.errors[f] : EINVAL), waited, status, report.data, report.length);
    free(report.data);
  }
  append_leftovers(out, descriptors_before);
  append_key(out, "thread_outcomes");
  buffer_append(out, outcomes.data, outcomes.length);
  free(outcomes.data);
  if (c->plain_fork_count) {
    append_key(out, "fork_outcomes");
    buffer_append(out, fork_outcomes.data, fork_outcomes.length);
  }
  free(fork_outcomes.data);
  append_neutral_canaries(out);
  if (memory) munmap(memory, (size_t)c->memory_bytes);
}

/* parent_fds: /dev/null at each number, without close-on-exec, held across
 * the spawn as a caller's leftovers are. The driver's own descriptors lie
 * below 10 and from 300; one it holds in between can only be a leak of the
 * spawn under test, and is moved out of the way (flags kept) rather than
 * refusing the case. Returns why it could not open them (having closed
 * those it opened), or NULL. */
#define MOVED_ASIDE_BASE 400

static void close_parent_descriptors(const struct parsed_case *c, int count) {
  for (int i = 0; i < count; i++) close(c->parent_fds[i]);
}

static int move_aside(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return 0; /* not open: nothing in the way */
  int moved = fcntl(fd, F_DUPFD, MOVED_ASIDE_BASE);
  if (moved < 0) return -1;
  fcntl(moved, F_SETFD, flags);
  return close(fd);
}

static const char *open_parent_descriptors(const struct parsed_case *c) {
  for (int i = 0; i < c->parent_fd_count; i++) {
    int fd = c->parent_fds[i];
    const char *refused = NULL;
    int null = -1;
    if (move_aside(fd) < 0) refused = "parent_fds: cannot move the driver's own descriptor out of the way";
    else if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) refused = "parent_fds: cannot open /dev/null";
    else if (null == fd) { /* the lowest free number was this one */
      if (fcntl(fd, F_SETFD, 0) < 0) refused = "parent_fds: cannot clear close-on-exec";
    } else {
      if (dup3(null, fd, 0) < 0) refused = "parent_fds: cannot open /dev/null there";
      close(null);
    }
    if (refused) {
      close_parent_descriptors(c, i);
      return refused;
    }
  }
  return NULL;
}

static void run_case_line(const char *line, size_t length, struct buffer *out) {
  struct parsed_case c;
  parse_case(line, length, &c);
  if (!c.error) c.error = open_parent_descriptors(&c);
  if (c.error) {
    error_line(out, c.id, c.error);
    free_case(&c);
    return;
  }
  if (c.thread_count) {
    run_concurrent_case(&c, out);
    free_case(&c);
    return;
  }
  char *memory = map_and_touch(c.memory_bytes);
  long descriptors_before = count_open_descriptors();
  long pidfds_before = c.want_pidfd ? count_open_pidfds() : 0;

  long source_base = source_base_above(c.report_fd + 1 > DRIVER_FD_BASE ? c.report_fd + 1 : DRIVER_FD_BASE, c.targets, c.target_count);
  struct spawn_setup spawn;
  int setup = prepare_spawn(&c, c.targets, c.target_count, source_base, &spawn);
  /* The spawn's outputs start at the preset, so that what a failure left in them shows. */
  pid_t pid = OUTPUT_PRESET;
  int spawn_error = setup;
  /* The storm runs from just before the spawn until it returned, as in the
   * reference driver, its handler installed with the case's flags. */
  long storm = 0, handler_in_child = 0;
  if (c.storm) storm = storm_start(c.handler_flags);
  /* The case's parent signal state holds for the spawn only. */
  static struct saved_signal_state saved_signals;
  int signals_set = !spawn_error && c.has_signal_state;
  if (signals_set) spawn_error = apply_signal_state(&c, &saved_signals);
  marker(c.id, SEEK_SET);
  int pidfd = OUTPUT_PRESET;
#ifdef HAVE_PIDFD_SPAWN
  /* The kernel makes the pidfd at the clone (CLONE_PIDFD); the pid is read back from it. */
  if (!spawn_error && c.want_pidfd) {
    spawn_error = pidfd_spawn(&pidfd, c.path, &spawn.actions, &spawn.attributes, c.argv, c.envp);
    if (!spawn_error && (pid = pidfd_getpid(pidfd)) < 0) spawn_error = errno;
  } else
#endif
  if (!spawn_error) spawn_error = posix_spawn(&pid, c.path, &spawn.actions, &spawn.attributes, c.argv, c.envp);
  /* Stopped before the end marker, so that no line of the storm process
   * lands inside the markers in an observer's log. */
  if (storm > 0) handler_in_child = storm_stop(storm);
  marker(c.id, SEEK_END);
  if (signals_set) restore_signal_state(&saved_signals);
  /* A number a failed spawn handed back, looked at before anything else can take it. */
  const char *returned_pidfd = spawn_error && pidfd >= 0 ? returned_descriptor_state(pidfd) : "";

  buffer_append_string(out, "result id=");
  buffer_append_decimal(out, c.id);
  /* Still sharing our memory after the spawn returned means the parent ran
   * before the child's exec or exit: not suspended. */
  const char *suspended = "unknown";
  if (!spawn_error && pid > 0) {
#ifdef SYS_kcmp
    long same = syscall(SYS_kcmp, (long)getpid(), (long)pid, (long)KCMP_VM, 0L, 0L);
    if (same >= 0) suspended = same == 0 ? "no" : "yes";
#endif
  }
  release_spawn(&spawn);

  if (!spawn_error && pid > 0) {
    struct buffer report = {0};
    int status = 0;
    long pidfd_pid = -1, pidfd_reaped = -EBADF; /* no pidfd */
    /* A pidfd case reaps through the pidfd: it must be the child's. */
    if (pidfd >= 0 && !pidfd_target_pid(pidfd, &pidfd_pid)) pidfd_pid = -1;
#ifdef HAVE_PIDFD_SPAWN
    if (pidfd >= 0) {
      if (spawn.report_read >= 0) read_to_end(spawn.report_read, &report);
      siginfo_t info;
      memset(&info, 0, sizeof info);
      int r;
      do r = waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED); while (r < 0 && errno == EINTR);
      pidfd_reaped = r == 0 ? info.si_pid : -errno;
      if (r == 0) status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : info.si_status & 0x7f;
    }
#endif
    /* Reaped through the pidfd, or else (no pidfd, or not the child's) by pid, so nothing is left behind. */
    int waited = pidfd_reaped == pid ? 1 : collect_child(pid, pidfd >= 0 ? -1 : spawn.report_read, &report, &status);
    encode_spawned_fields(append_to_buffer, out, pid, waited, status, suspended, report.data, report.length);
    free(report.data);
    if (c.want_pidfd) {
      append_key(out, "pidfd_pid");
      buffer_append_decimal(out, pidfd_pid);
      append_key(out, "pidfd_reaped");
      buffer_append_decimal(out, pidfd_reaped);
    }
    if (pidfd >= 0) close(pidfd);
  } else {
    append_error_fields(out, spawn_error);
    /* pidfd_spawn's output is the pidfd (its pid is read back from it); posix_spawn's the pid. */
    if (c.want_pidfd) encode_failed_pidfd(append_to_buffer, out, pidfd, returned_pidfd);
    else {
      append_key(out, "failed_pid");
      buffer_append_decimal(out, pid);
    }
  }
  if (spawn.report_read >= 0) close(spawn.report_read);
  if (c.want_pidfd) {
    /* Once the driver closed the pidfd it got: a spawn, failed or not, must leave none. */
    append_key(out, "leaked_pidfds");
    buffer_append_decimal(out, count_open_pidfds() - pidfds_before);
  }
  append_leftovers(out, descriptors_before);
  close_parent_descriptors(&c, c.parent_fd_count);
  if (c.storm) {
    append_key(out, "storm");
    if (storm > 0) buffer_append_decimal(out, handler_in_child);
    else buffer_append_string(out, "failed");
  }
  append_neutral_canaries(out);
  if (memory) munmap(memory, (size_t)c.memory_bytes);
  free_case(&c);
}

/* ---- running one bench line ------------------------------------------ */

struct parsed_bench {
  long id;
  char *path; /* malloc'd */
  long memory_bytes; /* -1 until given */
  long spawns;       /* 0 until given */
  const char *error; /* why the line was refused, or NULL */
};

/* codec.h's allocator for the bench's one string (its path), which
 * run_bench_line frees. */
static void *heap_allocate(void *context, size_t bytes) {
  (void)context;
  return malloc(bytes);
}

/* "bench id=N path=<item> memory=<bytes> spawns=<1..10000>", every field
 * required: a missing memory would otherwise silently release what is held. */
static void parse_bench(const char *line, size_t length, struct parsed_bench *b) {
  memset(b, 0, sizeof *b);
  b->id = b->memory_bytes = -1;
  size_t at = 6; /* after "bench " */
  while (at < length) {
    struct field f;
    if (next_field(line, length, &at, &f) != 0) {
      b->error = "field without '='";
      return;
    }
    int ok;
    if (field_is(f.key, f.key_length, "id")) ok = parse_decimal(f.value, f.value_length, &b->id) == 0;
    else if (field_is(f.key, f.key_length, "path")) {
      free(b->path); /* a repeated field: the last one counts, as for a case */
      ok = (b->path = decode_item(f.value, f.value_length, heap_allocate, NULL)) != NULL;
    } else if (field_is(f.key, f.key_length, "memory")) ok = parse_decimal(f.value, f.value_length, &b->memory_bytes) == 0 && b->memory_bytes >= 0;
    else if (field_is(f.key, f.key_length, "spawns")) ok = parse_decimal(f.value, f.value_length, &b->spawns) == 0 && b->spawns >= 1 && b->spawns <= 10000;
    else {
      b->error = "unknown field";
      return;
    }
    if (!ok) {
      b->error = "malformed field value";
      return;
    }
  }
  if (b->id < 0) b->error = "missing id";
  else if (!b->path) b->error = "missing path";
  else if (b->memory_bytes < 0) b->error = "missing memory";
  else if (b->spawns == 0) b->error = "missing spawns";
}

/* The memory bench lines hold: one region, kept across bench lines while
 * the size asked stays the same, so that a series at one size maps it once. */
static char *held_memory;
static long held_bytes;

/* Makes the held region exactly bytes long, mapped and touched (none for
 * 0): the old region goes first, so the two are never held at once.
 * Returns 0, or the errno of the failed mmap. */
static int hold_memory(long bytes) {
  if (bytes == held_bytes) return 0;
  if (held_memory) munmap(held_memory, (size_t)held_bytes);
  held_memory = NULL;
  held_bytes = 0;
  if (bytes == 0) return 0;
  held_memory = map_and_touch(bytes);
  if (!held_memory) return errno;
  held_bytes = bytes;
  return 0;
}

static long long monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* An errno's name ("ENOMEM") where the libc has a table of names (glibc
 * 2.32's strerrorname_np; musl has none), else its number. */
static const char *errno_name(int error) {
  static char number[32];
#ifdef __GLIBC__
  const char *name = strerrorname_np(error);
  if (name) return name;
#endif
  snprintf(number, sizeof number, "errno %d", error);
  return number;
}

/* The spawns of a bench, one after another, each timed from just before
 * posix_spawn until waitpid reaped the child; appends their nanoseconds to
 * ns, comma-separated. Only what a plain spawn needs: argv [path, "--exit"],
 * an empty environment, no cwd, no attributes, and one file action for
 * /dev/null on 2 (0 and 1 are /dev/null already, see
 * take_protocol_descriptors; 2 is ours, where the observer's output goes).
 * The first failure stops the series and is written to failure. */
static void time_spawns(const struct parsed_bench *b, struct buffer *ns, char *failure, size_t capacity) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) {
    snprintf(failure, capacity, "cannot open /dev/null: %s", errno_name(errno));
    return;
  }
  posix_spawn_file_actions_t actions;
  int setup = posix_spawn_file_actions_init(&actions);
  if (!setup) setup = posix_spawn_file_actions_adddup2(&actions, null, 2);
  if (setup) snprintf(failure, capacity, "file actions: %s", errno_name(setup));
  char *argv[] = {b->path, "--exit", NULL};
  char *envp[] = {NULL};
  for (long n = 1; !failure[0] && n <= b->spawns; n++) {
    pid_t pid, waited = -1;
    int status = 0;
    long long start = monotonic_ns();
    /* posix_spawn returns the error number (it does not set errno). */
    int error = posix_spawn(&pid, b->path, &actions, NULL, argv, envp);
    if (!error) do waited = waitpid(pid, &status, 0); while (waited < 0 && errno == EINTR);
    long long elapsed = monotonic_ns() - start;
    if (error) snprintf(failure, capacity, "spawn %ld: errno %d", n, error);
    else if (waited != pid) snprintf(failure, capacity, "spawn %ld: waitpid: errno %d", n, errno);
    else if (WIFSIGNALED(status)) snprintf(failure, capacity, "spawn %ld: killed by signal %d", n, WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0) snprintf(failure, capacity, "spawn %ld: child exited %d", n, WEXITSTATUS(status));
    else {
      if (n > 1) buffer_append_string(ns, ",");
      buffer_append_decimal(ns, elapsed);
    }
  }
  if (!setup) posix_spawn_file_actions_destroy(&actions);
  close(null);
}

/* Answers "timings id=N ns=<d1>,<d2>,..." or "timings id=N failure=<item>".
 * No observer markers: a bench is not a case. */
static void run_bench_line(const char *line, size_t length, struct buffer *out) {
  struct parsed_bench b;
  parse_bench(line, length, &b);
  if (b.error) {
    error_line(out, b.id, b.error);
    free(b.path);
    return;
  }
  struct buffer ns = {0};
  char failure[256] = "";
  int error = hold_memory(b.memory_bytes);
  if (error) snprintf(failure, sizeof failure, "memory: cannot map %ld bytes: %s", b.memory_bytes, errno_name(error));
  else time_spawns(&b, &ns, failure, sizeof failure);
  buffer_append_string(out, "timings id=");
  buffer_append_decimal(out, b.id);
  if (failure[0]) {
    append_key(out, "failure");
    buffer_append_string(out, "x");
    buffer_append_hex_bytes(out, failure, strlen(failure));
  } else {
    append_key(out, "ns");
    buffer_append(out, ns.data, ns.length);
  }
  buffer_append_string(out, "\n");
  free(ns.data);
  free(b.path);
}

static void append_hello(struct buffer *out) {
  buffer_append_string(out, "hello protocol=");
  buffer_append_decimal(out, PROTOCOL_VERSION);
  buffer_append_string(out, " impl=" IMPL_NAME " arch=" ARCH_NAME " pid=");
  buffer_append_decimal(out, getpid());
  append_key(out, "euid");
  buffer_append_decimal(out, (long)geteuid());
  append_key(out, "egid");
  buffer_append_decimal(out, (long)getegid());
  append_key(out, "pgid");
  buffer_append_decimal(out, getpgid(0));
  append_key(out, "sid");
  buffer_append_decimal(out, getsid(0));
  append_key(out, "cwd");
  buffer_append_string(out, "x");
  char cwd[4200];
  if (getcwd(cwd, sizeof cwd)) buffer_append_hex_bytes(out, cwd, strlen(cwd));
  /* Descriptors this process holds without close-on-exec: every child
   * inherits them too. */
  append_key(out, "inherited_fds");
  static int fds[4096];
  long count = list_open_descriptors(fds, 4096), listed = 0;
  for (long i = 0; i < count; i++) {
    int flags = fcntl(fds[i], F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC)) continue;
    if (listed++) buffer_append_string(out, ",");
    buffer_append_decimal(out, fds[i]);
  }
  append_key(out, "report_fd");
  buffer_append_decimal(out, REPORT_FD);
  append_key(out, "features");
  buffer_append_string(out, FEATURES);
  buffer_append_string(out, " signal_contract=posix errno_channel=" ERRNO_CHANNEL);
  /* Its children's exits and the storm: never ignored or handled by a case. */
  append_key(out, "signals_kept");
  buffer_append_decimal(out, SIGCHLD);
  buffer_append_string(out, ",");
  buffer_append_decimal(out, SIGWINCH);
  buffer_append_string(out, "\n");
}

/* ---- the driver loop ------------------------------------------------- */

static int protocol_in = 0, protocol_out = 1;

/* Keeps the protocol on private close-on-exec descriptors and gives the
 * children /dev/null as standard input and output, so nothing a child
 * prints can corrupt the stream. */
static void take_protocol_descriptors(void) {
  protocol_in = fcntl(0, F_DUPFD_CLOEXEC, DRIVER_FD_BASE + 100);
  protocol_out = fcntl(1, F_DUPFD_CLOEXEC, DRIVER_FD_BASE + 100);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    close(null);
  }
}

/* The stack a handler installed with SA_ONSTACK runs on (handler_flags=onstack). */
static void set_up_signal_stack(void) {
  static char stack[64 << 10] __attribute__((aligned(16)));
  stack_t alternate = {.ss_sp = stack, .ss_size = sizeof stack, .ss_flags = 0};
  sigaltstack(&alternate, NULL);
}

static int driver_main(void) {
  /* A write to a harness that went away must not kill us mid-line. */
  signal(SIGPIPE, SIG_IGN);
  take_protocol_descriptors();
  if (protocol_in < 0 || protocol_out < 0) return 2;
  storm_prepare();
  set_up_signal_stack();
  struct buffer out = {0}, in = {0};
  append_hello(&out);
  write_all(protocol_out, out.data, out.length);
  size_t scanned = 0;
  for (;;) {
    size_t newline = scanned;
    while (newline < in.length && in.data[newline] != '\n') newline++;
    if (newline == in.length) {
      scanned = newline;
      if (in.length > (size_t)MAX_LINE_BYTES) {
        out.length = 0;
        error_line(&out, -1, "line too long");
        write_all(protocol_out, out.data, out.length);
        return 2;
      }
      buffer_reserve(&in, 1 << 20);
      ssize_t r = read(protocol_in, in.data + in.length, in.capacity - in.length);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return 0; /* the harness closed the pipe: done */
      in.length += (size_t)r;
      continue;
    }
    out.length = 0;
    if (newline >= 6 && memcmp(in.data, "bench ", 6) == 0) run_bench_line(in.data, newline, &out);
    else if (newline > 0) run_case_line(in.data, newline, &out);
    if (out.length) write_all(protocol_out, out.data, out.length);
    memmove(in.data, in.data + newline + 1, in.length - newline - 1);
    in.length -= newline + 1;
    scanned = 0;
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--driver") == 0) return driver_main();
  static const char usage[] = "usage: vforkcheck-" IMPL_NAME "-driver --driver\n";
  (void)!write(2, usage, sizeof usage - 1);
  return 2;
}
