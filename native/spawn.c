/*
 * spawn.c: the reference spawn; the contract is in spawn.h.
 *
 * Deliberate bugs (mutants) are compiled in by -DMUTANT_<NAME>, one switch
 * each, placed where the real bug lived; src/mutants.ts lists them with the
 * targets each can show on. Without any MUTANT_ define this is the
 * reference. MUTANT_RA_ON_STACK and MUTANT_S390X_ARG_ORDER live in the
 * architecture files (native/arch/), where those bugs were.
 */
#include "spawn.h"
#include "vfc.h"

int spawn_uses_fast_path(const struct spawn_request *request) {
  if (request->force_fork) return 0;
  /* A vfork parent is suspended until the child execs, so it could not
   * write the uid/gid maps the child waits for: take the fork path. */
#if defined(MUTANT_VFORK_WITH_NEWUSER)
  /* Bug class 3: only the unshare flags are looked at; CLONE_NEWUSER in
   * the clone flags takes the fast path and the child waits for maps a
   * suspended parent can never write. */
  if (request->unshare_flags & CLONE_NEWUSER) return 0;
#elif defined(MUTANT_UNSHARE_NEWUSER_IGNORED)
  /* Bug class 4: only the clone flags are looked at; the child then
   * unshares CLONE_NEWUSER while it still shares the parent's memory. */
  if (request->clone_flags & CLONE_NEWUSER) return 0;
#else
  if ((request->clone_flags | request->unshare_flags) & CLONE_NEWUSER) return 0;
#endif
  return 1;
}

static int needs_id_maps(const struct spawn_request *request) {
  return ((request->clone_flags | request->unshare_flags) & CLONE_NEWUSER) != 0;
}

/* The child's errno goes through the pipe, never through shared memory:
 * where vfork is emulated as fork (qemu-user) shared memory is not shared. */
#ifdef MUTANT_ERRNO_SHARED_MEMORY
/* Bug class 7: the child stores its errno where the parent reads it,
 * trusting that vfork shares memory; under fork (the CLONE_NEWUSER
 * fallback, or an emulator's vfork) the parent never sees it. */
static volatile int errno_in_shared_memory;
#endif

__attribute__((noreturn)) static void child_fail(int error_fd, long result) {
#if defined(MUTANT_ERRNO_SHARED_MEMORY)
  (void)error_fd;
  errno_in_shared_memory = (int)-result;
#elif defined(MUTANT_ERRNO_WIDTH)
  /* Bug class 8: written as a long, read as an int: on a 64-bit big-endian
   * machine the parent reads the long's high half, 0. */
  long error = -result;
  SYS3(NR_write, error_fd, &error, sizeof error);
#else
  int error = (int)-result;
  SYS3(NR_write, error_fd, &error, sizeof error);
#endif
  exit_group(SPAWN_CHILD_FAILURE_STATUS);
}

static void reset_signal_handlers(void) {
#ifdef MUTANT_SIGNALS_UNBLOCKED
  return; /* Bug class 6: the child keeps the parent's handlers until exec. */
#endif
  for (long signal = 1; signal <= KERNEL_SIGSET_BYTES * 8; signal++) {
    unsigned char action[64] __attribute__((aligned(8)));
    memset(action, 0, sizeof action);
    if (IS_SYSCALL_ERROR(SYS4(NR_rt_sigaction, signal, NULL, action, KERNEL_SIGSET_BYTES)))
      continue; /* SIGKILL, SIGSTOP and numbers the kernel refuses */
    unsigned long handler = *(unsigned long *)(action + SIGACTION_HANDLER_OFFSET);
#ifdef MUTANT_IGNORED_RESET
    /* Bug class 13: SIG_IGN is reset too, so the new program does not
     * inherit the parent's ignored signals as POSIX says it must. */
    if (handler == 0 /* SIG_DFL */) continue;
#else
    if (handler == 0 /* SIG_DFL */ || handler == 1 /* SIG_IGN */) continue;
#endif
    /* An all-zero struct sigaction is SIG_DFL with no flags and no mask,
     * whatever the field order of this architecture. */
    memset(action, 0, sizeof action);
    SYS4(NR_rt_sigaction, signal, action, NULL, KERNEL_SIGSET_BYTES);
  }
}

