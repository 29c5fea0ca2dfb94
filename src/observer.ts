/**
 * Reading what the kernel (strace) or the emulator (qemu -strace) saw the
 * driver pass to clone, between the driver's per-case markers
 * lseek(-1, id, SEEK_SET) ... lseek(-1, id, SEEK_END) (or their _llseek and
 * ftruncate forms, below), and what ended the
 * parent's wait in each clone (see ReleaseEvidence). Pure parsing.
 */
import { CLONE_VFORK, CLONE_VM, cloneFlagBits } from "./flags.ts";

export interface ObservedClone {
  /** The clone flags word as passed, or undefined when not shown numerically. */
  flags: number;
  /** The syscall's result as printed: a pid or -errno. */
  result: number;
  /** What the observer saw release the parent before this clone returned in it; absent where it cannot tell (qemu -strace). */
  releasedBy?: ReleaseEvidence;
  /** clone3 only: its struct clone_args as the observer decoded it. */
  clone3?: Clone3Arguments;
}

/**
 * clone3's argument struct (include/uapi/linux/sched.h), every field an
 * __aligned_u64. Its flags word is 64 bits: the low 32 are in
 * ObservedClone.flags (with exit_signal folded into the low byte, which
 * clone3 requires to be 0), the two flags above them are here.
 */
export interface Clone3Arguments {
  /** CLONE_CLEAR_SIGHAND (bit 32): the kernel resets the child's handlers to SIG_DFL. */
  clearSighand: boolean;
  /** CLONE_INTO_CGROUP (bit 33): the child starts in the cgroup of `cgroup`. */
  intoCgroup: boolean;
  /** The exit_signal field, as a number (strace's names mapped as for clone). */
  exitSignal: number;
  /** The pidfd field is a pointer other than NULL (where CLONE_PIDFD stores the pidfd). */
  pidfdPointer: boolean;
  /** The cgroup field (a cgroup2 directory descriptor with CLONE_INTO_CGROUP); undefined when not shown. */
  cgroup?: number;
}

/**
 * The kernel wakes a CLONE_VFORK parent in mm_release of the child, at the
 * start of a successful exec (exec_mmap, before the child's new memory is
 * installed) or at its exit. What an observer can see of that, in the order
 * of its own wait events:
 *   vfork-done    the system tier's init: PTRACE_EVENT_VFORK_DONE, the
 *                 kernel's own report that the parent's vfork wait ended;
 *   child-execve  strace: the child entered execve or execveat (its entry
 *   child-exit    stop comes before the mm release that wakes the parent),
 *                 or exit or exit_group, before the parent's clone returned;
 *   nothing       the parent's clone returned first: it ran on while the
 *                 child still had the parent's memory.
 * strace's is a necessary condition (the child reached exec or exit before
 * the parent returned), the system tier's is the kernel's definition.
 */
export type ReleaseEvidence = "vfork-done" | "child-execve" | "child-exit" | "nothing";

export interface ObservedCase {
  clones: ObservedClone[];
  /** The end marker was seen: the record is complete. */
  complete: boolean;
}

// The names strace prints in a clone word (CLONE_NEWTIME's 0x80 is the exit signal's byte there), and its exit signal's.
const flagBits: Record<string, number> = {
  ...Object.fromEntries(cloneFlagBits.filter((flag) => flag.value > 0xff).map((flag) => [flag.name, flag.value])),
  SIGCHLD: 17,
};

/** The flags of clone3's 64-bit word above bit 31 (parseFlagWords keeps 32 bits). */
const CLONE_CLEAR_SIGHAND = 1n << 32n;
const CLONE_INTO_CGROUP = 1n << 33n;
const highFlagBits: Record<string, bigint> = { CLONE_CLEAR_SIGHAND, CLONE_INTO_CGROUP };

/** An exit signal strace names but that is not SIGCHLD: 0x7f, no architecture's SIGCHLD. */
const otherExitSignal = 0x7f;

