/*
 * signal-state.h: a process's signal mask and dispositions, read and set
 * with raw rt_sigprocmask and rt_sigaction, numbered as this architecture
 * numbers signals (mips differs). Used twice: the child report says what
 * the exec'd program got, and the driver puts a case's parent signal state
 * (sigmask, sigignore, sighandle) in place around the spawn.
 */
#ifndef VFC_SIGNAL_STATE_H
#define VFC_SIGNAL_STATE_H
#include "vfc.h"

#define SIGNAL_COUNT (KERNEL_SIGSET_BYTES * 8)

/* The kernel's sigset_t: words of unsigned long, signal n at bit n-1. */
struct signal_set {
  unsigned long words[KERNEL_SIGSET_BYTES / sizeof(unsigned long)];
};

/* " sigmask=N,... sigignore=N,... sighandle=N,...": blocked signals,
 * those set to SIG_IGN and those with a handler, each ascending. */
void append_signal_state(struct buffer *out);

/* A case's parent signal state; present is 0 when the case has none. */
struct parent_signal_state {
  int present;
  struct signal_set mask, ignore, handle;
};

/* A number list of signals into set; -1 if malformed or out of 1..SIGNAL_COUNT. */
int parse_signal_list(const char *value, size_t n, struct signal_set *set);

/* Why the driver cannot take this state (NULL: it can): a disposition for
 * SIGKILL or SIGSTOP, for a signal the driver needs (SIGCHLD, SIGWINCH),
 * or a signal both ignored and handled. */
const char *refuse_signal_state(const struct parent_signal_state *state);

/* What apply_signal_state changed, for restore_signal_state. */
struct saved_signal_state {
  struct signal_set mask;
  struct signal_set changed;
  unsigned char actions[SIGNAL_COUNT][64] __attribute__((aligned(8)));
};

/* Sets the mask to exactly state->mask and the dispositions it names, the
 * handlers installed with handler_flags (SA_*); returns 0 or -errno (then
 * nothing stays changed). */
long apply_signal_state(const struct parent_signal_state *state, unsigned long handler_flags, struct saved_signal_state *saved);
void restore_signal_state(const struct saved_signal_state *saved);

/* Once, in driver mode: an alternate signal stack for handlers installed
 * with SA_ONSTACK. */
void prepare_alternate_signal_stack(void);

#endif
