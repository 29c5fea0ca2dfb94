/**
 * What a failed apt-get of the private apt (debian-archive.ts) is: its
 * lists' lock held by another process (named, from apt's own words or
 * /proc/locks), a full disk, or a download that did not come; each a
 * BrokenError with one line. And whether to try again: a sibling gate's
 * apt-get on the same cache is waited for, anything else is not.
 */
import { BrokenError } from "../../src/broken.ts";
import { aptLockFault, downloadFault, noSpaceFault, type LockHolder } from "../../src/machine-faults.ts";
import { lockHolder, spaceOf } from "../process/machine-faults.ts";

/** An apt-get's exit status and output (debian-archive.ts runCommand). */
interface AptResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Seconds between attempts of apt-get update. */
export const aptRetrySeconds = 5;

/** While a sibling's apt-get holds the lock: at most this many attempts (5 min), a fresh update of a suite's lists takes a minute at most. */
const siblingAttempts = 60;

/** The lock apt could not take and its holder: apt 2.x names the holder ("It is held by process 123 (apt-get)"); else /proc/locks does. */
function heldLock(result: AptResult): { file: string; holder?: LockHolder } | undefined {
  const output = `${result.stdout}\n${result.stderr}`;
  const lock = /Could not get lock (\S+?)\.?(?:\s+It is held by process (\d+)(?: \(([^)]*)\))?)?\s*$/m.exec(output);
  if (!lock) return undefined;
  const file = lock[1]!;
  // Process 0: a holder outside the PID namespace apt runs in (dies-with-harness.ts); /proc/locks, read from here, names it.
  const named = lock[2] !== undefined && lock[2] !== "0" ? { pid: Number(lock[2]), command: lock[3] ?? "unknown command" } : undefined;
  const seen = lockHolder(file);
  // /proc/locks gives the whole command line where apt gives only its name.
  const holder = seen && (!named || seen.pid === named.pid) ? seen : named;
  return { file, ...(holder ? { holder } : {}) };
}

/** Whether apt said it could not write for want of space (in a warning too: apt-get update then exits 0). */
export function outOfSpace(result: AptResult): boolean {
  return /No space left on device/i.test(`${result.stdout}\n${result.stderr}`);
}

/** Whether a failed apt-get update is tried again: within `attempts` (a full disk is not), or longer while another gate's apt-get holds the lists' lock. */
export function aptUpdateAgain(result: AptResult, attempt: number, attempts: number): boolean {
  if (outOfSpace(result)) return false;
  if (attempt < attempts) return true;
  const lock = heldLock(result);
  return lock !== undefined && /\bapt-get\b/.test(lock.holder?.command ?? "") && attempt < siblingAttempts;
}

export interface AptFailure {
  /** What was fetched: "the package lists of bookworm/arm64", "linux-image-arm64 6.1.0-1". */
  what: string;
  /** The archive it comes from. */
  from: string;
  /** Where apt wrote. */
  directory: string;
  /** Its size, when the index says it. */
  neededBytes?: number;
  /** Attempts made, for a lock's "still after N s". */
  attempts?: number;
  /** apt's own line for the failure (debian-archive.ts lastError). */
  message: string;
}

/** The BrokenError of a failed apt-get: the lock's holder, the disk's free space, or apt's message with what and from where. */
export function aptFault(result: AptResult, failure: AptFailure): BrokenError {
  const lock = heldLock(result);
  if (lock) return aptLockFault(lock.file, lock.holder, ((failure.attempts ?? 1) - 1) * aptRetrySeconds);
  if (outOfSpace(result)) return noSpaceFault(failure.directory, spaceOf(failure.directory), failure.neededBytes);
  return downloadFault(failure.what, failure.from, failure.message);
}