/* A pipe read that a handler's EINTR does not end: the caller's handlers
 * may lack SA_RESTART, and a read that gives up on EINTR makes a signal
 * look like end of file (the class PEP 475 removed from CPython). */
static long read_retrying(int fd, void *data, size_t n) {
  long r;
  do {
    r = SYS3(NR_read, fd, data, n);
#ifdef MUTANT_EINTR_AS_EOF
    /* Bug class 18: EINTR taken for end of file. */
    if (r == -4) return 0;
#endif
  } while (r == -4 /* EINTR */);
  return r;
}

/* The same for a write (a pipe with room does not block, but a full one could). */
static long write_retrying(int fd, const void *data, size_t n) {
  long r;
  do r = SYS3(NR_write, fd, data, n); while (r == -4 /* EINTR */);
  return r;
}

/* Blocks until the parent has written the id maps (one byte on go_fd). */
static long wait_for_id_maps(int ready_fd, int go_fd) {
  char byte = 'R';
  long r = write_retrying(ready_fd, &byte, 1);
  if (IS_SYSCALL_ERROR(r)) return r;
  r = read_retrying(go_fd, &byte, 1);
  if (IS_SYSCALL_ERROR(r)) return r;
  return r == 1 ? 0 : -5 /* EIO: the parent gave up */;
}

#ifdef MUTANT_PIPE_LEAK_BELOW_TARGETS
/* Bug class 14, in Go's shape: the spawn works on a close-on-exec copy of
 * its error pipe above every target, but the original, made without
 * O_CLOEXEC, stays where pipe2 put it (here: 40 or the next free number, as
 * in a parent holding a few dozen descriptors). The child closes every
 * descriptor from 3 up to its highest target that it neither maps nor
 * inherited (Go's -1 entries in Files), so the leak shows only when every
 * target, the report descriptor included, is below the original. */
#define LEAKED_PIPE_LOWEST 40
#define MUTANT_DESCRIPTOR_LIMIT 1024

/* What the parent held without close-on-exec before the spawn: a Go driver
 * passes those in Files as themselves, so they are not closed. Written by
 * the parent before the clone; the child reads it (its own memory or a copy). */
static unsigned char parent_inherits[MUTANT_DESCRIPTOR_LIMIT];

static void note_inherited_descriptors(void) {
  for (int fd = 0; fd < MUTANT_DESCRIPTOR_LIMIT; fd++) {
    long flags = SYS2(NR_fcntl, fd, F_GETFD);
    parent_inherits[fd] = !IS_SYSCALL_ERROR(flags) && !(flags & FD_CLOEXEC);
  }
}

static void close_unmapped_below_targets(const struct spawn_request *request) {
  int highest = -1;
  for (int i = 0; i < request->descriptor_move_count; i++)
    if (request->move_to[i] > highest) highest = request->move_to[i];
  for (int fd = 3; fd < highest && fd < MUTANT_DESCRIPTOR_LIMIT; fd++) {
    int mapped = parent_inherits[fd];
    for (int i = 0; i < request->descriptor_move_count; i++) mapped |= request->move_to[i] == fd;
    if (!mapped) SYS1(NR_close, fd);
  }
}
#endif

struct child_pipes {
  int error_write;
  int ready_write; /* child -> parent: in the new user namespace */
  int go_read;     /* parent -> child: maps written */
  int go_write;    /* the parent's end, which a fork-style child holds a copy of */
};

/* Runs in the child; on the fast path on the parent's memory, so it writes
 * nothing but its own stack frame. Never returns. */
