/**
 * The deliberate bugs (mutants), one row each: the
 * compile-time switch that builds it from native/, what it models, and on
 * which targets it can show, with the reason. `vforkcheck mutants` runs
 * every property against every mutant and exits 1 where a row is wrong.
 */
import type { Architecture } from "./architectures.ts";

export type TierName = "host" | "user" | "system";
/** Where a mutant runs: an architecture on a tier, in a driver or inside Node. */
export interface MutantTarget {
  architecture: Architecture;
  tier: TierName;
  inProcess: boolean;
}
/**
 * kill: a property kills it in a run of the default size. cannot-show: no
 * property can see it there. rare: it can show, but only by a race so
 * narrow there that a default run may or may not hit it; either outcome
 * agrees with the table.
 */
export type MutantExpectation = { expected: "kill" | "cannot-show" | "rare"; why: string };

export interface Mutant {
  name: string;
  /** -D switch for native/ (see the #ifdef at the bug's place). */
  define: string;
  /** The number of its bug class (kept in reports/mutants.json as bug_class), and the bug it models, in a sentence. */
  bugClass: number;
  models: string;
  expectation(target: MutantTarget): MutantExpectation;
}

const vforkIsFork =
  "qemu-user runs a CLONE_VM|CLONE_VFORK clone as a host fork (the probe measures vfork_shares_memory=0): the child writes its own copy of the memory, so the parent cannot be hurt";
const qemuUserHasNoPidfd =
  "qemu-user 7.2 cannot express CLONE_PIDFD (its probe measures clone3 ENOSYS and clone with CLONE_PIDFD EINVAL), so pidfd skips there and no other property asks for a pidfd";
/** host and system run a real kernel; only qemu-user emulates (and turns vfork into fork). */
const realKernel = (tier: TierName): boolean => tier !== "user";
const noThreadsInProcess = "in-process the reference offers no threads (no threads in its hello): concurrent-spawns skips, and no other property spawns from two threads at once";
const kill = (why: string): MutantExpectation => ({ expected: "kill", why });
const cannotShow = (why: string): MutantExpectation => ({ expected: "cannot-show", why });
const rare = (why: string): MutantExpectation => ({ expected: "rare", why });
/** A broken port's mutant: in one architecture's wrapper, so every other build is the reference's. */
const onPort =
  (port: string, expectation: (tier: TierName) => MutantExpectation) =>
  ({ architecture, tier }: MutantTarget): MutantExpectation =>
    architecture.name === port ? expectation(tier) : cannotShow(`the switch is in ${port}'s wrapper: the ${architecture.name} build is byte-identical to the reference`);