/** "CLONE_VM|CLONE_VFORK|SIGCHLD" or "CLONE_VM|0x11" -> number; the low byte is the exit signal. */
export function parseFlagWords(text: string): number | undefined {
  let mask = 0;
  for (const word of text.split("|")) {
    const trimmed = word.trim();
    if (/^0x[0-9a-f]+$/i.test(trimmed)) mask |= Number.parseInt(trimmed, 16);
    else if (/^\d+$/.test(trimmed)) mask |= Number(trimmed);
    else if (trimmed in flagBits) mask |= flagBits[trimmed]!;
    else if (/^SIG[A-Z0-9]+$/.test(trimmed)) mask |= otherExitSignal;
    else return undefined;
  }
  return mask >>> 0;
}

/**
 * The inside of clone3's braces, as strace prints it
 *   flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|CLONE_CLEAR_SIGHAND, pidfd=0x7ffd..., exit_signal=SIGCHLD, stack=NULL, stack_size=0
 * or init on the system tier (native/system-init.c)
 *   flags=0x100005100, exit_signal=17, pidfd=0x7ffe..., cgroup=0
 * -> the low 32 flag bits with the exit signal folded in, and the rest.
 * undefined when a flag is not known.
 */
export function parseClone3Arguments(body: string): { flags: number; clone3: Clone3Arguments } | undefined {
  const fields = new Map<string, string>();
  for (const part of body.split(/,\s*/)) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const flagText = fields.get("flags");
  if (flagText === undefined) return undefined;
  let high = 0n;
  const lowWords: string[] = [];
  for (const word of flagText.split("|").map((w) => w.trim())) {
    if (word in highFlagBits) high |= highFlagBits[word]!;
    else if (/^0x[0-9a-f]+$/i.test(word)) {
      const value = BigInt(word);
      high |= value & ~0xffffffffn;
      lowWords.push(`0x${(value & 0xffffffffn).toString(16)}`);
    } else lowWords.push(word);
  }
  const low = lowWords.length ? parseFlagWords(lowWords.join("|")) : 0;
  if (low === undefined) return undefined;
  const exitSignal = exitSignalOf(fields.get("exit_signal"));
  const pidfd = fields.get("pidfd");
  const cgroup = fields.get("cgroup");
  return {
    flags: (low | exitSignal) >>> 0,
    clone3: {
      clearSighand: (high & CLONE_CLEAR_SIGHAND) !== 0n,
      intoCgroup: (high & CLONE_INTO_CGROUP) !== 0n,
      exitSignal,
      pidfdPointer: pidfd !== undefined && pidfd !== "NULL" && !/^0x0*$/i.test(pidfd),
      ...(cgroup !== undefined && /^\d+$/.test(cgroup) ? { cgroup: Number(cgroup) } : {}),
    },
  };
}