__attribute__((noreturn, noinline)) static void
child_steps(const struct spawn_request *request, const struct child_pipes *pipes,
            const unsigned char *saved_mask) {
  long r;
  reset_signal_handlers();
#ifdef MUTANT_SIGMASK_LEFT_BLOCKED
  /* Bug class 13 (OpenJDK JDK-8357683): the parent's mask is not restored,
   * so the exec'd program inherits every signal blocked across the clone. */
  (void)saved_mask;
#else
  SYS4(NR_rt_sigprocmask, SIG_SETMASK, saved_mask, NULL, KERNEL_SIGSET_BYTES);
#endif
  /* When the parent cannot write the maps it closes its end: the child sees
   * EOF only if its own copy (the id-map path is fork-style, with a
   * descriptor table of its own) is closed too; else both wait forever. */
  if (pipes->go_write >= 0) SYS1(NR_close, pipes->go_write);
  if (request->clone_flags & CLONE_NEWUSER) {
    r = wait_for_id_maps(pipes->ready_write, pipes->go_read);
    if (r) child_fail(pipes->error_write, r);
  }
  if (request->unshare_flags) {
    r = SYS1(NR_unshare, request->unshare_flags);
    if (IS_SYSCALL_ERROR(r)) child_fail(pipes->error_write, r);
    if (request->unshare_flags & CLONE_NEWUSER) {
      r = wait_for_id_maps(pipes->ready_write, pipes->go_read);
      if (r) child_fail(pipes->error_write, r);
    }
  }
  if (request->setsid) {
    r = SYS0(NR_setsid);
    if (IS_SYSCALL_ERROR(r)) child_fail(pipes->error_write, r);
  }
  if (request->setpgid) {
    r = SYS2(NR_setpgid, 0, 0);
    if (IS_SYSCALL_ERROR(r)) child_fail(pipes->error_write, r);
  }
  if (request->cwd) {
    r = SYS1(NR_chdir, request->cwd);
    if (IS_SYSCALL_ERROR(r)) child_fail(pipes->error_write, r);
  }
#ifdef MUTANT_NEXTFD_OVERWRITE
  /* Go's forkAndExecInChild1: its error pipe moved first to nextfd, one
   * past the highest mapped number, close-on-exec, without asking what the
   * parent holds there. A descriptor the parent holds at that number
   * without close-on-exec is replaced, and so gone after the exec. */
  {
    int nextfd = 3;
    for (int i = 0; i < request->descriptor_move_count; i++)
      if (request->move_to[i] + 1 > nextfd) nextfd = request->move_to[i] + 1;
    r = pipes->error_write == nextfd ? 0 : SYS3(NR_dup3, pipes->error_write, nextfd, O_CLOEXEC);
    if (IS_SYSCALL_ERROR(r)) child_fail(pipes->error_write, r);
  }
#endif
  for (int i = 0; i < request->descriptor_move_count; i++) {
    r = SYS3(NR_dup3, request->move_from[i], request->move_to[i], 0);
    if (IS_SYSCALL_ERROR(r)) child_fail(pipes->error_write, r);
  }
#ifdef MUTANT_PIPE_LEAK_BELOW_TARGETS
  close_unmapped_below_targets(request);
#endif
#ifdef MUTANT_PIPE_CLOEXEC_IN_CHILD
  /* Its own copy made close-on-exec at the last moment: this spawn's exec
   * is clean; the copies other spawns' children took are not. */
  SYS3(NR_fcntl, pipes->error_write, F_SETFD, FD_CLOEXEC);
#endif
  r = SYS3(NR_execve, request->path, request->argv, request->envp);
  child_fail(pipes->error_write, r);
}

#ifdef MUTANT_VM_WITHOUT_VFORK
/* Bug class 17: CLONE_VM without CLONE_VFORK. The parent is not suspended:
 * it runs on (restores its mask, closes, reads the error pipe) while the
 * child still uses its memory. The child gets a stack of its own, so the
 * bug is exactly that and not two tasks on one stack. */
#define VM_WITHOUT_VFORK
#define CHILD_STACK_BYTES (256L << 10)

struct stacked_child {
  const struct spawn_request *request;
  const struct child_pipes *pipes;
  const unsigned char *saved_mask;
};

__attribute__((noreturn)) static void stacked_child_entry(void *argument) {
  const struct stacked_child *child = argument;
  child_steps(child->request, child->pipes, child->saved_mask);
}
#endif

