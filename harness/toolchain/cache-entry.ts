/**
 * A cache entry is checked when it is used, not only when it was fetched
 * or built: its manifest.json, written last before the entry is renamed
 * into place, records every regular file's size and modification time,
 * and the full sha256 of the files that matter (a kernel, an emulator, a
 * compiler, libc.a, a built driver). Using an entry stats every file and
 * hashes those few, once per process: a truncated, grown, replaced or
 * (for the hashed files) bit-flipped entry is found, removed with one line
 * saying which and what was wrong, and fetched or built again by the caller.
 * Files that are not hashed (a Go tree's 15,000 sources) are checked by
 * size and time only: hashing them all would cost seconds per run.
 *
 * An entry made by a version before manifests has none: its manifest is
 * written from what is there (one line), so an existing cache is not
 * fetched again.
 */
import { createHash } from "node:crypto";
import { createReadStream, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { lstat, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { BrokenError } from "../../src/broken.ts";
import { isRunning } from "../process/process-tree.ts";

export const manifestName = "manifest.json";

/** How a scratch directory beside an entry starts: .tmp-<entry>-<owner>-XXXXXX. */
export const temporaryPrefix = ".tmp-";

let ownerTag: string | undefined;

/**
 * Who made a temporary, as its name says it: this process's pid and its PID
 * namespace's inode ("1234p4026531836"). A pid alone names another process
 * in another namespace (a container sharing the cache), where it cannot be
 * seen running: its builds' temporaries must not be swept as a dead run's.
 */
export function temporaryOwnerTag(): string {
  if (ownerTag === undefined) {
    let namespace = "";
    try {
      namespace = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "";
    } catch {
      // No /proc: the pid alone, swept as before.
    }
    ownerTag = namespace ? `${process.pid}p${namespace}` : String(process.pid);
  }
  return ownerTag;
}

interface FileRecord {
  size: number;
  mtimeMs: number;
  sha256?: string;
}

interface Manifest {
  files: Record<string, FileRecord>;
}

/** Which files of an entry are hashed in full, by their path inside it. */
export type HashedFiles = (relativePath: string) => boolean;

export const hashEveryFile: HashedFiles = () => true;

export function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path).on("data", (chunk) => hash.update(chunk)).on("error", reject).on("end", () => resolve(hash.digest("hex")));
  });
}

/** Every regular file under `directory` but the manifest, as paths relative to it, sorted. */
async function entryFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .filter((path) => path !== manifestName)
    .sort();
}

/** Writes the entry's manifest (through a temporary name): the last step before the entry is renamed into place. */
export async function writeManifest(directory: string, hashed: HashedFiles): Promise<void> {
  const files: Record<string, FileRecord> = {};
  for (const path of await entryFiles(directory)) {
    const info = statSync(join(directory, path));
    files[path] = { size: info.size, mtimeMs: info.mtimeMs, ...(hashed(path) ? { sha256: await sha256OfFile(join(directory, path)) } : {}) };
  }
  writeFileAtomically(join(directory, manifestName), `${JSON.stringify({ files } satisfies Manifest)}\n`);
}

/**
 * What is wrong with the entry, in a few words; undefined when it matches
 * its manifest. statSync: an entry's 15,000 stats, each awaited, took
 * seconds on a loaded machine; synchronous, tens of milliseconds. Only the
 * recorded files are visited: listing the tree again would cost as much.
 */
async function entryFault(directory: string, manifest: Manifest): Promise<string | undefined> {
  for (const [path, recorded] of Object.entries(manifest.files)) {
    let info;
    try {
      info = statSync(join(directory, path));
    } catch {
      return `${path} is missing`;
    }
    if (!info.isFile()) return `${path} is no longer a file`;
    if (info.size !== recorded.size) return `${path} has ${info.size} bytes, ${recorded.size} were written`;
    // A hashed file is judged by its content: a copy of the cache (cp -r, or Node's cpSync, which keeps milliseconds
    // only) changes times, not bytes. Without a hash, a changed time is all there is to go by.
    if (info.mtimeMs !== recorded.mtimeMs && recorded.sha256 === undefined) return `${path} was modified after it was written`;
    if (recorded.sha256 !== undefined) {
      const sha256 = await sha256OfFile(join(directory, path));
      if (sha256 !== recorded.sha256) return `${path} has sha256 ${sha256.slice(0, 16)}..., ${recorded.sha256.slice(0, 16)}... was written`;
    }
  }
  // A file added since is left alone: it cannot make what was recorded partial.
  return undefined;
}

/**
 * Writes a file of the cache whole or not at all: to <path>.<owner>.tmp, then
 * renamed into place (when processes race, the last rename wins, with the
 * same content); a failed write leaves no partial file. Synchronous: a
 * target's constructor writes its initramfs.
 */
export function writeFileAtomically(path: string, data: string | Uint8Array): void {
  const partial = `${path}.${temporaryOwnerTag()}.tmp`;
  try {
    writeFileSync(partial, data);
    renameSync(partial, path);
  } finally {
    rmSync(partial, { force: true });
  }
}

/** Who made a temporary, from its name (.tmp-<entry>-<owner>-XXXXXX, or <file>.<owner>.tmp): undefined for any other name. */
export function temporaryOwner(name: string): { pid: number; namespace?: string } | undefined {
  const match = /^\.tmp-.+-(\d+)(?:p(\d+))?-[A-Za-z0-9]{6}$/.exec(name) ?? /\.(\d+)(?:p(\d+))?\.tmp$/.exec(name);
  if (!match) return undefined;
  return { pid: Number(match[1]), ...(match[2] ? { namespace: match[2] } : {}) };
}