export const mutants: readonly Mutant[] = [
  {
    name: "ra-on-stack",
    define: "MUTANT_RA_ON_STACK",
    bugClass: 1,
    models: "the raw vfork wrapper leaves its return address in a stack slot that the child's calls overwrite before exec",
    expectation: ({ tier }) =>
      realKernel(tier) ? kill("the child runs first on the parent's stack and overwrites the saved return address: the parent returns into garbage (crash or damaged canaries)") : cannotShow(vforkIsFork),
  },
  {
    name: "clobbered-local",
    define: "MUTANT_CLOBBERED_LOCAL",
    bugClass: 2,
    models: "the child tidies up a variable of the parent's frame as if it had its own copy (closes the error pipe's read end and sets it to -1)",
    expectation: ({ tier }) =>
      realKernel(tier) ? kill("the parent then reads the child's errno from descriptor -1: a failed exec looks like success and the real read end leaks") : cannotShow(vforkIsFork),
  },
  {
    name: "vfork-with-newuser",
    define: "MUTANT_VFORK_WITH_NEWUSER",
    bugClass: 3,
    models: "CLONE_NEWUSER in the clone flags does not trigger the fork fallback",
    expectation: ({ tier }) =>
      realKernel(tier)
        ? kill("the child waits for uid/gid maps that its suspended parent cannot write: the deadline reports the hang, and the observer sees CLONE_VM|CLONE_VFORK with CLONE_NEWUSER")
        : kill("qemu-user refuses the clone with EINVAL either way, but its -strace shows the fast path was tried with CLONE_NEWUSER"),
  },
  {
    name: "unshare-newuser-ignored",
    define: "MUTANT_UNSHARE_NEWUSER_IGNORED",
    bugClass: 4,
    models: "CLONE_NEWUSER in the unshare flags does not trigger the fork fallback",
    expectation: ({ tier }) =>
      realKernel(tier)
        ? kill("the child's unshare(CLONE_NEWUSER) fails with EINVAL while it shares the parent's memory, and the observer sees the fast path")
        : kill("qemu-user refuses unshare(CLONE_NEWUSER) anyway, but its -strace shows the fast path was taken for it"),
  },
  {
    name: "s390x-arg-order",
    define: "MUTANT_S390X_ARG_ORDER",
    bugClass: 5,
    models: "clone's first two arguments are not swapped on s390x (there it is clone(newsp, flags, ...))",
    expectation: ({ architecture }) =>
      architecture.name === "s390x"
        ? kill("the flags land in the new-stack-pointer argument and clone sees flags 0 (no CLONE_VM|CLONE_VFORK, no SIGCHLD): qemu-user refuses that with EINVAL, so every spawn fails; a kernel forks onto a wild stack, and the observer sees the clone without CLONE_VFORK or SIGCHLD")
        : cannotShow(`on ${architecture.name} clone takes (flags, newsp) already: the switch changes nothing (the mutant's build is byte-identical to the reference)`),
  },
  {
    name: "signals-unblocked",
    define: "MUTANT_SIGNALS_UNBLOCKED",
    bugClass: 6,
    models: "signals are not blocked across the clone and the child keeps the parent's handlers until exec",
    expectation: ({ inProcess }) =>
      inProcess
        ? cannotShow("the in-process parent's process group is the test runner's, so signal-storm cannot storm it and skips; no other property sends signals")
        : kill("a signal that reaches the child before exec runs the parent's handler in the child (signal-storm sees it)"),
  },
  {
    name: "errno-shared-memory",
    define: "MUTANT_ERRNO_SHARED_MEMORY",
    bugClass: 7,
    models: "the child reports its errno through shared memory instead of the pipe",
    expectation: ({ tier }) =>
      realKernel(tier)
        ? kill("real vfork shares memory, but the CLONE_NEWUSER fallback is a fork: a failed exec there is reported as success")
        : kill("qemu-user's vfork is a fork: every failed exec is reported as success"),
  },
  {
    name: "errno-width",
    define: "MUTANT_ERRNO_WIDTH",
    bugClass: 8,
    models: "the child writes its errno as a long and the parent reads an int",
    expectation: ({ architecture }) =>
      architecture.bigEndian
        ? kill("on a 64-bit big-endian machine the first four bytes of the long are its high half, 0: a failed exec is reported as success")
        : cannotShow(`${architecture.name} is little endian: the first four bytes of a long are its low half, the int's value (and on 32-bit architectures a long is an int)`),
  },
  {
    name: "clone-errno-dropped",
    define: "MUTANT_CLONE_ERRNO_DROPPED",
    bugClass: 9,
    models: "a failing clone is reported as a failure with errno 0",
    expectation: () => kill("errno-propagates draws CLONE_NEWNS|CLONE_FS, which clone refuses with EINVAL everywhere (and namespace flags refused with EPERM unprivileged, EINVAL under qemu-user), and wants that errno"),
  },
  {
    name: "pipe-not-cloexec",
    define: "MUTANT_PIPE_NOT_CLOEXEC",
    bugClass: 10,
    models: "the error pipe is created without O_CLOEXEC",
    expectation: () => kill("the exec'd child holds the pipe's write end: its list of open descriptors has one too many"),
  },
  {
    name: "pipe-leak-below-targets",
    define: "MUTANT_PIPE_LEAK_BELOW_TARGETS",
    bugClass: 14,
    models: "Go's shape of a leaked error pipe: the original, made without O_CLOEXEC, stays at descriptor 40 or above while the spawn works on a close-on-exec copy above the targets, and the child closes every descriptor below its highest target that it neither maps nor inherited",
    expectation: () =>
      kill("descriptor-table draws tables whose every target, the report descriptor included, lies below 40: there the child holds the leaked write end (with the report descriptor fixed at 63 it would always be closed)"),
  },
  {
    name: "zombie-on-failure",
    define: "MUTANT_ZOMBIE_ON_FAILURE",
    bugClass: 11,
    models: "the child is not reaped after a failed exec",
    expectation: () => kill("after a failed exec the driver finds a zombie child"),
  },
  {
    name: "no-sigchld",
    define: "MUTANT_NO_SIGCHLD",
    bugClass: 12,
    models: "SIGCHLD is missing from the clone flags",
    expectation: ({ tier }) =>
      realKernel(tier)
        ? kill("a child with no exit signal is invisible to wait4 without __WALL until it execs: after a failed exec the spawn cannot reap it (the driver finds the zombie with __WALL), and the observer sees the clone without SIGCHLD")
        : kill("qemu-user emulates a vfork clone only with SIGCHLD as its exit signal and refuses this one with EINVAL: every spawn fails"),
  },
  {
    name: "sigmask-left-blocked",
    define: "MUTANT_SIGMASK_LEFT_BLOCKED",
    bugClass: 13,
    models: "the child does not restore the parent's signal mask before exec (OpenJDK JDK-8357683): the new program starts with every signal blocked",
    expectation: ({ inProcess, tier }) =>
      inProcess
        ? cannotShow("in-process the parent's mask and dispositions are the test runner's, so signal-state skips there")
        : kill(
            tier === "user"
              ? "not about shared memory: the emulated child's mask (every signal, blocked across the clone) is what qemu-user hands the host execve, and the exec'd program reports it"
              : "the exec'd program reports every signal blocked, whatever the parent's mask was",
          ),
  },
  {
    name: "ignored-reset",
    define: "MUTANT_IGNORED_RESET",
    bugClass: 13,
    models: "the child resets SIG_IGN dispositions to SIG_DFL with the handlers, so the new program does not inherit the parent's ignored signals",
    expectation: ({ inProcess }) =>
      inProcess
        ? cannotShow("in-process the parent's mask and dispositions are the test runner's, so signal-state skips there")
        : kill("the exec'd program reports a signal the parent ignored at SIG_DFL (POSIX: it stays ignored)"),
  },
  {
    name: "pipe-cloexec-in-child",
    define: "MUTANT_PIPE_CLOEXEC_IN_CHILD",
    bugClass: 16,
    models: "the error pipe's write end is made without O_CLOEXEC and only the spawn's own child marks it close-on-exec before exec (musl b7bc9665, OpenJDK JDK-8377907): alone the spawn is right, but a spawn on another thread clones while the pipe is open",
    expectation: ({ inProcess }) =>
      inProcess
        ? cannotShow(noThreadsInProcess)
        : kill("concurrent-spawns starts its spawns at the same moment: a child cloned while another spawn's pipe is open keeps that write end past exec, one descriptor too many in its report (qemu-user's vfork is a fork, which copies the table just the same)"),
  },
  {
    name: "shared-result-slot",
    define: "MUTANT_SHARED_RESULT_SLOT",
    bugClass: 16,
    models: "each thread's spawn writes its outcome to one slot shared by all callers instead of its own, and each caller reads it after the others have written",
    expectation: ({ inProcess }) =>
      inProcess
        ? cannotShow(noThreadsInProcess)
        : kill("every caller of a concurrent case gets the last spawn's pid or errno: another path's errno, or a pid whose report says another pid and descriptor set, reaped twice"),
  },
  {
    name: "vm-without-vfork",
    define: "MUTANT_VM_WITHOUT_VFORK",
    bugClass: 17,
    models: "the fast path clones with CLONE_VM but without CLONE_VFORK (the child on a stack of its own): the parent runs on while the child still uses its memory",
    expectation: ({ tier }) =>
      tier === "user"
          ? kill("qemu-user refuses CLONE_VM without CLONE_VFORK or the thread flags with EINVAL: every fast-path spawn fails")
          : tier === "system"
            ? kill("the kernel sends no PTRACE_EVENT_VFORK_DONE for a clone without CLONE_VFORK: init's observer sees the parent's clone return without its vfork wait (parent-resumes), and the clone without CLONE_VFORK (the properties that check the path)")
            : kill("strace orders the parent's clone return before the child's execve or exit (parent-resumes), and shows the clone without CLONE_VFORK (the properties that check the path)"),
  },
  {
    name: "pidfd-leak-on-failure",
    define: "MUTANT_PIDFD_LEAK_ON_FAILURE",
    bugClass: 15,
    models: "a spawn whose child fails before exec returns the error but leaves the child's pidfd open (glibc BZ 31695, pidfd_spawn)",
    expectation: ({ tier }) =>
      tier === "user"
        ? cannotShow(qemuUserHasNoPidfd)
        : kill("after a failed exec the driver finds a pidfd still open in the parent (pidfds_open, and one leaked descriptor)"),
  },
  {
    name: "pidfd-wrong-process",
    define: "MUTANT_PIDFD_WRONG_PROCESS",
    bugClass: 15,
    models: "the pidfd handed back refers to another process (opened by pid on the caller's own: a pid/tid mix-up), not the spawned child",
    expectation: ({ tier }) =>
      tier === "user"
        ? cannotShow(qemuUserHasNoPidfd)
        : kill("its fdinfo shows the parent's pid, not the pid the exec'd child reports, and waitid(P_PIDFD) with it fails with ECHILD"),
  },
  {
    name: "observer-exit-signal-int",
    define: "MUTANT_OBSERVER_EXIT_SIGNAL_INT",
    bugClass: 12,
    models: "the system tier's observer (init) reads clone3's exit_signal, an __aligned_u64, as a 4-byte int at its offset",
    expectation: ({ architecture, tier }) =>
      tier !== "system"
        ? cannotShow(`init's observer runs on the system tier only: on ${tier} strace or qemu -strace decode clone3`)
        : architecture.bigEndian
          ? kill("on big-endian s390x the first four bytes of the u64 are its high half, 0: init reports clone3 with exit signal 0 and the checks of the clone's exit signal (SIGCHLD) fail for every clone3 spawn")
          : cannotShow(`${architecture.name} is little endian: the first four bytes of the u64 are its low half, the right value`),
  },
  {
    name: "observer-fields-as-longs",
    define: "MUTANT_OBSERVER_FIELDS_AS_LONGS",
    bugClass: 12,
    models: "the system tier's observer (init) takes clone3's struct as an array of unsigned long, the exit signal at 4 * sizeof(long)",
    expectation: ({ architecture, tier }) =>
      tier !== "system"
        ? cannotShow(`init's observer runs on the system tier only: on ${tier} strace or qemu -strace decode clone3`)
        : thirtyTwoBit.includes(architecture.name)
          ? kill("on a 32-bit architecture 4 * sizeof(long) is offset 16, child_tid's low half (0 for a spawn), not exit_signal at 32: init reports exit signal 0 for every clone3 spawn")
          : cannotShow(`on 64-bit ${architecture.name} a long is the u64's size: the offsets are right`),
  },
  {
    name: "pipe-cloexec-late",
    define: "MUTANT_PIPE_CLOEXEC_LATE",
    bugClass: 16,
    models: "the error pipe is made without O_CLOEXEC and marked close-on-exec by the next two calls (fcntl F_SETFD on each end), with no lock held against other threads' forks (Go's ForkExec without pipe2 and ForkLock)",
    expectation: ({ inProcess, tier }) =>
      inProcess
        ? cannotShow(noThreadsInProcess)
        : tier === "system"
          ? rare("the VM has one CPU: its threads run in turn, and a clone lands in another thread's two-call window only when the timer preempts that thread inside it (2 cases in 100 on arm64/system): a default run may kill it or not")
          : kill("concurrent-spawns repeats its spawns in rounds (on the host) while a thread of the driver forks and execs: a clone or fork inside the two-call window copies both unmarked ends, and that child's exec'd program reports descriptors that are not its own"),
  },
  {
    name: "mips64le-a3-ignored",
    define: "MUTANT_PORT_MIPS64LE_A3_IGNORED",
    bugClass: 9,
    models: "a broken mips64le port: the raw vfork wrapper ignores the kernel's a3 error flag, so a refused clone's positive errno comes back as a pid (the probe, built from the same port, keeps its own clone path)",
    expectation: onPort("mips64le", (tier) =>
      kill(
        tier === "user"
          ? "qemu-user refuses every namespace flag in a vfork clone with EINVAL: the spawn reports a child (pid 22) where the probe measured EINVAL (errno-propagates)"
          : "the kernel refuses CLONE_NEWNS|CLONE_FS with EINVAL: the spawn reports a child (pid 22) where the probe measured EINVAL (errno-propagates)",
      ),
    ),
  },
  {
    name: "ppc64le-ra-in-r12",
    define: "MUTANT_PORT_PPC64LE_RA_IN_R12",
    bugClass: 1,
    models: "a broken ppc64le port: the raw vfork wrapper keeps its return address in r12 across sc, a volatile register (the probe, built from the same port, keeps its own clone path)",
    expectation: onPort("ppc64le", (tier) =>
      tier === "user"
        ? cannotShow("qemu-user hands r12 back from sc as it was, so the saved return address survives")
        : kill("Linux zeroes r12 on every sc exit: the child and then the parent return to address 0, and the driver dies at its first fast-path spawn while the probe measures the VM as ever"),
    ),
  },
  {
    name: "eintr-as-eof",
    define: "MUTANT_EINTR_AS_EOF",
    bugClass: 18,
    models: "the parent's pipe reads while it waits for the child (the id-map handshake, the error pipe) take EINTR for end of file (the class PEP 475 removed from CPython)",
    expectation: ({ inProcess, tier }) =>
      inProcess
        ? cannotShow("the in-process parent's process group is the test runner's, so the storm cannot run there and interrupted-wait skips; no other property sends signals")
        : kill(
            tier === "user"
              ? "qemu-user refuses CLONE_NEWUSER, but its vfork is a fork: the parent waits on the error pipe of every failing spawn, and a storm signal whose handler lacks SA_RESTART makes the failed exec look like a success (interrupted-wait)"
              : "on the CLONE_NEWUSER fork fallback the parent waits for the child's id-map request and its errno: a storm signal whose handler lacks SA_RESTART ends the wait, so the child fails with EIO or a failed exec looks like a success (interrupted-wait)",
          ),
  },
  {
    name: "pidfd-closed-returned",
    define: "MUTANT_PIDFD_CLOSED_RETURNED",
    bugClass: 15,
    models: "a failed pidfd spawn closes the child's pidfd but hands the closed number back to the caller (a double close waiting to happen)",
    expectation: ({ tier }) =>
      tier === "user"
        ? cannotShow(qemuUserHasNoPidfd)
        : kill("after a failed exec the driver finds the pidfd output holding a descriptor number that is no longer open (failed_pidfd_is=closed), not the caller's value or -1"),
  },
  {
    name: "nextfd-overwrite",
    define: "MUTANT_NEXTFD_OVERWRITE",
    bugClass: 14,
    models: "Go's nextfd: the child moves its error pipe to one past the highest mapped descriptor (close-on-exec) before mapping, over a descriptor the parent holds there without close-on-exec, which the exec'd child then lacks",
    expectation: ({ inProcess }) =>
      inProcess
        ? cannotShow("in-process the reference holds no descriptors for a case (no parent_fds in its hello: the host program's other threads would pass them on), and nothing else sits just above a child's table")
        : kill("descriptor-table has the parent hold descriptors just above the child's table (parent_fds): the child's list lacks the one at the highest mapped number plus one"),
  },
];

/** Where a long (and a PTRACE_PEEKDATA word) is 4 bytes. */
const thirtyTwoBit: readonly string[] = ["arm", "386"];


export function findMutant(name: string): Mutant | undefined {
  return mutants.find((mutant) => mutant.name === name);
}
