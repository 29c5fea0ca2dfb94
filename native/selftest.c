/*
 * selftest.c: checks every function of arch.h on the architecture it is
 * built for. Prints one PASS/FAIL/SKIP line per check; exits 0 only if
 * nothing failed. Build with -DMUTANT_RA_ON_STACK to get the
 * deliberate return-address-on-stack bug in raw_clone_vfork: natively
 * (amd64, 386) the "stack-using vfork child" checks must then fail or the
 * process must die; qemu-user runs CLONE_VFORK as a plain fork (separate
 * memory), so there the mutant passes.
 */
#include "arch.h"

/* It returns twice, like vfork: the compiler must not keep values in stack
 * slots that the child's path may reuse. */
long raw_clone_vfork(unsigned long flags) __attribute__((returns_twice));

#if defined(__mips__)
#define E_NOSYS 89
#else
#define E_NOSYS 38
#endif
#if defined(__mips__)
#define RLIMIT_NOFILE_ 5 /* mips numbers rlimits its own way */
#else
#define RLIMIT_NOFILE_ 7
#endif
#define E_BADF 9
#define E_INVAL 22
#define E_CHILD 10

#if defined(__s390x__) || (defined(__arm__) && !defined(__aarch64__))
#define STACK_ALIGN 8
#else
#define STACK_ALIGN 16
#endif

/* clang may emit calls to these for big initialisers and copies. */
void *memset(void *d, int c, unsigned long n) {
  volatile unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
  volatile unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}

static long sys0(long n) { return raw_syscall6(n, 0, 0, 0, 0, 0, 0); }
static long sys1(long n, long a) { return raw_syscall6(n, a, 0, 0, 0, 0, 0); }
static long sys2(long n, long a, long b) { return raw_syscall6(n, a, b, 0, 0, 0, 0); }
static long sys3(long n, long a, long b, long c) { return raw_syscall6(n, a, b, c, 0, 0, 0); }
static long sys4(long n, long a, long b, long c, long d) { return raw_syscall6(n, a, b, c, d, 0, 0); }

static __attribute__((noreturn)) void exit_group(int code) {
  for (;;) sys1(NR_exit_group, code);
}

static unsigned long slen(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}
static void out(const char *s) { sys3(NR_write, 1, (long)s, (long)slen(s)); }
static void out_num(long v) {
  char b[24];
  int i = sizeof b;
  unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
  b[--i] = 0;
  do b[--i] = (char)('0' + u % 10); while ((u /= 10) && i > 1);
  if (v < 0) b[--i] = '-';
  out(b + i);
}
static void out_hex(unsigned long v) {
  char b[20];
  int i = sizeof b;
  b[--i] = 0;
  do b[--i] = "0123456789abcdef"[v & 15]; while ((v >>= 4) && i > 2);
  b[--i] = 'x';
  b[--i] = '0';
  out(b + i);
}

static int failures;
/* One line: PASS/FAIL name (got <value>). */
static void check(const char *name, int ok, long got) {
  out(ok ? "PASS " : "FAIL ");
  out(name);
  out(" (got ");
  out_num(got);
  out(")\n");
  if (!ok) failures++;
}
static void skip(const char *name, const char *why) {
  out("SKIP ");
  out(name);
  out(": ");
  out(why);
  out("\n");
}

/* The address of an aligned local, hidden from the optimiser so the
 * alignment test is really done at run time. */
static int stack_aligned(void) {
  volatile char probe __attribute__((aligned(STACK_ALIGN))) = 0;
  unsigned long a = (unsigned long)&probe;
  __asm__ volatile("" : "+r"(a));
  return (a & (STACK_ALIGN - 1)) == 0;
}

/* ---- call_with_register_canaries ---- */

static int innocent_aligned;
static __attribute__((noinline)) long innocent(void *arg) {
  innocent_aligned = stack_aligned();
  return (long)arg + 1;
}

/* Returns arg but leaves one callee-saved register changed: a deliberate
 * ABI violation that call_with_register_canaries must report. */
long clobber_callee_saved(void *arg);
#if defined(__x86_64__)
__asm__(".text\n.globl clobber_callee_saved\nclobber_callee_saved:\n"
        "  mov %rdi, %rax\n  mov $0x5a5a, %r12\n  ret\n");
#elif defined(__i386__)
__asm__(".text\n.globl clobber_callee_saved\nclobber_callee_saved:\n"
        "  mov 4(%esp), %eax\n  mov $0x5a5a, %esi\n  ret\n");
