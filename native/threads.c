/* threads.c: raw threads, a start gate, a finish line and a plain fork; see threads.h. */
#include "threads.h"
#include "vfc.h"

/* reference_spawn and the driver's canaries need a few KiB; a vfork child
 * runs on this stack too until it execs. */
#define THREAD_STACK_BYTES (256L << 10)
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID)

long raw_thread_start(struct raw_thread *thread, void (*body)(void *), void *argument) {
  thread->stack = map_anonymous(THREAD_STACK_BYTES);
  if (!thread->stack) return -12; /* ENOMEM */
  /* Set before the clone: the kernel clears it only at exit, and the thread
   * may be gone before raw_clone_on_stack returns here. */
  __atomic_store_n(&thread->id_word, 1, __ATOMIC_RELEASE);
  long tid = raw_clone_on_stack(THREAD_FLAGS, thread->stack + THREAD_STACK_BYTES, &thread->id_word, body, argument);
  if (IS_SYSCALL_ERROR(tid)) {
    thread->id_word = 0;
    unmap(thread->stack, THREAD_STACK_BYTES);
    thread->stack = NULL;
    return tid;
  }
  return 0;
}

void raw_thread_join(struct raw_thread *thread) {
  if (!thread->stack) return;
  int seen;
  /* FUTEX_WAIT returns at once (EAGAIN) when the word changed meanwhile. */
  while ((seen = __atomic_load_n(&thread->id_word, __ATOMIC_ACQUIRE)) != 0)
    SYS4(NR_futex, &thread->id_word, FUTEX_WAIT, seen, NULL);
  unmap(thread->stack, THREAD_STACK_BYTES);
  thread->stack = NULL;
}

void start_gate_wait(struct start_gate *gate) {
  while (!__atomic_load_n(&gate->open, __ATOMIC_ACQUIRE))
    SYS4(NR_futex, &gate->open, FUTEX_WAIT, 0, NULL);
}

void start_gate_open(struct start_gate *gate) {
  __atomic_store_n(&gate->open, 1, __ATOMIC_RELEASE);
  SYS3(NR_futex, &gate->open, FUTEX_WAKE, 0x7fffffff);
}

void finish_line_cross(struct finish_line *line) {
  if (__atomic_sub_fetch(&line->remaining, 1, __ATOMIC_ACQ_REL) == 0) {
    SYS3(NR_futex, &line->remaining, FUTEX_WAKE, 0x7fffffff);
    return;
  }
  int seen;
  while ((seen = __atomic_load_n(&line->remaining, __ATOMIC_ACQUIRE)) != 0)
    SYS4(NR_futex, &line->remaining, FUTEX_WAIT, seen, NULL);
}

long plain_fork_exec(const char *path, char *const *argv, char *const *envp, int report_source, int report_fd) {
  long pid = CLONE_ARGS_SWAPPED ? SYS2(NR_clone, 0, SIGCHLD) : SYS2(NR_clone, SIGCHLD, 0);
  if (pid != 0) return pid;
  /* The child: its own copy of memory and of the descriptor table. */
  if (!IS_SYSCALL_ERROR(SYS3(NR_dup3, report_source, report_fd, 0))) SYS3(NR_execve, path, argv, envp);
  exit_group(127);
}
