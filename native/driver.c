/*
 * driver.c: the long-lived driver (protocol in docs/protocol.md), the entry
 * point that picks the mode, and the entry of the shared library.
 *
 *   vforkcheck-driver --driver   serve cases on standard input/output
 *   vforkcheck-driver --probe    print the measured capabilities
 *   vforkcheck-driver --reap-all PROGRAM ARGS  run PROGRAM, killing all it left at its end (reap-all.c)
 *   vforkcheck-driver --exit     exit 0 at once (the probe's exec target)
 *   vforkcheck-driver --system-init <ms>   process 1 of a system-tier VM
 *   vforkcheck-driver --die-with-parent PROGRAM ARGS...   (amd64) exec PROGRAM, killed with its parent
 *   vforkcheck-driver ...        anything else: the child-mode exec target
 */
#include "pidfd.h"
#include "signal-state.h"
#include "signal-storm.h"
#include "spawn.h"
#include "threads.h"
#include "vfc.h"

#define PROTOCOL_VERSION 1
#define MAX_LINE_BYTES (64L << 20)

long auxv_page_size = 4096;

/* ---- parsing one case line ------------------------------------------- */

/* threads=N: N spawns at once, one per thread (concurrent-spawns); each
 * thread spawns rounds=R times in a row; fork_thread=F: another thread
 * makes F plain forks meanwhile. */
#define MAX_CONCURRENT_SPAWNS 8
#define MAX_ROUNDS 8
#define MAX_PLAIN_FORKS 16

/* What differs between the spawns of a concurrent case: its thread_spawns entry. */
struct concurrent_spawn {
  const char *path;
  int target_count;
  int targets[SPAWN_MAX_DESCRIPTOR_MOVES];
};

struct parsed_case {
  long id;
  struct spawn_request request;
  long memory_bytes;
  int signal_storm;
  int want_pidfd; /* pidfd=1: the spawn returns a pidfd, judged from outside (pidfd.h) */
  struct parent_signal_state parent_signals; /* sigmask, sigignore, sighandle */
  unsigned long handler_flags; /* SA_* for the storm's and sighandle's handlers (handler_flags) */
  int is_bench;      /* a "bench" line, not a "case" line */
  long bench_spawns; /* bench: how many spawns to time */
  int target_count;
  int targets[SPAWN_MAX_DESCRIPTOR_MOVES];
  int parent_fd_count; /* parent_fds: held without close-on-exec across the spawn */
  int parent_fds[SPAWN_MAX_DESCRIPTOR_MOVES];
  long report_fd; /* where the report pipe goes in the child */
  int thread_count; /* 0: one spawn on the driver's own thread */
  int spawn_count;  /* entries of thread_spawns */
  struct concurrent_spawn spawns[MAX_CONCURRENT_SPAWNS];
  int rounds;             /* each spawn's runs in a row (rounds=, default 1) */
  int plain_fork_count;   /* fork_thread=: plain forks on another thread */
  const char *fork_path;  /* fork_path=: what they exec */
  const char *error; /* why the line was refused, or NULL */
  char *arena;       /* decoded strings and pointer arrays */
  size_t arena_used, arena_size;
};

static void *arena_take(struct parsed_case *c, size_t bytes) {
  bytes = (bytes + 7) & ~(size_t)7;
  if (c->arena_used + bytes > c->arena_size) return NULL;
  void *p = c->arena + c->arena_used;
  c->arena_used += bytes;
  return p;
}

/* codec.h's allocator: the case's arena. */
static void *arena_allocate(void *context, size_t bytes) {
  return arena_take(context, bytes);
}

static int field_is(const char *key, size_t n, const char *name) {
  return string_length(name) == n && memcmp(key, name, n) == 0;
}

/* A bench line takes only these fields; a case line all but the last two. */
static int field_allowed(int is_bench, const char *key, size_t n) {
  static const char *const bench_fields[] = {"id", "path", "memory", "spawns", "fork"};
  if (!is_bench) return !field_is(key, n, "spawns") && !field_is(key, n, "fork");
  for (size_t i = 0; i < sizeof bench_fields / sizeof bench_fields[0]; i++)
    if (field_is(key, n, bench_fields[i])) return 1;
  return 0;
}

/* What the "*<count>;" runs of a line add when decoded, so the arena holds them. */
static size_t repeated_bytes(const char *line, size_t length) {
  size_t total = 0;
  for (size_t i = 0; i < length; i++) {
    if (line[i] != '*') continue;
    size_t end = i + 1;
    while (end < length && line[end] != ';') end++;
    long count;
    if (end < length && !parse_decimal(line + i + 1, end - i - 1, &count) && count > 0 && count <= MAX_REPEAT_COUNT) total += (size_t)count;
    i = end;
  }
  return total;
}

/* thread_spawns=<path item>/<fds>;...: one entry per spawn of a concurrent case. */
static int parse_spawn_list(const char *value, size_t n, struct parsed_case *c) {
  size_t start = 0;
  c->spawn_count = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && value[i] != ';') continue;
    size_t slash = start;
    while (slash < i && value[slash] != '/') slash++;
    if (slash == i || c->spawn_count == MAX_CONCURRENT_SPAWNS) return -1;
    struct concurrent_spawn *spawn = &c->spawns[c->spawn_count++];
    spawn->path = decode_item(value + start, slash - start, arena_allocate, c);
    spawn->target_count = decode_numbers(value + slash + 1, i - slash - 1, spawn->targets, SPAWN_MAX_DESCRIPTOR_MOVES - 1);
    if (!spawn->path || spawn->target_count < 0) return -1;
    start = i + 1;
  }
  return 0;
}