#elif defined(__aarch64__)
__asm__(".text\n.globl clobber_callee_saved\n.type clobber_callee_saved,%function\n"
        "clobber_callee_saved:\n  mov x21, #0x5a5a\n  ret\n");
#elif defined(__arm__)
__asm__(".text\n.syntax unified\n.arm\n.globl clobber_callee_saved\n"
        ".type clobber_callee_saved,%function\nclobber_callee_saved:\n"
        "  mov r6, #0x5a\n  bx lr\n");
#elif defined(__powerpc64__)
__asm__(".text\n.globl clobber_callee_saved\n.type clobber_callee_saved,@function\n"
        "clobber_callee_saved:\n  li 20, 0x5a5a\n  blr\n");
#elif defined(__s390x__)
__asm__(".text\n.globl clobber_callee_saved\n.type clobber_callee_saved,@function\n"
        "clobber_callee_saved:\n  lghi %r9, 0x5a5a\n  br %r14\n");
#elif defined(__riscv)
__asm__(".text\n.globl clobber_callee_saved\n.type clobber_callee_saved,@function\n"
        "clobber_callee_saved:\n  li s3, 0x5a5\n  ret\n");
#elif defined(__mips__)
__asm__(".text\n.globl clobber_callee_saved\n.type clobber_callee_saved,@function\n"
        ".set push\n.set noreorder\nclobber_callee_saved:\n"
        "  move $2, $4\n  jr $31\n  li $18, 0x5a5a\n.set pop\n");
#elif defined(__loongarch__)
__asm__(".text\n.globl clobber_callee_saved\n.type clobber_callee_saved,@function\n"
        "clobber_callee_saved:\n  ori $s2, $zero, 0x5a5\n  jr $ra\n");
#else
#error "clobber_callee_saved: unknown architecture"
#endif

/* Runs an inner call_with_register_canaries whose fn clobbers: the inner one
 * must report it and still hand its caller back untouched registers. */
static unsigned long nested_inner_damage;
static long nested_outer(void *arg) {
  return call_with_register_canaries(clobber_callee_saved, arg, &nested_inner_damage);
}

static void test_canaries(void) {
  unsigned long damaged = 12345;
  long r = call_with_register_canaries(innocent, (void *)41, &damaged);
  check("call_with_register_canaries returns fn's value", r == 42, r);
  check("call_with_register_canaries innocent fn: damaged == 0", damaged == 0, (long)damaged);
  check("call_with_register_canaries keeps the stack aligned at the call", innocent_aligned, innocent_aligned);

  damaged = 0;
  r = call_with_register_canaries(clobber_callee_saved, (void *)77, &damaged);
  check("call_with_register_canaries clobbering fn: returns fn's value", r == 77, r);
  check("call_with_register_canaries clobbering fn: damaged != 0", damaged != 0, (long)damaged);
  out("     damaged mask ");
  out_hex(damaged);
  out("\n");

  unsigned long outer = 12345;
  nested_inner_damage = 0;
  r = call_with_register_canaries(nested_outer, (void *)5, &outer);
  check("call_with_register_canaries restores its caller's registers", outer == 0 && r == 5, (long)outer);
  check("nested call_with_register_canaries reports the clobber", nested_inner_damage != 0, (long)nested_inner_damage);
}

/* ---- raw_syscall6 ---- */