// strace:      1234  clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 1235
//               1234  clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f..., stack_size=0x9000}, 88) = 1235
//               1234  clone3({flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|CLONE_CLEAR_SIGHAND, pidfd=0x7ffd..., exit_signal=SIGCHLD, stack=NULL, stack_size=0} => {pidfd=[6]}, 88) = 1235
//               1234  vfork()                   = 1235
// qemu-strace: 1234 clone(CLONE_VM|CLONE_VFORK|0x11,child_stack=0x0,...) = 1235
// system tier: trace clone(flags=0x4111) = 1235   (native/system-init.c: clone, fork, vfork)
//               trace clone3({flags=0x100005100, exit_signal=17, pidfd=0x7ffe..., cgroup=0}, 88) = 1235
const straceClone = /\bclone\(.*?flags=([A-Z0-9_|xa-f]+).*\)\s+=\s+(-?\d+)/;
const straceClone3 = /\bclone3\(\{([^}]*)\}.*\)\s+=\s+(-?\d+)/;
const straceVfork = /\bvfork\(\)\s+=\s+(-?\d+)/;
const qemuClone = /\bclone\(([A-Z0-9_|x]+),[^)]*\)(?:\s+=\s+(-?\d+)(?:\s+errno=(\d+))?)?/;
// qemu-user prints vfork with the registers it does not decode (glibc's vfork() where the architecture has the call: ppc64le, s390x, ...):
//              26891 vfork(277703024,0,0,0,0,1) = 26897
const qemuVfork = /^\d+ vfork\([^)]*\)(?:\s+=\s+(-?\d+)(?:\s+errno=(\d+))?)?/;
// A marker's arguments are printed at its entry: strace splits it too when another process's line comes between.
const marker = /\blseek\(\s*-1\s*,\s*(\d+)\s*,\s*(SEEK_SET|SEEK_END)\s*(?:\)|<unfinished \.\.\.>)/;
// A driver that cannot make the raw lseek call (CPython's os.lseek on a 32-bit
// architecture) marks with _llseek, whose result pointer is an output:
//   strace:      _llseek(-1, 7, 0xff9ce020, SEEK_SET) = -1 EBADF, or split:
//                _llseek(-1, 7,  <unfinished ...>  ...  <... _llseek resumed>0xff9ce020, SEEK_END) = -1 EBADF
//   qemu-strace: 1234 _llseek(-1,0,7,0x407ffe30,SEEK_SET) = -1 errno=9 (high and low words apart)
const straceLlseek = /\b_llseek\(\s*-1\s*,\s*(\d+)\s*,\s*(?:0x[0-9a-f]+|NULL|\[[^\]]*\])\s*,\s*(SEEK_SET|SEEK_END)\s*\)/;
const qemuLlseek = /\b_llseek\(-1,(\d+),(\d+),(?:0x[0-9a-f]+|NULL),(SEEK_SET|SEEK_END)\)/;
const straceLlseekStart = /\b_llseek\(\s*-1\s*,\s*(\d+)\s*,\s*<unfinished \.\.\.>$/;
const straceLlseekResumed = /<\.\.\. _llseek resumed>.*?(SEEK_SET|SEEK_END)\s*\)/;
// A driver that cannot make lseek at all (Node's fs, without FFI) marks with
// ftruncate on a descriptor that is never open, the length the id:
// 2147483647 (0x7fffffff) starts a case, 2147483646 ends it. Both arguments
// are inputs, printed at the call's entry, so the first half of a split call
// is the whole marker, as with lseek:
//   strace:      ftruncate(2147483647, 1) = -1 EBADF, or split:
//                ftruncate(2147483646, 1 <unfinished ...>  ...  <... ftruncate resumed>) = -1 EBADF
//   qemu-strace: 5593 ftruncate(2147483647,1) = -1 errno=9 (Bad file descriptor)
// and the same with ftruncate64 where glibc's ftruncate is that (386, arm).
const ftruncateMarker = /\bftruncate(?:64)?\(\s*(2147483647|2147483646)\s*,\s*(\d+)\s*(?:\)|<unfinished \.\.\.>)/;
const FTRUNCATE_END_DESCRIPTOR = "2147483646";
// strace -f splits a call that another process's line interrupts:
//   5118  clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD <unfinished ...>
//   [pid  5119] execve("/driver", ["a"], 0x7ffd... /* 0 vars */ <unfinished ...>
//   [pid  5118] <... clone resumed>)        = 5119
// The first line of a process has no "[pid N]" while it is the only one traced.
const straceCloneStart = /\bclone\(.*?flags=([A-Z0-9_|xa-f]+).*<unfinished \.\.\.>$/;
const straceClone3Start = /\bclone3\(\{([^}]*)\}?.*<unfinished \.\.\.>$/;
const straceVforkStart = /\bvfork\(\s*<unfinished \.\.\.>$/;
const straceResumed = /<\.\.\. (?:clone3?|vfork) resumed>.*\)\s+=\s+(-?\d+)/;
const straceChildCall = /^\[pid\s+(\d+)\]\s+(execve|execveat|exit_group|exit)\(/;
const stracePid = /^\[pid\s+(\d+)\]\s/;
// system tier: trace PTRACE_EVENT_VFORK_DONE child=1235   (native/system-init.c)
const vforkDone = /^trace PTRACE_EVENT_VFORK_DONE child=(\d+)/;
const systemTrace = /^trace /;

/** A new thread of the caller (a runtime's own, during the spawn) is no spawn. */
const CLONE_THREAD = 0x10000;

function spawnClone(flags: number | undefined, result: number, clone3?: Clone3Arguments): { clone?: ObservedClone } {
  if (flags === undefined || (flags & CLONE_THREAD) !== 0) return {};
  return { clone: { flags, result, ...(clone3 ? { clone3 } : {}) } };
}

/** One observer line, taken apart. */
export interface ObserverLine {
  marker?: { id: number; end: boolean };
  /** An _llseek marker split by strace: its id now, which marker it is on the "resumed" line (keyed by `process`). */
  markerStart?: { id: number };
  markerResumed?: { end: boolean };
  /** A clone seen whole, or the return of one that was split. */
  clone?: ObservedClone;
  /** The clone's call was split: its flags now, its result on a "resumed" line (keyed by `process`). */
  cloneStart?: { flags: number | undefined; clone3?: Clone3Arguments };
  cloneResumed?: { result: number };
  /** A child's exec or exit seen (strace), or the kernel's vfork completion (system tier): its pid. */
  release?: { child: number; by: Exclude<ReleaseEvidence, "nothing"> };
  /** strace's "[pid N]", "" when the line has none. */
  process: string;
  /** Whose line: which evidence its clones can carry. */
  observer: "strace" | "qemu" | "system";
}

function exitSignalOf(text: string | undefined): number {
  return text === undefined ? 0 : (parseFlagWords(text) ?? otherExitSignal);
}

export function parseObserverLine(line: string): ObserverLine {
  const process = stracePid.exec(line)?.[1] ?? "";
  const observer = systemTrace.test(line) ? "system" : /^\d+ [a-z_0-9]+\(/.test(line) ? "qemu" : "strace";
  const base = { process, observer } as const;
  const m = marker.exec(line);
  if (m) return { ...base, marker: { id: Number(m[1]), end: m[2] === "SEEK_END" } };
  const f = ftruncateMarker.exec(line);
  if (f) return { ...base, marker: { id: Number(f[2]), end: f[1] === FTRUNCATE_END_DESCRIPTOR } };
  const l = straceLlseek.exec(line);
  if (l) return { ...base, marker: { id: Number(l[1]), end: l[2] === "SEEK_END" } };
  const ql = qemuLlseek.exec(line);
  if (ql) return { ...base, marker: { id: Number(ql[1]) * 2 ** 32 + Number(ql[2]), end: ql[3] === "SEEK_END" } };
  const ls = straceLlseekStart.exec(line);
  if (ls) return { ...base, markerStart: { id: Number(ls[1]) } };
  const lr = straceLlseekResumed.exec(line);
  if (lr) return { ...base, markerResumed: { end: lr[1] === "SEEK_END" } };
  const done = vforkDone.exec(line);
  if (done) return { ...base, release: { child: Number(done[1]), by: "vfork-done" } };
  const childCall = straceChildCall.exec(line);
  if (childCall) return { ...base, release: { child: Number(childCall[1]), by: childCall[2]!.startsWith("exec") ? "child-execve" : "child-exit" } };
  const resumed = straceResumed.exec(line);
  if (resumed) return { ...base, cloneResumed: { result: Number(resumed[1]) } };
  const cloneStart = straceCloneStart.exec(line);
  if (cloneStart) return { ...base, cloneStart: { flags: parseFlagWords(cloneStart[1]!) } };
  const clone3Start = straceClone3Start.exec(line);
  if (clone3Start) {
    const decoded = parseClone3Arguments(clone3Start[1]!);
    return { ...base, cloneStart: decoded ? { flags: decoded.flags, clone3: decoded.clone3 } : { flags: undefined } };
  }
  if (straceVforkStart.test(line)) return { ...base, cloneStart: { flags: flagBits.CLONE_VM! | flagBits.CLONE_VFORK! | flagBits.SIGCHLD! } };
  const s = straceClone.exec(line);
  if (s) return { ...base, ...spawnClone(parseFlagWords(s[1]!), Number(s[2])) };
  const c3 = straceClone3.exec(line);
  if (c3) {
    // clone3 keeps the exit signal in a field of its own: folded into the low byte as clone(2) has it.
    const decoded = parseClone3Arguments(c3[1]!);
    return { ...base, ...spawnClone(decoded?.flags, Number(c3[2]), decoded?.clone3) };
  }
  const v = straceVfork.exec(line);
  if (v) return { ...base, ...spawnClone(flagBits.CLONE_VM! | flagBits.CLONE_VFORK! | flagBits.SIGCHLD!, Number(v[1])) };
  const qv = qemuVfork.exec(line);
  if (qv) return { ...base, ...spawnClone(flagBits.CLONE_VM! | flagBits.CLONE_VFORK! | flagBits.SIGCHLD!, qv[2] ? -Number(qv[2]) : Number(qv[1] ?? 0)) };
  const q = qemuClone.exec(line);
  // qemu may print the result on a later line (the call blocks): 0 then.
  if (q) return { ...base, ...spawnClone(parseFlagWords(q[1]!), q[3] ? -Number(q[3]) : Number(q[2] ?? 0)) };
  return base;
}

/**
 * The split call a "resumed" line finishes, taken from `pending` (keyed by
 * strace's process prefix). strace leaves the prefix out while one process
 * is traced, so the two halves can differ: a call started unprefixed (the
 * process was alone) resumes prefixed once a child exists, and one started
 * prefixed resumes unprefixed once the child has exited. An unprefixed half
 * is matched with the one call pending when only one is.
 */
function takePending<T>(pending: Map<string, T>, process: string): T | undefined {
  const key = pending.has(process) ? process : pending.has("") ? "" : process === "" && pending.size === 1 ? [...pending.keys()][0]! : undefined;
  if (key === undefined) return undefined;
  const value = pending.get(key);
  pending.delete(key);
  return value;
}

/** Accumulates observer lines into per-case records. */
export class ObserverLog {
  private current: { id: number; record: ObservedCase } | undefined;
  private readonly finished = new Map<number, ObservedCase>();
  private readonly waiters = new Map<number, () => void>();
  /** This case's split clones, by strace's process prefix, waiting for their result. */
  private pendingClones = new Map<string, { flags: number | undefined; clone3?: Clone3Arguments }>();
  /** This case's children seen released (exec, exit, vfork completion), first evidence each. */
  private released = new Map<number, Exclude<ReleaseEvidence, "nothing">>();

  /** _llseek markers strace split, by its process prefix, waiting for their whence. */
  private pendingMarkers = new Map<string, number>();

  addLine(line: string): void {
    const parsed = parseObserverLine(line);
    if (parsed.markerStart) this.pendingMarkers.set(parsed.process, parsed.markerStart.id);
    if (parsed.markerResumed) {
      const id = takePending(this.pendingMarkers, parsed.process);
      if (id !== undefined) parsed.marker = { id, end: parsed.markerResumed.end };
    }
    if (parsed.marker && !parsed.marker.end) {
      this.current = { id: parsed.marker.id, record: { clones: [], complete: false } };
      this.pendingClones = new Map();
      this.released = new Map();
    } else if (parsed.marker?.end && this.current?.id === parsed.marker.id) {
      this.current.record.complete = true;
      this.finished.set(this.current.id, this.current.record);
      this.waiters.get(this.current.id)?.();
      this.current = undefined;
    } else if (parsed.marker?.end) {
      // The start marker was lost (another process's output cut into it):
      // an incomplete record, now rather than after the waiting time.
      this.finished.set(parsed.marker.id, { clones: [], complete: false });
      this.waiters.get(parsed.marker.id)?.();
      this.current = undefined;
    } else if (this.current) {
      this.addToCase(parsed, this.current.record);
    }
  }

  private addToCase(parsed: ObserverLine, record: ObservedCase): void {
    if (parsed.release && !this.released.has(parsed.release.child)) this.released.set(parsed.release.child, parsed.release.by);
    if (parsed.cloneStart) this.pendingClones.set(parsed.process, parsed.cloneStart);
    let clone = parsed.clone;
    if (parsed.cloneResumed) {
      const start = takePending(this.pendingClones, parsed.process);
      clone = spawnClone(start?.flags, parsed.cloneResumed.result, start?.clone3).clone;
    }
    if (!clone) return;
    if (parsed.observer !== "qemu") clone = { ...clone, releasedBy: this.released.get(clone.result) ?? "nothing" };
    record.clones.push(clone);
  }

  /** The record for a case, waiting up to timeoutMs for its end marker. */
  async take(id: number, timeoutMs: number): Promise<ObservedCase | undefined> {
    if (!this.finished.has(id)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.waiters.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters.delete(id);
    }
    const record = this.finished.get(id);
    this.finished.delete(id);
    return record;
  }
}

export function isFastPathClone(flags: number): boolean {
  return (flags & (CLONE_VM | CLONE_VFORK)) === (CLONE_VM | CLONE_VFORK);
}