static void parse_case(const char *line, size_t length, struct parsed_case *c) {
  memset(c, 0, sizeof *c);
  c->id = -1;
  c->request.uid_inside = c->request.gid_inside = -1;
  c->report_fd = REPORT_FD;
  c->handler_flags = SA_RESTART; /* without handler_flags: the driver's handlers as they always were */
  c->arena_size = 6 * length + repeated_bytes(line, length) + 4096;
  c->arena = map_anonymous(c->arena_size);
  if (!c->arena) {
    c->error = "out of memory";
    return;
  }
  static char *empty_list[] = {NULL};
  c->request.argv = c->request.envp = empty_list;
  c->bench_spawns = 1;
  c->is_bench = starts_with(line, length, "bench ");
  if (!c->is_bench && !starts_with(line, length, "case ")) {
    c->error = "expected a line starting with 'case ' or 'bench '";
    return;
  }
  size_t at = c->is_bench ? 6 : 5;
  while (at < length) {
    size_t end = at;
    while (end < length && line[end] != ' ') end++;
    const char *key = line + at;
    size_t eq = 0;
    while (at + eq < end && line[at + eq] != '=') eq++;
    if (at + eq == end) {
      c->error = "field without '='";
      return;
    }
    const char *value = key + eq + 1;
    size_t vn = end - (at + eq + 1);
    long number;
    unsigned long flags;
    int ok = 1;
    if (!field_allowed(c->is_bench, key, eq)) {
      c->error = "unknown field";
      return;
    }
    if (field_is(key, eq, "id")) ok = parse_decimal(value, vn, &c->id) == 0;
    else if (field_is(key, eq, "path")) ok = (c->request.path = decode_item(value, vn, arena_allocate, c)) != NULL;
    else if (field_is(key, eq, "cwd")) ok = (c->request.cwd = decode_item(value, vn, arena_allocate, c)) != NULL;
    else if (field_is(key, eq, "argv")) ok = (c->request.argv = decode_list(value, vn, arena_allocate, c)) != NULL;
    else if (field_is(key, eq, "env")) ok = (c->request.envp = decode_list(value, vn, arena_allocate, c)) != NULL;
    else if (field_is(key, eq, "clone")) ok = parse_hex_number(value, vn, &flags) == 0 && ((c->request.clone_flags = flags), 1);
    else if (field_is(key, eq, "unshare")) ok = parse_hex_number(value, vn, &flags) == 0 && ((c->request.unshare_flags = flags), 1);
    else if (field_is(key, eq, "setsid")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->request.setsid = (int)number), 1);
    else if (field_is(key, eq, "setpgid")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->request.setpgid = (int)number), 1);
    else if (field_is(key, eq, "uid")) ok = parse_decimal(value, vn, &c->request.uid_inside) == 0;
    else if (field_is(key, eq, "gid")) ok = parse_decimal(value, vn, &c->request.gid_inside) == 0;
    else if (field_is(key, eq, "storm")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->signal_storm = (int)number), 1);
    else if (field_is(key, eq, "pidfd")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->want_pidfd = (int)number), 1);
    else if (field_is(key, eq, "clone3")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->request.use_clone3 = (int)number), 1);
    else if (field_is(key, eq, "sigmask")) ok = parse_signal_list(value, vn, &c->parent_signals.mask) == 0 && ((c->parent_signals.present = 1), 1);
    else if (field_is(key, eq, "sigignore")) ok = parse_signal_list(value, vn, &c->parent_signals.ignore) == 0 && ((c->parent_signals.present = 1), 1);
    else if (field_is(key, eq, "sighandle")) ok = parse_signal_list(value, vn, &c->parent_signals.handle) == 0 && ((c->parent_signals.present = 1), 1);
    else if (field_is(key, eq, "handler_flags")) ok = decode_handler_flags(value, vn, &c->handler_flags) == 0;
    else if (field_is(key, eq, "memory")) ok = parse_decimal(value, vn, &c->memory_bytes) == 0 && c->memory_bytes >= 0;
    else if (field_is(key, eq, "spawns")) ok = parse_decimal(value, vn, &c->bench_spawns) == 0 && c->bench_spawns >= 1 && c->bench_spawns <= 10000;
    else if (field_is(key, eq, "fork")) ok = parse_decimal(value, vn, &number) == 0 && number >= 0 && number <= 1 && ((c->request.force_fork = (int)number), 1);
    else if (field_is(key, eq, "report_fd")) ok = parse_decimal(value, vn, &c->report_fd) == 0 && c->report_fd >= 0 && c->report_fd <= MAX_REPORT_FD;
    else if (field_is(key, eq, "fds")) ok = (c->target_count = decode_numbers(value, vn, c->targets, SPAWN_MAX_DESCRIPTOR_MOVES - 1)) >= 0;
    else if (field_is(key, eq, "parent_fds")) ok = (c->parent_fd_count = decode_numbers(value, vn, c->parent_fds, SPAWN_MAX_DESCRIPTOR_MOVES)) >= 0;
    else if (field_is(key, eq, "threads")) ok = parse_decimal(value, vn, &number) == 0 && number >= 2 && number <= MAX_CONCURRENT_SPAWNS && ((c->thread_count = (int)number), 1);
    else if (field_is(key, eq, "thread_spawns")) ok = parse_spawn_list(value, vn, c) == 0;
    else if (field_is(key, eq, "rounds")) ok = parse_decimal(value, vn, &number) == 0 && number >= 1 && number <= MAX_ROUNDS && ((c->rounds = (int)number), 1);
    else if (field_is(key, eq, "fork_thread")) ok = parse_decimal(value, vn, &number) == 0 && number >= 1 && number <= MAX_PLAIN_FORKS && ((c->plain_fork_count = (int)number), 1);
    else if (field_is(key, eq, "fork_path")) ok = (c->fork_path = decode_item(value, vn, arena_allocate, c)) != NULL;
    else {
      c->error = "unknown field";
      return;
    }
    if (!ok) {
      c->error = "malformed field value";
      return;
    }
    at = end + 1;
  }
#ifdef VFC_SHARED_LIBRARY
  /* The in-process parent's process group is its host program's. */
  if (c->signal_storm) c->error = "storm: not supported in-process";
  /* Dispositions and the mask of the host program's threads are its own. */
  if (c->parent_signals.present) c->error = "signal state: not supported in-process";
  /* Raw threads inside another program's process: not offered (no threads in the hello). */
  if (c->thread_count) c->error = "threads: not supported in-process";
  /* The host program's other threads would pass them to their own children (no parent_fds in the hello). */
  if (c->parent_fd_count) c->error = "parent_fds: not supported in-process";
