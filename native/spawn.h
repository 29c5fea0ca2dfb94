/*
 * spawn.h: the reference spawn.
 *
 * Fast path: clone(CLONE_VM|CLONE_VFORK|SIGCHLD|clone_flags), the child
 * borrowing the parent's memory and stack until it execs. Fallback: a
 * fork-style clone(SIGCHLD|clone_flags) whenever CLONE_NEWUSER is in the
 * clone flags or the unshare flags, because then the parent must write the
 * child's uid/gid maps while the child waits, and a vfork parent is
 * suspended until the child execs: a deadlock.
 *
 * Child steps, in this order, each failure reported as its errno through
 * a close-on-exec pipe and then exit(253):
 *   1. signal handlers that are not SIG_DFL or SIG_IGN reset to SIG_DFL,
 *      then the parent's signal mask restored (all signals are blocked
 *      across the clone);
 *   2. with CLONE_NEWUSER in the clone flags: wait for the parent's maps;
 *   3. unshare(unshare_flags); with CLONE_NEWUSER there: wait for the maps;
 *   4. setsid() if asked;
 *   5. setpgid(0, 0) if asked;
 *   6. chdir(cwd) if given;
 *   7. descriptor moves: dup3(from[i], to[i], 0) in order (the caller
 *      keeps sources out of the set of targets);
 *   8. execve(path, argv, envp).
 *
 * With a pidfd asked for (pidfd not NULL) or clone3 asked for, the same
 * clone goes through clone3 (struct clone_args: exit signal in its own
 * field, CLONE_CLEAR_SIGHAND so the kernel resets the child's handlers
 * too); with a pidfd, CLONE_PIDFD stores the child's pidfd in *pidfd. The
 * reference takes clone3 rather than clone(CLONE_PIDFD): the probe finds
 * both wherever either works (Linux 5.3+ has both; qemu-user 7.2 neither:
 * clone3 ENOSYS, clone with CLONE_PIDFD EINVAL). After a failed spawn the
 * pidfd is closed and *pidfd is -1 (glibc BZ 31695 leaked it).
 */
#ifndef VFC_SPAWN_H
#define VFC_SPAWN_H

#define SPAWN_CHILD_FAILURE_STATUS 253
#define SPAWN_MAX_DESCRIPTOR_MOVES 64

struct spawn_request {
  const char *path;
  char *const *argv;
  char *const *envp;
  const char *cwd; /* NULL: no chdir */
  unsigned long clone_flags;
  unsigned long unshare_flags;
  int setsid;
  int setpgid;
  int descriptor_move_count;
  int move_from[SPAWN_MAX_DESCRIPTOR_MOVES];
  int move_to[SPAWN_MAX_DESCRIPTOR_MOVES];
  long uid_inside; /* with CLONE_NEWUSER: map this uid to the parent's euid */
  long gid_inside;
  /* The benchmark's baseline (bench fork=1): take the fork-style clone even
   * without CLONE_NEWUSER, to show what the fast path saves. */
  int force_fork;
  /* Not NULL: ask for a pidfd of the child (CLONE_PIDFD, through clone3),
   * stored here; -1 after a failed spawn. */
  int *pidfd;
  /* Spawn through clone3 even without a pidfd (the case's clone3=1). */
  int use_clone3;
};

/* Returns the child's pid, or -errno: from clone itself, from the parent's
 * map writes, or from a child step (then the child has been reaped). */
long reference_spawn(const struct spawn_request *request);

/* Which path a request takes: 1 for CLONE_VM|CLONE_VFORK, 0 for fork. */
int spawn_uses_fast_path(const struct spawn_request *request);

#endif
