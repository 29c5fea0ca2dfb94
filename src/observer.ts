/**
 * Reading what the kernel (strace) or the emulator (qemu -strace) saw the
 * driver pass to clone, between the driver's per-case markers
 * lseek(-1, id, SEEK_SET) ... lseek(-1, id, SEEK_END). Pure parsing.
 */
import { CLONE_VFORK, CLONE_VM } from "./flags.ts";

export interface ObservedClone {
  /** The clone flags word as passed, or undefined when not shown numerically. */
  flags: number;
  /** The syscall's result as printed: a pid or -errno. */
  result: number;
}

export interface ObservedCase {
  clones: ObservedClone[];
  /** The end marker was seen: the record is complete. */
  complete: boolean;
}

const flagBits: Record<string, number> = {
  CLONE_VM: 0x100, CLONE_FS: 0x200, CLONE_FILES: 0x400, CLONE_SIGHAND: 0x800, CLONE_PIDFD: 0x1000,
  CLONE_PTRACE: 0x2000, CLONE_VFORK: 0x4000, CLONE_PARENT: 0x8000, CLONE_THREAD: 0x10000,
  CLONE_NEWNS: 0x20000, CLONE_SYSVSEM: 0x40000, CLONE_SETTLS: 0x80000, CLONE_PARENT_SETTID: 0x100000,
  CLONE_CHILD_CLEARTID: 0x200000, CLONE_DETACHED: 0x400000, CLONE_UNTRACED: 0x800000,
  CLONE_CHILD_SETTID: 0x1000000, CLONE_NEWCGROUP: 0x2000000, CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000, CLONE_NEWUSER: 0x10000000, CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000, CLONE_IO: 0x80000000, SIGCHLD: 17,
};

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

// strace:      1234  clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 1235
//               1234  clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f..., stack_size=0x9000}, 88) = 1235
//               1234  vfork()                   = 1235
// qemu-strace: 1234 clone(CLONE_VM|CLONE_VFORK|0x11,child_stack=0x0,...) = 1235
// system tier: trace clone(flags=0x4111) = 1235   (native/system-init.c, any of the calls above)
const straceClone = /\bclone\(.*?flags=([A-Z0-9_|xa-f]+).*\)\s+=\s+(-?\d+)/;
const straceClone3 = /\bclone3\(\{flags=([A-Z0-9_|xa-f]+)(?:, exit_signal=(\w+))?.*\)\s+=\s+(-?\d+)/;
const straceVfork = /\bvfork\(\)\s+=\s+(-?\d+)/;
const qemuClone = /\bclone\(([A-Z0-9_|x]+),[^)]*\)(?:\s+=\s+(-?\d+)(?:\s+errno=(\d+))?)?/;
const marker = /\blseek\(\s*-1\s*,\s*(\d+)\s*,\s*(SEEK_SET|SEEK_END)\s*\)/;

/** A new thread of the caller (a runtime's own, during the spawn) is no spawn. */
const CLONE_THREAD = 0x10000;

function spawnClone(flags: number | undefined, result: number): { clone?: ObservedClone } {
  if (flags === undefined || (flags & CLONE_THREAD) !== 0) return {};
  return { clone: { flags, result } };
}

export function parseObserverLine(line: string): { marker?: { id: number; end: boolean }; clone?: ObservedClone } {
  const m = marker.exec(line);
  if (m) return { marker: { id: Number(m[1]), end: m[2] === "SEEK_END" } };
  const s = straceClone.exec(line);
  if (s) return spawnClone(parseFlagWords(s[1]!), Number(s[2]));
  const c3 = straceClone3.exec(line);
  if (c3) {
    // clone3 keeps the exit signal in a field of its own: fold it into the low byte as clone(2) has it.
    const flags = parseFlagWords(c3[1]!);
    const exitSignal = c3[2] === undefined ? 0 : (parseFlagWords(c3[2]) ?? otherExitSignal);
    return spawnClone(flags === undefined ? undefined : (flags | exitSignal) >>> 0, Number(c3[3]));
  }
  const v = straceVfork.exec(line);
  if (v) return spawnClone(flagBits.CLONE_VM! | flagBits.CLONE_VFORK! | flagBits.SIGCHLD!, Number(v[1]));
  const q = qemuClone.exec(line);
  // qemu may print the result on a later line (the call blocks): 0 then.
  if (q) return spawnClone(parseFlagWords(q[1]!), q[3] ? -Number(q[3]) : Number(q[2] ?? 0));
  return {};
}

/** Accumulates observer lines into per-case records. */
export class ObserverLog {
  private current: { id: number; record: ObservedCase } | undefined;
  private readonly finished = new Map<number, ObservedCase>();
  private readonly waiters = new Map<number, () => void>();

  addLine(line: string): void {
    const parsed = parseObserverLine(line);
    if (parsed.marker && !parsed.marker.end) {
      this.current = { id: parsed.marker.id, record: { clones: [], complete: false } };
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
    } else if (parsed.clone && this.current) {
      this.current.record.clones.push(parsed.clone);
    }
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
