/*
 * threads.h: raw threads for the concurrent-spawns cases (no libc, no TLS),
 * and the plain fork their fork thread makes.
 *
 * A thread shares the driver's memory, descriptors, filesystem context and
 * signal handlers (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|
 * CLONE_SYSVSEM), runs on a stack of its own and never touches thread-local
 * storage: everything it calls is freestanding code that keeps its state on
 * the stack or in what it is given. Joined on CLONE_CHILD_CLEARTID: the
 * kernel clears the thread's id word when it exits and wakes a futex there.
 */
#ifndef VFC_THREADS_H
#define VFC_THREADS_H

struct raw_thread {
  int id_word; /* nonzero while the thread runs; the kernel clears it at exit */
  char *stack;
};

/* Starts body(argument) on a new thread; 0, or -errno (nothing started). */
long raw_thread_start(struct raw_thread *thread, void (*body)(void *), void *argument);
/* Waits until the thread has exited, then frees its stack. */
void raw_thread_join(struct raw_thread *thread);

/* A start gate: threads wait at it until it opens, so their spawns begin
 * at the same moment rather than in the order they were started. */
struct start_gate {
  int open;
};
void start_gate_wait(struct start_gate *gate);
void start_gate_open(struct start_gate *gate);

/* A finish line: a thread that crosses it waits until every thread counted
 * in `remaining` has. Under qemu-user a thread that exits holds the
 * emulator's clone lock for a moment, and a fork made then leaves it held
 * in the child, whose exit after a failed exec then waits forever: so no
 * thread of a concurrent case exits while another may still fork. */
struct finish_line {
  int remaining;
};
void finish_line_cross(struct finish_line *line);

/* A plain fork, as another thread of a program makes one (not a spawn):
 * the child, a copy of this process with nothing closed or marked, moves
 * report_source to report_fd and execs path. The pid, or -errno. */
long plain_fork_exec(const char *path, char *const *argv, char *const *envp, int report_source, int report_fd);

#endif