/** Scratch directories of builds made before temporaries carried their pid: <entry>.tmp-XXXXXX. */
const unownedTemporary = /\.tmp-[A-Za-z0-9]{6}$/;
const unownedTemporaryAgeMs = 3_600_000;
/** A temporary of another PID namespace's process: its pid cannot be checked from here, so only its age says it is stale. */
const foreignTemporaryAgeMs = 24 * 3_600_000;

const swept = new Set<string>();

/**
 * Removes, once per process, the temporaries in `directory` that a killed
 * run left: those whose pid is not running (in this PID namespace; another
 * namespace's after a day), and an unowned one older than an hour (no
 * build takes that long); one line names them.
 */
export async function sweepStaleTemporaries(directory: string, log: (line: string) => void): Promise<void> {
  if (swept.has(directory)) return;
  swept.add(directory);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return;
  }
  const removed: string[] = [];
  const ownNamespace = temporaryOwnerTag().split("p")[1];
  for (const name of names) {
    const owner = temporaryOwner(name);
    const olderThan = (ageMs: number) => lstat(join(directory, name)).then((info) => Date.now() - info.mtimeMs > ageMs, () => false);
    let stale = false;
    if (owner === undefined) stale = unownedTemporary.test(name) && (await olderThan(unownedTemporaryAgeMs));
    else if (owner.namespace !== undefined && owner.namespace !== ownNamespace) stale = await olderThan(foreignTemporaryAgeMs);
    else stale = owner.pid !== process.pid && !isRunning(owner.pid);
    if (!stale) continue;
    await rm(join(directory, name), { recursive: true, force: true });
    removed.push(name);
  }
  if (removed.length > 0) log(`removed ${removed.length} temporar${removed.length === 1 ? "y" : "ies"} left in ${directory} by a killed run: ${removed.join(", ")}`);
}

const verified = new Set<string>();

function unwritable(error: unknown): boolean {
  return ["EROFS", "EACCES", "EPERM"].includes((error as NodeJS.ErrnoException).code ?? "");
}

/**
 * Whether the entry at `directory` can be used: true when it matches its
 * manifest (checked once per process), or had none and has one now; false
 * when there is no entry, or it was corrupt and has been removed (with one
 * line through `log`, naming the entry and the fault): the caller fetches
 * or builds it again.
 */
export async function usableEntry(directory: string, what: string, hashed: HashedFiles, log: (line: string) => void): Promise<boolean> {
  if (verified.has(directory)) return true;
  await sweepStaleTemporaries(dirname(directory), log);
  try {
    if (!(await lstat(directory)).isDirectory()) return false;
  } catch {
    return false;
  }
  let text: string | undefined;
  try {
    text = await readFile(join(directory, manifestName), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (text === undefined) {
    try {
      await writeManifest(directory, hashed);
      log(`${what}: recorded the sizes and hashes of ${directory} (made before the cache checked its entries)`);
    } catch (error) {
      // A cache mounted read-only is still usable: only its checks are lost.
      if (!unwritable(error)) throw error;
      log(`${what}: ${directory} has no ${manifestName} and cannot get one (${(error as NodeJS.ErrnoException).code}): used unchecked`);
    }
    verified.add(directory);
    return true;
  }
  let fault: string | undefined;
  try {
    const manifest = JSON.parse(text) as Manifest;
    if (typeof manifest.files !== "object" || manifest.files === null) throw new Error("no files");
    fault = await entryFault(directory, manifest);
  } catch (error) {
    fault = error instanceof SyntaxError || (error as Error).message === "no files" ? `its ${manifestName} is unreadable` : (error as Error).message;
  }
  if (fault === undefined) {
    verified.add(directory);
    return true;
  }
  // Another process may have replaced the entry while this one read it (the old manifest, the new files): then the
  // entry now in place is checked again, never removed from under the process that put it there.
  const now = await readFile(join(directory, manifestName), "utf8").catch(() => undefined);
  if (now !== undefined && now !== text) return usableEntry(directory, what, hashed, log);
  try {
    await rm(directory, { recursive: true, force: true });
  } catch (error) {
    if (!unwritable(error)) throw error;
    throw new BrokenError(`the cache entry ${directory} is corrupt (${fault}) and cannot be removed (${(error as NodeJS.ErrnoException).code})`, "make the cache writable, or point VFORKCHECK_CACHE at another directory");
  }
  log(`${what}: the cache entry ${directory} is corrupt (${fault}): removed, to be fetched or built again`);
  return false;
}

/** What the entry's manifest recorded of one of its hashed files (read after usableEntry has checked it); undefined without one. */
export async function recordedFile(directory: string, path: string): Promise<{ sha256: string; size: number } | undefined> {
  try {
    const recorded = (JSON.parse(await readFile(join(directory, manifestName), "utf8")) as Manifest).files[path];
    return recorded?.sha256 === undefined ? undefined : { sha256: recorded.sha256, size: recorded.size };
  } catch {
    return undefined;
  }
}

/** Forgets what this process verified (a test corrupts an entry it used). */
export function forgetVerifiedEntries(): void {
  verified.clear();
  swept.clear();
}
