/*
 * pidfd.h: what a pidfd refers to, seen from outside the spawn that made
 * it, for the driver's report of a pidfd case (docs/protocol.md).
 */
#ifndef VFC_PIDFD_H
#define VFC_PIDFD_H

/* 1 if /proc/self/fdinfo/<fd> has a "Pid:" line (only a pidfd's has),
 * with its pid in *pid (in this process's pid namespace; -1 once the
 * process is reaped); 0 if not a pidfd or unreadable. */
int pidfd_target_pid(int fd, long *pid);

/* How many descriptors of this process are pidfds. */
long count_open_pidfds(void);

/* What descriptor number fd is right now, for a number a failed spawn
 * handed back: "closed", "pidfd" or "other" (open, not a pidfd). */
const char *returned_descriptor_state(int fd);

/* waitid(P_PIDFD, fd, WEXITED): the reaped child's pid (siginfo si_pid)
 * with its status in wait4's encoding in *status, or -errno. */
long reap_through_pidfd(int fd, int *status);

#endif