static void test_syscalls(long *initial_stack) {
  static const char msg[] = "     raw_syscall6 write\n";
  long r = sys3(NR_write, 1, (long)msg, sizeof msg - 1);
  check("write returns the byte count", r == (long)(sizeof msg - 1), r);
  long pid = sys0(NR_getpid);
  check("getpid > 0", pid > 0, pid);
  r = sys0(NR_getppid);
  check("getppid > 0", r > 0, r);
  r = sys1(NR_close, -1);
  check("close(-1) == -EBADF", r == -E_BADF, r);
  r = sys0(NR_clone3 + 2000);
  check("unknown syscall number == -ENOSYS", r == -E_NOSYS, r);
  r = raw_syscall6(NR_kill, pid, 0, 0, 0, 0, 0);
  check("kill(self, 0) == 0", r == 0, r);

  long argc = initial_stack[0];
  char **argv = (char **)(initial_stack + 1);
  check("_start: argc >= 1, argv[0] set, argv[argc] == NULL",
        argc >= 1 && argv[0] && argv[0][0] && !argv[argc], argc);
  check("_start: stack aligned for C", stack_aligned(), 0);

  long uid = sys0(NR_getuid), euid = sys0(NR_geteuid);
  long gid = sys0(NR_getgid), egid = sys0(NR_getegid);
  check("getuid ok and == geteuid", !IS_SYSCALL_ERROR(uid) && uid == euid, uid);
  check("getgid ok and == getegid", !IS_SYSCALL_ERROR(gid) && gid == egid, gid);

  /* mmap with six arguments (s390x packs them into a block itself). */
  long len = 3 * 4096;
  long m = raw_syscall6(NR_mmap, 0, len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int ok = !IS_SYSCALL_ERROR(m) && m != 0 && (m & 4095) == 0;
  if (ok) {
    volatile long *p = (long *)m;
    ok = p[0] == 0 && p[len / sizeof(long) - 1] == 0;
    p[0] = 99;
    p[len / sizeof(long) - 1] = 98;
    ok = ok && p[0] == 99 && p[len / sizeof(long) - 1] == 98;
  }
  check("mmap anonymous, zeroed, writable", ok, m);
  r = ok ? sys2(NR_munmap, m, len) : -1;
  check("munmap == 0", r == 0, r);

  int fds[2] = {-1, -1};
  r = sys2(NR_pipe2, (long)fds, O_CLOEXEC);
  check("pipe2(O_CLOEXEC) == 0", r == 0 && fds[0] >= 0 && fds[1] >= 0, r);
  r = sys2(NR_fcntl, fds[0], F_GETFD);
  check("fcntl(F_GETFD) shows FD_CLOEXEC", r == FD_CLOEXEC, r);
  r = sys3(NR_fcntl, fds[1], F_SETFD, 0);
  long r2 = sys2(NR_fcntl, fds[1], F_GETFD);
  check("fcntl(F_SETFD, 0) clears it", r == 0 && r2 == 0, r2);
  char c = 'v';
  r = sys3(NR_write, fds[1], (long)&c, 1);
  c = 0;
  r2 = sys3(NR_read, fds[0], (long)&c, 1);
  check("pipe write/read", r == 1 && r2 == 1 && c == 'v', r2);
  r = sys3(NR_dup3, fds[0], 100, O_CLOEXEC);
  r2 = sys2(NR_fcntl, 100, F_GETFD);
  check("dup3(O_CLOEXEC)", r == 100 && r2 == FD_CLOEXEC, r);
  sys1(NR_close, 100);
  r = sys1(NR_close, fds[0]);
  r2 = sys1(NR_close, fds[1]);
  check("close pipe ends == 0", r == 0 && r2 == 0, r);

  /* The kernel rejects any sigset size but _NSIG/8. */
  unsigned long set[4] = {0}, old[4] = {0}, cur[4] = {0};
  const int bits = 8 * sizeof(unsigned long);
  r = sys4(NR_rt_sigprocmask, SIG_BLOCK, 0, (long)old, KERNEL_SIGSET_BYTES);
  check("rt_sigprocmask with KERNEL_SIGSET_BYTES == 0", r == 0, r);
  r = sys4(NR_rt_sigprocmask, SIG_BLOCK, 0, (long)old, KERNEL_SIGSET_BYTES * 2);
  check("rt_sigprocmask with another size == -EINVAL", r == -E_INVAL, r);
  set[(SIGCHLD - 1) / bits] = 1UL << ((SIGCHLD - 1) % bits);
  sys4(NR_rt_sigprocmask, SIG_BLOCK, (long)set, (long)old, KERNEL_SIGSET_BYTES);
  r = sys4(NR_rt_sigprocmask, SIG_UNBLOCK, 0, (long)cur, KERNEL_SIGSET_BYTES);
  ok = r == 0 && (cur[(SIGCHLD - 1) / bits] & set[(SIGCHLD - 1) / bits]);
  sys4(NR_rt_sigprocmask, SIG_UNBLOCK, (long)set, 0, KERNEL_SIGSET_BYTES);
  sys4(NR_rt_sigprocmask, SIG_BLOCK, 0, (long)cur, KERNEL_SIGSET_BYTES);
  ok = ok && !(cur[(SIGCHLD - 1) / bits] & set[(SIGCHLD - 1) / bits]);
  r = sys4(NR_rt_sigprocmask, SIG_SETMASK, (long)old, 0, KERNEL_SIGSET_BYTES);
  check("SIG_BLOCK/SIG_UNBLOCK/SIG_SETMASK of SIGCHLD", ok && r == 0, r);

  struct { long sec, nsec; } ts = {-1, -1}, nap = {0, 1000};
  r = sys2(NR_clock_gettime, CLOCK_MONOTONIC, (long)&ts);
  check("clock_gettime(CLOCK_MONOTONIC) with long timespec", r == 0 && ts.sec >= 0 && ts.nsec >= 0 && ts.nsec < 1000000000L, r);
  r = sys4(NR_clock_nanosleep, CLOCK_MONOTONIC, 0, (long)&nap, 0);
  check("clock_nanosleep 1us == 0", r == 0, r);

  r = sys4(NR_wait4, -1, 0, WNOHANG, 0);
  check("wait4 with no children == -ECHILD", r == -E_CHILD, r);
  r = sys1(NR_getpgid, 0);
  check("getpgid(0) > 0", r > 0, r);
  char cwd[512];
  r = sys2(NR_getcwd, (long)cwd, sizeof cwd);
  check("getcwd > 0", r > 0 && cwd[0] == '/', r);
  r = raw_syscall6(NR_openat, AT_FDCWD, (long)"/", O_RDONLY | O_CLOEXEC, 0, 0, 0);
  ok = r >= 0;
  if (ok) {
    char d[256];
    r2 = sys3(NR_getdents64, r, (long)d, sizeof d);
    long l = raw_syscall6(NR_lseek, r, 0, 0, 0, 0, 0);
    sys1(NR_close, r);
    ok = r2 > 0 && l == 0;
  }
  check("openat/getdents64/lseek on /", ok, r);
  long rl[2] = {-1, -1};
  r = sys4(NR_prlimit64, 0, RLIMIT_NOFILE_, 0, (long)rl);
  check("prlimit64(RLIMIT_NOFILE) == 0", r == 0 && rl[0] > 0, r);
  r = raw_syscall6(NR_kcmp, pid, pid, KCMP_VM, 0, 0, 0);
  if (r == -E_NOSYS || r == -1 /* EPERM */)
    skip("kcmp(self, self, KCMP_VM)", "kcmp unavailable or not permitted here");
  else
    check("kcmp(self, self, KCMP_VM) == 0", r == 0, r);
  r = sys0(NR_sched_yield);
  check("sched_yield == 0", r == 0, r);
}

/* ---- raw_clone_vfork ---- */

#define VFORK_FLAGS (CLONE_VM | CLONE_VFORK | SIGCHLD)
static volatile int child_wrote;

static int exit_status(int st) { return (st & 0x7f) == 0 ? (st >> 8) & 0xff : -(st & 0x7f); }

static long reap(long pid) {
  int st = -1;
  long r = sys4(NR_wait4, pid, (long)&st, 0, 0);
  return r == pid ? exit_status(st) : -1000 + r;
}

/* Child writes a flag and exits 7; parent reaps. Run inside
 * call_with_register_canaries so raw_clone_vfork's handling of
 * callee-saved registers is checked too. */
static long vfork_simple(void *unused) {
  (void)unused;
  child_wrote = 0;
  long pid = raw_clone_vfork(VFORK_FLAGS);
  if (pid == 0) {
    child_wrote = 1;
    exit_group(7);
  }
  if (pid < 0) return pid;
  long status = reap(pid);
  return status == 7 ? pid : -2000 + status;
}

/* A child that uses the stack deeply: its frames overwrite everything
 * below the caller's stack pointer, including any slot the return address
 * of raw_clone_vfork might have been kept in. */
static __attribute__((noinline)) void child_uses_stack(void) {
  volatile unsigned char big[8192];
  for (unsigned long i = 0; i < sizeof big; i++) big[i] = 0xa5;
  big[0] = big[sizeof big - 1];
}
#define STACK_CHILD_MAGIC 0x5157

static __attribute__((noinline)) long vfork_stack_child(void *unused) {
  (void)unused;
  long pid = raw_clone_vfork(VFORK_FLAGS);
  if (pid == 0) {
    child_uses_stack();
    exit_group(8);
  }
  if (pid < 0) return pid;
  long status = reap(pid);
  return status == 8 ? STACK_CHILD_MAGIC : -2000 + status;
}

/* A child sets SIGTERM to SIG_IGN through SIGACTION_HANDLER_OFFSET and
 * signals itself: with a wrong offset the handler stays SIG_DFL and the
 * child dies of SIGTERM (15 on all nine). */
static long sigaction_layout_child(void) {
  long pid = raw_clone_vfork(VFORK_FLAGS);
  if (pid == 0) {
    unsigned long sa[8] = {0};
    *(unsigned long *)((char *)sa + SIGACTION_HANDLER_OFFSET) = 1; /* SIG_IGN */
    long r = sys4(NR_rt_sigaction, 15, (long)sa, 0, KERNEL_SIGSET_BYTES);
    sys2(NR_kill, sys0(NR_getpid), 15);
    exit_group(r == 0 ? 9 : 10);
  }
  return pid < 0 ? pid : reap(pid);
}

static void test_clone(void) {
  unsigned long damaged = 12345;
  long pid = call_with_register_canaries(vfork_simple, 0, &damaged);
  check("raw_clone_vfork: pid in parent, child exits 7, wait4 sees 7", pid > 0, pid);
  check("raw_clone_vfork keeps the caller's callee-saved registers", damaged == 0, (long)damaged);
  if (child_wrote)
    check("vfork child shares memory (CLONE_VM)", 1, 1);
#if defined(__x86_64__) || defined(__i386__)
  else
    check("vfork child shares memory (CLONE_VM)", 0, 0);
#else
  else
    skip("vfork child shares memory (CLONE_VM)", "not shared: qemu-user runs CLONE_VFORK as fork");
#endif

  long r = raw_clone_vfork(0x800 /* CLONE_SIGHAND without CLONE_VM */);
  if (r == 0) exit_group(99); /* must not happen; don't run the parent's code twice */
  if (r > 0) reap(r);
  check("raw_clone_vfork(CLONE_SIGHAND without CLONE_VM) == -EINVAL", r == -E_INVAL, r);

  r = sigaction_layout_child();
  check("rt_sigaction: SIG_IGN at SIGACTION_HANDLER_OFFSET takes effect", r == 9, r);

  r = vfork_stack_child(0);
  check("stack-using vfork child: parent returns to the right place", r == STACK_CHILD_MAGIC, r);
  damaged = 12345;
  r = call_with_register_canaries(vfork_stack_child, 0, &damaged);
  check("stack-using vfork child: callee-saved registers intact", r == STACK_CHILD_MAGIC && damaged == 0, (long)damaged);
}

/* raw_clone_on_stack as the reference's threads use it: a thread of this
 * process on a stack of its own runs entry(argument) and exits; the kernel
 * clears the child-tid word (given in this architecture's clone order) and
 * wakes the futex there. */
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID)
static char thread_stack[64 << 10] __attribute__((aligned(16)));
static volatile long thread_saw;
static int thread_id_word;

