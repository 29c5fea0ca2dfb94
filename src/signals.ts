/**
 * Signals by name, and their numbers per architecture: mips numbers most
 * of them its own way (arch/mips/include/uapi/asm/signal.h), the other
 * eight share asm-generic's. Cases carry names, so that one case means the
 * same on every target; the protocol carries numbers, in the numbering of
 * whoever reads or writes them.
 */
import type { Architecture } from "./architectures.ts";

export const signalNames = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2",
  "SIGPIPE", "SIGALRM", "SIGTERM", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
  "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
] as const;
export type SignalName = (typeof signalNames)[number];

const genericNumbers: Record<SignalName, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12,
  SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24,
  SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

const mipsNumbers: Record<SignalName, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 10, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 16, SIGSEGV: 11, SIGUSR2: 17,
  SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 18, SIGCONT: 25, SIGSTOP: 23, SIGTSTP: 24, SIGTTIN: 26, SIGTTOU: 27, SIGURG: 21, SIGXCPU: 30,
  SIGXFSZ: 31, SIGVTALRM: 28, SIGPROF: 29, SIGWINCH: 20, SIGIO: 22, SIGPWR: 19, SIGSYS: 12,
};

function numbering(architecture: Architecture): Record<SignalName, number> {
  return architecture.name === "mips64le" ? mipsNumbers : genericNumbers;
}

export function signalNumber(architecture: Architecture, name: SignalName): number {
  return numbering(architecture)[name];
}

/** The name of a number on this architecture; undefined for real-time signals and numbers it does not have. */
export function signalName(architecture: Architecture, value: number): SignalName | undefined {
  const table = numbering(architecture);
  return signalNames.find((name) => table[name] === value);
}

/**
 * The signals a case may block, ignore or handle in the parent: not SIGKILL
 * and SIGSTOP (the kernel refuses), not SIGCHLD (ignored, the children are
 * reaped by the kernel and the spawn's wait fails) nor SIGWINCH (the signal
 * storm's), not the synchronous faults (a blocked or ignored SIGSEGV kills
 * at the fault; qemu-user needs SIGSEGV and SIGBUS itself), not the job
 * control stops, and no real-time signal (C libraries and qemu-user keep
 * some for themselves, and number the rest differently).
 */
export const parentStateSignals: readonly SignalName[] = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGIO", "SIGPWR",
];

/** The parent's signal state at the spawn, over parentStateSignals: ignored and handled are disjoint. */
export interface ParentSignalState {
  blocked: SignalName[];
  ignored: SignalName[];
  handled: SignalName[];
}

/**
 * How the parent's handlers are installed (case field handler_flags): with
 * SA_RESTART, SA_NODEFER, SA_ONSTACK (on an alternate signal stack). Without
 * restart a handler that interrupts the parent's blocking read or wait makes
 * it fail with EINTR, which a spawn must retry (interrupted-wait).
 */
export const handlerFlags = ["restart", "nodefer", "onstack"] as const;
export type HandlerFlag = (typeof handlerFlags)[number];