static long write_file(const char *path, const char *text, size_t n) {
  long fd = SYS4(NR_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
  if (IS_SYSCALL_ERROR(fd)) return fd;
  long r = SYS3(NR_write, fd, text, n);
  SYS1(NR_close, fd);
  return IS_SYSCALL_ERROR(r) ? r : 0;
}

/* /proc/<pid>/<name> */
static void proc_path(char *out, long pid, const char *name) {
  struct buffer b = {0};
  buffer_append_string(&b, "/proc/");
  buffer_append_decimal(&b, pid);
  buffer_append_string(&b, "/");
  buffer_append_string(&b, name);
  buffer_append(&b, "", 1);
  memcpy(out, b.data, b.length);
  buffer_free(&b);
}

/* "<inside> <outside> 1\n" */
static long write_id_map(long pid, const char *name, long inside, long outside) {
  char path[64];
  proc_path(path, pid, name);
  struct buffer line = {0};
  buffer_append_decimal(&line, inside);
  buffer_append_string(&line, " ");
  buffer_append_decimal(&line, outside);
  buffer_append_string(&line, " 1\n");
  long r = write_file(path, line.data, line.length);
  buffer_free(&line);
  return r;
}

static long write_id_maps(const struct spawn_request *request, long pid) {
  char path[64];
  proc_path(path, pid, "setgroups");
  /* Without "deny" an unprivileged parent may not write gid_map. */
  long r = write_file(path, "deny", 4);
  if (r && r != -2 /* ENOENT: kernels before 3.19 */) return r;
  r = write_id_map(pid, "uid_map", request->uid_inside, SYS0(NR_geteuid));
  if (r) return r;
  return write_id_map(pid, "gid_map", request->gid_inside, SYS0(NR_getegid));
}

static void close_if_open(int fd) {
  if (fd >= 0) SYS1(NR_close, fd);
}

/* Reads the child's errno from the error pipe: 0 at EOF (exec happened). */
static int read_child_errno(int error_read) {
  int error = 0;
  long got = 0;
  while (got < (long)sizeof error) {
    long r = read_retrying(error_read, (char *)&error + got, sizeof error - got);
    if (IS_SYSCALL_ERROR(r) || r == 0) break;
    got += r;
  }
  return got == (long)sizeof error ? error : 0;
}

static long reap(long pid) {
  int status;
  long r;
  do r = SYS4(NR_wait4, pid, &status, 0, 0); while (r == -4);
  return r;
}

/* Moves both ends of a pipe above every descriptor-move target, so a move
 * in the child can never overwrite the pipe it reports through. */
static long move_pipe_above(int fds[2], int lowest, long flags) {
  for (int i = 0; i < 2; i++) {
    if (fds[i] >= lowest) continue;
    long moved = SYS3(NR_fcntl, fds[i], flags & O_CLOEXEC ? F_DUPFD_CLOEXEC : F_DUPFD, lowest);
    SYS1(NR_close, fds[i]);
    fds[i] = (int)moved;
    if (IS_SYSCALL_ERROR(moved)) return moved;
  }
  return 0;
}

/* A new pipe, above every descriptor-move target (move_pipe_above). */
static long pipe_above(int fds[2], int lowest, long flags) {
  long r = SYS2(NR_pipe2, fds, flags);
  return IS_SYSCALL_ERROR(r) ? r : move_pipe_above(fds, lowest, flags);
}

long reference_spawn(const struct spawn_request *request) {
  int error_pipe[2] = {-1, -1}, ready_pipe[2] = {-1, -1}, go_pipe[2] = {-1, -1};
  int lowest = 3;
#ifdef MUTANT_PIPE_LEAK_BELOW_TARGETS
  int leaked_original = -1;
#endif
#ifdef VM_WITHOUT_VFORK
  char *child_stack = NULL;
#endif
  if (request->pidfd) *request->pidfd = -1;
  for (int i = 0; i < request->descriptor_move_count; i++)
    if (request->move_to[i] >= lowest) lowest = request->move_to[i] + 1;
#if defined(MUTANT_PIPE_NOT_CLOEXEC)
  /* Bug class 10: the error pipe is not close-on-exec, so the child
   * inherits its write end past exec (and the parent waits for its exit). */
  long r = pipe_above(error_pipe, lowest, 0);
#elif defined(MUTANT_PIPE_CLOEXEC_IN_CHILD)
  /* Bug class 16 (musl b7bc9665, OpenJDK JDK-8377907): the write end is
   * made without O_CLOEXEC and only this spawn's child marks its own copy
   * before exec (the read end is marked at once). Alone, the spawn is
   * right; a spawn on another thread that clones while this pipe is open
   * gives its child the write end, and that child keeps it past exec. */
  long r = pipe_above(error_pipe, lowest, 0);
  if (!IS_SYSCALL_ERROR(r)) SYS3(NR_fcntl, error_pipe[0], F_SETFD, FD_CLOEXEC);
#elif defined(MUTANT_PIPE_CLOEXEC_LATE)
  /* Bug class 16, the parent's window (Go's ForkExec without ForkLock and
   * pipe2): the pipe is made without O_CLOEXEC and marked by the next two
   * calls. A clone or fork on another thread between them copies the
   * unmarked ends, and that child keeps them past exec. */
  long r = SYS2(NR_pipe2, error_pipe, 0);
  for (int i = 0; i < 2 && !IS_SYSCALL_ERROR(r); i++) r = SYS3(NR_fcntl, error_pipe[i], F_SETFD, FD_CLOEXEC);
  if (!IS_SYSCALL_ERROR(r)) r = move_pipe_above(error_pipe, lowest, O_CLOEXEC);
#else
  long r = pipe_above(error_pipe, lowest, O_CLOEXEC);
#endif
  if (IS_SYSCALL_ERROR(r)) goto close_all;
#ifdef MUTANT_PIPE_LEAK_BELOW_TARGETS
  note_inherited_descriptors();
  leaked_original = (int)SYS3(NR_fcntl, error_pipe[1], F_DUPFD, LEAKED_PIPE_LOWEST);
#endif
  if (needs_id_maps(request)) {
    r = pipe_above(ready_pipe, lowest, O_CLOEXEC);
    if (!IS_SYSCALL_ERROR(r)) r = pipe_above(go_pipe, lowest, O_CLOEXEC);
    if (IS_SYSCALL_ERROR(r)) goto close_all;
  }
  struct child_pipes pipes = {error_pipe[1], ready_pipe[1], go_pipe[0], go_pipe[1]};

  /* Block every signal across the clone: a handler must not run in the
   * child on the parent's memory before it has been reset. */
  unsigned char all[KERNEL_SIGSET_BYTES], saved_mask[KERNEL_SIGSET_BYTES];
  memset(all, 0xff, sizeof all);
#ifdef MUTANT_SIGNALS_UNBLOCKED
  /* Bug class 6: nothing blocked; the mask is only read, to restore it. */
  SYS4(NR_rt_sigprocmask, SIG_BLOCK, NULL, saved_mask, KERNEL_SIGSET_BYTES);
#else
  SYS4(NR_rt_sigprocmask, SIG_SETMASK, all, saved_mask, KERNEL_SIGSET_BYTES);
#endif

#ifdef MUTANT_NO_SIGCHLD
  /* Bug class 12: no exit signal, so wait4 without __WALL cannot see the child. */
  const unsigned long exit_signal = 0;
#else
  const unsigned long exit_signal = SIGCHLD;
#endif
  long pid;
  /* clone3's argument, in this frame: on the fast path the child runs on
   * it too, and the kernel writes the pidfd here before the child runs. */
  int use_clone3 = request->use_clone3 || request->pidfd;
  int pidfd = -1;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = exit_signal;
  args.flags = request->clone_flags | CLONE_CLEAR_SIGHAND | (request->pidfd ? CLONE_PIDFD : 0);
  args.pidfd = request->pidfd ? (unsigned long)&pidfd : 0;
#ifdef VM_WITHOUT_VFORK
  /* In this frame's scope, not the branch's: the child reads it after the
   * parent has left the branch (a slot of the branch could be reused). */
  struct stacked_child stacked;
#endif
  if (spawn_uses_fast_path(request)) {
#ifdef VM_WITHOUT_VFORK
    child_stack = map_anonymous(CHILD_STACK_BYTES);
    stacked = (struct stacked_child){request, &pipes, saved_mask};
    pid = child_stack ? raw_clone_on_stack(CLONE_VM | exit_signal | request->clone_flags, child_stack + CHILD_STACK_BYTES, NULL, stacked_child_entry, &stacked) : -12 /* ENOMEM */;
#else
    args.flags |= CLONE_VM | CLONE_VFORK;
    pid = use_clone3 ? raw_clone3_vfork(&args, sizeof args) : raw_clone_vfork(CLONE_VM | CLONE_VFORK | exit_signal | request->clone_flags);
#endif
  } else if (use_clone3) {
    pid = SYS2(NR_clone3, &args, sizeof args); /* fork-style: the child has its own copy of this stack */
  } else {
    unsigned long flags = exit_signal | request->clone_flags;
#ifdef MUTANT_S390X_ARG_ORDER
    /* Bug class 5: (flags, newsp) everywhere, s390x included. */
    pid = SYS2(NR_clone, flags, 0);
#else
    pid = CLONE_ARGS_SWAPPED ? SYS2(NR_clone, 0, flags) : SYS2(NR_clone, flags, 0);
#endif
  }
  if (pid == 0) {
#ifdef MUTANT_CLOBBERED_LOCAL
    /* Bug class 2: fork-style tidying in the child, "close our copy of the
     * read end and forget it". Under vfork this frame is the parent's: the
     * parent then reads the child's errno from descriptor -1. */
    SYS1(NR_close, error_pipe[0]);
    *(volatile int *)&error_pipe[0] = -1;
#endif
    child_steps(request, &pipes, saved_mask);
  }

  SYS4(NR_rt_sigprocmask, SIG_SETMASK, saved_mask, NULL, KERNEL_SIGSET_BYTES);
  if (IS_SYSCALL_ERROR(pid)) {
#ifdef MUTANT_CLONE_ERRNO_DROPPED
    r = 0; /* Bug class 9: failure reported, its errno (0 here) lost. */
#else
    r = pid; /* clone's own errno */
#endif
    goto close_all;
  }
  SYS1(NR_close, error_pipe[1]);
  error_pipe[1] = -1;
#ifdef MUTANT_PIPE_LEAK_BELOW_TARGETS
  close_if_open(leaked_original); /* the parent's copy: the read below waits for the child's only */
  leaked_original = -1;
#endif

  long map_error = 0;
  if (needs_id_maps(request)) {
    close_if_open(ready_pipe[1]);
    close_if_open(go_pipe[0]);
    ready_pipe[1] = go_pipe[0] = -1;
    char byte;
    /* EOF instead of 'R': the child failed before its namespace existed. */
    if (read_retrying(ready_pipe[0], &byte, 1) == 1) {
      map_error = write_id_maps(request, pid);
      if (!map_error) write_retrying(go_pipe[1], "G", 1);
    }
    close_if_open(go_pipe[1]); /* on a map error the child reads EOF and fails */
    go_pipe[1] = -1;
  }

  int child_errno = read_child_errno(error_pipe[0]);
#ifdef MUTANT_PIDFD_WRONG_PROCESS
  /* Bug class 15: the pidfd handed back is not the child's: opened by pid
   * on the wrong one (the caller's own, a pid/tid mix-up), so it shows
   * another process and waitid(P_PIDFD) cannot reap the child with it. */
  if (pidfd >= 0) {
    SYS1(NR_close, pidfd);
    pidfd = (int)SYS2(NR_pidfd_open, SYS0(NR_getpid), 0);
  }
#endif
#ifdef MUTANT_ERRNO_SHARED_MEMORY
  child_errno = errno_in_shared_memory;
  errno_in_shared_memory = 0;
#endif
  if (child_errno || map_error) {
#ifndef MUTANT_ZOMBIE_ON_FAILURE
    reap(pid); /* Bug class 11 (MUTANT_ZOMBIE_ON_FAILURE): this reap missing. */
#endif
    r = map_error ? map_error : -child_errno;
#ifndef MUTANT_PIDFD_LEAK_ON_FAILURE
    /* Bug class 15 (MUTANT_PIDFD_LEAK_ON_FAILURE, glibc BZ 31695): this
     * close missing, the failed spawn leaves the dead child's pidfd open. */
    close_if_open(pidfd);
#endif
#ifndef MUTANT_PIDFD_CLOSED_RETURNED
    /* Bug class 15 (MUTANT_PIDFD_CLOSED_RETURNED): this reset missing, the
     * caller gets the number just closed: its own close of it is a double
     * close, taking whatever descriptor next gets that number. */
    pidfd = -1;
#endif
  } else {
    r = pid;
  }
  if (request->pidfd) *request->pidfd = pidfd;
close_all:
#ifdef MUTANT_PIPE_LEAK_BELOW_TARGETS
  close_if_open(leaked_original);
#endif
#ifdef VM_WITHOUT_VFORK
  /* The child is gone from it by now: reaped, or past exec (the error
   * pipe's EOF comes after the exec has replaced its memory). */
  unmap(child_stack, CHILD_STACK_BYTES);
#endif
  close_if_open(error_pipe[0]);
  close_if_open(error_pipe[1]);
  close_if_open(ready_pipe[0]);
  close_if_open(ready_pipe[1]);
  close_if_open(go_pipe[0]);
  close_if_open(go_pipe[1]);
  return r;
}