static void thread_entry(void *argument) {
  thread_saw = *(long *)argument + 1;
}

static void test_thread(void) {
  long argument = 41;
  thread_id_word = 1;
  long tid = raw_clone_on_stack(THREAD_FLAGS, thread_stack + sizeof thread_stack, &thread_id_word, thread_entry, &argument);
  check("raw_clone_on_stack: a thread starts (its id in the caller)", tid > 0, tid);
  if (tid <= 0) return;
  int seen;
  long waits = 0;
  while ((seen = __atomic_load_n(&thread_id_word, __ATOMIC_ACQUIRE)) != 0 && waits++ < 1000) {
    long timeout[2] = {0, 10000000}; /* 10 ms: a wrong child-tid argument fails, it does not hang */
    raw_syscall6(NR_futex, (long)&thread_id_word, FUTEX_WAIT, seen, (long)timeout, 0, 0);
  }
  check("raw_clone_on_stack: the thread ran entry(argument) on its stack", thread_saw == 42, thread_saw);
  check("raw_clone_on_stack: its exit cleared the child-tid word", thread_id_word == 0, thread_id_word);
}

void vfc_entry(long *initial_stack) {
  out("selftest arch " ARCH_NAME
#ifdef MUTANT_RA_ON_STACK
      " (mutant: return address on the stack)"
#endif
      "\n");
  test_syscalls(initial_stack);
  test_canaries();
  test_clone();
  test_thread();
  out(failures ? "RESULT FAIL " : "RESULT PASS ");
  out_num(failures);
  out(" failed\n");
  exit_group(failures ? 1 : 0);
}
