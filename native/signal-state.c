/* signal-state.c: see signal-state.h. */
#include "signal-state.h"

#define SIGKILL 9 /* on every architecture */

#define WORD_BITS (sizeof(unsigned long) * 8)

static int in_set(const struct signal_set *set, long signal) {
  return (set->words[(signal - 1) / WORD_BITS] >> ((signal - 1) % WORD_BITS)) & 1;
}

static void add_to_set(struct signal_set *set, long signal) {
  set->words[(signal - 1) / WORD_BITS] |= 1UL << ((signal - 1) % WORD_BITS);
}

static void append_set(struct buffer *out, const char *name, const struct signal_set *set) {
  buffer_append_string(out, " ");
  buffer_append_string(out, name);
  buffer_append_string(out, "=");
  int listed = 0;
  for (long signal = 1; signal <= SIGNAL_COUNT; signal++) {
    if (!in_set(set, signal)) continue;
    if (listed++) buffer_append_string(out, ",");
    buffer_append_decimal(out, signal);
  }
}

/* SIG_DFL is 0 and SIG_IGN 1 on every architecture. */
static unsigned long handler_of(long signal) {
  unsigned char action[64] __attribute__((aligned(8)));
  memset(action, 0, sizeof action);
  if (IS_SYSCALL_ERROR(SYS4(NR_rt_sigaction, signal, NULL, action, KERNEL_SIGSET_BYTES))) return 0;
  return *(unsigned long *)(action + SIGACTION_HANDLER_OFFSET);
}

void append_signal_state(struct buffer *out) {
  struct signal_set mask, ignored, handled;
  memset(&mask, 0, sizeof mask);
  memset(&ignored, 0, sizeof ignored);
  memset(&handled, 0, sizeof handled);
  SYS4(NR_rt_sigprocmask, SIG_BLOCK, NULL, &mask, KERNEL_SIGSET_BYTES);
  for (long signal = 1; signal <= SIGNAL_COUNT; signal++) {
    unsigned long handler = handler_of(signal);
    if (handler == 1) add_to_set(&ignored, signal);
    else if (handler != 0) add_to_set(&handled, signal);
  }
  append_set(out, "sigmask", &mask);
  append_set(out, "sigignore", &ignored);
  append_set(out, "sighandle", &handled);
}

int parse_signal_list(const char *value, size_t n, struct signal_set *set) {
  int signals[SIGNAL_COUNT];
  int count = decode_numbers(value, n, signals, SIGNAL_COUNT);
  if (count < 0) return -1;
  memset(set, 0, sizeof *set);
  for (int i = 0; i < count; i++) {
    if (signals[i] < 1 || signals[i] > SIGNAL_COUNT) return -1;
    add_to_set(set, signals[i]);
  }
  return 0;
}

const char *refuse_signal_state(const struct parent_signal_state *state) {
  const long needed[] = {SIGKILL, SIGSTOP, SIGCHLD, SIGWINCH};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
    if (in_set(&state->ignore, needed[i]) || in_set(&state->handle, needed[i]))
      return "signal state: a disposition for SIGKILL, SIGSTOP or a signal the driver needs (SIGCHLD, SIGWINCH)";
  for (long signal = 1; signal <= SIGNAL_COUNT; signal++)
    if (in_set(&state->ignore, signal) && in_set(&state->handle, signal)) return "signal state: a signal both ignored and handled";
  return NULL;
}

/* The parent's handler for sighandle signals: it only has to exist. */
static void handled_signal(int signal) {
  (void)signal;
}

long apply_signal_state(const struct parent_signal_state *state, unsigned long handler_flags, struct saved_signal_state *saved) {
  memset(&saved->changed, 0, sizeof saved->changed);
  long r = SYS4(NR_rt_sigprocmask, SIG_SETMASK, &state->mask, &saved->mask, KERNEL_SIGSET_BYTES);
  if (IS_SYSCALL_ERROR(r)) return r;
  for (long signal = 1; signal <= SIGNAL_COUNT; signal++) {
    int ignore = in_set(&state->ignore, signal), handle = in_set(&state->handle, signal);
    if (!ignore && !handle) continue;
    r = SYS4(NR_rt_sigaction, signal, NULL, saved->actions[signal - 1], KERNEL_SIGSET_BYTES);
    if (!IS_SYSCALL_ERROR(r)) {
      add_to_set(&saved->changed, signal);
      r = set_signal_handler(signal, ignore ? (void (*)(int))1 /* SIG_IGN */ : handled_signal, ignore ? 0 : handler_flags);
    }
    if (IS_SYSCALL_ERROR(r)) {
      restore_signal_state(saved);
      return r;
    }
  }
  return 0;
}

void restore_signal_state(const struct saved_signal_state *saved) {
  for (long signal = 1; signal <= SIGNAL_COUNT; signal++)
    if (in_set(&saved->changed, signal)) SYS4(NR_rt_sigaction, signal, saved->actions[signal - 1], NULL, KERNEL_SIGSET_BYTES);
  SYS4(NR_rt_sigprocmask, SIG_SETMASK, &saved->mask, NULL, KERNEL_SIGSET_BYTES);
}

/* Big enough for any architecture's signal frame (arm64 with SVE, ppc64le
 * with VSX, amd64 with AVX-512 need several KiB), with room to spare. */
#define ALTERNATE_STACK_BYTES (64 * 1024)

void prepare_alternate_signal_stack(void) {
  char *stack = map_anonymous(ALTERNATE_STACK_BYTES);
  if (!stack) return; /* then SA_ONSTACK handlers run on the normal stack, as the kernel does without one */
  /* stack_t: ss_sp first; ss_flags 0 (enabled) wherever it sits. */
  unsigned char stack_t_bytes[3 * sizeof(long)] __attribute__((aligned(8)));
  memset(stack_t_bytes, 0, sizeof stack_t_bytes);
  *(char **)stack_t_bytes = stack;
  *(unsigned long *)(stack_t_bytes + STACK_T_SIZE_OFFSET) = ALTERNATE_STACK_BYTES;
  SYS2(NR_sigaltstack, stack_t_bytes, NULL);
}