#endif
  if (c->thread_count && c->parent_fd_count) c->error = "threads: no parent_fds";
  for (int i = 0; i < c->parent_fd_count; i++) {
    if (c->parent_fds[i] == c->report_fd) c->error = "report_fd is one of parent_fds";
    for (int j = 0; j < c->target_count; j++)
      if (c->parent_fds[i] == c->targets[j]) c->error = "parent_fds and fds share a number";
  }
  if (c->thread_count != c->spawn_count) c->error = "threads and the entries of thread_spawns differ";
  if (!c->thread_count && (c->rounds || c->plain_fork_count)) c->error = "rounds and fork_thread: only with threads";
  if (!c->plain_fork_count != !c->fork_path) c->error = "fork_thread and fork_path: both or neither";
  if (!c->rounds) c->rounds = 1;
  /* The storm and the signal state are the process's, not one spawn's. */
  if (c->thread_count && (c->signal_storm || c->parent_signals.present)) c->error = "threads: no storm or signal state";
  for (int s = 0; s < c->spawn_count; s++)
    for (int i = 0; i < c->spawns[s].target_count; i++)
      if (c->spawns[s].targets[i] == c->report_fd) c->error = "report_fd is one of a spawn's fds";
  for (int i = 0; i < c->target_count; i++)
    if (c->targets[i] == c->report_fd) c->error = "report_fd is one of fds";
  if (c->id < 0) c->error = "missing id";
  else if (!c->request.path) c->error = "missing path";
  else if (c->parent_signals.present && !c->error) c->error = refuse_signal_state(&c->parent_signals);
}

/* ---- running one case ------------------------------------------------ */

struct spawn_context {
  const struct spawn_request *request;
  long result;
};

static long spawn_thunk(void *p) {
  struct spawn_context *context = p;
  context->result = reference_spawn(context->request);
  return 0;
}

#define STACK_CANARY_WORDS 32
#define STACK_CANARY(i) (0x5354414bUL * 2654435761UL + (unsigned long)(i))

/* Spawns between stack canaries (in this frame, above the spawn's) and
 * register canaries (callee-saved registers across the call). */
__attribute__((noinline)) static long
spawn_between_canaries(const struct spawn_request *request, int *stack_ok,
                       unsigned long *damaged_registers) {
  volatile unsigned long canaries[STACK_CANARY_WORDS];
  for (int i = 0; i < STACK_CANARY_WORDS; i++) canaries[i] = STACK_CANARY(i);
  struct spawn_context context = {request, 0};
  call_with_register_canaries(spawn_thunk, &context, damaged_registers);
  *stack_ok = 1;
  for (int i = 0; i < STACK_CANARY_WORDS; i++)
    if (canaries[i] != STACK_CANARY(i)) *stack_ok = 0;
  return context.result;
}

static long count_open_descriptors(void) {
  int fds[1024];
  return list_open_descriptors(fds, 1024);
}

static void append_key(struct buffer *out, const char *key) {
  buffer_append_string(out, " ");
  buffer_append_string(out, key);
  buffer_append_string(out, "=");
}

/* codec.h's output: a buffer of ours. */
static void append_to_buffer(void *out, const void *bytes, size_t n) {
  buffer_append(out, bytes, n);
}

static void read_to_end(int fd, struct buffer *into) {
  for (;;) {
    buffer_reserve(into, 65536);
    long r = SYS3(NR_read, fd, into->data + into->length, 65536);
    if (r == -4) continue;
    if (r <= 0) break;
    into->length += (size_t)r;
  }
}

static void touch_pages(char *memory, long bytes) {
  for (long i = 0; i < bytes; i += 4096) memory[i] = 1;
}

/* Maps and touches the parent memory the case asks for: the fast path must
 * not get slower with it, and a fork copies its page tables. Populated at
 * mmap, then written once per page all the same: every page is resident,
 * private and dirty, with its page-table entry, whatever the kernel did. */
static char *map_and_touch(long bytes) {
  if (bytes <= 0) return NULL;
  char *memory = map_populated((size_t)bytes);
  if (memory) touch_pages(memory, bytes);
  return memory;
}

/* ---- a bench line: spawn-to-exit latency with memory held ---------- */

/* The memory bench lines ask this process to hold. It stays from one line
 * to the next, so a size is touched once and not before every batch. */
static char *held_memory;
static long held_bytes;

/* In 4 KiB pages: with transparent huge pages (a Debian VM kernel's
 * default) a fork copies 512 times fewer page-table entries, and the run
 * would measure the kernel's setting instead of the spawn. Populated by
 * MADV_POPULATE_WRITE where the kernel has it, touched all the same. */
static char *map_small_pages(long bytes) {
  if (bytes <= 0) return NULL;
  char *memory = map_anonymous((size_t)bytes);
  if (!memory) return NULL;
  SYS3(NR_madvise, memory, bytes, MADV_NOHUGEPAGE);
  SYS3(NR_madvise, memory, bytes, MADV_POPULATE_WRITE);
  touch_pages(memory, bytes);
  return memory;
}

static int hold_memory(long bytes) {
  if (bytes == held_bytes) return 1;
  unmap(held_memory, (size_t)held_bytes);
  held_memory = map_small_pages(bytes);
  held_bytes = held_memory ? bytes : 0;
  return bytes == held_bytes;
}

/* Two longs, as every architecture's clock_gettime fills them: the
 * monotonic clock's seconds stay small, so 32-bit ones need no time64. */
struct monotonic_time {
  long seconds, nanoseconds;
};

static struct monotonic_time monotonic_now(void) {
  struct monotonic_time now = {0, 0};
  SYS2(NR_clock_gettime, CLOCK_MONOTONIC, &now);
  return now;
}

