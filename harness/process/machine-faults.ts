/**
 * Faults of the machine, the cache and the caller's environment, found and
 * classified in one place: an error from a write, a mkdir or a spawn
 * becomes a BrokenError whose one line names the path, the space, the
 * program or the variable (src/machine-faults.ts words it), and the run's
 * environment is checked before anything is installed or built.
 */
import { accessSync, constants, mkdirSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { BrokenError } from "../../src/broken.ts";
import { UsageError } from "../../src/usage-error.ts";
import { errnoPhrase, homeFault, noSpaceFault, notWritableFault, programNotFoundFault, temporaryDirectoryFault, type FilesystemSpace, type LockHolder } from "../../src/machine-faults.ts";

type ErrnoError = Error & { code?: string; path?: string; dest?: string; syscall?: string };

/** The nearest directory of `path` that exists (the one a mkdir or a write was refused by). */
function nearestExisting(path: string): string {
  let at = resolve(path);
  for (;;) {
    try {
      statSync(at);
      return at;
    } catch {
      const up = dirname(at);
      if (up === at) return at;
      at = up;
    }
  }
}

/** The mount point whose directory is the longest prefix of `path` (/proc/self/mountinfo's fifth field, octal-escaped). */
function mountPointOf(path: string): string | undefined {
  let mounts: string[];
  try {
    mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((line) => line.split(" ")[4] ?? "").filter((mount) => mount !== "");
  } catch {
    return undefined;
  }
  const unescaped = mounts.map((mount) => mount.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  const within = (mount: string) => mount === "/" || path === mount || path.startsWith(`${mount}${sep}`);
  return unescaped.filter(within).sort((a, b) => b.length - a.length)[0];
}

/** Free and total bytes of the filesystem that holds `path` (or would: its nearest existing directory), as df says them. */
export function spaceOf(path: string): FilesystemSpace | undefined {
  const at = nearestExisting(path);
  try {
    const stats = statfsSync(at);
    const mountPoint = mountPointOf(at);
    return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize, ...(mountPoint ? { mountPoint } : {}) };
  } catch {
    return undefined;
  }
}

/** Whether the directory `path` is in (or is) `directory`. */
function isWithin(path: string, directory: string | undefined): boolean {
  if (directory === undefined) return false;
  const [inner, outer] = [resolve(path), resolve(directory)];
  return inner === outer || inner.startsWith(`${outer}${sep}`);
}

/** Why a directory cannot be written, as an errno name ("EROFS", "EACCES"), or undefined when it can. */
function writeRefusal(directory: string): string | undefined {
  try {
    accessSync(directory, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as ErrnoError).code ?? "EACCES";
  }
}

/**
 * The process holding a POSIX or flock lock on `file`: /proc/locks names
 * the holder's pid and the file's device and inode; /proc/PID/cmdline its
 * command. Undefined when nobody holds one, or it cannot be seen.
 */
export function lockHolder(file: string): LockHolder | undefined {
  let inode: number;
  let locks: string;
  try {
    inode = statSync(file).ino;
    locks = readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined;
  }
  // "1: POSIX  ADVISORY  WRITE 12345 00:2d:67890 0 EOF": the pid, then major:minor:inode.
  for (const line of locks.split("\n")) {
    const match = /\s(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (!match || Number(match[2]) !== inode || line.includes("->")) continue;
    const pid = Number(match[1]);
    let command = "unknown command";
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((word) => word !== "").join(" ") || command;
    } catch {
      // Gone already, or another PID namespace's: the pid is all there is.
    }
    return { pid, command };
  }
  return undefined;
}

/**
 * The BrokenError an error stands for when it is a fault of the machine,
 * the cache or the caller (a full disk, a read-only or forbidden
 * directory, a program missing from PATH); undefined for anything else,
 * which stays the error it is. `cache`: the cache directory, which a
 * refusal names as such.
 */
export function machineFault(error: unknown, cache?: string): BrokenError | undefined {
  if (error instanceof BrokenError) return error;
  if (!(error instanceof Error) || error instanceof UsageError) return undefined;
  // Wrapped with what was being done ("kernel for arm64 (...): " + the cause's message): the cause's fault, with that context.
  const inner = error.cause === undefined ? undefined : machineFault(error.cause, cache);
  if (inner) {
    const causeMessage = error.cause instanceof Error ? error.cause.message : "";
    const context = causeMessage && error.message.endsWith(causeMessage) ? error.message.slice(0, -causeMessage.length) : "";
    return new BrokenError(`${context}${inner.fault}`, inner.remedy);
  }
  return errnoFault(error, cache);
}

/** An error with an errno of its own (or a child's words for one) as a fault of the machine. */
function errnoFault(error: Error, cache: string | undefined): BrokenError | undefined {
  const { code, syscall } = error as ErrnoError;
  const path = (error as ErrnoError).dest ?? (error as ErrnoError).path;
  // A write(2) names no path ("ENOSPC: no space left on device, write"): then the cache, where the harness writes.
  if ((code === "ENOSPC" || code === "EDQUOT") && (path ?? cache) !== undefined) return noSpaceFault(path ?? `a file in ${cache}`, spaceOf(path ?? cache!), undefined, code);
  if ((code === "EROFS" || code === "EACCES" || code === "EPERM") && path !== undefined && !syscall?.startsWith("spawn")) {
    const denied = nearestExisting(path) === resolve(path) ? path : nearestExisting(path);
    return notWritableFault(code, denied, path, isWithin(path, cache));
  }
  // "spawn env ENOENT": a program looked up on PATH that is not there (a path with a slash is the caller's own, said elsewhere).
  if (code === "ENOENT" && syscall?.startsWith("spawn") && path !== undefined && !path.includes("/")) return programNotFoundFault(path, process.env.PATH);
  // Node's recursive mkdir says ENOENT where the first directory it could not make was refused (EROFS, EACCES).
  if (code === "ENOENT" && syscall === "mkdir" && path !== undefined) {
    const denied = nearestExisting(path);
    const refusal = writeRefusal(denied);
    if (refusal) return notWritableFault(refusal, denied, path, isWithin(path, cache));
  }
  // A child's own words for a full disk (clang, apt, cpio), when the error has no errno of its own.
  if (code === undefined && cache !== undefined && /No space left on device/i.test(error.message)) return noSpaceFault(cache, spaceOf(cache));
  return undefined;
}

/** What the run needs of the caller's environment: the variables it reads and the cache directory it will use. */
export interface RunEnvironment {
  cache: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Checks, before anything is installed or built, that TMPDIR (when set) is
 * a writable directory, that the cache directory can be made and written
 * (one probe file, removed), and that PATH finds the system's programs; throws the BrokenError of the first that is not.
 */
export function checkRunEnvironment({ cache, env = process.env }: RunEnvironment): void {
  const tmpdir = env.TMPDIR;
  if (tmpdir) {
    // Node decodes the environment as UTF-8: bytes that are not UTF-8 arrive as U+FFFD, which names another directory.
    if (tmpdir.includes("\uFFFD")) throw temporaryDirectoryFault(tmpdir, "is not valid UTF-8: Node names files by UTF-8 text and cannot reach it");
    let isDirectory: boolean;
    try {
      isDirectory = statSync(tmpdir).isDirectory();
    } catch (error) {
      throw temporaryDirectoryFault(tmpdir, `does not exist (${(error as ErrnoError).code ?? "ENOENT"})`);
    }
    if (!isDirectory) throw temporaryDirectoryFault(tmpdir, "is not a directory (ENOTDIR)");
    const refusal = writeRefusal(tmpdir);
    if (refusal) throw temporaryDirectoryFault(tmpdir, `is not writable (${refusal})`);
  }
  const probe = join(cache, `.writable-${process.pid}`);
  try {
    mkdirSync(cache, { recursive: true });
    writeFileSync(probe, "");
    rmSync(probe, { force: true });
  } catch (error) {
    // Said of the cache, not of the probe file in it.
    const { code } = error as ErrnoError;
    const denied = nearestExisting(cache);
    const refusal = code === "ENOENT" ? writeRefusal(denied) : code;
    // The default cache under a home that is not there: say that HOME is why.
    const defaulted = env.VFORKCHECK_CACHE === undefined && env.XDG_CACHE_HOME === undefined && isWithin(cache, homedir());
    if (defaulted && refusal) throw homeFault(cache, env.HOME, `${errnoPhrase(refusal)} on ${denied}`);
    if (refusal === "ENOSPC" || refusal === "EDQUOT") throw noSpaceFault(cache, spaceOf(cache), undefined, refusal);
    if (refusal) throw notWritableFault(refusal, denied, cache, true);
    throw error;
  }
  const missing = systemPrograms.find((program) => !onPath(program, env.PATH));
  if (missing) throw programNotFoundFault(missing, env.PATH);
}

/** Programs any run starts by name (a shell for helpers, env for apt's non-interactive installs): a PATH without them is the caller's. */
const systemPrograms = ["sh", "env"];

/** Whether `program` is an executable file in one of PATH's directories. */
export function onPath(program: string, path: string | undefined): boolean {
  return (path ?? "").split(":").some((directory) => {
    try {
      accessSync(join(directory || ".", program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
