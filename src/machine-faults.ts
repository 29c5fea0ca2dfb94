/**
 * The one line for each fault of the machine, the cache or the caller's
 * environment that keeps the gate from testing (a BrokenError: what and
 * where, then what to do). Pure: harness/process/machine-faults.ts finds
 * the facts (free space, the lock's holder, the variables) and throws.
 */
import { BrokenError } from "./broken.ts";
import { getSystemErrorMap } from "node:util";

/** A filesystem's space, as statfs gives it, and where it is mounted when known. */
export interface FilesystemSpace {
  freeBytes: number;
  totalBytes: number;
  mountPoint?: string;
}

/** "4.0 MiB": binary units, one decimal, as df -h rounds. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** libuv's words for each errno name ("ENOSPC": "no space left on device"). */
const errnoMeanings = new Map([...getSystemErrorMap().values()]);

/** "ENOSPC (no space left on device)": the errno's name and what it means, as every message names an errno. */
export function errnoPhrase(code: string): string {
  const meaning = errnoMeanings.get(code);
  return meaning ? `${code} (${meaning})` : code;
}

const cacheHint = "set VFORKCHECK_CACHE to a directory with room";

/** The disk is full where the harness writes: the path, how much it needed when known, and the filesystem's free space. */
export function noSpaceFault(path: string, space: FilesystemSpace | undefined, neededBytes?: number, code = "ENOSPC"): BrokenError {
  const needed = neededBytes === undefined ? "" : `, needs ${formatBytes(neededBytes)}`;
  const df = space ? ` (${formatBytes(space.freeBytes)} free of ${formatBytes(space.totalBytes)}${space.mountPoint ? ` on ${space.mountPoint}` : ""})` : "";
  return new BrokenError(`${errnoPhrase(code)} writing ${path}${needed}${df}`, `free space there or ${cacheHint}`);
}

/**
 * The harness may not write where it must: a read-only filesystem or a
 * directory it has no permission for. `denied` is the directory that
 * refused (the nearest existing one), `wanted` what was to be made in it.
 */
export function notWritableFault(code: string, denied: string, wanted: string, underCache: boolean): BrokenError {
  const where = denied === wanted ? denied : `${denied} (to make ${wanted})`;
  const remedy = underCache ? "make it writable, or set VFORKCHECK_CACHE to a writable directory" : "make it writable, or run where the harness may write";
  return new BrokenError(`${errnoPhrase(code)}: cannot write ${underCache ? "the cache " : ""}${where}`, remedy);
}

/** The process holding a lock, as /proc/locks and /proc/PID/cmdline say. */
export interface LockHolder {
  pid: number;
  command: string;
}

/** Another process holds the private apt lists' lock, and did not let it go in time. */
export function aptLockFault(lockFile: string, holder: LockHolder | undefined, waitedSeconds: number): BrokenError {
  const who = holder ? `process ${holder.pid} (${holder.command})` : "another process";
  return new BrokenError(
    `${lockFile} is locked by ${who}, still after ${waitedSeconds} s`,
    holder ? `wait for it to finish or stop it (kill ${holder.pid}), then run again` : "wait for the other apt to finish, then run again",
  );
}

/** A package could not be downloaded: which, from where, and apt's own message. */
export function downloadFault(what: string, from: string, aptMessage: string): BrokenError {
  return new BrokenError(`cannot download ${what} from ${from}: ${aptMessage}`, "check the network and the mirror (VFORKCHECK_DEBIAN_MIRROR), then run again");
}

/** A program the harness runs is not on the caller's PATH. */
export function programNotFoundFault(program: string, path: string | undefined): BrokenError {
  return new BrokenError(
    `${errnoPhrase("ENOENT")}: program '${program}' not found on PATH=${path ?? "(unset)"}`,
    "run with a PATH that holds the system's programs (/usr/local/bin:/usr/bin:/bin)",
  );
}

/** TMPDIR names what cannot hold the harness's temporary files. */
export function temporaryDirectoryFault(tmpdir: string, problem: string): BrokenError {
  return new BrokenError(`TMPDIR=${tmpdir} ${problem}`, "set TMPDIR to a writable directory, or unset it (then /tmp)");
}

/** The cache's default place cannot be made: HOME unset, and the account's home is not writable. */
export function homeFault(cache: string, home: string | undefined, cause: string): BrokenError {
  return new BrokenError(
    `cannot create the cache ${cache}: ${cause}${home === undefined ? " (HOME is unset, so the cache is under the account's home from the password database)" : ""}`,
    "set HOME, or VFORKCHECK_CACHE, to a writable directory",
  );
}