/* b - a in nanoseconds, as a decimal: written as seconds then nine digits,
 * so a 32-bit long never has to hold more than a second's nanoseconds. */
static void append_elapsed_ns(struct buffer *out, struct monotonic_time a, struct monotonic_time b) {
  long seconds = b.seconds - a.seconds, nanoseconds = b.nanoseconds - a.nanoseconds;
  if (nanoseconds < 0) {
    nanoseconds += 1000000000L;
    seconds--;
  }
  if (seconds <= 0) {
    buffer_append_decimal(out, nanoseconds);
    return;
  }
  buffer_append_decimal(out, seconds);
  char digits[9];
  for (int i = 8; i >= 0; i--, nanoseconds /= 10) digits[i] = (char)('0' + nanoseconds % 10);
  buffer_append(out, digits, sizeof digits);
}

static void append_bench_failure(struct buffer *out, const char *what, long spawn, const char *detail, long value) {
  struct buffer message = {0};
  buffer_append_string(&message, what);
  if (spawn >= 0) {
    buffer_append_string(&message, " ");
    buffer_append_decimal(&message, spawn);
  }
  buffer_append_string(&message, detail);
  buffer_append_decimal(&message, value);
  buffer_append_string(out, " failure=x");
  buffer_append_hex_bytes(out, message.data, message.length);
  buffer_free(&message);
}

/* Times bench_spawns spawns of `path --exit` (a static target that exits
 * at once), each from just before the spawn until wait4 reaped it. No
 * observer markers: this measures, the properties check. */
static void run_bench(struct parsed_case *c, struct buffer *out, int in_process) {
  buffer_append_string(out, "timings id=");
  buffer_append_decimal(out, c->id);
  /* In-process, the host program holds the memory in its own heap. */
  if (!in_process && !hold_memory(c->memory_bytes)) {
    append_bench_failure(out, "memory: cannot map and touch", -1, " bytes: ", c->memory_bytes);
    buffer_append_string(out, "\n");
    return;
  }
  char *argv[] = {(char *)c->request.path, "--exit", NULL};
  char *envp[] = {NULL};
  struct spawn_request request = {.path = c->request.path, .argv = argv, .envp = envp, .uid_inside = -1, .gid_inside = -1, .force_fork = c->request.force_fork};
  struct buffer timings = {0};
  for (long i = 1; i <= c->bench_spawns; i++) {
    struct monotonic_time start = monotonic_now();
    long pid = reference_spawn(&request);
    int status = 0;
    long waited = pid;
    if (pid > 0)
      do waited = SYS4(NR_wait4, pid, &status, 0, 0); while (waited == -4);
    struct monotonic_time end = monotonic_now();
    if (pid <= 0 || waited != pid || status != 0) {
      if (pid <= 0) append_bench_failure(out, "spawn", i, ": errno ", -pid);
      else if (waited != pid) append_bench_failure(out, "spawn", i, ": wait4 errno ", -waited);
      else append_bench_failure(out, "spawn", i, ": child wait status ", status);
      buffer_append_string(out, "\n");
      buffer_free(&timings);
      return;
    }
    if (i > 1) buffer_append_string(&timings, ",");
    append_elapsed_ns(&timings, start, end);
  }
  buffer_append_string(out, " ns=");
  buffer_append(out, timings.data, timings.length);
  buffer_append_string(out, "\n");
  buffer_free(&timings);
}

/* ---- a case's descriptors, its child, what it left ------------------ */

/* The report pipe, with its marking size (how the exec target finds it,
 * vfc.h), and /dev/null for each target, as the request's descriptor
 * moves. Returns the report pipe's read end. */
static int prepare_descriptors(struct spawn_request *request, long report_fd, const int *targets, int target_count, long source_base) {
  int report_pipe[2] = {-1, -1};
  SYS2(NR_pipe2, report_pipe, O_CLOEXEC);
  SYS3(NR_fcntl, report_pipe[1], F_SETPIPE_SZ, REPORT_PIPE_BYTES);
  int report_write = (int)SYS3(NR_fcntl, report_pipe[1], F_DUPFD_CLOEXEC, source_base);
  SYS1(NR_close, report_pipe[1]);
  request->descriptor_move_count = 0;
  request->move_from[request->descriptor_move_count] = report_write;
  request->move_to[request->descriptor_move_count++] = (int)report_fd;
  for (int i = 0; i < target_count; i++) {
    long null = SYS4(NR_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
    long source = SYS3(NR_fcntl, null, F_DUPFD_CLOEXEC, source_base);
    SYS1(NR_close, null);
    request->move_from[request->descriptor_move_count] = (int)source;
    request->move_to[request->descriptor_move_count++] = targets[i];
  }
  return report_pipe[0];
}

/* parent_fds: /dev/null at each number, without close-on-exec, held across
 * the spawn as a caller's leftovers are. The driver's own descriptors lie
 * below 10 and from 300; one it holds in between can only be a leak of the
 * spawn under test, and is moved out of the way (flags kept) rather than
 * refusing the case. Returns why it could not open them (having closed
 * those it opened), or NULL. */
#define MOVED_ASIDE_BASE 400

static void close_parent_descriptors(const struct parsed_case *c, int count) {
  for (int i = 0; i < count; i++) SYS1(NR_close, c->parent_fds[i]);
}

static long move_aside(int fd) {
  long flags = SYS2(NR_fcntl, fd, F_GETFD);
  if (IS_SYSCALL_ERROR(flags)) return 0; /* not open: nothing in the way */
  long moved = SYS3(NR_fcntl, fd, F_DUPFD, MOVED_ASIDE_BASE);
  if (IS_SYSCALL_ERROR(moved)) return moved;
  SYS3(NR_fcntl, moved, F_SETFD, flags);
  return SYS1(NR_close, fd);
}

static const char *open_parent_descriptors(const struct parsed_case *c) {
  for (int i = 0; i < c->parent_fd_count; i++) {
    int fd = c->parent_fds[i];
    long placed = move_aside(fd);
    if (IS_SYSCALL_ERROR(placed)) {
      close_parent_descriptors(c, i);
      return "parent_fds: cannot move the driver's own descriptor out of the way";
    }
    placed = SYS4(NR_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
    if (placed >= 0 && placed != fd) {
      long null = placed;
      placed = SYS3(NR_dup3, null, fd, 0);
      SYS1(NR_close, null);
    } else if (placed == fd) {
      placed = SYS3(NR_fcntl, fd, F_SETFD, 0); /* the lowest free number was this one */
    }
    if (IS_SYSCALL_ERROR(placed)) {
      close_parent_descriptors(c, i);
      return "parent_fds: cannot open /dev/null there";
    }
  }
  return NULL;
}

/* Returns whether wait4 reaped that pid. */
static int reap_child(long pid, int *status) {
  long waited;
  do waited = SYS4(NR_wait4, pid, status, 0, 0); while (waited == -4);
  return waited == pid;
}

/* A spawned child: its report read to EOF, then reaped. */
static int collect_child(long pid, int report_read, struct buffer *report, int *status) {
  read_to_end(report_read, report);
  return reap_child(pid, status);
}

static void append_error_fields(struct buffer *out, long pid) {
  append_key(out, "outcome");
  buffer_append_string(out, "error");
  append_key(out, "errno");
  buffer_append_decimal(out, -pid);
}

/* Children left behind: zombies (reaped here, so the next case starts
 * clean) and live ones; descriptors opened and not closed. */
static void append_leftovers(struct buffer *out, int in_process, long descriptors_before) {
  long zombies = 0, live = 0;
  /* In another program's process (Node) the other children are not ours to
   * reap; the harness checks the spawned pid itself there. */
  for (; !in_process;) {
    int status;
    /* __WALL: a child without SIGCHLD as exit signal is invisible otherwise. */
    long r = SYS4(NR_wait4, -1, &status, WNOHANG | __WALL, 0);
    if (r > 0) zombies++;
    else {
      live = r == 0;
      break;
    }
  }
  encode_leftover_fields(append_to_buffer, out, zombies, live, count_open_descriptors() - descriptors_before);
}

/* What every result line ends with: the caller's stack and register
 * canaries as measured around the spawn, then the line's end. */
static void append_canaries_and_end(struct buffer *out, int stack_ok, unsigned long damaged_registers) {
  append_key(out, "stack_canaries");
  buffer_append_string(out, stack_ok ? "ok" : "damaged");
  append_key(out, "register_canaries");
  if (damaged_registers) buffer_append_hex_number(out, damaged_registers);
  else buffer_append_string(out, "ok");
  buffer_append_string(out, "\n");
}

/* ---- a concurrent case: threads=N, each spawning at the same moment -- */

/* One spawn of a concurrent case in one round, or one plain fork: its
 * request (the case's but for path and descriptors), its report pipe's
 * read end, and what it returned. */
struct round_spawn {
  struct spawn_request request;
  int report_read;
  long result;
};

struct spawn_thread {
  struct round_spawn rounds[MAX_ROUNDS];
  int round_count;
  struct start_gate *gate;
  struct finish_line *finish;
  int stack_ok;
  unsigned long damaged_registers;
  struct raw_thread thread;
};

/* fork_thread=F: a thread that forks F times, back to back, once the gate opens. */
struct plain_forks {
  struct round_spawn forks[MAX_PLAIN_FORKS];
  int count;
  int report_fd;
  struct start_gate *gate;
  struct finish_line *finish;
  struct raw_thread thread;
};

#ifdef MUTANT_SHARED_RESULT_SLOT
/* Bug class 16: every spawn's outcome lands in one slot, read for each
 * caller after the join: every caller gets the last spawn's outcome. */
static long shared_result_slot;
#define SPAWN_RESULT(spawn) shared_result_slot
#else
#define SPAWN_RESULT(spawn) ((spawn)->result)
#endif

static void spawn_thread_body(void *argument) {
  struct spawn_thread *thread = argument;
  start_gate_wait(thread->gate);
  thread->stack_ok = 1;
  for (int r = 0; r < thread->round_count; r++) {
    int stack_ok = 0;
    unsigned long damaged_registers = 0;
    SPAWN_RESULT(&thread->rounds[r]) = spawn_between_canaries(&thread->rounds[r].request, &stack_ok, &damaged_registers);
    thread->stack_ok &= stack_ok;
    thread->damaged_registers |= damaged_registers;
  }
  finish_line_cross(thread->finish);
}

static void plain_forks_body(void *argument) {
  struct plain_forks *forks = argument;
  start_gate_wait(forks->gate);
  for (int f = 0; f < forks->count; f++) {
    const struct spawn_request *request = &forks->forks[f].request;
    forks->forks[f].result = plain_fork_exec(request->path, request->argv, request->envp, request->move_from[0], forks->report_fd);
  }
  finish_line_cross(forks->finish);
}

/* A spawn's child, after the join: its sources closed, its report read,
 * the child reaped; its thread_outcomes entry appended to entries, and
 * with own (the case's first spawn) the result's own fields too. */
static void collect_spawn(struct round_spawn *spawn, long pid, struct buffer *entries, struct buffer *own) {
  for (int i = 0; i < spawn->request.descriptor_move_count; i++) SYS1(NR_close, spawn->request.move_from[i]);
  struct buffer report = {0};
  int status = 0, waited = pid > 0 ? collect_child(pid, spawn->report_read, &report, &status) : 0;
  SYS1(NR_close, spawn->report_read);
  if (own && pid > 0) encode_spawned_fields(append_to_buffer, own, pid, waited, status, "unknown", report.data, report.length);
  else if (own) append_error_fields(own, pid);
  if (entries->length) buffer_append_string(entries, ";");
  encode_spawn_outcome(append_to_buffer, entries, pid, waited, status, report.data, report.length);
  buffer_free(&report);
}

/* Every spawn's request is the case's but for its path and descriptors,
 * one per round, each with descriptors of its own. The threads start, wait
 * at the gate, and when it opens each spawns its rounds one after another
 * while the fork thread (fork_thread=) forks; the driver joins them all
 * before it reads a report or reaps a child. The harness's case deadline
 * bounds the whole (a hung spawn hangs its join, and the harness kills the
 * driver). */
static void run_concurrent_case(struct parsed_case *c, struct buffer *out) {
  static struct spawn_thread threads[MAX_CONCURRENT_SPAWNS];
  static struct plain_forks forks;
  struct start_gate gate = {0};
  struct finish_line finish = {0};
  char *memory = map_and_touch(c->memory_bytes);
  long descriptors_before = count_open_descriptors();
  long source_base = c->report_fd + 1 > DRIVER_FD_BASE ? c->report_fd + 1 : DRIVER_FD_BASE;
  for (int s = 0; s < c->spawn_count; s++) source_base = source_base_above(source_base, c->spawns[s].targets, c->spawns[s].target_count);
  for (int s = 0; s < c->spawn_count; s++) {
    struct spawn_thread *thread = &threads[s];
    memset(thread, 0, sizeof *thread);
    thread->gate = &gate;
    thread->finish = &finish;
    thread->round_count = c->rounds;
    for (int r = 0; r < c->rounds; r++) {
      struct round_spawn *spawn = &thread->rounds[r];
      spawn->request = c->request;
      spawn->request.path = c->spawns[s].path;
      spawn->report_read = prepare_descriptors(&spawn->request, c->report_fd, c->spawns[s].targets, c->spawns[s].target_count, source_base);
    }
  }
  memset(&forks, 0, sizeof forks);
  forks.gate = &gate;
  forks.finish = &finish;
  forks.count = c->plain_fork_count;
  forks.report_fd = (int)c->report_fd;
  for (int f = 0; f < forks.count; f++) {
    struct round_spawn *fork = &forks.forks[f];
    fork->request = c->request;
    fork->request.path = c->fork_path;
    fork->report_read = prepare_descriptors(&fork->request, c->report_fd, NULL, 0, source_base);
  }
  SYS3(NR_lseek, -1, c->id, 0);
  for (int s = 0; s < c->spawn_count; s++) {
    long started = raw_thread_start(&threads[s].thread, spawn_thread_body, &threads[s]);
    /* Not started: each of its spawns' outcome is the errno, and it spawned nothing. */
    if (started) {
      threads[s].stack_ok = 1;
      for (int r = 0; r < c->rounds; r++) threads[s].rounds[r].result = started;
    } else {
      finish.remaining++;
    }
  }
  if (forks.count) {
    long started = raw_thread_start(&forks.thread, plain_forks_body, &forks);
    for (int f = 0; started && f < forks.count; f++) forks.forks[f].result = started;
    if (!started) finish.remaining++;
  }
  /* Counted before any thread can cross: they all wait at the gate until now. */
  start_gate_open(&gate);
  for (int s = 0; s < c->spawn_count; s++) raw_thread_join(&threads[s].thread);
  raw_thread_join(&forks.thread);
  SYS3(NR_lseek, -1, c->id, 2);

  struct buffer outcomes = {0}, fork_outcomes = {0};
  int stack_ok = 1;
  unsigned long damaged_registers = 0;
  buffer_append_string(out, "result id=");
  buffer_append_decimal(out, c->id);
  for (int r = 0; r < c->rounds; r++)
    for (int s = 0; s < c->spawn_count; s++)
      collect_spawn(&threads[s].rounds[r], SPAWN_RESULT(&threads[s].rounds[r]), &outcomes, r == 0 && s == 0 ? out : NULL);
  for (int f = 0; f < forks.count; f++) collect_spawn(&forks.forks[f], forks.forks[f].result, &fork_outcomes, NULL);
  for (int s = 0; s < c->spawn_count; s++) {
    stack_ok &= threads[s].stack_ok;
    damaged_registers |= threads[s].damaged_registers;
  }
  append_leftovers(out, 0, descriptors_before);
  append_key(out, "thread_outcomes");
  buffer_append(out, outcomes.data, outcomes.length);
  buffer_free(&outcomes);
  if (forks.count) {
    append_key(out, "fork_outcomes");
    buffer_append(out, fork_outcomes.data, fork_outcomes.length);
  }
  buffer_free(&fork_outcomes);
  append_canaries_and_end(out, stack_ok, damaged_registers);
  unmap(memory, (size_t)c->memory_bytes);
}

static void append_refusal(struct buffer *out, long id, const char *reason) {
  buffer_append_string(out, "error id=");
  buffer_append_decimal(out, id);
  buffer_append_string(out, " reason=");
  buffer_append_hex_bytes(out, reason, string_length(reason));
  buffer_append_string(out, "\n");
}

void run_case_line(const char *line, size_t length, struct buffer *out, int in_process) {
  int map_memory = !in_process;
  struct parsed_case c;
  parse_case(line, length, &c);
  if (!c.error && !c.is_bench) c.error = open_parent_descriptors(&c);
  if (c.error) {
    append_refusal(out, c.id, c.error);
    unmap(c.arena, c.arena_size);
    return;
  }
  if (c.is_bench) {
    run_bench(&c, out, in_process);
    unmap(c.arena, c.arena_size);
    return;
  }
  if (c.thread_count) {
    run_concurrent_case(&c, out);
    unmap(c.arena, c.arena_size);
    return;
  }
  char *memory = map_memory ? map_and_touch(c.memory_bytes) : NULL;
  long descriptors_before = count_open_descriptors();
  long pidfds_before = c.want_pidfd ? count_open_pidfds() : 0;

  struct spawn_request *request = &c.request;
  int pidfd = OUTPUT_PRESET;
  if (c.want_pidfd) request->pidfd = &pidfd;
  long source_base = source_base_above(c.report_fd + 1 > DRIVER_FD_BASE ? c.report_fd + 1 : DRIVER_FD_BASE, c.targets, c.target_count);
  int report_read = prepare_descriptors(request, c.report_fd, c.targets, c.target_count, source_base);

  int stack_ok = 0;
  unsigned long damaged_registers = 0;
  /* Markers for an observer (strace, qemu -strace): lseek(-1, id, SEEK_SET)
   * before the spawn and lseek(-1, id, SEEK_END) after; both fail EBADF. */
  long storm = c.signal_storm ? storm_start(c.handler_flags) : 0, handler_in_child = 0;
  /* The case's parent signal state holds from just before the spawn until
   * it returned; restored then, so the next case starts from the driver's own. */
  static struct saved_signal_state saved_signals;
  long not_applied = c.parent_signals.present ? apply_signal_state(&c.parent_signals, c.handler_flags, &saved_signals) : 0;
  SYS3(NR_lseek, -1, c.id, 0);
  long pid = not_applied; /* -errno: answered as the case's error, nothing spawned */
  if (!not_applied) pid = spawn_between_canaries(request, &stack_ok, &damaged_registers);
  else stack_ok = 1; /* no spawn, no frame to damage */
  /* The storm ends before the end marker, so that no line of the storm
   * process can land inside the marker in an observer's log. */
  if (storm > 0) handler_in_child = storm_stop(storm);
  SYS3(NR_lseek, -1, c.id, 2);
  if (c.parent_signals.present && !not_applied) restore_signal_state(&saved_signals);
  /* A number a failed spawn handed back, looked at before anything else can take it. */
  const char *returned_pidfd = pid <= 0 && pidfd >= 0 ? returned_descriptor_state(pidfd) : "";

  buffer_append_string(out, "result id=");
  buffer_append_decimal(out, c.id);
  /* Still sharing our memory after the spawn returned means the parent ran
   * before the child's exec or exit: not suspended. */
  const char *suspended = "unknown";
  if (pid > 0) {
    long self = SYS0(NR_getpid);
    long same = SYS5(NR_kcmp, self, pid, KCMP_VM, 0, 0);
    if (!IS_SYSCALL_ERROR(same)) suspended = same == 0 ? "no" : "yes";
  }
  for (int i = 0; i < request->descriptor_move_count; i++) SYS1(NR_close, request->move_from[i]);

  if (pid > 0) {
    struct buffer report = {0};
    read_to_end(report_read, &report);
    int status = 0;
    long pidfd_pid = -1, pidfd_reaped = -9 /* EBADF: no pidfd */;
    /* A pidfd case reaps through the pidfd: it must be the child's. */
    if (pidfd >= 0 && !pidfd_target_pid(pidfd, &pidfd_pid)) pidfd_pid = -1;
    if (pidfd >= 0) pidfd_reaped = reap_through_pidfd(pidfd, &status);
    int waited = pidfd_reaped == pid || reap_child(pid, &status);
    encode_spawned_fields(append_to_buffer, out, pid, waited, status, suspended, report.data, report.length);
    buffer_free(&report);
    if (c.want_pidfd) {
      append_key(out, "pidfd_pid");
      buffer_append_decimal(out, pidfd_pid);
      append_key(out, "pidfd_reaped");
      buffer_append_decimal(out, pidfd_reaped);
    }
    if (pidfd >= 0) SYS1(NR_close, pidfd);
  } else {
    append_error_fields(out, pid);
    if (c.want_pidfd) encode_failed_pidfd(append_to_buffer, out, pidfd, returned_pidfd);
  }
  SYS1(NR_close, report_read);
  if (c.want_pidfd) {
    /* Once the driver closed the pidfd it got: a spawn, failed or not, must leave none. */
    append_key(out, "leaked_pidfds");
    buffer_append_decimal(out, count_open_pidfds() - pidfds_before);
  }
  append_leftovers(out, in_process, descriptors_before);
  close_parent_descriptors(&c, c.parent_fd_count);
  if (c.signal_storm) {
    append_key(out, "storm");
    if (storm > 0) buffer_append_decimal(out, handler_in_child);
    else buffer_append_string(out, "failed");
  }
  append_canaries_and_end(out, stack_ok, damaged_registers);
  unmap(memory, (size_t)c.memory_bytes);
  unmap(c.arena, c.arena_size);
}

void append_hello(struct buffer *out) {
  buffer_append_string(out, "hello protocol=");
  buffer_append_decimal(out, PROTOCOL_VERSION);
  buffer_append_string(out, " impl=reference arch=" ARCH_NAME " pid=");
  buffer_append_decimal(out, SYS0(NR_getpid));
  append_key(out, "euid");
  buffer_append_decimal(out, SYS0(NR_geteuid));
  append_key(out, "egid");
  buffer_append_decimal(out, SYS0(NR_getegid));
  append_key(out, "pgid");
  buffer_append_decimal(out, SYS1(NR_getpgid, 0));
  append_key(out, "sid");
  buffer_append_decimal(out, SYS1(NR_getsid, 0));
  char cwd[4200];
  append_key(out, "cwd");
  buffer_append_string(out, "x");
  if (!IS_SYSCALL_ERROR(SYS2(NR_getcwd, cwd, sizeof cwd)))
    buffer_append_hex_bytes(out, cwd, string_length(cwd));
  /* Descriptors this process got without close-on-exec (from whoever
   * started it, or the emulator's own): every child inherits them too. */
  append_key(out, "inherited_fds");
  int fds[1024];
  long count = list_open_descriptors(fds, 1024), listed = 0;
  for (long i = 0; i < count; i++) {
    long flags = SYS2(NR_fcntl, fds[i], F_GETFD);
    if (IS_SYSCALL_ERROR(flags) || (flags & FD_CLOEXEC)) continue;
    if (listed++) buffer_append_string(out, ",");
    buffer_append_decimal(out, fds[i]);
  }
  append_key(out, "report_fd");
  buffer_append_decimal(out, REPORT_FD);
  append_key(out, "features");
  buffer_append_string(out, "clone_flags,unshare_flags,id_maps,setsid,setpgid,cwd,fds,memory,raw_strings,canaries,repeat_runs,bench,fast_path,report_fd_any,pidfd,clone3");
#ifndef VFC_SHARED_LIBRARY
  buffer_append_string(out, ",signal_storm,signal_state,handler_flags,threads,thread_rounds,fork_thread,parent_fds");
#endif
  /* The reference's promise for the exec'd program: POSIX's (the mask at
   * the spawn, SIG_IGN kept, handlers back to SIG_DFL). */
  buffer_append_string(out, " signal_contract=posix");
  /* Its children's exits and the storm: never ignored or handled by a case. */
  append_key(out, "signals_kept");
  buffer_append_decimal(out, SIGCHLD);
  buffer_append_string(out, ",");
  buffer_append_decimal(out, SIGWINCH);
  buffer_append_string(out, "\n");
}

/* ---- the driver loop ------------------------------------------------- */

static int protocol_in = 0, protocol_out = 1;

/* Keeps the protocol on private descriptors and gives children /dev/null
 * as standard input and output, so nothing a child prints can corrupt it. */
static void take_protocol_descriptors(void) {
  protocol_in = (int)SYS3(NR_fcntl, 0, F_DUPFD_CLOEXEC, DRIVER_FD_BASE + 100);
  protocol_out = (int)SYS3(NR_fcntl, 1, F_DUPFD_CLOEXEC, DRIVER_FD_BASE + 100);
  long null = SYS4(NR_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC, 0);
  if (!IS_SYSCALL_ERROR(null)) {
    SYS3(NR_dup3, null, 0, 0);
    SYS3(NR_dup3, null, 1, 0);
    SYS1(NR_close, null);
  }
}

void driver_main(void) {
  take_protocol_descriptors();
  storm_prepare();
  prepare_alternate_signal_stack();
  struct buffer out = {0}, in = {0};
  append_hello(&out);
  write_all(protocol_out, out.data, out.length);
  size_t scanned = 0;
  for (;;) {
    size_t newline = scanned;
    while (newline < in.length && in.data[newline] != '\n') newline++;
    if (newline == in.length) {
      scanned = newline;
      if (in.length > MAX_LINE_BYTES) {
        out.length = 0;
        buffer_append_string(&out, "error id=-1 reason=");
        buffer_append_hex_bytes(&out, "line too long", 13);
        buffer_append_string(&out, "\n");
        write_all(protocol_out, out.data, out.length);
        exit_group(2);
      }
      buffer_reserve(&in, 1 << 20);
      long r = SYS3(NR_read, protocol_in, in.data + in.length, in.capacity - in.length);
      if (r == -4) continue;
      if (r <= 0) exit_group(0); /* the harness closed the pipe: done */
      in.length += (size_t)r;
      continue;
    }
    out.length = 0;
    if (newline > 0) run_case_line(in.data, newline, &out, 0);
    if (out.length) write_all(protocol_out, out.data, out.length);
    memmove(in.data, in.data + newline + 1, in.length - newline - 1);
    in.length -= newline + 1;
    scanned = 0;
  }
}


/* ---- entry points ---------------------------------------------------- */

#ifdef NR_prctl
/* Runs program (argv[0], an absolute path) so that the kernel kills it when
 * the process that started it dies, even by SIGKILL: how the harness starts
 * each qemu-system, so no VM outlives a run. */
#define PR_SET_PDEATHSIG 1
static __attribute__((noreturn)) void die_with_parent(char **argv, char **envp) {
  long parent = SYS0(NR_getppid);
  SYS2(NR_prctl, PR_SET_PDEATHSIG, 9 /* SIGKILL */);
  if (SYS0(NR_getppid) != parent) exit_group(1); /* the parent died before the request took */
  long r = SYS3(NR_execve, argv[0], argv, envp);
  exit_group(r == -2 ? 127 : 126);
}
#endif


#define AT_PAGESZ 6

void vfc_entry(long *initial_stack) {
  long argc = initial_stack[0];
  char **argv = (char **)(initial_stack + 1);
  char **envp = argv + argc + 1;
  char **end = envp;
  while (*end) end++;
  for (unsigned long *auxv = (unsigned long *)(end + 1); auxv[0]; auxv += 2)
    if (auxv[0] == AT_PAGESZ) auxv_page_size = (long)auxv[1];
  if (argc == 2 && string_equal(argv[1], "--driver")) driver_main();
  if (argc >= 2 && string_equal(argv[1], "--system-init")) system_init_main(argc, argv);
  if (argc == 2 && string_equal(argv[1], "--exit")) exit_group(0);
  if (argc == 2 && string_equal(argv[1], "--probe")) {
    struct buffer out = {0};
    probe_capabilities(&out);
    exit_group(write_all(1, out.data, out.length) ? 1 : 0);
  }
#ifdef NR_prctl
  if (argc >= 3 && string_equal(argv[1], "--die-with-parent")) die_with_parent(argv + 2, envp);
  if (argc >= 3 && string_equal(argv[1], "--reap-all")) reap_all_main(argv + 2, envp);
#endif
  child_report_main(argc, argv, envp);
}

#ifdef VFC_SHARED_LIBRARY
/* For an in-process parent (Node through koffi): one case line in, one
 * result line out. Returns the result's length, or minus the capacity
 * needed when out is too small (the case is not rerun: call again with
 * the case's id to fetch it is not supported; size out generously). */
__attribute__((visibility("default"))) long
vfc_run_case(const char *line, long length, char *out, long capacity) {
  struct buffer result = {0};
  run_case_line(line, (size_t)length, &result, 1);
  long n = (long)result.length;
  if (n <= capacity) memcpy(out, result.data, result.length);
  else n = -n;
  buffer_free(&result);
  return n;
}

__attribute__((visibility("default"))) long vfc_hello(char *out, long capacity) {
  struct buffer result = {0};
  append_hello(&result);
  long n = (long)result.length;
  if (n <= capacity) memcpy(out, result.data, result.length);
  else n = -n;
  buffer_free(&result);
  return n;
}
#endif
